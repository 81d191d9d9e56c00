"""The model families the mock serves, each with the parameter rules and defaults of the real one.

`FAMILIES` is the one table. A request's model id (`openai.gpt-5.2`, `gpt-5.2-2025-12-11`,
`xai.grok-4`, …) picks the first family whose vendor and pattern match; the family then decides
what `check_parameters` refuses (`temperature`/`top_p` or logprobs on a reasoning model, an effort
the model does not offer, `reasoning` on a model that does not reason), what the Response echoes in
`reasoning` and `top_p` when the request leaves them out, and whether the turn produces a
reasoning item (and so reasoning tokens in `usage`). The README's list is rendered from it
(`python -m locus_nb.mock._readme`).

Sources, by rule:
- OpenAI families, reasoning on/off by default, `effort: "none"` and sampling parameters:
  pydantic-ai's model profile matrix, "verified against the live Responses API (2026-07)"
  (pydantic/pydantic-ai `pydantic_ai_slim/pydantic_ai/profiles/openai.py`, `_REASONING_SUPPORT_BY_PREFIX`),
  and OpenAI's `ReasoningEffort` reference ("gpt-5.1 defaults to none … All models before gpt-5.1
  default to medium reasoning effort, and do not support none. The gpt-5-pro model defaults to
  (and only supports) high"; quoted in openai-python's and Azure's generated docs).
- Recorded defaults: `stream_text_gpt52.sse` (reasoning omitted → `effort: "none"`, no reasoning
  item, `top_p: 0.98`), `stream_reasoning_commentary_function_call_gpt55.sse` (omitted → `medium`,
  a reasoning item, `top_p: 0.98`), `stream_reasoning_encrypted_function_call_gpt5.sse`.
- The 400 wordings: see `sampling_refused`, `effort_refused`, `effort_unsupported` below.
- xAI: "Grok reasoning models don't support `reasoning_effort`" (Google Cloud's partner-model
  page for Grok, https://docs.cloud.google.com/vertex-ai/generative-ai/docs/partner-models/grok/capabilities/reasoning);
  they reason and return encrypted reasoning on the Responses API (https://docs.x.ai/guides/reasoning).
- Meta, Cohere, Google and anything else: no OCI documentation of `reasoning` for them on this
  endpoint was found, so the mock refuses it plainly instead of guessing (what the mock accepts,
  OCI must accept).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import APIError, bad_request
from ._format import listing

__all__ = ["FAMILIES", "LOGPROBS", "Family", "check_parameters", "family_of", "thinks"]

SAMPLING = ("temperature", "top_p")
LOGPROBS = "message.output_text.logprobs"  # an `include` entry: refused with reasoning on, like sampling
Sampling = Literal["always", "effort_none", "never"]

_PYDANTIC_AI = "pydantic-ai profiles/openai.py (live-verified 2026-07)"
_EFFORT_REFERENCE = "OpenAI ReasoningEffort reference"


@dataclass(frozen=True)
class Family:
    name: str  # as the README lists it
    vendor: str  # the OCI prefix: openai, xai, meta, cohere, google; "*" for any
    pattern: str  # regex, matched at the start of the id without its vendor prefix
    examples: tuple[str, ...]  # ids of this family (the tests run every one)
    efforts: tuple[str, ...] = ()  # the `reasoning.effort` values it takes; () refuses `reasoning`
    default_effort: str | None = None  # echoed in `reasoning.effort` when the request gives none
    thinks_by_default: bool = False  # a reasoning item (and reasoning tokens) when no effort is given
    # When `temperature`/`top_p` are taken: always, only with effort "none", or never.
    sampling: Sampling = "always"
    top_p: float = 1.0  # echoed when the request gives none
    source: str = ""

    @property
    def reasons(self) -> bool:
        """It can produce reasoning items (by default, or when asked with an effort)."""
        return self.thinks_by_default or any(e != "none" for e in self.efforts)

    def sampling_allowed(self, effort: str | None) -> bool:
        """`temperature`/`top_p` are taken at this effort (None: the request gave none)."""
        if self.sampling == "effort_none":
            return (effort or self.default_effort) == "none"
        return self.sampling == "always"


_GPT5 = ("minimal", "low", "medium", "high")
_OPT_IN = ("none", "low", "medium", "high", "xhigh")

FAMILIES: tuple[Family, ...] = (
    # -- OpenAI, most specific first ------------------------------------------------------------
    Family("gpt-5-chat", "openai", r"gpt-5-chat", ("openai.gpt-5-chat-latest",),
           source=f"{_PYDANTIC_AI}: gpt-5-chat-latest doesn't reason; Laisky/one-api#120 (reasoning.effort 400)"),
    Family("gpt-5-pro", "openai", r"gpt-5-pro", ("openai.gpt-5-pro",), efforts=("high",), default_effort="high",
           thinks_by_default=True, sampling="never", source=_EFFORT_REFERENCE),
    # minimal is left out for codex models: not documented for them (refusing is the safe side)
    Family("gpt-5-codex", "openai", r"gpt-5-codex", ("openai.gpt-5-codex",), efforts=("low", "medium", "high"),
           default_effort="medium", thinks_by_default=True, sampling="never", source=_PYDANTIC_AI),
    Family("gpt-5", "openai", r"gpt-5(?:$|-)", ("openai.gpt-5", "gpt-5-mini", "openai.gpt-5-nano", "gpt-5-2025-08-07"),
           efforts=_GPT5, default_effort="medium", thinks_by_default=True, sampling="never",
           source=f"{_EFFORT_REFERENCE}; stream_reasoning_encrypted_function_call_gpt5.sse"),
    # The chat variants reason at a fixed medium and take no other effort, not even "none".
    Family("gpt-5.1/5.2/5.3-chat", "openai", r"gpt-5\.[123]-chat", ("openai.gpt-5.1-chat-latest", "gpt-5.2-chat-latest"),
           efforts=("medium",), default_effort="medium", thinks_by_default=True, sampling="never", source=_PYDANTIC_AI),
    Family("gpt-5.1-codex", "openai", r"gpt-5\.1-codex", ("openai.gpt-5.1-codex", "gpt-5.1-codex-max"),
           efforts=("low", "medium", "high"), default_effort="medium", thinks_by_default=True, sampling="never",
           source=_PYDANTIC_AI),
    Family("gpt-5.x-pro", "openai", r"gpt-5\.\d+-pro", ("openai.gpt-5.2-pro", "gpt-5.5-pro"),
           efforts=("medium", "high", "xhigh"), default_effort="medium", thinks_by_default=True, sampling="never",
           source=f"{_PYDANTIC_AI}: the -pro variants cannot turn reasoning off"),
    # openai/openai-agents-python#2089: "'minimal' is not supported with the 'gpt-5.1' model.
    # Supported values are: 'none', 'low', 'medium', and 'high'."
    Family("gpt-5.1", "openai", r"gpt-5\.1(?:$|-)", ("openai.gpt-5.1", "gpt-5.1-2025-11-13"),
           efforts=("none", "low", "medium", "high"), default_effort="none", sampling="effort_none",
           source=f"{_EFFORT_REFERENCE}; openai/openai-agents-python#2089"),
    Family("gpt-5.2 to gpt-5.4", "openai", r"gpt-5\.[234](?:$|-)", ("openai.gpt-5.2", "gpt-5.2-2025-12-11", "openai.gpt-5.4"),
           efforts=_OPT_IN, default_effort="none", sampling="effort_none", top_p=0.98,
           source=f"{_PYDANTIC_AI}; stream_text_gpt52.sse"),
    Family("gpt-5.5 and later", "openai", r"gpt-5\.(?:[5-9]|\d\d)(?:$|-)", ("openai.gpt-5.5", "gpt-5.5-2026-04-23", "openai.gpt-5.6"),
           efforts=_OPT_IN, default_effort="medium", thinks_by_default=True, sampling="effort_none", top_p=0.98,
           source=f"{_PYDANTIC_AI}; stream_reasoning_commentary_function_call_gpt55.sse"),
    Family("gpt-6", "openai", r"gpt-6(?:$|[-.])", ("openai.gpt-6-astra",),
           efforts=("low", "medium", "high", "xhigh"), default_effort="medium", thinks_by_default=True, sampling="never",
           source=f"{_PYDANTIC_AI}: gpt-6-astra reasons by default and does not accept effort none"),
    Family("o-series", "openai", r"o\d+(?:$|-)", ("openai.o3", "o3-mini", "openai.o4-mini", "o1"),
           efforts=("low", "medium", "high"), default_effort="medium", thinks_by_default=True, sampling="never",
           source=f"{_PYDANTIC_AI}; stream_reasoning_summary_o3mini.sse"),
    # Open weights (OCI: "designed for powerful reasoning"); efforts low/medium/high as in its model card.
    Family("gpt-oss", "openai", r"gpt-oss-", ("openai.gpt-oss-120b", "openai.gpt-oss-20b"),
           efforts=("low", "medium", "high"), default_effort="medium", thinks_by_default=True,
           source="https://docs.oracle.com/iaas/Content/generative-ai/openai-gpt-oss-120b.htm"),
    Family("gpt-4.1, gpt-4o and other OpenAI ids", "openai", r"", ("openai.gpt-4.1", "gpt-4o", "gpt-4.1-mini"),
           source="BoundaryML/baml#2708 (gpt-4.1: reasoning.effort 400)"),
    # -- other vendors ------------------------------------------------------------------------------
    Family("grok non-reasoning", "xai", r"grok-(?:2|3(?!-mini))|.*non-reasoning",
           ("xai.grok-3", "xai.grok-4-1-fast-non-reasoning"), source="https://docs.x.ai/guides/reasoning"),
    Family("grok reasoning", "xai", r"grok-", ("xai.grok-4", "xai.grok-4-1-fast-reasoning", "xai.grok-3-mini"),
           thinks_by_default=True, source="Google Cloud, Grok reasoning: 'Grok reasoning models don't support reasoning_effort'"),
    Family("llama", "meta", r"", ("meta.llama-3.3-70b-instruct", "meta.llama-4-maverick-17b-128e-instruct-fp8")),
    Family("command", "cohere", r"", ("cohere.command-a-03-2025",)),
    Family("gemini", "google", r"", ("google.gemini-2.5-pro", "google.gemini-2.5-flash")),
    Family("any other id", "*", r"", ("mistral.mistral-large",)),
)

_OCI_ID = re.compile(r"^([a-z]+)\.(.+)$")


@functools.lru_cache(maxsize=256)  # a request asks twice, and a run keeps to a few ids
def family_of(model: str) -> Family:
    """The first family that matches the id (`openai.` optional; `ft:base:org::id` is its base)."""
    oci = _OCI_ID.match(model)
    vendor, name = (oci[1], oci[2]) if oci else ("openai", model)
    if name.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
    return next(f for f in FAMILIES if f.vendor in (vendor, "*") and re.match(f.pattern, name))


# -- the real 400s ----------------------------------------------------------------------------------


def sampling_refused(name: str) -> APIError:
    """`temperature`/`top_p` on a reasoning model. The real message names the parameter, not the
    model: "Unsupported parameter: 'temperature' is not supported with this model." (o3-mini:
    appatalks/eva-agent#83; gpt-5 on the Responses API: OpenHands/software-agent-sdk#992)."""
    return bad_request(f"Unsupported parameter: '{name}' is not supported with this model.",
                       param=name, code="unsupported_parameter")


def effort_refused(name: str = "reasoning.effort") -> APIError:
    """`reasoning` on a model without it: "Unsupported parameter: 'reasoning.effort' is not supported
    with this model." (gpt-4.1: BoundaryML/baml#2708; gpt-5-chat: Laisky/one-api#120)."""
    return bad_request(f"Unsupported parameter: '{name}' is not supported with this model.",
                       param=name, code="unsupported_parameter")


def effort_unsupported(effort: str, model: str, family: Family) -> APIError:
    """An effort the model does not offer: "Unsupported value: 'minimal' is not supported with the
    'gpt-5.1' model. Supported values are: 'none', 'low', 'medium', and 'high'." (param
    `reasoning.effort`, code `unsupported_value`: openai/openai-agents-python#2089, anomalyco/opencode#4451)."""
    return bad_request(f"Unsupported value: '{effort}' is not supported with the '{model}' model. "
                       f"Supported values are: {listing(list(family.efforts))}.", param="reasoning.effort",
                       code="unsupported_value")


def logprobs_refused() -> APIError:
    """`include: ["message.output_text.logprobs"]` while the model reasons: "logprobs are not supported
    with reasoning models." (param `include`; gpt-5-mini on api.openai.com, vllm-project/vllm#23319)."""
    return bad_request("logprobs are not supported with reasoning models.", param="include",
                       code="unsupported_parameter")


def check_parameters(body: Mapping[str, Any]) -> Family:
    """The request's family, if its reasoning and sampling settings are ones the real model takes."""
    family = family_of(body["model"])
    reasoning = body.get("reasoning") or {}
    effort = reasoning.get("effort")
    if effort is not None and not family.efforts:
        raise effort_refused()
    if effort is not None and effort not in family.efforts:
        raise effort_unsupported(effort, body["model"], family)
    if not family.efforts:
        for key, value in reasoning.items():
            if value is not None:
                raise effort_refused(f"reasoning.{key}")
    for name in SAMPLING:
        if body.get(name) is not None and not family.sampling_allowed(effort):
            raise sampling_refused(name)
    if LOGPROBS in (body.get("include") or ()) and not family.sampling_allowed(effort):
        raise logprobs_refused()
    return family


def thinks(family: Family, reasoning: Mapping[str, Any] | None) -> tuple[bool, bool]:
    """(a reasoning item, with a summary) for this family and the request's `reasoning`."""
    reasoning = reasoning or {}
    effort = reasoning.get("effort")
    on = family.thinks_by_default if effort is None else effort != "none"
    return on, on and (reasoning.get("summary") or reasoning.get("generate_summary")) is not None
