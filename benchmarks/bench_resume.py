"""A background stream cut halfway and resumed, against the mock on loopback, paced like a real model.

The same background stream (`stream(..., background=True)`, a 200-number count, one token per `TOKEN_DELAY`) runs
uninterrupted and with the mock's `drop_mid_stream` fault, which cuts the connection after half the events; the
client then asks for the events after the last `sequence_number` it got and goes on. Measured, per run: wall time to
the end of the stream, whether the text equals the uninterrupted text (nothing lost, nothing repeated), how many
resumes; and one round trip (`GET /responses/{id}` of a finished response) with a fresh connection, which is what a
resume costs at least. Goal: the resumed run's extra time over the uninterrupted one within one round trip plus the
reconnect.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import COMPARTMENT, MODEL  # noqa: E402

TOKEN_DELAY = 0.005
COUNT = 200


async def one_stream(base_url: str, *, cut: bool) -> dict:
    from locus_nb import Message, OCIResponsesModel, record_requests

    model = OCIResponsesModel(MODEL, base_url=base_url, auth="none", compartment_id=COMPARTMENT, store=False)
    messages = [Message.user(f"Count to {COUNT}, one number per line.")]
    options = {"metadata": {"mock_fault": "drop_mid_stream"}} if cut else {}
    try:
        sent = record_requests(model)
        start = time.perf_counter()
        pieces = [c.content async for c in model.stream(messages, background=True, **options) if c.content]
        seconds = time.perf_counter() - start
        resumes = sum(1 for request in sent if request.method == "GET")
        resume = httpx.URL(sent[-1].url) if resumes else None
    finally:
        await model.aclose()
    return {"seconds": seconds, "text": "".join(pieces), "deltas": len(pieces), "resumes": resumes,
            "response_id": resume.path.rsplit("/", 1)[-1] if resume else None,
            "starting_after": int(resume.params["starting_after"]) if resume else None}


async def round_trip(base_url: str, response_id: str) -> float:
    """One GET of a finished response on a new connection (connect + request + reply)."""
    async with httpx.AsyncClient(base_url=base_url, headers={"opc-compartment-id": COMPARTMENT}) as client:
        start = time.perf_counter()
        (await client.get(f"/responses/{response_id}")).raise_for_status()
        return time.perf_counter() - start


def run(rounds: int = 5) -> dict:
    from locus_nb.mock import MockServer

    plain, resumed, trips = [], [], []
    with MockServer(token_delay=TOKEN_DELAY) as mock:
        for _ in range(rounds):
            plain.append(asyncio.run(one_stream(mock.base_url, cut=False)))
            resumed.append(asyncio.run(one_stream(mock.base_url, cut=True)))
            trips.append(asyncio.run(round_trip(mock.base_url, resumed[-1]["response_id"])))
    extra = [r["seconds"] - p["seconds"] for p, r in zip(plain, resumed)]
    return {
        "token_delay": TOKEN_DELAY, "count": COUNT, "rounds": rounds,
        "deltas": plain[0]["deltas"],
        "uninterrupted_s": [p["seconds"] for p in plain], "resumed_s": [r["seconds"] for r in resumed],
        "extra_s": extra, "round_trip_s": trips,
        "resumes": [r["resumes"] for r in resumed], "starting_after": [r["starting_after"] for r in resumed],
        "text_equal": all(r["text"] == plain[0]["text"] for r in resumed),
        "summary": {"extra_median_s": statistics.median(extra), "round_trip_median_s": statistics.median(trips),
                    "uninterrupted_median_s": statistics.median(p["seconds"] for p in plain)},
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
