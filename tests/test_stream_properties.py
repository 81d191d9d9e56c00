"""Property-based tests of the SSE fold, through the real client where it matters:

- any chunking of a recorded `.sse` fixture gives the same chunks, response or error;
- event sequences generated from a small grammar (text deltas, function calls with argument
  deltas, reasoning summaries, unknown events, keep-alive comments) give consistent text and calls;
- junk — random bytes, random JSON values as events or as a whole reply, valid events with a field
  of another JSON type — gives only typed errors (`LocusError`), never anything else.

Bounded (`max_examples`, no per-example deadline, derandomized so `make test` is repeatable, no
example database on disk): a few seconds in all.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus_nb import LocusError, Message, StreamError
from locus_nb._stream import StreamSnapshot, fold_all, handle_event, stream_error

from .sse_helpers import SSE_FIXTURES, SSE_HEADERS, Body, events_of, frames, sse_model

BOUNDED = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RECORDINGS = {path.name: path.read_bytes() for path in SSE_FIXTURES}
ASK = [Message.user("hi")]


def outcome(pieces: list[bytes]) -> tuple:
    """What the real client makes of a streamed body delivered in these pieces: every chunk's content
    and calls, then the response, or the error's type, partial text and response id."""

    async def run() -> tuple:
        handler = lambda request: httpx.Response(200, headers=SSE_HEADERS, stream=Body(pieces))  # noqa: E731
        seen: list[Any] = []
        async with sse_model(handler) as model:
            try:
                async for chunk in model.stream(ASK):
                    seen.append((chunk.content, chunk.tool_calls, chunk.done, chunk.response, chunk.reasoning))
            except StreamError as err:
                return tuple(seen), type(err).__name__, err.partial_text, err.response_id
        return tuple(seen), None, None, None

    return asyncio.run(run())


def reply_outcome(body: bytes, content_type: str = "application/json") -> Any:
    """What `complete()` makes of a whole reply body: a response, or a `LocusError` (anything else escapes)."""

    async def run() -> Any:
        handler = lambda request: httpx.Response(200, headers={"content-type": content_type}, content=body)  # noqa: E731
        async with sse_model(handler, max_retries=0) as model:
            try:
                return await model.complete(ASK)
            except LocusError as err:
                return err

    return asyncio.run(run())


def cut(data: bytes, points: list[int]) -> list[bytes]:
    points = sorted({p % (len(data) + 1) for p in points})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


@functools.cache
def whole(name: str) -> tuple:
    return outcome([RECORDINGS[name]])


# -- any chunking of a recording -------------------------------------------------------------------------


@BOUNDED
@given(name=st.sampled_from(sorted(RECORDINGS)), points=st.lists(st.integers(min_value=0), max_size=40))
def test_any_chunking_of_a_recording_gives_the_same_result(name, points):
    assert outcome(cut(RECORDINGS[name], points)) == whole(name)


@settings(BOUNDED, max_examples=12)
@given(name=st.sampled_from(sorted(RECORDINGS)), size=st.integers(min_value=1, max_value=7))
def test_tiny_pieces_of_a_recording_give_the_same_result(name, size):
    data = RECORDINGS[name][:2000]  # (a long recording in 1-byte pieces would take seconds)
    expected = whole(name) if len(RECORDINGS[name]) <= 2000 else outcome([data])
    assert outcome([data[i : i + size] for i in range(0, len(data), size)]) == expected


# -- any framing the SSE standard allows ----------------------------------------------------------------

ENDING = st.sampled_from(["\n", "\r", "\r\n"])
UNREAD_LINES = st.lists(st.sampled_from([": keep-alive", ":", "id: 7", "retry: 100", "event: other", "datum: x"]),
                        max_size=2)


