"""SSE framing: what every stream the mock sends has in common with the recordings."""

from __future__ import annotations

import time

import httpx
import pytest

from locus_nb.mock import MockServer

from .conftest import HEADERS, WEATHER_TOOL, deltas, parse_sse

MODEL = "openai.gpt-4.1"
TERMINALS = {"response.completed", "response.incomplete", "response.failed"}

BODIES = {
    "text": {"model": MODEL, "input": "Count to five, one number per line."},
    "tool call": {"model": MODEL, "input": "What's the temperature in Paris and Rome?", "tools": [WEATHER_TOOL]},
    "reasoning summary": {"model": "openai.gpt-5", "input": "Hello", "reasoning": {"effort": "low", "summary": "detailed"},
                          "include": ["reasoning.encrypted_content"]},
    "incomplete": {"model": MODEL, "input": "Count to twelve", "max_output_tokens": 16},
    "no obfuscation": {"model": MODEL, "input": "Hi", "stream_options": {"include_obfuscation": False}},
}


def check_framing(raw: str) -> list[dict]:
    assert raw.endswith("\n\n") and "[DONE]" not in raw
    frames = parse_sse(raw)
    for block in raw.split("\n\n")[:-1]:  # exactly `event:` then one `data:` line
        lines = block.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: {")
    events = [data for _, data in frames]
    assert [name for name, _ in frames] == [e["type"] for e in events]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"]
    for e in events[:2]:
        assert (e["response"]["status"], e["response"]["output"], e["response"]["usage"]) == ("in_progress", [], None)
    assert [e["type"] in TERMINALS for e in events].count(True) == 1 and events[-1]["type"] in TERMINALS
    return events


@pytest.mark.parametrize("case", BODIES)
async def test_stream_framing(client, case):
    r = await client.post({**BODIES[case], "stream": True})
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = check_framing(r.text)
    final = events[-1]["response"]
    # Items are announced, filled and closed in output order; the deltas add up to the final text.
    added = [e["output_index"] for e in events if e["type"] == "response.output_item.added"]
    done = [e for e in events if e["type"] == "response.output_item.done"]
    assert added == list(range(len(final["output"]))) == [e["output_index"] for e in done]
    assert [e["item"] for e in done] == final["output"]
    for index, item in enumerate(final["output"]):
        mine = [e for e in events if e.get("output_index") == index]
        if item["type"] == "message":
            assert "".join(deltas(mine)) == item["content"][0]["text"]
        elif item["type"] == "function_call":
            assert "".join(deltas(mine, "response.function_call_arguments.delta")) == item["arguments"]
        else:
            summary = deltas(mine, "response.reasoning_summary_text.delta")
            assert "".join(summary) == "".join(s["text"] for s in item["summary"])
    obfuscated = {"obfuscation" in e for e in events if e["type"].endswith(".delta")}
    assert obfuscated == ({False} if case == "no obfuscation" else {True})


async def test_terminal_response_equals_the_stored_non_stream_shape(client):
    events = await client.stream(BODIES["text"])
    final = events[-1]["response"]
    plain = await client.create(BODIES["text"])
    assert list(final) == list(plain)
    assert (await client.http.get(f"/responses/{final['id']}")).json() == final


async def test_mode_follows_the_body_not_the_accept_header(client):
    as_json = await client.post(BODIES["text"], headers={"accept": "text/event-stream"})
    assert as_json.headers["content-type"] == "application/json" and as_json.json()["object"] == "response"
    as_sse = await client.post({**BODIES["text"], "stream": True}, headers={"accept": "application/json"})
    assert as_sse.headers["content-type"] == "text/event-stream; charset=utf-8"
    explicit_false = await client.post({**BODIES["text"], "stream": False})
    assert explicit_false.headers["content-type"] == "application/json"


def test_stream_over_a_socket_is_chunked_and_paced_by_token_delay():
    with MockServer(token_delay=0.05) as mock:
        with httpx.Client(base_url=mock.base_url, headers=HEADERS) as http:
            start = time.perf_counter()
            arrivals = []
            with http.stream("POST", "/responses", json={**BODIES["text"], "stream": True}) as r:
                assert r.headers["transfer-encoding"] == "chunked"
                for chunk in r.iter_text():
                    arrivals.append((time.perf_counter() - start, chunk))
    events = check_framing("".join(c for _, c in arrivals))
    assert len(deltas(events)) == 5
    # Paced: the five deltas arrive separately, and the server's 4+ delays all fall after `start`
    # (a lower bound that the client's scheduling cannot shrink).
    assert len(arrivals) >= 5
    assert arrivals[-1][0] >= 4 * 0.05
