"""Model families: what the mock takes and echoes for each, written out below as the specification
(`SPEC`: the sources are in `locus_nb/mock/_models.py`), and the client's rule for reasoning models
(`locus_nb._wire`) run through the mock."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import pytest

from locus_nb import Message
from locus_nb import _families
from locus_nb._wire import build_request
from locus_nb.mock._models import FAMILIES, family_of

from ..conftest import load_json

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")


class Spec(NamedTuple):
    ids: tuple[str, ...]  # model ids of the family
    efforts: tuple[str, ...]  # the `reasoning.effort` values it takes (the others: 400)
    omitted: tuple[str | None, float, bool]  # `reasoning` left out: effort and top_p echoed, a reasoning item
    sampling: tuple[str | None, ...]  # the efforts at which temperature, top_p and logprobs are taken (None: no effort)


LMH = ("low", "medium", "high")
OPT_IN = ("none", "low", "medium", "high", "xhigh")
PLAIN = ((), (None, 1.0, False), (None,))  # no reasoning: `reasoning` refused, sampling taken

SPEC = {
    "gpt-5-chat": Spec(("openai.gpt-5-chat-latest",), *PLAIN),
    "gpt-5-pro": Spec(("openai.gpt-5-pro",), ("high",), ("high", 1.0, True), ()),
    "gpt-5-codex": Spec(("openai.gpt-5-codex",), LMH, ("medium", 1.0, True), ()),
    "gpt-5": Spec(("openai.gpt-5", "gpt-5-mini", "openai.gpt-5-nano", "gpt-5-2025-08-07"),
                  ("minimal", "low", "medium", "high"), ("medium", 1.0, True), ()),
    "gpt-5.1/5.2/5.3-chat": Spec(("openai.gpt-5.1-chat-latest", "gpt-5.2-chat-latest"), ("medium",),
                                 ("medium", 1.0, True), ()),
    "gpt-5.x-codex": Spec(("openai.gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5.2-codex", "openai.gpt-5.3-codex"), LMH,
                          ("medium", 1.0, True), ()),
    "gpt-5.x-pro": Spec(("openai.gpt-5.2-pro", "gpt-5.5-pro"), ("medium", "high", "xhigh"), ("medium", 1.0, True), ()),
    "gpt-5.1": Spec(("openai.gpt-5.1", "gpt-5.1-2025-11-13"), ("none", "low", "medium", "high"), ("none", 1.0, False),
                    (None, "none")),
    "gpt-5.2 to gpt-5.4": Spec(("openai.gpt-5.2", "gpt-5.2-2025-12-11", "openai.gpt-5.4"), OPT_IN,
                               ("none", 0.98, False), (None, "none")),
    # reasons by default: only an explicit effort "none" takes sampling
    "gpt-5.5 and later": Spec(("openai.gpt-5.5", "gpt-5.5-2026-04-23", "openai.gpt-5.6"), OPT_IN,
                              ("medium", 0.98, True), ("none",)),
    "gpt-6": Spec(("openai.gpt-6-astra",), ("low", "medium", "high", "xhigh"), ("medium", 1.0, True), ()),
    "o-series": Spec(("openai.o3", "o3-mini", "openai.o4-mini", "o1"), LMH, ("medium", 1.0, True), ()),
    "gpt-oss": Spec(("openai.gpt-oss-120b", "openai.gpt-oss-20b"), LMH, ("medium", 1.0, True), (None, *LMH)),
    "gpt-4.1, gpt-4o and other OpenAI ids": Spec(("openai.gpt-4.1", "gpt-4o", "gpt-4.1-mini", "openai.o10",
                                                  "ft:gpt-4.1:org::abc"), *PLAIN),
    "grok non-reasoning": Spec(("xai.grok-3", "xai.grok-4-1-fast-non-reasoning"), *PLAIN),
    # Grok reasons, but takes no `reasoning` settings and does take sampling
    "grok reasoning": Spec(("xai.grok-4", "xai.grok-4-1-fast-reasoning", "xai.grok-3-mini"), (), (None, 1.0, True),
                           (None,)),
    "llama": Spec(("meta.llama-3.3-70b-instruct", "meta.llama-4-maverick-17b-128e-instruct-fp8"), *PLAIN),
    "command": Spec(("cohere.command-a-03-2025",), *PLAIN),
    "gemini": Spec(("google.gemini-2.5-pro", "google.gemini-2.5-flash"), *PLAIN),
    "any other id": Spec(("mistral.mistral-large",), *PLAIN),
}
NAMES = list(SPEC)


def error(message: str, param: str, code: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def kinds(response: dict) -> list[str]:
    return [item["type"] for item in response["output"]]


def supported(efforts: tuple[str, ...]) -> str:
    """The endpoint's list of supported values: 'a' / 'a' and 'b' / 'a', 'b', and 'c'."""
    quoted = [f"'{e}'" for e in efforts]
    return " and ".join(quoted) if len(quoted) <= 2 else ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def test_the_specification_covers_every_family_and_the_mock_has_rules_for_each_in_order():
    assert NAMES == [f.name for f in FAMILIES] == [f.name for f in _families.FAMILIES]
    assert [f.base for f in FAMILIES] == list(_families.FAMILIES)


