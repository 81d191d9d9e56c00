"""Tokens a run used, summed over its responses, and what they cost with a price table (`--prices FILE`).

Where the counts come from: the run's cassette when it has one (record and replay runs: every response
body is in it, so a replay reports the recorded usage), else the usage log its kernel wrote
(`locus_nb.notebook._usage`: one JSON line per response, for live runs). Either way the counts are the
responses' own `usage` objects — `input_tokens`, `input_tokens_details.cached_tokens`, `output_tokens`,
`output_tokens_details.reasoning_tokens`, `total_tokens` (the Responses API's usage, as OCI returns it,
read by the client's own `_wire.usage_from`) — each response counted once by its id (a background
response polled five times is one response), and `requests` the model requests sent (`POST …/responses`,
retries and refused ones included).

Prices: a YAML or JSON mapping of model id or glob pattern (`openai.gpt-4.1*`) to USD per million
`input`, `cached` (cached input; default: the input price) and `output` tokens; the first pattern that
matches a model id prices it. Reasoning tokens are output tokens (already in `output_tokens`). Without a
table, tokens only: no price is ever assumed.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from .._messages import Usage as Tokens
from .._sse import response_in_event
from .._wire import usage_from

__all__ = ["COUNTS", "Prices", "Usage", "load_prices", "total", "usage_in_cassette", "usage_in_log"]

COUNTS = ("requests", "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens")


@dataclass(frozen=True, kw_only=True)
class Usage(Tokens):
    """One model's tokens in one run (or summed over runs): the client's `Usage`, with whose and how many requests."""

    model: str = ""
    """The model id the requests named (`openai.gpt-4.1`); "" for a sum over models."""
    requests: int = 0
    """Model requests sent (`POST …/responses`)."""

    def __add__(self, other: Tokens) -> Usage:
        summed = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(Tokens)}
        return Usage(model=self.model if self.model == getattr(other, "model", self.model) else "",
                     requests=self.requests + getattr(other, "requests", 0), **summed)

    def as_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def total(usages: Iterable[Usage]) -> Usage:
    """The sum over models and runs (model "")."""
    summed = Usage()
    for usage in usages:
        summed = replace(summed + usage, model="")
    return summed


def _tokens(usage: Mapping[str, Any]) -> Tokens:
    """The Responses API's `usage` read as the client reads it (`_wire.usage_from`)."""
    try:
        return usage_from(usage)
    except (TypeError, ValueError):  # not numbers: counted as none rather than guessed
        return Tokens()


def _by_model(responses: Mapping[str, dict[str, Any]], requests: Mapping[str, int]) -> tuple[Usage, ...]:
    """Per model: the responses' usage summed, with the requests sent for that model."""
    by_model = {model: Usage(model=model, requests=n) for model, n in requests.items()}
    for response in responses.values():
        model = str(response.get("model") or "")
        by_model[model] = by_model.get(model, Usage(model=model)) + _tokens(response.get("usage") or {})
    return tuple(by_model[model] for model in sorted(by_model))


def usage_in_cassette(path: str | Path) -> tuple[Usage, ...]:
    """A cassette's usage per model (see the module doc); () when there is no such file."""
    from .._cassette import load_cassette

    if not Path(path).is_file():
        return ()
    responses: dict[str, dict[str, Any]] = {}
    requests: dict[str, int] = {}
    for exchange in load_cassette(path).exchanges:
        body = exchange.request.get("body")
        if exchange.request.get("method") == "POST" and exchange.request.get("path", "").endswith("/responses"):
            model = str(body.get("model") or "") if isinstance(body, dict) else ""
            requests[model] = requests.get(model, 0) + 1
        found = [response_in_event(e.get("event", "")) for e in exchange.events]
        if isinstance(exchange.response.get("json"), dict):
            found.append(exchange.response["json"])
        for response in found:
            if response and response.get("object") == "response" and response.get("usage") and response.get("id"):
                responses[response["id"]] = response
    return _by_model(responses, requests)


def usage_in_log(path: str | Path) -> tuple[Usage, ...]:
    """A kernel's usage log (`locus_nb.notebook._usage`): one JSON object a line, `request` (its model) or
    `response` (id, model, usage); () when the kernel wrote none."""
    responses: dict[str, dict[str, Any]] = {}
    requests: dict[str, int] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ()
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:  # a line cut short by a dying kernel
            continue
        if entry.get("kind") == "request":
            requests[str(entry.get("model") or "")] = requests.get(str(entry.get("model") or ""), 0) + 1
        elif entry.get("kind") == "response" and entry.get("id"):
            responses[entry["id"]] = entry
    return _by_model(responses, requests)


@dataclass(frozen=True)
class Price:
    """USD per million tokens for the models one pattern matches."""

    pattern: str
    """A model id or glob pattern (`openai.gpt-4.1*`)."""
    input: float
    """Per million input tokens that were not cached."""
    cached: float
    """Per million cached input tokens."""
    output: float
    """Per million output tokens (reasoning included)."""

    def cost(self, usage: Usage) -> float:
        fresh = usage.input_tokens - usage.cached_tokens
        return (fresh * self.input + usage.cached_tokens * self.cached + usage.output_tokens * self.output) / 1e6


@dataclass(frozen=True)
class Prices:
    """A price table: the first pattern that matches a model id prices it."""

    source: str
    """The file it came from (named in the summary)."""
    prices: tuple[Price, ...]
    """In the file's order."""

    def price(self, model: str) -> Price | None:
        return next((p for p in self.prices if fnmatch.fnmatchcase(model, p.pattern)), None)

    def cost(self, usages: Iterable[Usage]) -> tuple[float, list[str]]:
        """USD for these usages, and the model ids the table has no price for (their cost is not counted)."""
        cost, unpriced = 0.0, []
        for usage in usages:
            price = self.price(usage.model)
            if price is not None:
                cost += price.cost(usage)
            elif usage.input_tokens or usage.output_tokens:
                unpriced.append(usage.model or "(unnamed model)")
        return cost, unpriced


def load_prices(path: str | Path) -> Prices:
    """Read a YAML (`.yaml`/`.yml`) or JSON price table; a `ConfigError` saying what is wrong otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--prices {path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    if Path(path).suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            table = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"--prices {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    else:
        try:
            table = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"--prices {path}: not valid JSON ({exc}); a .yaml/.yml file is read as YAML") from None
    return Prices(str(path), tuple(_price(path, pattern, entry) for pattern, entry in _entries(path, table)))


def _entries(path: str | Path, table: Any) -> list[tuple[str, Any]]:
    table = table.get("models", table) if isinstance(table, dict) else table
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"--prices {path}: expected a mapping of model id or pattern to {{input, cached, output}} "
                          "(USD per million tokens), e.g. {\"openai.gpt-4.1\": {\"input\": 2, \"output\": 8}}")
    return list(table.items())


def _price(path: str | Path, pattern: str, entry: Any) -> Price:
    def number(name: str, default: Any = None) -> float:
        value = entry.get(name, default) if isinstance(entry, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"--prices {path}: {pattern!r} needs {name} as a number of USD per million tokens "
                              f"(≥ 0); got {value!r}")
        return float(value)
    base = number("input")
    return Price(str(pattern), base, number("cached", base), number("output"))
