"""A pytest plugin for nbval: `--replay-cassettes DIR` replays every notebook from its cassette.

    pytest -p locus_nb.pytest_replay --nbval notebooks/ --replay-cassettes cassettes/

Before the first cell of `NAME.ipynb` runs (when nbval starts its kernel), the kernel's mode is
set to replay `DIR/NAME.jsonl` — the cassette `locus-nb run --record DIR` wrote for it — so the
notebook runs with no network and no credentials and nbval compares its outputs with the recorded
ones. The repository's own `conftest.py` loads this plugin.

Plain hook functions, so the package does not need pytest: registered after pytest's own runner,
this `pytest_runtest_setup` runs before it starts the kernel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._cassette import CASSETTE_SUFFIX
from .._errors import ConfigError
from ._kernels import set_mode

__all__ = ["pytest_addoption", "pytest_runtest_setup"]


def pytest_addoption(parser: Any) -> None:
    parser.getgroup("locus-nb").addoption(
        "--replay-cassettes", metavar="DIR", default=None,
        help="nbval: run each NAME.ipynb replaying DIR/NAME.jsonl (no network, no credentials)")


def pytest_runtest_setup(item: Any) -> None:
    folder = item.config.getoption("replay_cassettes")
    if folder and item.path.suffix == ".ipynb":
        cassette = Path(folder) / (item.path.stem + CASSETTE_SUFFIX)
        if not cassette.is_file():
            raise ConfigError(f"--replay-cassettes: no cassette {cassette} for {item.path.name}; record it "
                              f"with `locus-nb run --record {folder}`")
        set_mode("replay", cassette.resolve())
