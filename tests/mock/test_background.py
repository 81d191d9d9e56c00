"""Background responses: queued → in progress → done, polling, cancelling, resuming a stream, the bounds."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from locus_nb.mock import MockConfig, MockServer, create_app
from locus_nb.mock._background import Jobs

from .conftest import HEADERS, Client, deltas, parse_sse, recorded

MODEL = "openai.gpt-4.1"
LONG = {"mock_text_tokens": "400"}  # with a token delay, long enough to be caught running
DEADLINE_S = 10


def error(message: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


async def until(client: Client, response_id: str, *statuses: str) -> dict:
    """Poll `GET /responses/{id}` until its status is one of `statuses` (bounded)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        got = (await client.http.get(f"/responses/{response_id}")).json()
        if got["status"] in statuses:
            return got
        await asyncio.sleep(0.005)
    raise AssertionError(f"{response_id} never reached {statuses}")


async def events_of(client: Client, response_id: str, **params) -> list[dict]:
    r = await client.http.get(f"/responses/{response_id}", params={"stream": "true", **params})
    assert r.status_code == 200, r.text
    return [data for _, data in parse_sse(r.text)]


@pytest.fixture
async def paced(make_client):
    """A client of a mock pacing deltas 5 ms apart: a job stays running long enough to be seen."""
    return make_client(token_delay=0.005)


# -- queued, polled, done ------------------------------------------------------------------------------


@pytest.mark.parametrize("store", [True, False])
async def test_a_background_response_is_queued_then_polled_to_completion(client, store):
    plain = await client.create({"model": MODEL, "input": "Count to five", "store": False})
    queued = await client.create({"model": MODEL, "input": "Count to five", "background": True, "store": store})
    assert (queued["status"], queued["background"], queued["store"]) == ("queued", True, store)
    assert (queued["output"], queued["usage"], queued["completed_at"]) == ([], None, None)
    done = await until(client, queued["id"], "completed")
    assert done["output"][0]["content"][0]["text"] == plain["output"][0]["content"][0]["text"] == "1, 2, 3, 4, 5"
    assert done["background"] is True and done["completed_at"] is not None and done["usage"]["output_tokens"] > 0


async def test_the_status_moves_queued_in_progress_completed(paced):
    queued = await paced.create({"model": MODEL, "input": "Go", "background": True, "metadata": {"mock_text_tokens": "40"}})
    running = await until(paced, queued["id"], "in_progress")
    assert running["output"] == [] and running["usage"] is None
    assert (await until(paced, queued["id"], "completed"))["usage"]["output_tokens"] == 40


async def test_a_generation_failing_midway_ends_failed(client):
    queued = await client.create({"model": MODEL, "input": "Count to ten", "background": True,
                                  "metadata": {"mock_fault": "error_event"}})
    assert queued["status"] == "queued"  # not the 500 of a plain request: it fails in the job
    done = await until(client, queued["id"], "failed")
    assert done["error"]["code"] == "server_error" and done["output"] == []


async def test_a_zdr_tenancy_takes_background_with_store_false(make_client):
    client = make_client(zdr=True)
    queued = await client.create({"model": MODEL, "input": "Count to two", "background": True, "store": False})
    assert (await until(client, queued["id"], "completed"))["output"][0]["content"][0]["text"] == "1, 2"


# -- streaming and resuming ------------------------------------------------------------------------------


async def test_a_background_stream_has_the_recorded_shape(client):
    real = recorded("stream_background_queued_gpt4o.sse")
    mine = await client.stream({"model": "gpt-4o", "input": "What is 2 + 2?", "background": True})
    assert [e["type"] for e in mine[:3]] == [e["type"] for e in real[:3]] == [
        "response.created", "response.queued", "response.in_progress"]
    assert [e["response"]["status"] for e in mine[:3]] == [e["response"]["status"] for e in real[:3]]
    assert [list(e) for e in mine[:2]] == [list(e) for e in real[:2]]
    assert all(e["response"]["background"] for e in mine if "response" in e)
    assert [e["sequence_number"] for e in mine] == list(range(len(mine)))
    assert mine[-1]["type"] == real[-1]["type"] == "response.completed"


