"""Every call ends, and none is run twice: real loopback servers that misbehave after
answering — a stream that stays open after its terminal event, keep-alive comments forever, silence,
a JSON body that trickles in byte by byte, a body cut after the status line — and a pool that runs
out of connections. Each test is bounded in time (`bounded`), so a regression fails, never hangs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from locus_nb import (
    ConfigError,
    ConnectionFailed,
    Message,
    OCIResponsesModel,
    RequestTimeout,
    StreamTimeout,
    StreamTruncated,
)
from locus_nb._model import DEFAULT_DEADLINE, DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT

from .conftest import COMPARTMENT
from .sse_helpers import SSE_HEADERS, Body, frames, message_item, response_json, sse_model

ASK = [Message.user("hi")]
RID = "resp_loop"
START = [{"type": "response.created", "response": {"id": RID, "status": "in_progress", "output": []}},
         {"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0, "delta": "Hel"},
         {"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0, "delta": "lo"}]
COMPLETED = {"type": "response.completed", "response": response_json(RID, message_item("Hello"))}

Writer = asyncio.StreamWriter
Handler = Callable[[asyncio.StreamReader, Writer], Awaitable[None]]


@contextlib.asynccontextmanager
async def bounded(seconds: float) -> AsyncIterator[None]:
    """Fail (not hang) when the block takes longer than `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        pytest.fail(f"still running after {seconds} s")


class Seen(list):
    connections = 0


@contextlib.asynccontextmanager
async def raw_server(answer: Handler) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A raw HTTP/1.1 server on loopback, in the test's own event loop: it reads each request and lets
    `answer` write whatever it likes (and keep the socket open). Yields its base URL and the bodies seen
    (`.connections`: how many connections they came on)."""
    bodies = Seen()
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: Writer) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        bodies.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                bodies.append(json.loads(await reader.readexactly(length)))
                await answer(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/openai/v1", bodies
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def sse_head(writer: Writer) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    await writer.drain()


async def forever() -> None:
    await asyncio.Event().wait()


def sends_forever(first: bytes, again: bytes) -> Handler:
    """A stream that starts with `first`, then sends `again` every 20 ms and never ends."""

    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        await sse_head(writer)
        writer.write(chunked(first))
        while True:
            writer.write(chunked(again))
            await writer.drain()
            await asyncio.sleep(0.02)

    return answer


def model_at(url: str, **kw: Any) -> OCIResponsesModel:
    kw.setdefault("store", False)
    return OCIResponsesModel("openai.gpt-4.1", base_url=url, auth="none", compartment_id=COMPARTMENT, **kw)


async def drain_stream(model: OCIResponsesModel, texts: list[str], **kw: Any) -> list[Any]:
    chunks = []
    async with contextlib.aclosing(model.stream(ASK, **kw)) as stream:
        async for chunk in stream:
            chunks.append(chunk)
            if chunk.content:
                texts.append(chunk.content)
    return chunks


# -- a stream stops reading at its terminal event ----------------------------------------------------


async def test_a_stream_ends_at_its_terminal_event_when_the_server_keeps_the_connection_open():
    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        await sse_head(writer)
        writer.write(chunked(frames([*START, COMPLETED])))
        await writer.drain()
        await forever()  # neither the end of the body nor a closed socket

    async with raw_server(answer) as (url, _), model_at(url) as model, bounded(3):
        started = time.monotonic()
        chunks = await drain_stream(model, [])
    assert chunks[-1].done and chunks[-1].response.text == "Hello"
    assert time.monotonic() - started < 2  # not the 120 s read timeout


@pytest.mark.parametrize("keeps_open", [False, True])
async def test_after_the_terminal_event_the_connection_is_reused_unless_the_server_keeps_it(keeps_open):
    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        await sse_head(writer)
        writer.write(chunked(frames([*START, COMPLETED])))
        await writer.drain()
        if keeps_open:
            await forever()
        writer.write(b"0\r\n\r\n")  # the end of the body: the connection can serve the next request
        await writer.drain()

    async with raw_server(answer) as (url, seen), model_at(url) as model, bounded(4):
        for _ in range(2):
            assert (await drain_stream(model, []))[-1].done
    assert len(seen) == 2 and seen.connections == (2 if keeps_open else 1)


@pytest.mark.parametrize("ending", ["response.failed", "error", "response.incomplete"])
async def test_every_terminal_event_ends_the_stream_on_an_open_connection(ending):
    final = {"type": ending, "response": response_json(RID, message_item("Hello"), status="incomplete")}
    if ending != "response.incomplete":
        final = {"type": ending, "response": {"id": RID, "status": "failed",
                                              "error": {"code": "server_error", "message": "boom"}}}

    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        await sse_head(writer)
        writer.write(chunked(frames([*START, final])))
        await writer.drain()
        await forever()

    async with raw_server(answer) as (url, _), model_at(url) as model, bounded(3):
        texts: list[str] = []
        if ending == "response.incomplete":
            chunks = await drain_stream(model, texts)
            assert chunks[-1].response.status == "incomplete"
        else:
            with pytest.raises(Exception) as info:
                await drain_stream(model, texts)
            assert info.value.partial_text == "Hello"


# -- the idle timeout and the deadline of a stream ---------------------------------------------------


async def test_keep_alive_comments_forever_end_at_the_idle_timeout_with_the_text_so_far():
    answer = sends_forever(frames(START), b": keep-alive\n\n")
    async with raw_server(answer) as (url, _), model_at(url, stream_idle_timeout=0.3) as model, bounded(3):
        texts: list[str] = []
        started = time.monotonic()
        with pytest.raises(StreamTimeout) as info:
            await drain_stream(model, texts)
    assert 0.25 < time.monotonic() - started < 2
    assert info.value.partial_text == "".join(texts) == "Hello" and info.value.response_id == RID
    assert "no event for 0.3 s" in str(info.value) and isinstance(info.value, StreamTruncated)


async def test_keep_alive_comments_forever_end_at_the_deadline():
    answer = sends_forever(frames(START), b": keep-alive\n\n")
    # The deadline leaves room for the stream to start on a loaded machine: before its first event
    # it would be a RequestTimeout, which another test covers.
    async with raw_server(answer) as (url, _), model_at(url, deadline=1.0) as model, bounded(4):
        with pytest.raises(StreamTimeout, match="did not end within the deadline of 1 s") as info:
            await drain_stream(model, [])
    assert info.value.partial_text == "Hello"


async def test_a_steady_trickle_of_events_ends_at_the_deadline_and_a_call_can_set_its_own():
    """Events every 20 ms keep a 0.5 s idle timeout from firing (a loaded machine may stall a few hundred ms):
    only the deadline ends the stream."""
    answer = sends_forever(frames(START[:1]), frames(START[1:2]))  # never idle, never done
    async with raw_server(answer) as (url, _), model_at(url, stream_idle_timeout=0.5) as model, bounded(3):
        texts: list[str] = []
        started = time.monotonic()
        with pytest.raises(StreamTimeout, match="deadline of 1 s") as info:
            await drain_stream(model, texts, deadline=1.0)
        assert 0.9 < time.monotonic() - started < 3
        assert info.value.partial_text == "".join(texts) and texts and set(texts) == {"Hel"}


async def test_a_silent_server_ends_the_stream_at_the_idle_timeout():
    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        await sse_head(writer)
        writer.write(chunked(frames(START)))
        await writer.drain()
        await forever()

    async with raw_server(answer) as (url, _), model_at(url) as model, bounded(3):
        with pytest.raises(StreamTimeout, match="no event for 0.3 s") as info:
            await drain_stream(model, [], stream_idle_timeout=0.3)
    assert info.value.partial_text == "Hello"


async def test_a_caller_slower_than_the_deadline_gets_stream_timeout_at_its_next_read():
    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        await sse_head(writer)
        writer.write(chunked(frames(START[:2])))
        await writer.drain()
        await asyncio.sleep(2)
        writer.write(chunked(frames([START[2], COMPLETED])))
        await writer.drain()

    async with raw_server(answer) as (url, _), model_at(url, deadline=0.8) as model, bounded(4):
        texts: list[str] = []
        with pytest.raises(StreamTimeout, match="deadline") as info:
            async for chunk in model.stream(ASK):
                texts += [chunk.content] if chunk.content else []
        assert info.value.partial_text == "Hel" == "".join(texts)


async def test_a_stream_that_never_starts_is_a_request_timeout_at_the_deadline():
    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        await forever()  # not even a status line

    async with raw_server(answer) as (url, _), model_at(url, deadline=0.3) as model, bounded(3):
        with pytest.raises(RequestTimeout, match="within the deadline of 0.3 s"):
            await drain_stream(model, [])


# -- complete(): a body that trickles in, a body cut after the status line -------------------------------


async def test_a_json_body_that_trickles_in_byte_by_byte_ends_at_the_deadline():
    body = json.dumps(response_json(RID, message_item("Hello"))).encode()

    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body))
        for byte in body:  # never quiet for the read timeout, never done within the deadline
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.02)

    async with raw_server(answer) as (url, bodies), model_at(url, deadline=0.3) as model, bounded(3):
        started = time.monotonic()
        with pytest.raises(RequestTimeout, match="within the deadline of 0.3 s") as info:
            await model.complete(ASK)
        assert 0.25 < time.monotonic() - started < 2
        assert len(bodies) == 1 and "deadline=" in info.value.hint


async def test_the_deadline_bounds_the_retries_too():
    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after-ms: 100\r\n"
                     b"content-length: 2\r\n\r\n{}")
        await writer.drain()

    async with raw_server(answer) as (url, bodies), model_at(url, max_retries=100, deadline=0.8) as model, bounded(4):
        with pytest.raises(RequestTimeout, match="deadline of 0.8 s"):
            await model.complete(ASK)
    assert 2 <= len(bodies) <= 9  # retries 100 ms apart: the deadline, not max_retries, ends them


async def test_a_reply_cut_after_its_status_line_is_not_run_again_on_the_mock():
    """The mock's `drop_mid_stream` on a JSON request: half the body, then the connection closes."""
    from locus_nb.mock import MockServer

    with MockServer() as mock:
        async with model_at(mock.base_url, store=True) as model, bounded(10):
            with pytest.raises(ConnectionFailed, match="not retried") as info:
                await model.complete([Message.user("Count to ten")], metadata={"mock_fault": "drop_mid_stream"})
        assert len(mock.requests) == 1 and len(mock.state.store.responses) == 1  # one generation, one stored
    assert "RemoteProtocolError" in str(info.value) and "reach" not in info.value.hint


@pytest.mark.parametrize("cut", [httpx.RemoteProtocolError("peer closed"), httpx.ReadError("reset")])
async def test_a_body_that_breaks_off_after_the_status_line_is_not_retried(cut):
    seen: list[httpx.Request] = []
    body = json.dumps(response_json(RID, message_item("Hello"))).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=Body([body[:20]], then=cut))

    async with sse_model(handler, max_retries=3) as model:
        with pytest.raises(ConnectionFailed, match="while reading the 200 reply .* not retried"):
            await model.complete(ASK)
    assert len(seen) == 1


async def test_a_read_timeout_mid_stream_is_a_stream_timeout_with_the_text_so_far():
    handler = lambda request: httpx.Response(200, headers=SSE_HEADERS,  # noqa: E731
                                             stream=Body([frames(START)], then=httpx.ReadTimeout("quiet")))
    async with sse_model(handler) as model:
        with pytest.raises(StreamTimeout, match="read timeout") as info:
            await drain_stream(model, [])
    assert info.value.partial_text == "Hello"


# -- the connection pool ----------------------------------------------------------------------------


@pytest.mark.parametrize("limits, size", [(1, 1), (3, 3), (httpx.Limits(max_connections=7), 7)])
async def test_an_exhausted_pool_says_so_promptly_and_is_not_retried(limits, size):
    answer = sends_forever(frames(START[:1]), frames(START[1:2]))  # holds its connection: a stream that goes on
    timeout = httpx.Timeout(10, pool=0.2)
    async with raw_server(answer) as (url, bodies), model_at(url, limits=limits, timeout=timeout) as model, bounded(5):
        streams = [model.stream(ASK) for _ in range(size)]
        for stream in streams:
            await anext(stream)  # every connection of the pool is now busy
        started = time.monotonic()
        with pytest.raises(RequestTimeout) as info:
            await model.complete(ASK)
        waited = time.monotonic() - started
        for stream in streams:
            await stream.aclose()
    text = str(info.value)
    assert f"all {size} connections of the pool" in text and "are busy" in text and "raise limits=" in text
    assert "network" not in text.split("hint:")[0] and "not a network problem" in info.value.hint
    assert waited < 1 and len(bodies) == size  # the last request never went out, and was not retried


def test_limits_are_checked_and_the_defaults_bound_every_call():
    assert DEFAULT_TIMEOUT.pool == 30.0 and DEFAULT_DEADLINE == 600.0 and DEFAULT_STREAM_IDLE_TIMEOUT == 120.0
    with pytest.raises(ConfigError, match="limits"):
        model_at("http://x.test/openai/v1", limits=0)
    with pytest.raises(ConfigError, match="limits"):
        model_at("http://x.test/openai/v1", limits="many")
    with pytest.raises(ConfigError, match="transport"):
        model_at("http://x.test/openai/v1", limits=2, transport=httpx.MockTransport(lambda r: httpx.Response(200)))


@pytest.mark.parametrize("kw, name", [
    ({"deadline": 0}, "deadline"), ({"deadline": -1}, "deadline"), ({"deadline": "10"}, "deadline"),
    ({"deadline": float("inf")}, "deadline"), ({"stream_idle_timeout": 0}, "stream_idle_timeout"),
    ({"stream_idle_timeout": True}, "stream_idle_timeout"),
])
def test_bounds_are_checked_where_they_are_given(kw, name):
    with pytest.raises(ConfigError, match=f"^{name} must be a positive number of seconds"):
        model_at("http://x.test/openai/v1", **kw)


async def test_bounds_given_per_call_are_checked_too():
    async with model_at("http://x.test/openai/v1") as model:
        with pytest.raises(ConfigError, match="^deadline must be a positive number"):
            await model.complete(ASK, deadline=-1)
        with pytest.raises(ConfigError, match="^stream_idle_timeout must be a positive number"):
            await anext(model.stream(ASK, stream_idle_timeout="x"))


async def test_a_slow_caller_is_not_taken_for_a_quiet_server():
    """The idle timeout counts the time spent waiting for the server, not the caller's between chunks."""
    async def answer(reader: asyncio.StreamReader, writer: Writer) -> None:
        await sse_head(writer)
        for event in [*START, COMPLETED]:
            writer.write(chunked(frames([event])))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async with raw_server(answer) as (url, _), model_at(url, stream_idle_timeout=0.15) as model, bounded(5):
        chunks = []
        async for chunk in model.stream(ASK):
            chunks.append(chunk)
            await asyncio.sleep(0.3)  # a slow widget, say
    assert chunks[-1].done and chunks[-1].response.text == "Hello"
