"""A finished Response replayed as the endpoint's SSE stream, and the ASGI reply that sends it.

Frames are `event: <type>\\ndata: <one-line JSON>\\n\\n`, `event` equal to `data.type`,
`sequence_number` from 0 without gaps, no `[DONE]`. Event order and key order follow the 2026
recordings: `type` first, then the other keys alphabetically. Delta frames are rendered from a
template, so a 20 000-token stream costs a few milliseconds to produce.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from typing import Any

from . import _scripted
from ._format import wire_json
from ._response_json import failed, in_progress

__all__ = ["EventStream", "SSEResponse"]

_OBFUSCATION = "eDuFXld9yT3ZIb98CUqmcUpLb3Q7GP0f4VxB7yzvcCNDI5ACpN7rfsrB1VIo7NIIkZj8E1WIuc6NAYNw1WqF3dH1M"
_ARGUMENT_PIECE = re.compile(r"\w+|\W+")
_FLUSH_BYTES = 64 * 1024


def _frame(event_type: str, fields: Mapping[str, Any], seq: int) -> bytes:
    data = {"type": event_type, **dict(sorted({**fields, "sequence_number": seq}.items()))}
    return f"event: {event_type}\ndata: {wire_json(data)}\n\n".encode()


class _DeltaTemplate:
    """One delta event type for one item, pre-serialized around its changing values: the delta, its
    sequence number, the obfuscation padding and (when the request asked for them) its logprobs."""

    def __init__(self, event_type: str, fields: Mapping[str, Any], obfuscate: bool, logprobs: bool = False) -> None:
        marked = {**fields, "delta": "@@delta@@", "sequence_number": "@@seq@@"}
        if obfuscate:
            marked["obfuscation"] = "@@obfuscation@@"
        if logprobs:
            marked["logprobs"] = "@@logprobs@@"
        data = {"type": event_type, **dict(sorted(marked.items()))}
        # [text, name, text, name, …, text]: the fixed JSON around each changing value, in key order.
        frame = f"event: {event_type}\ndata: {wire_json(data)}\n\n"
        self._parts = re.split(r'"@@(delta|logprobs|obfuscation|seq)@@"', frame)

    def render(self, delta: str, seq: int, logprobs: Any = None) -> bytes:
        parts = self._parts
        out = [parts[0]]
        for name, text in zip(parts[1::2], parts[2::2]):
            if name == "delta":
                out.append(wire_json(delta))
            elif name == "seq":
                out.append(str(seq))
            elif name == "logprobs":
                out.append(wire_json(logprobs))
            else:
                start = (seq * 7) % 48
                out.append(f'"{_OBFUSCATION[start : start + max(1, 16 - len(delta))]}"')
            out.append(text)
        return "".join(out).encode()


class EventStream:
    """The frames of one streamed response, generated lazily; `dropped` tells the sender to cut."""

    def __init__(self, response: Mapping[str, Any], *, requested_tier: str | None = None,
                 obfuscate: bool = True, cut: str | None = None, error: Mapping[str, Any] | None = None,
                 queued: bool = False) -> None:
        """`cut`: "drop" (connection lost) or "error" (an `error` event, then `response.failed` with `error`)
        halfway through the deltas, or right after `response.in_progress` when there are none. `queued`: a
        background response's start, `response.created` and `response.queued` with status `queued`
        (stream_background_queued_gpt4o.sse)."""
        self.response = response
        self.queued = queued
        self.requested_tier = requested_tier
        self.obfuscate = obfuscate
        self.cut = cut
        self.error = error or {}
        self.dropped = False
        self.seq = 0
        self.pieces = [self._pieces(item) for item in response["output"]]
        total = sum(len(p) for item in self.pieces for p in item)
        self.cut_after = max(1, total // 2) if total else 0

    @staticmethod
    def _pieces(item: Mapping[str, Any]) -> list[list[str]]:
        """The deltas of one item: per content/summary part (one list for a function call)."""
        if item["type"] == "message":
            return [_scripted.word_pieces(part["text"]) for part in item["content"]]
        if item["type"] == "function_call":
            return [_ARGUMENT_PIECE.findall(item["arguments"])]
        return [_scripted.word_pieces(part["text"]) for part in item.get("summary") or ()]

    def event(self, event_type: str, **fields: Any) -> bytes:
        """One more frame, numbered next (a background response's `response.failed` when it is cancelled)."""
        return self._next(event_type, **fields)

    def _next(self, event_type: str, **fields: Any) -> bytes:
        frame = _frame(event_type, fields, self.seq)
        self.seq += 1
        return frame

    def frames(self) -> Iterator[tuple[bytes, bool]]:
        """(frame, is_delta) pairs, ending with the terminal event — or where the cut says."""
        snapshot = in_progress(self.response, self.requested_tier)
        if self.queued:
            waiting = {**snapshot, "status": "queued"}
            yield self._next("response.created", response=waiting), False
            yield self._next("response.queued", response=waiting), False
        else:
            yield self._next("response.created", response=snapshot), False
        yield self._next("response.in_progress", response=snapshot), False
        deltas = 0
        if self.cut and self.cut_after == 0:
            yield from self._cut()
            return
        for index, item in enumerate(self.response["output"]):
            for frame, is_delta in self._item_frames(index, item, self.pieces[index]):
                yield frame, is_delta
                deltas += is_delta
                if self.cut and is_delta and deltas == self.cut_after:
                    yield from self._cut()
                    return
        terminal = {"completed": "response.completed", "incomplete": "response.incomplete"}
        yield self._next(terminal.get(self.response["status"], "response.failed"), response=self.response), False

    def _cut(self) -> Iterator[tuple[bytes, bool]]:
        if self.cut == "drop":
            self.dropped = True
            return
        error = dict(self.error)
        nested = {"type": "server_error", "code": error.get("code"), "message": error.get("message"), "param": None}
        # The real frame keeps this key order (vercel/ai#6534): type, sequence_number, error.
        data = wire_json({"type": "error", "sequence_number": self.seq, "error": nested})
        yield f"event: error\ndata: {data}\n\n".encode(), False
        self.seq += 1
        yield self._next("response.failed", response=failed(self.response, error)), False

    def _deltas(self, event_type: str, fields: Mapping[str, Any], pieces: list[str],
                logprobs: list[dict[str, Any]] | None = None) -> Iterator[tuple[bytes, bool]]:
        """One delta frame per piece; with `logprobs` (one per piece), each frame carries its own."""
        template = _DeltaTemplate(event_type, fields, self.obfuscate, logprobs=bool(logprobs))
        for i, piece in enumerate(pieces):
            seq, self.seq = self.seq, self.seq + 1  # before yielding: a cut may not resume this generator
            yield template.render(piece, seq, [logprobs[i]] if logprobs else None), True

    def _item_frames(self, index: int, item: Mapping[str, Any],
                     pieces: list[list[str]]) -> Iterator[tuple[bytes, bool]]:
        where = {"item_id": item["id"], "output_index": index}
        kind = item["type"]
        if kind == "message":
            yield self._next("response.output_item.added", item={**item, "status": "in_progress", "content": []},
                             output_index=index), False
            for c, part in enumerate(item["content"]):
                empty = {**part, "logprobs": [], "text": ""}
                logprobs = part.get("logprobs") or []  # one per piece, when the request included them
                yield self._next("response.content_part.added", content_index=c, part=empty, **where), False
                yield from self._deltas("response.output_text.delta",
                                        {"content_index": c, "logprobs": [], **where}, pieces[c], logprobs)
                yield self._next("response.output_text.done", content_index=c, logprobs=logprobs, text=part["text"],
                                 **where), False
                yield self._next("response.content_part.done", content_index=c, part=part, **where), False
        elif kind == "function_call":
            yield self._next("response.output_item.added", item={**item, "status": "in_progress", "arguments": ""},
                             output_index=index), False
            yield from self._deltas("response.function_call_arguments.delta", where, pieces[0])
            # Real streams carry no `name` here (even in 2026), although openai-python declares one.
            yield self._next("response.function_call_arguments.done", arguments=item["arguments"], **where), False
        elif kind == "reasoning":
            yield self._next("response.output_item.added", item={**item, "summary": []}, output_index=index), False
            for s, part in enumerate(item.get("summary") or ()):
                yield self._next("response.reasoning_summary_part.added", part={**part, "text": ""},
                                 summary_index=s, **where), False
                yield from self._deltas("response.reasoning_summary_text.delta", {"summary_index": s, **where},
                                        pieces[s])
                yield self._next("response.reasoning_summary_text.done", summary_index=s, text=part["text"],
                                 **where), False
                yield self._next("response.reasoning_summary_part.done", part=part, summary_index=s, **where), False
        yield self._next("response.output_item.done", item=item, output_index=index), False


class SSEResponse:
    """Sends an `EventStream`: batched when there is no token delay, paced when there is one.

    A `drop` cut returns without finishing the chunked body, so the server closes the
    connection mid-message — what a client sees when a network path breaks.
    """

    media_type = "text/event-stream; charset=utf-8"

    def __init__(self, stream: EventStream, *, token_delay: float = 0.0,
                 headers: Mapping[str, str] | None = None) -> None:
        self.stream = stream
        self.token_delay = token_delay
        self.headers = dict(headers or {})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        headers = {"content-type": self.media_type, "cache-control": "no-cache", **self.headers}
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(k.encode(), v.encode()) for k, v in headers.items()]})
        try:
            batch: list[bytes] = []
            size = 0
            for frame, is_delta in self.stream.frames():
                batch.append(frame)
                size += len(frame)
                if (is_delta and self.token_delay > 0) or size >= _FLUSH_BYTES:
                    await send({"type": "http.response.body", "body": b"".join(batch), "more_body": True})
                    batch, size = [], 0
                    if gone.is_set():
                        return
                    if is_delta and self.token_delay > 0:
                        await asyncio.sleep(self.token_delay)
            if batch:
                await send({"type": "http.response.body", "body": b"".join(batch), "more_body": True})
            if not self.stream.dropped:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