@pytest.mark.parametrize("after", [0, 1, 2, 5, -2])
async def test_starting_after_n_replays_exactly_the_events_after_n(client, after):
    whole = await client.stream({"model": MODEL, "input": "Count to ten", "background": True})
    n = after if after >= 0 else len(whole) + after
    assert await events_of(client, whole[0]["response"]["id"], starting_after=str(n)) == whole[n + 1:]


async def test_past_the_last_event_the_stream_is_empty_and_without_it_whole(client):
    whole = await client.stream({"model": MODEL, "input": "Count to three", "background": True})
    response_id = whole[0]["response"]["id"]
    assert await events_of(client, response_id, starting_after=str(len(whole) + 3)) == []
    assert await events_of(client, response_id) == whole


async def first_event_then_rest(response: httpx.Response) -> tuple[dict, list[dict]]:
    """The first event of a stream as soon as it arrives, and a task reading the rest."""
    lines = response.aiter_lines()
    async for line in lines:
        if line.startswith("data: "):
            first = json.loads(line[6:])
            break

    async def rest() -> list[dict]:
        return [json.loads(line[6:]) async for line in lines if line.startswith("data: ")]

    return first, asyncio.ensure_future(rest())


async def test_a_resumed_stream_follows_the_live_events_to_the_end():
    body = {"model": MODEL, "input": "Go", "background": True, "stream": True, "metadata": {"mock_text_tokens": "60"}}
    with MockServer(token_delay=0.005) as mock:
        async with httpx.AsyncClient(base_url=mock.base_url, headers=HEADERS, timeout=DEADLINE_S) as http:
            async with http.stream("POST", "/responses", json=body) as original:
                first, rest = await first_event_then_rest(original)
                response_id = first["response"]["id"]
                resumed = await http.get(f"/responses/{response_id}", params={"stream": "true", "starting_after": 3})
                whole = [first, *await rest]
            # joined while it ran (the resume began before the original stream ended), it still ends complete
            assert (await http.get(f"/responses/{response_id}")).json()["status"] == "completed"
    assert [data for _, data in parse_sse(resumed.text)] == whole[4:]
    assert whole[-1]["type"] == "response.completed"


def test_a_dropped_background_stream_resumes_with_no_delta_lost_or_repeated():
    body = {"model": MODEL, "input": "Go", "background": True, "stream": True, "metadata": {"mock_text_tokens": "200"}}
    with MockServer(token_delay=0.001) as mock, httpx.Client(base_url=mock.base_url, headers=HEADERS) as http:
        whole = [data for _, data in parse_sse(http.post("/responses", json=body).text)]
        received = []
        with pytest.raises(httpx.RemoteProtocolError):
            with http.stream("POST", "/responses", json={**body, "metadata": {**body["metadata"],
                                                                                 "mock_fault": "drop_mid_stream"}}) as r:
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        received.append(json.loads(line[6:]))
        assert received and received[-1]["type"] == "response.output_text.delta"  # cut halfway, no terminal event
        last = received[-1]["sequence_number"]
        rest = [data for _, data in parse_sse(http.get(f"/responses/{received[0]['response']['id']}",
                                                       params={"stream": "true", "starting_after": last}).text)]
    events = received + rest
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert "".join(deltas(events)) == "".join(deltas(whole)) and events[-1]["type"] == "response.completed"


STREAM_REFUSED = {
    "not a background response": ({}, "This response cannot be streamed because it was not created with "
                                      "background=true."),
    "background without stream": ({"background": True}, "This response cannot be streamed because it was not created "
                                                         "with stream=true."),
}


@pytest.mark.parametrize("case", STREAM_REFUSED)
async def test_streaming_what_was_not_a_background_stream_is_refused(client, case):
    extra, message = STREAM_REFUSED[case]
    made = await client.create({"model": MODEL, "input": "hi", **extra})
    r = await client.http.get(f"/responses/{made['id']}", params={"stream": "true"})
    assert (r.status_code, r.json()) == (400, error(message, "stream"))


async def test_a_bad_cursor_and_an_unknown_id(client):
    whole = await client.stream({"model": MODEL, "input": "hi", "background": True})
    r = await client.http.get(f"/responses/{whole[0]['response']['id']}", params={"stream": "true",
                                                                                  "starting_after": "x"})
    assert (r.status_code, r.json()["error"]["param"], r.json()["error"]["code"]) == (400, "starting_after",
                                                                                      "invalid_type")
    r = await client.http.get("/responses/resp_never", params={"stream": "true"})
    assert (r.status_code, r.json()) == (404, error("Response with id 'resp_never' not found.", "response_id"))


