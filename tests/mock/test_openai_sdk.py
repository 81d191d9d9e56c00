"""The official `openai` Python SDK, pointed at the mock over a real socket, works as against the real API."""

from __future__ import annotations

import json
import time

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


# -- conversations and background mode, through the SDK's own calls ---------------------------------------------


def test_conversations_and_their_items(client, openai):
    from openai.types.conversations import Conversation, ConversationDeletedResource, ConversationItemList

    made = client.conversations.create(items=[{"role": "user", "content": "My name is Ada."}], metadata={"lesson": "02"})
    assert isinstance(made, Conversation) and made.id.startswith("conv_") and made.metadata == {"lesson": "02"}
    assert client.conversations.retrieve(made.id) == made
    assert client.conversations.update(made.id, metadata={"lesson": "04"}).metadata == {"lesson": "04"}
    added = client.conversations.items.create(made.id, items=[{"role": "user", "content": str(n)} for n in range(4)])
    assert isinstance(added, ConversationItemList) and [i.content[0].text for i in added.data] == ["0", "1", "2", "3"]
    # the SDK's pager follows `after`/`has_more` across pages of two
    every = [item.content[0].text for item in client.conversations.items.list(made.id, limit=2, order="asc")]
    assert every == ["My name is Ada.", "0", "1", "2", "3"]
    one = client.conversations.items.retrieve(added.data[0].id, conversation_id=made.id)
    assert one == added.data[0]
    assert client.conversations.items.delete(added.data[0].id, conversation_id=made.id).id == made.id
    assert len(client.conversations.items.list(made.id).data) == 4
    deleted = client.conversations.delete(made.id)
    assert isinstance(deleted, ConversationDeletedResource) and deleted.deleted and deleted.id == made.id
    with pytest.raises(openai.NotFoundError, match=f"Conversation with id '{made.id}' not found."):
        client.conversations.retrieve(made.id)


def test_responses_on_a_conversation(client, openai):
    conversation = client.conversations.create()
    client.responses.create(model=MODEL, input="My favorite city is Lisbon.", conversation=conversation.id)
    asked = client.responses.create(model=MODEL, input="What is my favorite city?",
                                    conversation={"id": conversation.id})
    assert asked.output_text == "Your favorite city is Lisbon." and asked.conversation.id == conversation.id
    roles = [item.role for item in client.conversations.items.list(conversation.id, order="asc")]
    assert roles == ["user", "assistant", "user", "assistant"]
    with pytest.raises(openai.BadRequestError) as both:
        client.responses.create(model=MODEL, input="hi", conversation=conversation.id, previous_response_id=asked.id)
    assert (both.value.code, both.value.param) == ("mutually_exclusive_parameters", None)
    client.conversations.delete(conversation.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODEL, input="again", conversation=conversation.id)


def poll(client, response_id: str, deadline_s: float = 10):
    """`responses.retrieve` until the response leaves queued/in_progress (bounded)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        got = client.responses.retrieve(response_id)
        if got.status not in ("queued", "in_progress"):
            return got
        time.sleep(0.01)
    raise AssertionError(f"{response_id} still running after {deadline_s} s")


def test_background_polled_and_cancelled(client, openai):
    queued = client.responses.create(model=MODEL, input="Count to three", background=True)
    assert (queued.status, queued.background) == ("queued", True)
    done = poll(client, queued.id)
    assert (done.status, done.output_text) == ("completed", "1, 2, 3")
    with pytest.raises(openai.BadRequestError, match="Cannot cancel a completed response."):
        client.responses.cancel(queued.id)
    with MockServer(token_delay=0.005) as paced, sdk(paced.base_url) as slow:
        running = slow.responses.create(model=MODEL, input="Go", background=True, metadata={"mock_text_tokens": "400"})
        cancelled = slow.responses.cancel(running.id)
        assert (cancelled.status, cancelled.output) == ("cancelled", [])
        assert slow.responses.cancel(running.id) == cancelled  # idempotent
        assert slow.responses.retrieve(running.id).status == "cancelled"


@pytest.mark.parametrize("cut_after", [0, 3, 7, 12])
def test_a_background_stream_resumed_with_starting_after_is_the_tail_of_the_whole(client, cut_after):
    whole = list(client.responses.create(model=MODEL, input="Count to ten", background=True, stream=True))
    assert [type(e).__name__ for e in whole[:3]] == ["ResponseCreatedEvent", "ResponseQueuedEvent",
                                                     "ResponseInProgressEvent"]
    resumed = list(client.responses.retrieve(whole[0].response.id, stream=True, starting_after=cut_after))
    assert resumed == whole[cut_after + 1:]  # none lost, none repeated
    text = "".join(e.delta for e in whole[: cut_after + 1] + resumed if e.type == "response.output_text.delta")
    assert text == whole[-1].response.output_text == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"


def test_a_dropped_background_stream_resumes_through_the_sdk():
    import httpx

    with MockServer(token_delay=0.001) as mock, sdk(mock.base_url) as client:
        got = []
        with pytest.raises(httpx.RemoteProtocolError):  # the SDK lets the transport's error through mid-stream
            for event in client.responses.create(model=MODEL, input="Go", background=True, stream=True,
                                                 metadata={"mock_text_tokens": "100", "mock_fault": "drop_mid_stream"}):
                got.append(event)
        assert got[-1].type == "response.output_text.delta"
        rest = list(client.responses.retrieve(got[0].response.id, stream=True, starting_after=got[-1].sequence_number))
    events = got + rest
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == events[-1].response.output_text
