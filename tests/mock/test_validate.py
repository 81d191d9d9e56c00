"""Bad requests get the real endpoint's 4xx JSON envelope — also when they ask for a stream."""

from __future__ import annotations

import pytest

from locus_nb import Message, NotFound

from ..conftest import RESPONSES, load_json

BASE = {"model": "openai.gpt-4.1", "input": "hi"}


def error(status: int, message: str, param: str | None, code: str | None) -> tuple[int, dict]:
    return status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


CASES = {
    "messages instead of input": (
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        error(400, "Unknown parameter: 'messages'.", "messages", "unknown_parameter"),
    ),
    "max_tokens instead of max_output_tokens": (
        {**BASE, "max_tokens": 100},
        error(400, "Unknown parameter: 'max_tokens'.", "max_tokens", "unknown_parameter"),
    ),
    "unknown field": ({**BASE, "colour": "blue"}, error(400, "Unknown parameter: 'colour'.", "colour", "unknown_parameter")),
    "unknown field inside an item": (
        {**BASE, "input": [{"role": "user", "content": "hi", "name": "ada"}]},
        error(400, "Unknown parameter: 'input[0].name'.", "input[0].name", "unknown_parameter"),
    ),
    "response_format moved": (
        {**BASE, "response_format": {"type": "json_object"}},
        error(400, "Unsupported parameter: 'response_format'. In the Responses API, this parameter has moved to "
                   "'text.format'. Try again with the new parameter.", "response_format", "unsupported_parameter"),
    ),
    "max_output_tokens below 16": ({**BASE, "max_output_tokens": 8}, (400, load_json("error_400_integer_below_min_value.json"))),
    "max_output_tokens as a string": ({**BASE, "max_output_tokens": "8"}, (400, load_json("error_400_invalid_type.json"))),
    "temperature below 0": ({**BASE, "temperature": -1}, (400, load_json("error_400_decimal_below_min_value.json"))),
    "temperature above 2": (
        {**BASE, "temperature": 2.5},
        error(400, "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
              "temperature", "decimal_above_max_value"),
    ),
    "store as a string": (
        {**BASE, "store": "false"},
        error(400, "Invalid type for 'store': expected a boolean, but got a string instead.", "store", "invalid_type"),
    ),
    "input as a number": (
        {**BASE, "input": 42},
        error(400, "Invalid type for 'input': expected one of a string or array of input items, but got an integer "
                   "instead.", "input", "invalid_type"),
    ),
    "background as a string": (  # a live probe of api.openai.com, 2026-08 (see _validate.MUTUALLY_EXCLUSIVE)
        {**BASE, "background": "yes"},
        error(400, "Invalid type for 'background': expected a boolean, but got a string instead.", "background",
              "invalid_type"),
    ),
    "conversation as a number": (
        {**BASE, "conversation": 7},
        error(400, "Invalid type for 'conversation': expected one of a string or object, but got an integer instead.",
              "conversation", "invalid_type"),
    ),
    "missing model": ({"input": "hi"}, error(400, "Missing required parameter: 'model'.", "model", "missing_required_parameter")),
    "chat-style tool": (
        {**BASE, "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
        error(400, "Missing required parameter: 'tools[0].name'.", "tools[0].name", "missing_required_parameter"),
    ),
    "unknown item type": (
        {**BASE, "input": [{"type": "tool_result", "content": "x"}]},
        error(400, "Invalid value: 'tool_result'. Supported values are: 'message', 'function_call', "
                   "'function_call_output', 'reasoning', and 'item_reference'.", "input[0].type", "invalid_value"),
    ),
    "assistant with input_text": (
        {**BASE, "input": [{"role": "assistant", "content": [{"type": "input_text", "text": "hi"}]}]},
        error(400, "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
              "input[0].content[0]", "invalid_value"),
    ),
    "truncation value": (
        {**BASE, "truncation": "sometimes"},
        error(400, "Invalid value: 'sometimes'. Supported values are: 'auto' and 'disabled'.", "truncation", "invalid_value"),
    ),
    "previous_response_id prefix": (
        {**BASE, "previous_response_id": "gen-123"},
        error(400, "Invalid 'previous_response_id': 'gen-123'. Expected an ID that begins with 'resp'.",
              "previous_response_id", "invalid_value"),
    ),
    "json_schema without a name": (
        {**BASE, "text": {"format": {"type": "json_schema", "schema": {"type": "object"}}}},
        error(400, "Missing required parameter: 'text.format.name'.", "text.format.name", "missing_required_parameter"),
    ),
    "json_object without the word json": (
        {**BASE, "text": {"format": {"type": "json_object"}}},
        error(400, "Response input messages must contain the word 'json' in some form to use 'text.format' of type "
                   "'json_object'.", "input", None),
    ),
    "tool_choice naming an absent tool": (
        {**BASE, "tool_choice": {"type": "function", "name": "get_time"}},
        error(400, "Tool choice 'function' not found in 'tools' parameter.", "tool_choice", None),
    ),
    "too much metadata": (
        {**BASE, "metadata": {f"k{i}": "v" for i in range(17)}},
        error(400, "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got 17 "
                   "instead.", "metadata", "object_above_max_properties"),
    ),
}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
async def test_bad_request_gets_the_real_error_envelope(client, case, stream):
    body, (status, expected) = CASES[case]
    r = await client.post({**body, "stream": True} if stream else body)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    assert r.json() == expected
    assert r.headers["x-request-id"] == r.headers["opc-request-id"]


async def test_the_recorded_stream_request_with_a_bad_temperature_gets_the_recorded_reply(client):
    r = await client.post(load_json("error_400_decimal_below_min_value.request.json"))
    assert (r.status_code, r.json()) == (400, load_json("error_400_decimal_below_min_value.json"))


async def test_body_that_is_not_json(client):
    r = await client.http.post("/responses", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["message"].startswith("We could not parse the JSON body of your request.")


async def test_compartment_header_is_required(client):
    r = await client.http.post("/responses", json=BASE, headers={"opc-compartment-id": ""})
    assert (r.status_code, r.json()) == error(400, "Compartment ID must be provided", None, None)


async def test_every_known_field_is_accepted(client):
    body = {
        **BASE, "model": "openai.gpt-5.2", "instructions": "Be brief.", "tools": [], "tool_choice": "auto", "parallel_tool_calls": True,
        "store": False, "include": ["reasoning.encrypted_content"], "text": {"format": {"type": "text"}, "verbosity": "low"},
        "reasoning": {"effort": "none", "summary": "auto"}, "max_output_tokens": 16, "max_tool_calls": 2, "temperature": 0,
        "top_p": 1, "top_logprobs": 0, "frequency_penalty": 0, "presence_penalty": 0, "metadata": {"lesson": "01"},
        "truncation": "disabled", "service_tier": "auto", "user": "u", "safety_identifier": "s",
        "prompt_cache_key": "k", "prompt_cache_retention": "24h", "stream": False,
    }
    r = await client.post(body)
    assert r.status_code == 200, r.text


async def test_streaming_a_response_that_was_not_a_background_one_is_refused(client):
    created = await client.create(BASE)
    r = await client.http.get(f"/responses/{created['id']}", params={"stream": "true", "starting_after": "3"})
    assert (r.status_code, r.json()["error"]) == (400, {
        "message": "This response cannot be streamed because it was not created with background=true.",
        "type": "invalid_request_error", "param": "stream", "code": None})
    assert (await client.http.get(f"/responses/{created['id']}", params={"stream": "false"})).status_code == 200


async def test_unknown_paths_and_methods_get_json_errors(client):
    r = await client.http.get("/models")
    assert (r.status_code, r.json()["error"]["message"]) == (404, "Invalid URL (GET /openai/v1/models)")
    r = await client.http.put("/responses", json=BASE)
    assert r.status_code == 405 and r.json()["error"]["type"] == "invalid_request_error"



SERVED = ["openai.gpt-4.1", "openai.gpt-5.2", "openai.gpt-oss-120b", "openai.o3", "xai.grok-4",
          "meta.llama-3.3-70b-instruct", "cohere.command-a-03-2025", "gpt-4.1", "gpt-4o-2024-08-06", "o3-mini",
          "gpt-5.2-2025-12-11", "ft:gpt-4o-mini:acme::abc123"]
UNKNOWN = ["gpt-nope", "m", "openai.gpt-nope", "gpt4.1", "openai.", ".gpt-4.1", "openai.gpt-4.1 ", ""]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("model", UNKNOWN)
async def test_an_unknown_model_gets_the_real_404(client, model, stream):
    r = await client.post({"model": model, "input": "hi", "stream": stream})
    assert (r.status_code, r.headers["content-type"]) == (404, "application/json")
    expected = load_json("error_404_model_not_found.json")
    expected["error"]["message"] = expected["error"]["message"].replace("gpt-nope", model)
    assert r.json() == expected


@pytest.mark.parametrize("model", SERVED)
async def test_ids_shaped_like_oci_or_openai_models_are_served(client, model):
    assert (await client.post({"model": model, "input": "hi"})).status_code == 200


async def test_a_list_of_served_models_is_all_that_is_served(make_client):
    client = make_client(models=["openai.gpt-4.1", "my-own-name"])
    assert [(await client.post({"model": m, "input": "hi"})).status_code
            for m in ("openai.gpt-4.1", "my-own-name", "openai.gpt-5")] == [200, 200, 404]


async def test_our_client_raises_not_found_with_a_hint_about_model_ids(make_model):
    model = make_model()
    model.model_id = "gpt-nope"
    with pytest.raises(NotFound) as info:
        await model.complete([Message.user("hi")])
    assert (info.value.status, info.value.code) == (404, "model_not_found")
    assert info.value.request_id.startswith("mock-") and "vendor-prefixed, e.g. openai.gpt-4.1" in str(info.value)


# What the real endpoint answered each recorded request, where the mock cannot answer the same.
MOCK_DIFFERS = {
    # A real reasoning blob is sealed by OpenAI: the mock cannot open it (the real answer is a 400 too).
    "error_400_reasoning_item_without_following_item.request.json": (400, "invalid_encrypted_content"),
}


@pytest.mark.parametrize("name", sorted(p.name for p in RESPONSES.glob("*.request.json")))
async def test_every_recorded_request_gets_the_recorded_answer(client, name):
    """The mock accepts what the real endpoint accepted, and refuses what it refused."""
    reply = next(p.name for p in RESPONSES.glob(name.replace(".request.json", ".*")) if p.name != name)
    status = load_json("_sources.json")[reply]["status"]
    code = load_json(reply)["error"]["code"] if status >= 400 else None
    r = await client.post(load_json(name))
    got = (r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else None)
    assert got == MOCK_DIFFERS.get(name, (status, code)), r.text
