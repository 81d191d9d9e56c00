"""Streamed Responses events → running state → chunk events, as a pure fold. No sockets.

    state = StreamState(store=False)
    for event in events:              # dicts: the JSON of each SSE `data:` line
        state = fold(state, event)    # never mutates `state`
        if state.emit: ...            # the chunk this event produced, if any
        if state.error: raise state.error

Text arrives in `response.output_text.delta`; a function call's name and `call_id` arrive in
`response.output_item.added`/`.done` while its argument deltas carry only `item_id`. The final
`ModelResponse` comes from `response.completed` (or `response.incomplete`) through the same
`parse_response` as a non-streamed reply; when a gateway leaves that `output` empty, the items
gathered from `response.output_item.done` stand in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, NamedTuple

from ._errors import StreamError, StreamFailed, StreamTruncated
from ._events import ModelChunkEvent, done_chunk, text_chunk
from ._messages import ModelResponse
from ._wire import parse_response, tool_call_from_item

__all__ = [
    "StreamState",
    "chunks_from_response",
    "fold",
    "fold_all",
    "received_text",
    "truncated",
]

# Appending to a string kept in an immutable state would copy it on every delta (quadratic).
# Text is instead a chain of (piece, count, older) nodes merged like a binary counter: O(1)
# amortized appends, O(n log n) copying in all, and never deeper than log2(deltas) (so such a
# state still prints, compares and copies).
Chain = tuple[str, int, "Chain"] | None

_new = tuple.__new__
_NO_ITEMS: Mapping[int, dict[str, Any]] = MappingProxyType({})
_NO_ARGUMENTS: Mapping[str, Chain] = MappingProxyType({})


class StreamState(NamedTuple):
    store: bool = False
    response_id: str | None = None
    text: Chain = None  # every output_text delta so far, newest first
    reasoning: Chain = None  # reasoning-summary deltas, parts separated by a blank line
    items: Mapping[int, dict[str, Any]] = _NO_ITEMS  # output items by output_index (added, then done)
    arguments: Mapping[str, Chain] = _NO_ARGUMENTS  # function-call argument deltas by item_id
    emit: ModelChunkEvent | None = None  # what the last event produced for the caller
    response: ModelResponse | None = None  # set by response.completed / response.incomplete
    error: StreamError | None = None  # set by response.failed / error

    @property
    def done(self) -> bool:
        return self.response is not None or self.error is not None


def appended(chain: Chain, piece: str) -> Chain:
    count = 1
    while chain is not None and chain[1] == count:
        piece = chain[0] + piece
        count += count
        chain = chain[2]
    return (piece, count, chain)


def joined(chain: Chain) -> str:
    parts: list[str] = []
    while chain is not None:
        parts.append(chain[0])
        chain = chain[2]
    return "".join(reversed(parts))


def received_text(state: StreamState) -> str:
    """All answer text received so far (what survives a broken stream)."""
    return joined(state.text)


# -- one handler per event type ---------------------------------------------------------------


def _started(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    rid = (event.get("response") or {}).get("id") or state.response_id
    return state._replace(response_id=rid, emit=None)


def _text_delta(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    # One call per token, so built positionally: `_replace` would cost three times as much.
    delta = event.get("delta") or ""
    store, rid, text, reasoning, items, arguments, _, response, error = state
    chunk = text_chunk(delta)
    return _new(StreamState, (store, rid, appended(text, delta), reasoning, items, arguments, chunk, response, error))


def _item_added(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    index = event.get("output_index", len(state.items))
    return state._replace(items={**state.items, index: event.get("item") or {}}, emit=None)


def _arguments_delta(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    key = event.get("item_id") or ""
    chain = appended(state.arguments.get(key), event.get("delta") or "")
    return state._replace(arguments={**state.arguments, key: chain}, emit=None)


def _arguments_done(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    # The full arguments replace the deltas; `name` is absent here on the real wire.
    key = event.get("item_id") or ""
    chain = appended(None, event.get("arguments") or "")
    return state._replace(arguments={**state.arguments, key: chain}, emit=None)


def _completed_call_item(state: StreamState, added: Mapping[str, Any], done: Mapping[str, Any]) -> dict[str, Any]:
    item = {**added, **{k: v for k, v in done.items() if v not in (None, "")}}
    if not item.get("arguments") and item.get("id") in state.arguments:
        item["arguments"] = joined(state.arguments[item["id"]])
    return item


def _item_done(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    done = event.get("item") or {}
    index = event.get("output_index")
    if index is None:  # no index: find the item it completes by id, else append
        index = next((i for i, it in state.items.items() if it.get("id") == done.get("id")), len(state.items))
    emit = None
    if done.get("type") == "function_call":
        done = _completed_call_item(state, state.items.get(index) or {}, done)
        emit = ModelChunkEvent(tool_calls=[tool_call_from_item(done)])
    return state._replace(items={**state.items, index: done}, emit=emit)


def _summary_part_added(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    reasoning = appended(state.reasoning, "\n\n") if state.reasoning is not None else None
    return state._replace(reasoning=reasoning, emit=None)


def _summary_delta(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    return state._replace(reasoning=appended(state.reasoning, event.get("delta") or ""), emit=None)


def _finished(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    """`response.completed` or `response.incomplete` (an answer cut short, not an error)."""
    body = event.get("response") or {}
    if not body.get("output"):  # some gateways send the final response without its items
        body = {**body, "output": _gathered_output(state)}
    response = parse_response(body, store=state.store)
    if not response.reasoning_summary and state.reasoning is not None:
        response = replace(response, reasoning_summary=joined(state.reasoning))
    return state._replace(response_id=response.response_id or state.response_id, response=response,
                          emit=done_chunk(response))


def _failed(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    """`response.failed` ({response: {error: {code, message}}}) or `error`, flat or nested."""
    body = event.get("response") or {}
    if isinstance(event.get("error"), Mapping):  # the nested shape the real API sends
        detail = event["error"]
    elif isinstance(body.get("error"), Mapping):  # response.failed
        detail = body["error"]
    else:  # the flat shape of the spec
        detail = event
    code = detail.get("code") or (detail.get("type") if detail is not event else None)
    message = detail.get("message") or "no message"
    rid = body.get("id") or state.response_id
    what = "response.failed" if event.get("type") == "response.failed" else "an error event"
    text = received_text(state)
    error = StreamFailed(
        f"the stream ended with {what}: [{code}] {message}{_received_note(state, text)}",
        partial_text=text,
        response_id=rid,
        code=str(code) if code is not None else None,
        server_message=message,
    )
    return state._replace(response_id=rid, error=error, emit=None)


_HANDLERS: dict[str, Callable[[StreamState, Mapping[str, Any]], StreamState]] = {
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


def fold(state: StreamState, event: Mapping[str, Any]) -> StreamState:
    """The state after one event. Events after the end, and kinds we do not use, change nothing."""
    handler = _HANDLERS.get(event.get("type"))  # type: ignore[arg-type]
    if handler is None or state.response is not None or state.error is not None:
        return state if state.emit is None else state._replace(emit=None)
    return handler(state, event)


def fold_all(events: Iterable[Mapping[str, Any]], state: StreamState | None = None) -> StreamState:
    for event in events:
        state = fold(state or StreamState(), event)
    return state or StreamState()


def truncated(state: StreamState, why: str) -> StreamTruncated:
    """The error for a stream that stopped before its terminal event."""
    text = received_text(state)
    return StreamTruncated(
        f"{why}{_received_note(state, text)}",
        partial_text=text,
        response_id=state.response_id,
    )


def chunks_from_response(response: ModelResponse) -> list[ModelChunkEvent]:
    """The chunks a whole (non-streamed) response stands for: its text, its calls, then done."""
    chunks = [ModelChunkEvent(content=response.text)] if response.text else []
    chunks += [ModelChunkEvent(tool_calls=[call]) for call in response.message.tool_calls]
    chunks.append(done_chunk(response))
    return chunks


# -- helpers ------------------------------------------------------------------------------------


def _received_note(state: StreamState, text: str) -> str:
    where = f" (response {state.response_id})" if state.response_id else ""
    n = len(text)
    return f"{where}; {n} characters of text had arrived (see .partial_text)" if n else where


def _gathered_output(state: StreamState) -> list[dict[str, Any]]:
    """The output items as the events described them, for a final response that lacks them."""
    output = []
    for _, item in sorted(state.items.items()):
        if item.get("type") == "function_call" and not item.get("arguments"):
            item = _completed_call_item(state, item, {})
        output.append(item)
    if state.text is not None and not any(it.get("type") == "message" and it.get("content") for it in output):
        text = received_text(state)
        output = [it for it in output if it.get("type") != "message"]
        output.append({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]})
    return output
