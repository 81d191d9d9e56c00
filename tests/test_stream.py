"""The fold over streamed events (one snapshot, updated by `accumulate_event`, read by `build_chunk`),
on every recorded `.sse` fixture and on hand-made sequences."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from locus_nb import Message, ModelChunkEvent, StreamFailed, StreamTruncated
from locus_nb._stream import (
    StreamFailure,
    StreamSnapshot,
    accumulate_event,
    build_chunk,
    chunks_from_response,
    fold_all,
    handle_event,
    stream_error,
)
from locus_nb._wire import build_request

from .sse_helpers import ENDINGS, SSE_FIXTURES, events_of

# Streams with items to gather (not the lone terminal frames).
WITH_ITEMS = [p for p in SSE_FIXTURES if ENDINGS.get(p.name) == "completed"]


def run(events: list[dict[str, Any]], store: bool = False) -> tuple[StreamSnapshot, list[ModelChunkEvent]]:
    snapshot, emitted = StreamSnapshot(store=store), []
    for event in events:
        chunk = handle_event(event, snapshot)
        if chunk is not None:
            emitted.append(chunk)
    return snapshot, emitted


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def recorded_calls(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in of_type(events, "response.output_item.done") if e["item"]["type"] == "function_call"]


def terminal_response(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e["response"] for e in events if e["type"] in ("response.completed", "response.incomplete"))


def test_every_fixture_has_an_expected_ending():
    assert {p.name for p in SSE_FIXTURES} == set(ENDINGS)


@pytest.mark.parametrize("path", SSE_FIXTURES, ids=lambda p: p.name)
def test_fold_every_fixture(path):
    events = events_of(path.read_bytes())
    state, emitted = run(events)
    ending = ENDINGS[path.name]

    deltas = [e["delta"] for e in of_type(events, "response.output_text.delta")]
    # one chunk per text delta, with exactly its content, in order
    assert [c.content for c in emitted if c.content is not None] == deltas
    assert state.text_so_far == "".join(deltas)

    if ending == "failed":
        assert state.response is None and state.failure is not None and state.done
        error = stream_error(state)  # what stream() raises, once
        assert isinstance(error, StreamFailed)
        failure = events[-1]
        detail = failure.get("error") or (failure.get("response") or {}).get("error") or failure
        assert state.failure.code == error.code == detail["code"]
        assert state.failure.server_message == error.server_message == detail["message"]
        assert detail["message"] in str(error)
        assert error.response_id == (failure.get("response") or {}).get("id")
        assert not any(c.done for c in emitted)
        return

    response = state.response
    final = terminal_response(events)
    assert state.failure is None and response is not None
    assert response.status == ending == final["status"]
    assert response.response_id == final["id"] == state.response_id
    assert response.usage.output_tokens == (final.get("usage") or {}).get("output_tokens", 0)

    # byte-exact text: against the recording's own output_text.done events when it has them
    done_texts = [e["text"] for e in of_type(events, "response.output_text.done")]
    if done_texts:
        assert response.text == "".join(done_texts) == state.text_so_far
    else:  # a lone terminal frame: the text of its message items
        items = [i for i in final["output"] if i["type"] == "message"]
        assert response.text == "".join(p["text"] for i in items for p in i["content"])

    # function calls: name and call_id from the items, arguments intact and equal to their deltas
    calls = recorded_calls(events)
    assert [(c.id, c.name, c.raw_arguments) for c in response.message.tool_calls] == [
        (i["call_id"], i["name"], i["arguments"]) for i in calls
    ]
    for call, item in zip(response.message.tool_calls, calls):
        assert call.arguments == json.loads(item["arguments"])
        arg_deltas = [e["delta"] for e in of_type(events, "response.function_call_arguments.delta")
                      if e["item_id"] == item["id"]]
        assert "".join(arg_deltas) == item["arguments"]
    streamed_calls = [call for c in emitted if c.tool_calls for call in c.tool_calls]
    assert streamed_calls == list(response.message.tool_calls)

    # exactly one done chunk, and it is the last
    assert [c.done for c in emitted].count(True) == 1 and emitted[-1].done
    assert emitted[-1].response is response


@pytest.mark.parametrize("path", WITH_ITEMS, ids=lambda p: p.name)
def test_final_response_falls_back_to_output_item_done(path):
    """A gateway that sends `response.completed` without `output`: the gathered items stand in."""
    events = events_of(path.read_bytes())
    assert of_type(events, "response.output_item.done")
    stripped = [
        {**e, "response": {**e["response"], "output": []}} if e["type"] in ("response.completed", "response.incomplete")
        else e
        for e in events
    ]
    full, _ = run(events)
    fallback, emitted = run(stripped)
    assert fallback.response.text == full.response.text
    assert fallback.response.message.tool_calls == full.response.message.tool_calls
    # the same reasoning items; their encrypted_content is the one each event carried (the server
    # re-encrypts between output_item.done and response.completed)
    assert [i["id"] for i in fallback.response.message.provider_items] == [
        i["id"] for i in full.response.message.provider_items]
    assert [i["encrypted_content"] for i in fallback.response.message.provider_items if i["type"] == "reasoning"] == [
        e["item"]["encrypted_content"] for e in of_type(events, "response.output_item.done")
        if e["item"].get("encrypted_content")]
    assert fallback.response.reasoning_summary == full.response.reasoning_summary
    assert emitted[-1].done and emitted[-1].response == fallback.response


def test_reasoning_summary_is_carried_on_the_done_chunk():
    events = events_of((SSE_FIXTURES[0].parent / "stream_reasoning_summary_o3mini.sse").read_bytes())
    summaries = [e["text"] for e in of_type(events, "response.reasoning_summary_text.done")]
    assert len(summaries) == 4
    state, emitted = run(events)
    assert state.response.reasoning_summary == "\n\n".join(summaries)
    assert emitted[-1].reasoning == "\n\n".join(summaries)
    # what the summary deltas added up to, part by part, is the same text
    assert "".join(state.reasoning) == "\n\n".join(summaries)


@pytest.mark.parametrize("store", [False, True])
def test_reasoning_items_are_kept_for_replay_when_stateless(store):
    events = events_of((SSE_FIXTURES[0].parent / "stream_reasoning_encrypted_function_call_gpt5.sse").read_bytes())
    state, _ = run(events, store=store)
    message = state.response.message
    recorded = next(i for i in terminal_response(events)["output"] if i["type"] == "reasoning")
    assert [i["encrypted_content"] for i in message.provider_items if i["type"] == "reasoning"] == [
        recorded["encrypted_content"]]
    call = message.tool_calls[0]
    body = build_request([Message.user("6666?"), message, Message.tool(call.id, "ok")], model="m", store=store,
                         provider_state=state.response.provider_state)
    kinds = [i["type"] for i in body["input"]]
    if store:  # the server keeps it: only the new output goes, chained by id
        assert kinds == ["function_call_output"] and body["previous_response_id"] == state.response_id
    else:  # replayed before the call it led to, with its encrypted_content
        assert kinds == ["message", "reasoning", "function_call", "function_call_output"]
        assert body["input"][1]["encrypted_content"] == recorded["encrypted_content"]


@pytest.mark.parametrize("path", SSE_FIXTURES, ids=lambda p: p.name)
def test_only_accumulate_event_changes_the_snapshot(path):
    """`build_chunk` reads the snapshot and never changes it; asked twice, it says the same."""
    snapshot = StreamSnapshot()
    for event in events_of(path.read_bytes()):
        accumulate_event(event, snapshot)
        before = copy.deepcopy(snapshot)
        chunk = build_chunk(event, snapshot)
        assert snapshot == before, event["type"]
        assert build_chunk(event, snapshot) == chunk
        if snapshot.done:
            break


# -- hand-made sequences --------------------------------------------------------------------------

CREATED = {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress", "output": []}}


def text_delta(text: str) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
            "delta": text}


def test_several_calls_interleaved_by_item_id():
    def added(i: int, name: str) -> dict[str, Any]:
        return {"type": "response.output_item.added", "output_index": i,
                "item": {"id": f"fc_{i}", "type": "function_call", "name": name, "call_id": f"call_{i}",
                         "arguments": "", "status": "in_progress"}}

    def delta(i: int, text: str) -> dict[str, Any]:
        return {"type": "response.function_call_arguments.delta", "item_id": f"fc_{i}", "output_index": i,
                "delta": text}

    def done(i: int) -> dict[str, Any]:  # no name, no call_id, no arguments: as some gateways send it
        return {"type": "response.output_item.done", "output_index": i,
                "item": {"id": f"fc_{i}", "type": "function_call", "status": "completed"}}

    events = [CREATED, added(0, "get_temperature"), added(1, "get_time"),
              delta(0, '{"city":'), delta(1, '{"zone":'), delta(0, '"Paris"}'), delta(1, '"CET"}'),
              done(0), done(1),
              {"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output": []}}]
    state, emitted = run(events)
    calls = state.response.message.tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_0", "get_temperature", {"city": "Paris"}), ("call_1", "get_time", {"zone": "CET"})]
    assert [c.tool_calls[0].id for c in emitted if c.tool_calls] == ["call_0", "call_1"]


@pytest.mark.parametrize("shape", ["nested", "flat"])
def test_error_event_carries_partial_text_id_code_and_message(shape):
    if shape == "nested":
        error = {"type": "error", "error": {"type": "tokens", "code": "rate_limit_exceeded", "message": "Too large"}}
    else:
        error = {"type": "error", "code": "rate_limit_exceeded", "message": "Too large", "param": None}
    state, emitted = run([CREATED, text_delta("Hel"), text_delta("lo"), error])
    assert state.failure == StreamFailure("the stream ended with an error event: [rate_limit_exceeded] Too large",
                                          by_server=True, code="rate_limit_exceeded", server_message="Too large")
    err = stream_error(state)
    assert isinstance(err, StreamFailed)
    assert (err.partial_text, err.response_id, err.code, err.server_message) == (
        "Hello", "resp_1", "rate_limit_exceeded", "Too large")
    assert "resp_1" in str(err) and "Too large" in str(err) and "5 characters" in str(err)
    assert [c.content for c in emitted] == ["Hel", "lo"]


def test_response_failed_after_text():
    failed = {"type": "response.failed", "response": {"id": "resp_1", "status": "failed",
                                                      "error": {"code": "server_error", "message": "boom"}}}
    state, _ = run([CREATED, text_delta("partial"), failed])
    err = stream_error(state)
    assert (err.code, err.server_message, err.partial_text) == ("server_error", "boom", "partial")


def test_truncated_stream_error_keeps_what_arrived():
    state, _ = run([CREATED, text_delta("Hello, wor")])
    assert not state.done
    err = stream_error(state, "the stream closed before response.completed")
    assert isinstance(err, StreamTruncated)
    assert (err.partial_text, err.response_id, err.code) == ("Hello, wor", "resp_1", None)
    assert "retry" in str(err)


def test_the_error_names_the_request_id_and_masks_the_callers_secrets():
    echoed = {"type": "error", "code": "bad_key", "message": "key sk-mine-0123456789 refused"}
    state, _ = run([CREATED, text_delta("Hi"), echoed])
    err = stream_error(state, request_id="req-9", redact=["sk-mine-0123456789"])
    assert err.request_id == "req-9" and str(err).startswith(
        "the stream ended with an error event: [bad_key] key **** refused (response resp_1); 2 characters of text "
        "had arrived (see .partial_text) [opc-request-id req-9]")
    assert err.server_message == err.message.split("] ", 1)[1].split(" (", 1)[0] == "key **** refused"


@pytest.mark.parametrize(("event", "problem"), [
    (42, "an event that is not a JSON object: 42"),
    ({"type": 7}, "cannot read (its 'type' is a JSON number)"),
    (text_delta(None) | {"delta": ["a"]}, "cannot read (response.output_text.delta: its 'delta' is a JSON array)"),
    ({"type": "response.output_item.added", "output_index": True, "item": {}},
     "cannot read (response.output_item.added: its 'output_index' is a JSON boolean)"),
    ({"type": "response.output_item.done", "item": {"type": "function_call", "arguments": {}}},
     "cannot read (response.output_item.done: an output item's 'arguments' is a JSON object)"),
    ({"type": "response.completed", "response": {"id": "resp_1", "output": [{"type": "message", "content": [3]}]}},
     "cannot read (response.completed: a content part is a JSON number, not an object)"),
], ids=["number", "type", "delta", "index", "arguments", "content part"])
def test_an_event_of_the_wrong_shape_is_kept_as_a_failure_not_raised(event, problem):
    state, emitted = run([CREATED, text_delta("Hi"), event, text_delta(" more")])
    assert problem in state.failure.reason and not state.failure.by_server
    assert state.done and state.response is None and [c.content for c in emitted] == ["Hi"]
    err = stream_error(state)
    assert isinstance(err, StreamTruncated) and err.partial_text == "Hi" and problem in str(err)


def test_events_after_the_end_change_nothing():
    completed = {"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output": []}}
    state, emitted = run([CREATED, text_delta("Hi"), completed, text_delta(" again"), {"type": "error", "code": "x"}])
    assert state.response.text == "Hi" and state.failure is None
    assert emitted[-1].done and len(emitted) == 2


def test_unknown_events_emit_nothing():
    state = fold_all([CREATED])
    assert handle_event(text_delta("a"), state) is not None
    assert handle_event({"type": "response.output_text.annotation.added", "annotation": {}}, state) is None
    assert state.text_so_far == "a" and not state.done


def test_chunks_from_a_whole_response():
    events = events_of((SSE_FIXTURES[0].parent / "stream_reasoning_commentary_function_call_gpt55.sse").read_bytes())
    response = run(events)[0].response
    chunks = chunks_from_response(response)
    assert [c.content for c in chunks if c.content] == [response.text]
    assert [c.tool_calls for c in chunks if c.tool_calls] == [[response.message.tool_calls[0]]]
    assert chunks[-1].done and chunks[-1].response is response and sum(c.done for c in chunks) == 1


def test_a_long_stream_keeps_every_delta_in_order():
    pieces = [f" w{i}" for i in range(20_000)]
    state, emitted = run([CREATED, *map(text_delta, pieces)])
    assert state.text_so_far == "".join(pieces) and [c.content for c in emitted] == pieces


def test_null_fields_read_as_absent():
    """`null` is what some gateways send for a field they leave out."""
    events = [CREATED, {"type": "response.output_item.added", "output_index": None, "item": None},
              {**text_delta("Hi"), "delta": "Hi"}, {"type": "response.output_text.delta", "delta": None},
              {"type": "response.output_item.done", "output_index": None, "item": None},
              {"type": "response.completed", "response": {"id": "resp_1", "status": None, "output": None,
                                                          "usage": None}}]
    state, emitted = run(events)
    assert state.failure is None and state.response.text == "Hi" and state.response.status == "completed"
    assert [c.content for c in emitted if not c.done] == ["Hi", ""] and emitted[-1].done
