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

`connect(env=…)` reads them from `env` (default: `os.environ`) and hands every value down, so a
model it makes never looks here. A model made directly falls back on the few above, through
`setting()`, only for a value it was not given. Nothing else in the package reads them:
`ENV_VARS` is the list `locus-nb run --mock` and the test session clear.

A value counts as unset when it is None, empty, or papermill's "None"/"null" (any case).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["ENV_VARS", "choose_region", "clear_environment", "is_set", "read_environment", "setting"]

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
)
_UNSET = {"", "none", "null"}


def is_set(value: Any) -> bool:
    """False for None, "" and papermill's "None"/"null"; True for anything else (False and 0 too)."""
    return value is not None and not (isinstance(value, str) and value.strip().lower() in _UNSET)


def read_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The connection variables that are set, from `env` (default: `os.environ`)."""
    source = os.environ if env is None else env
    return {name: value for name in ENV_VARS if is_set(value := source.get(name))}


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


def clear_environment(environ: MutableMapping[str, str] | None = None) -> None:
    """Remove every connection variable (default: from `os.environ`): kernels started afterwards use the mock."""
    target = os.environ if environ is None else environ
    for name in ENV_VARS:
        target.pop(name, None)
