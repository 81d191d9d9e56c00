"""The learner and the instructor edition of a lesson, and reading a notebook's exercise results back.

A lesson's exercise is a code cell tagged `exercise` (starter code and its `await check(…)` line); its
solution is the markdown cell tagged `solution` after it: a `<details>` block holding one fenced python
block, the whole exercise cell as it looks solved (the same check line). A markdown cell never runs — not in
"Run All", papermill or nbval — and `<details>` keeps it collapsed in JupyterLab, on GitHub and in HTML; a
handout of the learner edition drops the cells tagged `solution` (`locus-nb handouts --edition learner`).
The instructor edition (`instructor_edition`) is the same notebook with each exercise cell's code replaced
by its solution's, for a runner to execute: every check then prints its ✓ (and its metadata says so, so a run
reports a check that does not pass as a failure rather than as not done yet).

Both work on nbformat notebooks and on plain JSON dicts (`locus-nb progress` reads files it cannot trust).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._exercises import parse_status

__all__ = ["EDITIONS", "edition_of", "exercise_results", "instructor_edition", "solution_code"]

EDITIONS = ("learner", "instructor")

_FENCE = re.compile(r"```python\n(.*?)```", re.S)


def _tags(cell: Mapping[str, Any]) -> list[str]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def solution_code(markdown: str) -> str | None:
    """The code of a solution cell: its one fenced python block (None when it has none)."""
    m = _FENCE.search(markdown)
    return m.group(1).rstrip("\n") if m else None


def instructor_edition(nb: Any) -> Any:
    """A copy of `nb` in which each code cell tagged `exercise` holds the code of the markdown cell tagged
    `solution` that follows it (before the next exercise), its outputs cleared; the rest is unchanged."""
    out = copy.deepcopy(nb)
    out.setdefault("metadata", {}).setdefault("locus_nb", {})["edition"] = "instructor"
    pending = None
    for cell in out["cells"]:
        if cell.get("cell_type") == "code" and "exercise" in _tags(cell):
            pending = cell
        elif pending is not None and cell.get("cell_type") == "markdown" and "solution" in _tags(cell):
            code = solution_code(_source(cell))
            if code is not None:
                pending["source"], pending["outputs"], pending["execution_count"] = code, [], None
            pending = None
    return out


def edition_of(nb: Any) -> str:
    """The notebook's `metadata.locus_nb.edition` when it names one of `EDITIONS`, else `learner` (as committed)."""
    meta = (nb.get("metadata") or {}).get("locus_nb")
    edition = meta.get("edition") if isinstance(meta, Mapping) else None
    return edition if edition in EDITIONS else "learner"


def _stdout(cell: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for output in cell.get("outputs") or ():
        if isinstance(output, Mapping) and output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            lines += ("".join(text) if isinstance(text, list) else str(text)).splitlines()
    return lines


def exercise_results(cells: Sequence[Any]) -> dict[str, tuple[str, int, int]]:
    """What the checks printed in an executed notebook: exercise id → (status, step, steps), status one of
    `passed`, `failed`, `todo`; read from the ✓/✗ lines of each cell tagged `exercise` and of the cell after it
    (the last line for an exercise wins). An exercise cell that shows an error and no check line is keyed
    `#k` (the k-th exercise cell, from 1) with status `error`. Nothing is executed; no code is returned."""
    found: dict[str, tuple[str, int, int]] = {}
    cells = [c for c in cells if isinstance(c, Mapping)]
    number = 0
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code" or "exercise" not in _tags(cell):
            continue
        number += 1
        after = cells[i + 1] if i + 1 < len(cells) and "exercise" not in _tags(cells[i + 1]) else {}
        statuses = [s for c in (cell, after) for s in map(parse_status, _stdout(c)) if s]
        for exercise, status, step, steps in statuses:
            found[exercise] = (status, step, steps)
        errors = [o for o in cell.get("outputs") or () if isinstance(o, Mapping) and o.get("output_type") == "error"]
        if not statuses and errors:
            found[f"#{number}"] = ("error", 0, 0)
    return found
