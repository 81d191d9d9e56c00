"""Every request body the client builds is an Open Responses `CreateResponseBody`; the mock refuses what the spec
forbids where the real endpoint does too.

The spec's models are `openresponses-types` (generated from openresponses/openresponses
`public/openapi/openapi.json`, 2026-04-24). Validation is strict, and a body may carry no field the spec does
not declare (`extra_fields`): the client sends only the spec's own fields, at every depth. This client has no
conversation turns (`conversation=`), so there are none to check here.

Where the spec forbids what OCI accepts, the mock accepts it too, with the evidence (`SPEC_FORBIDS_OCI_TAKES`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from locus_nb import Message, OCIResponsesModel, ToolCall, tool

from .conftest import COMPARTMENT, RESPONSES, load_json
from .mock.conftest import Client
from .mock.test_open_responses import extra_fields, problems, spec, validated


@tool
def get_temperature(city: str, unit: str = "celsius") -> str:
    """Return the current temperature for a city."""
    return f"18 {unit}"


CALL = ToolCall(id="call_abc", name="get_temperature", arguments={"city": "Paris"}, raw_arguments='{"city":"Paris"}')
HISTORY = [
    Message.system("You remember facts."),
    Message.user("What's the temperature in Paris?"),
    Message.assistant("", [CALL]),
    Message.tool("call_abc", "18 C"),
    Message.assistant("It is 18 C."),
    Message.user("And tomorrow?"),
]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
          "additionalProperties": False}
EVERY_OPTION = {"max_output_tokens": 64, "temperature": 0.2, "top_p": 0.9, "metadata": {"lesson": "01"},
                "parallel_tool_calls": False, "truncation": "auto", "service_tier": "flex",
                "prompt_cache_key": "lesson-01", "safety_identifier": "user-1234", "include": [
                    "message.output_text.logprobs"]}

# name: (model id, store, messages, request_body's keyword arguments)
REQUESTS: dict[str, tuple[str, bool, list[Message], dict[str, Any]]] = {
    "stateless, one turn": ("openai.gpt-4.1", False, [Message.user("Hi")], {}),
    "stateless, history with a tool call": ("openai.gpt-4.1", False, HISTORY, {}),
    "stateless, developer message": ("openai.gpt-4.1", False, [Message.developer("Be brief."), Message.user("Hi")],
                                     {}),
    "stored, first turn": ("openai.gpt-4.1", True, HISTORY[:2], {}),
    "stored, next turn": ("openai.gpt-4.1", True, HISTORY, {"provider_state": {"previous_response_id": "resp_1"}}),
    "stored, tool result only": ("openai.gpt-4.1", True, HISTORY[:4],
                                 {"provider_state": {"previous_response_id": "resp_1"}}),
    "tools": ("openai.gpt-4.1", False, HISTORY[:2], {"tools": [get_temperature]}),
    "tools as dicts, a tool chosen by name": ("openai.gpt-4.1", False, HISTORY[:2], {
        "tools": [get_temperature.spec()], "tool_choice": "get_temperature"}),
    "tool choice required": ("openai.gpt-4.1", False, HISTORY[:2], {"tools": [get_temperature],
                                                                     "tool_choice": "required"}),
    "structured output": ("openai.gpt-4.1", False, [Message.user("Where?")], {"text": {"format": {
        "type": "json_schema", "name": "City", "schema": SCHEMA, "strict": True}}}),
    "reasoning, stateless": ("openai.gpt-5", False, [Message.user("Hi")],
                             {"reasoning": {"effort": "low", "summary": "auto"}}),
    "reasoning, stored": ("openai.gpt-5", True, [Message.user("Hi")], {"reasoning": {"effort": "high"}}),
    "streamed": ("openai.gpt-4.1", False, [Message.user("Hi")], {"stream": True}),
    "every pass-through option": ("openai.gpt-4.1", False, [Message.user("Hi")], EVERY_OPTION),
}


@pytest.fixture
async def client(mock_app):
    c = Client(mock_app)
    yield c
    await c.http.aclose()


def model(model_id: str, store: bool, transport: httpx.AsyncBaseTransport | None = None) -> OCIResponsesModel:
    return OCIResponsesModel(model_id, base_url="http://mock/openai/v1", auth="none", compartment_id=COMPARTMENT,
                             store=store, transport=transport)


def assert_spec_body(body: dict[str, Any]) -> None:
    assert problems(spec().CreateResponseBody, body) == set(), body
    assert extra_fields(validated(spec().CreateResponseBody, body), body) == set(), body


@pytest.mark.parametrize("case", REQUESTS)
def test_every_request_body_the_client_builds_is_a_create_response_body(case):
    model_id, store, messages, kwargs = REQUESTS[case]
    assert_spec_body(model(model_id, store).request_body(messages, **kwargs))


async def test_a_stateless_turn_replaying_reasoning_is_a_create_response_body(mock_app):
    """After a reasoning turn, a stateless model sends the model's items back (reasoning with its encrypted content,
    the message with its id): the one body built from a server's answer."""
    async with model("openai.gpt-5", False, httpx.ASGITransport(app=mock_app)) as m:
        reply = await m.complete([Message.user("What's the temperature in Paris?")], tools=[get_temperature],
                                 reasoning={"effort": "low", "summary": "auto"})
        history = [Message.user("What's the temperature in Paris?"), reply.message,
                   *[Message.tool(call.id, "18 C") for call in reply.message.tool_calls]]
        body = m.request_body(history, tools=[get_temperature], reasoning={"effort": "low", "summary": "auto"})
    assert any(item["type"] == "reasoning" and item.get("encrypted_content") for item in body["input"])
    assert_spec_body(body)


