"""Pure translation between our values and the Responses wire format. No sockets.

- `build_request`: messages + options → request body (the store rules live here, nowhere else)
- `parse_response`: response JSON → `ModelResponse`
- `error_from_body`: an error reply → the typed error it means (in `_error_replies`, loaded at the first one)
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._errors import APIStatusError, ConfigError
from ._families import is_reasoning_model, reasons_only_when_asked
from ._messages import Message, ModelResponse, ToolCall, Usage
from ._options import check_conversation, checked_options, continuation

__all__ = ["arguments_problem", "build_request", "error_from_body", "failed_response_error",
           "is_reasoning_model", "item_problem", "json_type", "parse_response", "response_problem", "to_input_items"]

NO_CONVERSATION_STATELESS = ("a store=False model keeps nothing on the server, and a conversation keeps every turn "
                             "there; use a store=True model for it (not on a Zero Data Retention tenancy), or send the "
                             "history")

_SAMPLING = ("temperature", "top_p")


def _assistant_items(msg: Message, *, replay_provider_items: bool) -> list[dict[str, Any]]:
    if replay_provider_items and _replay_matches(msg):
        # Stateless reasoning: each reasoning item (with its encrypted_content) must be followed by
        # the very item it produced, named by its id, or the server answers 400 "… provided
        # without its required following item". So the model's output goes back as it came.
        return [dict(item) for item in msg.provider_items]
    text = [{"type": "output_text", "text": msg.content}]
    items: list[dict[str, Any]] = [{"type": "message", "role": "assistant", "content": text}] if msg.content else []
    for call in msg.tool_calls:
        # function_call before its function_call_output, or the server has no anchor (400).
        arguments = call.raw_arguments if call.raw_arguments is not None else json.dumps(call.arguments)
        items.append({"type": "function_call", "call_id": call.id, "name": call.name, "arguments": arguments})
    return items


def _replay_matches(msg: Message) -> bool:
    """True when `provider_items` still say what the message says (it was not edited since)."""
    text = "".join(_text_of(i.get("content")) for i in msg.provider_items if i.get("type") == "message")
    calls = [i.get("call_id") for i in msg.provider_items if i.get("type") == "function_call"]
    return bool(msg.provider_items) and text == msg.content and calls == [c.id for c in msg.tool_calls]


def _replay_items(output: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The output items to send back in a stateless next turn, in input shape: only needed (and
    only possible) when the output holds reasoning with its encrypted_content."""
    output = list(output)
    if not any(i.get("type") == "reasoning" and i.get("encrypted_content") for i in output):
        return ()
    replay: list[dict[str, Any]] = []
    for item in output:
        kind = item.get("type")
        if kind == "reasoning" and item.get("encrypted_content"):
            replay.append({k: item[k] for k in ("type", "id", "summary", "encrypted_content") if k in item})
        elif kind == "message":
            content = item.get("content") or ()
            texts = [content] if isinstance(content, str) else [
                _text_of([p]) for p in content if p.get("type") in ("output_text", "text")]
            parts = [{"type": "output_text", "text": text, "annotations": []} for text in texts]
            replay.append({"type": "message", "id": item.get("id"), "role": "assistant", "status": "completed",
                           "content": parts})
        elif kind == "function_call":
            replay.append({k: item[k] for k in ("type", "id", "call_id", "name", "arguments") if k in item})
    return tuple(replay)


def to_input_items(messages: Iterable[Message], *, replay_provider_items: bool = True) -> list[dict[str, Any]]:
    """Non-system messages as Responses input items, with no server item ids."""
    items: list[dict[str, Any]] = []
    for msg in messages:
        content = msg.content if isinstance(msg.content, str) else [dict(p) for p in msg.content]
        if msg.role in ("user", "developer"):  # text as one input_text part, or the parts given
            parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content
            items.append({"type": "message", "role": msg.role, "content": parts})
        elif msg.role == "assistant":
            items += _assistant_items(msg, replay_provider_items=replay_provider_items)
        elif msg.role == "tool":
            items.append({"type": "function_call_output", "call_id": msg.tool_call_id or "", "output": content})
    return items


