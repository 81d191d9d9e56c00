"""Sequential non-streaming requests to the mock over loopback: `complete()` vs the floor, the openai SDK and Locus.

    .venv/bin/python benchmarks/bench_complete.py [--requests 500] [--trials 3]   (prints; run.py writes the report)

The mock (`locus-nb mock`) runs in its own process, so the clients do not share a GIL with it. In one
run, against the same server, the clients take turns request by request (order rotated), so load from
elsewhere on a shared machine hits all alike:

- floor:           a bare `httpx.AsyncClient.post(json=…)` + `json.loads` (what any client must pay)
- complete():      `OCIResponsesModel.complete()` (`auth="none"`, `store=False`)
- openai:          the official SDK's `AsyncOpenAI().responses.create()`
- complete() signed: `complete()` signing every request with a throw-away OCI API-key profile
- Locus:           Oracle's Locus `OCIResponsesModel.complete()` (PyPI locus-sdk), which always signs;
                   compared with the signed row (the same signing work)

The whole measurement is repeated `--trials` times; figures are per-request medians over all trials,
with each trial's total for the spread. Goals: ≤ 1.10× floor, ≤ 0.5× openai, ahead of Locus.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import COMPARTMENT, MODEL, locus_model, oci_profile, spread, start_mock  # noqa: E402

WARMUP = 20
CLIENTS = ("floor", "complete()", "openai", "complete() signed", "Locus")


async def measure(url: str, requests: int, config: Path) -> dict[str, list[float]]:
    from locus.core.messages import Message as LocusMessage
    from openai import AsyncOpenAI

    from locus_nb import Message, OCIResponsesModel

    messages = [Message.system("Be brief."), Message.user("Count to three")]
    locus_messages = [LocusMessage.system("Be brief."), LocusMessage.user("Count to three")]
    model = OCIResponsesModel(MODEL, base_url=url, auth="none", compartment_id=COMPARTMENT, store=False)
    signed = OCIResponsesModel(MODEL, base_url=url, profile="DEFAULT", config_file=str(config),
                               compartment_id=COMPARTMENT, store=False)
    locus = locus_model(url, config)
    body = model.request_body(messages)
    raw = httpx.AsyncClient(base_url=url, headers={"opc-compartment-id": COMPARTMENT})
    sdk = AsyncOpenAI(base_url=url, api_key="unused", default_headers={"opc-compartment-id": COMPARTMENT})

    async def floor() -> str:
        response = await raw.post("/responses", json=body)
        return json.loads(response.content)["output"][0]["content"][0]["text"]

    async def complete() -> str:
        return (await model.complete(messages)).text

    async def openai_sdk() -> str:
        response = await sdk.responses.create(model=MODEL, instructions=body["instructions"], input=body["input"],
                                              store=False)
        return response.output_text

    async def complete_signed() -> str:
        return (await signed.complete(messages)).text

    async def locus_complete() -> str:
        return (await locus.complete(locus_messages)).message.content

    clients = dict(zip(CLIENTS, (floor, complete, openai_sdk, complete_signed, locus_complete)))
    answers = {name: await fn() for name, fn in clients.items()}
    if len(set(answers.values())) != 1:
        raise SystemExit(f"the clients disagree: {answers}")
    for fn in clients.values():
        for _ in range(WARMUP):
            await fn()
    times: dict[str, list[float]] = {name: [] for name in clients}
    order = list(clients)
    for i in range(requests):
        k = i % len(order)
        for name in order[k:] + order[:k]:
            start = time.perf_counter()
            await clients[name]()
            times[name].append(time.perf_counter() - start)
    for closer in (model.aclose(), signed.aclose(), locus.aclose(), raw.aclose(), sdk.close()):
        await closer
    return times


def run(requests: int = 500, trials: int = 3) -> dict:
    """Measurements for the report: per-request median (µs) per client, trial totals, ratios from medians."""
    proc, url = start_mock()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = oci_profile(Path(tmp))
            runs = [asyncio.run(measure(url, requests, config)) for _ in range(trials)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    clients = {}
    for name in CLIENTS:
        per_request = spread([t * 1e6 for times in runs for t in times[name]])
        per_request["p90"] = sorted(t * 1e6 for times in runs for t in times[name])[int(0.9 * requests * trials)]
        clients[name] = {"per_request_us": per_request, "trial_totals_s": [sum(times[name]) for times in runs]}
    med = {name: c["per_request_us"]["median"] for name, c in clients.items()}
    # the same ratio per trial, for its spread
    per_trial = lambda a, b: [sum(t[a]) / sum(t[b]) for t in runs]  # noqa: E731
    ratios = {
        "complete()/floor": {"median": med["complete()"] / med["floor"], "trials": per_trial("complete()", "floor")},
        "complete()/openai": {"median": med["complete()"] / med["openai"], "trials": per_trial("complete()", "openai")},
        "complete() signed/Locus": {"median": med["complete() signed"] / med["Locus"],
                                    "trials": per_trial("complete() signed", "Locus")},
        "complete()/Locus": {"median": med["complete()"] / med["Locus"], "trials": per_trial("complete()", "Locus")},
    }
    return {"requests": requests, "trials": trials, "clients": clients, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.requests, args.trials), indent=1))


if __name__ == "__main__":
    main()
