"""The caller's arguments to a turn, checked before anything is sent: a `ConfigError` says what to pass instead of a
400 from the server. What is checked is what the Responses endpoint would refuse, or silently misread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import ConfigError
from ._messages import Message

__all__ = ["OPTIONS", "check_conversation", "check_metadata", "checked_options", "continuation"]

# Request fields a caller may pass through as keyword options.
OPTIONS = frozenset({"max_output_tokens", "temperature", "top_p", "reasoning", "text", "metadata", "tool_choice",
                     "parallel_tool_calls", "include", "truncation", "user", "service_tier", "prompt_cache_key",
                     "safety_identifier"})
_INSTRUCTION_ROLES = ("system", "developer")
_TOOL_CHOICES = ("auto", "none", "required")


def continuation(provider_state: Any) -> tuple[str, str] | None:
    """What to continue from, out of the `provider_state` a reply (or a `Conversation`) gave: `("previous_response_id",
    "resp_…")`, `("conversation", "conv_…")`, or None. Both at once are refused, as the endpoint does (400)."""
    if provider_state is None:
        return None
    if not isinstance(provider_state, Mapping):
        raise ConfigError("provider_state must be the dict a reply gave (reply.provider_state), e.g. "
                          f"{{'previous_response_id': 'resp_…'}}; got {type(provider_state).__name__}")
    given = [(k, provider_state[k]) for k in ("previous_response_id", "conversation") if provider_state.get(k)]
    if len(given) > 1:
        raise ConfigError("provider_state names both a previous_response_id and a conversation; a turn continues from "
                          "one: pass the conversation's provider_state (the conversation holds every turn) or the reply's")
    for name, value in given:
        if not isinstance(value, str):
            what = "a response id (a str, resp_…)" if name == "previous_response_id" else "a conversation id (conv_…)"
            raise ConfigError(f"provider_state[{name!r}] must be {what}; got {type(value).__name__}")
    return given[0] if given else None


def check_conversation(messages: Any) -> None:
    """A list of `Message`s with something for the model to answer, or a ConfigError saying what to pass."""
    if isinstance(messages, str | Message | Mapping) or not isinstance(messages, Sequence):
        raise ConfigError("messages must be a list of Message, e.g. [Message.user('Hi')]; "
                          f"got {type(messages).__name__}")
    for index, msg in enumerate(messages):
        if not isinstance(msg, Message):
            raise ConfigError(f"messages[{index}] is {type(msg).__name__} {msg!r:.60}, not a Message; "
                              "build it with Message.user(…), Message.system(…), …")
    if not any(m.role not in _INSTRUCTION_ROLES for m in messages):
        what = "no messages" if not messages else "only system/developer instructions"
        raise ConfigError(f"nothing for the model to answer: {what}; add Message.user(…)")


def checked_options(options: dict[str, Any], *, tools: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The caller's keyword options, validated, without Nones, in wire form."""
    options = {k: v for k, v in options.items() if v is not None}
    if "max_tokens" in options:  # the Chat Completions name; the Responses API answers 400 to it
        options["max_output_tokens"] = options.pop("max_tokens")
    if "background" in options:  # a queued reply has no text yet: it is not what complete() returns
        raise ConfigError("to run a turn in the background use `handle = await model.start(messages)`, then "
                          "`await model.wait(handle)`; or stream it: model.stream(messages, background=True)")
    if "response_format" in options:  # Chat Completions again; Responses answers 400 (moved to text.format)
        raise ConfigError("response_format is the Chat Completions option; on the Responses API pass "
                          "text={'format': {'type': 'json_schema', 'name': …, 'schema': {…}, 'strict': True}}")
    if unknown := set(options) - OPTIONS:
        raise ConfigError(f"unknown request option(s): {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(OPTIONS))}")
    tokens = options.get("max_output_tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1):
        raise ConfigError(f"max_output_tokens must be a positive integer (the endpoint's minimum is 16); "
                          f"got {tokens!r}")
    for name, high in (("temperature", 2.0), ("top_p", 1.0)):
        value = options.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not 0 <= value <= high):
            raise ConfigError(f"{name} must be a number from 0 to {high:g}; got {value!r}")
    for name, check in (("reasoning", _check_reasoning), ("metadata", check_metadata), ("text", _check_text)):
        if name in options:  # (the Nones are gone already)
            check(options[name])
    if "parallel_tool_calls" in options and not isinstance(options["parallel_tool_calls"], bool):
        raise ConfigError(f"parallel_tool_calls must be True or False; got {options['parallel_tool_calls']!r}")
    if "tool_choice" in options:
        options["tool_choice"] = _tool_choice(options["tool_choice"], tools)
    return options


def _check_reasoning(reasoning: Any) -> None:
    if not isinstance(reasoning, Mapping) or not all(isinstance(k, str) and (v is None or isinstance(v, str))
                                                     for k, v in reasoning.items()):
        raise ConfigError("reasoning must be a dict of strings, e.g. {'effort': 'low', 'summary': 'auto'}; "
                          f"got {reasoning!r}")


def check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, Mapping) or len(metadata) > 16:
        raise ConfigError("metadata must be a dict of at most 16 string keys and string values")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str) or len(key) > 64 or len(value) > 512:
            raise ConfigError(f"metadata[{key!r}]: keys must be strings of at most 64 characters and values "
                              "strings of at most 512")


def _check_text(text: Any) -> None:
    fmt = text.get("format") if isinstance(text, Mapping) else None
    if not isinstance(text, Mapping) or (fmt is not None and not isinstance(fmt, Mapping)):
        raise ConfigError("text must be a dict like {'format': {'type': 'json_schema', 'name': …, 'schema': {…}}}")
    if fmt is not None and fmt.get("type") == "json_schema":
        if not fmt.get("name") or not isinstance(fmt.get("schema"), Mapping):
            raise ConfigError("text.format json_schema needs a 'name' and a 'schema' dict (and usually 'strict': True)")


def _tool_choice(choice: Any, tools: Sequence[Mapping[str, Any]]) -> Any:
    """'auto'/'none'/'required', a wire dict, or the name of one of the offered tools."""
    if isinstance(choice, Mapping) or choice in _TOOL_CHOICES:
        return choice
    names = [t.get("name") for t in tools]
    if isinstance(choice, str) and choice in names:
        return {"type": "function", "name": choice}
    offered = f" (tools offered: {', '.join(map(str, names))})" if names else " (no tools offered)"
    raise ConfigError(f"tool_choice must be one of {', '.join(_TOOL_CHOICES)}, a tool's name or a dict; "
                      f"got {choice!r}{offered}")
