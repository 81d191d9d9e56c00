"""The scripted model: deterministic answers from what it can see, in every mode a request asks for."""

from __future__ import annotations

import json

import jsonschema
import pytest

from locus_nb.mock._scripted import count_tokens, filler, truncate_tokens, word_pieces

from ..conftest import load_json
from .conftest import WEATHER_TOOL, deltas

MODEL = "openai.gpt-4.1"


def text_of(response: dict) -> str:
    return "".join(p["text"] for item in response["output"] if item["type"] == "message" for p in item["content"])


# The seed prompts: notebook 01's committed outputs depend on these exact texts.
@pytest.mark.parametrize(("prompt", "answer"), [
    ("My favorite color is purple. Just acknowledge.", "Got it: your favorite color is purple."),
    ("What is my favorite color?", "I don't know your favorite color — you haven't told me in this conversation."),
    ("Count to three", "1, 2, 3"),
    ("Count to five, one number per line.", "1\n2\n3\n4\n5"),
])
async def test_seed_prompts_keep_their_texts(client, prompt, answer):
    assert text_of(await client.create({"model": MODEL, "input": prompt})) == answer


async def test_recalls_only_what_it_is_sent(client):
    history = [{"role": "user", "content": "My favorite color is purple. Just acknowledge."},
               {"role": "assistant", "content": "Got it: your favorite color is purple."},
               {"role": "user", "content": "What is my favorite color?"}]
    full = await client.create({"model": MODEL, "input": history, "store": False})
    assert text_of(full) == "Your favorite color is purple."
    assert full["usage"]["input_tokens"] > (await client.create({"model": MODEL, "input": history[-1:]}))["usage"]["input_tokens"]


async def test_calls_a_fitting_tool_with_schema_valid_arguments(client):
    r = await client.create({"model": MODEL, "input": "What's the temperature in Paris in fahrenheit?", "tools": [WEATHER_TOOL]})
    [call] = r["output"]
    assert (call["type"], call["name"], call["status"]) == ("function_call", "get_temperature", "completed")
    assert call["id"].startswith("fc_") and call["call_id"].startswith("call_")
    arguments = json.loads(call["arguments"])
    jsonschema.validate(arguments, WEATHER_TOOL["parameters"])
    assert arguments == {"city": "Paris", "unit": "fahrenheit"}


async def test_parallel_calls_one_per_place_unless_disallowed(client):
    body = {"model": MODEL, "input": "What's the temperature in Paris, Rome and London?", "tools": [WEATHER_TOOL]}
    calls = (await client.create(body))["output"]
    assert [json.loads(c["arguments"])["city"] for c in calls] == ["Paris", "Rome", "London"]
    single = (await client.create({**body, "parallel_tool_calls": False}))["output"]
    assert len(single) == 1


async def test_nested_and_referenced_schemas_get_valid_arguments(client):
    schema = {
        "type": "object",
        "$defs": {"Window": {"type": "object", "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 7}},
                             "required": ["days"], "additionalProperties": False}},
        "properties": {"location": {"type": "string"}, "window": {"$ref": "#/$defs/Window"},
                       "detailed": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                       "note": {"anyOf": [{"type": "string", "minLength": 3}, {"type": "null"}]}},
        "required": ["location", "window", "detailed", "tags", "note"],
        "additionalProperties": False,
    }
    tool = {"type": "function", "name": "forecast", "parameters": schema, "strict": True}
    r = await client.create({"model": MODEL, "input": "Give me the forecast for Oslo for 3 days", "tools": [tool]})
    arguments = json.loads(r["output"][0]["arguments"])
    jsonschema.validate(arguments, schema)
    assert arguments["location"] == "Oslo" and arguments["window"] == {"days": 3}


async def test_tool_choice_none_required_and_named(client):
    body = {"model": MODEL, "input": "What's the temperature in Paris?", "tools": [WEATHER_TOOL]}
    assert text_of(await client.create({**body, "tool_choice": "none"})) == "You said: What's the temperature in Paris?"
    forced = await client.create({**body, "input": "Hello", "tool_choice": "required"})
    assert forced["output"][0]["name"] == "get_temperature"
    named = await client.create({**body, "input": "Hello", "tool_choice": {"type": "function", "name": "get_temperature"}})
    assert named["output"][0]["type"] == "function_call"


