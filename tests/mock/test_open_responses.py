"""Every Response the mock returns and every event it streams validates against the Open Responses spec.

The spec is openresponses/openresponses (`public/openapi/openapi.json`, version 2026-04-24, and its prose in
`src/pages/specification.mdx`); its models are PyPI's `openresponses-types` (mozilla-ai), generated from that
document: `ResponseResource` for a Response, one `…StreamingEvent` model per event type. Validation is strict
(JSON mode, `strict=True`: no coercion, every required field present, enums and literals exact).

What the spec allows and the mock uses: fields beyond the spec's ("Extending existing schemas": implementors
MAY add fields). The mock's are exactly ones the real wire carries (`test_the_mock_adds_only_fields_the_real_
wire_carries`). Where the mock differs from the spec, the real wire does too, and the mock stays like the wire:

- `[DONE]`: the spec says a stream's terminal event MUST be the literal `[DONE]`; no recording has one
  (stream_text_gpt52.sse, stream_background_queued_gpt4o.sse, …), nor does the mock.
- Requests outside the spec get Responses outside it: a hosted tool (`web_search`, `mcp`, …: OCI's tools, the
  spec's `tools` are function tools only) or `reasoning.effort: "minimal"` (OCI's gpt-5 takes it; the spec's
  enum lacks it) are echoed as OCI and OpenAI's reference echo them (`OUTSIDE_THE_SPEC`).
- Error bodies: the spec's prose names the error types `invalid_request`, `not_found`, `too_many_requests`,
  …; the wire's 400s and 404s say `invalid_request_error` (error_400_*.json, error_404_model_not_found.json),
  and so does the mock (`test_error_types_are_the_wires`).
- Reasoning items carry no `status`: the spec's prose says every item MUST, its `ReasoningBody` schema declares
  none, and no recorded reasoning item has one (`test_reasoning_items_have_no_status_like_the_wires`).
- Conversation objects (`/conversations`) are not in the spec at all: they follow OpenAI's reference shapes.

One gap is the package's, not the spec's: 2.4.0 generates the Response's `text.format.schema` (an any-object in
the spec) as `None`, so a json_schema Response is checked with that one value set aside (`spec_view`), and
`test_the_package_gap_is_still_there` fails once a release fixes it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, RootModel, ValidationError

from locus_nb.mock import MockServer

from ..conftest import RESPONSES as RECORDINGS
from .conftest import HEADERS, WEATHER_TOOL, Client, parse_sse, recorded
from .test_background import events_of, until
from .test_conformance import STREAMS

MODEL = "openai.gpt-5"
DEADLINE_S = 10
LONG = {"mock_text_tokens": "400"}  # with a token delay, long enough to be caught running
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
          "additionalProperties": False}
# The 2026 recordings: the wire as it is now (older ones predate fields the spec requires, e.g. `completed_at`).
WIRE_2026 = ["stream_text_gpt52.sse", "stream_reasoning_commentary_function_call_gpt55.sse",
             "stream_background_queued_gpt4o.sse", "thirdparty_live_response_incomplete_frame.sse",
             "issue_vercel_ai_6534_midstream_error_frame.sse"]


@cache
def spec() -> Any:
    import openresponses_types

    return openresponses_types


@cache
def event_models() -> dict[str, type[BaseModel]]:
    """Each streaming event type's model (its `type` field is a one-member enum)."""
    models = {}
    for name in dir(spec()):
        cls = getattr(spec(), name)
        if name.endswith("StreamingEvent") and isinstance(cls, type) and issubclass(cls, BaseModel):
            (kind,) = list(cls.model_fields["type"].annotation)
            models[kind.value] = cls
    return models


def spec_view(response: dict[str, Any]) -> dict[str, Any]:
    """The Response with the package gap set aside: a json_schema format's `schema` (an object) as None."""
    fmt = response["text"]["format"]
    if fmt["type"] != "json_schema":
        return response
    assert isinstance(fmt["schema"], dict), fmt
    return {**response, "text": {**response["text"], "format": {**fmt, "schema": None}}}


def event_view(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "response": spec_view(event["response"])} if "response" in event else event


