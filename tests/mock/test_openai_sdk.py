"""The official `openai` Python SDK, pointed at the mock over a real socket, works as against the real API."""

from __future__ import annotations

import json

import pytest

from locus_nb.mock import MockServer

from .conftest import HEADERS, WEATHER_TOOL

MODEL = "openai.gpt-4.1"


@pytest.fixture(scope="module")
def openai():
    """The SDK's module, imported by the tests that use it (not at the top: tests/conftest.py)."""
    import openai

    return openai


def sdk(base_url: str, **kw) -> openai.OpenAI:
    import openai

    kw.setdefault("api_key", "sk-test-not-a-real-key")
    return openai.OpenAI(base_url=base_url, default_headers=HEADERS, max_retries=kw.pop("max_retries", 0), **kw)


@pytest.fixture(scope="module")
def client(mock_server):
    with sdk(mock_server.base_url) as c:
        yield c


def test_create_non_stream(client):
    r = client.responses.create(model=MODEL, input="My favorite color is purple. Just acknowledge.",
                                instructions="You remember user-shared facts.")
    assert r.output_text == "Got it: your favorite color is purple."
    assert r.status == "completed" and r.id.startswith("resp_") and r.output[0].id.startswith("msg_")
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.instructions == "You remember user-shared facts."


def test_create_stream(client):
    events = list(client.responses.create(model=MODEL, input="Count to five, one number per line.", stream=True))
    assert [type(e).__name__ for e in events[:2]] == ["ResponseCreatedEvent", "ResponseInProgressEvent"]
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "1\n2\n3\n4\n5"
    assert events[-1].type == "response.completed" and events[-1].response.output_text == text
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_stream_helper_final_response(client):
    with client.responses.stream(model=MODEL, input="Count to three") as stream:
        seen = [e.type for e in stream]
        final = stream.get_final_response()
    assert final.output_text == "1, 2, 3" and "response.output_text.done" in seen


def test_stream_helper_reports_an_incomplete_stream(client):
    with client.responses.stream(model=MODEL, input="Count to twelve", max_output_tokens=16) as stream:
        with pytest.raises(RuntimeError, match="Didn't receive a `response.completed` event"):
            stream.get_final_response()


@pytest.mark.parametrize("store", [True, False])
def test_function_call_round_trip(client, store):
    question = "What's the temperature in Paris?"
    first = client.responses.create(model=MODEL, input=question, tools=[WEATHER_TOOL], store=store)
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_temperature" and call.call_id.startswith("call_")
    arguments = json.loads(call.arguments)
    result = {"type": "function_call_output", "call_id": call.call_id, "output": f"18 C in {arguments['city']}"}
    if store:  # the server holds the call; send only its output
        second = client.responses.create(model=MODEL, previous_response_id=first.id, input=[result], tools=[WEATHER_TOOL])
    else:  # stateless: everything again, the model's own call item (with its id) included
        history = [{"role": "user", "content": question}, *[o.model_dump(exclude_none=True) for o in first.output], result]
        second = client.responses.create(model=MODEL, input=history, tools=[WEATHER_TOOL], store=False)
    assert second.output_text == "According to get_temperature: 18 C in Paris"


def test_previous_response_id_chain(client):
    r1 = client.responses.create(model=MODEL, input="My name is Ada.")
    r2 = client.responses.create(model=MODEL, input="My favorite city is Lisbon.", previous_response_id=r1.id)
    r3 = client.responses.create(model=MODEL, input="What is my name?", previous_response_id=r2.id)
    assert r3.output_text == "Your name is Ada."
    assert r1.usage.input_tokens < r2.usage.input_tokens < r3.usage.input_tokens


def test_retrieve_and_delete(client, openai):
    created = client.responses.create(model=MODEL, input="Count to two")
    assert client.responses.retrieve(created.id).output_text == "1, 2"
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)


def test_store_false_response_is_not_found(client, openai):
    created = client.responses.create(model=MODEL, input="hi", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="again", previous_response_id=created.id)
    assert caught.value.code == "previous_response_not_found" and caught.value.param == "previous_response_id"


