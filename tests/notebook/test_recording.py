"""`record_requests(model)`: the requests a model sends, as they go out (for lessons that measure them)."""

from __future__ import annotations

import json

import httpx

from locus_nb import Message, OCIResponsesModel, record_requests

from ..conftest import COMPARTMENT


async def test_each_request_is_recorded_as_sent(make_model):
    model = make_model()
    sent = record_requests(model)
    messages = [Message.system("Be brief."), Message.user("Count to three.")]
    await model.complete(messages)
    async for _ in model.stream(messages):
        pass
    assert len(sent) == 2 and [r.method for r in sent] == ["POST", "POST"]
    assert sent[0].url.endswith("/openai/v1/responses")
    assert sent[0].body == model.request_body(messages)
    assert sent[1].body == model.request_body(messages, stream=True)
    assert isinstance(sent[0].content, bytes) and json.loads(sent[0].content) == sent[0].body
    assert sent[-1] is sent[1] and list(sent) == [sent[0], sent[1]]
    await model.aclose()


async def test_a_recording_stops_when_its_block_ends(make_model):
    model = make_model()
    with record_requests(model) as sent:
        await model.complete([Message.user("hi")])
    await model.complete([Message.user("hi again")])
    assert len(sent) == 1 and sent[0].body == model.request_body([Message.user("hi")])
    await model.aclose()


async def test_the_record_holds_no_headers(mock_app):
    """Headers carry credentials (Authorization, the signature): a recording keeps only what the lesson shows."""
    model = OCIResponsesModel("openai.gpt-4.1", base_url="http://mock/openai/v1", auth="bearer",
                              api_key="sk-secret-0123456789", compartment_id=COMPARTMENT,
                              transport=httpx.ASGITransport(app=mock_app))
    sent = record_requests(model)
    await model.complete([Message.user("hi")])
    assert "sk-secret" not in repr(sent) and "sk-secret" not in repr(sent[0])
    assert not hasattr(sent[0], "headers")
    await model.aclose()
