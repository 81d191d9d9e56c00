"""What the kernels a run starts will read: the one place that sets their variables in this process's environment
(`locus-nb run`, its `--mock`/`--replay`, the nbval replay plugin, the test session). `_environment` reads them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .._environment import ENV_VARS, MOCK_TARGET, MODES

__all__ = ["KERNEL_VARS", "ask_for_mock", "batch_kernel", "clear_environment", "kept_as_it_was", "set_mode",
           "set_usage_log"]

# What `set_mode` and `batch_kernel` change for the kernels started afterwards (`kept_as_it_was` gives them back).
KERNEL_VARS = ("LOCUS_NB_MODE", "LOCUS_NB_CASSETTE", "LOCUS_NB_USAGE_LOG", "JPY_SESSION_NAME")


def clear_environment() -> None:
    """Remove every connection variable: kernels started afterwards have no target unless one is asked for."""
    for name in ENV_VARS:
        os.environ.pop(name, None)


def set_mode(mode: str, cassette: str | os.PathLike[str] | None = None) -> None:
    """The run mode of the kernels started afterwards: `record`/`replay` with their cassette, or `live` (both unset)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if mode == "live":
        os.environ.pop("LOCUS_NB_MODE", None)
        os.environ.pop("LOCUS_NB_CASSETTE", None)
        return
    if cassette is None:
        raise ValueError(f"mode {mode!r} needs a cassette")
    os.environ["LOCUS_NB_MODE"] = mode
    os.environ["LOCUS_NB_CASSETTE"] = os.fspath(cassette)


def set_usage_log(path: str | os.PathLike[str] | None) -> None:
    """Where the kernels started afterwards log each response's usage (a live run's; None: nowhere)."""
    if path is None:
        os.environ.pop("LOCUS_NB_USAGE_LOG", None)
    else:
        os.environ["LOCUS_NB_USAGE_LOG"] = os.fspath(path)


def ask_for_mock() -> None:
    """Kernels started afterwards ask for the embedded mock (LOCUS_NB_TARGET=mock): `locus-nb run --mock`."""
    os.environ["LOCUS_NB_TARGET"] = MOCK_TARGET


def batch_kernel() -> None:
    """Kernels started afterwards are papermill's, never a Jupyter server's (a `locus-nb run` worker), even
    when the command was typed in a notebook's `!` shell, whose environment carries JPY_SESSION_NAME."""
    os.environ.pop("JPY_SESSION_NAME", None)


@contextmanager
def kept_as_it_was(names: tuple[str, ...]) -> Iterator[None]:
    """Inside: change `names` freely (`set_mode`, `batch_kernel`); after: each is back as it was, set or unset."""
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
