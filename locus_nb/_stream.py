"""Streamed Responses events → one snapshot → chunk events, as the anthropic SDK writes it. No sockets.

`accumulate_event` is the one function that changes the snapshot; `build_chunk` reads it to say what the event means
to the caller (`OCIResponsesModel.stream` runs the two on each event, as `handle_event` does). Text arrives in
`response.output_text.delta`; a function call's name and `call_id` arrive in `response.output_item.added`/`.done`
while its argument deltas carry only `item_id`. The final `ModelResponse` comes from `response.completed` (or
`response.incomplete`) through the same `parse_response` as a non-streamed reply; when a gateway leaves that `output`
empty, the items gathered from `response.output_item.done` stand in.

What the server says went wrong (`response.failed`, an `error` event) and events this client cannot read (fields of
the wrong JSON type) are kept as data, `snapshot.failure`, and raised once by the caller, who knows the reply's
request id and the secrets to mask: `stream_error`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ._errors import StreamError, StreamFailed, StreamTimeout, StreamTruncated, mask_secrets
from ._events import ModelChunkEvent, done_chunk
from ._messages import ModelResponse, ToolCall
from ._wire import item_problem, json_type, parse_response, response_problem, tool_call_from_item

__all__ = ["StreamFailure", "StreamSnapshot", "accumulate_event", "build_chunk", "chunks_from_response", "fold_all",
           "handle_event", "stream_error"]


@dataclass(frozen=True)
class StreamFailure:
    """Why a stream cannot give its answer, as the events told it."""

    reason: str
    """The start of the error's message: what happened."""
    by_server: bool = False
    """True when the server itself ended the stream (`response.failed`, an `error` event); False
    when it sent something this client cannot read."""
    code: str | None = None
    """The server's error code, when it sent one."""
    server_message: str | None = None
    """The server's own message, when it sent one."""


