"""Exercises in an executed notebook: cells tagged `exercise` ("Your turn": starter code and a check).

A check prints `✓ …` when the exercise is done, else a next-step hint. The edition is the notebook's
`metadata.locus_nb.edition`: `learner` (the default: as committed, starter code in place, so an
unfinished exercise is expected — JUnit `skipped`) or `instructor` (solutions in place, so a check
that does not pass is a `failure`: the exercise is not solvable on this target). An exercise's ✓ is
not a lesson claim: `lesson_claims` leaves it out of the claims.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..notebook._claims import HELD, Claims

__all__ = ["EDITIONS", "Exercise", "edition_of", "exercises_in", "lesson_claims"]

EXERCISE_TAG = "exercise"
EDITIONS = ("learner", "instructor")


@dataclass(frozen=True)
class Exercise:
    """One exercise's check, as the executed notebook shows it."""

    name: str
    """Stable: the check cell's first comment line (`# Exercise 1: ask twice`), else `exercise N`."""
    done: bool
    """The check printed a ✓ line."""
    says: str
    """What the check printed first (its ✓ line or hint), or its error's first line; "" when it did not run."""
    kind: Literal["exercise"] = "exercise"


def _read(path: str | Path) -> Any:
    import nbformat

    return nbformat.read(str(path), as_version=4)


def edition_of(nb: Any) -> str:
    """`metadata.locus_nb.edition` when it names one of `EDITIONS`, else `learner`."""
    meta = nb.metadata.get("locus_nb")
    edition = meta.get("edition") if isinstance(meta, dict) else None
    return edition if edition in EDITIONS else "learner"


def _name(source: str, number: int) -> str:
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return first.lstrip("#").strip() if first.startswith("#") and first.lstrip("#").strip() else f"exercise {number}"


def _check(cell: Any, number: int) -> Exercise:
    said = ""
    for output in cell.get("outputs", ()):
        if output.output_type == "stream" and output.get("name") == "stdout":
            lines = [line for line in output.get("text", "").splitlines() if line.strip()]
            if held := next((line for line in lines if line.startswith(f"{HELD} ")), None):
                return Exercise(_name(cell.source, number), True, held)
            said = said or (lines[0] if lines else "")
        elif output.output_type == "error":
            evalue = (output.get("evalue") or "").splitlines()
            return Exercise(_name(cell.source, number), False, f"{output.get('ename')}: {evalue[0] if evalue else ''}")
    return Exercise(_name(cell.source, number), False, said)


def exercises_in(path: str | Path) -> tuple[str, tuple[Exercise, ...]]:
    """The notebook's edition and its exercises' checks, in order."""
    nb = _read(path)
    cells = [c for c in nb.cells if c.cell_type == "code" and EXERCISE_TAG in c.metadata.get("tags", [])]
    return edition_of(nb), tuple(_check(cell, i) for i, cell in enumerate(cells, 1))


def lesson_claims(claims: Claims, exercises: tuple[Exercise, ...]) -> Claims:
    """`claims` without the ✓ lines the exercises' checks printed."""
    extra = Counter(e.says[2:] for e in exercises if e.done)
    stated = []
    for held, claim in claims.stated:
        if held and extra[claim] > 0:
            extra[claim] -= 1
            continue
        stated.append((held, claim))
    return Claims(held=tuple(c for ok, c in stated if ok), failed=tuple(c for ok, c in stated if not ok),
                  stated=tuple(stated))