@BOUNDED
@given(name=st.sampled_from(sorted(RECORDINGS)), data=st.data())
def test_any_framing_of_a_recording_gives_the_same_result(name, data):
    """Each line ends in \\n, \\r or \\r\\n; comments and fields this client does not read come between; an
    event's JSON is spread over several `data` lines (with or without the space after the colon): as if sent plain."""
    framed = []
    for event in events_of(RECORDINGS[name]):
        lines = data.draw(UNREAD_LINES) + [f"event: {event['type']}"]
        lines += [data.draw(st.sampled_from(["data: ", "data:"])) + part
                  for part in json.dumps(event, indent=data.draw(st.sampled_from([None, 1]))).split("\n")]
        for line in [*lines, ""]:
            after_cr = framed[-1:] == ["\r"]  # then a blank line's \n would only finish a \r\n
            framed += [line, data.draw(st.sampled_from(["\r", "\r\n"]) if after_cr and not line else ENDING)]
    body = "".join(framed).encode()
    points = data.draw(st.lists(st.integers(min_value=0), max_size=20))
    assert outcome(cut(body, points)) == whole(name)


# -- event sequences from a small grammar -------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
ARGUMENTS = st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5) | st.booleans(), max_size=3)
ITEM = st.one_of(
    st.tuples(st.just("message"), st.lists(TEXT, min_size=1, max_size=8)),
    st.tuples(st.just("function_call"), st.tuples(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), ARGUMENTS,
                                                    st.integers(min_value=1, max_value=9))),
    st.tuples(st.just("reasoning"), st.lists(TEXT, min_size=1, max_size=3)),
)
NOISE = st.sampled_from([
    b": keep-alive\n\n", b"\n", b"event: ping\ndata: {\"type\": \"response.ping\"}\n\n", b"data:\n\n",
    b'data: {"type": "response.content_part.added", "part": {"type": "output_text", "text": ""}}\n\n',
])


