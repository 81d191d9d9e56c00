"""The connection variables, the one place that reads them from the environment, and the one precedence rule:
a value given (a parameter, an argument) → its variable → the OCI profile's own (the region) → the default.

`connect(env=…)` reads them from `env` (default: `os.environ`) and hands every value down, so a
model it makes never looks here. A model made directly falls back on OCI_REGION, OCI_COMPARTMENT,
OCI_CONFIG_FILE and (auth="bearer") OCI_GENAI_API_KEY, only for a value it was not given; `locus-nb
doctor` reads them as `connect()` does. All three go through `resolve()`. Nothing else in the package
reads them; `runs/_kernels.py` sets them for the kernels a run starts.
A value counts as unset when it is None, empty, or papermill's "None"/"null" (any case).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import ConfigError

__all__ = ["ENV_VARS", "MOCK_TARGET", "MODES", "TARGET_VARS", "VARIABLES", "Setting", "empty_variables",
           "in_jupyter_server", "is_set", "mock_token_delay", "read_environment", "resolve"]

# Each setting's variable (the setting's name is `connect()`'s parameter).
VARIABLES = {
    "profile": "OCI_PROFILE",
    "region": "OCI_REGION",
    "compartment": "OCI_COMPARTMENT",
    "store": "OCI_RESPONSES_STORE",
    "model_id": "LOCUS_NB_MODEL",
    "endpoint": "LOCUS_NB_ENDPOINT",
    "project": "OCI_GENAI_PROJECT",
    "config_file": "OCI_CONFIG_FILE",
    "api_key": "OCI_GENAI_API_KEY",
    "mode": "LOCUS_NB_MODE",  # `record` or `replay` (unset: live)
    "cassette": "LOCUS_NB_CASSETTE",  # the cassette file a record/replay run writes/reads
    "target": "LOCUS_NB_TARGET",  # `mock` asks for the embedded mock (`locus-nb run --mock`, the test session)
    "usage_log": "LOCUS_NB_USAGE_LOG",  # a live run's log of each response's usage (notebook/_usage.py)
}
ENV_VARS = tuple(VARIABLES.values())
# The variables that choose a target: present but empty (a CI secret that is not set) is a mistake, not "unset".
TARGET_VARS = ("OCI_PROFILE", "OCI_GENAI_API_KEY", "LOCUS_NB_ENDPOINT")
MOCK_TARGET = "mock"  # LOCUS_NB_TARGET=mock, or the endpoint parameter / LOCUS_NB_ENDPOINT set to "mock"
MODES = ("live", "record", "replay")
# Not a connection variable (kept by `run --mock`, which `make notebooks` sets to 0): the embedded mock's pace.
MOCK_TOKEN_DELAY = "LOCUS_NB_MOCK_TOKEN_DELAY"
_UNSET = {"", "none", "null"}


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    """`env`, or (None) this process's environment: every function here takes one to read."""
    return os.environ if env is None else env


def is_set(value: Any) -> bool:
    """False for None, "" and papermill's "None"/"null"; True for anything else (False and 0 too)."""
    return value is not None and not (isinstance(value, str) and value.strip().lower() in _UNSET)


def read_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The connection variables that are set, from `env` (default: `os.environ`)."""
    return {name: value for name in ENV_VARS if is_set(value := _environ(env).get(name))}


def empty_variables(names: tuple[str, ...], env: Mapping[str, str] | None = None) -> list[str]:
    """Those of `names` present in `env` (default: `os.environ`) but unset: empty, blank, "None"/"null"."""
    source = _environ(env)
    return [name for name in names if name in source and not is_set(source.get(name))]


@dataclass(frozen=True)
class Setting:
    """A setting's value and what set it, in the words the setup cell uses: "the region parameter",
    "OCI_REGION", "profile 'DEFAULT'", "the default"."""

    value: Any
    source: str


def resolve(name: str, given: Any = None, *, env: Mapping[str, str] | None = None,
            profile: Mapping[str, Any] | None = None, default: Any = None, given_as: str | None = None) -> Setting:
    """The setting `name` (a key of `VARIABLES`): `given` when set, else its variable from `env` (default:
    `os.environ`, read only when `given` is unset), else `profile`'s own value (a profile as `load_profile`
    returns it), else `default`. `given_as` is how `source` names the given value (default "the <name> parameter")."""
    if is_set(given):
        return Setting(given, given_as or f"the {name} parameter")
    variable = VARIABLES[name]
    if is_set(value := _environ(env).get(variable)):
        return Setting(value, variable)
    if profile is not None and is_set(value := profile.get(name)):
        return Setting(value, f"profile {profile['_profile']!r}" if profile.get("_profile") else "the profile")
    return Setting(default, "the default")


def mock_token_delay(env: Mapping[str, str] | None = None) -> float | None:
    """$LOCUS_NB_MOCK_TOKEN_DELAY: the embedded mock's seconds between tokens (None: unset, the mock's own pace)."""
    value = _environ(env).get(MOCK_TOKEN_DELAY)
    if not is_set(value):
        return None
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{MOCK_TOKEN_DELAY} must be a number of seconds (e.g. 0.03, or 0 for full speed); "
                          f"got {value!r}") from None


def in_jupyter_server(env: Mapping[str, str] | None = None) -> bool:
    """True in a kernel a Jupyter server started (it sets JPY_SESSION_NAME); False under papermill and nbval."""
    return bool(_environ(env).get("JPY_SESSION_NAME"))
