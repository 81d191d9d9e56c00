"""Session-wide test setup. Runs before any kernel starts, so notebook kernels inherit it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from locus_nb.runs._kernels import ask_for_mock, clear_environment

FIXTURES = Path(__file__).parent / "tests" / "fixtures"
# `--replay-cassettes DIR`: nbval replays each notebook from DIR/<name>.jsonl (README: replaying in CI).
pytest_plugins = ["locus_nb.pytest_replay", "tests.work_units"]  # the second: how pytest-xdist shares out the tests


def pytest_configure(config: pytest.Config) -> None:
    # nbval compares against outputs recorded from the embedded mock: never let a developer's
    # OCI settings point the notebook kernels elsewhere (the list `connect()` reads, as `run --mock` clears it).
    clear_environment()
    # …and ask for the embedded mock explicitly: connect() never falls back on it silently (it would
    # refuse under nbval and papermill). A test that runs against another target unsets this.
    ask_for_mock()
    # The embedded mock streams at full speed in tests (learners get a visible pace by default).
    os.environ["LOCUS_NB_MOCK_TOKEN_DELAY"] = "0"
    # Stable file names in warnings/tracebacks that a kernel prints.
    os.environ["IPYKERNEL_CELL_NAME"] = "<IPY-INPUT>"


# Under pytest-xdist (make test: --dist loadscope --no-loadscope-reorder) these modules, which run notebooks
# and processes, are handed out first: the many short ones then fill in around them, and no long module
# starts last while the other worker has nothing left to do. Longest first.
LONG_MODULES = ("tests/runs/test_record_replay.py", "tests/runs/test_runs.py", "tests/project/test_reliability.py",
                "tests/test_model_stream.py", "tests/runs/test_handouts.py", "tests/runs/test_editions.py",
                "tests/project/test_binder.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:  # nbval's cells run in a kernel
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.e2e)
    if hasattr(config, "workerinput"):  # an xdist worker; every worker sorts alike, as xdist requires
        rank = {module: n for n, module in enumerate(LONG_MODULES)}
        items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(LONG_MODULES)))


# `make test-fast` (-m "not e2e") runs what needs no kernel, browser or other process. A test that starts one
# without its `e2e` mark fails there and says so, so the fast part stays fast and the marks stay true.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    if "not e2e" not in (item.config.option.markexpr or ""):
        yield
        return
    import multiprocessing.util
    import platform
    import subprocess

    platform.processor()  # asked of `uname -p` once, lazily (the oci SDK's import does): ask it here

    def refuse(*args, **kwargs):
        raise RuntimeError(f"{item.nodeid} starts a process (a kernel, a browser, a command): mark it @pytest.mark.e2e")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", refuse)
        patch.setattr(multiprocessing.util, "spawnv_passfds", refuse)
        yield
