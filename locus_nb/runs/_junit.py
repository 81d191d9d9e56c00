"""`junit.xml`: what CI systems read (GitLab's test report, Jenkins' junit step, GitHub test-report actions).

    <testsuites name="locus-nb run" tests= failures= errors= time=>
      <testsuite name="02_stored[store=True]" tests= failures= errors= skipped= time=>   one per run
        <properties>  notebook, parameters (masked), target, mode, edition, attempts, executed notebook
        <testcase classname="02_stored[store=True]" name="<claim>"/>               one per lesson claim
          <failure type="ClaimFailed" message="got: …"/>                              a ✗: what came instead
        <testcase name="every cell runs" time=>                                       the run itself
          <error type="RateLimited" message="<the exception's first line>"/>          a cell error (not a claim)
      <testsuite name="02_stored[store=True] exercises">                              when it has exercises
        <testcase name="<exercise>"> <skipped/> (learner, not done) or <failure/> (instructor, not done)

Names are the run's stable label (`_matrix.label`: no connection parameter) and each claim's words
without what came, so a dashboard tracks the same tests from run to run, live or replayed. Checked against the
schema the CI reporters share (tests/fixtures/junit/junit.xsd).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from ._exercises import UNSOLVED
from ._matrix import describe
from ._results import RunResult, error_name

__all__ = ["RUNS_TO_THE_END", "junit_xml", "split_claim"]

RUNS_TO_THE_END = "every cell runs"
_DETAILS = re.compile(r"^(.*?) \(((?:expected|got): .*)\)$", re.S)
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|\x1b\[[0-9;]*m")


def split_claim(text: str) -> tuple[str, str]:
    """`the reply names purple (got: 'green')` → (`the reply names purple`, `got: 'green'`)."""
    match = _DETAILS.match(text)
    return (match.group(1), match.group(2)) if match else (text, "")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _case(suite: ET.Element, classname: str, name: str, seconds: float = 0.0) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=_clean(name), time=f"{seconds:.3f}")


def _outcome(case: ET.Element, tag: str, kind: str, message: str, text: str = "") -> None:
    element = ET.SubElement(case, tag, type=kind, message=_clean(message))
    element.text = _clean(text) or None


def _count(suite: ET.Element, seconds: float) -> ET.Element:
    cases = suite.findall("testcase")
    for tag, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        suite.set(attribute, str(sum(1 for c in cases if c.find(tag) is not None)))
    suite.set("tests", str(len(cases)))
    suite.set("time", f"{seconds:.3f}")
    return suite


def _properties(suite: ET.Element, result: RunResult, relative_to: Path) -> None:
    props = ET.SubElement(suite, "properties")
    for name, value in (("notebook", Path(result.notebook).name), ("parameters", describe(result.parameters)),
                        ("target", result.target), ("mode", result.mode), ("edition", result.edition),
                        ("attempts", str(1 + len(result.retried))),
                        ("executed", Path(os.path.relpath(result.output, relative_to)).as_posix())):
        ET.SubElement(props, "property", name=name, value=_clean(value))


def _run_suite(result: RunResult, relative_to: Path) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(result.name))
    _properties(suite, result, relative_to)
    seen: Counter[str] = Counter()
    for held, text in result.claims.stated:
        claim, details = split_claim(text)
        seen[claim] += 1
        case = _case(suite, result.name, claim if seen[claim] == 1 else f"{claim} ({seen[claim]})")
        if not held:
            _outcome(case, "failure", "ClaimFailed", details or "the claim did not hold", text)
    case = _case(suite, result.name, RUNS_TO_THE_END, result.seconds)
    # a failed claim, or a solution's failed check (the exercises' suite), is the failure: not counted twice
    if not result.ok and error_name(result.error) not in ("ClaimFailed", UNSOLVED):
        first = (result.error.splitlines() or [""])[0]
        _outcome(case, "error", error_name(result.error) or "Error", first, result.error)
    if result.retried:
        ET.SubElement(case, "system-out").text = _clean(
            "\n".join(f"attempt {i} failed on a transient error, run again: {e}" for i, e in enumerate(result.retried, 1)))
    return _count(suite, result.seconds)


def _exercise_suite(result: RunResult) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(f"{result.name} exercises"))
    for exercise in result.exercises:
        case = _case(suite, f"{result.name} exercises", exercise.name)
        if exercise.done:
            continue
        if result.edition == "instructor":
            _outcome(case, "failure", UNSOLVED, exercise.says or "the check did not pass with the solution")
        else:
            _outcome(case, "skipped", "NotDoneYet", exercise.says or "not done yet (learner edition)")
    return _count(suite, 0.0)


def junit_xml(results: Iterable[RunResult], *, seconds: float, relative_to: Path) -> str:
    """The JUnit XML document for these runs (see the module doc)."""
    suites: list[ET.Element] = []
    for result in results:
        suites.append(_run_suite(result, relative_to))
        if result.exercises:
            suites.append(_exercise_suite(result))
    root = ET.Element("testsuites", name="locus-nb run")
    root.extend(suites)
    for attribute in ("tests", "failures", "errors"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