def validated(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    return model.model_validate_json(json.dumps(data), strict=True)


def problems(model: type[BaseModel], data: dict[str, Any]) -> set[str]:
    """Each way `data` fails `model`, as "error-type at.location"."""
    try:
        validated(model, data)
    except ValidationError as exc:
        return {f"{e['type']} at {'.'.join(map(str, e['loc']))}" for e in exc.errors()}
    return set()


def response_problems(response: dict[str, Any]) -> set[str]:
    return problems(spec().ResponseResource, spec_view(response))


def event_problems(event: dict[str, Any]) -> set[str]:
    model = event_models().get(event["type"])
    return {f"unknown event type {event['type']}"} if model is None else problems(model, event_view(event))


def extra_fields(model: Any, data: Any, path: str = "") -> set[str]:
    """Paths of the keys in `data` that `model` (a validated instance) does not declare, at every depth."""
    if isinstance(model, RootModel):
        return extra_fields(model.root, data, path)
    if isinstance(model, list) and isinstance(data, list):
        return set().union(*(extra_fields(m, d, f"{path}[]") for m, d in zip(model, data)))
    # a model without fields is an open object in the spec (`EmptyModelParam`: a tool's `parameters` schema)
    if not (isinstance(model, BaseModel) and isinstance(data, dict)) or not type(model).model_fields:
        return set()
    declared = {field.alias or name: name for name, field in type(model).model_fields.items()}
    found = {f"{path}.{key}".lstrip(".") for key in data if key not in declared}
    for key, name in declared.items():
        if key in data:
            found |= extra_fields(getattr(model, name), data[key], f"{path}.{key}")
    return found


def event_extra_fields(event: dict[str, Any]) -> set[str]:
    """A stream event's extension fields, those of the Response it carries named as the Response's own."""
    view = event_view(event)
    fields = extra_fields(validated(event_models()[event["type"]], view), view)
    return {f.removeprefix("response.") for f in fields}


# -- the real wire itself ----------------------------------------------------------------------------------


def test_the_2026_wire_conforms():
    for name in WIRE_2026:
        for event in recorded(name):
            assert event_problems(event) == set(), (name, event["type"])


def test_the_package_gap_is_still_there():
    real = json.loads((RECORDINGS / "nonstream_structured_output_json_schema_gpt4o.json")
                      .read_text())
    assert "none_required at text.format.JsonSchemaResponseFormat.schema" in problems(spec().ResponseResource, real)
    assert "none_required at text.format.JsonSchemaResponseFormat.schema" not in response_problems(real)


async def test_neither_the_wire_nor_the_mock_ends_a_stream_with_done(client):
    framed = [(RECORDINGS / name).read_text() for name in WIRE_2026]
    framed.append((await client.post({"model": MODEL, "input": "Count to three", "stream": True})).text)
    # the spec's "The terminal event MUST be the literal string `[DONE]`", which the wire does not send
    assert all("[DONE]" not in text and text.endswith("}\n\n") for text in framed)


# -- Response objects -------------------------------------------------------------------------------------


async def made(client: Client, **body: Any) -> list[dict]:
    """The Response to a request, and — when stored — as retrieved."""
    response = await client.create({"model": MODEL, **body})
    if response["store"]:
        return [response, (await client.http.get(f"/responses/{response['id']}")).json()]
    return [response]


async def background(client: Client, *statuses: str, cancel: bool = False, **body: Any) -> list[dict]:
    """A background Response as queued, then as polled at each of `statuses` (cancelled first when asked)."""
    queued = await client.create({"model": MODEL, "background": True, **body})
    seen = [queued]
    for status in statuses:
        if status == "cancelled" and cancel:
            seen.append((await client.http.post(f"/responses/{queued['id']}/cancel")).json())
        seen.append(await until(client, queued["id"], status))
    return seen


async def failed_stream_kept(client: Client) -> list[dict]:
    """A stored Response whose stream failed midway, as retrieved."""
    events = await client.stream({"model": MODEL, "input": "Count to ten", "store": True,
                                  "metadata": {"mock_fault": "error_event"}})
    return [(await client.http.get(f"/responses/{events[0]['response']['id']}")).json()]


async def on_a_conversation(client: Client, **body: Any) -> list[dict]:
    conversation = (await client.http.post("/conversations", json={})).json()["id"]
    first = await made(client, input="My favorite color is purple.", conversation=conversation, **body)
    return first + await made(client, input="What is my favorite color?", conversation={"id": conversation}, **body)


REASONING = {"reasoning": {"effort": "medium", "summary": "auto"}, "include": ["reasoning.encrypted_content"]}
RESPONSES: dict[str, Callable[[Client], Awaitable[list[dict]]]] = {
    "plain": lambda c: made(c, input="Hello", store=False),
    "instructions": lambda c: made(c, input="Hello", instructions="Answer in uppercase.", store=False),
    "stored": lambda c: made(c, input="Hello", store=True),
    "function call": lambda c: made(c, input="What's the temperature in Paris?", tools=[WEATHER_TOOL]),
    "forced call": lambda c: made(c, input="Hello", tools=[WEATHER_TOOL], tool_choice="required"),
    "named tool choice": lambda c: made(c, input="Hello", tools=[WEATHER_TOOL],
                                        tool_choice={"type": "function", "name": "get_temperature"}),
    "answer from tool output": lambda c: made(c, tools=[WEATHER_TOOL], input=[
        {"type": "message", "role": "user", "content": "What's the temperature in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_temperature", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "18 C"}]),
    "reasoning": lambda c: made(c, input="Hello", **REASONING),
    "reasoning without summary": lambda c: made(c, input="Hello", reasoning={"effort": "low"}),
    "json schema": lambda c: made(c, input="Hello", text={"format": {"type": "json_schema", "name": "A",
                                                                     "schema": SCHEMA}}),
    "json schema, strict": lambda c: made(c, input="Hello", text={"format": {
        "type": "json_schema", "name": "A", "schema": SCHEMA, "strict": True}}),
    "json object": lambda c: made(c, input="Answer in json", text={"format": {"type": "json_object"}}),
    "logprobs": lambda c: made(c, model="openai.gpt-4.1", input="Count to three",
                               include=["message.output_text.logprobs"], top_logprobs=2),
    "incomplete": lambda c: made(c, input="Count to twelve", max_output_tokens=16),
    "incomplete fault": lambda c: made(c, input="Count to ten", metadata={"mock_fault": "incomplete"}),
    "failed": failed_stream_kept,
    "background: queued, in progress, completed": lambda c: background(
        c, "in_progress", "completed", input="Go", metadata={"mock_text_tokens": "40"}),
    "background: cancelled": lambda c: background(c, "in_progress", "cancelled", cancel=True, input="Go",
                                                  metadata=LONG),
    "background: failed": lambda c: background(c, "failed", input="Count to ten",
                                               metadata={"mock_fault": "error_event"}),
    "background, store false": lambda c: background(c, "completed", input="Count to three", store=False),
    "on a conversation": on_a_conversation,
    "background on a conversation": lambda c: on_a_conversation(c, background=True),
}


@pytest.fixture
def paced(make_client) -> Client:
    """A mock pacing deltas 5 ms apart: a background job stays queued and running long enough to be seen."""
    return make_client(token_delay=0.005)


@pytest.mark.parametrize("case", RESPONSES)
async def test_every_response_validates_against_the_spec(paced, case):
    responses = await RESPONSES[case](paced)
    assert responses
    for response in responses:
        assert response_problems(response) == set(), (case, response["status"])


async def test_the_responses_cover_every_status(paced):
    statuses = {r["status"] for case in RESPONSES for r in await RESPONSES[case](paced)}
    assert statuses == {"queued", "in_progress", "completed", "incomplete", "failed", "cancelled"}


# -- streams ----------------------------------------------------------------------------------------------


async def streamed(client: Client, **body: Any) -> list[dict]:
    return await client.stream({"model": MODEL, **body})


async def resumed(client: Client, after: int | None, **body: Any) -> list[dict]:
    """A background stream, then its events again: after `after` (`GET …?stream=true&starting_after=`), or all."""
    whole = await streamed(client, background=True, **body)
    cursor = {} if after is None else {"starting_after": str(after)}
    return whole + await events_of(client, whole[0]["response"]["id"], **cursor)


async def stored_then_chained(client: Client) -> list[dict]:
    first = await streamed(client, input="My favorite color is purple.", store=True)
    return first + await streamed(client, input="What is my favorite color?",
                                  previous_response_id=first[0]["response"]["id"])


async def streamed_on_a_conversation(client: Client, **body: Any) -> list[dict]:
    conversation = (await client.http.post("/conversations", json={})).json()["id"]
    return (await streamed(client, input="My favorite color is purple.", conversation=conversation, **body)
            + await streamed(client, input="What is my favorite color?", conversation=conversation, **body))


# Every kind of stream test_conformance checks against the openai SDK, and these.
MORE_STREAMS: dict[str, Callable[[Client], Awaitable[list[dict]]]] = {
    "stored, then chained": stored_then_chained,
    "on a conversation": streamed_on_a_conversation,
    "background on a conversation": lambda c: streamed_on_a_conversation(c, background=True),
    "background, store false": lambda c: streamed(c, input="Count to three", background=True, store=False),
    "background with reasoning and a call": lambda c: streamed(
        c, input="What's the temperature in Paris?", tools=[WEATHER_TOOL], background=True, **REASONING),
    "background, resumed from the start": lambda c: resumed(c, None, input="Count to five"),
    "background, resumed after 3": lambda c: resumed(c, 3, input="Count to five"),
    "background failing midway, resumed": lambda c: resumed(c, 2, input="Count to ten",
                                                            metadata={"mock_fault": "error_event"}),
    "service tier, no obfuscation": lambda c: streamed(c, input="Hi", service_tier="flex",
                                                       stream_options={"include_obfuscation": False}),
}


def assert_conforms(events: list[dict]) -> None:
    assert events
    for event in events:
        assert event_problems(event) == set(), event


@pytest.mark.parametrize("case", STREAMS)
async def test_every_event_of_every_stream_validates_against_the_spec(client, case):
    assert_conforms(await streamed(client, **STREAMS[case]))


@pytest.mark.parametrize("case", MORE_STREAMS)
async def test_every_event_of_the_stored_conversation_and_background_streams_validates(client, case):
    assert_conforms(await MORE_STREAMS[case](client))


def test_a_cancelled_background_stream_validates_when_resumed():
    """Left after its first event, cancelled, then streamed again: it ends `response.failed` carrying the
    cancelled Response."""
    body = {"model": MODEL, "input": "Go", "background": True, "stream": True, "metadata": LONG}
    with MockServer(token_delay=0.005) as mock, httpx.Client(base_url=mock.base_url, headers=HEADERS,
                                                              timeout=DEADLINE_S) as http:
        with http.stream("POST", "/responses", json=body) as started:  # its first event, then the client hangs up
            first = json.loads(next(line for line in started.iter_lines() if line.startswith("data: "))[6:])
        response_id = first["response"]["id"]
        cancelled = http.post(f"/responses/{response_id}/cancel").json()
        replayed = http.get(f"/responses/{response_id}", params={"stream": "true"}).text
    events = [data for _, data in parse_sse(replayed)]
    assert events[-1]["type"] == "response.failed" and events[-1]["response"] == cancelled
    assert cancelled["status"] == "cancelled" and response_problems(cancelled) == set()
    assert_conforms(events)


def test_a_background_stream_cut_midway_and_resumed_validates():
    body = {"model": MODEL, "input": "Go", "background": True, "stream": True,
            "metadata": {"mock_text_tokens": "60", "mock_fault": "drop_mid_stream"}}
    received = []
    with MockServer(token_delay=0.001) as mock, httpx.Client(base_url=mock.base_url, headers=HEADERS,
                                                              timeout=DEADLINE_S) as http:
        with pytest.raises(httpx.RemoteProtocolError), http.stream("POST", "/responses", json=body) as cut:
            for line in cut.iter_lines():
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
        rest = http.get(f"/responses/{received[0]['response']['id']}",
                        params={"stream": "true", "starting_after": str(received[-1]["sequence_number"])})
    events = received + [data for _, data in parse_sse(rest.text)]
    assert events[-1]["type"] == "response.completed"
    assert_conforms(events)


# -- what the mock adds, and what lies outside the spec ------------------------------------------------------


async def test_the_mock_adds_only_fields_the_real_wire_carries(client):
    """The spec lets implementors add fields; the mock's are all on the 2026 wire (`tool_usage`, `moderation`,
    `usage.input_tokens_details.cache_write_tokens`: thirdparty_live_response_incomplete_frame.sse; `user`,
    `prompt_cache_retention`, `reasoning.context`: stream_reasoning_commentary_function_call_gpt55.sse) — but
    `conversation`, which the spec's prose requires on a Response created on one ("Stateful Conversations") and
    its OpenAPI document does not declare."""
    wire = set().union(*(event_extra_fields(e) for name in WIRE_2026 for e in recorded(name)))
    mine = set()
    for case in STREAMS:
        if "json schema" not in case:
            mine |= set().union(*(event_extra_fields(e) for e in await streamed(client, **STREAMS[case])))
    on_one = await streamed_on_a_conversation(client)
    mine |= set().union(*(event_extra_fields(e) for e in on_one))
    assert mine - wire == {"conversation"}
    assert {"tool_usage", "moderation", "usage.input_tokens_details.cache_write_tokens"} <= mine


# Requests the spec does not describe and OCI takes, with the Response fields that echo them. The spec's `tools`
# are function tools (extension tools "MUST be prefixed with the canonical provider slug"); OCI's tool-support
# page lists web_search, file_search, code_interpreter, mcp, image_generation under their OpenAI names.
OUTSIDE_THE_SPEC = {
    "hosted tool": ({"tools": [{"type": "web_search"}]}, "tools.0"),
    "remote mcp tool": ({"tools": [{"type": "mcp", "server_label": "docs", "server_url": "https://mcp.example",
                                    "require_approval": "never"}]}, "tools.0"),
    "minimal effort": ({"reasoning": {"effort": "minimal"}}, "reasoning.effort"),
}


@pytest.mark.parametrize("case", OUTSIDE_THE_SPEC)
async def test_requests_outside_the_spec_differ_from_it_only_where_they_are_echoed(client, case):
    extra, where = OUTSIDE_THE_SPEC[case]
    assert problems(spec().CreateResponseBody, {"model": MODEL, "input": "Hello", **extra})  # outside the spec
    response = await client.create({"model": MODEL, "input": "Hello", **extra})
    found = response_problems(response)
    assert found and all(p.split(" at ")[1].startswith(where) for p in found), found


# The spec's prose table of error types ("Errors"); the schema of its OpenAPI document types no error body.
SPEC_ERROR_TYPES = {"server_error", "invalid_request", "not_found", "model_error", "too_many_requests"}


async def test_error_types_are_the_wires(client):
    recorded_types = {json.loads(path.read_text())["error"]["type"] for path in RECORDINGS.glob("error_4*.json")
                      if not path.name.endswith(".request.json")}
    assert recorded_types == {"invalid_request_error"}  # 400s and a 404, none of the spec's words
    refused = await client.post({"model": MODEL, "input": "Hi", "max_output_tokens": 15})
    unknown = await client.post({"model": "gpt-nope", "input": "Hi"})
    assert {refused.json()["error"]["type"], unknown.json()["error"]["type"]} == recorded_types
    assert not recorded_types & SPEC_ERROR_TYPES


async def test_reasoning_items_have_no_status_like_the_wires(client):
    def reasoning_items(events: list[dict]) -> list[dict]:
        done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
        return [item for item in done if item["type"] == "reasoning"]

    recordings = ("stream_reasoning_commentary_function_call_gpt55.sse",
                  "stream_reasoning_encrypted_function_call_gpt5.sse", "stream_reasoning_summary_o3mini.sse")
    wire = [item for name in recordings for item in reasoning_items(recorded(name))]
    mine = reasoning_items(await streamed(client, **STREAMS["reasoning then call"]))
    assert wire and mine and not any("status" in item for item in wire + mine)
    assert "status" not in spec().ReasoningBody.model_fields
