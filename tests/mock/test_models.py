"""Model families: every family's parameter rules and defaults, as the one table in `_models` says,
and the client's own rule for reasoning models (`locus_nb._wire`) run through the mock."""

from __future__ import annotations

import warnings

import pytest

from locus_nb import Message
from locus_nb._wire import build_request, is_reasoning_model
from locus_nb.mock._models import FAMILIES, family_of

from ..conftest import load_json

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
EXAMPLES = [(family, model) for family in FAMILIES for model in family.examples]
IDS = [model for _, model in EXAMPLES]


def error(message: str, param: str, code: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def kinds(response: dict) -> list[str]:
    return [item["type"] for item in response["output"]]


def test_every_example_id_belongs_to_its_family():
    assert [family_of(model).name for _, model in EXAMPLES] == [family.name for family, _ in EXAMPLES]


def test_the_table_names_each_family_once_and_every_effort_it_lists_is_real():
    assert len({f.name for f in FAMILIES}) == len(FAMILIES)
    for family in FAMILIES:
        assert set(family.efforts) <= set(EFFORTS) and family.examples
        assert family.default_effort is None or family.default_effort in family.efforts
        assert family.sampling == "always" or family.reasons


@pytest.mark.parametrize("family,model", EXAMPLES, ids=IDS)
async def test_defaults_when_reasoning_is_omitted(client, family, model):
    r = await client.create({"model": model, "input": "Count to three", "store": False})
    assert r["reasoning"]["effort"] == family.default_effort
    assert r["top_p"] == family.top_p
    assert kinds(r) == (["reasoning", "message"] if family.thinks_by_default else ["message"])
    assert (r["usage"]["output_tokens_details"]["reasoning_tokens"] > 0) == family.thinks_by_default


@pytest.mark.parametrize("family,model", EXAMPLES, ids=IDS)
async def test_every_effort_the_family_lists_is_taken_and_echoed_and_the_others_are_refused(client, family, model):
    for effort in EFFORTS:
        r = await client.post({"model": model, "input": "Count to three", "reasoning": {"effort": effort}})
        if effort in family.efforts:
            assert r.status_code == 200, (effort, r.text)
            assert r.json()["reasoning"]["effort"] == effort
            assert kinds(r.json()) == (["message"] if effort == "none" else ["reasoning", "message"])
        elif not family.efforts:  # gpt-4.1: BoundaryML/baml#2708
            assert (r.status_code, r.json()) == (400, error(
                "Unsupported parameter: 'reasoning.effort' is not supported with this model.", "reasoning.effort",
                "unsupported_parameter"))
        else:  # gpt-5.1: openai/openai-agents-python#2089
            listing = ", ".join(f"'{e}'" for e in family.efforts)
            if len(family.efforts) > 1:
                head, _, last = listing.rpartition(", ")
                listing = f"{head} and {last}" if len(family.efforts) == 2 else f"{head}, and {last}"
            assert (r.status_code, r.json()) == (400, error(
                f"Unsupported value: '{effort}' is not supported with the '{model}' model. Supported values are: "
                f"{listing}.", "reasoning.effort", "unsupported_value")), effort


async def test_the_effort_message_matches_the_real_one_for_gpt_5_1(client):
    r = await client.post({"model": "gpt-5.1", "input": "hi", "reasoning": {"effort": "minimal"}})
    assert r.json()["error"] == {  # openai/openai-agents-python#2089, verbatim
        "message": "Unsupported value: 'minimal' is not supported with the 'gpt-5.1' model. Supported values are: "
                   "'none', 'low', 'medium', and 'high'.",
        "type": "invalid_request_error", "param": "reasoning.effort", "code": "unsupported_value"}


@pytest.mark.parametrize("family,model", EXAMPLES, ids=IDS)
@pytest.mark.parametrize("name", ["temperature", "top_p"])
async def test_sampling_parameters_follow_the_family(client, family, model, name):
    for effort in (None, *family.efforts):
        body = {"model": model, "input": "hi", name: 0.5}
        if effort is not None:
            body["reasoning"] = {"effort": effort}
        r = await client.post(body)
        if family.sampling_allowed(effort):
            assert r.status_code == 200, (effort, r.text)
            assert r.json()[name] == 0.5
        else:  # o3-mini: appatalks/eva-agent#83; gpt-5 on Responses: OpenHands/software-agent-sdk#992
            assert (r.status_code, r.json()) == (400, error(
                f"Unsupported parameter: '{name}' is not supported with this model.", name, "unsupported_parameter"))


@pytest.mark.parametrize("family,model", EXAMPLES, ids=IDS)
async def test_logprobs_are_refused_where_the_model_reasons(client, family, model):
    for effort in (None, *family.efforts):
        body = {"model": model, "input": "hi", "include": ["message.output_text.logprobs"], "top_logprobs": 2}
        if effort is not None:
            body["reasoning"] = {"effort": effort}
        r = await client.post(body)
        if family.sampling_allowed(effort):
            assert r.status_code == 200, (effort, r.text)
            assert r.json()["output"][-1]["content"][0]["logprobs"]
        else:  # gpt-5-mini on api.openai.com: vllm-project/vllm#23319
            assert (r.status_code, r.json()) == (400, error(
                "logprobs are not supported with reasoning models.", "include", "unsupported_parameter"))


def test_sampling_is_taken_exactly_where_the_sources_say():
    allowed = {f.name: [e for e in (None, *f.efforts) if f.sampling_allowed(e)] for f in FAMILIES if f.reasons}
    assert allowed["gpt-5"] == allowed["o-series"] == allowed["gpt-5-pro"] == []
    assert allowed["gpt-5.1"] == [None, "none"]  # defaults to none, so omitted is none
    assert allowed["gpt-5.2 to gpt-5.4"] == [None, "none"]
    assert allowed["gpt-5.5 and later"] == ["none"]  # reasons by default: only an explicit none
    assert allowed["gpt-oss"] == [None, "low", "medium", "high"]


async def test_reasoning_settings_on_a_model_without_reasoning_name_the_setting(client):
    for model in ("openai.gpt-4.1", "meta.llama-3.3-70b-instruct", "xai.grok-4"):
        r = await client.post({"model": model, "input": "hi", "reasoning": {"summary": "auto"}})
        assert (r.status_code, r.json()["error"]["param"]) == (400, "reasoning.summary")
    ok = await client.post({"model": "openai.gpt-4.1", "input": "hi", "reasoning": {"effort": None, "summary": None}})
    assert ok.status_code == 200 and ok.json()["reasoning"] == {"context": None, "effort": None, "summary": None}


async def test_the_recorded_defaults_are_what_the_mock_echoes(client):
    gpt52 = load_json("stream_text_gpt52.request.json")
    r = await client.stream(gpt52)
    assert (r[-1]["response"]["reasoning"]["effort"], r[-1]["response"]["top_p"]) == ("none", 0.98)
    assert [i["type"] for i in r[-1]["response"]["output"]] == ["message"]
    gpt55 = await client.create({**load_json("stream_reasoning_commentary_function_call_gpt55.request.json"), "stream": False})
    assert (gpt55["reasoning"]["effort"], gpt55["top_p"], gpt55["output"][0]["type"]) == ("medium", 0.98, "reasoning")


# -- the client's rule and the mock's table agree ------------------------------------------------------

@pytest.mark.parametrize("family,model", EXAMPLES, ids=IDS)
async def test_what_the_client_sends_with_temperature_the_family_takes(client, family, model):
    for effort in (None, *family.efforts):
        reasoning = {"effort": effort} if effort else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            body = build_request([Message.user("Count to three")], model=model, store=False, temperature=0.5,
                                 top_p=0.9, reasoning=reasoning)
        dropped = "temperature" not in body
        assert dropped == any("temperature and top_p dropped" in str(w.message) for w in caught)
        r = await client.post(body)
        assert r.status_code == 200, (effort, r.text)


def test_the_client_drops_sampling_exactly_where_the_model_would_refuse_it():
    """The client's rule and the table agree both ways: nothing it sends is refused (above), and it
    drops `temperature`/`top_p` only where the family would refuse them."""
    for family, model in EXAMPLES:
        for effort in (None, *family.efforts):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                body = build_request([Message.user("hi")], model=model, store=False, temperature=0.5,
                                     reasoning={"effort": effort} if effort else None)
            assert ("temperature" in body) == family.sampling_allowed(effort), (family.name, model, effort)