def build_request(messages: Sequence[Message], *, model: str, store: bool,
                  provider_state: Mapping[str, Any] | None = None, tools: Sequence[Mapping[str, Any]] = (),
                  stream: bool = False, **options: Any) -> dict[str, Any]:
    """The request body for one turn.

    store=False: the full history every turn, `"store": false`, never `previous_response_id`.
    store=True: with a `previous_response_id` or a `conversation` (which holds every turn: OCI's Conversations API),
    only the messages after the last assistant turn; `instructions` every turn (the server does not carry them over).
    """
    check_conversation(messages)
    options = _without_sampling(checked_options(options, tools=tools), model)
    kind, previous = continuation(provider_state) or (None, None)  # (checked in both modes, used only with store)
    if kind == "conversation" and not store:
        raise ConfigError(NO_CONVERSATION_STATELESS)
    previous = previous if store else None
    system = [m.content for m in messages if m.role == "system" and m.content]
    last_answer = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=-1)
    turn = list(messages[last_answer + 1 :] if previous else messages)

    body: dict[str, Any] = {"model": model, "input": to_input_items(turn, replay_provider_items=not store)}
    if not body["input"]:  # e.g. store=True: nothing after the last assistant turn (a tool result would do)
        raise ConfigError("nothing new to send: no message after the model's last answer"
                          + (f" (the server continues from {previous})" if previous else "")
                          + "; add Message.user(…) or the tool results it asked for (Message.tool(call.id, result))")
    if system:
        body["instructions"] = "\n\n".join(system)
    body["store"] = store
    if previous:
        body[kind] = previous
    if tools:
        body["tools"] = [dict(t) for t in tools]
    if not store and (options.get("reasoning") or is_reasoning_model(model)):
        # Stateless reasoning needs the encrypted reasoning back to replay it next turn.
        include = list(options.get("include") or [])
        if "reasoning.encrypted_content" not in include:
            options["include"] = [*include, "reasoning.encrypted_content"]
    body.update(options)
    if stream:
        body["stream"] = True
    return body


def _without_sampling(options: dict[str, Any], model: str) -> dict[str, Any]:
    """The options without temperature and top_p where the model would reason: OpenAI's reasoning models reject them
    on the Responses endpoint while they reason (which families reason, and whether only when asked: `_families`, the
    table the mock reads too), so they are dropped with a `UserWarning` instead of costing a 400."""
    effort = (options.get("reasoning") or {}).get("effort")
    reasoning_off = effort == "none" or (effort is None and reasons_only_when_asked(model))
    if is_reasoning_model(model) and not reasoning_off:
        dropped = [name for name in _SAMPLING if options.pop(name, None) is not None]
        if dropped:
            warnings.warn(f"{' and '.join(dropped)} dropped: {model} is a reasoning model and the Responses API "
                          "rejects sampling parameters for it (unless reasoning={'effort': 'none'})", UserWarning,
                          stacklevel=4)
    return options


def _text_of(parts: Any) -> str:
    if isinstance(parts, str):
        return parts
    return "".join(p.get("text") or "" for p in parts or () if p.get("type") in ("output_text", "text"))


# The JSON types of the fields this client reads. A reply whose fields have other types is not a
# Response it can read: that is checked here, explicitly, so that a bug in the reading below is
# never mistaken for a bad reply (and caught and reported as one).
_FieldTypes = Mapping[str, type | tuple[type, ...]]
_NUMBER = (int, float)
_RESPONSE_FIELDS: _FieldTypes = {
    "id": str, "status": str, "output": list, "usage": dict, "incomplete_details": dict, "error": dict,
    "conversation": (dict, str)}
_ITEM_FIELDS: _FieldTypes = {
    "type": str, "id": str, "call_id": str, "name": str, "arguments": str, "content": (list, str), "summary": list}
_PART_FIELDS: _FieldTypes = {"type": str, "text": str}
_USAGE_FIELDS: _FieldTypes = {"input_tokens": _NUMBER, "output_tokens": _NUMBER, "total_tokens": _NUMBER,
                              "input_tokens_details": dict, "output_tokens_details": dict}
_TOKEN_DETAIL_FIELDS: _FieldTypes = {"cached_tokens": _NUMBER, "reasoning_tokens": _NUMBER}
_MAX_COUNT = 2**63


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _wrong_field(value: Any, types: _FieldTypes, what: str) -> str | None:
    if not isinstance(value, dict):
        return f"{what} is a JSON {json_type(value)}, not an object"
    for name, kind in types.items():
        field = value.get(name)
        if field is not None and not isinstance(field, kind):
            return f"{what}'s {name!r} is a JSON {json_type(field)}"
    return None


def item_problem(item: Any) -> str | None:
    """Why `item` is not an output item `parse_response` can read, or None."""
    if problem := _wrong_field(item, _ITEM_FIELDS, "an output item"):
        return problem
    content = item.get("content")
    for part in content if isinstance(content, list) else ():
        if problem := _wrong_field(part, _PART_FIELDS, "a content part"):
            return problem
    for part in item.get("summary") or ():
        if problem := _wrong_field(part, _PART_FIELDS, "a summary part"):
            return problem
    return None


