"""Logprobs: with `include: ["message.output_text.logprobs"]` each token of the answer carries its
logprob (and `top_logprobs` runners-up), in the output_text part and on its streamed delta —
the real shape, the SDK's types, fixed values."""

from __future__ import annotations

import math

BODY = {"model": "openai.gpt-4.1", "input": "Count to five", "include": ["message.output_text.logprobs"]}


def part_of(response: dict) -> dict:
    [message] = [i for i in response["output"] if i["type"] == "message"]
    return message["content"][0]


async def test_each_token_has_its_logprob_and_top_logprobs_in_the_real_shape(client):
    from openai.types.responses import Response

    r = await client.create({**BODY, "top_logprobs": 3})
    part = part_of(r)
    logprobs = part["logprobs"]
    assert "".join(lp["token"] for lp in logprobs) == part["text"]
    for lp in logprobs:
        assert list(lp) == ["token", "bytes", "logprob", "top_logprobs"]
        assert lp["bytes"] == list(lp["token"].encode()) and lp["logprob"] < 0
        assert [list(t) for t in lp["top_logprobs"]] == [["token", "bytes", "logprob"]] * 3
        assert lp["top_logprobs"][0] == {k: lp[k] for k in ("token", "bytes", "logprob")}  # the chosen one first
        ranked = [t["logprob"] for t in lp["top_logprobs"]]
        assert ranked == sorted(ranked, reverse=True) and len({t["token"] for t in lp["top_logprobs"]}) == 3
        assert sum(math.exp(t["logprob"]) for t in lp["top_logprobs"]) < 1
    assert Response.model_validate(r).output[0].content[0].logprobs[0].token == logprobs[0]["token"]  # SDK types


async def test_logprobs_are_the_same_for_the_same_answer(client):
    first = part_of(await client.create({**BODY, "top_logprobs": 20}))
    again = part_of(await client.create({**BODY, "top_logprobs": 20}))
    assert first["logprobs"] == again["logprobs"] and len(first["logprobs"][0]["top_logprobs"]) == 20


async def test_without_top_logprobs_there_are_no_runners_up(client):
    logprobs = part_of(await client.create(BODY))["logprobs"]
    assert logprobs and all(lp["top_logprobs"] == [] for lp in logprobs)


async def test_without_the_include_there_are_none(client):
    r = await client.create({"model": "openai.gpt-4.1", "input": "Count to five", "top_logprobs": 5})
    assert part_of(r)["logprobs"] == []
    events = await client.stream({"model": "openai.gpt-4.1", "input": "Count to five", "top_logprobs": 5})
    assert all(e["logprobs"] == [] for e in events if e["type"].startswith("response.output_text."))


async def test_a_stream_carries_each_tokens_logprob_on_its_delta_and_all_of_them_on_done(client):
    from openai.types.responses import ResponseTextDeltaEvent, ResponseTextDoneEvent

    events = await client.stream({**BODY, "top_logprobs": 2})
    final = part_of(events[-1]["response"])
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert [e["logprobs"] for e in deltas] == [[lp] for lp in final["logprobs"]]
    assert [e["delta"] for e in deltas] == [lp["token"] for lp in final["logprobs"]]
    [done] = [e for e in events if e["type"] == "response.output_text.done"]
    assert done["logprobs"] == final["logprobs"]
    [added] = [e for e in events if e["type"] == "response.content_part.added"]
    assert added["part"]["logprobs"] == []
    ResponseTextDeltaEvent.model_validate(deltas[0])
    ResponseTextDoneEvent.model_validate(done)
    assert final == part_of(await client.create({**BODY, "top_logprobs": 2}))  # as without streaming


async def test_top_logprobs_above_20_is_the_real_400(client):
    r = await client.post({**BODY, "top_logprobs": 21})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "integer_above_max_value")
