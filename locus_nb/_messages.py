"""Conversation values: what goes into a model call and what comes out. No HTTP here."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field, fields
from typing import Any, Literal, get_args

from ._errors import ConfigError

__all__ = ["ROLES", "Message", "ModelResponse", "Role", "ToolCall", "Usage"]

Role = Literal["system", "developer", "user", "assistant", "tool"]
ROLES: tuple[str, ...] = get_args(Role)
# Roles whose content may be a list of content parts (input_text, input_image, input_file, …) as
# well as text: what the Responses API takes in an input message or a function_call_output.
PART_ROLES = ("user", "developer", "tool")


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
    """Who speaks: `system` (sent as the request's `instructions`), `developer` (instructions sent as
    an input item), `user`, `assistant` or `tool`."""
    content: str | tuple[dict[str, Any], ...] = ""
    """The text of the turn (for a `tool` message: the tool's result); for `user`, `developer` and `tool` also a list
    of content parts (`{"type": "input_text", "text": …}`, `input_image`, …), kept as a tuple."""
    tool_calls: tuple[ToolCall, ...] = ()
    """The calls an `assistant` turn asked for."""
    _: KW_ONLY
    tool_call_id: str | None = None
    """For a `tool` message: the `ToolCall.id` it answers."""
    provider_items: tuple[dict[str, Any], ...] = ()
    """Output items the model produced that are not text or calls (reasoning with its
    `encrypted_content`), replayed verbatim in stateless mode."""

    def __post_init__(self) -> None:
        # Checked here, where the message is made: a role or content the wire cannot carry would
        # otherwise be dropped silently when the request is built.
        if self.role not in ROLES:
            raise ConfigError(_role_problem(self.role))
        if not isinstance(self.content, str):
            object.__setattr__(self, "content", _content_parts(self.role, self.content))
        if not isinstance(self.tool_calls, tuple):
            object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        for call in self.tool_calls:
            if not isinstance(call, ToolCall):
                raise ConfigError(f"Message tool_calls must be ToolCall values; got {type(call).__name__} {call!r:.60}")
        if self.tool_calls and self.role != "assistant":
            raise ConfigError(f"only an assistant message carries tool_calls (this one is {self.role!r}); "
                              "answer a call with Message.tool(call.id, result)")

    @classmethod
    def system(cls, content: str) -> Message:
        return cls("system", content)

    @classmethod
    def developer(cls, content: str | list[dict[str, Any]]) -> Message:
        """Instructions as an input item (`role: developer`): kept in a stored conversation, unlike
        `system` (sent as `instructions`, every turn)."""
        return cls("developer", content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: list[ToolCall] | tuple[ToolCall, ...] = ()) -> Message:
        return cls("assistant", content, tuple(tool_calls))

    @classmethod
    def tool(cls, tool_call_id: str, content: str) -> Message:
        return cls("tool", content, tool_call_id=tool_call_id)


def _role_problem(role: Any) -> str:
    choices = ", ".join(repr(r) for r in ROLES)
    if isinstance(role, str) and (fix := role.strip().lower()) in ROLES:
        return f"Message role {role!r}: roles are lower-case; use {fix!r} (or Message.{fix}(…))"
    close = difflib.get_close_matches(role, ROLES, n=1) if isinstance(role, str) else []
    hint = f"did you mean {close[0]!r} (Message.{close[0]}(…))? " if close else ""
    return (f"Message role {role!r} is not one of {choices}; "
            f"{hint}build messages with Message.user(…), Message.system(…), …")


def _content_parts(role: str, content: Any) -> tuple[dict[str, Any], ...]:
    """Content that is not text: a list of content parts, for the roles that take them."""
    wanted = ("Message content must be text (a str) or a list of content parts (dicts with a 'type', e.g. "
              "{'type': 'input_text', 'text': '…'})")
    if isinstance(content, list | tuple):
        if role not in PART_ROLES:
            raise ConfigError(f"a {role} message's content must be text (a str); content parts go in "
                              f"{' / '.join(f'Message.{r}(…)' for r in PART_ROLES)}")
        for index, part in enumerate(content):
            if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
                raise ConfigError(f"{wanted}; part {index} is {type(part).__name__} {part!r:.60}")
        return tuple(dict(part) for part in content)
    fix = " (str(value) for a number)" if isinstance(content, int | float) else ""
    raise ConfigError(f"{wanted}; got {type(content).__name__} {content!r:.60}{fix}")


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

    @property
    def reported(self) -> bool:
        """False when the server counted nothing (all zero, or no `usage`: Llama Stack, some gateways): the counts
        are then unknown, not zero, since a real reply reads some input. Show them as not reported, never as free."""
        return bool(self.input_tokens or self.output_tokens or self.total_tokens)

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
    when store=True (`{"conversation": …}` for a turn on a conversation), else `{}`."""
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
