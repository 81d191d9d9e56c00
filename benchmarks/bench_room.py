"""A room's load on one mock: many background streams at once, each paced like a live model.

    .venv/bin/python benchmarks/bench_room.py [--streams 300] [--tokens 200] [--token-delay 0.02]   (one JSON line)

`locus-nb mock --token-delay D` runs in its own process (its RSS is its own); this process opens
`--streams` background streams at once (`"background": true, "stream": true`, `mock_text_tokens`
deltas each), one small httpx client per stream (a shared pool costs O(connections) per request),
and stamps every `response.output_text.delta` as it arrives. Reported: the gaps between one stream's
consecutive deltas (p50/p95/p99/max, against the D pacing), how many streams ended with all their
deltas and a `response.completed`, wall time, and the mock's resident memory (peak, and after).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import ssl
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import HEADERS, MODEL, peak_rss_mib, start_mock  # noqa: E402

_TLS = ssl.create_default_context()  # built once: one per client would cost more than a stream
DELTA = b"event: response.output_text.delta\n"


async def one_stream(url: str, tokens: int, start: asyncio.Event) -> tuple[list[float], bool]:
    """The arrival times of one background stream's deltas, and whether it ended completed."""
    import httpx

    body = {"model": MODEL, "input": "Go", "background": True, "stream": True, "store": False,
            "metadata": {"mock_text_tokens": str(tokens)}}
    stamps: list[float] = []
    tail = b""
    completed = False
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, verify=_TLS, timeout=httpx.Timeout(120)) as http:
        await start.wait()
        async with http.stream("POST", "/responses", json=body) as r:
            r.raise_for_status()
            # Raw chunks, counted, not parsed: the client must cost less than what it measures. A frame
            # split across two chunks is counted in the second (`tail` keeps the unfinished line).
            async for chunk in r.aiter_raw():
                now = time.perf_counter()
                data = tail + chunk
                cut = data.rfind(b"\n") + 1
                stamps += [now] * data.count(DELTA, 0, cut)
                tail = data[cut:]
                completed = completed or b"event: response.completed\n" in data
    return stamps, completed and len(stamps) == tokens


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def room(url: str, streams: int, tokens: int) -> dict:
    start = asyncio.Event()
    tasks = [asyncio.ensure_future(one_stream(url, tokens, start)) for _ in range(streams)]
    await asyncio.sleep(0.2)  # every client built before the first request goes out
    began = time.perf_counter()
    start.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 600)
    wall = time.perf_counter() - began
    errors = [r for r in results if isinstance(r, BaseException)]
    done = [r for r in results if not isinstance(r, BaseException)]
    gaps = [(b - a) * 1000 for stamps, _ in done for a, b in zip(stamps, stamps[1:])]
    return {"wall_s": wall, "errors": len(errors), "first_errors": [repr(e) for e in errors[:3]],
            "complete": sum(ok for _, ok in done), "gaps": len(gaps),
            "gap_ms": {"p50": percentile(gaps, 0.5), "p95": percentile(gaps, 0.95), "p99": percentile(gaps, 0.99),
                       "max": max(gaps)} if gaps else {}}


def run(streams: int = 300, tokens: int = 200, token_delay: float = 0.02) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * streams + 256)), hard))
    proc, url = start_mock("--token-delay", str(token_delay))
    try:
        asyncio.run(room(url, 5, 20))  # warm-up: imports, the mock's first answers
        idle = peak_rss_mib(proc.pid, "VmRSS")
        measured = asyncio.run(room(url, streams, tokens))
        peak, after = peak_rss_mib(proc.pid), peak_rss_mib(proc.pid, "VmRSS")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {"streams": streams, "tokens": tokens, "token_delay_ms": token_delay * 1000, **measured,
            "mock_rss_mib": {"before": idle, "peak": peak, "after": after},
            "client_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--token-delay", type=float, default=0.02)
    args = parser.parse_args()
    print(json.dumps(run(args.streams, args.tokens, args.token_delay)), flush=True)
