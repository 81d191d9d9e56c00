"""A live run's usage log: what `locus-nb run` reports as tokens for a run that has no cassette.

When a run sets LOCUS_NB_USAGE_LOG for its kernel (`runs/_kernels.py`), `connect()`'s models send through
`UsageLog`, which appends one JSON line per model request (`{"kind": "request", "model": …}`) and per
response that reports usage (`{"kind": "response", "id": …, "model": …, "usage": {…}}`) to that file —
nothing else of the exchange (no prompt, no output, no header). The response bodies pass through
unchanged: a JSON body is read whole (the client reads it whole anyway), a stream is passed on chunk by
chunk and only its terminal event (`response.completed`/`.incomplete`/`.failed`) is parsed.
`runs/_usage.usage_in_log` sums the file.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from .._sse import EVENT_END, response_in_event

__all__ = ["UsageLog"]

_ENCODING_HEADERS = ("content-encoding", "content-length")


class UsageLog(httpx.AsyncBaseTransport):
    """Sends through `inner` (default: httpx's own) and logs each request's model and each response's usage."""

    def __init__(self, path: str | Path, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.path = Path(path)
        self.inner = inner or httpx.AsyncHTTPTransport()

    def _append(self, entry: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as log:  # one short line per write: whole lines only
            log.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def response(self, value: Any) -> None:
        if isinstance(value, dict) and value.get("object") == "response" and value.get("usage") and value.get("id"):
            self._append({"kind": "response", "id": value["id"], "model": value.get("model"), "usage": value["usage"]})

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/responses"):
            try:
                model = json.loads(await request.aread()).get("model")
            except (ValueError, AttributeError):
                model = None
            self._append({"kind": "request", "model": model})
        reply = await self.inner.handle_async_request(request)
        # Read decoded, passed on decoded: the content-encoding is dealt with here, as the cassette recorder does.
        decoded = httpx.Response(reply.status_code, headers=reply.headers, stream=reply.stream, request=request,
                                 extensions=reply.extensions)
        headers = [(k, v) for k, v in reply.headers.multi_items() if k.lower() not in _ENCODING_HEADERS]
        if reply.headers.get("content-type", "").startswith("text/event-stream"):
            return httpx.Response(reply.status_code, headers=headers, request=request, stream=_Watched(self, decoded),
                                  extensions=reply.extensions)
        try:
            content = await decoded.aread()
        finally:
            await decoded.aclose()
        try:
            self.response(json.loads(content))
        except ValueError:
            pass
        return httpx.Response(reply.status_code, headers=headers, content=content, request=request,
                              extensions=reply.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Watched(httpx.AsyncByteStream):
    """A stream's bytes as they come, one event at a time kept; its terminal event's `response` logged."""

    def __init__(self, log: UsageLog, reply: httpx.Response) -> None:
        self.log, self.reply, self.pending = log, reply, b""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.reply.aiter_bytes():
            self.pending += chunk
            *events, self.pending = EVENT_END.split(self.pending)
            for event in events:
                self._event(event)
            yield chunk
        self._event(self.pending)

    def _event(self, event: bytes) -> None:
        self.log.response(response_in_event(event))

    async def aclose(self) -> None:
        await self.reply.aclose()
