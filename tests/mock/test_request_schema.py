"""The whole request schema: every field of openai-python's `ResponseCreateParams` is either taken
(and echoed where the Response carries it) or refused as not implemented — never "unknown".

A new SDK release that adds a field fails `test_the_mock_knows_every_field_of_the_sdk` until the
field is given a place: in `CreateRequest` (accepted) or in `UNSUPPORTED` (refused plainly).
"""

from __future__ import annotations

from functools import cache

import pytest

from locus_nb.mock._request_schema import MOVED, UNSUPPORTED, CreateRequest


@cache
def sdk_fields() -> set[str]:
    """Every field of the installed openai-python's `ResponseCreateParams`."""
    from openai.types.responses import response_create_params

    return set(response_create_params.ResponseCreateParamsBase.__annotations__) | set(
        response_create_params.ResponseCreateParamsStreaming.__annotations__)


MOCK_FIELDS = {field.alias or name for name, field in CreateRequest.model_fields.items()}
# Taken by the mock but not (yet) in the installed SDK's TypedDict: the 2026 wire echoes them
# (`frequency_penalty`/`presence_penalty` in stream_reasoning_commentary_function_call_gpt55.sse).
NEWER_THAN_THE_SDK = {"frequency_penalty", "presence_penalty"}

# One plausible value per SDK field (a new field needs one here too).
SAMPLES = {
    "background": True,
    "context_management": [{"type": "compaction", "compact_threshold": 1000}],
    "conversation": "conv_123",
    "include": ["message.output_text.logprobs"],
    "input": "Hello",
    "instructions": "Be brief.",
    "max_output_tokens": 64,
    "max_tool_calls": 2,
    "metadata": {"lesson": "01"},
    "model": "openai.gpt-4.1",
    "moderation": {"model": "omni-moderation-latest"},
    "parallel_tool_calls": False,
    "previous_response_id": None,  # a stored id is filled in by the test
    "prompt": {"id": "pmpt_123"},
    "prompt_cache_key": "lesson-01",
    "prompt_cache_options": {"mode": "implicit"},
    "prompt_cache_retention": "24h",
    "reasoning": {"effort": None, "summary": None},
    "safety_identifier": "user-1",
    "service_tier": "flex",
    "store": False,
    "stream": False,
    "stream_options": None,
    "temperature": 0.5,
    "text": {"format": {"type": "text"}, "verbosity": "low"},
    "tool_choice": "none",
    "tools": [],
    "top_logprobs": 3,
    "top_p": 0.9,
    "truncation": "auto",
    "user": "user-1",
}
# Sent values the Response object carries back unchanged.
ECHOED = {"instructions", "max_output_tokens", "max_tool_calls", "metadata", "parallel_tool_calls",
          "previous_response_id", "prompt_cache_key", "prompt_cache_retention", "safety_identifier", "service_tier",
          "store", "temperature", "text", "tool_choice", "tools", "top_logprobs", "top_p", "truncation", "user"}


def test_the_mock_knows_every_field_of_the_sdk():
    sdk = sdk_fields()
    assert sdk - MOCK_FIELDS - set(UNSUPPORTED) == set(), "new SDK fields: accept them or list them in UNSUPPORTED"
    assert MOCK_FIELDS & set(UNSUPPORTED) == set()
    assert MOCK_FIELDS - sdk == NEWER_THAN_THE_SDK
    assert set(UNSUPPORTED) <= sdk and set(MOVED).isdisjoint(sdk)
    assert set(SAMPLES) == sdk  # so the test below tries every SDK field


@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_every_sdk_field_is_taken_or_refused_as_not_implemented(client, name):
    base = {"model": "openai.gpt-4.1", "input": "Hello"}
    value = SAMPLES[name]
    if name == "previous_response_id":
        value = (await client.create(base))["id"]
    if name == "conversation":
        value = (await client.http.post("/conversations", json={})).json()["id"]
    r = await client.post({**base, name: value})
    if name in UNSUPPORTED:
        assert r.status_code == 400
        assert r.json()["error"] == {
            "message": f"Unsupported parameter: '{name}'. The locus-nb mock does not implement {UNSUPPORTED[name]}.",
            "type": "invalid_request_error", "param": name, "code": "unsupported_parameter"}
        return
    assert r.status_code == 200, r.text
    if name in ECHOED:
        assert r.json()[name] == value


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
async def test_an_unimplemented_field_left_empty_is_no_request_for_it(client, name):
    r = await client.post({"model": "openai.gpt-4.1", "input": "Hello", name: None})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name", ["messages", "max_tokens", "seed"])
async def test_fields_outside_the_schema_stay_unknown(client, name):
    r = await client.post({"model": "openai.gpt-4.1", "input": "Hello", name: 1})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "unknown_parameter")


async def test_the_chat_completions_reasoning_effort_gets_the_real_moved_answer(client):
    r = await client.post({"model": "openai.gpt-5", "input": "Hello", "reasoning_effort": "low"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "unsupported_parameter")
    assert r.json()["error"]["message"].startswith(  # OpenHands/software-agent-sdk#755
        "Unsupported parameter: 'reasoning_effort'. In the Responses API, this parameter has moved to 'reasoning.effort'.")
