"""The reports a run writes, from fixture notebooks and cassettes (no kernel): junit.xml read as CI reporters read
it and checked against the Jenkins xUnit schema, summary.json, the tokens and their cost in SUMMARY.md."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped

from locus_nb.notebook._claims import claims_in
from locus_nb.runs._exercises import exercises_in
from locus_nb.runs._results import RunResult, from_json, to_json
from locus_nb.runs._summary import read_results, summary_markdown, write_reports
from locus_nb.runs._usage import Usage, load_prices, usage_in_cassette

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXERCISES_NB = FIXTURES / "notebooks" / "exercises.ipynb"
USAGE = FIXTURES / "runs" / "usage.jsonl"
SCHEMA = xmlschema.XMLSchema(FIXTURES / "junit" / "junit.xsd")
OCID = "ocid1.compartment.oc1..aaaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4a7nla"
URL = "http://127.0.0.1:41234/openai/v1"


def _lesson(path: Path, params: dict, *, error: str = "", edition: str | None = None) -> RunResult:
    """A run of the exercises fixture as `locus-nb run` reads it back (claims, exercises, the cassette's usage)."""
    if edition:
        nb = nbformat.read(EXERCISES_NB, as_version=4)
        nb.metadata["locus_nb"]["edition"] = edition
        nbformat.write(nb, path)
    else:
        shutil.copy(EXERCISES_NB, path)
    edition, exercises = exercises_in(path)
    return RunResult(str(EXERCISES_NB), params, str(path), not error, 3.25, error,
                     claims_in(path), "record", str(USAGE),
                     "OCI Generative AI in us-chicago-1 with profile 'DEFAULT'", usage_in_cassette(USAGE), exercises,
                     edition)


@pytest.fixture
def runs(tmp_path):
    return [_lesson(tmp_path / "exercises.store-True.ipynb",
                    {"profile": "DEFAULT", "endpoint": URL, "compartment": OCID, "store": True},
                    error="cell [4]: ClaimFailed: the reply names the city (got: 'Lyon')"),
            _lesson(tmp_path / "exercises.store-False.ipynb", {"profile": "DEFAULT", "store": False},
                    error="cell [2]: RateLimited: 429 rate limited after 2 retries\nmore", edition="instructor")]


def test_junit_xml_is_valid_against_the_jenkins_schema_and_reads_as_one_suite_per_run(runs, tmp_path):
    write_reports(runs, tmp_path, seconds=7.0, workers=2)
    SCHEMA.validate(tmp_path / "junit.xml")
    suites = {s.name: s for s in JUnitXml.fromfile(str(tmp_path / "junit.xml"))}
    assert list(suites) == ["exercises[store=True]", "exercises[store=True] exercises",
                            "exercises[store=False, edition=instructor]", "exercises[store=False, edition=instructor] exercises"]
    cases = {c.name: c for c in suites["exercises[store=True]"]}
    assert list(cases) == ["the reply recalls purple", "the reply names the city", "every cell runs"]
    assert cases["the reply recalls purple"].is_passed
    [failure] = cases["the reply names the city"].result
    assert isinstance(failure, Failure) and failure.message == "got: 'Lyon'" and failure.type == "ClaimFailed"
    assert cases["every cell runs"].is_passed  # the failed claim is the failure; not counted twice
    assert (suites["exercises[store=True]"].tests, suites["exercises[store=True]"].failures) == (3, 1)


def test_a_cell_error_is_an_error_with_the_exceptions_first_line(runs, tmp_path):
    write_reports(runs, tmp_path, seconds=7.0, workers=2)
    suite = {s.name: s for s in JUnitXml.fromfile(str(tmp_path / "junit.xml"))}["exercises[store=False, edition=instructor]"]
    [error] = {c.name: c for c in suite}["every cell runs"].result
    assert isinstance(error, Error) and error.type == "RateLimited"
    assert error.message == "cell [2]: RateLimited: 429 rate limited after 2 retries"


def test_exercises_are_skipped_in_the_learner_edition_and_failures_in_the_instructor_one(runs, tmp_path):
    write_reports(runs, tmp_path, seconds=7.0, workers=2)
    suites = {s.name: s for s in JUnitXml.fromfile(str(tmp_path / "junit.xml"))}
    learner = {c.name: c.result for c in suites["exercises[store=True] exercises"]}
    instructor = {c.name: c.result for c in suites["exercises[store=False, edition=instructor] exercises"]}
    assert learner["99.1"] == instructor["99.1"] == []
    [skipped] = learner["99.2"]
    assert isinstance(skipped, Skipped) and skipped.message == "✗ not yet: the starter code still has a TODO"
    [failure] = instructor["99.2"]
    assert isinstance(failure, Failure) and failure.message == "✗ not yet: the starter code still has a TODO"
    # an exercise's ✓ is not a lesson claim
    assert not any("99.1" in c.name for c in suites["exercises[store=True]"])


def test_test_names_are_the_same_whatever_the_run_connected_to(runs, tmp_path):
    replayed = [RunResult(r.notebook, {"store": r.parameters["store"]}, r.output, r.ok, 1.0, r.error, r.claims,
                          "replay", r.cassette, "Replaying cassette …", r.usage, r.exercises, r.edition) for r in runs]
    write_reports(runs, tmp_path / "live", seconds=7.0, workers=2)
    write_reports(replayed, tmp_path / "replay", seconds=2.0, workers=1)
    names = [[(s.name, [c.name for c in s]) for s in JUnitXml.fromfile(str(tmp_path / d / "junit.xml"))]
             for d in ("live", "replay")]
    assert names[0] == names[1]


def test_summary_json_has_the_facts_for_machines_with_secrets_masked(runs, tmp_path):
    write_reports(runs, tmp_path, seconds=7.0, workers=2)
    text = (tmp_path / "summary.json").read_text()
    assert OCID not in text
    facts = json.loads(text)
    assert {k: facts[k] for k in ("summary", "runs", "ok", "failed", "retried", "workers", "shard", "cost")} == \
        {"summary": 1, "runs": 2, "ok": 0, "failed": 2, "retried": 0, "workers": 2, "shard": None, "cost": None}
    assert facts["targets"] == ["OCI Generative AI in us-chicago-1 with profile 'DEFAULT'"]
    first = facts["results"][0]
    assert first["parameters"] == {"profile": "DEFAULT", "endpoint": URL, "compartment": "ocid1.compartment.oc1..…7nla",
                                   "store": True}
    assert (first["name"], first["status"], first["seconds"], first["executed"]) == \
        ("exercises[store=True]", "failed", 3.25, "exercises.store-True.ipynb")
    assert first["claims"] == [{"claim": "the reply recalls purple", "held": True},
                               {"claim": "the reply names the city (got: 'Lyon')", "held": False}]
    assert facts["usage"] == {"model": "", "requests": 8, "input_tokens": 2300, "cached_tokens": 1600,
                              "output_tokens": 660, "reasoning_tokens": 400, "total_tokens": 2960}


def test_a_run_read_back_from_summary_json_makes_the_same_reports(runs, tmp_path):
    write_reports(runs, tmp_path, seconds=7.0, workers=2)
    back, _ = read_results(tmp_path)
    assert [to_json(r, tmp_path) for r in back] == json.loads((tmp_path / "summary.json").read_text())["results"]
    write_reports(back, tmp_path / "again", seconds=7.0, workers=2)
    suites = [(s.name, [(c.name, [type(x).__name__ for x in c.result]) for c in s])
              for d in (tmp_path, tmp_path / "again") for s in JUnitXml.fromfile(str(d / "junit.xml"))]
    assert suites[:4] == suites[4:]
    assert from_json(to_json(runs[0], tmp_path), tmp_path).claims == runs[0].claims


def test_usage_is_summed_over_the_responses_each_counted_once():
    """usage.jsonl: a JSON reply, a 429, a stream with cached and reasoning tokens, a background response polled twice."""
    assert usage_in_cassette(USAGE) == (
        Usage(model="openai.gpt-4.1", requests=3, input_tokens=150, cached_tokens=0, output_tokens=30,
              total_tokens=180),
        Usage(model="openai.gpt-5", requests=1, input_tokens=1000, cached_tokens=800, output_tokens=300,
              reasoning_tokens=200, total_tokens=1300))
    assert usage_in_cassette(USAGE.parent / "none.jsonl") == ()


def test_summary_md_shows_the_tokens_per_run_and_a_total_row_and_no_cost_without_prices(runs, tmp_path):
    text = summary_markdown(runs, seconds=7.0, workers=2, relative_to=tmp_path)
    assert "| run | requests | input tokens | cached input | output tokens | reasoning |\n" in text
    assert "| exercises[store=True] | 4 | 1,150 | 800 | 330 | 200 |\n" in text
    assert "| **total** | 8 | 2,300 | 1,600 | 660 | 400 |\n" in text
    assert "USD" not in text and "cost" not in text


@pytest.mark.parametrize("suffix, table", [
    (".yaml", "models:\n  openai.gpt-5*: {input: 1.25, cached: 0.125, output: 10}\n  openai.gpt-4.1: {input: 2, output: 8}\n"),
    (".json", '{"openai.gpt-5*": {"input": 1.25, "cached": 0.125, "output": 10}, "openai.gpt-4.1": {"input": 2, "output": 8}}'),
])
def test_a_price_table_gives_the_cost_per_run_and_in_total(runs, tmp_path, suffix, table):
    path = tmp_path / f"prices{suffix}"
    path.write_text(table)
    prices = load_prices(path)
    # gpt-4.1: 150 input × 2 + 30 output × 8 = 540 per million; gpt-5: 200 fresh × 1.25 + 800 cached × 0.125
    # + 300 output × 10 = 3350 per million
    assert prices.cost(runs[0].usage) == (pytest.approx((540 + 3350) / 1e6), [])
    write_reports(runs, tmp_path / "out", seconds=1.0, workers=1, prices=prices)
    facts = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert facts["cost"] == {"usd": round(2 * 3890 / 1e6, 6), "prices": path.name, "unpriced": []}
    text = (tmp_path / "out" / "SUMMARY.md").read_text()
    assert f"## Tokens and cost (USD, prices from {path.name})" in text and "| 0.0078 |" in text


def test_a_model_the_table_has_no_price_for_is_named_not_priced(runs, tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{"openai.gpt-4.1": {"input": 2, "output": 8}}')
    assert load_prices(path).cost(runs[0].usage) == (pytest.approx(540 / 1e6), ["openai.gpt-5"])


@pytest.mark.parametrize("name, text, says", [
    ("p.json", "{", "not valid JSON"),
    ("p.yaml", "a: [", "not valid YAML"),
    ("p.json", "[]", "expected a mapping of model id or pattern"),
    ("p.json", '{"m": {"output": 1}}', "'m' needs input as a number"),
    ("p.json", '{"m": {"input": 1, "output": -1}}', "'m' needs output as a number"),
    ("p.yaml", "m: {input: yes, output: 1}", "'m' needs input as a number"),
])
def test_a_bad_price_table_says_what_is_wrong(tmp_path, name, text, says):
    from locus_nb import ConfigError

    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match=f"--prices .*{name}: .*{says}"):
        load_prices(tmp_path / name)


def test_the_readme_price_example_costs_what_its_sample_table_says(tmp_path):
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = re.search(r"```yaml\n# prices\.yaml[^\n]*\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "prices.yaml").write_text(table)
    prices = load_prices(tmp_path / "prices.yaml")
    rows = re.findall(r"^\| (\d\d_\w+)\[store=True\] \| (\d+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| (\d+) \| ([\d.]+) \|$",
                      readme, re.M)
    assert len(rows) == 2
    for _, requests, fresh_and_cached, cached, output, reasoning, usd in rows:
        n = [int(x.replace(",", "")) for x in (requests, fresh_and_cached, cached, output, reasoning)]
        usage = Usage(model="openai.gpt-4.1", requests=n[0], input_tokens=n[1], cached_tokens=n[2], output_tokens=n[3],
                      reasoning_tokens=n[4])
        assert f"{prices.cost([usage])[0]:.4f}" == usd


@pytest.mark.parametrize("meta, edition", [({"locus_nb": {"edition": "instructor"}}, "instructor"), ({}, "learner"),
                                           ({"locus_nb": {"edition": "teacher"}}, "learner"),
                                           ({"locus_nb": "instructor"}, "learner")])
def test_the_edition_is_the_notebooks_metadata_else_learner(meta, edition):
    from locus_nb.runs._exercises import edition_of

    assert edition_of(nbformat.v4.new_notebook(metadata=meta)) == edition


@pytest.mark.parametrize("bad", [
    '<testsuites><testsuite name="s"><testcase name="c"/></testsuite></testsuites>',  # no tests= count
    '<testsuites><testsuite name="s" tests="1"><testcase/></testsuite></testsuites>',  # a case without a name
    '<testsuites><testsuite name="s" tests="1"><testcase name="c"><flaky/></testcase></testsuite></testsuites>',
    '<testsuites><testsuite name="s" tests="1" time="-1"><testcase name="c"/></testsuite></testsuites>',
])
def test_the_schema_refuses_what_the_reporters_do_not_read(bad, tmp_path):
    (tmp_path / "bad.xml").write_text(bad)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate(tmp_path / "bad.xml")
