"""A long stream over loopback: `OCIResponsesModel.stream()` vs the floor, the `openai` SDK and Locus.

    .venv/bin/python benchmarks/bench_stream.py [--deltas 20000] [--rounds 7]   (prints; run.py writes the report)

The server runs in its own process (so it does not share the client's GIL): the real mock
(`locus-nb mock`) when it answers `metadata={"mock_text_tokens": "<N>"}` with exactly N streamed
deltas, and always a small Starlette app defined here that streams the same shape of events from
pre-rendered bytes (fast enough never to be the bottleneck, so the ratios show client cost; when
the mock's "raw bytes" time is close to its floor, the mock itself is what is being measured).
Each round times, on the same server:

- raw bytes: draining the body undecoded (how fast the server and the socket are)
- floor:     httpx-sse + `json.loads` of each event (the least any SSE client must do)
- stream():  `OCIResponsesModel.stream()` — parse, fold, one `ModelChunkEvent` per delta
- openai:    the official SDK's streaming iterator (`client.responses.create(stream=True)`)
- Locus:     Oracle's Locus `OCIResponsesModel.stream()` (PyPI locus-sdk; it signs every request)

Goals: stream() ≤ 1.2× the floor, ≥ 8× faster than openai, ahead of Locus.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import COMPARTMENT, HEADERS, MODEL, locus_model, oci_profile, spread  # noqa: E402


# -- the local server (run as `bench_stream.py --serve`) ----------------------------------------


def sse_body(n: int) -> bytes:
    """N word-sized text deltas in the recorded event sequence (`event:` == `data.type`, seq from 0)."""
    return "".join(sse_frames([f" word{i % 1000}" for i in range(n)])).encode()


def sse_frames(words: list[str]) -> list[str]:
    """The SSE frames of a streamed answer with these text deltas, each frame one event."""
    n = len(words)
    rid, mid = "resp_bench0001", "msg_bench0001"
    text = "".join(words)
    response = {"id": rid, "object": "response", "status": "in_progress", "model": MODEL, "output": [], "usage": None}
    item = {"id": mid, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    done_item = {**item, "status": "completed", "content": [{**part, "text": text}]}
    usage = {"input_tokens": 5, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": n,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": n + 5}
    events = [
        {"type": "response.created", "response": response},
        {"type": "response.in_progress", "response": response},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", "item_id": mid, "output_index": 0, "content_index": 0, "part": part},
        *({"type": "response.output_text.delta", "content_index": 0, "delta": w, "item_id": mid, "logprobs": [],
           "output_index": 0} for w in words),
        {"type": "response.output_text.done", "item_id": mid, "output_index": 0, "content_index": 0, "text": text,
         "logprobs": []},
        {"type": "response.content_part.done", "item_id": mid, "output_index": 0, "content_index": 0,
         "part": {**part, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": done_item},
        {"type": "response.completed", "response": {**response, "status": "completed", "output": [done_item],
                                                    "usage": usage}},
    ]
    frames = []
    for seq, event in enumerate(events):
        event["sequence_number"] = seq
        frames.append(f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n")
    return frames


def serve() -> None:
    import socket

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    cache: dict[int, bytes] = {}

    async def create(request):
        body = await request.json()
        n = int((body.get("metadata") or {}).get("mock_text_tokens") or 20)
        if n not in cache:
            cache[n] = sse_body(n)
        data = cache[n]

        async def chunks():  # the pace of a fast server: 16 KiB writes, a few events each
            for i in range(0, len(data), 16384):
                yield data[i : i + 16384]

        return StreamingResponse(chunks(), media_type="text/event-stream; charset=utf-8")

    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=[Route("/openai/v1/responses", create, methods=["POST"])])
    print(f"http://127.0.0.1:{sock.getsockname()[1]}/openai/v1", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")).run(sockets=[sock])


# -- the client side ----------------------------------------------------------------------------


def start(cmd: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit(f"server did not start: {cmd}")
    return proc, url


def mock_streams_n_tokens(url: str) -> bool:
    """Does this mock answer mock_text_tokens=N with exactly N streamed text deltas?"""
    body = {"model": MODEL, "input": "hi", "stream": True, "metadata": {"mock_text_tokens": "7"}}
    try:
        r = httpx.post(url + "/responses", json=body, headers=HEADERS, timeout=10)
    except httpx.HTTPError:
        return False
    return "text/event-stream" in r.headers.get("content-type", "") and r.text.count(
        "event: response.output_text.delta\n") == 7


def request_body(n: int) -> dict:
    return {"model": MODEL, "input": "Tell me a long story.", "store": False, "stream": True,
            "metadata": {"mock_text_tokens": str(n)}}


async def raw_bytes(client: httpx.AsyncClient, n: int) -> int:
    size = 0
    async with client.stream("POST", "/responses", json=request_body(n)) as r:
        async for chunk in r.aiter_raw():
            size += len(chunk)
    return size


async def floor(client: httpx.AsyncClient, n: int) -> int:
    deltas = 0
    async with aconnect_sse(client, "POST", "/responses", json=request_body(n)) as source:
        async for sse in source.aiter_sse():
            if json.loads(sse.data)["type"] == "response.output_text.delta":
                deltas += 1
    return deltas


async def ours(model, n: int) -> int:
    from locus_nb import Message

    deltas = 0
    async for ev in model.stream([Message.user("Tell me a long story.")], metadata={"mock_text_tokens": str(n)}):
        if ev.content is not None:
            deltas += 1
    return deltas


async def official(client, n: int) -> int:
    deltas = 0
    body = request_body(n)
    stream = await client.responses.create(model=MODEL, input=body["input"], store=False, stream=True,
                                           metadata=body["metadata"])
    async for event in stream:
        if event.type == "response.output_text.delta":
            deltas += 1
    return deltas


async def theirs(model, n: int) -> int:
    from locus.core.messages import Message as LocusMessage

    deltas = 0
    # Locus asks for max_output_tokens=4096 by default, which the mock honours: ask for enough
    async for ev in model.stream([LocusMessage.user("Tell me a long story.")], max_output_tokens=2 * n):
        if ev.content:
            deltas += 1
    return deltas


async def measure(url: str, n: int, rounds: int, config: Path) -> dict[str, list[float]]:
    import openai

    from locus_nb import OCIResponsesModel

    limits = httpx.Limits(max_connections=4)
    http = httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=120, limits=limits)
    model = OCIResponsesModel(MODEL, base_url=url, auth="none", compartment_id=COMPARTMENT, store=False, timeout=120)
    oai = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0,
                             http_client=httpx.AsyncClient(headers=HEADERS, timeout=120, limits=limits))
    locus = locus_model(url, config, metadata={"mock_text_tokens": str(n)})
    runs = {"raw bytes": lambda: raw_bytes(http, n), "floor": lambda: floor(http, n),
            "stream()": lambda: ours(model, n), "openai": lambda: official(oai, n), "Locus": lambda: theirs(locus, n)}
    times: dict[str, list[float]] = {name: [] for name in runs}
    try:
        for name, run in runs.items():  # warm-up: connections, imports, server caches
            await run()
        for _ in range(rounds):  # interleaved, so drift on a shared machine hits all alike
            for name, run in runs.items():
                gc.collect()  # nobody pays for the garbage of the run before
                start = time.perf_counter()
                result = await run()
                times[name].append(time.perf_counter() - start)
                if name != "raw bytes" and result != n:
                    raise SystemExit(f"{name} saw {result} deltas, expected {n}")
    finally:
        await http.aclose()
        await model.aclose()
        await oai.close()
        await locus.aclose()
    return times


def summarize(times: dict[str, list[float]], n: int, server: str) -> dict:
    med = {name: statistics.median(ts) for name, ts in times.items()}
    per_round = lambda a, b: [x / y for x, y in zip(times[a], times[b])]  # noqa: E731
    return {
        "server": server, "deltas": n, "rounds": len(times["floor"]),
        "clients": {name: spread(ts) for name, ts in times.items()},
        "ratios": {
            "stream()/floor": {"median": med["stream()"] / med["floor"], "rounds": per_round("stream()", "floor")},
            "openai/stream()": {"median": med["openai"] / med["stream()"], "rounds": per_round("openai", "stream()")},
            "Locus/stream()": {"median": med["Locus"] / med["stream()"], "rounds": per_round("Locus", "stream()")},
        },
    }


def bench(cmd: list[str], server: str, deltas: int, rounds: int, probe: bool = False) -> dict | None:
    proc, url = start(cmd)
    try:
        if probe and not mock_streams_n_tokens(url):
            return None
        with tempfile.TemporaryDirectory() as tmp:
            times = asyncio.run(measure(url, deltas, rounds, oci_profile(Path(tmp))))
    finally:
        proc.terminate()
        proc.wait()
    return summarize(times, deltas, server)


def run(deltas: int = 20_000, rounds: int = 7) -> dict:
    """Both servers: the mock (`--token-delay 0`) and the local pre-rendered one (never the bottleneck)."""
    out = {}
    mock = bench([sys.executable, "-m", "locus_nb.cli", "mock", "--token-delay", "0"], "the mock (`locus-nb mock`)",
                 deltas, rounds, probe=True)
    if mock is not None:
        out["mock"] = mock
    out["local"] = bench([sys.executable, __file__, "--serve"], "a pre-rendered server (16 KiB writes)", deltas, rounds)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deltas", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    print(json.dumps(run(args.deltas, args.rounds), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