@dataclass
class StreamSnapshot:
    """Everything a stream has said so far. Changed only by `accumulate_event`."""

    store: bool = False
    """The model's store mode: it decides the final response's `provider_state`."""
    response_id: str | None = None
    """The server's id for this response, from the first event that names it."""
    text: list[str] = field(default_factory=list)
    """Every output_text delta so far, in order (joined when needed: see `text_so_far`)."""
    reasoning: list[str] = field(default_factory=list)
    """Reasoning-summary deltas, parts separated by a blank line."""
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Output items by `output_index`, as added, then as done."""
    arguments: dict[str, list[str]] = field(default_factory=dict)
    """Function-call argument deltas, by `item_id`."""
    calls: list[ToolCall] = field(default_factory=list)
    """The tool calls completed so far, in the order they completed."""
    response: ModelResponse | None = None
    """The final response, from `response.completed` / `response.incomplete`."""
    failure: StreamFailure | None = None
    """Set by `response.failed`, an `error` event, or an event that cannot be read."""

    @property
    def done(self) -> bool:
        """True once the stream has said how it ends; later events change nothing."""
        return self.response is not None or self.failure is not None

    @property
    def text_so_far(self) -> str:
        """All answer text received so far (what survives a broken stream)."""
        return "".join(self.text)


# -- accumulate: one handler per event type ---------------------------------------------------------


_UNREADABLE = "the stream sent an event this client cannot read"


class _Unreadable(Exception):
    """An event field of another JSON type than the API sends. Raised by the handlers before they change anything, and
    turned into `snapshot.failure` by `accumulate_event`: it never leaves this module."""


def _field(event: Mapping[str, Any], name: str, kind: type, default: Any = None) -> Any:
    """`event[name]` (`default` when missing or null), checked to be of the JSON type the API sends."""
    value = event.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Unreadable(f"its {name!r} is a JSON {json_type(value)}")
    return value


def _readable(problem: str | None) -> None:
    if problem is not None:
        raise _Unreadable(problem)


def _started(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    body = _field(event, "response", dict, {})
    _readable(response_problem(body))
    snapshot.response_id = body.get("id") or snapshot.response_id


def _text_delta(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    delta = event.get("delta")
    if type(delta) is not str:  # checked inline: one event per token
        if delta is not None:  # (a 0, a false or an empty array is no text either)
            raise _Unreadable(f"its 'delta' is a JSON {json_type(delta)}")
        delta = ""
    snapshot.text.append(delta)


def _item_added(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    index = _field(event, "output_index", int, len(snapshot.items))
    item = _field(event, "item", dict, {})
    _readable(item_problem(item))
    snapshot.items[index] = item


def _arguments_delta(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    key, delta = _field(event, "item_id", str, ""), _field(event, "delta", str, "")
    snapshot.arguments.setdefault(key, []).append(delta)


def _arguments_done(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    # The full arguments replace the deltas; `name` is absent here on the real wire.
    key, arguments = _field(event, "item_id", str, ""), _field(event, "arguments", str, "")
    snapshot.arguments[key] = [arguments]


def _item_done(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    done = _field(event, "item", dict, {})
    _readable(item_problem(done))
    index = _field(event, "output_index", int)
    if index is None:  # no index: find the item it completes by id (llama.cpp: a call's `call_id`), else append
        key = "id" if done.get("id") else "call_id"
        index = next((i for i, it in snapshot.items.items() if it.get(key) and it.get(key) == done.get(key)),
                     len(snapshot.items))
    if done.get("type") == "function_call":
        done = _completed_call_item(snapshot, snapshot.items.get(index) or {}, done)
        snapshot.calls.append(tool_call_from_item(done))
    snapshot.items[index] = done


def _summary_part_added(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    if snapshot.reasoning:
        snapshot.reasoning.append("\n\n")


def _summary_delta(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    snapshot.reasoning.append(_field(event, "delta", str, ""))


def _finished(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    """`response.completed` or `response.incomplete` (an answer cut short, not an error)."""
    body = _field(event, "response", dict, {})
    if not body.get("output"):  # some gateways send the final response without its items
        body = {**body, "output": _gathered_output(snapshot)}
    _readable(response_problem(body))
    response = parse_response(body, store=snapshot.store)
    if not response.reasoning_summary and snapshot.reasoning:
        response = replace(response, reasoning_summary="".join(snapshot.reasoning))
    snapshot.response_id = response.response_id or snapshot.response_id
    snapshot.response = response


def _failed(snapshot: StreamSnapshot, event: Mapping[str, Any]) -> None:
    """`response.failed` ({response: {error: {code, message}}}) or `error`, flat or nested."""
    body = _field(event, "response", dict, {})
    if isinstance(event.get("error"), Mapping):  # the nested shape the real API sends
        detail = event["error"]
    elif isinstance(body.get("error"), Mapping):  # response.failed
        detail = body["error"]
    else:  # the flat shape of the spec
        detail = event
    code = detail.get("code") or (detail.get("type") if detail is not event else None)
    message = _field(detail, "message", str) or "no message"
    snapshot.response_id = _field(body, "id", str) or snapshot.response_id
    what = "response.failed" if event["type"] == "response.failed" else "an error event"
    snapshot.failure = StreamFailure(f"the stream ended with {what}: [{code}] {message}", by_server=True,
                                     code=str(code) if code is not None else None, server_message=message)


_ACCUMULATORS: dict[str, Callable[[StreamSnapshot, Mapping[str, Any]], None]] = {
    "response.created": _started,
    "response.in_progress": _started,
    "response.queued": _started,
    "response.output_item.added": _item_added,
    "response.output_text.delta": _text_delta,
    "response.function_call_arguments.delta": _arguments_delta,
    "response.function_call_arguments.done": _arguments_done,
    "response.output_item.done": _item_done,
    "response.reasoning_summary_part.added": _summary_part_added,
    "response.reasoning_summary_text.delta": _summary_delta,
    "response.completed": _finished,
    "response.incomplete": _finished,
    "response.failed": _failed,
    "error": _failed,
}


def accumulate_event(event: Any, snapshot: StreamSnapshot) -> None:
    """Take one event (the decoded JSON of an SSE `data:` line) into the snapshot. Kinds this
    client does not use change nothing; an event it cannot read sets `snapshot.failure`."""
    if type(event) is not dict:
        # Long enough that a secret in it is whole when the caller's secrets are masked (`stream_error` cuts after).
        excerpt = json.dumps(event, ensure_ascii=False)[: 2 * _REASON_LIMIT]
        snapshot.failure = StreamFailure(f"the stream sent an event that is not a JSON object: {excerpt}")
        return
    kind = event.get("type")
    if type(kind) is not str:  # events without a type are skipped, like those of unknown types
        if kind is not None:
            snapshot.failure = StreamFailure(f"{_UNREADABLE} (its 'type' is a JSON {json_type(kind)})")
        return
    accumulate = _ACCUMULATORS.get(kind)
    if accumulate is None:
        return
    try:
        accumulate(snapshot, event)
    except _Unreadable as problem:
        snapshot.failure = StreamFailure(f"{_UNREADABLE} ({kind}: {problem})")


# -- build: what an event, once accumulated, means to the caller -------------------------------------


def build_chunk(event: Mapping[str, Any], snapshot: StreamSnapshot) -> ModelChunkEvent | None:
    """The chunk for an event `accumulate_event` has just taken in: a text delta, a completed tool
    call, or the final `done` chunk; None for the rest."""
    if snapshot.failure is not None:
        return None
    kind = event.get("type")  # (an event without a type is skipped, and makes no chunk)
    if kind == "response.output_text.delta":
        return ModelChunkEvent(content=snapshot.text[-1])
    if kind == "response.output_item.done" and (event.get("item") or {}).get("type") == "function_call":
        return ModelChunkEvent(tool_calls=[snapshot.calls[-1]])
    if kind in ("response.completed", "response.incomplete"):
        return done_chunk(snapshot.response)
    return None


def handle_event(event: Any, snapshot: StreamSnapshot) -> ModelChunkEvent | None:
    """One event: accumulated, then its chunk, if any. Events after the end change nothing."""
    if snapshot.done:
        return None
    accumulate_event(event, snapshot)
    return build_chunk(event, snapshot)


def fold_all(events: Iterable[Any], snapshot: StreamSnapshot | None = None) -> StreamSnapshot:
    """The snapshot after all these events (for tests and notebooks)."""
    snapshot = snapshot or StreamSnapshot()
    for event in events:
        handle_event(event, snapshot)
    return snapshot


def stream_error(snapshot: StreamSnapshot, why: str = "", *, request_id: str | None = None,
                 redact: Iterable[str | None] = (), timed_out: bool = False) -> StreamError:
    """The error for a stream without its answer: the snapshot's failure if it has one, else
    `why` it stopped (`timed_out`: a deadline cut it off, a `StreamTimeout`). `request_id` and the
    caller's own secrets (`redact`) are those of the reply."""
    text = snapshot.text_so_far
    where = f" (response {snapshot.response_id})" if snapshot.response_id else ""
    note = f"{where}; {len(text)} characters of text had arrived (see .partial_text)" if text else where
    failure = snapshot.failure or StreamFailure(why)
    server_message = mask_secrets(failure.server_message, redact) if failure.server_message is not None else None
    timed_out = timed_out and not snapshot.failure
    kind = StreamFailed if failure.by_server else StreamTimeout if timed_out else StreamTruncated
    reason = mask_secrets(failure.reason, redact)
    if not failure.by_server and len(reason) > _REASON_LIMIT:  # it quotes what was sent: cut once masked
        reason = reason[:_REASON_LIMIT] + "…"
    return kind(mask_secrets(reason + note, redact), partial_text=text, response_id=snapshot.response_id,
                code=failure.code, server_message=server_message, request_id=request_id)