async def test_answers_from_the_function_call_output_it_is_given(client):
    r1 = await client.create({"model": MODEL, "input": "What's the temperature in Paris?", "tools": [WEATHER_TOOL]})
    [call] = r1["output"]
    r2 = await client.create({"model": MODEL, "previous_response_id": r1["id"], "tools": [WEATHER_TOOL],
                              "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "18 C"}]})
    assert text_of(r2) == "According to get_temperature: 18 C"


@pytest.mark.parametrize(("instructions", "answer"), [
    ("Answer in uppercase.", "YOU SAID: HELLO"),
    ('Start every answer with "Ahoy!"', "Ahoy! You said: Hello"),
    ("Be brief.", "OK."),
    ("You remember user-shared facts and recall them on demand.", "You said: Hello"),
])
async def test_honours_instructions(client, instructions, answer):
    assert text_of(await client.create({"model": MODEL, "input": "Hello", "instructions": instructions})) == answer


async def test_max_output_tokens_cuts_the_answer_and_marks_it_incomplete(client):
    body = {"model": MODEL, "input": "Count to twelve"}
    full = text_of(await client.create(body))
    r = await client.create({**body, "max_output_tokens": 16})
    assert (r["status"], r["incomplete_details"]) == ("incomplete", {"reason": "max_output_tokens"})
    assert r["output"][0]["status"] == "incomplete"
    assert r["usage"]["output_tokens"] == 16 and count_tokens(text_of(r)) == 16
    assert full.startswith(text_of(r)) and len(text_of(r)) < len(full)
    assert r["completed_at"] is None


async def test_structured_output_is_json_valid_against_the_schema(client):
    request = load_json("nonstream_structured_output_json_schema_gpt4o.request.json")
    r = await client.create(request)
    schema = request["text"]["format"]["schema"]
    answer = json.loads(text_of(r))
    jsonschema.validate(answer, schema)
    assert answer == {"city": "Mexico", "country": "Mexico"}  # both filled from the tool's answer "Mexico"
    assert r["text"]["format"] == {"type": "json_schema", "description": None, "name": "CityLocation",
                                   "schema": schema, "strict": True}


async def test_structured_output_fills_from_remembered_facts(client):
    schema = {"type": "object", "properties": {"color": {"type": "string"}, "answer": {"type": "string"}},
              "required": ["color", "answer"], "additionalProperties": False}
    r = await client.create({"model": MODEL, "store": False, "text": {"format": {"type": "json_schema", "name": "Fact", "schema": schema}},
                             "input": [{"role": "user", "content": "My favorite color is teal."},
                                       {"role": "user", "content": "What is my favorite color?"}]})
    assert json.loads(text_of(r)) == {"color": "teal", "answer": "Your favorite color is teal."}


async def test_json_object_mode(client):
    r = await client.create({"model": MODEL, "input": "Reply in JSON: count to three", "text": {"format": {"type": "json_object"}}})
    assert json.loads(text_of(r)) == {"answer": "1, 2, 3"}


async def test_reasoning_item_with_summary_and_encrypted_content(client):
    r = await client.create({"model": "openai.gpt-5", "input": "Count to three", "store": False,
                             "reasoning": {"effort": "medium", "summary": "auto"}, "include": ["reasoning.encrypted_content"]})
    reasoning, message = r["output"]
    assert reasoning["id"].startswith("rs_") and reasoning["encrypted_content"].startswith("gAAAAA")
    assert [s["type"] for s in reasoning["summary"]] == ["summary_text", "summary_text"]
    assert 0 < r["usage"]["output_tokens_details"]["reasoning_tokens"] < r["usage"]["output_tokens"]
    assert r["reasoning"] == {"context": None, "effort": "medium", "summary": "detailed"}  # what "auto" chose
    assert text_of(r) == "1, 2, 3"


async def test_replayed_encrypted_reasoning_is_read_back(client):
    body = {"model": "openai.gpt-5", "store": False, "reasoning": {"effort": "low"}, "include": ["reasoning.encrypted_content"]}
    first = [{"role": "user", "content": "My favorite color is purple."}]
    r1 = await client.create({**body, "input": first})
    question = {"role": "user", "content": "What is my favorite color?"}
    with_thought = await client.create({**body, "input": [*first, *r1["output"], question]})
    without = await client.create({**body, "input": [*first, r1["output"][1], question]})
    assert text_of(with_thought) == text_of(without) == "Your favorite color is purple."
    # The sealed thought was opened and read: exactly its tokens (plus one item's framing) more input.
    thought = r1["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert with_thought["usage"]["input_tokens"] - without["usage"]["input_tokens"] == thought + 4


async def test_no_reasoning_item_at_effort_none(client):
    r = await client.create({"model": "openai.gpt-5.2", "input": "Hello", "reasoning": {"effort": "none"}})
    assert [i["type"] for i in r["output"]] == ["message"]
    assert r["usage"]["output_tokens_details"]["reasoning_tokens"] == 0


@pytest.mark.parametrize("n", [1, 7, 20000])
async def test_mock_text_tokens_gives_exactly_n_deltas(client, n):
    events = await client.stream({"model": MODEL, "input": "Go", "metadata": {"mock_text_tokens": str(n)}})
    pieces = deltas(events)
    assert len(pieces) == n
    assert "".join(pieces) == events[-1]["response"]["output"][0]["content"][0]["text"]
    assert events[-1]["response"]["usage"]["output_tokens"] == n


async def test_mock_text_tokens_must_be_a_positive_number(client):
    r = await client.post({"model": MODEL, "input": "Go", "metadata": {"mock_text_tokens": "lots"}})
    assert r.status_code == 400 and r.json()["error"]["param"] == "metadata.mock_text_tokens"


def test_token_helpers_are_lossless():
    text = "  Hello, world!\n1\n2  "
    assert "".join(word_pieces(text)) == text
    assert word_pieces("Got it: yes.") == ["Got", " it:", " yes."]
    assert truncate_tokens("one two, three", 3) == "one two,"
    assert count_tokens(filler(50)) == 50 and len(word_pieces(filler(50))) == 50


async def test_self_referencing_schema_ends_where_it_may(client):
    schema = {"$defs": {"Node": {"type": "object", "properties": {
        "name": {"type": "string"}, "child": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
        "required": ["name", "child"], "additionalProperties": False}}, "$ref": "#/$defs/Node"}
    r = await client.create({"model": MODEL, "input": "A tree please",
                             "text": {"format": {"type": "json_schema", "name": "Tree", "schema": schema}}})
    jsonschema.validate(json.loads(text_of(r)), schema)


async def test_a_schema_with_no_finite_instance_is_a_400_not_a_crash(client):
    schema = {"$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}},
                                 "required": ["child"]}}, "$ref": "#/$defs/Node"}
    r = await client.post({"model": MODEL, "input": "A tree please",
                           "text": {"format": {"type": "json_schema", "name": "Tree", "schema": schema}}})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("Invalid schema")
