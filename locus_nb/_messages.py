"""Conversation values: what goes into a model call and what comes out. No HTTP here."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field, fields
from typing import Any, Literal

__all__ = ["Message", "ModelResponse", "Role", "ToolCall", "Usage"]

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asked for."""

    id: str
    """The wire `call_id` (`call_…`): the tool's result answers it."""
    name: str
    """The name of the tool to call."""
    arguments: dict[str, Any] = field(default_factory=dict)
    """The arguments, parsed; empty when the model's JSON was invalid or not an object."""
    _: KW_ONLY
    raw_arguments: str | None = None
    """The raw JSON string the model produced: kept so a replay is byte-identical and so invalid
    JSON can be reported back to the model instead of guessed at."""


@dataclass(frozen=True)
class Message:
    """One turn of the conversation. Build them with `Message.system/user/assistant/tool(…)`."""

    role: Role
    """Who speaks: `system` (sent as the request's `instructions`), `user`, `assistant` or `tool`."""
    content: str = ""
    """The text of the turn (for a `tool` message: the tool's result)."""
    tool_calls: tuple[ToolCall, ...] = ()
    """The calls an `assistant` turn asked for."""
    _: KW_ONLY
    tool_call_id: str | None = None
    """For a `tool` message: the `ToolCall.id` it answers."""
    provider_items: tuple[dict[str, Any], ...] = ()
    """Output items the model produced that are not text or calls (reasoning with its
    `encrypted_content`), replayed verbatim in stateless mode."""

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


@dataclass(frozen=True, kw_only=True)
class Usage:
    """Tokens a response (or, added up, a whole agent run) consumed: `usage_a + usage_b`."""

    input_tokens: int = 0
    """Tokens read: the instructions, the input items and, chained by id, the stored conversation."""
    output_tokens: int = 0
    """Tokens written, reasoning included."""
    total_tokens: int = 0
    """`input_tokens + output_tokens`, as the server counts them."""
    cached_tokens: int = 0
    """The part of `input_tokens` served from the prompt cache."""
    reasoning_tokens: int = 0
    """The part of `output_tokens` spent on reasoning (not shown as text)."""

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


@dataclass(frozen=True)
class ModelResponse:
    """One whole reply of the model: a non-streamed one, or what a stream added up to."""

    message: Message
    """The assistant turn: its text, its tool calls and what must be replayed of it."""
    provider_state: dict[str, Any]
    """What to pass to the next call to continue on the server: `{"previous_response_id": …}`
    when store=True, else `{}`."""
    _: KW_ONLY
    usage: Usage = Usage()
    """The tokens this reply consumed."""
    response_id: str | None = None
    """The server's id for this response (`resp_…`)."""
    status: str = "completed"
    """`completed`, or `incomplete` when the answer was cut short (see `incomplete_reason`)."""
    incomplete_reason: str | None = None
    """Why an incomplete answer stopped, e.g. `max_output_tokens`."""
    reasoning_summary: str = ""
    """The reasoning summary, when the model sent one (parts separated by a blank line)."""

    @property
    def text(self) -> str:
        return self.message.content
