"""Notebook parameters: the names a notebook declares, and their values as a person or a file sees them.

- `declared_parameters(source)`: the names a `parameters` cell assigns.
- `check_injected()`: in a kernel papermill runs, the names it injected (its `# Parameters` cell,
  right after the notebook's `parameters` cell) that the `parameters` cell does not declare raise a
  `ConfigError` — papermill itself only warns, and a typo (`-p regoin …`) would otherwise run on
  with the default. `connect()` calls it; `locus-nb run` checks the names before starting a kernel.
- `slug(name, value)`: `name-value` for a short plain value, else `name-<8 hex of its sha256>`:
  a file-name part that is short, stable and shows nothing.

How a value is shown is `_redact`'s: `mask_param` (stdout, `SUMMARY.md`, handouts) and
`mask_assignments` (papermill's injected-parameters cell in the executed copy).
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from .._errors import ConfigError
from .._redact import is_secret_name

__all__ = ["PAPERMILL_HEADER", "check_injected", "declared_parameters", "slug", "undeclared_error"]

PAPERMILL_HEADER = "# Parameters"  # the first line of the cell papermill injects
_PLAIN = re.compile(r"^[A-Za-z0-9_.-]{1,24}$")



def slug(name: str, value: Any) -> str:
    """`store-True`, `region-eu-frankfurt-1`; a long, URL-like, OCID-like or secret value: `name-1a2b3c4d`."""
    text = str(value)
    if _PLAIN.match(text) and not is_secret_name(name) and not text.startswith("ocid1."):
        return f"{name}-{text.replace('.', '_')}"
    return f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def declared_parameters(source: str) -> list[str]:
    """The names a `parameters` cell assigns, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics): the assignments at the start of a line
        targets = re.findall(r"^([A-Za-z_][\w, ]*?)\s*(?::[^=\n]*)?=(?!=)", source, re.M)
        return list(dict.fromkeys(n.strip() for t in targets for n in t.split(",") if n.strip()))
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name) and leaf.id not in names:
                    names.append(leaf.id)
    return names


def undeclared_error(unknown: Iterable[str], declared: Sequence[str], where: str) -> ConfigError:
    """`regoin` → "… has no parameter 'regoin' (did you mean 'region'?); its parameters: …"."""
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, declared, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    known = ", ".join(declared) or "none"
    return ConfigError(f"{where} has no parameter {', '.join(parts)}; its parameters: {known}. Papermill would "
                       "only warn and run on with the default, so this run stops here")


def _injected(history: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """(injected names, declared names) from a kernel's input history; None when papermill injected nothing
    after a `parameters` cell (nbval, JupyterLab, or a notebook without one)."""
    for index in range(len(history) - 1, 0, -1):
        cell = history[index] or ""
        if cell.splitlines()[:1] == [PAPERMILL_HEADER]:
            declared = declared_parameters(history[index - 1] or "")
            return (declared_parameters(cell), declared) if declared else None
    return None


def check_injected(history: Sequence[str] | None = None) -> None:
    """Raise a `ConfigError` when papermill injected a parameter this notebook's `parameters` cell does not declare.

    `history`: the kernel's input cells (default: IPython's `In`, when this runs inside an IPython kernel).
    """
    if history is None:
        ipython = sys.modules.get("IPython")  # never imported here: outside a kernel there is no history
        shell = ipython.get_ipython() if ipython is not None else None
        history = (shell.user_ns.get("In") if shell is not None else None) or []
    found = _injected(history)
    if found:
        injected, declared = found
        unknown = [name for name in injected if name not in declared]
        if unknown:
            raise undeclared_error(unknown, declared, "this notebook")