def response_problem(body: Any) -> str | None:
    """Why `body` is not a Response `parse_response` can read (a field of another JSON type), or None."""
    if problem := _wrong_field(body, _RESPONSE_FIELDS, "the response"):
        return problem
    for item in body.get("output") or ():
        if problem := item_problem(item):
            return problem
    usage = body.get("usage") or {}
    if problem := _wrong_field(usage, _USAGE_FIELDS, "usage"):
        return problem
    counts = [(name, usage.get(name)) for name in _USAGE_FIELDS if _USAGE_FIELDS[name] is _NUMBER]
    for name in ("input_tokens_details", "output_tokens_details"):
        details = usage.get(name) or {}
        if problem := _wrong_field(details, _TOKEN_DETAIL_FIELDS, name):
            return problem
        counts += [(f"{name}.{key}", details.get(key)) for key in _TOKEN_DETAIL_FIELDS]
    for name, count in counts:  # a NaN or an infinity (1e400) fails the comparison too
        if count is not None and not 0 <= count <= _MAX_COUNT:
            return f"usage's {name!r} is not a token count (a number from 0 to 2**63)"
    return None


def parse_response(body: Mapping[str, Any], *, store: bool) -> ModelResponse:
    """A Response object (non-stream body, or the `response` of a terminal stream event), of
    the shape `response_problem` checks."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    summary: list[str] = []
    for item in body.get("output") or ():
        kind = item.get("type")
        if kind == "message":
            texts.append(_text_of(item.get("content")))
        elif kind == "function_call":
            calls.append(tool_call_from_item(item))
        elif kind == "reasoning":
            summary += [s.get("text", "") for s in item.get("summary") or ()]
    response_id, conversation = body.get("id"), body.get("conversation")  # echoed as {"id": "conv_…"} (or the id)
    conversation = conversation.get("id") if isinstance(conversation, dict) else conversation
    message = Message("assistant", "".join(texts), tuple(calls), provider_items=_replay_items(body.get("output") or ()))
    state = {"conversation": conversation} if isinstance(conversation, str) and conversation else (
        {"previous_response_id": response_id} if store and response_id else {})
    return ModelResponse(message, state,
                         usage=usage_from(body.get("usage")), response_id=response_id,
                         status=body.get("status") or "completed",
                         incomplete_reason=(body.get("incomplete_details") or {}).get("reason"),
                         reasoning_summary="\n\n".join(s for s in summary if s))


def tool_call_from_item(item: Mapping[str, Any]) -> ToolCall:
    """A function_call item as a `ToolCall`; arguments that are not a JSON object (invalid, nested
    too deeply for the parser, a number with too many digits) leave `arguments` empty and are kept
    raw, for the agent to report back to the model (`arguments_problem`)."""
    raw = item.get("arguments") or ""
    args = _json_object(raw)[0] if raw.strip() else {}
    return ToolCall(id=item.get("call_id") or item.get("id") or "", name=item.get("name") or "", arguments=args,
                    raw_arguments=raw)


def arguments_problem(call: ToolCall) -> str | None:
    """Why the model's raw arguments could not be used (the parsed `arguments` were left empty), or None."""
    raw = call.raw_arguments
    return None if call.arguments or raw is None or not raw.strip() else _json_object(raw)[1]


def _json_object(raw: str) -> tuple[dict[str, Any], str | None]:
    """The JSON object `raw` holds, else {} and why not."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"not valid JSON ({exc.msg} at position {exc.pos})"
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        return {}, f"not readable JSON ({exc})"
    except RecursionError:
        return {}, "JSON nested too deeply to read"
    return (value, None) if isinstance(value, dict) else ({}, f"a JSON {type(value).__name__}, not an object")


def usage_from(usage: Mapping[str, Any] | None) -> Usage:
    usage = usage or {}
    inp, out = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    return Usage(input_tokens=inp, output_tokens=out, total_tokens=int(usage.get("total_tokens") or inp + out),
                 cached_tokens=int((usage.get("input_tokens_details") or {}).get("cached_tokens") or 0),
                 reasoning_tokens=int((usage.get("output_tokens_details") or {}).get("reasoning_tokens") or 0))


def error_from_body(status: int, content: bytes, *args: Any, **kw: Any) -> APIStatusError:
    """The typed error for a non-2xx reply: `_error_replies.error_from_body`, loaded at the first error reply."""
    from ._error_replies import error_from_body
    return error_from_body(status, content, *args, **kw)


def failed_response_error(body: Mapping[str, Any], **kw: Any) -> APIStatusError:
    """A Response whose `status` is `failed`, as its typed error: `_error_replies.failed_response_error`."""
    from ._error_replies import failed_response_error
    return failed_response_error(body, **kw)
