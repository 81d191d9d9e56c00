"""Lesson claims: `expect(condition, claim, got=…)` checks what a lesson claims where it teaches it.

    expect("purple" in reply.text.lower(), "with the history the reply names purple", got=reply.text)

A claim that holds prints one line, `✓ <claim>`. One that fails raises `ClaimFailed`, which a
notebook shows as `✗ <claim>` with what was expected and what came instead — no traceback into
this package. The cell fails, so a papermill run, nbval and `locus-nb run` fail with it. In a
kernel a Jupyter server started (JupyterLab, Notebook) a failed claim prints the same ✗ lines and
the lesson goes on, so a learner reads the rest.

Phrase claims so a competent real model passes them too: case-insensitive, no exact wording, no
exact token counts. `locus-nb run` reads the ✓ and ✗ lines back from each executed notebook
(`claims_in`) and lists them in SUMMARY.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._environment import in_jupyter_server
from .._errors import LocusError, mask_secrets

__all__ = ["HELD", "FAILED", "ClaimFailed", "Claims", "claims_in", "expect"]

HELD = "✓"
FAILED = "✗"
_NOTHING = object()
_SHOWN = 300  # characters of `got` a failed claim shows


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) and "\n" not in value else repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


class ClaimFailed(LocusError):
    """A lesson claim that did not hold: `claim`, and `got` (what came instead) when given."""

    def __init__(self, claim: str, *, got: Any = _NOTHING, expected: Any = _NOTHING) -> None:
        self.claim = claim
        self.got = None if got is _NOTHING else got
        self.details = [f"expected: {_shown(expected)}"] if expected is not _NOTHING else []
        if got is not _NOTHING:
            self.details.append(f"got: {_shown(got)}")
        super().__init__(claim + (f" ({'; '.join(self.details)})" if self.details else ""))

    def lines(self) -> list[str]:
        """`✗ <claim>`, then what was expected and what came, indented (masked like every error message)."""
        return [f"{FAILED} {mask_secrets(self.claim)}", *(f"  {mask_secrets(line)}" for line in self.details)]

    def _render_traceback_(self) -> list[str]:
        """How IPython shows it: the ✗ lines alone (red), no traceback."""
        first, *rest = self.lines()
        return [f"\x1b[0;31m{first}\x1b[0m", *rest]


def expect(condition: Any, claim: str, *, got: Any = _NOTHING, expected: Any = _NOTHING) -> None:
    """Check one lesson claim: `✓ claim` when `condition` is true, else `ClaimFailed` (see the module doc).

    `got`: what came (shown only when the claim fails); `expected`: what should have, when the claim
    text alone does not say it. Returns None, so a claim that ends a cell adds no `Out[]`.
    """
    if condition:
        print(f"{HELD} {claim}")
        return
    failure = ClaimFailed(claim, got=got, expected=expected)
    if not in_jupyter_server():
        raise failure
    print("\n".join(failure.lines()))


@dataclass(frozen=True)
class Claims:
    """The claims one executed notebook states: those that held and those that failed, in order."""

    held: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    stated: tuple[tuple[bool, str], ...] = field(default=(), repr=False)  # (held, claim), in order


def claims_in(notebook: str | Path) -> Claims:
    """Read the ✓/✗ lines (and a `ClaimFailed` error) back from an executed notebook."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    found: list[tuple[bool, str]] = []
    for cell in nb.cells:
        if "exercise" in cell.metadata.get("tags", ()):  # a check's ✓/✗ is an exercise's, not a lesson claim
            continue
        for output in cell.get("outputs", ()) if cell.cell_type == "code" else ():
            if output.output_type == "stream" and output.get("name") == "stdout":
                for line in output.get("text", "").splitlines():
                    if line.startswith((f"{HELD} ", f"{FAILED} ")):
                        found.append((line.startswith(HELD), line[2:]))
            elif output.output_type == "error" and output.get("ename") == ClaimFailed.__name__:
                found.append((False, output.get("evalue", "")))
    return Claims(held=tuple(c for ok, c in found if ok), failed=tuple(c for ok, c in found if not ok),
                  stated=tuple(found))
