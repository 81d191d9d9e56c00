"""The learner and the instructor edition, as `locus-nb run --edition` runs them and `locus-nb handouts --edition`
shows them: one run per edition of every lesson that has exercises, against the embedded mock, shared by the
assertions below (a kernel per lesson is slow on two cores)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from junitparser import Failure, JUnitXml, Skipped

from locus_nb.cli import main
from locus_nb.notebook._editions import instructor_edition, solution_code

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "notebooks"


def _tagged(nb, tag: str) -> list:
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


LESSONS = sorted(p for p in NOTEBOOKS.glob("[0-9]*.ipynb") if _tagged(nbformat.read(p, as_version=4), "exercise"))


def _run(out: Path, edition: str) -> tuple[int, Path]:
    code = main(["run", "--mock", "--no-progress", "-j", "2", "--edition", edition, "--out", str(out),
                 *map(str, LESSONS)])
    return code, out


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("learner"), "learner")


@pytest.fixture(scope="module")
def instructor(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("instructor"), "instructor")


def _exercise_cases(out: Path) -> dict[str, list]:
    """Each exercise's JUnit case: its name → its results (empty when it passed)."""
    suites = JUnitXml.fromfile(str(out / "junit.xml"))
    return {case.name: case.result for suite in suites if suite.name.endswith(" exercises") for case in suite}


def test_there_are_lessons_with_exercises():
    assert len(LESSONS) >= 2  # 01 and 03 at least; a lesson that gets exercises joins these runs


@pytest.mark.e2e
def test_the_instructor_edition_solves_every_exercise_on_the_mock(instructor):
    code, out = instructor
    cases = _exercise_cases(out)
    solutions = sum(len(_tagged(nbformat.read(p, as_version=4), "solution")) for p in LESSONS)
    assert code == 0, (out / "SUMMARY.md").read_text()
    assert len(cases) == solutions and all(result == [] for result in cases.values()), cases
    assert sorted(p.name for p in out.glob("*.ipynb")) == [f"{p.stem}.instructor.ipynb" for p in LESSONS]
    facts = json.loads((out / "summary.json").read_text())
    assert {r["edition"] for r in facts["results"]} == {"instructor"}
    assert [r["name"] for r in facts["results"]] == [f"{p.stem}[edition=instructor]" for p in LESSONS]
    summary = (out / "SUMMARY.md").read_text()
    exercises = summary.split("## Exercises", 1)[1]
    assert exercises.count("\n- ✓ ") == solutions and "\n- ✗ " not in exercises


@pytest.mark.e2e
def test_the_learner_edition_runs_the_lessons_with_their_exercises_not_done_and_that_is_no_failure(learner):
    code, out = learner
    cases = _exercise_cases(out)
    assert code == 0, (out / "SUMMARY.md").read_text()
    assert cases and all(len(r) == 1 and isinstance(r[0], Skipped) for r in cases.values()), cases
    assert sorted(p.name for p in out.glob("*.ipynb")) == [p.name for p in LESSONS]
    summary = (out / "SUMMARY.md").read_text()
    claims, exercises = summary.split("## Exercises", 1)
    assert "**FAILED**" not in summary and "\n- ✗ " not in claims.split("## Lesson claims", 1)[1]
    assert exercises.count("\n- ✗ ") == len(cases) and "not a failure of the lesson" in exercises


@pytest.mark.e2e
def test_a_solution_whose_check_does_not_pass_fails_the_instructor_run_and_says_which(tmp_path):
    """The fixture's two "checks" only print a check's line: the first solution's ✓, the second's ✗."""
    out = tmp_path / "out"
    assert main(["run", "--mock", "--no-progress", "--edition", "instructor", "--out", str(out),
                 str(FIXTURES / "unsolved.ipynb")]) == 1
    summary = (out / "SUMMARY.md").read_text()
    assert "**FAILED** — ExerciseNotSolved: the solution of 01.2 Make the model forget (✗ check 4 of 5)" in summary
    assert "- ✓ 01.1 Two facts, four turns" in summary and "- ✗ 01.2 Make the model forget — ✗ check 4 of 5" in summary
    cases = _exercise_cases(out)
    [failure] = cases["01.2 Make the model forget"]
    assert isinstance(failure, Failure) and failure.type == "ExerciseNotSolved" and cases["01.1 Two facts, four turns"] == []
    runs = {c.name: c.result for s in JUnitXml.fromfile(str(out / "junit.xml")) for c in s if c.name == "every cell runs"}
    assert runs == {"every cell runs": []}  # every cell did run: the exercise's failure is not counted twice
    # the same notebook as committed: its exercises are not done, which is no failure
    assert main(["run", "--mock", "--no-progress", "--out", str(tmp_path / "learner"), str(FIXTURES / "unsolved.ipynb")]) == 0


@pytest.mark.parametrize("flags, says", [
    (["--in-place"], "not with --in-place"),
    (["--record", "cassettes"], "nor with --record/--replay"),
])
def test_the_instructor_edition_never_overwrites_the_lessons_or_records_cassettes(tmp_path, flags, says):
    with pytest.raises(SystemExit, match=says):
        main(["run", "--mock", "--edition", "instructor", "--out", str(tmp_path), *flags, str(FIXTURES / "unsolved.ipynb")])