async def test_with_a_background_queue_a_response_stays_queued_until_it_starts_and_can_be_cancelled_there(make_client):
    """The embedded mock queues background responses for a while (`background_queue`), as a busy service does:
    a poll sees `queued`, and a cancel in that time stops it before it produced anything."""
    client = make_client(background_queue=0.3)
    waiting = await client.create({"model": MODEL, "input": "Count to five", "background": True})
    assert (await client.http.get(f"/responses/{waiting['id']}")).json()["status"] == "queued"
    cancelled = (await client.http.post(f"/responses/{waiting['id']}/cancel")).json()
    assert (cancelled["status"], cancelled["output"]) == ("cancelled", [])
    running = await client.create({"model": MODEL, "input": "Count to five", "background": True})
    assert (await until(client, running["id"], "completed"))["output"]


def test_the_notebooks_embedded_mock_queues_background_responses():
    from locus_nb.mock._server import EMBEDDED_BACKGROUND_QUEUE, embedded_mock

    assert embedded_mock().config.background_queue == EMBEDDED_BACKGROUND_QUEUE > 0



# -- cancelling ------------------------------------------------------------------------------------------


async def test_cancel_stops_a_running_job_and_is_idempotent(paced):
    queued = await paced.create({"model": MODEL, "input": "Go", "background": True, "metadata": LONG})
    await until(paced, queued["id"], "in_progress")
    cancelled = (await paced.http.post(f"/responses/{queued['id']}/cancel")).json()
    assert (cancelled["status"], cancelled["output"], cancelled["id"]) == ("cancelled", [], queued["id"])
    again = await paced.http.post(f"/responses/{queued['id']}/cancel")
    assert (again.status_code, again.json()) == (200, cancelled)
    assert (await paced.http.get(f"/responses/{queued['id']}")).json() == cancelled


async def test_a_stream_following_a_cancelled_job_ends_with_response_failed_carrying_it():
    body = {"model": MODEL, "input": "Go", "background": True, "stream": True, "metadata": LONG}
    with MockServer(token_delay=0.005) as mock:
        async with httpx.AsyncClient(base_url=mock.base_url, headers=HEADERS, timeout=DEADLINE_S) as http:
            async with http.stream("POST", "/responses", json=body) as following:
                first, rest = await first_event_then_rest(following)
                cancelled = await http.post(f"/responses/{first['response']['id']}/cancel")
                events = [first, *await rest]
    assert cancelled.json()["status"] == "cancelled"
    assert events[-1]["type"] == "response.failed" and events[-1]["response"] == cancelled.json()
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert len(deltas(events)) < int(LONG["mock_text_tokens"])  # it stopped early


CANCEL_REFUSED = {
    "a completed one": ({"background": True}, "completed", "Cannot cancel a completed response."),
    "a failed one": ({"background": True, "metadata": {"mock_fault": "error_event"}}, "failed",
                     "Cannot cancel a failed response."),
    "an incomplete one": ({"background": True, "max_output_tokens": 16, "input": "Count to twelve"}, "incomplete",
                          "Cannot cancel an incomplete response."),
    "a synchronous one": ({}, "completed", "Cannot cancel a synchronous response."),
}


@pytest.mark.parametrize("case", CANCEL_REFUSED)
async def test_cancelling_what_cannot_be_cancelled_is_a_400(client, case):
    extra, status, message = CANCEL_REFUSED[case]
    made = await client.create({"model": MODEL, "input": "Count to ten", **extra})
    await until(client, made["id"], status)
    r = await client.http.post(f"/responses/{made['id']}/cancel")
    assert (r.status_code, r.json()) == (400, error(message))


async def test_cancelling_an_unknown_response_is_a_404(client):
    r = await client.http.post("/responses/resp_never/cancel")
    assert (r.status_code, r.json()) == (404, error("Response with id 'resp_never' not found.", "response_id"))


async def test_a_running_response_cannot_be_deleted_a_finished_one_can(paced):
    queued = await paced.create({"model": MODEL, "input": "Go", "background": True, "metadata": LONG})
    r = await paced.http.delete(f"/responses/{queued['id']}")
    assert (r.status_code, r.json()) == (400, error("Cannot delete an in-flight response."))
    await paced.http.post(f"/responses/{queued['id']}/cancel")
    assert (await paced.http.delete(f"/responses/{queued['id']}")).json()["deleted"] is True
    assert (await paced.http.get(f"/responses/{queued['id']}")).status_code == 404


