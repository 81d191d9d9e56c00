"""`OCIResponsesModel.stream()`: recorded and hand-made SSE bytes through httpx.MockTransport
into the real client (SSE parsing, chunk boundaries, errors, retries, closing), plus a real
loopback server for closing the connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import threading
import time
from typing import Any

import httpx
import pytest

from locus_nb import (
    APIStatusError,
    BadRequest,
    ConnectionFailed,
    Message,
    ModelChunkEvent,
    OCIResponsesModel,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamError,
    StreamFailed,
    StreamTruncated,
)
from locus_nb._stream import fold_all

from .conftest import COMPARTMENT
from .sse_helpers import (
    ENDINGS,
    RESPONSES,
    SSE_FIXTURES,
    SSE_HEADERS,
    Body,
    events_of,
    frames,
    serving,
    split_at,
    sse_model,
)

ASK = [Message.user("hi")]
# Every recording, by how it ends (test_stream checks that ENDINGS names them all).
COMPLETE_STREAMS = [p for p in SSE_FIXTURES if ENDINGS.get(p.name) == "completed"]
INCOMPLETE_STREAMS = [p for p in SSE_FIXTURES if ENDINGS.get(p.name) == "incomplete"]
FAILED_STREAMS = [p for p in SSE_FIXTURES if ENDINGS.get(p.name) == "failed"]


async def collect(model: OCIResponsesModel, **kw: Any) -> list[ModelChunkEvent]:
    return [ev async for ev in model.stream(ASK, **kw)]


def summary(chunks: list[ModelChunkEvent]) -> tuple:
    """Everything a caller can observe, in a comparable form."""
    done = chunks[-1]
    return (
        [c.content for c in chunks if c.content is not None],
        [c.tool_calls for c in chunks if c.tool_calls],
        sum(c.done for c in chunks),
        done.response,
        done.reasoning,
    )


def expected_from_fold(data: bytes) -> tuple:
    """What the pure fold makes of the same recording, parsed without httpx-sse."""
    events = events_of(data)
    snapshot = fold_all(events)
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    calls = [[c] for c in snapshot.response.message.tool_calls]
    return deltas, calls, 1, snapshot.response, snapshot.response.reasoning_summary or None


@pytest.mark.parametrize("path", COMPLETE_STREAMS, ids=lambda p: p.name)
async def test_stream_of_each_recording_matches_the_fold(path):
    data = path.read_bytes()
    async with sse_model(serving([data])) as model:
        chunks = await collect(model)
    assert summary(chunks) == expected_from_fold(data)
    assert chunks[-1].done and chunks[-1].response.text == fold_all(events_of(data)).text_so_far


async def test_small_recording_split_at_every_byte_offset():
    data = (RESPONSES / "stream_text_gpt52.sse").read_bytes()
    expected = expected_from_fold(data)
    pieces: list[bytes] = []
    async with sse_model(lambda request: httpx.Response(200, headers=SSE_HEADERS, stream=Body(pieces))) as model:
        for offset in range(1, len(data)):
            pieces[:] = split_at(data, [offset])
            assert summary(await collect(model)) == expected, f"split at byte {offset}"
        pieces[:] = [data[i : i + 1] for i in range(len(data))]  # every boundary at once
        assert summary(await collect(model)) == expected


@pytest.mark.parametrize("path", COMPLETE_STREAMS, ids=lambda p: p.name)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
async def test_recordings_split_at_random_offsets(path, newline):
    data = path.read_bytes()
    expected = expected_from_fold(data)
    if newline != "\n":
        data = data.replace(b"\n", newline.encode())
    rng = random.Random(f"{path.name}{newline!r}")  # fixed seed per case: failures reproduce
    async with sse_model(lambda request: httpx.Response(200, headers=SSE_HEADERS, stream=Body(pieces))) as model:
        for _ in range(12):
            cuts = rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 200)))
            pieces = split_at(data, cuts)
            assert summary(await collect(model)) == expected, f"cuts {sorted(cuts)[:20]}…"


async def test_keepalives_multiline_data_and_unicode_line_separators():
    text = "naïve café — ok\u2028next ☃"  # U+2028 is a line break to str.splitlines, not to SSE
    created = {"type": "response.created", "response": {"id": "resp_u", "status": "in_progress", "output": []}}
    deltas = [{"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0,
               "delta": piece} for piece in (text[:5], text[5:12], text[12:])]
    completed = {"type": "response.completed", "response": {
        "id": "resp_u", "status": "completed",
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}]}}
    body = frames([created]).decode()
    body += ": keep-alive\n\n: OPENROUTER PROCESSING\n\n"
    body += frames(deltas[:2]).decode()
    # one event's JSON over two data: lines (joined with "\n", which JSON reads as whitespace)
    raw = json.dumps(deltas[2], ensure_ascii=False)
    cut = raw.index('"delta"')
    body += f"event: response.output_text.delta\ndata: {raw[:cut]}\ndata: {raw[cut:]}\n\n"
    body += "event: ping\n\n" + frames([completed]).decode()
    data = body.encode()
    assert "\u2028".encode() in data
    pieces: list[bytes] = []
    async with sse_model(lambda request: httpx.Response(200, headers=SSE_HEADERS, stream=Body(pieces))) as model:
        for size in (1, 2, 3, 7):  # UTF-8 characters split across chunks
            pieces[:] = [data[i : i + size] for i in range(0, len(data), size)]
            chunks = await collect(model)
            assert [c.content for c in chunks if c.content] == [d["delta"] for d in deltas]
            assert chunks[-1].response.text == text


async def test_request_asks_for_a_stream_without_zstd():
    seen: list[httpx.Request] = []
    data = (RESPONSES / "stream_text_gpt52.sse").read_bytes()
    async with sse_model(serving([data], seen)) as model:
        await collect(model, temperature=0.5)
    request = seen[0]
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["accept-encoding"] == "identity"  # no zstd (and no buffering compression)
    assert request.headers["opc-compartment-id"] == COMPARTMENT
    body = json.loads(request.content)
    assert body["stream"] is True and body["temperature"] == 0.5 and body["store"] is False


@pytest.mark.parametrize("store", [False, True])
async def test_provider_state_follows_the_store_mode(store):
    data = (RESPONSES / "stream_text_gpt52.sse").read_bytes()
    async with sse_model(serving([data]), store=store) as model:
        done = (await collect(model))[-1].response
    rid = events_of(data)[0]["response"]["id"]
    assert done.response_id == rid
    assert done.provider_state == ({"previous_response_id": rid} if store else {})
    assert done.usage.total_tokens == 30


# -- endings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", INCOMPLETE_STREAMS, ids=lambda p: p.name)
async def test_incomplete_is_a_done_response_not_an_error(path):
    data = path.read_bytes()
    async with sse_model(serving([data])) as model:
        chunks = await collect(model)
    assert chunks[-1].done and chunks[-1].response.status == "incomplete"
    # the real wire says max_output_tokens; the spec's own example says max_tokens
    assert chunks[-1].response.incomplete_reason == events_of(data)[-1]["response"]["incomplete_details"]["reason"]


@pytest.mark.parametrize("path", FAILED_STREAMS, ids=lambda p: p.name)
async def test_failure_recordings_raise_stream_failed(path):
    data = path.read_bytes()
    event = events_of(data)[-1]
    detail = event.get("error") or (event.get("response") or {}).get("error") or event
    async with sse_model(serving([data])) as model:
        with pytest.raises(StreamFailed) as info:
            await collect(model)
    assert (info.value.code, info.value.server_message) == (detail["code"], detail["message"])


def _text_stream(*tail: dict[str, Any]) -> bytes:
    events = events_of((RESPONSES / "stream_text_gpt52.sse").read_bytes())
    head = [e for e in events if e["type"] not in ("response.completed", "response.output_text.done",
                                                   "response.content_part.done", "response.output_item.done")]
    return frames([*head, *tail])


async def test_error_mid_stream_carries_text_id_code_and_message():
    error = {"type": "error", "sequence_number": 10, "error": {
        "type": "tokens", "code": "rate_limit_exceeded", "message": "Request too large", "param": None}}
    failed = {"type": "response.failed", "sequence_number": 11, "response": {
        "id": "resp_x", "status": "failed", "error": {"code": "rate_limit_exceeded", "message": "Request too large"}}}
    async with sse_model(serving([_text_stream(error, failed)])) as model:
        got: list[str] = []
        with pytest.raises(StreamFailed) as info:
            async for chunk in model.stream(ASK):
                got.append(chunk.content)
    err = info.value
    assert got == ["2", "+", "2", " =", " ", "4"]
    assert err.partial_text == "2+2 = 4"
    assert err.response_id == "resp_0dbef2d9d14a548c00696d5e6f5080819086a0a3791c4d6b0c"
    assert (err.code, err.server_message) == ("rate_limit_exceeded", "Request too large")


async def test_stream_that_closes_without_terminal_event_is_truncated():
    seen: list[httpx.Request] = []
    async with sse_model(serving([_text_stream()], seen)) as model:
        with pytest.raises(StreamTruncated) as info:
            await collect(model)
    assert info.value.partial_text == "2+2 = 4"
    assert info.value.response_id.startswith("resp_0dbef2")
    assert len(seen) == 1


async def test_connection_dropped_mid_stream_is_truncated_and_not_retried():
    data = (RESPONSES / "stream_text_gpt52.sse").read_bytes()
    cut = data.index(b"event: response.output_text.delta", data.index(b'"delta":" ="'))
    seen: list[httpx.Request] = []
    handler = serving([data[:cut]], seen, then=httpx.RemoteProtocolError("peer closed connection"))
    async with sse_model(handler, max_retries=3) as model:
        with pytest.raises(StreamTruncated) as info:
            await collect(model)
    assert info.value.partial_text == "2+2 ="
    assert "RemoteProtocolError" in str(info.value)
    assert len(seen) == 1  # never retried once events flowed


async def test_a_drop_after_done_is_harmless():
    data = (RESPONSES / "stream_text_gpt52.sse").read_bytes()
    handler = serving([data], then=httpx.ReadError("reset while draining"))
    async with sse_model(handler) as model:
        chunks = await collect(model)
    assert chunks[-1].done and chunks[-1].response.text == "2+2 = 4"


async def test_non_json_event_is_a_typed_error():
    bad = frames([events_of((RESPONSES / "stream_text_gpt52.sse").read_bytes())[0]]) + b"data: {not json\n\n"
    async with sse_model(serving([bad])) as model:
        with pytest.raises(StreamTruncated, match="not JSON"):
            await collect(model)


@pytest.mark.parametrize(("event", "says"), [
    (b"data: 42\n\n", "not a JSON object: 42"),
    (b'data: ["response.completed"]\n\n', "not a JSON object"),
    (b'data: {"type": "response.completed", "response": {"id": "resp_x", "output": "oops"}}\n\n', "cannot read"),
    (b'data: {"type": "response.output_item.done", "output_index": 1, "item": "oops"}\n\n', "cannot read"),
    (b'data: {"type": "response.output_text.delta", "item_id": "m", "delta": 5}\n\n', "cannot read"),
    (b'data: {"type": "response.output_item.added", "output_index": "1", "item": {}}\n\n', "cannot read"),
    (b'data: {"type": "response.completed", "response": {"id": "resp_x", "usage": {"output_tokens": "7"}}}\n\n',
     "cannot read"),
    (b'data: {"type": "response.failed", "response": {"id": "resp_x", "error": {"message": ["boom"]}}}\n\n',
     "cannot read"),
    (b'data: {"type": ["response.completed"]}\n\n', "cannot read"),
], ids=["number", "array", "output not a list", "item not an object", "delta not a string", "index not a number",
        "tokens not a number", "error message not a string", "type not a string"])
async def test_events_of_the_wrong_shape_keep_the_text_so_far(event, says):
    """Whatever a gateway sends, the caller gets a typed error that still holds what arrived."""
    async with sse_model(serving([_text_stream() + event])) as model:
        with pytest.raises(StreamTruncated, match=says) as info:
            await collect(model)
    assert info.value.partial_text == "2+2 = 4" and info.value.response_id.startswith("resp_0dbef2")


@pytest.mark.parametrize("where", ["parse_response", "ModelChunkEvent"])
async def test_a_bug_in_the_fold_is_not_a_stream_error(monkeypatch, where):
    """Only what the server sent can make a stream error; a bug in this client propagates as itself."""
    def broken(*args, **kwargs):
        raise AttributeError("a bug in the fold")

    monkeypatch.setattr(f"locus_nb._stream.{where}", broken)
    data = (RESPONSES / "stream_text_gpt52.sse").read_bytes()
    async with sse_model(serving([data])) as model:
        with pytest.raises(AttributeError, match="a bug in the fold"):
            await collect(model)


@pytest.mark.parametrize("thrown", [ValueError("consumer bug"), TypeError("consumer bug"),
                                    json.JSONDecodeError("consumer bug", "", 0), httpx.ReadError("consumer bug")],
                         ids=lambda e: type(e).__name__)
async def test_an_exception_thrown_in_by_the_consumer_is_not_a_stream_error(thrown):
    data = (RESPONSES / "stream_text_gpt52.sse").read_bytes()
    body = Body([data])
    async with sse_model(lambda request: httpx.Response(200, headers=SSE_HEADERS, stream=body)) as model:
        chunks = model.stream(ASK)
        assert (await anext(chunks)).content == "2"
        with pytest.raises(type(thrown), match="consumer bug"):
            await chunks.athrow(thrown)
    assert body.closed


# -- before the first event: errors are read, typed, and retried --------------------------------------


async def test_streamed_error_reply_is_read_before_its_typed_error():
    raw = (RESPONSES / "error_400_decimal_below_min_value.json").read_bytes()
    bodies: list[Body] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(Body([raw[:40], raw[40:]]))  # a real stream: nothing read until asked
        return httpx.Response(400, headers={"content-type": "application/json", "opc-request-id": "req-1"},
                              stream=bodies[-1])

    async with sse_model(handler) as model:
        with pytest.raises(BadRequest) as info:
            await collect(model)  # the client now refuses temperature=-1 itself; the server says 400 anyway
    expected = json.loads(raw)["error"]
    assert info.value.message == expected["message"] and info.value.param == expected["param"]
    assert info.value.request_id == "req-1"
    assert bodies[0].delivered == 2 and bodies[0].closed


async def test_429_and_connect_failure_before_the_stream_are_retried():
    data = (RESPONSES / "stream_text_gpt52.sse").read_bytes()
    attempts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append("x")
        if len(attempts) == 1:
            raise httpx.ConnectError("refused")
        if len(attempts) == 2:
            return httpx.Response(429, headers={"retry-after": "0"},
                                  json={"error": {"message": "slow down", "code": "rate_limit_exceeded"}})
        return httpx.Response(200, headers=SSE_HEADERS, stream=Body([data]))

    async with sse_model(handler, max_retries=2) as model:
        chunks = await collect(model)
    assert chunks[-1].response.text == "2+2 = 4" and len(attempts) == 3


async def _no_wait(seconds: float) -> None:
    return None


async def test_retries_are_bounded(monkeypatch):
    monkeypatch.setattr("locus_nb._model._sleep", _no_wait)
    attempts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        return httpx.Response(503, json={"error": {"message": "unavailable", "code": "server_error"}})

    async with sse_model(handler, max_retries=2) as model:
        with pytest.raises(ServerError):
            await collect(model)
    assert len(attempts) == 3

    attempts.clear()
    async with sse_model(lambda r: (attempts.append(1), httpx.Response(429, json={}))[1], max_retries=0) as model:
        with pytest.raises(RateLimited):
            await collect(model)
    assert len(attempts) == 1


async def test_unreachable_endpoint_is_connection_failed():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route")

    async with sse_model(handler, max_retries=0) as model:
        with pytest.raises(ConnectionFailed):
            await collect(model)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/octet-stream", "text/html"])
@pytest.mark.parametrize("path", COMPLETE_STREAMS, ids=lambda p: p.name)
async def test_an_sse_body_reads_as_sse_whatever_its_content_type_says(path, content_type):
    """The openai SDK reads a streamed body as SSE without looking at its content-type; so does stream()."""
    data = path.read_bytes()
    async with sse_model(lambda request: httpx.Response(200, headers=SSE_HEADERS, content=data)) as model:
        expected = summary(await collect(model))
    headers = {} if content_type is None else {"content-type": content_type}
    # Blank lines first, then the recording in small pieces: what decides is the first bytes that say something.
    pieces = [b"\n", b"\r\n", *split_at(data, range(7, len(data), 97))]

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=Body(pieces))

    async with sse_model(reply) as model:
        assert summary(await collect(model)) == expected


@pytest.mark.parametrize("content_type", [None, "text/plain"])
async def test_a_json_response_without_its_content_type_is_still_one_chunk(content_type):
    body = (RESPONSES / "nonstream_function_call_gpt4o.json").read_bytes()
    headers = {} if content_type is None else {"content-type": content_type}
    async with sse_model(lambda request: httpx.Response(200, headers=headers, stream=Body([b"  ", body]))) as model:
        chunks = await collect(model)
    assert chunks[-1].done and chunks[-1].response.message.tool_calls[0].name == "get_capital"


async def test_a_json_error_body_with_a_wrong_content_type_is_still_its_typed_error():
    error = {"error": {"message": "Invalid type for 'input'.", "type": "invalid_request_error", "param": "input",
                       "code": "invalid_type"}}
    reply = httpx.Response(400, headers={"content-type": "text/plain"}, content=json.dumps(error).encode())
    async with sse_model(lambda request: reply) as model:
        with pytest.raises(BadRequest, match="Invalid type for 'input'") as info:
            await collect(model)
    assert info.value.code == "invalid_type" and not isinstance(info.value, StreamError)


async def test_a_plain_json_reply_is_accepted_as_one_chunk():
    """A server that ignores "stream": true (some gateways): the same events, all at once."""
    body = json.loads((RESPONSES / "nonstream_function_call_gpt4o.json").read_text())
    async with sse_model(lambda request: httpx.Response(200, json=body)) as model:
        chunks = await collect(model)
    call = next(i for i in body["output"] if i["type"] == "function_call")
    assert [c.tool_calls[0].id for c in chunks if c.tool_calls] == [call["call_id"]]
    assert chunks[-1].done and chunks[-1].response.message.tool_calls[0].name == call["name"]


async def test_a_reply_that_is_neither_a_stream_nor_a_response_is_a_typed_error():
    page = httpx.Response(200, headers={"content-type": "text/html"}, content=b"<html>proxy login</html>")
    async with sse_model(lambda request: page) as model:
        with pytest.raises(APIStatusError, match=r"not a JSON Response object \(content-type text/html: "
                                                 r"'<html>proxy login</html>'\)") as info:
            await collect(model)
    assert info.value.status == 200 and not isinstance(info.value, StreamError)  # nothing had streamed


async def test_a_failed_response_in_place_of_a_stream_raises_like_complete():
    failed = {"id": "resp_f", "object": "response", "status": "failed", "output": [],
              "error": {"code": "server_error", "message": "The model failed to generate a response."}}
    async with sse_model(lambda request: httpx.Response(200, json=failed)) as model:
        with pytest.raises(ServerError, match="The model failed to generate a response."):
            await collect(model)


# -- leaving early closes the HTTP stream -----------------------------------------------------------


def endless_body() -> Body:
    async def deltas():
        created = {"type": "response.created", "response": {"id": "resp_e", "status": "in_progress", "output": []}}
        yield frames([created])
        for i in range(100_000):  # bounded, but far more than any test reads
            yield frames([{"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
                           "content_index": 0, "delta": f" w{i}"}])
            await asyncio.sleep(0)

    return Body(deltas())


def endless_model() -> tuple[OCIResponsesModel, list[Body]]:
    """A model whose every request streams deltas until the client stops reading, and those bodies."""
    bodies: list[Body] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(endless_body())
        return httpx.Response(200, headers=SSE_HEADERS, stream=bodies[-1])

    return sse_model(handler), bodies


async def test_break_closes_the_response():
    model, bodies = endless_model()
    async with model:
        async with contextlib.aclosing(model.stream(ASK)) as chunks:  # closes on the spot
            async for chunk in chunks:
                if chunk.content == " w2":
                    break
        assert bodies[0].closed and bodies[0].delivered == 4

        async for chunk in model.stream(ASK):  # a plain break: closed as soon as the loop runs again
            if chunk.content == " w2":
                break
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert bodies[1].closed and bodies[1].delivered < 10


async def cancel_while_streaming(model: OCIResponsesModel) -> None:
    """Cancel a task that is reading a stream (what stopping a notebook cell does)."""
    reading = asyncio.Event()

    async def consume() -> None:
        async for _ in model.stream(ASK):
            reading.set()

    task = asyncio.create_task(consume())
    await reading.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancel_and_keyboard_interrupt_close_the_response():
    model, bodies = endless_model()
    async with model:
        await cancel_while_streaming(model)
        assert bodies[0].closed

        async def interrupted():  # a kernel interrupt lands while the generator is reading
            yield frames([{"type": "response.created", "response": {"id": "r", "output": []}}])
            raise KeyboardInterrupt

        interrupt_body = Body(interrupted())
        async with sse_model(lambda r: httpx.Response(200, headers=SSE_HEADERS, stream=interrupt_body)) as m2:
            with pytest.raises(KeyboardInterrupt):
                await collect(m2)
        assert interrupt_body.closed


class _Server:
    """A tiny real HTTP server on loopback that streams deltas until the client goes away."""

    def __init__(self) -> None:
        import uvicorn
        from starlette.applications import Starlette
        from starlette.responses import StreamingResponse
        from starlette.routing import Route

        self.disconnected = threading.Event()
        self.sent = 0

        async def create(request):
            async def deltas():
                try:
                    yield frames([{"type": "response.created", "response": {"id": "resp_s", "output": []}}])
                    for i in range(100_000):
                        self.sent += 1
                        yield frames([{"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
                                       "content_index": 0, "delta": f" w{i}"}])
                        await asyncio.sleep(0.005)
                finally:  # uvicorn cancels the body when the client has gone
                    self.disconnected.set()

            return StreamingResponse(deltas(), media_type="text/event-stream")

        app = Starlette(routes=[Route("/openai/v1/responses", create, methods=["POST"])])
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/openai/v1"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.mark.parametrize("how", ["break", "cancel"])
async def test_leaving_early_closes_the_connection_on_a_real_server(how):
    with _Server() as server:
        async with OCIResponsesModel("m", base_url=server.url, auth="none", compartment_id=COMPARTMENT,
                                     store=False) as model:
            if how == "break":
                async with contextlib.aclosing(model.stream(ASK)) as chunks:
                    async for chunk in chunks:
                        if chunk.content == " w3":
                            break
            else:
                await cancel_while_streaming(model)
            # the server sees the client go within moments, far before its 100,000 deltas
            assert await asyncio.to_thread(server.disconnected.wait, 5)
            assert server.sent < 1000


# -- the mock's faults, over a real socket ------------------------------------------------------------


async def test_every_mock_fault_through_stream(mock_server):
    """What each fault of the mock becomes in the client: the text so far, ids, server code and message."""
    from locus_nb.mock._faults import MIDSTREAM_ERROR

    count = [Message.user("Count to ten")]

    async def streamed(fault: str, texts: list[str], **kw: Any) -> ModelChunkEvent | None:
        last = None
        async with OCIResponsesModel("openai.gpt-4.1", base_url=mock_server.base_url, auth="none", store=False,
                                     compartment_id=COMPARTMENT, max_retries=0, **kw) as model:
            async for last in model.stream(count, metadata={"mock_fault": fault}):
                texts += [last.content] if last.content else []
        return last

    for fault, kind in (("drop_mid_stream", StreamTruncated), ("error_event", StreamFailed)):
        texts: list[str] = []
        with pytest.raises(kind) as info:
            await streamed(fault, texts)
        err = info.value
        assert 0 < len(texts) < 10 and err.partial_text == "".join(texts)  # cut halfway through "1, 2, … 10"
        assert err.response_id.startswith("resp_") and err.request_id.startswith("mock-")
        if kind is StreamFailed:
            assert (err.code, err.server_message) == (MIDSTREAM_ERROR["code"], MIDSTREAM_ERROR["message"])

    texts = []
    done = await streamed("incomplete", texts)
    assert done.done and done.response.status == "incomplete" and "".join(texts) == done.response.text

    for fault, kind, status in (("rate_limit", RateLimited, 429), ("server_error", ServerError, 500),
                                ("unavailable", ServerError, 503)):
        with pytest.raises(kind) as caught:
            await streamed(fault, [])
        assert caught.value.status == status and caught.value.request_id.startswith("mock-")
        assert getattr(caught.value, "retry_after", None) == (1.0 if kind is RateLimited else None)

    with pytest.raises(RequestTimeout):
        await streamed("slow_first_byte", [], timeout=httpx.Timeout(5, read=0.05))


async def test_a_rate_limited_stream_is_retried_before_its_first_event():
    from locus_nb.mock import MockServer

    with MockServer(faults=["rate_limit:1"], retry_after=0.01) as mock:
        async with OCIResponsesModel("openai.gpt-4.1", base_url=mock.base_url, auth="none", store=False,
                                     compartment_id=COMPARTMENT, max_retries=1) as model:
            chunks = [c async for c in model.stream([Message.user("Count to two")])]
        assert chunks[-1].response.text == "1, 2" and len(mock.requests) == 2
