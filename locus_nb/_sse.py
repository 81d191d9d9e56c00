"""A streamed reply read as events: the bytes → events half of `stream()`; the fold is `_stream`'s.

The body is read under the stream's idle timeout and the call's deadline (`_Watched`), sniffed (an SSE stream, or
one JSON Response from a server that ignored `"stream": true`), framed into SSE events (`_Framer`) and each event's
JSON decoded, until the caller's snapshot says the stream is done; what follows is then drained briefly, so that the
connection can be reused. A failure to read is typed once, as a broken stream holding the text so far.

SSE is framed here, not by httpx-sse: its public `aiter_sse()` refuses a body whose content-type is not an event
stream (the sniffing above needs those) and ran at 1.35-1.40x the stream benchmark's floor, its private decoders at
1.20-1.25x (the goal is 1.2x); this framer at 1.0x. A property test holds it to every framing the SSE standard allows.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from functools import partial
from typing import Any

import httpx

from ._errors import StreamError
from ._http import Expired, broken_stream, request_id_of, typed_errors
from ._stream import StreamSnapshot, stream_error

__all__ = ["EVENT_END", "EventStream", "response_in_event"]

# Where one SSE event ends in a byte stream: a blank line, in any of the standard's line endings.
EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")
_TERMINAL_BYTES = tuple(kind.encode() for kind in _TERMINAL)

_DRAIN_AFTER_END = 0.25  # seconds: see `EventStream._drain`
_decode_json = json.JSONDecoder().decode  # json.loads without its per-call checks (one call per event)


class EventStream:
    """The events of one streamed 2xx reply, in order, until `snapshot` (which the caller folds them into) is done."""

    def __init__(self, response: httpx.Response, snapshot: StreamSnapshot, *, idle: float | None,
                 deadline_at: float | None, deadline: float | None, redact: Iterable[str]) -> None:
        self._response, self._snapshot, self._redact = response, snapshot, tuple(redact)
        self._watched = response.stream = _Watched(response.stream, idle=idle, deadline_at=deadline_at,
                                                   deadline=deadline)
        self.is_sse = True
        """False when the body was one JSON Response, not SSE: it is then read whole, and no event comes."""

    def error(self, why: str, *, timed_out: bool = False) -> StreamError:
        """The snapshot's failure, else `why` the stream stopped, with the reply's request id and secrets masked."""
        return stream_error(self._snapshot, why, request_id=request_id_of(self._response.headers),
                            redact=self._redact, timed_out=timed_out)

    async def events(self) -> AsyncIterator[Any]:
        """Each event's decoded JSON. The response is closed however the reading ends."""
        response, snapshot = self._response, self._snapshot
        try:
            async with typed_errors(partial(broken_stream, error=self.error)):
                if not await _reads_as_sse(response, self._watched):
                    self.is_sse = False
                    await response.aread()
                    return
                framer = _Framer()
                async with aclosing(response.aiter_text()) as texts:
                    async for text in texts:
                        for data in framer.feed(text):
                            if data == "[DONE]":  # Chat Completions' terminator; some gateways add it
                                return
                            try:
                                event = _decode_json(data)
                            except (ValueError, RecursionError) as exc:  # not JSON; a >4300-digit number; too deep
                                raise self.error(_not_json(exc)) from None
                            yield event
                            if snapshot.done:  # the end, or a failure: what follows is not read
                                if snapshot.response is not None:
                                    await self._drain(texts)
                                return
        finally:
            await response.aclose()

    async def _drain(self, texts: AsyncIterator[str]) -> None:
        """Read what follows the terminal event (normally nothing) for `_DRAIN_AFTER_END` at most, so that the
        connection can be reused; a server that keeps it open is then simply left, and a broken rest is harmless."""
        self._watched.drain(_DRAIN_AFTER_END)
        try:
            async for _ in texts:
                pass
        except (Expired, httpx.RequestError):
            pass


class _Framer:
    """SSE framing as the HTML standard has it, for the one field this client reads: lines end at \\r\\n, \\r or
    \\n (not at the other breaks `str.splitlines` knows); `data:` lines add to an event, a blank line ends it;
    comments and the other fields are skipped, and so is an event without data."""

    def __init__(self) -> None:
        self._line = ""  # the start of a line whose end has not arrived yet
        self._cr = False  # the last text ended in \r: a \n first in the next one is the same line end
        self._data: list[str] = []

    def feed(self, text: str) -> list[str]:
        """The data of each event that `text` completes."""
        if self._cr and text[:1] == "\n":
            text = text[1:]
        self._cr = text[-1:] == "\r"
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        lines[0] = self._line + lines[0]
        self._line = lines.pop()
        events, data = [], self._data
        for line in lines:
            if not line:
                if data:
                    if joined := "\n".join(data):
                        events.append(joined)
                    data.clear()
            elif line[:5] == "data:":
                data.append(line[6:] if line[5:6] == " " else line[5:])
            elif line == "data":
                data.append("")
        return events


