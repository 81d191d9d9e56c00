"""Exercises in an executed notebook, as a run reports them (JUnit, SUMMARY.md, summary.json).

What each check printed is read by `notebook._editions.exercise_results`, the reader `locus-nb progress` uses
too. The edition is the notebook's `metadata.locus_nb.edition` (`instructor_edition` sets it): `learner` (the
default: as committed, starter code in place, so an unfinished exercise is expected — JUnit `skipped`) or
`instructor` (solutions in place, so a check that does not pass is a `failure`: the exercise is not solvable on
this target, and the run fails with `UNSOLVED`). A check's ✓ is not a lesson claim: `claims_in` reads no cell tagged `exercise`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..notebook._editions import EDITIONS, edition_of, exercise_results
from ..notebook._exercises import EXERCISES

__all__ = ["EDITIONS", "UNSOLVED", "Exercise", "edition_of", "exercises_in"]

UNSOLVED = "ExerciseNotSolved"
"""The error type of an instructor-edition run in which a solution's check did not pass (JUnit, SUMMARY.md)."""


@dataclass(frozen=True)
class Exercise:
    """One exercise's check, as the executed notebook shows it."""

    name: str
    """Stable: the exercise's id and title (`01.1 Two facts, four turns`); `exercise cell K` for one that raised."""
    done: bool
    """The check printed its ✓."""
    says: str
    """How far the check got: `✓ all N checks pass`, `✗ check K of N`, `✗ not yet`, or the cell's error."""
    kind: Literal["exercise"] = "exercise"


def _exercise(key: str, status: str, step: int, steps: int) -> Exercise:
    if key.startswith("#"):
        return Exercise(f"exercise cell {key[1:]}", False, "✗ the exercise cell raised an error before its check")
    name = f"{key} {EXERCISES[key].title}" if key in EXERCISES else key
    says = {"passed": f"✓ all {steps} checks pass", "failed": f"✗ check {step} of {steps}",
            "todo": "✗ not yet: the starter code still has a TODO"}[status]
    return Exercise(name, status == "passed", says)


def exercises_in(path: str | Path) -> tuple[str, tuple[Exercise, ...]]:
    """The notebook's edition and its exercises' checks, in order."""
    import nbformat

    nb: Any = nbformat.read(str(path), as_version=4)
    return edition_of(nb), tuple(_exercise(key, *found) for key, found in exercise_results(nb.cells).items())
