"""`--shard K/N`: the K-th of N slices of a run's matrix (every notebook × every parameter set), and
`locus-nb summary`'s merge of the slices' reports back into one.

Slices are dealt round-robin over the matrix in its fixed order (notebooks by name, then parameter sets
as `-p`/`--store` list them, or as recorded for a replay): run i goes to slice i mod N. So every run is in
exactly one slice, slice sizes differ by at most one, and a lesson's parameter sets are spread over the
slices rather than all landing on one machine. The same command on every machine gives the same slices.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from .._errors import ConfigError
from ._results import RunResult
from ._summary import read_results

__all__ = ["merge_results", "parse_shard", "shard_of"]

T = TypeVar("T")
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """`2/4` → (2, 4); a `ConfigError` for anything but 1 ≤ K ≤ N."""
    match = _SHARD.match(text or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ConfigError(f"--shard takes K/N with 1 ≤ K ≤ N (the K-th of N slices), e.g. 1/4; got {text!r}")
    return int(match.group(1)), int(match.group(2))


def shard_of(matrix: Sequence[T], k: int, n: int) -> list[T]:
    """The runs of slice `k` of `n` (1-based), in matrix order (see the module doc)."""
    return [run for i, run in enumerate(matrix) if i % n == k - 1]


def _check_slices(found: dict[str, list[Path]], folders: Sequence[Path]) -> None:
    """Shards of one run: each slice once, all of the same N, none missing."""
    named = {s: f for s, fs in found.items() for f in fs if s}
    twice = [f"{s} ({', '.join(map(str, fs))})" for s, fs in found.items() if s and len(fs) > 1]
    if twice:
        raise ConfigError(f"the same shard in several folders: {'; '.join(twice)}")
    totals = {int(s.split("/")[1]) for s in named}
    if len(totals) > 1:
        raise ConfigError(f"shards of different runs (of {', '.join(map(str, sorted(totals)))} slices): "
                          f"{', '.join(map(str, folders))}")
    if totals and (missing := [f"{k}/{n}" for n in totals for k in range(1, n + 1) if f"{k}/{n}" not in named]):
        raise ConfigError(f"shard(s) {', '.join(missing)} missing: merge the folders of every slice")


def merge_results(folders: Sequence[Path]) -> tuple[list[RunResult], dict[str, Any]]:
    """Every run the folders' summary.json files hold, in matrix order (notebook, then test name), and the merged
    facts (`seconds`: the longest slice's, as they ran side by side; `workers`: their sum)."""
    results: list[RunResult] = []
    found: dict[str, list[Path]] = {}
    seconds, workers = 0.0, 0
    seen: dict[str, Path] = {}
    for folder in folders:
        runs, facts = read_results(Path(folder))
        found.setdefault(facts.get("shard") or "", []).append(Path(folder))
        seconds, workers = max(seconds, float(facts.get("seconds", 0))), workers + int(facts.get("workers", 1))
        for run in runs:
            if run.name in seen:
                raise ConfigError(f"{run.name} is in both {seen[run.name]} and {folder}: merge each run once")
            seen[run.name] = Path(folder)
            results.append(run)
    _check_slices(found, folders)
    results.sort(key=lambda r: (Path(r.notebook).stem, r.name))
    return results, {"seconds": seconds, "workers": workers}
