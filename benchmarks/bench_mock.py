"""How fast the mock answers, so client benchmarks measure the client, not the mock.

    .venv/bin/python benchmarks/bench_mock.py [--requests 500]

Prints: non-stream latency over loopback (and, for comparison, the same server socket without
TCP_NODELAY), the cost of producing a 20 000-delta stream (in-process and over a socket), and
the wall time of 200 concurrent streaming conversations. Measurements only; no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import ssl
import statistics
import time

import httpx

from locus_nb.mock import MockServer
from locus_nb.mock._sse import EventStream

HEADERS = {"opc-compartment-id": "ocid1.compartment.oc1..benchmark"}
BODY = {"model": "openai.gpt-4.1", "input": "Count to three", "store": False}
LONG = {"model": "openai.gpt-4.1", "input": "Go", "store": False, "metadata": {"mock_text_tokens": "20000"}}


def latencies(mock: MockServer, n: int) -> list[float]:
    with httpx.Client(base_url=mock.base_url, headers=HEADERS) as http:
        for _ in range(20):  # warm-up: connection, imports, caches
            http.post("/responses", json=BODY).raise_for_status()
        out = []
        for _ in range(n):
            start = time.perf_counter()
            http.post("/responses", json=BODY).raise_for_status()
            out.append((time.perf_counter() - start) * 1000)
    return out


def describe(ms: list[float]) -> str:
    ms = sorted(ms)
    return (f"mean {statistics.fmean(ms):6.2f} ms  p50 {ms[len(ms) // 2]:6.2f} ms  "
            f"p99 {ms[int(len(ms) * 0.99) - 1]:6.2f} ms  ({len(ms)} requests)")


def bench_latency(n: int) -> None:
    with MockServer() as mock:
        print(f"non-stream, loopback, keep-alive   {describe(latencies(mock, n))}")
    with MockServer() as mock:
        # What the pre-bound socket would do without TCP_NODELAY: Nagle + delayed ACK.
        mock._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
        print(f"  same, socket without TCP_NODELAY {describe(latencies(mock, 20))}")


def bench_long_stream() -> None:
    with MockServer() as mock:
        with httpx.Client(base_url=mock.base_url, headers=HEADERS, timeout=60) as http:
            http.post("/responses", json=LONG).raise_for_status()  # warm-up
            final = http.post("/responses", json=LONG).json()
            start = time.perf_counter()
            generated = sum(len(frame) for frame, _ in EventStream(final).frames())
            produce = time.perf_counter() - start
            print(f"20 000-delta stream, frames built in-process   {produce * 1000:7.1f} ms  "
                  f"({generated / 1e6:.1f} MB, {20000 / produce:,.0f} deltas/s)")
            start = time.perf_counter()
            size = 0
            with http.stream("POST", "/responses", json={**LONG, "stream": True}) as r:
                for chunk in r.iter_bytes():
                    size += len(chunk)
            wall = time.perf_counter() - start
            print(f"20 000-delta stream, received over loopback    {wall * 1000:7.1f} ms  "
                  f"({size / 1e6:.1f} MB; the client only reads bytes)")


async def _stream(http: httpx.AsyncClient, body: dict) -> dict:
    """Stream one turn; the final Response (from the terminal event)."""
    r = await http.post("/responses", json={**body, "stream": True})
    return json.loads(r.text.rstrip().rsplit("\ndata: ", 1)[1])["response"]


async def _conversation(http: httpx.AsyncClient, n: int) -> None:
    first = await _stream(http, {"model": "openai.gpt-4.1", "input": f"My favorite number is {n}."})
    second = await _stream(http, {"model": "openai.gpt-4.1", "input": "What is my favorite number?", "previous_response_id": first["id"]})
    answer = second["output"][0]["content"][0]["text"]
    assert answer == f"Your favorite number is {n}.", answer


_TLS = ssl.create_default_context()  # built once: a context per client would cost more than a turn


async def _own_client_conversation(base_url: str, n: int) -> None:
    # One small client per conversation: httpx's shared pool costs O(connections) per request,
    # which at 200 connections would measure the pool, not the mock.
    async with httpx.AsyncClient(base_url=base_url, headers=HEADERS, timeout=60, verify=_TLS) as http:
        await _conversation(http, n)


async def _concurrent(mock: MockServer, conversations: int) -> float:
    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(_own_client_conversation(mock.base_url, n) for n in range(conversations))), 120)
    return time.perf_counter() - start


def bench_concurrency(conversations: int = 200) -> None:
    with MockServer() as mock:
        wall = asyncio.run(_concurrent(mock, conversations))
        print(f"{conversations} concurrent streaming conversations (2 turns each)  {wall:6.2f} s wall, "
              f"{2 * conversations / wall:,.0f} streams/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    bench_latency(args.requests)
    bench_long_stream()
    bench_concurrency()


if __name__ == "__main__":
    main()