ORPHAN_OUTPUT = [{"type": "function_call_output", "call_id": "call_1", "output": "18 C"}]
OMITTED = object()  # an argument left out of the call
# The mock's 4xx replies, each as the SDK's typed error: (create() arguments, error class name, code, param).
REFUSED = {
    "max_output_tokens below 16": ({"max_output_tokens": 8}, "BadRequestError", "integer_below_min_value",
                                   "max_output_tokens"),
    "wrong type": ({"max_output_tokens": "8"}, "BadRequestError", "invalid_type", "max_output_tokens"),
    "temperature below 0": ({"temperature": -1}, "BadRequestError", "decimal_below_min_value", "temperature"),
    "unknown field": ({"extra_body": {"colour": "blue"}}, "BadRequestError", "unknown_parameter", "colour"),
    "max_tokens": ({"extra_body": {"max_tokens": 100}}, "BadRequestError", "unknown_parameter", "max_tokens"),
    "messages": ({"input": OMITTED, "extra_body": {"messages": [{"role": "user", "content": "hi"}]}},
                 "BadRequestError", "unknown_parameter", "messages"),
    "unknown model": ({"model": "gpt-nope"}, "NotFoundError", "model_not_found", None),
    "unknown previous response": ({"previous_response_id": "resp_never"}, "BadRequestError",
                                  "previous_response_not_found", "previous_response_id"),
    "output without its call": ({"input": ORPHAN_OUTPUT}, "BadRequestError", None, "input"),
}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("case", REFUSED)
def test_validation_errors_are_typed(client, openai, case, stream):
    arguments, error, code, param = REFUSED[case]
    call = {name: value for name, value in {"model": MODEL, "input": "hi", "stream": stream, **arguments}.items()
            if value is not OMITTED}
    with pytest.raises(getattr(openai, error)) as caught:
        client.responses.create(**call)
    assert (caught.value.code, caught.value.param) == (code, param)
    assert caught.value.status_code == (404 if error == "NotFoundError" else 400)
    assert caught.value.request_id.startswith("mock-") and caught.value.type == "invalid_request_error"


@pytest.mark.parametrize("stream", [False, True])
def test_oci_refusals_are_typed(openai, stream):
    with MockServer(zdr=True) as mock:
        with sdk(mock.base_url) as zdr, pytest.raises(openai.BadRequestError, match="Zero Data Retention"):
            zdr.responses.create(model=MODEL, input="hi", store=True, stream=stream)
        with openai.OpenAI(base_url=mock.base_url, api_key="k", max_retries=0) as no_compartment:
            with pytest.raises(openai.BadRequestError, match="Compartment ID must be provided"):
                no_compartment.responses.create(model=MODEL, input="hi", stream=stream)


def test_unstored_item_reference_is_a_not_found_error(client, openai):
    first = client.responses.create(model=MODEL, input="hi", store=False)
    with pytest.raises(openai.NotFoundError, match="Items are not persisted when `store` is set to false"):
        client.responses.create(model=MODEL, store=False, input=[{"type": "item_reference", "id": first.output[0].id}])


def test_faults_surface_as_the_sdk_errors(client, openai):
    for fault, error in [("rate_limit", openai.RateLimitError), ("server_error", openai.InternalServerError),
                         ("unavailable", openai.InternalServerError)]:
        with pytest.raises(error):
            client.responses.create(model=MODEL, input="hi", metadata={"mock_fault": fault})
    with pytest.raises(openai.APIError, match="An error occurred while processing your request"):
        list(client.responses.create(model=MODEL, input="Count to ten", stream=True, metadata={"mock_fault": "error_event"}))


def test_sdk_retries_honour_retry_after():
    with MockServer(faults=["rate_limit:1"], retry_after=0.05) as mock, sdk(mock.base_url, max_retries=1) as client:
        assert client.responses.create(model=MODEL, input="Count to two").output_text == "1, 2"
        statuses = [entry["headers"].get("x-stainless-retry-count") for entry in mock.requests]
    assert statuses == ["0", "1"]


def test_api_key_mode(openai):
    with MockServer(api_key="sk-right") as mock:
        with sdk(mock.base_url, api_key="sk-wrong") as wrong, pytest.raises(openai.AuthenticationError):
            wrong.responses.create(model=MODEL, input="hi")
        with sdk(mock.base_url, api_key="sk-right") as right:
            assert right.responses.create(model=MODEL, input="Count to two").output_text == "1, 2"
        logged = [entry["headers"]["authorization"] for entry in mock.requests]
    assert logged == ["Bearer ****", "Bearer ****"]
