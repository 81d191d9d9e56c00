"""A live run's usage log (`notebook/_usage.py`): what connect()'s models log under `locus-nb run` when no cassette
holds the responses, read back by `runs/_usage.usage_in_log` as a cassette's would be."""

from __future__ import annotations

import json

import httpx

from locus_nb import Message, connect
from locus_nb._cassette import RecordingTransport, cassette_writer
from locus_nb.runs._usage import usage_in_cassette, usage_in_log

MESSAGES = [Message.system("Be brief."), Message.user("My favorite color is purple. Just acknowledge.")]


async def test_the_log_holds_each_request_and_each_responses_usage_and_nothing_else(tmp_path, mock_app):
    log, cassette = tmp_path / "usage.jsonl", tmp_path / "same.jsonl"
    conn = connect(env={"LOCUS_NB_TARGET": "mock", "LOCUS_NB_USAGE_LOG": str(log)})
    # The same exchanges also recorded to a cassette: two readers of the same responses must agree.
    recorder = RecordingTransport(cassette_writer(cassette, {"connection": {}}), httpx.ASGITransport(app=mock_app))
    async with conn.model(base_url="http://mock/openai/v1", transport=recorder) as model:
        reply = await model.complete(MESSAGES)
        streamed = "".join([getattr(event, "content", None) or "" async for event in model.stream(MESSAGES)])
    assert reply.message.content and streamed
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["kind"] for e in entries] == ["request", "response", "request", "response"]
    assert all(set(e) <= {"kind", "id", "model", "usage"} for e in entries)  # no prompt, no output, no header
    logged = usage_in_log(log)
    assert logged == usage_in_cassette(cassette)
    assert [(u.model, u.requests) for u in logged] == [("openai.gpt-4.1", 2)] and logged[0].input_tokens > 0


def test_without_the_variable_nothing_is_logged_and_a_missing_log_is_no_usage(tmp_path):
    assert connect(env={"LOCUS_NB_TARGET": "mock"}).usage_log is None
    assert usage_in_log(tmp_path / "none.jsonl") == ()
