"""500 sequential non-streaming requests to the mock over loopback: `complete()` against its floor and the openai SDK.

    python benchmarks/bench_complete.py [--requests 500] [--trials 3]

The mock (`locus_nb.mock.MockServer`, via `locus-nb mock`) runs in its own process, so the
client under test does not share a GIL with the server. Three clients send the same request body
to the same server in the same run:

- floor:    a bare `httpx.AsyncClient.post(json=…)` + `json.loads` (what any client must pay)
- complete: `OCIResponsesModel.complete()` (body building, auth flow, retries wrapper, typed parsing)
- openai:   the official SDK's `AsyncOpenAI().responses.create()` (openai < 3, httpx-based)

The three clients take turns request by request (order rotated), so load from elsewhere on a
shared machine hits all three alike. The whole measurement is repeated `--trials` times on the
same server; each trial's totals are printed, and the figures compared are each client's best
trial (noise only ever adds time; the `timeit` convention) and the per-request medians. Targets: complete ≤ 1.15× floor, ≤ 0.7× openai.
Also measured: `python -c "import locus_nb"` (target ≤ 0.3 s), median of 15 fresh interpreters.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

import httpx

from locus_nb import Message, OCIResponsesModel

MODEL = "openai.gpt-4.1"
COMPARTMENT = "ocid1.compartment.oc1..benchmarkcompartmentlocusnb"
MESSAGES = [Message.system("Be brief."), Message.user("Count to three")]
WARMUP = 20


def start_mock() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "locus_nb.cli", "mock", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    for _ in range(100):  # the URL is printed before uvicorn accepts
        try:
            httpx.get(url.rsplit("/openai", 1)[0] + "/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return proc, url


async def run(url: str, requests: int) -> dict[str, list[float]]:
    from openai import AsyncOpenAI

    model = OCIResponsesModel(MODEL, base_url=url, auth="none", compartment_id=COMPARTMENT, store=False)
    body = model.request_body(MESSAGES)
    raw = httpx.AsyncClient(base_url=url, headers={"opc-compartment-id": COMPARTMENT})
    sdk = AsyncOpenAI(base_url=url, api_key="unused", default_headers={"opc-compartment-id": COMPARTMENT})

    async def floor() -> str:
        response = await raw.post("/responses", json=body)
        return json.loads(response.content)["output"][0]["content"][0]["text"]

    async def complete() -> str:
        return (await model.complete(MESSAGES)).text

    async def openai_sdk() -> str:
        response = await sdk.responses.create(model=MODEL, instructions=body["instructions"], input=body["input"],
                                              store=False)
        return response.output_text

    clients = {"floor": floor, "complete": complete, "openai": openai_sdk}
    answers = {name: await fn() for name, fn in clients.items()}
    assert len(set(answers.values())) == 1, f"the clients disagree: {answers}"
    for fn in clients.values():
        for _ in range(WARMUP):
            await fn()

    # One request of each client in turn (order rotated), so load from elsewhere on a shared
    # machine lands on all three alike; each client still sends `requests` sequential requests.
    times: dict[str, list[float]] = {name: [] for name in clients}
    order = list(clients)
    for i in range(requests):
        for name in order[i % 3:] + order[: i % 3]:
            fn = clients[name]
            start = time.perf_counter()
            await fn()
            times[name].append(time.perf_counter() - start)
    await model.aclose()
    await raw.aclose()
    await sdk.close()
    return times


def import_time(samples: int = 15) -> tuple[float, float]:
    def median_of(code: str) -> float:
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return median_of("import locus_nb"), median_of("pass")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()

    proc, url = start_mock()
    try:
        trials = [asyncio.run(run(url, args.requests)) for _ in range(args.trials)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with_import, bare = import_time()

    n = args.requests
    names = ("floor", "complete", "openai")
    print(f"{n} sequential non-streaming requests per client to the mock at {url} "
          f"(clients interleaved, {args.trials} trials)")
    for i, times in enumerate(trials, 1):
        print(f"  trial {i}: " + ", ".join(f"{name} {sum(times[name]):.3f} s" for name in names))
    best = {name: min(sum(times[name]) for times in trials) for name in names}
    median = {name: statistics.median(t for times in trials for t in times[name]) for name in names}
    print(f"  {'client':9s} {'best total':>10s} {'per request':>12s} {'median':>9s}")
    for name in names:
        print(f"  {name:9s} {best[name]:8.3f} s {best[name] / n * 1e6:9.0f} µs {median[name] * 1e6:6.0f} µs")
    for other, target in (("floor", 1.15), ("openai", 0.70)):
        print(f"  complete / {other:6s} = {best['complete'] / best[other]:.3f} (best totals), "
              f"{median['complete'] / median[other]:.3f} (medians)   target ≤ {target:.2f}")
    print(f"python -c 'import locus_nb': {with_import:.3f} s median "
          f"(bare interpreter {bare:.3f} s, so the import itself ≈ {with_import - bare:.3f} s; target ≤ 0.3 s)")


if __name__ == "__main__":
    main()
