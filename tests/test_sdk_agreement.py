"""Conversations and background answers: this client and the official `openai` SDK against the same mock (a real
server on loopback), doing the same things, see the same results; and what one makes, the other can use."""

from __future__ import annotations

import pytest

from locus_nb import (CancelRefused, ConfigError, ConversationNotFound, Message, OCIResponsesModel, ResumeRefused,
                      StreamTruncated)
from locus_nb.mock import MockServer

from .conftest import COMPARTMENT

MODEL = "openai.gpt-4.1"
COUNT = [Message.user("Count to 20, one number per line.")]


@pytest.fixture(scope="module")
def mock():
    with MockServer(token_delay=0.002) as server:
        yield server


@pytest.fixture
async def sdk(mock):
    import openai

    async with openai.AsyncOpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0,
                                  default_headers={"opc-compartment-id": COMPARTMENT}) as client:
        yield client


@pytest.fixture
async def model(mock):
    async with OCIResponsesModel(MODEL, base_url=mock.base_url, auth="none", compartment_id=COMPARTMENT,
                                 store=True) as client:
        yield client


async def test_a_conversation_made_by_either_client_holds_the_same_thread(sdk, model):
    import openai

    made_by_sdk = await sdk.conversations.create(metadata={"by": "sdk"})
    r1 = await model.complete([Message.user("My favorite color is purple. Just acknowledge.")],
                              {"conversation": made_by_sdk.id})
    theirs = await sdk.responses.create(model=MODEL, conversation=made_by_sdk.id, input="What is my favorite color?")
    assert theirs.conversation.id == made_by_sdk.id and r1.provider_state == {"conversation": made_by_sdk.id}
    listed = [item.model_dump(exclude_none=True) async for item in sdk.conversations.items.list(made_by_sdk.id, order="asc")]
    ours = await model.conversation_items({"conversation": made_by_sdk.id})
    assert [(i["id"], i["type"], i.get("role")) for i in ours] == [(i["id"], i["type"], i.get("role")) for i in listed]
    assert len(ours) == 4 and "purple" in theirs.output_text.lower()

    made_by_us = await model.create_conversation(metadata={"by": "locus"})
    assert (await sdk.conversations.retrieve(made_by_us.id)).metadata == {"by": "locus"}
    await model.delete_conversation(made_by_us)
    with pytest.raises(openai.NotFoundError):
        await sdk.conversations.retrieve(made_by_us.id)
    await sdk.conversations.delete(made_by_sdk.id)
    with pytest.raises(ConversationNotFound):
        await model.complete([Message.user("hi")], {"conversation": made_by_sdk.id})


async def test_both_refuse_a_conversation_with_a_previous_response_id(sdk, model):
    import openai

    conv = await sdk.conversations.create()
    first = await sdk.responses.create(model=MODEL, conversation=conv.id, input="hi")
    with pytest.raises(openai.BadRequestError, match="Mutually exclusive parameters"):
        await sdk.responses.create(model=MODEL, conversation=conv.id, previous_response_id=first.id, input="x")
    with pytest.raises(ConfigError, match="both a previous_response_id and a conversation"):
        await model.complete([Message.user("x")], {"conversation": conv.id, "previous_response_id": first.id})


async def test_a_background_answer_started_by_either_client_is_the_same_answer(sdk, model):
    handle = await model.start(COUNT)
    polled = await sdk.responses.retrieve(handle.response_id)
    while polled.status in ("queued", "in_progress"):
        polled = await sdk.responses.retrieve(handle.response_id)
    ours = await model.wait(handle)
    assert ours.status == polled.status == "completed" and ours.text == polled.output_text

    started_by_sdk = await sdk.responses.create(model=MODEL, input=COUNT[0].content, background=True)
    assert started_by_sdk.status == "queued"
    assert (await model.wait(started_by_sdk.id)).text == ours.text


async def test_cancelling_agrees(sdk, model):
    import openai

    finished = await model.complete(COUNT)
    with pytest.raises(openai.BadRequestError) as theirs:
        await sdk.responses.cancel(finished.response_id)
    with pytest.raises(CancelRefused) as refused:
        await model.cancel(finished.response_id)
    assert refused.value.status == theirs.value.status_code and refused.value.message == theirs.value.body["message"]


async def test_a_cut_background_stream_resumed_gives_what_the_sdk_reads_by_starting_after(sdk, model):
    ours = "".join([c.content async for c in model.stream(COUNT, background=True,
                                                          metadata={"mock_fault": "drop_mid_stream"}) if c.content])
    stream = await sdk.responses.create(model=MODEL, input=COUNT[0].content, background=True, stream=True)
    response_id, last, text = None, -1, []
    async for event in stream:  # read half, then leave, as a cut connection would
        response_id = response_id or getattr(getattr(event, "response", None), "id", None)
        last = event.sequence_number
        text += [event.delta] if event.type == "response.output_text.delta" else []
        if len(text) == 10:
            break
    await stream.close()
    rest = await sdk.responses.retrieve(response_id, stream=True, starting_after=last)
    text += [e.delta async for e in rest if e.type == "response.output_text.delta"]
    assert ours == "".join(text) == "\n".join(str(n) for n in range(1, 21))


async def test_a_resume_of_a_plain_response_is_refused_by_the_server_to_both(sdk, model, monkeypatch):
    import openai

    from locus_nb import _background

    plain = await model.complete(COUNT)
    with pytest.raises(openai.BadRequestError, match="background"):
        await sdk.responses.retrieve(plain.response_id, stream=True, starting_after=0)
    # our client resumes only what it streamed in the background; asked to resume a plain one, the server refuses
    from locus_nb._stream import StreamSnapshot

    snapshot = StreamSnapshot(response_id=plain.response_id)
    cut = StreamTruncated("the stream broke off", partial_text="1\n2")
    with pytest.raises(ResumeRefused, match="background=true") as refused:
        await _background._resume(model, snapshot, 0, cut, deadline_at=None, deadline=None)
    assert refused.value.partial_text == "1\n2"