def grammar_events(items: list[tuple[str, Any]], final_output: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A stream for these output items, as the API sends it, and what it must add up to."""
    rid = "resp_gen"
    events: list[dict[str, Any]] = [{"type": "response.created", "response": {"id": rid, "status": "in_progress",
                                                                              "output": []}}]
    output: list[dict[str, Any]] = []
    expected: dict[str, Any] = {"deltas": [], "calls": [], "summary": []}
    for index, (kind, spec) in enumerate(items):
        if kind == "message":
            mid = f"msg_{index}"
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {"id": mid, "type": "message", "role": "assistant", "content": []}})
            events += [{"type": "response.output_text.delta", "item_id": mid, "output_index": index,
                        "content_index": 0, "delta": d} for d in spec]
            item = {"id": mid, "type": "message", "role": "assistant",
                    "content": [{"type": "output_text", "text": "".join(spec), "annotations": []}]}
            expected["deltas"] += spec
        elif kind == "function_call":
            name, arguments, step = spec
            raw = json.dumps(arguments)
            fid, call_id = f"fc_{index}", f"call_{index}"
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {"id": fid, "type": "function_call", "call_id": call_id, "name": name,
                                    "arguments": ""}})
            events += [{"type": "response.function_call_arguments.delta", "item_id": fid, "output_index": index,
                        "delta": raw[i : i + step]} for i in range(0, len(raw), step)]
            events.append({"type": "response.function_call_arguments.done", "item_id": fid, "output_index": index,
                           "arguments": raw})
            item = {"id": fid, "type": "function_call", "call_id": call_id, "name": name, "arguments": raw}
            expected["calls"].append((call_id, name, arguments))
        else:
            rsid = f"rs_{index}"
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {"id": rsid, "type": "reasoning", "summary": []}})
            for part, text in enumerate(spec):
                events.append({"type": "response.reasoning_summary_part.added", "item_id": rsid, "summary_index": part})
                events.append({"type": "response.reasoning_summary_text.delta", "item_id": rsid,
                               "summary_index": part, "delta": text})
            item = {"id": rsid, "type": "reasoning", "summary": [{"type": "summary_text", "text": t} for t in spec]}
            expected["summary"] += spec
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
        output.append(item)
    final = {"id": rid, "status": "completed", "output": output if final_output else [],
             "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}}
    events.append({"type": "response.completed", "response": final})
    for seq, event in enumerate(events):
        event["sequence_number"] = seq
    return events, expected


@BOUNDED
@given(items=st.lists(ITEM, max_size=5), final_output=st.booleans(), noise=st.lists(NOISE, max_size=6),
       points=st.lists(st.integers(min_value=0), max_size=10), data=st.data())
def test_generated_streams_give_consistent_text_and_calls(items, final_output, noise, points, data):
    events, expected = grammar_events(items, final_output)
    body = bytearray()
    noise_at = {data.draw(st.integers(0, len(events))): n for n in noise}  # keep-alives, pings, unknown events
    for index, event in enumerate(events):
        body += noise_at.get(index, b"") + frames([event])

    chunks, error, _, _ = outcome(cut(bytes(body), points))
    assert error is None
    response = chunks[-1][3]
    assert [c[0] for c in chunks if c[0] is not None] == [d for d in expected["deltas"]]
    assert response.text == "".join(expected["deltas"])
    calls = [(c.id, c.name, c.arguments) for c in response.message.tool_calls]
    assert calls == expected["calls"] == [(c.id, c.name, c.arguments) for ch in chunks if ch[1] for c in ch[1]]
    assert [c[2] for c in chunks].count(True) == 1 and chunks[-1][2]
    summary = [s for s in expected["summary"] if s]
    assert response.reasoning_summary.replace("\n\n", "") == "".join(summary)
    assert fold_all(events).response == response  # the pure fold agrees with the client


# -- junk: only typed errors --------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
TYPES = ["response.created", "response.in_progress", "response.queued", "response.output_item.added",
         "response.output_text.delta", "response.function_call_arguments.delta",
         "response.function_call_arguments.done", "response.output_item.done",
         "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta", "response.completed",
         "response.incomplete", "response.failed", "error"]
RECORDED_EVENTS = [event for data in RECORDINGS.values() for event in events_of(data)]


def mutated(event: dict[str, Any], path: list[int], value: Any) -> dict[str, Any]:
    """`event` with one field somewhere inside it (chosen by `path`) replaced by `value`."""
    event = json.loads(json.dumps(event))
    node: Any = event
    for step in path:
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            break
        key = keys[step % len(keys)]
        if isinstance(node[key], dict | list) and node[key] and step % 3:
            node = node[key]
            continue
        node[key] = value
        break
    return event


def typed_only(events: list[Any]) -> None:
    """Fold `events` and raise what the client would: nothing but a `LocusError` may come out."""
    snapshot = StreamSnapshot()
    for event in events:
        handle_event(event, snapshot)
    if snapshot.response is None:
        assert isinstance(stream_error(snapshot, "closed", redact=("secret",)), LocusError)


@BOUNDED
@given(events=st.lists(JSON | st.fixed_dictionaries({"type": st.sampled_from(TYPES)}, optional={
    "delta": JSON, "item": JSON, "response": JSON, "output_index": JSON, "item_id": JSON, "arguments": JSON,
    "error": JSON, "message": JSON, "code": JSON}), max_size=8))
def test_random_json_events_give_only_typed_errors(events):
    typed_only(events)


@BOUNDED
@given(which=st.lists(st.integers(min_value=0, max_value=len(RECORDED_EVENTS) - 1), min_size=1, max_size=6),
       path=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=5), value=JSON)
def test_recorded_events_with_a_field_of_another_type_give_only_typed_errors(which, path, value):
    events = [RECORDED_EVENTS[i] for i in which]
    events[-1] = mutated(events[-1], path, value)
    typed_only(events)
    chunks = outcome([frames(events)])  # the client too: only a StreamError may escape (outcome lets no other)
    assert chunks is not None


@BOUNDED
@given(junk=st.binary(max_size=300))
def test_random_bytes_as_a_stream_give_only_typed_errors(junk):
    chunks, error, _, _ = outcome([junk])
    assert error in (None, "StreamTruncated", "StreamFailed")


@BOUNDED
@given(body=JSON | st.fixed_dictionaries({"id": JSON, "status": st.sampled_from(["completed", "failed", "incomplete"])},
                                          optional={"output": JSON, "usage": JSON, "error": JSON,
                                                    "incomplete_details": JSON}))
def test_random_json_replies_give_a_response_or_a_typed_error(body):
    reply_outcome(json.dumps(body).encode())  # anything but a LocusError would escape


@BOUNDED
@given(junk=st.binary(max_size=300))
def test_random_bytes_as_a_reply_give_only_typed_errors(junk):
    assert isinstance(reply_outcome(junk), LocusError)
