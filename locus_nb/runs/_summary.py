"""A run's reports: `SUMMARY.md` for people, `summary.json` for machines, `junit.xml` for CI (`_junit`).

`summary.json`:

    {"summary": 1, "runs": 8, "ok": 8, "failed": 0, "retried": 0, "seconds": 41.2, "workers": 2,
     "shard": "1/2" or null, "targets": ["OCI Generative AI in us-chicago-1 with profile 'DEFAULT'", …],
     "usage": {"model": "", "requests": …, "input_tokens": …, "cached_tokens": …, "output_tokens": …,
               "reasoning_tokens": …, "total_tokens": …},
     "usage_by_model": [{"model": "openai.gpt-4.1", …}],
     "cost": null, or {"usd": 0.0123, "prices": "prices.yaml", "unpriced": ["model ids without a price"]},
     "results": [one record per run: `_results.to_json`]}

`locus-nb summary DIR… --out DIR` reads the shards' summary.json files back (`read_results`) and writes
all three reports for the whole matrix (`write_reports`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._errors import ConfigError
from ..notebook._claims import Claims
from ._junit import junit_xml
from ._matrix import describe
from ._results import RunResult, error_name, from_json, to_json
from ._usage import COUNTS, Prices, Usage, total

__all__ = ["SUMMARY_JSON", "read_results", "summary_json", "summary_markdown", "write_reports"]

SUMMARY_JSON = "summary.json"
FORMAT = 1


def _claims_cell(claims: Claims) -> str:
    if not claims.stated:
        return "—"
    return f"{len(claims.held)} held" + (f", **{len(claims.failed)} failed**" if claims.failed else "")


def _target(result: RunResult) -> str:
    """The setup cell's own words (a record or replay run's name its cassette)."""
    return result.target.replace("|", "/") or "(no setup line)"


def _status(result: RunResult) -> str:
    status = "ok" if result.ok else f"**FAILED** — {result.error.replace('|', '/')}"
    if result.retried:
        names = ", ".join(error_name(e) or "error" for e in result.retried)
        status += f" (attempt {len(result.retried) + 1}; retried after {names})"
    return status


def summary_markdown(results: Sequence[RunResult], *, seconds: float, workers: int, relative_to: Path,
                     prices: Prices | None = None) -> str:
    """A one-page markdown summary: per notebook and parameter set, ok/failed, claims, seconds; the tokens
    each used (and their cost, with a price table); then every claim each run stated, held (✓) or failed (✗)."""
    failed = [r for r in results if not r.ok]
    notebooks = len({r.notebook for r in results})
    sets = len({describe(r.parameters) for r in results})
    lines = [
        "# Notebook runs",
        "",
        f"{notebooks} notebook(s) × {sets} parameter set(s) = {len(results)} run(s) on {workers} worker(s): "
        f"**{len(results) - len(failed)} ok, {len(failed)} failed** in {seconds:.1f} s."
        + "".join(f" The {e} edition: {_EDITION_RULE[e]}." for e in sorted({r.edition for r in results} - {"learner"})
                  if e in _EDITION_RULE),
        "",
        "| notebook | parameters | target | result | claims | seconds | executed notebook |",
        "|---|---|---|---|---|---:|---|",
    ]
    for r in results:
        link = quote(Path(os.path.relpath(r.output, relative_to)).as_posix())  # `#`, spaces: still a link
        lines.append(f"| {Path(r.notebook).stem} | {describe(r.parameters)} | {_target(r)} | {_status(r)} | "
                     f"{_claims_cell(r.claims)} | {r.seconds:.1f} | [{Path(r.output).name}]({link}) |")
    return "\n".join(lines + _usage_section(results, prices) + _claims_section(results) + _exercise_section(results))


def _usage_row(name: str, usage: Usage, cost: str | None) -> str:
    counts = " | ".join(f"{getattr(usage, c):,}" for c in COUNTS)
    return f"| {name} | {counts} |" + (f" {cost} |" if cost is not None else "")


def _usage_section(results: Sequence[RunResult], prices: Prices | None) -> list[str]:
    head = "| run | requests | input tokens | cached input | output tokens | reasoning |"
    lines = ["", "## Tokens" + (f" and cost (USD, prices from {Path(prices.source).name})" if prices else ""), "",
             head + (" cost (USD) |" if prices else ""), "|---" * (6 + bool(prices)) + "|"]
    def cost(usages: Sequence[Usage]) -> str | None:
        if prices is None:
            return None
        usd, unpriced = prices.cost(usages)
        return f"{usd:.4f}" + (f" (no price for {', '.join(sorted(set(unpriced)))})" if unpriced else "")
    for r in results:
        lines.append(_usage_row(r.name, total(r.usage), cost(r.usage)))
    every = [u for r in results for u in r.usage]
    lines.append(_usage_row("**total**", total(every), cost(every)))
    if not any(u.requests for u in every):
        lines += ["", "No model request was seen (no cassette or usage log had one)."]
    return lines


def _claims_section(results: Sequence[RunResult]) -> list[str]:
    lines = ["", "## Lesson claims", ""]
    for r in results:
        edition = "" if r.edition == "learner" else f" · {r.edition} edition"
        lines.append(f"**{Path(r.notebook).stem}** · {describe(r.parameters)}{edition}")
        lines.append("")
        lines += [f"- {'✓' if ok else '✗'} {claim}" for ok, claim in r.claims.stated] or ["- (no claims stated)"]
        lines.append("")
    return lines


_EDITION_RULE = {
    "learner": "as committed, so an exercise not done yet is not a failure of the lesson",
    "instructor": "each exercise run with its solution, so a ✗ fails the run",
}


def _exercise_section(results: Sequence[RunResult]) -> list[str]:
    """Each run's exercises ✓/✗, apart from the claims: what a ✗ means depends on the run's edition."""
    lines = []
    for r in (r for r in results if r.exercises):
        lines += [f"**{r.name}** · {r.edition} edition, {_EDITION_RULE.get(r.edition, '')}", ""]
        lines += [f"- {'✓' if e.done else '✗'} {e.name}" + ("" if e.done else f" — {e.says or 'not done yet'}")
                  for e in r.exercises]
        lines.append("")
    return ["## Exercises", "", *lines] if lines else []


def summary_json(results: Sequence[RunResult], *, seconds: float, workers: int, relative_to: Path,
                 prices: Prices | None = None, shard: str | None = None) -> dict[str, Any]:
    """The same facts for machines (see the module doc)."""
    every = [u for r in results for u in r.usage]
    by_model: dict[str, Usage] = {}
    for usage in every:
        by_model[usage.model] = by_model[usage.model] + usage if usage.model in by_model else usage
    cost = None
    if prices is not None:
        usd, unpriced = prices.cost(every)
        cost = {"usd": round(usd, 6), "prices": Path(prices.source).name, "unpriced": sorted(set(unpriced))}
    return {"summary": FORMAT, "runs": len(results), "ok": sum(r.ok for r in results),
            "failed": sum(not r.ok for r in results), "retried": sum(bool(r.retried) for r in results),
            "seconds": round(seconds, 2), "workers": workers, "shard": shard,
            "targets": sorted({r.target for r in results if r.target}),
            "usage": total(every).as_json(), "usage_by_model": [by_model[m].as_json() for m in sorted(by_model)],
            "cost": cost, "results": [to_json(r, relative_to) for r in results]}


def write_reports(results: Sequence[RunResult], out: Path, *, seconds: float, workers: int, junit: Path | None = None,
                  prices: Prices | None = None, shard: str | None = None) -> str:
    """SUMMARY.md, summary.json and junit.xml (or `junit`) for these runs; returns SUMMARY.md's text."""
    out.mkdir(parents=True, exist_ok=True)
    text = summary_markdown(results, seconds=seconds, workers=workers, relative_to=out, prices=prices)
    (out / "SUMMARY.md").write_text(text, encoding="utf-8")
    facts = summary_json(results, seconds=seconds, workers=workers, relative_to=out, prices=prices, shard=shard)
    (out / SUMMARY_JSON).write_text(json.dumps(facts, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    junit = junit or out / "junit.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.write_text(junit_xml(results, seconds=seconds, relative_to=junit.parent), encoding="utf-8")
    return text


def read_results(folder: Path) -> tuple[list[RunResult], dict[str, Any]]:
    """The runs a `locus-nb run` wrote into `folder` (its summary.json), and that file's other facts."""
    path = Path(folder) / SUMMARY_JSON
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__}); is {folder} the --out "
                          "of a `locus-nb run`?") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from None
    if facts.get("summary") != FORMAT:
        raise ConfigError(f"{path}: not a locus-nb summary (format {facts.get('summary')!r}, expected {FORMAT})")
    return [from_json(record, Path(folder)) for record in facts.get("results", ())], facts
