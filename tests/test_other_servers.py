"""Responses servers other than OCI (llama.cpp, Llama Stack, vLLM, FastAPI-style servers): their error bodies and
streams, from the files in tests/fixtures/other-servers/ (README there: where each shape comes from), read by the
real client over httpx.MockTransport, or by `error_from_body` for the rules themselves."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from locus_nb import BadRequest, Message, NotFound, StateLost
from locus_nb._stream import fold_all
from locus_nb._wire import error_from_body

from .conftest import RESPONSES
from .sse_helpers import SSE_HEADERS, events_of, frames, sse_model

OTHER = Path(__file__).parent / "fixtures" / "other-servers"
CHAINED = "resp_0b5c2f1e8d7a4b3c9e6f1a2d5c8b7e4f"  # the id a continuing turn names (where the body does not)
LLAMA_STACK_ID = "resp_4e2f5c1a-9b7d-4c3e-8f21-0a6d3b9e7c54"
VLLM_ID = "resp_7c1d0e9a3b2f4e5d8c6b1a0f9e8d7c6b"
NO_STATE = "use store=False"  # what every hint about a server that keeps nothing tells to do

# fixture, HTTP status, the previous_response_id the request continued from (None: a turn that continues nothing,
# or a GET), the error type, what its message says, what its hint says (None: the class's own).
ERRORS = [
    ("llamacpp_400_previous_response_id.json", 400, CHAINED, StateLost,
     "llama.cpp does not support 'previous_response_id'. (this endpoint does not keep responses)", NO_STATE),
    ("pydantic_422_previous_response_id_extra.json", 422, CHAINED, StateLost,
     "body.previous_response_id: Extra inputs are not permitted (this endpoint does not keep responses)", NO_STATE),
    ("llamastack_400_empty_body.txt", 400, CHAINED, StateLost,
     f"HTTP 400 with an empty body (no response {CHAINED} there; this endpoint may not keep responses)", NO_STATE),
    ("llamastack_404_detail_response_not_found.json", 404, LLAMA_STACK_ID, StateLost,
     f"Response '{LLAMA_STACK_ID}' not found. (this endpoint may not keep responses)", "never stored"),
    ("vllm_404_response_not_found.json", 404, VLLM_ID, StateLost,
     f"Response with id '{VLLM_ID}' not found. (this endpoint may not keep responses)", "never stored"),
    ("llamastack_404_detail_response_not_found.json", 404, None, NotFound,
     f"Response '{LLAMA_STACK_ID}' not found.", "does not keep responses"),
    ("vllm_404_response_not_found.json", 404, None, NotFound,
     f"Response with id '{VLLM_ID}' not found.", "does not keep responses"),
    ("vllm_400_store_not_supported.json", 400, None, BadRequest, "`store=True` (default) is not supported", NO_STATE),
    ("llamacpp_400_input_required.json", 400, None, BadRequest, "'input' is required", None),
    ("llamacpp_404_no_such_route.json", 404, None, NotFound, "File Not Found", "base_url"),
    ("fastapi_422_detail_validation_list.json", 422, None, BadRequest,
     "body.input: Field required; body.model: Input should be a valid string", None),
]


def _body(name: str) -> bytes:
    return (OTHER / name).read_bytes()


@pytest.mark.parametrize(("name", "status", "previous", "kind", "says", "hint"), ERRORS)
def test_error_bodies_of_other_servers_become_the_error_they_mean(name, status, previous, kind, says, hint):
    err = error_from_body(status, _body(name), {"x-request-id": "req_7"}, previous_response_id=previous)
    assert type(err) is kind
    assert err.status == status and err.request_id == "req_7"
    assert err.code is None  # none, or a number that only repeated the status
    first_line = str(err).splitlines()[0]
    assert first_line.startswith(f"[{status}, opc-request-id req_7] ")  # the status once, never "[400 400]"
    assert says in first_line
    assert err.hint == kind.hint if hint is None else hint in err.hint
    if kind is not NotFound or "resp_" in says:  # a response the server lacks is not a wrong model id
        assert "model id" not in err.hint


@pytest.mark.parametrize(("name", "status", "previous", "kind", "says", "hint"),
                         [case for case in ERRORS if case[2] is not None])
async def test_a_continuing_turn_the_server_cannot_continue_raises_state_lost(name, status, previous, kind, says,
                                                                              hint):
    """Through the client: the id it continues from is the one the error is about."""
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(status, content=_body(name), headers={"content-type": "application/json"})

    async with sse_model(handler, store=True) as model:
        with pytest.raises(StateLost) as info:
            await model.complete([Message.user("What is my favorite color?")], {"previous_response_id": previous})
    assert sent[0]["previous_response_id"] == previous
    assert says in str(info.value) and hint in info.value.hint


def test_a_get_of_a_response_the_server_lacks_says_so_whatever_its_wording():
    """llama.cpp keeps no responses and has no such route: its 404 is "File Not Found". Told which response was
    asked for (`response_id`), the error names it and says why it may be missing."""
    err = error_from_body(404, _body("llamacpp_404_no_such_route.json"), response_id=CHAINED)
    assert type(err) is NotFound and err.code is None
    assert str(err).splitlines()[0] == f"[404] File Not Found (no response {CHAINED} there)"
    assert "does not keep responses" in err.hint and "model id" not in err.hint


@pytest.mark.parametrize(("name", "status", "kind"), [
    ("error_404_model_not_found.json", 404, NotFound),
    ("error_400_decimal_below_min_value.json", 400, BadRequest),
])
def test_oci_errors_on_a_continuing_turn_keep_their_meaning(name, status, kind):
    """A wrong model id or a bad option on a continuing turn is not a lost conversation."""
    raw = (RESPONSES / name).read_bytes()
    err = error_from_body(status, raw, previous_response_id=CHAINED)
    assert type(err) is kind and err.message == json.loads(raw)["error"]["message"]


def test_oci_previous_response_not_found_reads_as_before():
    raw = (RESPONSES / "error_400_previous_response_not_found.json").read_bytes()
    err = error_from_body(400, raw, previous_response_id="resp_gone")
    assert type(err) is StateLost and err.code == "previous_response_not_found"
    assert str(err).startswith("[400 previous_response_not_found] Previous response with id")
    assert err.hint == StateLost.hint


# -- streams -----------------------------------------------------------------------------------------------------


def _serving(name: str):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE_HEADERS, content=_body(name))

    return handler


async def _streamed(name: str) -> tuple[str, list, object]:
    async with sse_model(_serving(name)) as model:
        chunks = [chunk async for chunk in model.stream([Message.user("hi")])]
    text = "".join(c.content or "" for c in chunks)
    calls = [call for c in chunks for call in c.tool_calls or ()]
    return text, calls, chunks[-1].response


# fixture, the text it streams, the calls it makes (name, arguments), whether it reports its usage
STREAMS = [
    ("llamacpp_stream_text_no_sequence_number.sse", "Your favorite color is purple.", [], True),
    ("llamacpp_stream_two_function_calls.sse", "",
     [("get_temperature", {"city": "Paris"}), ("get_temperature", {"city": "Lisbon"})], True),
    ("llamastack_stream_bare_data_zero_usage.sse", "Noted: purple.", [], False),
]


@pytest.mark.parametrize(("name", "text", "calls", "reported"), STREAMS)
async def test_streams_of_other_servers_are_read_whole(name, text, calls, reported):
    """No `sequence_number`, no `output_index`, items without an `id`, `data:` lines without `event:` lines."""
    raw = _body(name).decode()
    assert ("sequence_number" in raw) is (name.startswith("llamastack"))  # the fixtures are what they say
    assert ("event:" in raw) is (not name.startswith("llamastack"))
    streamed, streamed_calls, response = await _streamed(name)
    assert streamed == text and response.text == text
    assert [(c.name, c.arguments) for c in streamed_calls] == calls
    assert [(c.name, c.arguments) for c in response.message.tool_calls] == calls
    assert response.usage.reported is reported


async def test_calls_without_ids_or_indexes_stay_apart_when_the_final_response_lacks_them():
    """Each `output_item.done` completes its own call (matched by `call_id`), so the calls gathered from the events
    stand in whole for a final response sent without its items."""
    events = events_of(_body("llamacpp_stream_two_function_calls.sse"))
    events[-1]["response"]["output"] = []
    snapshot = fold_all(events)
    assert [c.arguments for c in snapshot.response.message.tool_calls] == [{"city": "Paris"}, {"city": "Lisbon"}]

    async with sse_model(lambda request: httpx.Response(200, headers=SSE_HEADERS, content=frames(events))) as model:
        chunks = [chunk async for chunk in model.stream([Message.user("hi")])]
    assert [c.id for c in chunks[-1].response.message.tool_calls] == ["fc_x1Yc7PqLm0aZ", "fc_Hb3sK9wQe2Tn"]


async def test_usage_all_zero_is_reported_as_unknown_not_as_free():
    body = json.loads(_body("llamastack_nonstream_zero_usage.json"))

    async with sse_model(lambda request: httpx.Response(200, json=body)) as model:
        reply = await model.complete([Message.user("hi")])
    assert reply.text == "Noted: purple." and reply.usage.reported is False
    counted = json.loads((RESPONSES / "openai_python_live_text_nonstream.json").read_text())
    async with sse_model(lambda request: httpx.Response(200, json=counted)) as model:
        assert (await model.complete([Message.user("hi")])).usage.reported is True
    assert (reply.usage + reply.usage).reported is False

