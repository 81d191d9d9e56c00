"""The connection variables, and the one place that reads them from the environment.

| variable            | setting     | read by                                                  |
|---------------------|-------------|----------------------------------------------------------|
| OCI_PROFILE         | profile     | `connect()`                                              |
| OCI_REGION          | region      | `connect()`; `OCIResponsesModel` without `region=`       |
| OCI_COMPARTMENT     | compartment | `connect()`; `OCIResponsesModel` without `compartment_id=` |
| OCI_RESPONSES_STORE | store       | `connect()`                                              |
| LOCUS_NB_MODEL      | model_id    | `connect()`                                              |
| LOCUS_NB_ENDPOINT   | endpoint    | `connect()`                                              |
| OCI_GENAI_PROJECT   | project     | `connect()`                                              |
| OCI_CONFIG_FILE     | config_file | `connect()`; `OCIResponsesModel` without `config_file=`  |
| OCI_GENAI_API_KEY   | api_key     | `connect()`; `OCIResponsesModel(auth="bearer")` without `api_key=` |
| LOCUS_NB_MODE       | mode        | `connect()`: `record` or `replay` (unset: live)          |
| LOCUS_NB_CASSETTE   | cassette    | `connect()`: the cassette file a record/replay run writes/reads |
| LOCUS_NB_TARGET     | target      | `connect()`: `mock` asks for the embedded mock (`locus-nb run --mock`, the test session) |

`connect(env=…)` reads them from `env` (default: `os.environ`) and hands every value down, so a
model it makes never looks here. A model made directly falls back on the few above, through
`setting()`, only for a value it was not given. Nothing else in the package reads them:
`ENV_VARS` is the list `locus-nb run --mock` and the test session clear.

`locus-nb run --record/--replay` and nbval's `--replay-cassettes` set the last two for each kernel
with `set_mode()`. `in_jupyter_server()` tells a kernel started by a Jupyter server (JupyterLab,
Notebook: `JPY_SESSION_NAME`) from one run by papermill or nbval (lesson claims use it).

A value counts as unset when it is None, empty, or papermill's "None"/"null" (any case).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from ._errors import ConfigError

__all__ = ["ENV_VARS", "KERNEL_VARS", "MOCK_TARGET", "MODES", "TARGET_VARS", "choose_region", "clear_environment",
           "empty_variables", "ask_for_mock", "mock_token_delay", "batch_kernel", "in_jupyter_server", "is_set", "kept_as_it_was",
           "read_environment", "set_mode", "setting"]

ENV_VARS = (
    "OCI_PROFILE",
    "OCI_REGION",
    "OCI_COMPARTMENT",
    "OCI_RESPONSES_STORE",
    "LOCUS_NB_MODEL",
    "LOCUS_NB_ENDPOINT",
    "OCI_GENAI_PROJECT",
    "OCI_CONFIG_FILE",
    "OCI_GENAI_API_KEY",
    "LOCUS_NB_MODE",
    "LOCUS_NB_CASSETTE",
    "LOCUS_NB_TARGET",
)
# The variables that choose a target: present but empty (a CI secret that is not set) is a mistake, not "unset".
TARGET_VARS = ("OCI_PROFILE", "OCI_GENAI_API_KEY", "LOCUS_NB_ENDPOINT")
MOCK_TARGET = "mock"  # LOCUS_NB_TARGET=mock, or the endpoint parameter / LOCUS_NB_ENDPOINT set to "mock"
MODES = ("live", "record", "replay")
# Not a connection variable (kept by `run --mock`, which `make notebooks` sets to 0): the embedded mock's pace.
MOCK_TOKEN_DELAY = "LOCUS_NB_MOCK_TOKEN_DELAY"
_UNSET = {"", "none", "null"}


def is_set(value: Any) -> bool:
    """False for None, "" and papermill's "None"/"null"; True for anything else (False and 0 too)."""
    return value is not None and not (isinstance(value, str) and value.strip().lower() in _UNSET)


