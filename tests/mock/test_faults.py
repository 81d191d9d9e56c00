"""Fault injection, per request (metadata) and per server (`MockConfig(faults=…)`, `--fault`)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from locus_nb import Message, OCIResponsesModel, RateLimited
from locus_nb.cli import main
from locus_nb.mock import MockConfig, MockServer
from locus_nb.mock._faults import FAULTS, FaultPlan, fault_help, plan_faults

from ..conftest import COMPARTMENT
from .conftest import HEADERS, deltas, parse_sse

BODY = {"model": "openai.gpt-4.1", "input": "Count to ten"}


def with_fault(name: str, **body) -> dict:
    return {**BODY, **body, "metadata": {"mock_fault": name}}


@pytest.mark.parametrize(("fault", "status", "error_type", "code"), [
    ("rate_limit", 429, "requests", "rate_limit_exceeded"),
    ("server_error", 500, "server_error", "server_error"),
    ("unavailable", 503, "server_error", None),
])
@pytest.mark.parametrize("stream", [False, True])
async def test_http_faults(client, fault, status, error_type, code, stream):
    r = await client.post(with_fault(fault, stream=stream))
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (error_type, code, None)
    if fault == "rate_limit":
        assert r.headers["retry-after"] == "1" and r.headers["retry-after-ms"] == "1000"


def test_drop_mid_stream_cuts_the_connection_after_some_deltas(mock_server):
    received = ""
    with httpx.Client(base_url=mock_server.base_url, headers=HEADERS) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            with http.stream("POST", "/responses", json=with_fault("drop_mid_stream", stream=True)) as r:
                for text in r.iter_text():
                    received += text
    events = [data for _, data in parse_sse(received)]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert 0 < len(deltas(events)) < 10  # "1," … cut halfway through "1, 2, … 10"
    assert not {"response.completed", "response.failed", "response.incomplete"} & {e["type"] for e in events}
    # The server finished its side: the response was stored and can be fetched.
    stored = httpx.get(f"{mock_server.base_url}/responses/{events[0]['response']['id']}", headers=HEADERS)
    assert stored.json()["status"] == "completed"


def test_drop_mid_stream_cuts_a_json_body_too(mock_server):
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(mock_server.base_url + "/responses", json=with_fault("drop_mid_stream"), headers=HEADERS)


async def test_error_event_then_response_failed(client):
    events = await client.stream(with_fault("error_event"))
    error, failed = events[-2:]
    assert error["type"] == "error" and error["error"]["code"] == "server_error"
    assert failed["type"] == "response.failed" and failed["response"]["error"]["code"] == "server_error"
    assert 0 < len(deltas(events)) < 10
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    got = await client.http.get(f"/responses/{failed['response']['id']}")
    assert got.json()["status"] == "failed"


async def test_error_event_on_a_json_request_is_a_500(client):
    r = await client.post(with_fault("error_event"))
    assert r.status_code == 500


async def test_incomplete(client):
    events = await client.stream(with_fault("incomplete"))
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    plain = await client.create(with_fault("incomplete"))
    assert plain["status"] == "incomplete" and plain["output"][0]["content"][0]["text"] == "1, 2, 3, 4, 5"


def test_slow_first_byte():
    with MockServer(first_byte_delay=0.3) as mock, httpx.Client(base_url=mock.base_url, headers=HEADERS) as http:
        start = time.perf_counter()
        r = http.post("/responses", json=with_fault("slow_first_byte"))
        assert r.status_code == 200 and time.perf_counter() - start >= 0.3  # a lower bound only
        with pytest.raises(httpx.ReadTimeout):
            http.post("/responses", json=with_fault("slow_first_byte"), timeout=httpx.Timeout(5, read=0.05))


async def test_several_faults_in_one_request(client):
    events = await client.stream(with_fault("incomplete,error_event"))
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]


async def test_unknown_fault_name_is_a_clear_400(client):
    r = await client.post(with_fault("meteor"))
    assert r.status_code == 400
    assert "Unknown mock fault 'meteor'" in r.json()["error"]["message"] and "rate_limit" in r.json()["error"]["message"]


async def test_server_wide_faults_always_or_for_the_next_n(make_client):
    always = make_client(faults=["unavailable"])
    assert [(await always.post(BODY)).status_code for _ in range(3)] == [503, 503, 503]
    twice = make_client(faults=["server_error:2"])
    assert [(await twice.post(BODY)).status_code for _ in range(3)] == [500, 500, 200]


def test_bad_server_fault_names_fail_at_startup():
    with pytest.raises(ValueError, match="unknown mock fault 'meteor'"):
        MockServer(faults=["meteor"])
    with pytest.raises(ValueError, match="expected NAME or NAME:COUNT"):
        MockServer(faults=["rate_limit:x"])


async def test_our_client_retries_past_a_rate_limit():
    with MockServer(faults=["rate_limit:1"], retry_after=0.01) as mock:
        async with OCIResponsesModel("openai.gpt-4.1", base_url=mock.base_url, auth="none",
                                     compartment_id=COMPARTMENT, store=False, max_retries=1) as model:
            reply = await model.complete([Message.user("Count to two")])
        assert reply.text == "1, 2" and len(mock.requests) == 2
    with MockServer(faults=["rate_limit"], retry_after=0.01) as mock:
        async with OCIResponsesModel("openai.gpt-4.1", base_url=mock.base_url, auth="none",
                                     compartment_id=COMPARTMENT, store=False, max_retries=1) as model:
            with pytest.raises(RateLimited):
                await model.complete([Message.user("Count to two")])


# -- the one table: FAULTS, the CLI help and the README say the same ---------------------------------

ROOT = Path(__file__).parents[2]


def test_the_cli_help_lists_every_fault_from_the_table(capsys):
    with pytest.raises(SystemExit):
        main(["mock", "--help"])
    help_text = capsys.readouterr().out
    assert fault_help() in help_text
    for fault in FAULTS.values():
        assert f"  {fault.name}" in help_text and fault.effect in help_text
    assert f"default {MockConfig().first_byte_delay:g} s" in FAULTS["slow_first_byte"].effect


def test_the_readme_lists_every_fault_as_the_table_says():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## The mock server\n")[1].split("\n## ")[0]
    listed = re.findall(r"^- `(\w+)`: (.+)$", section, re.M)
    assert listed == [(fault.name, fault.effect) for fault in FAULTS.values()]


def test_a_plan_combines_the_faults_in_table_order():
    kw = {"retry_after": 0.5, "first_byte_delay": 2.0}
    assert plan_faults((), **kw) == FaultPlan()
    both = plan_faults({"unavailable", "rate_limit"}, **kw)
    assert both.refusal.status == 429 and both.refusal.headers["retry-after-ms"] == "500"  # first in the table
    assert plan_faults({"slow_first_byte"}, **kw).delay == 2.0
    cut = plan_faults({"error_event", "drop_mid_stream"}, **kw)
    assert cut.stream_cut() == "drop" and cut.unstreamed_failure(streaming=False).status == 500
    assert cut.unstreamed_failure(streaming=True) is None
    assert plan_faults({"error_event"}, **kw).stream_cut() == "error"
    assert plan_faults({"incomplete"}, **kw) == FaultPlan(names=frozenset({"incomplete"}), incomplete=True)
