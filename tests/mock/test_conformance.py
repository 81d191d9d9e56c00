"""Every kind of SSE stream the mock emits parses with the openai SDK's event types.

Two checks: the SDK's own stream reader consumes each stream into typed events, and each event
validates strictly against the SDK's `ResponseStreamEvent` union. Where strict validation fails
on the real wire too, the recordings show the same deviation — the mock copies the wire, not
the SDK's declarations.
"""

from __future__ import annotations

from functools import cache
from typing import get_args

import pytest
from pydantic import ValidationError

from .conftest import HEADERS, WEATHER_TOOL, parse_sse, recorded

MODEL = "openai.gpt-5"


@cache
def event_classes() -> dict[str, type]:
    """The SDK discriminates on `type` itself; each type's event class."""
    from openai.types.responses import ResponseStreamEvent

    return {cls.model_fields["type"].annotation.__args__[0]: cls for cls in get_args(get_args(ResponseStreamEvent)[0])}


REASONING = {"reasoning": {"effort": "medium", "summary": "auto"}, "include": ["reasoning.encrypted_content"]}
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": False}

STREAMS = {
    "text": {"input": "Count to five, one number per line."},
    "instructions": {"input": "Hello", "instructions": "Answer in uppercase."},
    "function call": {"input": "What's the temperature in Paris?", "tools": [WEATHER_TOOL]},
    "parallel calls": {"input": "What's the temperature in Paris and Rome?", "tools": [WEATHER_TOOL]},
    "forced call": {"input": "Hello", "tools": [WEATHER_TOOL], "tool_choice": "required"},
    "answer from tool output": {"input": [
        {"role": "user", "content": "What's the temperature in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_temperature", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "18 C"}], "tools": [WEATHER_TOOL]},
    "reasoning with summary": {"input": "Hello", **REASONING},
    "reasoning then call": {"input": "What's the temperature in Paris?", "tools": [WEATHER_TOOL], **REASONING},
    "reasoning without summary": {"input": "Hello", "reasoning": {"effort": "low"}},
    "json schema": {"input": "Hello", "text": {"format": {"type": "json_schema", "name": "A", "schema": SCHEMA}}},
    "json object": {"input": "Answer in json", "text": {"format": {"type": "json_object"}}},
    "incomplete": {"input": "Count to twelve", "max_output_tokens": 16},
    "incomplete fault": {"input": "Count to ten", "metadata": {"mock_fault": "incomplete"}},
    "error event": {"input": "Count to ten", "metadata": {"mock_fault": "error_event"}},
    "long": {"input": "Go", "metadata": {"mock_text_tokens": "500"}},
    "no obfuscation": {"input": "Hi", "stream_options": {"include_obfuscation": False}},
    "background": {"input": "Count to three", "background": True},
    "background, failing midway": {"input": "Count to ten", "background": True, "metadata": {"mock_fault": "error_event"}},
    # logprobs: a model that is not reasoning (reasoning models refuse them)
    "logprobs": {"model": "openai.gpt-4.1", "input": "Count to three", "include": ["message.output_text.logprobs"],
                 "top_logprobs": 2},
}
REAL_STREAMS = ["stream_text_gpt52.sse", "stream_reasoning_commentary_function_call_gpt55.sse",
                "stream_reasoning_encrypted_function_call_gpt5.sse", "stream_reasoning_summary_o3mini.sse",
                "stream_background_queued_gpt4o.sse", "issue_vercel_ai_6534_midstream_error_frame.sse",
                "thirdparty_live_response_incomplete_frame.sse"]


def deviations(event: dict) -> set[tuple[str, str]]:
    """(event type, problem) for each way an event differs from the SDK's declared types."""
    try:
        event_classes()[event["type"]].model_validate(event)
    except ValidationError as exc:
        return {(event["type"], f"{e['type']} {'.'.join(map(str, e['loc']))}") for e in exc.errors()}
    return set()


def real_deviations() -> set[tuple[str, str]]:
    return set().union(*(deviations(e) for name in REAL_STREAMS for e in recorded(name)))


# The two ways the current wire differs from openai-python's declared types, which the mock copies.
WIRE_OVER_SDK = {"response.function_call_arguments.done", "error"}


def test_the_real_wire_itself_deviates_from_the_sdk_types():
    found = real_deviations()
    assert ("response.function_call_arguments.done", "missing name") in found  # every recording, 2025 to 2026
    assert ("error", "missing message") in found  # the nested error frame (vercel/ai#6534)


@pytest.mark.parametrize("case", STREAMS)
async def test_every_stream_event_validates_against_the_sdk_types(client, case):
    events = await client.stream({"model": MODEL, **STREAMS[case]})
    allowed = {d for d in real_deviations() if d[0] in WIRE_OVER_SDK}
    for event in events:
        assert deviations(event) <= allowed, event


@pytest.mark.parametrize("case", STREAMS)
def test_the_sdk_stream_reader_consumes_every_stream(mock_server, case):
    import openai

    with openai.OpenAI(base_url=mock_server.base_url, api_key="k", default_headers=HEADERS, max_retries=0) as client:
        stream = client.responses.create(**{"model": MODEL, **STREAMS[case]}, stream=True)
        if case.startswith("error event") or "failing" in case:  # the real nested error frame: the SDK raises
            with pytest.raises(openai.APIError, match="An error occurred while processing"):
                list(stream)
            return
        events = list(stream)
    assert all(type(e).__module__.startswith("openai.types.responses") for e in events)
    assert events[0].type == "response.created" and events[-1].type in ("response.completed", "response.incomplete")
    assert events[-1].response.output == [item for e in events if e.type == "response.output_item.done" for item in [e.item]]


def test_parser_sees_recorded_and_mock_frames_the_same_way():
    raw = (recorded.__globals__["RESPONSES"] / "stream_text_gpt52.sse").read_text()
    assert [name for name, _ in parse_sse(raw)] == [data["type"] for _, data in parse_sse(raw)]
