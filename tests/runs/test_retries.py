"""`--retries N`: only transient failures run again, at most N times, and the reports say so (no kernel: the
runs' outcomes are given, as `locus-nb run` reads them from executed notebooks)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from junitparser import JUnitXml

from locus_nb.notebook._claims import Claims
from locus_nb.runs._results import RunResult
from locus_nb.runs._retries import with_retries
from locus_nb.runs._summary import write_reports


@dataclass(frozen=True)
class Job:
    notebook: str
    mode: str = "live"


FAILED_CLAIM = Claims(failed=("the reply names purple (got: 'green')",), stated=((False, "the reply names purple "
                                                                                   "(got: 'green')"),))


def _runner(outcomes: dict[str, list[str]]):
    """Each notebook's errors attempt by attempt ("" = ok; the last repeats); the batches it was asked to run."""
    asked: list[list[str]] = []

    def execute(batch: list[Job]) -> list[RunResult]:
        asked.append([job.notebook for job in batch])
        results = []
        for job in batch:
            errors = outcomes[job.notebook]
            error = errors[min(sum(job.notebook in b for b in asked) - 1, len(errors) - 1)]
            claims = FAILED_CLAIM if error.startswith("cell [2]: ClaimFailed") else Claims()
            results.append(RunResult(job.notebook, {}, f"/out/{job.notebook}.ipynb", not error, 1.0, error, claims,
                                     job.mode))
        return results
    return execute, asked


@pytest.mark.parametrize("error, mode, runs_again", [
    ("cell [3]: RateLimited: [429] slow down", "live", True),
    ("cell [3]: ServerError: [503] unavailable", "record", True),
    ("cell [3]: ConnectionFailed: could not reach the endpoint", "live", True),
    ("cell [3]: RequestTimeout: no answer in time", "live", True),
    ("cell [4]: StreamTimeout: the server went quiet", "live", True),
    ("cell [2]: ClaimFailed: the reply names purple (got: 'green')", "live", False),
    ("cell [3]: BadRequest: [400 invalid_value] bad", "live", False),
    ("cell [3]: AuthError: [401] signature", "live", False),
    ("cell [3]: NameError: name 'x' is not defined", "live", False),
    ("DeadKernelError: Kernel died", "live", False),
    ("cell [3]: RateLimited: [429] slow down", "replay", False),  # a cassette answers the same every time
])
def test_only_a_transient_error_runs_again(error, mode, runs_again):
    execute, asked = _runner({"a": [error, ""]})
    [result] = with_retries([Job("a", mode)], execute, retries=2, say=lambda _: None)
    assert asked == ([["a"], ["a"]] if runs_again else [["a"]])
    assert result.ok is runs_again
    assert result.retried == ((error,) if runs_again else ())


def test_at_most_n_times_and_only_the_runs_that_need_it():
    execute, asked = _runner({"a": [""], "b": ["cell [3]: ServerError: [500] x"], "c": ["cell [3]: RateLimited: x", ""]})
    said = []
    results = with_retries([Job("a"), Job("b"), Job("c")], execute, retries=2, say=said.append)
    assert asked == [["a", "b", "c"], ["b", "c"], ["b"]]
    assert [(r.ok, len(r.retried)) for r in results] == [(True, 0), (False, 2), (True, 1)]
    assert said == ["attempt 2: running 2 run(s) again that failed on a transient error",
                    "attempt 3: running 1 run(s) again that failed on a transient error"]
    execute, asked = _runner({"b": ["cell [3]: ServerError: [500] x"]})
    assert not with_retries([Job("b")], execute, retries=0)[0].ok and asked == [["b"]]


def test_the_reports_say_a_run_was_retried(tmp_path):
    execute, _ = _runner({"c": ["cell [3]: RateLimited: [429] slow down", ""]})
    results = with_retries([Job("c")], execute, retries=1, say=lambda _: None)
    write_reports(results, tmp_path, seconds=2.0, workers=1)
    facts = json.loads((tmp_path / "summary.json").read_text())
    assert facts["retried"] == 1
    assert facts["results"][0]["attempts"] == 2 and facts["results"][0]["retried"] == ["cell [3]: RateLimited: [429] slow down"]
    assert "| ok (attempt 2; retried after RateLimited) |" in (tmp_path / "SUMMARY.md").read_text()
    [suite] = JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    [case] = list(suite)
    assert case.is_passed and "attempt 1 failed on a transient error, run again: cell [3]: RateLimited" in case.system_out
    assert {p.name: p.value for p in suite.properties()}["attempts"] == "2"
