"""Serving SSE bytes to the real client without sockets: recorded fixtures, hand-made frames, and a
JSON → SSE adapter that makes a non-streaming server (or a canned reply) stream."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from locus_nb import OCIResponsesModel

RESPONSES = Path(__file__).parent / "fixtures" / "responses"
SSE_FIXTURES = sorted(RESPONSES.glob("*.sse"))

# How each recording ends. A new fixture must be added here (test_stream checks it).
ENDINGS = {
    "issue_vercel_ai_6534_midstream_error_frame.sse": "failed",
    "spec_example_error_event.sse": "failed",
    "spec_example_response_failed.sse": "failed",
    "spec_example_response_incomplete.sse": "incomplete",
    "stream_background_queued_gpt4o.sse": "completed",
    "stream_function_call_gpt4o_2025_03_noseq.sse": "completed",
    "stream_reasoning_commentary_function_call_gpt55.sse": "completed",
    "stream_reasoning_encrypted_function_call_gpt5.sse": "completed",
    "stream_reasoning_summary_o3mini.sse": "completed",
    "stream_text_gpt52.sse": "completed",
    "thirdparty_live_response_incomplete_frame.sse": "incomplete",
}
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}


def events_of(data: bytes | str) -> list[dict[str, Any]]:
    """The JSON of every `data:` line of a well-formed LF-framed recording (independent of httpx-sse)."""
    text = data.decode() if isinstance(data, bytes) else data
    return [json.loads(line[6:]) for line in text.split("\n") if line.startswith("data: ")]


def frames(events: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(
        f"event: {e['type']}\ndata: {json.dumps(e, ensure_ascii=False, separators=(',', ':'))}\n\n" for e in events
    ).encode()


class Body(httpx.AsyncByteStream):
    """A response body delivered in the given pieces; remembers whether the client closed it."""

    def __init__(self, chunks: Iterable[bytes] | AsyncIterator[bytes], *, then: BaseException | None = None) -> None:
        self.chunks = chunks
        self.then = then  # raised after the last piece (a connection that breaks off)
        self.closed = False
        self.delivered = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if hasattr(self.chunks, "__aiter__"):
            async for chunk in self.chunks:  # type: ignore[union-attr]
                self.delivered += 1
                yield chunk
        else:
            for chunk in self.chunks:  # type: ignore[union-attr]
                self.delivered += 1
                yield chunk
        if self.then is not None:
            raise self.then

    async def aclose(self) -> None:
        self.closed = True


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = [0, *sorted(set(cuts)), len(data)]
    return [data[a:b] for a, b in zip(points, points[1:]) if b > a]


def sse_model(handler: Callable[[httpx.Request], Any], *, store: bool = False, **kw: Any) -> OCIResponsesModel:
    return OCIResponsesModel(
        "openai.gpt-4.1", base_url="http://sse.test/openai/v1", auth="none",
        compartment_id="ocid1.compartment.oc1..aaaaaaaatestcompartment0001", store=store,
        transport=httpx.MockTransport(handler), **kw,
    )


def serving(chunks: Sequence[bytes], requests: list[httpx.Request] | None = None, **body_kw: Any):
    """A MockTransport handler that answers every request with these SSE pieces."""

    def handler(request: httpx.Request) -> httpx.Response:
        if requests is not None:
            requests.append(request)
        return httpx.Response(200, headers=SSE_HEADERS, stream=Body(list(chunks), **body_kw))

    return handler


# -- a streamed rendering of a whole Response ---------------------------------------------------

_PIECE = re.compile(r"\s*\S+")


def sse_from_response(response: Mapping[str, Any]) -> bytes:
    """The event sequence a server streams for this final Response, in the recordings' shape:
    word-sized text deltas, argument deltas by item_id only, `sequence_number` from 0."""
    rid = response["id"]
    start = {**response, "status": "in_progress", "output": [], "usage": None}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
    ]
    for index, item in enumerate(response.get("output") or ()):
        if item["type"] == "message":
            text = "".join(p.get("text", "") for p in item["content"])
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "status": "in_progress", "content": []}})
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            events.append({"type": "response.content_part.added", "item_id": item["id"], "output_index": index,
                           "content_index": 0, "part": part})
            events += [{"type": "response.output_text.delta", "item_id": item["id"], "output_index": index,
                        "content_index": 0, "delta": piece, "logprobs": []} for piece in _PIECE.findall(text)]
            events.append({"type": "response.output_text.done", "item_id": item["id"], "output_index": index,
                           "content_index": 0, "text": text, "logprobs": []})
            events.append({"type": "response.content_part.done", "item_id": item["id"], "output_index": index,
                           "content_index": 0, "part": {**part, "text": text}})
        elif item["type"] == "function_call":
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "status": "in_progress", "arguments": ""}})
            args = item["arguments"]
            events += [{"type": "response.function_call_arguments.delta", "item_id": item["id"],
                        "output_index": index, "delta": args[i : i + 4]} for i in range(0, len(args), 4)]
            events.append({"type": "response.function_call_arguments.done", "item_id": item["id"],
                           "output_index": index, "arguments": args})
        else:
            events.append({"type": "response.output_item.added", "output_index": index, "item": item})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    final = response.get("status", "completed")
    events.append({"type": "response.incomplete" if final == "incomplete" else "response.completed",
                   "response": dict(response)})
    for seq, event in enumerate(events):
        event["sequence_number"] = seq
    assert all(e["response"]["id"] == rid for e in events if "response" in e)
    return frames(events)


def streaming_adapter(app_transport: httpx.AsyncBaseTransport, log: list[dict[str, Any]] | None = None):
    """Put in front of a server that answers only JSON (the mock before it streams): a request with
    `"stream": true` is forwarded without it and the JSON reply comes back as SSE."""

    async def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        streamed = body.pop("stream", False)
        if log is not None:
            log.append({"stream": streamed, "headers": dict(request.headers)})
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        forwarded = httpx.Request(request.method, request.url, headers=headers, json=body)
        reply = await app_transport.handle_async_request(forwarded)
        content = await reply.aread()
        if not streamed or reply.status_code != 200:
            return httpx.Response(reply.status_code, headers=reply.headers, content=content)
        return httpx.Response(200, headers=SSE_HEADERS, stream=Body([sse_from_response(json.loads(content))]))

    return httpx.MockTransport(handler)


def canned(replies: list[Mapping[str, Any]], requests: list[dict[str, Any]]):
    """A transport answering each request with the next canned Response (JSON, or SSE when streamed)."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        requests.append(body)
        reply = replies[len(requests) - 1]
        if body.get("stream"):
            return httpx.Response(200, headers=SSE_HEADERS, stream=Body([sse_from_response(reply)]))
        return httpx.Response(200, json=reply)

    return httpx.MockTransport(handler)


def response_json(rid: str, *items: Mapping[str, Any], status: str = "completed") -> dict[str, Any]:
    """A minimal Response for canned replies."""
    return {"id": rid, "object": "response", "status": status, "model": "openai.gpt-4.1", "output": list(items),
            "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
            "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None}


def message_item(text: str, mid: str = "msg_1") -> dict[str, Any]:
    return {"id": mid, "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "annotations": [], "text": text}]}


def call_item(name: str, arguments: str, call_id: str, fid: str | None = None) -> dict[str, Any]:
    return {"id": fid or "fc_" + call_id, "type": "function_call", "status": "completed", "name": name,
            "call_id": call_id, "arguments": arguments}
