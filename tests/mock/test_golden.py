"""Golden tests: the mock's output has the shape of the real recordings in tests/fixtures/responses/.

Shape = event types in order (runs of deltas collapsed), the keys of every event, object and item,
and their order where the recording is from the 2026 wire. Values (ids, text, usage numbers) are
the mock's own. The Response object follows the newest recordings (2026-07/09), which added
`moderation`, `tool_usage` and `cache_write_tokens` to what the 2026-01 text recording shows.
"""

from __future__ import annotations

from itertools import groupby

from ..conftest import load_json
from .conftest import recorded

MODEL = "openai.gpt-5.2"  # as recorded: reasoning off unless asked for (effort "none" by default)
CAPITAL_TOOL = {"type": "function", "name": "get_capital", "description": None, "strict": True,
                "parameters": {"type": "object", "properties": {"country": {"type": "string"}},
                               "required": ["country"], "additionalProperties": False}}
NEWEST = recorded("stream_reasoning_commentary_function_call_gpt55.sse")[-1]["response"]  # 2026-07
ADDED_SINCE_2026_01 = {"moderation", "tool_usage"}
SUMMARY_BLOCK = ("response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
                 "response.reasoning_summary_text.done", "response.reasoning_summary_part.done")


def shape(events: list[dict]) -> list[str]:
    """Event types with runs collapsed, and repeated reasoning-summary parts counted once."""
    types = [t for t, _ in groupby(e["type"] for e in events)]
    out: list[str] = []
    for t in types:
        out.append(t)
        if tuple(out[-8:]) == SUMMARY_BLOCK * 2:
            del out[-4:]
    return out


def key_orders(events: list[dict]) -> dict[str, list[str]]:
    return {e["type"]: list(e) for e in events}


def item_keys(events: list[dict], kind: str) -> list[list[str]]:
    return [list(e["item"]) for e in events if e["type"].startswith("response.output_item.") and e["item"]["type"] == kind]


async def test_text_stream_matches_the_2026_recording_exactly_in_shape(client):
    real = recorded("stream_text_gpt52.sse")
    mine = await client.stream({"model": MODEL, "input": "What is 2+2?", "instructions": "Answer directly.",
                                "include": ["reasoning.encrypted_content"]})
    assert shape(mine) == shape(real)
    assert key_orders(mine) == key_orders(real)
    assert item_keys(mine, "message") == item_keys(real, "message")
    for position in (0, 1, -1):  # created, in_progress, completed: the Response object, key for key
        response = mine[position]["response"]
        assert list(response) == list(NEWEST)
        assert [k for k in response if k not in ADDED_SINCE_2026_01] == list(real[position]["response"])
    assert mine[-1]["response"]["usage"] == {**NEWEST["usage"], **{k: mine[-1]["response"]["usage"][k] for k in
                                             ("input_tokens", "output_tokens", "total_tokens")},
                                             "output_tokens_details": {"reasoning_tokens": 0}}
    assert mine[-1]["response"]["tool_usage"] == NEWEST["tool_usage"]
    assert [p.keys() for e in mine if "part" in e for p in [e["part"]]] == [p.keys() for e in real if "part" in e for p in [e["part"]]]


async def test_function_call_stream_matches_the_2026_recording(client):
    real = recorded("stream_reasoning_commentary_function_call_gpt55.sse")
    mine = await client.stream({"model": MODEL, "input": "What is the capital of PotatoLand?", "tools": [CAPITAL_TOOL]})
    real_call = [e for e in real if e.get("output_index") == 2 or e.get("item", {}).get("type") == "function_call"]
    mine_call = [e for e in mine if e.get("output_index") == 0]
    assert shape(mine_call) == shape(real_call)
    assert key_orders(mine_call) == key_orders(real_call)  # no `name` on arguments.done, as recorded
    assert item_keys(mine, "function_call") == item_keys(real, "function_call")
    assert mine[-1]["response"]["output"][0]["arguments"] == '{"country":"PotatoLand"}'
    assert list(mine[-1]["response"]["tools"][0]) == [k for k in real[-1]["response"]["tools"][0] if k != "output_schema"]


