"""What `locus-nb doctor` prints: a line per check — ✓ passed, ✗ failed with what to do (→), – skipped — and
the verdict. `Reporter` masks every line as it is added, with the secrets the checks have come across.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .._errors import LocusError
from .._redact import mask_secrets

__all__ = ["MARKS", "Check", "DoctorReport", "Reporter", "Status"]

Status = Literal["ok", "fail", "skip"]
MARKS = {"ok": "✓", "fail": "✗", "skip": "–"}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def render(self, width: int = 14) -> str:
        line = f"{MARKS[self.status]} {self.name:<{width}} {self.detail}"
        return f"{line}\n    → {self.fix}" if self.fix else line


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)
    header: str = ""

    @property
    def ok(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def render(self) -> str:
        lines = [self.header, *(c.render() for c in self.checks)]
        done = [c for c in self.checks if c.status != "skip"]
        if self.ok:
            lines.append(f"all {len(done)} checks passed")
        else:
            n = len(self.failures)
            lines.append(f"{n} problem{'s' if n > 1 else ''}: fix the first ✗ above, "
                         "then run `locus-nb doctor` again")
        return "\n".join(lines)


class Reporter:
    """Adds checks to `report`, each line masked: OCIDs and tokens by pattern, and `secrets` (an API key, key and
    token paths, the token itself) by value."""

    def __init__(self, secrets: list[str]) -> None:
        self.report = DoctorReport()
        self._secrets = secrets

    def add(self, name: str, status: Status, detail: str, fix: str = "") -> None:
        clean = lambda text: mask_secrets(text, self._secrets)  # noqa: E731 - every line, masked
        self.report.checks.append(Check(name, status, clean(detail), clean(fix)))

    def failed(self, name: str, error: LocusError, fix: str = "") -> None:
        """A check that failed with one of the package's errors: its message, and its hint as the fix."""
        self.add(name, "fail", error.args[0] if error.args else error.message, fix or error.hint)
