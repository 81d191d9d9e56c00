"""What one run of one notebook with one parameter set came to, and its record in `summary.json`.

`summary.json` is the source the other reports are made from: `locus-nb summary` merges shards' files
into one and writes SUMMARY.md and junit.xml again from it, as the run itself does.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._redact import mask_param
from ..notebook._claims import Claims
from ._exercises import Exercise
from ._matrix import label
from ._usage import Usage

__all__ = ["RunResult", "error_name", "from_json", "to_json"]

_ERROR = re.compile(r"^(?:cell \[\d+\]: )?([A-Za-z_][\w.]*): ")


@dataclass(frozen=True)
class RunResult:
    notebook: str
    parameters: dict[str, Any]
    output: str
    ok: bool
    seconds: float
    error: str = ""
    claims: Claims = field(default_factory=Claims)
    mode: str = "live"
    cassette: str | None = None
    target: str = ""  # what the setup cell said it is connected to ("" when it did not get that far)
    usage: tuple[Usage, ...] = ()  # per model, summed over the run's responses (`_usage`)
    exercises: tuple[Exercise, ...] = ()  # cells tagged `exercise` (`_exercises`)
    edition: str = "learner"
    retried: tuple[str, ...] = ()  # the transient errors of earlier attempts, in order (`--retries`)

    @property
    def name(self) -> str:
        """The stable test name: `02_stored[store=True]`; the instructor edition's says so,
        `02_stored[store=True, edition=instructor]`, so both editions' reports can sit side by side."""
        tested = self.parameters if self.edition == "learner" else {**self.parameters, "edition": self.edition}
        return label(self.notebook, tested)


def error_name(error: str) -> str:
    """`cell [3]: RateLimited: …` → `RateLimited` ("" when there is none)."""
    match = _ERROR.match(error)
    return match.group(1).rsplit(".", 1)[-1] if match else ""


def _shown(name: str, value: Any) -> Any:
    """A parameter's value as summary.json keeps it: as it is unless masking changes it."""
    shown = mask_param(name, value)
    return value if shown == str(value) else shown


def to_json(result: RunResult, relative_to: Path) -> dict[str, Any]:
    """The run's record in summary.json (parameters masked as everywhere; the executed notebook relative)."""
    return {
        "name": result.name, "notebook": Path(result.notebook).stem,
        "parameters": {k: _shown(k, v) for k, v in result.parameters.items()},
        "status": "ok" if result.ok else "failed", "error": result.error, "seconds": round(result.seconds, 2),
        "target": result.target, "mode": result.mode, "edition": result.edition,
        "attempts": 1 + len(result.retried), "retried": list(result.retried),
        "executed": Path(os.path.relpath(result.output, relative_to)).as_posix(),
        "cassette": Path(result.cassette).name if result.cassette else None,
        "claims": [{"claim": claim, "held": held} for held, claim in result.claims.stated],
        "exercises": [{"name": e.name, "done": e.done, "says": e.says} for e in result.exercises],
        "usage": [u.as_json() for u in result.usage],
    }


def from_json(record: dict[str, Any], folder: Path) -> RunResult:
    """A run back from its summary.json record (`folder`: where that file is); parameters stay as masked."""
    stated = tuple((bool(c["held"]), str(c["claim"])) for c in record.get("claims", ()))
    claims = Claims(held=tuple(c for ok, c in stated if ok), failed=tuple(c for ok, c in stated if not ok),
                    stated=stated)
    return RunResult(
        notebook=f"{record['notebook']}.ipynb", parameters=dict(record.get("parameters") or {}),
        output=str(folder / record["executed"]), ok=record.get("status") == "ok",
        seconds=float(record.get("seconds", 0)), error=record.get("error", ""), claims=claims,
        mode=record.get("mode", "live"), cassette=record.get("cassette"), target=record.get("target", ""),
        usage=tuple(Usage(**u) for u in record.get("usage", ())),
        exercises=tuple(Exercise(e["name"], bool(e["done"]), e.get("says", "")) for e in record.get("exercises", ())),
        edition=record.get("edition", "learner"), retried=tuple(record.get("retried", ())))
