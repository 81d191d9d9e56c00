"""The model families the mock serves, each with the parameter rules and defaults of the real one.

The families themselves — which ids belong to each, and whether it reasons by default, only when
asked, or never (so whether a turn produces a reasoning item, and reasoning tokens in `usage`) —
are `locus_nb._families`, the table the client reads too. `FAMILIES` here gives each one its
rules: what `check_parameters` refuses (`temperature`/`top_p` or logprobs on a reasoning model, an
effort the model does not offer, `reasoning` on a model that does not reason) and what the Response
echoes in `reasoning` and `top_p` when the request leaves them out. The README's list is rendered
from it (`python -m locus_nb.mock._readme`).

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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .. import _families as families
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
    """A family of `locus_nb._families` (its ids, when it reasons) with the parameter rules of the real one."""

    base: families.Family
    efforts: tuple[str, ...] = ()  # the `reasoning.effort` values it takes; () refuses `reasoning`
    default_effort: str | None = None  # echoed in `reasoning.effort` when the request gives none
    top_p: float = 1.0  # echoed when the request gives none
    source: str = ""

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def examples(self) -> tuple[str, ...]:
        return self.base.examples

    @property
    def thinks_by_default(self) -> bool:
        """A reasoning item (and reasoning tokens) when no effort is given."""
        return self.base.reasoning == "by default"

    @property
    def sampling(self) -> Sampling:
        """When `temperature`/`top_p` are taken: always, only with effort "none", or never."""
        if not self.base.refuses_sampling:
            return "always"
        return "effort_none" if "none" in self.efforts else "never"

    def sampling_allowed(self, effort: str | None) -> bool:
        """`temperature`/`top_p` are taken at this effort (None: the request gave none)."""
        if self.sampling == "effort_none":
            return (effort or self.default_effort) == "none"
        return self.sampling == "always"


_GPT5 = ("minimal", "low", "medium", "high")
_OPT_IN = ("none", "low", "medium", "high", "xhigh")
_LOW_TO_HIGH = ("low", "medium", "high")
_BASE = {f.name: f for f in families.FAMILIES}

# One entry per family, in the order of `locus_nb._families.FAMILIES` (the tests check both).
FAMILIES: tuple[Family, ...] = (
    # -- OpenAI ---------------------------------------------------------------------------------
    Family(_BASE["gpt-5-chat"],
           source=f"{_PYDANTIC_AI}: gpt-5-chat-latest doesn't reason; Laisky/one-api#120 (reasoning.effort 400)"),
    Family(_BASE["gpt-5-pro"], efforts=("high",), default_effort="high", source=_EFFORT_REFERENCE),
    # minimal is left out for codex models: not documented for them (refusing is the safe side)
    Family(_BASE["gpt-5-codex"], efforts=_LOW_TO_HIGH, default_effort="medium", source=_PYDANTIC_AI),
    Family(_BASE["gpt-5"], efforts=_GPT5, default_effort="medium",
           source=f"{_EFFORT_REFERENCE}; stream_reasoning_encrypted_function_call_gpt5.sse"),
    # The chat variants reason at a fixed medium and take no other effort, not even "none".
    Family(_BASE["gpt-5.1/5.2/5.3-chat"], efforts=("medium",), default_effort="medium", source=_PYDANTIC_AI),
    Family(_BASE["gpt-5.x-codex"], efforts=_LOW_TO_HIGH, default_effort="medium", source=_PYDANTIC_AI),
    Family(_BASE["gpt-5.x-pro"], efforts=("medium", "high", "xhigh"), default_effort="medium",
           source=f"{_PYDANTIC_AI}: the -pro variants cannot turn reasoning off"),
    # openai/openai-agents-python#2089: "'minimal' is not supported with the 'gpt-5.1' model.
    # Supported values are: 'none', 'low', 'medium', and 'high'."
    Family(_BASE["gpt-5.1"], efforts=("none", "low", "medium", "high"), default_effort="none",
           source=f"{_EFFORT_REFERENCE}; openai/openai-agents-python#2089"),
    Family(_BASE["gpt-5.2 to gpt-5.4"], efforts=_OPT_IN, default_effort="none", top_p=0.98,
           source=f"{_PYDANTIC_AI}; stream_text_gpt52.sse"),
    Family(_BASE["gpt-5.5 and later"], efforts=_OPT_IN, default_effort="medium", top_p=0.98,
           source=f"{_PYDANTIC_AI}; stream_reasoning_commentary_function_call_gpt55.sse"),
    Family(_BASE["gpt-6"], efforts=("low", "medium", "high", "xhigh"), default_effort="medium",
           source=f"{_PYDANTIC_AI}: gpt-6-astra reasons by default and does not accept effort none"),
    Family(_BASE["o-series"], efforts=_LOW_TO_HIGH, default_effort="medium",
           source=f"{_PYDANTIC_AI}; stream_reasoning_summary_o3mini.sse"),
    # Open weights (OCI: "designed for powerful reasoning"); efforts low/medium/high as in its model card.
    Family(_BASE["gpt-oss"], efforts=_LOW_TO_HIGH, default_effort="medium",
           source="https://docs.oracle.com/iaas/Content/generative-ai/openai-gpt-oss-120b.htm"),
    Family(_BASE["gpt-4.1, gpt-4o and other OpenAI ids"],
           source="BoundaryML/baml#2708 (gpt-4.1: reasoning.effort 400)"),
    # -- other vendors ------------------------------------------------------------------------------
    Family(_BASE["grok non-reasoning"], source="https://docs.x.ai/guides/reasoning"),
    Family(_BASE["grok reasoning"],
           source="Google Cloud, Grok reasoning: 'Grok reasoning models don't support reasoning_effort'"),
    Family(_BASE["llama"]),
    Family(_BASE["command"]),
    Family(_BASE["gemini"]),
    Family(_BASE["any other id"]),
)
_BY_NAME = {f.name: f for f in FAMILIES}


def family_of(model: str) -> Family:
    """The id's family (`locus_nb._families.family_of`: `openai.` optional, a fine-tune is its base), with its rules."""
    return _BY_NAME[families.family_of(model).name]


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
