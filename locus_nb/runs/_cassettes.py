"""Which cassettes a run records and replays: each carries the parameter set that made it.

A record run adds `parameters` to each cassette's header after its kernel is done: the run's
parameter set without those that only say where to connect (`_matrix.CONNECTION_PARAMETERS`).
`--replay DIR` then replays, for each notebook, every cassette recorded for it (`NAME.jsonl`,
`NAME.<parameters>.jsonl`) with those parameters — nothing needs repeating, and a port, profile or
OCID the recording used never has to exist again. `-p`/`--store` with `--replay` pick the recorded
sets that match. A cassette from before `parameters` existed is matched on its recorded connection
(store, model id, region) and replayed with no parameters: `connect()` takes them from the recording.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._cassette import CASSETTE_SUFFIX
from .._errors import ConfigError
from ._matrix import describe, what_is_tested

__all__ = ["cassette_path", "note_parameters", "recorded", "replayed_sets"]


def cassette_path(folder: Path, output: str | Path) -> Path:
    """A run's cassette: named after its executed notebook (`01_stateless.store-False.jsonl`), as nbval's
    `--replay-cassettes` finds it."""
    return Path(folder) / (Path(output).stem + CASSETTE_SUFFIX)


def _header(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as lines:
        return json.loads(lines.readline() or "{}")


def note_parameters(cassette: Path, params: dict[str, Any]) -> None:
    """Write the parameters that made `cassette` into its header (nothing when the run wrote no cassette)."""
    if not cassette.is_file():
        return
    first, _, rest = cassette.read_text(encoding="utf-8").partition("\n")
    header = json.loads(first)
    header["parameters"] = what_is_tested(params)
    cassette.write_text(json.dumps(header, ensure_ascii=False) + "\n" + rest, encoding="utf-8")


def recorded(folder: Path, notebook: Path) -> list[tuple[Path, dict[str, Any] | None]]:
    """Every cassette recorded for `notebook` in `folder`, by name, with its parameters (None: not noted)."""
    found = [Path(folder) / (notebook.stem + CASSETTE_SUFFIX), *Path(folder).glob(f"{notebook.stem}.*{CASSETTE_SUFFIX}")]
    runs = []
    for path in sorted({p for p in found if p.is_file()}):
        try:
            header = _header(path)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read cassette {path}: {type(exc).__name__}; record it again") from None
        params = header.get("parameters")
        runs.append((path, dict(params) if isinstance(params, dict) else None))
    return runs


def _matches(path: Path, params: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    known = params if params is not None else (_header(path).get("connection") or {})
    return all(str(known.get(k)).lower() == str(v).lower() for k, v in what_is_tested(wanted).items())


def replayed_sets(folder: Path, notebook: Path, wanted: Sequence[dict[str, Any]]) -> list[tuple[Path, dict[str, Any]]]:
    """The cassettes to replay for `notebook` and the parameters to replay each with: every one recorded, or those
    matching a `wanted` set (`-p`/`--store`; connection parameters are ignored). Nothing found: a `ConfigError`
    that lists what `folder` holds."""
    every = recorded(folder, notebook)
    chosen = [(path, params or {}) for path, params in every
              if not any(what_is_tested(w) for w in wanted) or any(_matches(path, params, w) for w in wanted)]
    if chosen:
        return chosen
    held = sorted(p.name for p in Path(folder).glob(f"*{CASSETTE_SUFFIX}")) if Path(folder).is_dir() else []
    there = ", ".join(held[:12]) + (f", … ({len(held)} in all)" if len(held) > 12 else "") if held else "nothing"
    asked = "" if not every else f" matching {' or '.join(describe(what_is_tested(w)) for w in wanted)}"
    raise ConfigError(f"no cassette for {notebook.name}{asked} in {folder} (it holds: {there}); record it with "
                      f"`locus-nb run --record {folder}`")
