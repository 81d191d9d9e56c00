"""Conversation values: what goes into a model call and what comes out. No HTTP here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Message", "ModelResponse", "Role", "ToolCall", "Usage"]

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asked for. `id` is the wire `call_id` (``call_…``)."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    # The raw JSON string the model produced; kept so a replay is byte-identical
    # and so invalid JSON can be reported back to the model instead of guessed at.
    raw_arguments: str | None = None


@dataclass(frozen=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    # Output items the model produced that are not text or calls (reasoning with
    # encrypted_content), replayed verbatim in stateless mode.
    provider_items: tuple[dict[str, Any], ...] = ()

    @classmethod
    def system(cls, content: str) -> Message:
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: list[ToolCall] | tuple[ToolCall, ...] = ()) -> Message:
        return cls("assistant", content, tuple(tool_calls))

    @classmethod
    def tool(cls, tool_call_id: str, content: str) -> Message:
        return cls("tool", content, tool_call_id=tool_call_id)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class ModelResponse:
    message: Message
    provider_state: dict[str, Any]
    usage: Usage = Usage()
    response_id: str | None = None
    status: str = "completed"
    incomplete_reason: str | None = None
    reasoning_summary: str = ""

    @property
    def text(self) -> str:
        return self.message.content
