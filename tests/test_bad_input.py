"""Only typed errors escape: whatever a server sends — fields of the wrong type, numbers
out of range, JSON nested deeper than the parser allows, tool arguments nested that deep — and
whatever a caller passes, the client raises a `LocusError` naming what was wrong, never a
TypeError, OverflowError, ValueError or RecursionError. And arguments are checked where they are given."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from locus_nb import (
    Agent,
    APIStatusError,
    ConfigError,
    Message,
    OCIResponsesModel,
    ServerError,
    StreamTruncated,
    ToolError,
    ToolResultEvent,
    tool,
)
from locus_nb._stream import fold_all
from locus_nb._tools import tool_output
from locus_nb._wire import error_from_body, tool_call_from_item

from .conftest import COMPARTMENT
from .sse_helpers import SSE_HEADERS, call_item, frames, message_item, response_json, sse_model

ASK = [Message.user("hi")]
DEEP = "[" * 100_000 + "]" * 100_000  # deeper than json's recursion limit
HUGE_INT = "1" + "0" * 5000  # more digits than int() converts (4300)
CREATED = {"type": "response.created", "response": {"id": "resp_bad", "status": "in_progress", "output": []}}
DELTA = {"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0, "delta": "Par"}


def completed_with_usage(usage: str) -> bytes:
    """A stream whose response.completed has this usage, written by hand (numbers json.dumps cannot write)."""
    final = json.dumps({"type": "response.completed", "response": response_json("resp_bad", message_item("Paris"))})
    return frames([CREATED, DELTA]) + b"data: " + final.replace('"input_tokens": 10', usage).encode() + b"\n\n"


def json_reply(raw: str, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, headers={"content-type": "application/json"}, content=raw.encode())


async def stream_all(model: OCIResponsesModel) -> list[Any]:
    return [chunk async for chunk in model.stream(ASK)]


# -- a stream ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, why", [
    (b"data: " + DEEP.encode() + b"\n\n", "nested too deeply to read"),
    (b'data: {"type": "response.output_text.delta", "delta": ' + HUGE_INT.encode() + b"}\n\n", "not readable JSON"),
    (b'data: {"type": "response.output_text.delta", "delta": 0}\n\n', "its 'delta' is a JSON number"),
    (b'data: {"type": "response.output_text.delta", "delta": []}\n\n', "its 'delta' is a JSON array"),
])
async def test_a_stream_event_the_parser_or_the_fold_cannot_take_is_a_typed_error(data, why):
    async with sse_model(lambda r: httpx.Response(200, headers=SSE_HEADERS, content=frames([CREATED, DELTA]) + data)) as model:
        with pytest.raises(StreamTruncated, match=why) as info:
            await stream_all(model)
    assert info.value.partial_text == "Par"


@pytest.mark.parametrize("usage", ['"input_tokens": 1e400', '"input_tokens": -5', '"input_tokens": ' + "9" * 400,
                                   '"input_tokens": 1, "input_tokens_details": {"cached_tokens": 1e400}'])
async def test_usage_out_of_range_is_a_typed_error_in_a_stream_and_in_a_reply(usage):
    async with sse_model(lambda r: httpx.Response(200, headers=SSE_HEADERS, content=completed_with_usage(usage))) as model:
        with pytest.raises(StreamTruncated, match="is not a token count") as info:
            await stream_all(model)
        assert info.value.partial_text == "Par"
    body = json.dumps(response_json("resp_bad", message_item("Paris"))).replace('"input_tokens": 10', usage)
    async with sse_model(json_reply(body)) as model:
        with pytest.raises(APIStatusError, match="usage's 'input_tokens.*' is not a token count"):
            await model.complete(ASK)


@pytest.mark.parametrize("body, why", [(DEEP, "nested too deeply"), ('{"id": ' + HUGE_INT + "}", "not JSON")])
async def test_a_reply_nested_too_deeply_or_with_a_huge_number_is_a_typed_error(body, why):
    async with sse_model(json_reply(body)) as model:
        with pytest.raises(APIStatusError, match=why):
            await model.complete(ASK)


@pytest.mark.parametrize("body", [DEEP, '{"error": {"message": ' + HUGE_INT + "}}", '{"error": {"message": 5, "param": []}}'])
async def test_an_error_body_the_parser_cannot_take_is_still_the_typed_error_of_its_status(body):
    async with sse_model(json_reply(body, status=500), max_retries=0) as model:
        with pytest.raises(ServerError) as info:
            await model.complete(ASK)
    assert info.value.status == 500
    err = error_from_body(400, body.encode())
    assert isinstance(err, APIStatusError) and err.param is None


async def test_a_failed_response_with_a_message_of_another_type_is_typed():
    failed = {"id": "resp_f", "status": "failed", "error": {"code": 500, "message": 42}}
    async with sse_model(lambda r: httpx.Response(200, json=failed)) as model:
        with pytest.raises(APIStatusError, match="42") as info:
            await model.complete(ASK)
    assert info.value.code == "500"


# -- tool arguments and results nested too deeply --------------------------------------------------------


def test_tool_arguments_nested_too_deeply_leave_the_call_readable():
    call = tool_call_from_item(call_item("get_temperature", DEEP, "call_1"))
    assert call.arguments == {} and call.raw_arguments == DEEP
    snapshot = fold_all([CREATED, {"type": "response.output_item.done", "output_index": 0,
                                   "item": call_item("get_temperature", '{"n": ' + HUGE_INT + "}", "call_2")}])
    assert snapshot.calls[0].arguments == {} and snapshot.failure is None


@tool
def get_temperature(city: str) -> str:
    """Current temperature in a city.

    Args:
        city: The city.
    """
    return f"18°C in {city}"


@pytest.mark.parametrize("raw, told", [(DEEP, "JSON nested too deeply to read"),
                                       ('{"city": ' + HUGE_INT + "}", "not readable JSON")])
async def test_the_agent_tells_the_model_its_arguments_were_nested_too_deeply(raw, told):
    replies = iter([response_json("resp_1", call_item("get_temperature", raw, "call_1")),
                    response_json("resp_2", message_item("Sorry."))])
    model = sse_model(lambda r: httpx.Response(200, json=next(replies)))
    async with model:
        events = [e async for e in Agent(model, tools=[get_temperature], stream=False).run("Paris?")]
    [result] = [e for e in events if isinstance(e, ToolResultEvent)]
    assert result.is_error and told in result.result and events[-1].final_message == "Sorry."


def test_a_tool_result_nested_too_deeply_is_a_tool_error():
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ToolError, match="nested too deeply to send to the model"):
        tool_output(deep)


# -- arguments checked where they are given ------------------------------------------------------------


def model_with(**kw: Any) -> OCIResponsesModel:
    kw.setdefault("base_url", "http://x.test/openai/v1")
    return OCIResponsesModel("openai.gpt-4.1", auth="none", compartment_id=COMPARTMENT, **kw)


@pytest.mark.parametrize("kw, says", [
    ({"timeout": -5}, "^timeout must be a positive number of seconds"),
    ({"timeout": "x"}, "^timeout must be a positive number of seconds .* got str 'x'"),
    ({"timeout": 0}, "^timeout must be"),
    ({"timeout": httpx.Timeout(5, pool=-1)}, "^timeout.pool must be"),
    ({"max_retries": "2"}, "^max_retries must be a whole number"),
    ({"max_retries": 1.5}, "^max_retries must be a whole number"),
    ({"store": "false"}, "^store must be True or False; got str 'false'"),
    ({"base_url": "localhost:8000/openai/v1"}, "^base_url must be an http.s. URL"),
    ({"transport": object()}, "^transport must be an httpx.AsyncBaseTransport"),
    ({"base_url": None, "region": "nowhere-1"}, "^region 'nowhere-1' is not an OCI region name"),
    ({"base_url": None, "region": "us-chicagoo-1"}, "^region 'us-chicagoo-1' is not an OCI region the oci SDK knows"),
    ({"region": 42}, "^region 42 is not an OCI region name"),
])
def test_model_arguments_are_checked_where_they_are_given(kw, says):
    with pytest.raises(ConfigError, match=says):
        model_with(**kw)


def test_a_region_is_checked_against_the_sdk_only_for_ocis_own_url(monkeypatch):
    monkeypatch.delenv("OCI_REGION", raising=False)
    assert model_with(region="us-chicagoo-1").region == "us-chicagoo-1"  # any endpoint: the shape is enough
    assert model_with(base_url=None, region="eu-frankfurt-1").base_url.startswith("https://inference.generativeai.eu-")
    monkeypatch.setenv("OCI_REGION", "nowhere")
    with pytest.raises(ConfigError, match=r"^region \(from OCI_REGION\) 'nowhere'"):
        model_with(base_url=None)


@pytest.mark.parametrize("kw, says", [
    ({"max_iterations": "3"}, "^max_iterations must be a whole number of at least 1 .* got str '3'"),
    ({"max_iterations": 0}, "^max_iterations must be a whole number of at least 1"),
    ({"max_iterations": True}, "^max_iterations must be"),
    ({"max_iterations": 2.0}, "^max_iterations must be"),
    ({"tools": get_temperature}, r"^tools must be a list of tools; got the single tool 'get_temperature': pass "
                                 r"tools=\[get_temperature\]"),
    ({"tools": "get_temperature"}, "^tools must be a list of @tool functions"),
    ({"tools": {"get_temperature": get_temperature}}, "^tools must be a list of @tool functions"),
    ({"tools": [get_temperature, "get_time"]}, r"^tools\[1\] is str 'get_time', not a tool"),
    ({"tools": 3}, "^tools must be a list"),
    ({"system_prompt": ["Be brief."]}, "^system_prompt must be text"),
])
def test_agent_arguments_are_checked_where_they_are_given(kw, says):
    with pytest.raises(ConfigError, match=says):
        Agent(model_with(), **kw)


def test_no_tools_can_be_said_with_none():
    assert Agent(model_with(), tools=None).tools == {}


async def test_events_without_a_type_are_skipped_like_unknown_ones():
    """Found by the property test: `data: {}` made a KeyError."""
    final = {"type": "response.completed", "response": response_json("resp_bad", message_item("Par"))}
    body = frames([CREATED, DELTA]) + b'data: {}\n\ndata: {"type": null, "delta": "x"}\n\n' + frames([final])
    async with sse_model(lambda r: httpx.Response(200, headers=SSE_HEADERS, content=body)) as model:
        chunks = await stream_all(model)
    assert [c.content for c in chunks if c.content] == ["Par"] and chunks[-1].response.text == "Par"
    assert fold_all([{}, {"type": None}]).failure is None


@pytest.mark.parametrize("kw, says", [
    ({"provider_state": "resp_1"}, r"^provider_state must be the dict a reply gave .* got str"),
    ({"provider_state": {"previous_response_id": 7}}, r"^provider_state\['previous_response_id'\] must be a response id"),
    ({"tools": get_temperature}, "^tools must be a list of tools"),
    ({"tools": "get_temperature"}, "^tools must be a list of tools"),
    ({"tools": 3}, "^tools must be a list of tools"),
])
async def test_call_arguments_are_checked_before_sending(kw, says):
    async with model_with(store=True) as model:
        with pytest.raises(ConfigError, match=says):
            model.request_body(ASK, **kw)
        with pytest.raises(ConfigError, match=says):
            await model.complete(ASK, **kw)
    assert model_with().request_body(ASK, tools=None)["input"]  # None: no tools
