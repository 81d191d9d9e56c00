"""Bytecode for what the test modules import, written once before pytest-xdist starts its workers (conftest.py).

`make demo` installs with uv, which writes no bytecode: Python writes it at a module's first import. The
notebooks' modules have it after `make demo`; the test-only packages (openai, locus, hypothesis, …) do not.
Every worker imports every test module as it collects, so on the first `make test` each of them compiled the
same ~1,500 files at once (openai alone is ~1,300). Here one process per core imports them first, each
starting at another point of the list, and the workers find the bytecode written.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

_OWN = {"tests", "locus_nb", "__future__"}
# A top-level import starts a line (a regular expression reads the files ~50× faster than `ast.parse`).
_TOP_IMPORT = re.compile(r"^(?:from (\w[\w.]*) import |import (\w[\w.]*(?:, *\w[\w.]*)*))", re.M)
_IMPORT_EACH = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)"


def imported_at_top(files: Iterable[Path]) -> list[str]:
    """Third-party modules named by a top-level `import`/`from … import` of these files, in first-seen order."""
    names: dict[str, None] = {}
    for path in files:
        for source, imported in _TOP_IMPORT.findall(path.read_text()):
            names.update(dict.fromkeys([source] if source else re.split(r", *", imported)))
    return [n for n in names if n.partition(".")[0] not in _OWN | set(sys.stdlib_module_names)]


def without_bytecode(modules: Iterable[str]) -> list[str]:
    """The modules whose top-level package has no bytecode yet (found without importing anything)."""
    missing = []
    for name in modules:
        spec = importlib.util.find_spec(name.partition(".")[0])
        if spec and spec.origin and spec.origin.endswith(".py"):
            if not Path(importlib.util.cache_from_source(spec.origin)).exists():
                missing.append(name)
    return missing


def write_bytecode(modules: list[str], processes: int) -> None:
    """Import `modules` in `processes` processes at once, each its own rotation of the list: they start on
    different packages, and one that reaches a package another has compiled reads its bytecode."""
    if sys.dont_write_bytecode or not modules:
        return
    step = max(1, len(modules) // processes)
    orders = [modules[i * step:] + modules[:i * step] for i in range(min(processes, len(modules)))]
    running = [subprocess.Popen([sys.executable, "-c", _IMPORT_EACH, *order],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for order in orders]
    for process in running:
        process.wait(timeout=300)  # an import that fails here fails again, with its message, in its test module
