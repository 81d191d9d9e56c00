"""What a stream or an agent run yields: small dataclasses with a literal `kind`."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal

from ._messages import ModelResponse, ToolCall

__all__ = ["AgentEvent", "ModelChunkEvent", "TerminateEvent", "ToolCallEvent", "ToolResultEvent"]


@dataclass(frozen=True)
class ModelChunkEvent:
    """One piece of a model's answer. The last one has `done=True` and carries the whole `response`."""

    content: str | None = None
    tool_calls: list[ToolCall] | None = None
    done: bool = False
    response: ModelResponse | None = None
    reasoning: str | None = None  # reasoning summary text, when the model sends one
    kind: Literal["model_chunk"] = "model_chunk"


@dataclass(frozen=True)
class ToolCallEvent:
    tool_call: ToolCall
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True)
class ToolResultEvent:
    tool_call: ToolCall
    result: str
    is_error: bool = False
    kind: Literal["tool_result"] = "tool_result"


@dataclass(frozen=True)
class TerminateEvent:
    final_message: str
    iterations_used: int
    total_tool_calls: int
    reason: Literal["completed", "max_iterations", "incomplete"] = "completed"
    usage: dict[str, Any] = field(default_factory=dict)
    kind: Literal["terminate"] = "terminate"


AgentEvent = ModelChunkEvent | ToolCallEvent | ToolResultEvent | TerminateEvent


def done_chunk(response: ModelResponse) -> ModelChunkEvent:
    """The last chunk of a turn: `done`, the whole `response`, and its reasoning summary if any."""
    return ModelChunkEvent(done=True, response=response, reasoning=response.reasoning_summary or None)


# -- the hot path of a stream (issue 5) ---------------------------------------------------------

_CHUNK_DEFAULTS = {f.name: f.default for f in fields(ModelChunkEvent)}
assert MISSING not in _CHUNK_DEFAULTS.values(), "text_chunk() needs every ModelChunkEvent field to have a default"


def text_chunk(content: str) -> ModelChunkEvent:
    """`ModelChunkEvent(content=…)` at half the cost; a stream makes one per token.

    A frozen dataclass's `__init__` sets each field through `object.__setattr__`; filling the
    instance's dict directly gives the same object (equal, same repr, still frozen).
    """
    event = object.__new__(ModelChunkEvent)
    event.__dict__.update(_CHUNK_DEFAULTS, content=content)
    return event