class _Watched(httpx.AsyncByteStream):
    """A streamed body read under the call's deadline and the stream's idle timeout, with one timer per chunk of
    bytes read (a chunk holds many events on a fast stream), none per event. Chunks that hold only SSE comments
    (`: keep-alive`) are no activity for the idle timeout."""

    def __init__(self, inner: httpx.AsyncByteStream, *, idle: float | None, deadline_at: float | None,
                 deadline: float | None) -> None:
        self._inner, self._idle, self._deadline_at, self._deadline = inner, idle, deadline_at, deadline
        self._chunks, self._head = self._read(), b""

    async def head(self) -> bytes:
        """The body's first bytes that say something (more than blank lines); they are read again after."""
        async for chunk in self._chunks:
            self._head += chunk
            if self._head.strip():
                break
        return self._head

    def drain(self, seconds: float) -> None:
        """Read on for at most `seconds` more."""
        until = asyncio.get_running_loop().time() + seconds
        self._deadline_at = until if self._deadline_at is None else min(self._deadline_at, until)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head, self._head = self._head, b""
        if head:
            yield head
        async for chunk in self._chunks:
            yield chunk

    async def _read(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        chunks = aiter(self._inner)
        idle = idle_left = self._idle  # seconds of waiting still allowed without an event (None: no bound)
        while True:
            # Only the time spent waiting here counts as the server's silence, not the caller's between two
            # chunks; the deadline counts all time.
            started = loop.time()
            at = self._deadline_at
            if at is not None and started >= at:
                raise self._expired(started)
            if idle_left is not None:
                at = started + idle_left if at is None else min(at, started + idle_left)
            try:
                async with asyncio.timeout_at(at):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise self._expired(loop.time()) from None
            if idle_left is not None:
                idle_left = idle_left - (loop.time() - started) if _only_comments(chunk) else idle
            yield chunk

    def _expired(self, now: float) -> Expired:
        if self._deadline_at is not None and now >= self._deadline_at:
            return Expired(f"the stream did not end within the deadline of {self._deadline:g} s")
        return Expired(f"the stream sent no event for {self._idle:g} s (stream_idle_timeout)")

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _reads_as_sse(response: httpx.Response, body: _Watched) -> bool:
    """Whether a streamed 2xx body is SSE. Its content-type says so when it names an event stream or JSON; with
    none or another one (some gateways), the body's first bytes decide, as the openai SDK reads any streamed body
    as SSE while a JSON Response or an HTML page still reads as what it is."""
    kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind == "text/event-stream" or kind.endswith("json"):
        return kind == "text/event-stream"
    return (await body.head()).lstrip()[:1] not in (b"", b"{", b"[", b"<")


def response_in_event(raw: str | bytes) -> dict[str, Any] | None:
    """The Response a whole terminal event carries (`response.completed`, `.incomplete` or `.failed`), as the
    recorder and the usage log see one pass by; None for any other event, or one that is not readable JSON."""
    if not any(kind in raw for kind in (_TERMINAL_BYTES if isinstance(raw, bytes) else _TERMINAL)):
        return None  # most events are deltas: not decoded
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    data = "".join(line[5:].strip() for line in text.splitlines() if line.startswith("data:"))
    try:
        event = json.loads(data) if data else None
    except ValueError:
        return None
    if isinstance(event, dict) and event.get("type") in _TERMINAL and isinstance(event.get("response"), dict):
        return event["response"]
    return None


def _only_comments(chunk: bytes) -> bool:
    """True for bytes that hold only SSE comment lines (`: keep-alive`) and blank lines."""
    if chunk[:1] not in (b":", b"\n", b"\r"):  # the usual case, decided by the first byte
        return False
    return all(not line or line.startswith(b":") for line in chunk.splitlines())


def _not_json(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"the stream sent an event that is not JSON ({exc.msg})"
    if isinstance(exc, RecursionError):
        return "the stream sent an event nested too deeply to read"
    return f"the stream sent an event that is not readable JSON ({exc})"
