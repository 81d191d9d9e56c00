"""A mock a room can share: open only with a key, bounded memory, one-line errors; the scripted model's tool arguments."""

from __future__ import annotations

import socket

import httpx
import pytest

from locus_nb.cli import main
from locus_nb.mock import MockConfig, MockServer, create_app
from locus_nb.mock import _scripted
from locus_nb.mock._store import STORE_TTL, Store

from .conftest import HEADERS, URL

MODEL = "openai.gpt-4.1"


# -- open to the network only with a key --------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "mock.example"])
def test_a_non_loopback_host_without_a_key_is_refused_in_one_line(host):
    with pytest.raises(SystemExit, match=rf"^locus-nb mock: --host {host} lets anyone on the network in; give "
                                         r"--api-key KEY \(or --public-key\) so only your room gets in, or --insecure"):
        main(["mock", "--host", host])


def test_the_port_already_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=rf"^locus-nb mock: cannot listen on 127.0.0.1:{port}: Address already in "
                                             r"use \(another server on that port\? pick another --port"):
            main(["mock", "--port", str(port)])


@pytest.mark.parametrize("flag, value, says", [
    ("--store-ttl", "0", "the store's ttl must be a positive"),
    ("--store-limit", "0", "the store's limit must be a whole number"),
    ("--conversation-ttl", "0", "the conversations' ttl must be a positive"),
    ("--conversation-limit", "0", "the conversations' limit must be a whole number"),
    ("--background-ttl", "-1", "the background jobs' ttl must be a positive"),
    ("--background-limit", "0", "the background jobs' limit must be a whole number"),
])
def test_bad_bounds_are_one_line(flag, value, says):
    with pytest.raises(SystemExit, match=f"^locus-nb mock: {says}"):
        main(["mock", flag, value])


# -- stored responses expire, as the real API's do ---------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _post(client: httpx.AsyncClient, **body):
    return await client.post(URL, json={"model": MODEL, "input": "My favorite color is teal.", **body}, headers=HEADERS)


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app))


async def test_a_stored_response_past_its_ttl_is_gone_with_the_real_errors():
    clock = Clock()
    app = create_app(MockConfig(store_ttl=60))
    app.state.mock.store = Store(ttl=60, clock=clock)
    async with _client(app) as client:
        first = (await _post(client)).json()
        clock.now += 59
        assert (await client.get(f"{URL}/{first['id']}", headers=HEADERS)).status_code == 200
        clock.now += 2
        gone = await client.get(f"{URL}/{first['id']}", headers=HEADERS)
        assert gone.status_code == 404 and gone.json()["error"]["message"] == f"Response with id '{first['id']}' not found."
        chained = await _post(client, previous_response_id=first["id"], input="What is my favorite color?")
        assert chained.status_code == 400 and chained.json()["error"]["code"] == "previous_response_not_found"
        ref = await _post(client, input=[{"type": "item_reference", "id": first["output"][0]["id"]}])
        assert ref.status_code == 404  # its items went with it


async def test_at_most_store_limit_responses_are_kept_the_oldest_dropped_first():
    app = create_app(MockConfig(store_limit=3))
    async with _client(app) as client:
        ids = [(await _post(client, input=f"n{n}")).json()["id"] for n in range(5)]
        assert list(app.state.mock.responses) == ids[2:]
        assert (await client.get(f"{URL}/{ids[0]}", headers=HEADERS)).status_code == 404
        assert (await _post(client, previous_response_id=ids[4], input="hi")).status_code == 200


def test_the_default_retention_is_thirty_days():
    assert STORE_TTL == 30 * 24 * 3600 and MockConfig().store_ttl == STORE_TTL


# -- the request log: a bounded window, huge bodies truncated ---------------------------------------------


def test_a_huge_body_is_logged_by_its_small_fields_only():
    with MockServer(log_body_limit=1024) as mock:
        big = "x" * 200_000
        r = httpx.post(mock.base_url + "/responses", json={"model": MODEL, "input": big, "store": False},
                       headers=HEADERS)
        assert r.status_code == 200
        entry = mock.requests[-1]
        assert entry["body"] == {"truncated": entry["body_size"], "model": MODEL, "input": "<str, truncated>",
                                 "store": False}
        assert entry["body_size"] > 200_000


# -- the scripted model answers the question it is asked ------------------------------------------------


TEMPERATURE = {"type": "function", "name": "get_temperature", "parameters": {
    "type": "object", "properties": {"city": {"type": "string", "description": "The city's name, e.g. \"Paris\"."}},
    "required": ["city"]}}


def _user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": text}


def test_a_tool_argument_comes_from_the_question_not_from_a_fact_its_description_mentions():
    said = [_user("My name is Ada."), {"type": "message", "role": "assistant", "content": "Got it."}]
    assert _scripted.reply([*said, _user("What's the temperature in Paris?")], tools=[TEMPERATURE]).calls == [
        ("get_temperature", {"city": "Paris"})]


def test_a_fact_named_by_the_parameter_itself_still_fills_it():
    said = [_user("My city is Oslo."), {"type": "message", "role": "assistant", "content": "Got it."}]
    assert _scripted.reply([*said, _user("What's the temperature?")], tools=[TEMPERATURE]).calls == [
        ("get_temperature", {"city": "Oslo"})]
