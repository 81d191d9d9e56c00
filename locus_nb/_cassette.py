"""Cassette transports: every HTTP exchange of a run recorded, or answered from a recording with no network.

`RecordingTransport` wraps the real transport of a model (`locus-nb run --record DIR`): each
exchange is redacted, written to the cassette, and the redacted response is what the client gets,
so a record run prints exactly what its replay will. `ReplayTransport` answers from a cassette and
opens no socket (`locus-nb run --replay DIR`); `locus-nb mock --replay DIR` serves the same
cassettes over HTTP to any client (`locus_nb.mock._replay`). The file format, its redaction and
the matching of requests are in `_cassette_file`, re-exported here.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from ._cassette_file import (CASSETTE_SUFFIX, REQUEST_HEADERS, RESPONSE_HEADERS, VOLATILE_FIELDS, Cassette,
                             CassetteWriter, Exchange, Redactor, body_fields, canonical_body, cassette_writer,
                             load_cassette, parse_body, player)
from ._errors import ReplayMismatch
from ._sse import EVENT_END

__all__ = ["CASSETTE_SUFFIX", "VOLATILE_FIELDS", "Cassette", "CassetteWriter", "Exchange", "RecordingTransport",
           "Redactor", "ReplayMismatch", "ReplayTransport", "canonical_body", "cassette_writer", "load_cassette",
           "parse_body", "player", "replay_events"]

SSE = "text/event-stream"


def _target(url: httpx.URL) -> str:
    """The path and query of a request, as its request line has them: a poll, a resumed stream
    (`?stream=true&starting_after=N`) and a page of conversation items are told apart by the query."""
    return url.raw_path.decode("ascii")


def _is_stream(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip() == SSE


class RecordingTransport(httpx.AsyncBaseTransport):
    """Sends through `inner` (default: httpx's own), writes each exchange redacted, returns it redacted."""

    def __init__(self, writer: CassetteWriter, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.writer = writer
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        redact = self.writer.redact
        content = await request.aread()
        body = parse_body(content)
        recorded_request = {
            "method": request.method, "path": redact.text(_target(request.url)),
            "headers": redact.headers(request.headers, REQUEST_HEADERS),
            "body": json.loads(redact.text(json.dumps(body, ensure_ascii=False))) if body is not None else None,
        }
        try:
            reply = await self.inner.handle_async_request(request)
        except httpx.TransportError as exc:  # no answer at all (refused, timed out): replayed as the same error
            self.writer.write(recorded_request, {"error": type(exc).__name__})
            raise
        # A Response over the inner one decodes any content-encoding: the cassette keeps the plain bytes.
        decoded = httpx.Response(reply.status_code, headers=reply.headers, stream=reply.stream, request=request,
                                 extensions=reply.extensions)
        headers = redact.headers(decoded.headers, RESPONSE_HEADERS)
        response = {"status": reply.status_code, "headers": headers}
        if _is_stream(decoded.headers):
            stream = _RecordingStream(self.writer, recorded_request, response, decoded)
            return httpx.Response(reply.status_code, headers=headers, stream=stream, request=request)
        try:
            text = redact.text((await decoded.aread()).decode("utf-8", "replace"))
        finally:
            await decoded.aclose()
        response.update(body_fields(text))
        self.writer.write(recorded_request, response)
        return httpx.Response(reply.status_code, headers=headers, content=text.encode(), request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _RecordingStream(httpx.AsyncByteStream):
    """Passes an SSE body on one whole event at a time, each redacted and kept for the cassette."""

    def __init__(self, writer: CassetteWriter, request: dict[str, Any], response: dict[str, Any],
                 inner: httpx.Response) -> None:
        self.writer, self.request, self.response, self.inner = writer, request, response, inner
        self.events: list[dict[str, Any]] = []
        self.start = time.monotonic()
        self.written = False

    def _event(self, raw: bytes) -> bytes:
        text = self.writer.redact.text(raw.decode("utf-8", "replace"))
        self.events.append({"event": text, "t": round(time.monotonic() - self.start, 2)})
        return text.encode()

    def _write(self, end: str, **extra: Any) -> None:
        if not self.written:
            self.written = True
            self.response["stream"] = {"events": len(self.events), "end": end, **extra}
            self.writer.write(self.request, self.response, self.events)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        buffer = b""
        try:
            async for chunk in self.inner.aiter_bytes():
                buffer += chunk
                while match := EVENT_END.search(buffer):
                    raw, buffer = buffer[:match.end()], buffer[match.end():]
                    yield self._event(raw)
        except httpx.TransportError as exc:
            tail = self.writer.redact.text(buffer.decode("utf-8", "replace"))
            self._write("cut", error=type(exc).__name__, tail=tail)
            if tail:
                yield tail.encode()
            raise
        # Bytes after the last blank line are kept too, though no SSE parser dispatches them.
        tail = self.writer.redact.text(buffer.decode("utf-8", "replace"))
        self._write("complete", **({"tail": tail} if tail else {}))
        if tail:
            yield tail.encode()

    async def aclose(self) -> None:
        self._write("closed")
        await self.inner.aclose()


def _transport_error(name: str) -> type[httpx.TransportError]:
    """The httpx exception class a recording names (ReadError if it names none httpx has)."""
    error = getattr(httpx, name, None)
    return error if isinstance(error, type) and issubclass(error, httpx.TransportError) else httpx.ReadError


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers every request from a cassette; opens no socket. `pace`: wait each event's recorded time."""

    def __init__(self, cassette: Cassette, *, pace: bool = False) -> None:
        self.cassette = cassette
        self.pace = pace

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = self.cassette.play(request.method, _target(request.url), await request.aread())
        if "error" in exchange.response:
            raise _transport_error(exchange.response["error"])("replayed: the recorded request got no answer",
                                                               request=request)
        headers = exchange.response.get("headers", {})
        if exchange.streamed:
            return httpx.Response(exchange.response["status"], headers=headers, request=request,
                                  stream=_ReplayStream(exchange, self.cassette.path, self.pace))
        return httpx.Response(exchange.response["status"], headers=headers, content=exchange.body_bytes(),
                              request=request)


def replay_events(exchange: Exchange, cassette: Path, pace: bool = False) -> AsyncIterator[bytes]:
    """A recorded stream's bytes, one SSE event per chunk, then its recorded end (see the module doc)."""
    return _ReplayStream(exchange, cassette, pace).__aiter__()


class _ReplayStream(httpx.AsyncByteStream):
    def __init__(self, exchange: Exchange, cassette: Path, pace: bool) -> None:
        self.exchange, self.cassette, self.pace = exchange, cassette, pace

    async def __aiter__(self) -> AsyncIterator[bytes]:
        start = time.monotonic()
        for event in self.exchange.events:
            if self.pace and (wait := start + float(event.get("t", 0)) - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            yield event["event"].encode()
        end = self.exchange.response["stream"]
        if end.get("tail"):
            yield end["tail"].encode()
        if end.get("end") == "cut":
            error = _transport_error(end.get("error", ""))
            raise error(f"replayed: the recorded stream broke off here ({end.get('error')})")
        if end.get("end") == "closed":
            raise ReplayMismatch(
                f"cassette {self.cassette}, exchange {self.exchange.number}: the client stopped reading this "
                f"stream after {len(self.exchange.events)} event(s) when it was recorded, so the recording ends "
                "there; this run read further. Re-record it with `locus-nb run --record`.")