def read_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The connection variables that are set, from `env` (default: `os.environ`)."""
    source = os.environ if env is None else env
    return {name: value for name in ENV_VARS if is_set(value := source.get(name))}


def empty_variables(names: tuple[str, ...], env: Mapping[str, str] | None = None) -> list[str]:
    """Those of `names` present in `env` (default: `os.environ`) but unset: empty, blank, "None"/"null"."""
    source = os.environ if env is None else env
    return [name for name in names if name in source and not is_set(source.get(name))]


def setting(value: Any, name: str, env: Mapping[str, str] | None = None) -> Any:
    """`value` when set, else the variable `name` from `env` (default: `os.environ`), else None.

    The environment is read only when `value` is unset.
    """
    return value if is_set(value) else read_environment(env).get(name)


def choose_region(region: str | None, profile_region: str | None = None, *, profile: str | None = None,
                  env: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """The one rule, for `connect()` and the model alike: `region`, else OCI_REGION, else the profile's.

    Returns the region (None when none of them sets it: the caller's default applies) and where it
    came from, for the setup cell to say.
    """
    if is_set(region):
        return region, "the region parameter"
    if from_env := setting(None, "OCI_REGION", env):
        return from_env, "OCI_REGION"
    if is_set(profile_region):
        return profile_region, f"profile {profile!r}" if profile else "the profile"
    return None, "the default"


def mock_token_delay(env: Mapping[str, str] | None = None) -> float | None:
    """$LOCUS_NB_MOCK_TOKEN_DELAY: the embedded mock's seconds between tokens (None: unset, the mock's own pace)."""
    source = os.environ if env is None else env
    value = source.get(MOCK_TOKEN_DELAY)
    if not is_set(value):
        return None
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{MOCK_TOKEN_DELAY} must be a number of seconds (e.g. 0.03, or 0 for full speed); "
                          f"got {value!r}") from None


def clear_environment(environ: MutableMapping[str, str] | None = None) -> None:
    """Remove every connection variable (default: from `os.environ`): kernels started afterwards use the mock."""
    target = os.environ if environ is None else environ
    for name in ENV_VARS:
        target.pop(name, None)


# What `set_mode` and `batch_kernel` change for the kernels started afterwards (`kept_as_it_was` gives them back).
KERNEL_VARS = ("LOCUS_NB_MODE", "LOCUS_NB_CASSETTE", "JPY_SESSION_NAME")


def set_mode(mode: str, cassette: str | os.PathLike[str] | None = None,
             environ: MutableMapping[str, str] | None = None) -> None:
    """Set the run mode kernels started afterwards get: `record`/`replay` with their cassette, or `live` (unset both)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    target = os.environ if environ is None else environ
    if mode == "live":
        target.pop("LOCUS_NB_MODE", None)
        target.pop("LOCUS_NB_CASSETTE", None)
        return
    if cassette is None:
        raise ValueError(f"mode {mode!r} needs a cassette")
    target["LOCUS_NB_MODE"] = mode
    target["LOCUS_NB_CASSETTE"] = os.fspath(cassette)


def in_jupyter_server(env: Mapping[str, str] | None = None) -> bool:
    """True in a kernel a Jupyter server started (it sets JPY_SESSION_NAME); False under papermill and nbval."""
    source = os.environ if env is None else env
    return bool(source.get("JPY_SESSION_NAME"))


def ask_for_mock(environ: MutableMapping[str, str] | None = None) -> None:
    """Kernels started afterwards ask for the embedded mock (LOCUS_NB_TARGET=mock): `locus-nb run --mock`."""
    target = os.environ if environ is None else environ
    target["LOCUS_NB_TARGET"] = MOCK_TARGET


def batch_kernel(environ: MutableMapping[str, str] | None = None) -> None:
    """Kernels started afterwards are papermill's, never a Jupyter server's (a `locus-nb run` worker), even
    when the command was typed in a notebook's `!` shell, whose environment carries JPY_SESSION_NAME."""
    target = os.environ if environ is None else environ
    target.pop("JPY_SESSION_NAME", None)


@contextmanager
def kept_as_it_was(names: tuple[str, ...], environ: MutableMapping[str, str] | None = None) -> Iterator[None]:
    """Inside: change `names` freely (`set_mode`, `batch_kernel`); after: each is back as it was, set or unset."""
    target = os.environ if environ is None else environ
    saved = {name: target.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
