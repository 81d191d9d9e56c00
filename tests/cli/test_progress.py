"""`locus-nb progress DIR` on a folder of learners' saved notebooks (tests/fixtures/notebooks/progress): one
mark per exercise read from what the checks printed, nothing run, no learner's code or output shown, and
every file that is not a lesson notebook listed with why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from locus_nb.cli._main import main
from locus_nb.cli._progress import read_learner

ROOM = Path(__file__).parents[1] / "fixtures" / "notebooks" / "progress"

# file → (lesson, marks) for a learner's notebook, or the reason it is not read.
FILES = {
    "alice.ipynb": ("01", {"01.1": "✓", "01.2": "✗ 3/5"}),  # one passed, one failing at its third check
    "bob.ipynb": ("01", {"01.1": "✗ todo", "01.2": "not run"}),  # the starter code's hint; a cell never run
    "carol.ipynb": ("03", {"03.1": "✗ error", "03.2": "✓"}),  # the cell raised before its check printed
    "room2/ivan.ipynb": ("03", {"03.1": "✗ 5/6", "03.2": "✗ todo"}),  # a subfolder: its path names the learner
    "dave.ipynb": "cut short (the JSON ends early: saved while still writing?)",
    "erin.txt": "not a notebook (.txt)",
    "frank.ipynb": "lesson 05 has no exercises yet",  # (every lesson 01-04 has its exercises)
    "gina.ipynb": "not a notebook (no nbformat 4 cells)",
    "henry.ipynb": "not one of the lessons (no `# NN · …` title)",
    "jo.ipynb": "not a notebook (not UTF-8 text)",
}


@pytest.mark.parametrize(("name", "expected"), FILES.items(), ids=list(FILES))
def test_each_file_is_read_as_a_learners_lesson_or_listed_with_why(name, expected):
    row = read_learner(ROOM / name, name.removesuffix(".ipynb"))
    if isinstance(expected, str):
        assert (row.lesson, row.marks, row.problem) == (None, {}, expected)
    else:
        assert (row.lesson, row.marks, row.problem) == (*expected, None)


def test_the_table_shows_marks_and_counts_never_a_learners_code_or_output(capsys):
    assert main(["progress", str(ROOM)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines() if line[:1].isalpha()}
    assert re.fullmatch(r"✓\s+✗ 3/5", rows["alice"]) and re.fullmatch(r"✗ todo\s+not run", rows["bob"])
    assert re.fullmatch(r"✗ error\s+✓", rows["carol"]) and re.fullmatch(r"✗ 5/6\s+✗ todo", rows["room2/ivan"])
    assert out.count("passed   1 of 2  0 of 2") == 1 and "passed      0 of 2   1 of 2" in out
    assert "Not read (6 file(s)):" in out and "  erin.txt  not a notebook (.txt)" in out
    assert "checkpoint" not in out  # JupyterLab's hidden .ipynb_checkpoints are not learners
    for private in ("SECRET_LEARNER_CODE", "LEARNER_PRINTED", "SECRET_TRACEBACK", "hint", "Message.user", "Brazil"):
        assert private not in out


def test_with_a_lesson_the_others_are_listed_as_another_lesson(capsys):
    assert main(["progress", str(ROOM), "--lesson", "3"]) == 0
    out = capsys.readouterr().out
    assert "Lesson 03 · 2 learner(s)" in out and "Lesson 01" not in out
    assert re.search(r"^  alice +another lesson \(01; the table is for 03\)$", out, re.M), out


def test_a_folder_that_is_not_there_is_a_message_not_a_traceback(tmp_path, capsys):
    with pytest.raises(SystemExit, match=r"locus-nb progress: .*missing is not a folder"):
        main(["progress", str(tmp_path / "missing")])
    assert main(["progress", str(tmp_path)]) == 0 and capsys.readouterr().out == "no files\n"