async def test_reasoning_then_function_call_matches_the_recorded_event_order(client):
    real = recorded("stream_reasoning_encrypted_function_call_gpt5.sse")
    request = load_json("stream_reasoning_encrypted_function_call_gpt5.request.json")
    mine = await client.stream({**request, "reasoning": {"effort": "medium"}})
    assert shape(mine) == shape(real)
    # 2025 recording: same keys per event, in an older order.
    assert {t: sorted(k) for t, k in key_orders(mine).items()} == {t: sorted(k) for t, k in key_orders(real).items()}
    assert item_keys(mine, "reasoning") == item_keys(real, "reasoning")
    assert mine[2]["item"]["encrypted_content"].startswith("gAAAAA")


async def test_reasoning_summary_stream_matches_the_recorded_event_order(client):
    real = recorded("stream_reasoning_summary_o3mini.sse")
    request = load_json("stream_reasoning_summary_o3mini.request.json")
    mine = await client.stream({**request, "include": ["reasoning.encrypted_content"]})
    assert shape(mine) == shape(real)
    assert {t: sorted(k) for t, k in key_orders(mine).items()} == {t: sorted(k) for t, k in key_orders(real).items()}
    assert item_keys(mine, "reasoning") == item_keys(real, "reasoning")
    summaries = [e["summary_index"] for e in mine if e["type"] == "response.reasoning_summary_part.added"]
    assert summaries == list(range(len(summaries))) and len(summaries) >= 2


async def test_incomplete_stream_ends_like_the_recorded_terminal_frame(client):
    [real] = recorded("thirdparty_live_response_incomplete_frame.sse")
    mine = await client.stream({"model": "gpt-4o-mini", "input": "Count to twelve", "max_output_tokens": 16})  # as recorded
    final = mine[-1]
    assert (final["type"], list(final)) == (real["type"], list(real))
    assert list(final["response"]) == list(real["response"])
    for key in ("status", "incomplete_details", "completed_at", "moderation", "tool_usage", "reasoning",
                "prompt_cache_retention"):
        assert final["response"][key] == real["response"][key]
    assert final["response"]["output"][0]["status"] == "incomplete"
    assert list(final["response"]["output"][0]) == list(real["response"]["output"][0])


async def test_mid_stream_error_has_the_recorded_nested_shape(client):
    [real] = recorded("issue_vercel_ai_6534_midstream_error_frame.sse")
    mine = await client.stream({"model": MODEL, "input": "Count to ten", "metadata": {"mock_fault": "error_event"}})
    error, failed = mine[-2], mine[-1]
    assert list(error) == list(real) and list(error["error"]) == list(real["error"])
    assert failed["type"] == "response.failed"
    assert failed["response"]["status"] == "failed" and list(failed["response"]["error"]) == ["code", "message"]


async def test_non_stream_bodies_match_the_recordings(client):
    live = load_json("openai_python_live_text_nonstream.json")  # the one body with its wire key order
    real_2026 = recorded("stream_text_gpt52.sse")[-1]["response"]
    text = await client.create({"model": MODEL, "input": "What's new?"})
    assert list(text) == list(NEWEST)
    assert set(live) | set(real_2026) <= set(text)
    assert list(text["output"][0]) == list(live["output"][0])
    assert list(text["output"][0]["content"][0]) == list(live["output"][0]["content"][0])

    call_request = load_json("nonstream_function_call_gpt4o.request.json")
    call = await client.create(call_request)
    real_call = load_json("nonstream_function_call_gpt4o.json")  # keys sorted by the recorder
    assert sorted(call["output"][0]) == sorted(real_call["output"][0])
    assert sorted(call["tools"][0]) == sorted(real_call["tools"][0]) and call["tools"] == real_call["tools"]
    assert call["usage"].keys() == real_call["usage"].keys() == NEWEST["usage"].keys()

    reasoning = await client.create(load_json("nonstream_reasoning_summary_gpt52.request.json"))
    real_reasoning = load_json("nonstream_reasoning_summary_gpt52.json")
    assert [i["type"] for i in reasoning["output"]] == [i["type"] for i in real_reasoning["output"]]
    assert sorted(reasoning["output"][0]) == sorted(real_reasoning["output"][0])
    # summary "auto" is echoed as what it chose; `context` joined the echo in 2026
    assert reasoning["reasoning"] == {"context": None, **real_reasoning["reasoning"]}
    assert reasoning["usage"]["output_tokens_details"]["reasoning_tokens"] > 0

    structured_request = load_json("nonstream_structured_output_json_schema_gpt4o.request.json")
    structured = await client.create(structured_request)
    real_structured = load_json("nonstream_structured_output_json_schema_gpt4o.json")
    assert structured["text"]["format"] == real_structured["text"]["format"]
