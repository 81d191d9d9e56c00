"""How make test's pytest-xdist (--dist loadscope) shares out the tests: one module (or class) per unit of work,
except that the modules that import the openai SDK are one unit, so one worker imports it, not each: ~1.7 s of
CPU per process, and on the first run after an install each would compile the same ~1,300 files. (They import it
inside their tests: IMPORTED_WHERE_USED in tests/conftest.py.)"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
_IMPORTS_OPENAI = re.compile(r"^\s*(?:import|from) openai\b", re.M)


@cache  # read by the scheduler, in the xdist controller only: not at every worker's start
def openai_modules() -> frozenset[str]:
    return frozenset(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py")
                     if _IMPORTS_OPENAI.search(p.read_text(encoding="utf-8")))


def work_unit(nodeid: str) -> str:
    """The unit a test belongs to: its module (or class), or the openai SDK's modules."""
    return "the openai SDK's test modules" if nodeid.partition("::")[0] in openai_modules() else nodeid.rsplit("::", 1)[0]


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before xdist's own, which would pick plain LoadScopeScheduling
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedImportScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:  # the override LoadFileScheduling uses to choose the unit
            return work_unit(nodeid)

    return SharedImportScheduling(config, log)