def chunks_from_response(response: ModelResponse) -> list[ModelChunkEvent]:
    """The chunks a whole (non-streamed) response stands for: its text, its calls, then done."""
    chunks = [ModelChunkEvent(content=response.text)] if response.text else []
    chunks += [ModelChunkEvent(tool_calls=[call]) for call in response.message.tool_calls]
    chunks.append(done_chunk(response))
    return chunks


# -- helpers ------------------------------------------------------------------------------------------


_REASON_LIMIT = 200  # characters of a reason that quotes an event, once its secrets are masked


def _completed_call_item(snapshot: StreamSnapshot, added: Mapping[str, Any], done: Mapping[str, Any]) -> dict[str, Any]:
    item = {**added, **{k: v for k, v in done.items() if v not in (None, "")}}
    if not item.get("arguments") and item.get("id") in snapshot.arguments:
        item["arguments"] = "".join(snapshot.arguments[item["id"]])
    return item


def _gathered_output(snapshot: StreamSnapshot) -> list[dict[str, Any]]:
    """The output items as the events described them, for a final response that lacks them."""
    output = []
    for _, item in sorted(snapshot.items.items()):
        if item.get("type") == "function_call" and not item.get("arguments"):
            item = _completed_call_item(snapshot, item, {})
        output.append(item)
    if snapshot.text and not any(it.get("type") == "message" and it.get("content") for it in output):
        output = [it for it in output if it.get("type") != "message"]
        output.append({"type": "message", "role": "assistant",
                       "content": [{"type": "output_text", "text": snapshot.text_so_far}]})
    return output