def test_the_recorded_requests_that_name_no_item_type_are_outside_the_spec():
    """OpenAI's short message form, {"role", "content"} with no `type`: the spec's items require `type`, the real
    endpoint answered these requests (stream_text_gpt52.request.json → stream_text_gpt52.sse), the mock takes them."""
    real = load_json("stream_text_gpt52.request.json")
    assert "type" not in real["input"][0]
    assert any(p.startswith("missing at input.") and p.endswith(".type") for p in
               problems(spec().CreateResponseBody, real))
    assert (RESPONSES / "stream_text_gpt52.sse").read_text().startswith("event: response.created")


# -- what the spec forbids ---------------------------------------------------------------------------------------

BASE = {"model": "openai.gpt-4.1", "input": "Hi"}
FUNCTION = {"type": "function", "name": "get_temperature", "parameters": {"type": "object", "properties": {}}}
CALL_ITEM = {"type": "function_call", "call_id": "call_1", "name": "get_temperature", "arguments": "{}"}
OUTPUT_ITEM = {"type": "function_call_output", "call_id": "call_1", "output": "18 C"}

# name: (a body the spec forbids, the `param` of the mock's 400). Each rule the real endpoint keeps too: most from
# OpenAI's own reference and its recorded 400s (error_400_integer_below_min_value.json: max_output_tokens < 16).
SPEC_AND_OCI_FORBID: dict[str, tuple[dict[str, Any], str]] = {
    "max_output_tokens below 16": ({**BASE, "max_output_tokens": 15}, "max_output_tokens"),
    "max_tool_calls below 1": ({**BASE, "max_tool_calls": 0}, "max_tool_calls"),
    "top_logprobs above 20": ({**BASE, "top_logprobs": 21}, "top_logprobs"),
    "17 metadata keys": ({**BASE, "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    "a metadata value over 512": ({**BASE, "metadata": {"k": "v" * 513}}, "metadata.k"),
    "a safety_identifier over 64": ({**BASE, "safety_identifier": "s" * 65}, "safety_identifier"),
    "a tool name outside the pattern": ({**BASE, "tools": [{**FUNCTION, "name": "get temperature"}]},
                                        "tools[0].name"),
    "a tool name over 64": ({**BASE, "tools": [{**FUNCTION, "name": "t" * 65}]}, "tools[0].name"),
    "a call_id over 64": ({**BASE, "input": [{**CALL_ITEM, "call_id": "c" * 65}, {**OUTPUT_ITEM,
                                                                                 "call_id": "c" * 65}]},
                          "input[0].call_id"),
    "an unknown item type": ({**BASE, "input": [{"type": "note", "text": "hi"}]}, "input[0].type"),
    "an unknown role": ({**BASE, "input": [{"type": "message", "role": "narrator", "content": "hi"}]},
                        "input[0].role"),
    "an unknown text format": ({**BASE, "text": {"format": {"type": "xml"}}}, "text.format.type"),
    "an unknown tool choice": ({**BASE, "tool_choice": "sometimes"}, "tool_choice"),
    "an unknown truncation": ({**BASE, "truncation": "sometimes"}, "truncation"),
    "an unknown service tier": ({**BASE, "service_tier": "turbo"}, "service_tier"),
    "an unknown include": ({**BASE, "include": ["everything"]}, "include[0]"),
    "an unknown effort": ({**BASE, "reasoning": {"effort": "extreme"}}, "reasoning.effort"),
    "stream as a string": ({**BASE, "stream": "yes"}, "stream"),
    "store as a number": ({**BASE, "store": 1}, "store"),
    "temperature as a string": ({**BASE, "temperature": "0.2"}, "temperature"),
    "input as a number": ({**BASE, "input": 42}, "input"),
}


@pytest.mark.parametrize("case", SPEC_AND_OCI_FORBID)
async def test_the_mock_refuses_what_the_spec_forbids_where_oci_does_too(client, case):
    body, param = SPEC_AND_OCI_FORBID[case]
    assert problems(spec().CreateResponseBody, body)  # the spec forbids it
    r = await client.post(body)
    assert (r.status_code, r.json()["error"]["param"]) == (400, param), r.text


# name: (a body the spec forbids, why OCI takes it). The mock takes these too.
SPEC_FORBIDS_OCI_TAKES: dict[str, tuple[dict[str, Any], str]] = {
    "a message without type": ({**BASE, "input": [{"role": "user", "content": "Hi"}]},
                               "every recorded request (stream_text_gpt52.request.json …)"),
    "effort minimal": ({**BASE, "model": "openai.gpt-5", "reasoning": {"effort": "minimal"}},
                       "gpt-5's efforts (OpenAI's reasoning guide; the mock's model table)"),
    "a hosted tool": ({**BASE, "tools": [{"type": "web_search"}]}, "OCI's tool-support page"),
    "a json_object format": ({**BASE, "input": "Answer in json", "text": {"format": {"type": "json_object"}}},
                             "OpenAI's reference (the spec's Response declares it, its request does not)"),
    "more include values": ({**BASE, "include": ["web_search_call.action.sources"]}, "OpenAI's reference"),
    "the scale tier": ({**BASE, "service_tier": "scale"}, "OpenAI's reference"),
    "reasoning.generate_summary": ({**BASE, "model": "openai.gpt-5", "reasoning": {"generate_summary": "auto"}},
                                   "stream_function_call_gpt4o_2025_03_noseq.sse echoes it"),
    "user": ({**BASE, "user": "user-1234"}, "OpenAI's reference (deprecated for safety_identifier)"),
    "prompt_cache_key over 64": ({**BASE, "prompt_cache_key": "p" * 65}, "OpenAI's reference sets no limit"),
}


@pytest.mark.parametrize("case", SPEC_FORBIDS_OCI_TAKES)
async def test_what_the_spec_forbids_and_oci_takes_the_mock_takes(client, case):
    body, _why = SPEC_FORBIDS_OCI_TAKES[case]
    parsed = validated(spec().CreateResponseBody, body) if not problems(spec().CreateResponseBody, body) else None
    assert parsed is None or extra_fields(parsed, body)  # outside the spec: refused by it, or not declared in it
    r = await client.post(body)
    assert r.status_code == 200, r.text
