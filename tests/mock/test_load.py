"""The mock holds load: 200 concurrent streaming conversations from one process, none mixed up."""

from __future__ import annotations

import asyncio
import ssl

import httpx
from httpx_sse import aconnect_sse

from locus_nb.mock import MockServer

from .conftest import HEADERS

CONVERSATIONS = 200
TIMEOUT_S = 120  # the bound on the whole test; it takes a few seconds
TLS = ssl.create_default_context()


async def stream_turn(http: httpx.AsyncClient, body: dict) -> tuple[str, dict]:
    events = []
    async with aconnect_sse(http, "POST", "/responses", json={**body, "stream": True}) as source:
        source.response.raise_for_status()
        async for sse in source.aiter_sse():
            data = sse.json()
            assert sse.event == data["type"]
            events.append(data)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[-1]["type"] == "response.completed"
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    return text, events[-1]["response"]


async def conversation(base_url: str, n: int) -> tuple[int, str, str]:
    # A client per conversation (one TLS context shared): httpx's single shared pool would spend
    # O(connections) per request at this concurrency and the test would measure the pool.
    async with httpx.AsyncClient(base_url=base_url, headers=HEADERS, verify=TLS, timeout=httpx.Timeout(60)) as http:
        return await two_turns(http, n)


async def two_turns(http: httpx.AsyncClient, n: int) -> tuple[int, str, str]:
    number = 1000 + n * 7919
    said, first = await stream_turn(http, {"model": "openai.gpt-4.1", "input": f"My favorite number is {number}."})
    asked, second = await stream_turn(http, {"model": "openai.gpt-4.1", "input": "What is my favorite number?",
                                             "previous_response_id": first["id"]})
    assert said == f"Got it: your favorite number is {number}."
    return number, asked, second["id"]


async def test_200_concurrent_streaming_conversations():
    with MockServer(token_delay=0.002) as mock:  # paced, so the 200 streams interleave on the wire
        results = await asyncio.wait_for(
            asyncio.gather(*(conversation(mock.base_url, n) for n in range(CONVERSATIONS))), TIMEOUT_S)
        stored = len(mock.state.store.responses)
    assert [asked for _, asked, _ in results] == [f"Your favorite number is {number}." for number, _, _ in results]
    assert len({rid for _, _, rid in results}) == CONVERSATIONS
    assert stored == 2 * CONVERSATIONS
