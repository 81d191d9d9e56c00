"""What a stream or an agent run yields: small dataclasses with a literal `kind`."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Literal

from ._messages import ModelResponse, ToolCall, Usage

__all__ = ["AgentEvent", "ModelChunkEvent", "TerminateEvent", "ToolCallEvent", "ToolResultEvent"]


@dataclass(frozen=True, kw_only=True)
class ModelChunkEvent:
    """One piece of a model's answer. The last one has `done=True` and carries the whole `response`."""

    content: str | None = None
    """A piece of the answer's text, as it arrived."""
    tool_calls: list[ToolCall] | None = None
    """Tool calls the model has finished asking for, each with its name, call id and all its arguments
    (one per chunk when streamed)."""
    done: bool = False
    """True on the last chunk of a turn, and only there."""
    response: ModelResponse | None = None
    """On the last chunk: the whole reply (text, calls, usage, `provider_state`)."""
    reasoning: str | None = None
    """On the last chunk: the reasoning summary, when the model sent one."""
    kind: Literal["model_chunk"] = "model_chunk"
    """What kind of event this is (a tag to match on)."""


@dataclass(frozen=True)
class ToolCallEvent:
    """The agent is about to run a tool the model called (after the before-hook had its say)."""

    tool_call: ToolCall
    """The call as it will run."""
    _: KW_ONLY
    kind: Literal["tool_call"] = "tool_call"
    """What kind of event this is (a tag to match on)."""


@dataclass(frozen=True)
class ToolResultEvent:
    """What a tool call gave back, as the model will see it."""

    tool_call: ToolCall
    """The call this answers."""
    result: str
    """The text sent back to the model."""
    _: KW_ONLY
    is_error: bool = False
    """True when the result reports a failure (unknown tool, bad arguments, the tool raised, a veto)."""
    kind: Literal["tool_result"] = "tool_result"
    """What kind of event this is (a tag to match on)."""


@dataclass(frozen=True)
class TerminateEvent:
    """The last event of an agent run."""

    final_message: str
    """The answer: the last reply's text (after max_iterations, every text said along the way)."""
    iterations_used: int
    """How many model calls the run made."""
    total_tool_calls: int
    """How many tool calls the model asked for, in all."""
    _: KW_ONLY
    reason: Literal["completed", "max_iterations", "incomplete"] = "completed"
    """Why the run ended: an answer without calls, the iteration limit, or an answer cut short."""
    usage: Usage = Usage()
    """The tokens of every model call of the run, added up."""
    kind: Literal["terminate"] = "terminate"
    """What kind of event this is (a tag to match on)."""


AgentEvent = ModelChunkEvent | ToolCallEvent | ToolResultEvent | TerminateEvent


def done_chunk(response: ModelResponse) -> ModelChunkEvent:
    """The last chunk of a turn: `done`, the whole `response`, and its reasoning summary if any."""
    return ModelChunkEvent(done=True, response=response, reasoning=response.reasoning_summary or None)