# -- handouts ---------------------------------------------------------------------------------------


def _text(page: str) -> str:
    """What a page says, tags dropped (nbconvert highlights code: a line of code is split over many spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _solution_lines(lesson: Path) -> list[str]:
    """Every line of the lesson's solutions that the rest of the lesson (its parts, the starter code) does not
    have too: a line the lesson itself teaches may show in a learner's page, a solution's own lines may not."""
    nb = nbformat.read(lesson, as_version=4)
    starter = {line.strip() for c in nb.cells if "solution" not in c.metadata.get("tags", [])
               for line in c.source.splitlines()}
    return [line.strip() for c in _tagged(nb, "solution") for line in solution_code(c.source).splitlines()
            if line.strip() and line.strip() not in starter]


@pytest.fixture(scope="module")
def handouts(learner, instructor, tmp_path_factory):
    out = tmp_path_factory.mktemp("handouts")
    assert main(["handouts", "--from", str(learner[1]), "--out", str(out / "learner")]) == 0
    assert main(["handouts", "--edition", "instructor", "--from", str(instructor[1]), "--out",
                 str(out / "instructor")]) == 0
    return out


@pytest.mark.e2e
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_a_learner_handout_holds_no_line_of_any_solution(handouts, lesson):
    page = _text((handouts / "learner" / f"{lesson.stem}.html").read_text())
    lines = _solution_lines(lesson)
    assert len(lines) >= 3  # the solved lines; the instructor handout shows every one of them (below)
    assert [line for line in lines if line in page] == []
    assert "not yet" in page  # the exercises are there, as a learner gets them


@pytest.mark.e2e
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_an_instructor_handout_shows_each_solution_run_with_its_check(handouts, lesson):
    page = _text((handouts / "instructor" / f"{lesson.stem}.instructor.html").read_text())
    nb = nbformat.read(lesson, as_version=4)
    assert [line for line in _solution_lines(lesson) if line not in page] == []
    ids = re.findall(r'await check\("(\d\d\.\d+)"', "\n".join(c.source for c in _tagged(nb, "exercise")))
    assert ids and all(re.search(rf"✓ {re.escape(i)} .* — all \d+ checks pass", page) for i in ids), page[-3000:]


@pytest.mark.e2e
def test_each_index_says_its_edition_and_a_run_of_the_other_edition_is_skipped(handouts, learner, instructor, tmp_path,
                                                                               capsys):
    for edition in ("learner", "instructor"):
        assert f"handouts · {edition} edition" in (handouts / edition / "index.html").read_text()
    solved = next(instructor[1].glob("*.instructor.ipynb"))
    assert main(["handouts", "--out", str(tmp_path / "h"), str(solved)]) == 1
    err = capsys.readouterr().err
    assert f"skipped {solved}: it was run in the instructor edition: make its handout with --edition instructor" in err
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == ["index.html"]


def test_an_instructor_edition_notebook_is_refused_for_a_learner_handout_without_a_kernel(tmp_path, capsys):
    """The rule on its own: the notebook as `run --edition instructor` would execute it."""
    source = tmp_path / "solved.ipynb"
    nbformat.write(instructor_edition(nbformat.read(FIXTURES / "unsolved.ipynb", as_version=4)), source)
    assert main(["handouts", "--out", str(tmp_path / "h"), str(source)]) == 1
    assert "it was run in the instructor edition" in capsys.readouterr().err


@pytest.mark.parametrize("params, edition, name", [
    ({"store": True, "endpoint": "http://127.0.0.1:9/openai/v1"}, "learner", "02_stored[store=True]"),
    ({"store": True, "endpoint": "http://127.0.0.1:9/openai/v1"}, "instructor", "02_stored[store=True, edition=instructor]"),
    ({}, "instructor", "02_stored[edition=instructor]"),
])
def test_a_runs_test_name_says_the_instructor_edition_and_the_learners_stays_as_it_was(params, edition, name):
    from locus_nb.runs._results import RunResult

    assert RunResult("notebooks/02_stored.ipynb", params, "out/x.ipynb", True, 1.0, edition=edition).name == name


@pytest.mark.e2e
def test_an_instructor_run_of_several_parameter_sets_names_each_copy_after_its_set_and_the_edition(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--mock", "--no-progress", "-j", "2", "--edition", "instructor", "--store", "both",
                 "--out", str(out), str(FIXTURES / "params.ipynb")]) == 0
    assert sorted(p.name for p in out.glob("*.ipynb")) == ["params.store-False.instructor.ipynb",
                                                           "params.store-True.instructor.ipynb"]
    executed = nbformat.read(out / "params.store-True.instructor.ipynb", as_version=4)
    assert executed.metadata.papermill.input_path == str(FIXTURES / "params.ipynb")  # not the scratch copy it ran
    assert executed.metadata.locus_nb.edition == "instructor"