# -- with a conversation ------------------------------------------------------------------------------


async def test_a_background_turn_on_a_conversation_is_appended_when_it_ends(paced):
    conversation = (await paced.http.post("/conversations", json={})).json()["id"]
    listed = lambda: paced.http.get(f"/conversations/{conversation}/items")  # noqa: E731
    done = await paced.create({"model": MODEL, "input": "My name is Ada.", "background": True,
                               "conversation": conversation})
    await until(paced, done["id"], "completed")
    assert len((await listed()).json()["data"]) == 2
    cancelled = await paced.create({"model": MODEL, "input": "Go", "background": True, "conversation": conversation,
                                    "metadata": LONG})
    await until(paced, cancelled["id"], "in_progress")
    await paced.http.post(f"/responses/{cancelled['id']}/cancel")
    assert len((await listed()).json()["data"]) == 2  # a cancelled turn leaves nothing behind
    asked = await paced.create({"model": MODEL, "input": "What is my name?", "conversation": conversation})
    assert asked["output"][0]["content"][0]["text"] == "Your name is Ada."


# -- bounds -------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("store", [True, False])
async def test_a_finished_job_expires_after_its_ttl(store):
    clock = Clock()
    app = create_app()
    app.state.mock.jobs = Jobs(ttl=600, clock=clock)
    client = Client(app)
    whole = await client.stream({"model": MODEL, "input": "Count to three", "background": True, "store": store})
    response_id = whole[0]["response"]["id"]
    clock.now += 599
    assert await events_of(client, response_id, starting_after="0") == whole[1:]
    clock.now += 2
    r = await client.http.get(f"/responses/{response_id}", params={"stream": "true"})
    if store:  # kept as a stored response, its events gone
        assert (r.status_code, r.json()["error"]["param"]) == (400, "stream")
        assert (await client.http.get(f"/responses/{response_id}")).json()["status"] == "completed"
    else:  # store=false: kept only while its job was
        assert r.status_code == 404
        assert (await client.http.get(f"/responses/{response_id}")).status_code == 404
    await client.http.aclose()


async def test_at_most_limit_jobs_and_a_429_when_all_are_running(make_client):
    client = make_client(token_delay=0.005, background_limit=2)
    body = {"model": MODEL, "input": "Go", "background": True, "metadata": LONG}
    running = [await client.create(body) for _ in range(2)]
    refused = await client.post(body)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert "at most 2" in refused.json()["error"]["message"] and refused.headers["retry-after"] == "1"
    await client.http.post(f"/responses/{running[0]['id']}/cancel")  # a finished one makes room
    third = await client.post(body)
    assert third.status_code == 200 and len(client.app.state.mock.jobs) == 2  # the finished one was dropped
    assert (await client.http.get(f"/responses/{running[0]['id']}")).json()["status"] == "cancelled"  # (stored)
    for made in (running[1], third.json()):
        await client.http.post(f"/responses/{made['id']}/cancel")


async def test_finished_jobs_hold_at_most_max_bytes_of_events_the_oldest_dropped_first(client):
    body = {"model": MODEL, "input": "Go", "background": True, "stream": True, "store": False,
            "metadata": {"mock_text_tokens": "100"}}
    replies = [await client.post(body) for _ in range(3)]
    size = len(replies[0].content)  # every event of one answer: what its job holds for a resume
    client.app.state.mock.jobs.max_bytes = int(2.5 * size)
    ids = [parse_sse(r.text)[0][1]["response"]["id"] for r in replies]
    assert [(await client.http.get(f"/responses/{i}")).status_code for i in ids] == [404, 200, 200]


@pytest.mark.parametrize("options, says", [({"ttl": 0}, "ttl must be a positive"), ({"limit": 0}, "limit must be")])
def test_bad_bounds_are_refused(options, says):
    with pytest.raises(ValueError, match=says):
        Jobs(**options)


def test_the_defaults_are_ten_minutes_and_a_thousand():
    assert (MockConfig().background_ttl, MockConfig().background_limit) == (600, 1000)
