"""Model families: which ids belong together, and when each one reasons. One table for the client (`_wire` drops
`temperature`/`top_p` where the endpoint would refuse them) and for the mock, which keys each family's parameter rules
on it (efforts, defaults and sources: `locus_nb/mock/_models.py`). An id (`openai.gpt-5.2`, `gpt-5.2-2025-12-11`,
`xai.grok-4`, `ft:gpt-4.1:org::id`) belongs to the first family whose vendor and pattern match.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["FAMILIES", "Family", "family_of", "is_reasoning_model", "reasons_only_when_asked"]

Reasoning = Literal["by default", "when asked", "never"]


@dataclass(frozen=True)
class Family:
    name: str  # as the README lists it
    vendor: str  # the OCI prefix: openai, xai, meta, cohere, google; "*" for any
    pattern: str  # regex, matched at the start of the id without its vendor prefix
    examples: tuple[str, ...]  # ids of this family (the tests run every one)
    # A request that names no effort gets reasoning "by default", only "when asked" for it, or "never".
    reasoning: Reasoning = "never"
    # While it reasons, the endpoint refuses `temperature`/`top_p`: OpenAI's reasoning models do, gpt-oss and Grok not.
    refuses_sampling: bool = False


def _openai_reasoning(name: str, pattern: str, examples: tuple[str, ...],
                      reasoning: Reasoning = "by default") -> Family:
    return Family(name, "openai", pattern, examples, reasoning, refuses_sampling=True)


FAMILIES: tuple[Family, ...] = (
    # -- OpenAI, most specific first ------------------------------------------------------------
    Family("gpt-5-chat", "openai", r"gpt-5-chat", ("openai.gpt-5-chat-latest",)),
    _openai_reasoning("gpt-5-pro", r"gpt-5-pro", ("openai.gpt-5-pro",)),
    _openai_reasoning("gpt-5-codex", r"gpt-5-codex", ("openai.gpt-5-codex",)),
    _openai_reasoning("gpt-5", r"gpt-5(?:$|-)",
                      ("openai.gpt-5", "gpt-5-mini", "openai.gpt-5-nano", "gpt-5-2025-08-07")),
    _openai_reasoning("gpt-5.1/5.2/5.3-chat", r"gpt-5\.[123]-chat",
                      ("openai.gpt-5.1-chat-latest", "gpt-5.2-chat-latest")),
    # Codex variants reason by default at every version (no "none"), unlike gpt-5.1 to 5.4 themselves.
    _openai_reasoning("gpt-5.x-codex", r"gpt-5\.\d+-codex",
                      ("openai.gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5.2-codex", "openai.gpt-5.3-codex")),
    _openai_reasoning("gpt-5.x-pro", r"gpt-5\.\d+-pro", ("openai.gpt-5.2-pro", "gpt-5.5-pro")),
    _openai_reasoning("gpt-5.1", r"gpt-5\.1(?:$|-)", ("openai.gpt-5.1", "gpt-5.1-2025-11-13"), "when asked"),
    _openai_reasoning("gpt-5.2 to gpt-5.4", r"gpt-5\.[234](?:$|-)",
                      ("openai.gpt-5.2", "gpt-5.2-2025-12-11", "openai.gpt-5.4"), "when asked"),
    _openai_reasoning("gpt-5.5 and later", r"gpt-5\.(?:[5-9]|\d\d)(?:$|-)",
                      ("openai.gpt-5.5", "gpt-5.5-2026-04-23", "openai.gpt-5.6")),
    _openai_reasoning("gpt-6", r"gpt-6(?:$|[-.])", ("openai.gpt-6-astra",)),
    # one digit: o1, o3, o4-mini (an `o10` would be some other model)
    _openai_reasoning("o-series", r"o\d(?:$|-)", ("openai.o3", "o3-mini", "openai.o4-mini", "o1")),
    Family("gpt-oss", "openai", r"gpt-oss-", ("openai.gpt-oss-120b", "openai.gpt-oss-20b"), "by default"),
    Family("gpt-4.1, gpt-4o and other OpenAI ids", "openai", r"", ("openai.gpt-4.1", "gpt-4o", "gpt-4.1-mini")),
    # -- other vendors ------------------------------------------------------------------------------
    Family("grok non-reasoning", "xai", r"grok-(?:2|3(?!-mini))|.*non-reasoning",
           ("xai.grok-3", "xai.grok-4-1-fast-non-reasoning")),
    Family("grok reasoning", "xai", r"grok-", ("xai.grok-4", "xai.grok-4-1-fast-reasoning", "xai.grok-3-mini"),
           "by default"),
    Family("llama", "meta", r"", ("meta.llama-3.3-70b-instruct", "meta.llama-4-maverick-17b-128e-instruct-fp8")),
    Family("command", "cohere", r"", ("cohere.command-a-03-2025",)),
    Family("gemini", "google", r"", ("google.gemini-2.5-pro", "google.gemini-2.5-flash")),
    Family("any other id", "*", r"", ("mistral.mistral-large",)),
)

_OCI_ID = re.compile(r"^([a-z]+)\.(.+)$")


@functools.lru_cache(maxsize=256)  # asked at every request, and a run keeps to a few ids
def family_of(model: str) -> Family:
    """The first family that matches the id (`openai.` optional; `ft:base:org::id` is its base)."""
    oci = _OCI_ID.match(model)
    vendor, name = (oci[1], oci[2]) if oci else ("openai", model)
    if name.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
    return next(f for f in FAMILIES if f.vendor in (vendor, "*") and re.match(f.pattern, name))


def is_reasoning_model(model: str) -> bool:
    """One of OpenAI's reasoning families, which refuse `temperature`/`top_p` while they reason (any case)."""
    return family_of(model.lower()).refuses_sampling


def reasons_only_when_asked(model: str) -> bool:
    """A reasoning model whose default effort is "none" (gpt-5.1 to gpt-5.4): off unless an effort is given."""
    return family_of(model.lower()).reasoning == "when asked"