def test_every_id_belongs_to_its_family():
    assert {model: family_of(model).name for name in SPEC for model in SPEC[name].ids} == {
        model: name for name in SPEC for model in SPEC[name].ids}
    for family in FAMILIES:  # the ids the README shows
        assert all(family_of(model) is family for model in family.examples)


def test_every_effort_the_table_lists_is_real_and_only_reasoning_models_refuse_sampling():
    for family in _families.FAMILIES:
        rules = family_of(family.examples[0])
        assert set(rules.efforts) <= set(EFFORTS) and family.examples
        assert rules.default_effort is None or rules.default_effort in rules.efforts
        assert (family.reasoning == "when asked") == (rules.default_effort == "none")
        assert family.reasoning != "never" or (not rules.efforts and not family.refuses_sampling)


@pytest.mark.parametrize("name", NAMES)
async def test_defaults_when_reasoning_is_omitted(client, name):
    effort, top_p, reasons = SPEC[name].omitted
    for model in SPEC[name].ids:
        r = await client.create({"model": model, "input": "Count to three", "store": False})
        assert (r["reasoning"]["effort"], r["top_p"]) == (effort, top_p), model
        assert kinds(r) == (["reasoning", "message"] if reasons else ["message"]), model
        assert (r["usage"]["output_tokens_details"]["reasoning_tokens"] > 0) == reasons, model


@pytest.mark.parametrize("name", NAMES)
async def test_every_effort_the_family_takes_is_echoed_and_the_others_are_refused(client, name):
    spec = SPEC[name]
    for model in spec.ids:
        for effort in EFFORTS:
            r = await client.post({"model": model, "input": "Count to three", "reasoning": {"effort": effort}})
            if effort in spec.efforts:
                assert r.status_code == 200, (model, effort, r.text)
                assert r.json()["reasoning"]["effort"] == effort
                assert kinds(r.json()) == (["message"] if effort == "none" else ["reasoning", "message"])
            elif not spec.efforts:  # gpt-4.1: BoundaryML/baml#2708
                assert (r.status_code, r.json()) == (400, error(
                    "Unsupported parameter: 'reasoning.effort' is not supported with this model.", "reasoning.effort",
                    "unsupported_parameter")), model
            else:  # gpt-5.1: openai/openai-agents-python#2089
                assert (r.status_code, r.json()) == (400, error(
                    f"Unsupported value: '{effort}' is not supported with the '{model}' model. Supported values are: "
                    f"{supported(spec.efforts)}.", "reasoning.effort", "unsupported_value")), (model, effort)


async def test_the_effort_message_matches_the_real_one_for_gpt_5_1(client):
    r = await client.post({"model": "gpt-5.1", "input": "hi", "reasoning": {"effort": "minimal"}})
    assert r.json()["error"] == {  # openai/openai-agents-python#2089, verbatim
        "message": "Unsupported value: 'minimal' is not supported with the 'gpt-5.1' model. Supported values are: "
                   "'none', 'low', 'medium', and 'high'.",
        "type": "invalid_request_error", "param": "reasoning.effort", "code": "unsupported_value"}


@pytest.mark.parametrize("name", NAMES)
async def test_sampling_and_logprobs_are_taken_only_where_the_family_takes_them(client, name):
    spec = SPEC[name]
    asks = {"temperature": {"temperature": 0.5}, "top_p": {"top_p": 0.5},
            "include": {"include": ["message.output_text.logprobs"], "top_logprobs": 2}}
    for model in spec.ids:
        for effort in (None, *spec.efforts):
            for param, ask in asks.items():
                body = {"model": model, "input": "hi", **ask}
                if effort is not None:
                    body["reasoning"] = {"effort": effort}
                r = await client.post(body)
                if effort not in spec.sampling:  # o3-mini: appatalks/eva-agent#83; gpt-5-mini: vllm-project/vllm#23319
                    message = (f"Unsupported parameter: '{param}' is not supported with this model."
                               if param != "include" else "logprobs are not supported with reasoning models.")
                    assert (r.status_code, r.json()) == (400, error(message, param, "unsupported_parameter")), (
                        model, effort)
                elif param == "include":
                    assert r.status_code == 200, (model, effort, r.text)
                    assert r.json()["output"][-1]["content"][0]["logprobs"]
                else:
                    assert r.status_code == 200, (model, effort, r.text)
                    assert r.json()[param] == 0.5


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
    gpt55 = load_json("stream_reasoning_commentary_function_call_gpt55.request.json")
    gpt55 = await client.create({**gpt55, "stream": False})
    assert (gpt55["reasoning"]["effort"], gpt55["top_p"], gpt55["output"][0]["type"]) == ("medium", 0.98, "reasoning")


# -- the client drops sampling exactly where the family would refuse it, and the mock takes the rest -----

@pytest.mark.parametrize("name", NAMES)
async def test_what_the_client_sends_with_temperature_the_family_takes(client, name):
    spec = SPEC[name]
    for model in spec.ids:
        for effort in (None, *spec.efforts):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                body = build_request([Message.user("Count to three")], model=model, store=False, temperature=0.5,
                                     top_p=0.9, reasoning={"effort": effort} if effort else None)
            kept = "temperature" in body
            assert kept == (effort in spec.sampling), (model, effort)
            assert (not kept) == any("temperature and top_p dropped" in str(w.message) for w in caught)
            r = await client.post(body)
            assert r.status_code == 200, (model, effort, r.text)
