"""OCIResponsesModel.complete() against the in-process mock (no sockets)."""

from __future__ import annotations

import pytest

from locus_nb import ConfigError, Message, StateLost

from .conftest import COMPARTMENT

SEED = [
    Message.system("You remember user-shared facts and recall them on demand."),
    Message.user("My favorite color is purple. Just acknowledge."),
]


async def test_stateless_recall_from_full_history(make_model, mock_app):
    model = make_model(store=False)
    assert model.server_stateful is False
    r1 = await model.complete(SEED)
    assert r1.provider_state == {}
    r2 = await model.complete([*SEED, r1.message, Message.user("What is my favorite color?")])
    assert "purple" in r2.text.lower()
    sent = [entry["body"] for entry in mock_app.state.mock.log]
    assert all(b["store"] is False and "previous_response_id" not in b for b in sent)
    assert len(sent[1]["input"]) == 3
    # nothing was kept on the server
    assert mock_app.state.mock.responses == {}


async def test_stateless_without_history_cannot_recall(make_model):
    model = make_model(store=False)
    r = await model.complete([Message.user("What is my favorite color?")])
    assert "purple" not in r.text.lower()


async def test_stored_continuation_sends_only_the_new_turn(make_model, mock_app):
    model = make_model(store=True)
    assert model.server_stateful is True
    r1 = await model.complete(SEED)
    assert r1.provider_state == {"previous_response_id": r1.response_id}
    r2 = await model.complete([Message.user("What is my favorite color?")], provider_state=r1.provider_state)
    assert "purple" in r2.text.lower()
    assert r2.provider_state["previous_response_id"] != r1.response_id
    second = mock_app.state.mock.log[1]["body"]
    assert second["previous_response_id"] == r1.response_id
    assert len(second["input"]) == 1
    # the stored chain counts toward what is billed
    assert r2.usage.input_tokens > r1.usage.input_tokens


async def test_unknown_previous_response_is_state_lost(make_model):
    model = make_model(store=True)
    with pytest.raises(StateLost) as info:
        await model.complete([Message.user("hi")], provider_state={"previous_response_id": "resp_gone"})
    assert info.value.code == "previous_response_not_found"


async def test_context_manager_closes_client(make_model):
    async with make_model() as model:
        await model.complete([Message.user("hi")])
        assert model._client is not None
    assert model._client is None


def test_constructor_needs_region_or_base_url(monkeypatch):
    from locus_nb import OCIResponsesModel

    monkeypatch.delenv("OCI_REGION", raising=False)
    monkeypatch.delenv("OCI_COMPARTMENT", raising=False)
    with pytest.raises(ConfigError, match="region"):
        OCIResponsesModel("openai.gpt-4.1", auth="none", compartment_id=COMPARTMENT)
    with pytest.raises(ConfigError, match="compartment"):  # OCI answers 400 without opc-compartment-id
        OCIResponsesModel("openai.gpt-4.1", region="us-chicago-1", auth="none")
    model = OCIResponsesModel("openai.gpt-4.1", region="us-chicago-1", auth="none", compartment_id=COMPARTMENT)
    assert model.base_url == "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1"
