"""The matrix a run makes: `-p`/`--store` → parameter sets, and how each run is named and shown.

Parameters that only say where to connect (`CONNECTION_PARAMETERS`) say nothing about what a run
tests: file names leave them out when every set shares them (so no URL, port, OCID or profile is
part of an executed notebook's or a cassette's name), and test names (JUnit, summary.json) never
carry them, so a live run against OCI and a replay of its cassettes report the same tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from .._redact import mask_param
from ..notebook._params import slug

__all__ = ["CONNECTION_PARAMETERS", "STORE_CHOICES", "describe", "label", "naming_parameters", "output_name",
           "parameter_sets", "what_is_tested"]

STORE_CHOICES = {"false": [False], "true": [True], "both": [False, True]}
CONNECTION_PARAMETERS = ("endpoint", "profile", "region", "compartment", "project")
_MAX_SLUG = 80  # characters of parameters in a file name; a longer set is named by one hash


def parameter_sets(pairs: Sequence[str], store: str | None = None) -> list[dict[str, Any]]:
    """`-p name=value` pairs (a repeated name gives alternatives) and `--store` → every combination.

    Values from `-p` stay strings, as papermill's own `-p` gives them for most values; `connect()`
    parses them. `--store both` gives the booleans False and True.
    """
    choices: dict[str, list[Any]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ConfigError(f"-p takes name=value with a Python identifier as name; got {pair!r}")
        choices.setdefault(name, [])
        if value not in choices[name]:
            choices[name].append(value)
    if store is not None:
        if store.lower() not in STORE_CHOICES:
            raise ConfigError(f"--store takes one of {', '.join(STORE_CHOICES)}; got {store!r}")
        if "store" in choices:
            raise ConfigError("give store either as --store or as -p store=…, not both")
        choices["store"] = STORE_CHOICES[store.lower()]
    names = list(choices)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*choices.values())]


def describe(params: dict[str, Any]) -> str:
    """A parameter set as printed (stdout, SUMMARY.md): OCIDs and URL credentials masked (`mask_param`)."""
    return ", ".join(f"{k}={mask_param(k, v)}" for k, v in params.items()) or "(defaults)"


def what_is_tested(params: dict[str, Any]) -> dict[str, Any]:
    """A parameter set without the parameters that only say where to connect."""
    return {k: v for k, v in params.items() if k not in CONNECTION_PARAMETERS}


def label(notebook: str | Path, params: dict[str, Any]) -> str:
    """A run's stable test name: `02_stored[store=True]`, `01_stateless` (connection parameters left out)."""
    tested = what_is_tested(params)
    return Path(notebook).stem + (f"[{describe(tested)}]" if tested else "")


def naming_parameters(param_sets: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per set, the parameters its file names carry: all but the connection parameters every set shares."""
    shared = {k for k in CONNECTION_PARAMETERS if len({repr(p.get(k)) for p in param_sets}) == 1}
    return [{k: v for k, v in p.items() if k not in shared} for p in param_sets]


def output_name(notebook: Path, params: dict[str, Any], several: bool) -> str:
    """`01_stateless.ipynb`, or with several parameter sets `01_stateless.store-False.ipynb`.

    Short plain values name themselves; a long one, an OCID, a URL or a secret-looking one is
    named by 8 hex digits of its hash (`compartment-1a2b3c4d`): short, stable, and it shows nothing.
    """
    if not several or not params:
        return notebook.name
    name = ".".join(slug(k, v) for k, v in params.items())
    if len(name) > _MAX_SLUG:
        name = slug("params", repr(sorted((k, str(v)) for k, v in params.items())))
    return f"{notebook.stem}.{name}{notebook.suffix}"
