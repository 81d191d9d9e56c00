"""`locus-nb progress DIR`: where each learner is in the exercises, read from the notebooks they saved.

A host collects the learners' notebooks (each an executed or partly executed copy of a lesson) into a folder;
this reads the ✓/✗ lines the checks printed into each exercise cell (`_editions.exercise_results`) and prints
one table per lesson: learner (the file's name), each exercise ✓, ✗ (and at which check), or not run. Nothing
is executed, and no learner's code or output is printed — only those marks. A file that is not a notebook,
is cut short, or is another lesson is listed as such under the tables.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..notebook._editions import exercise_results
from ..notebook._exercises import EXERCISES

__all__ = ["LearnerRow", "command", "progress_table", "read_learner"]

MAX_BYTES = 50_000_000  # a saved lesson is well under 1 MB; past this it is not one
_TITLE = re.compile(r"^#\s+(\d\d)\s+·", re.M)
LEGEND = ("✓ passed · ✗ k/N: check k of N is the first that fails · ✗ todo: the starter code still has a TODO · "
          "✗ error: the cell stopped with an error · not run: no check output in the notebook")


@dataclass(frozen=True)
class LearnerRow:
    """One file of the folder: a learner's lesson and their exercises' marks, or why it was not read."""

    learner: str
    """The file's path inside the folder, without `.ipynb`."""
    lesson: str | None = None
    """`01`, `03`, … (None when the file was not read)."""
    marks: dict[str, str] = field(default_factory=dict)
    """Exercise id → `✓`, `✗ 2/6`, `✗ todo`, `✗ error` or `not run`."""
    problem: str | None = None
    """Why the file was not read: not a notebook, cut short, another lesson, …"""
    kind: Literal["learner_row"] = "learner_row"


def _lesson_exercises(lesson: str) -> list[str]:
    return [e for e in EXERCISES if e.startswith(f"{lesson}.")]


def _mark(found: tuple[str, int, int] | None) -> str:
    if found is None:
        return "not run"
    status, step, steps = found
    return {"passed": "✓", "todo": "✗ todo", "error": "✗ error"}.get(status, f"✗ {step}/{steps}")


def _notebook(path: Path) -> tuple[Mapping[str, Any] | None, str | None]:
    """The file's JSON, or why it is not a notebook."""
    if path.suffix != ".ipynb":
        return None, f"not a notebook ({path.suffix or 'no extension'})"
    if path.stat().st_size > MAX_BYTES:
        return None, "not a lesson notebook (larger than 50 MB)"
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None, "not a notebook (not UTF-8 text)"
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        if not text.strip():
            return None, "empty file"
        if exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string"):  # it ends mid-way
            return None, "cut short (the JSON ends early: saved while still writing?)"
        return None, f"not a notebook (not JSON, line {exc.lineno})"
    if not isinstance(nb, Mapping) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        return None, "not a notebook (no nbformat 4 cells)"
    return nb, None


def _lesson_of(nb: Mapping[str, Any]) -> str | None:
    """The lesson number in the notebook's title (`# 01 · …`), from its first markdown cells."""
    for cell in nb["cells"][:3]:
        if isinstance(cell, Mapping) and cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            if m := _TITLE.search("".join(source) if isinstance(source, list) else str(source)):
                return m.group(1)
    return None


def read_learner(path: Path, learner: str, lesson: str | None = None) -> LearnerRow:
    """One learner's file: their lesson and a mark per exercise, or why it was not read. `lesson`: only that one."""
    nb, problem = _notebook(path)
    if nb is None:
        return LearnerRow(learner, problem=problem)
    found = _lesson_of(nb)
    if found is None:
        return LearnerRow(learner, problem="not one of the lessons (no `# NN · …` title)")
    if lesson is not None and found != lesson:
        return LearnerRow(learner, problem=f"another lesson ({found}; the table is for {lesson})")
    exercises = _lesson_exercises(found)
    if not exercises:
        return LearnerRow(learner, problem=f"lesson {found} has no exercises yet")
    results = exercise_results(nb["cells"])
    for n, exercise in enumerate(exercises, start=1):  # an exercise cell that raised before its check printed
        if exercise not in results and f"#{n}" in results:
            results[exercise] = results[f"#{n}"]
    return LearnerRow(learner, found, {e: _mark(results.get(e)) for e in exercises})


def progress_table(rows: list[LearnerRow]) -> str:
    """A table per lesson (learners × exercises, and how many passed each), then the files not read."""
    out: list[str] = []
    for lesson in sorted({r.lesson for r in rows if r.lesson}):
        mine = [r for r in rows if r.lesson == lesson]
        exercises = _lesson_exercises(lesson)
        passed = [f"{sum(r.marks[e] == '✓' for r in mine)} of {len(mine)}" for e in exercises]
        table = [["learner", *exercises], *([r.learner, *(r.marks[e] for e in exercises)] for r in mine),
                 ["passed", *passed]]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        out += [f"Lesson {lesson} · {len(mine)} learner(s)", ""]
        out += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
        out += ["", " · ".join(f"{e} {EXERCISES[e].title}" for e in exercises), ""]
    if any(r.lesson for r in rows):
        out += [LEGEND, ""]
    bad = [r for r in rows if r.problem]
    if bad:
        width = max(len(r.learner) for r in bad)
        out += [f"Not read ({len(bad)} file(s)):", *(f"  {r.learner.ljust(width)}  {r.problem}" for r in bad), ""]
    return "\n".join(out) if out else "no files\n"


def _files(folder: Path) -> list[Path]:
    """Every file under `folder`, hidden ones (`.ipynb_checkpoints`, `.DS_Store`) left out."""
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def command(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if not folder.is_dir():
        raise SystemExit(f"locus-nb progress: {folder} is not a folder (give the folder of the learners' notebooks)")
    lesson = args.lesson.zfill(2) if args.lesson else None
    rows = []
    for path in _files(folder):
        name = path.relative_to(folder).as_posix()
        try:
            rows.append(read_learner(path, name.removesuffix(".ipynb"), lesson))
        except OSError as exc:  # unreadable (permissions, a broken link): listed, the others still read
            rows.append(LearnerRow(name, problem=f"cannot be read ({exc.strerror or type(exc).__name__})"))
    print(progress_table(rows), end="")
    return 0
