"""Many concurrent streaming conversations through one client process against one mock (its own process).

    .venv/bin/python benchmarks/bench_concurrency.py 200 1000 own-tls:200   (one JSON line per run)

Each conversation has its own `OCIResponsesModel` (a small httpx client per conversation: one shared
pool costs O(connections) per request), made as a user makes it: the models share one TLS context.
`own-tls:N` runs N models each given `transport=httpx.AsyncHTTPTransport()`, which builds a TLS
context per model (loads the CA bundle, ~80 ms of CPU) as every model did before they shared one.
Each streams two stateless turns: "My favorite number is N."
then "What is my favorite number?". Counted: errors (any exception), cross-talk (an answer that
does not name its own N, or streamed text that differs from the final response's), wall time, and
the peak RSS of the client process and of the mock. Run in a fresh process per count, so each peak
RSS is that count's own.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import COMPARTMENT, MODEL, peak_rss_mib, start_mock  # noqa: E402

async def conversation(url: str, n: int, shared_tls: bool) -> str | None:
    """None when the conversation went right; else what went wrong."""
    import httpx

    from locus_nb import Message, OCIResponsesModel

    transport = None if shared_tls else httpx.AsyncHTTPTransport()  # its own TLS context
    async with OCIResponsesModel(MODEL, base_url=url, auth="none", compartment_id=COMPARTMENT, store=False,
                                 timeout=120, max_retries=0, transport=transport) as model:
        messages = [Message.user(f"My favorite number is {n}.")]
        for turn in range(2):
            pieces, final = [], None
            async for ev in model.stream(messages):
                if ev.content:
                    pieces.append(ev.content)
                if ev.done:
                    final = ev.response
            if final is None or "".join(pieces) != final.message.content:
                return "cross-talk: streamed text differs from the final response"
            messages.append(final.message)
            if turn == 0:
                messages.append(Message.user("What is my favorite number?"))
        answer = final.message.content or ""
        if str(n) not in answer.split("number is ", 1)[-1]:
            return f"cross-talk: conversation {n} got {answer!r}"
    return None


async def many(url: str, count: int, shared_tls: bool = True) -> tuple[float, list[str]]:
    async def guarded(n: int) -> str | None:
        try:
            return await conversation(url, n, shared_tls)
        except Exception as exc:  # noqa: BLE001 — counted, not raised
            return f"error: {type(exc).__name__}: {exc}"

    start = time.perf_counter()
    results = await asyncio.wait_for(asyncio.gather(*(guarded(1000 + n) for n in range(count))), 600)
    return time.perf_counter() - start, [r for r in results if r]


def run_one(count: int, shared_tls: bool = True) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * count + 256)), hard))
    proc, url = start_mock("--token-delay", "0")
    try:
        asyncio.run(many(url, 5))  # warm-up: imports, the mock's first answers
        wall, problems = asyncio.run(many(url, count, shared_tls))
        mock_rss = peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {
        "conversations": count, "tls": "shared by all models (default)" if shared_tls else "one per model (before the fix)",
        "streams": 2 * count, "wall_s": wall,
        "errors": sum(p.startswith("error") for p in problems),
        "cross_talk": sum(p.startswith("cross-talk") for p in problems),
        "first_problems": problems[:3],
        "client_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "mock_peak_rss_mib": mock_rss,
    }


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["200"]:
        print(json.dumps(run_one(int(arg.rsplit(":", 1)[-1]), shared_tls=not arg.startswith("own-tls:"))), flush=True)
