"""Background answers: `start`, `wait` (bounded polling), `cancel`, and background streams resumed after a cut, on
httpx.MockTransport in the shapes of the recorded background stream and OpenAI's reference (no sockets, no waiting)."""

from __future__ import annotations

import json

import httpx
import pytest

from locus_nb import (Background, CancelRefused, ConfigError, Message, NotFound, RequestTimeout, ResumeRefused,
                      StreamFailed, StreamTruncated, _model)
from locus_nb import _background as background_module

from .sse_helpers import RESPONSES, SSE_HEADERS, Body, events_of, frames, sse_model

ASK = [Message.user("What is 2 + 2?")]
RECORDED = events_of((RESPONSES / "stream_background_queued_gpt4o.sse").read_bytes())
RESPONSE_ID = RECORDED[0]["response"]["id"]
WHOLE_TEXT = "".join(e["delta"] for e in RECORDED if e["type"] == "response.output_text.delta")
FINAL = RECORDED[-1]["response"]


def _error(status: int, message: str, code: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "type": "invalid_request_error", "param": None,
                                                  "code": code}})


class Server:
    """A background response as OpenAI's reference serves it: the create answers `queued`; each GET returns the
    next status of `statuses`; the stream is the recording, cut after `cut_after` events on each connection listed;
    a resume (GET ?stream=true&starting_after=N) sends the events after N (`repeat`: that many before them again)."""

    def __init__(self, statuses=("queued", "in_progress", "completed"), cuts=(), repeat=0, resume=None):
        self.statuses, self.cuts, self.repeat, self.resume = list(statuses), list(cuts), repeat, resume
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, query = request.url.path, dict(request.url.params)
        if request.method == "POST" and path.endswith("/responses"):
            body = json.loads(request.content)
            if body.get("stream"):
                return self._stream(RECORDED)
            return httpx.Response(200, json={**FINAL, "status": "queued", "output": [], "usage": None})
        if request.method == "GET" and query.get("stream") == "true":
            if self.resume is not None:
                return self.resume
            after = max(-1, int(query["starting_after"]) - self.repeat)
            return self._stream([e for e in RECORDED if e["sequence_number"] > after])
        if request.method == "GET":
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return httpx.Response(200, json={**FINAL, "status": status} if status == "completed" else
                                  {**FINAL, "status": status, "output": [], "usage": None})
        if path.endswith("/cancel"):
            return httpx.Response(200, json={**FINAL, "status": "cancelled", "output": [], "usage": None})
        return _error(404, "no such route")

    def _stream(self, events) -> httpx.Response:
        cut = self.cuts.pop(0) if self.cuts else None
        if cut is None:
            return httpx.Response(200, headers=SSE_HEADERS, stream=Body([frames(events)]))
        return httpx.Response(200, headers=SSE_HEADERS, stream=Body(
            [frames(events[:cut])], then=httpx.RemoteProtocolError("peer closed connection")))


async def _text(model, **kw) -> tuple[str, list[str]]:
    chunks = [c.content async for c in model.stream(ASK, background=True, **kw) if c.content]
    return "".join(chunks), chunks


async def test_start_returns_at_once_with_a_handle_and_wait_polls_with_growing_bounded_waits(sleeps):
    server = Server(statuses=["queued", "queued", "in_progress", "in_progress", "in_progress", "completed"])
    async with sse_model(server, store=True) as model:
        handle = await model.start(ASK)
        assert handle == Background(RESPONSE_ID, "queued") and not handle.done and handle.kind == "background"
        assert json.loads(server.requests[0].content)["background"] is True
        reply = await model.wait(handle)
    assert reply.text == WHOLE_TEXT and reply.status == "completed" and reply.response_id == RESPONSE_ID
    polls = [r for r in server.requests if r.method == "GET"]
    assert len(polls) == 6 and all(r.url.path.endswith(f"/responses/{RESPONSE_ID}") for r in polls)
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 2.0]  # doubled, capped


async def test_wait_is_bounded_by_its_deadline_and_the_response_goes_on(sleeps, monkeypatch):
    clock = [0.0]

    async def slow_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(_model, "_sleep", slow_sleep)
    async with sse_model(Server(statuses=["in_progress"]), store=False) as model:
        loop_time = __import__("asyncio").get_running_loop().time
        monkeypatch.setattr(type(__import__("asyncio").get_running_loop()), "time", lambda self: loop_time() + clock[0])
        with pytest.raises(RequestTimeout, match=f"{RESPONSE_ID} is still in_progress after the deadline of 5 s") as err:
            await model.wait(RESPONSE_ID, deadline=5)
    assert "model.cancel(handle)" in err.value.hint and sum(sleeps) <= 5


async def test_cancel_returns_the_cancelled_response_and_a_refusal_is_typed():
    async with sse_model(Server(), store=True) as model:
        cancelled = await model.cancel(Background(RESPONSE_ID))
        assert cancelled.status == "cancelled" and cancelled.text == ""
    refusal = _error(400, "Only responses created with background=true can be cancelled.")
    async with sse_model(lambda request: refusal, store=True) as model:
        with pytest.raises(CancelRefused, match="background=true") as err:
            await model.cancel("resp_plain")
    assert err.value.status == 400 and "model.start" in err.value.hint and "model.wait" in err.value.hint


@pytest.mark.parametrize("handle", [None, "", 7, Message.user("x")])
async def test_a_handle_is_checked_before_any_request(handle):
    sent = []
    async with sse_model(lambda r: sent.append(r), store=True) as model:
        for call in (model.wait, model.cancel):
            with pytest.raises(ConfigError, match="pass the handle model.start"):
                await call(handle)
    assert sent == []


@pytest.mark.parametrize("call", ["complete", "stream"])
async def test_background_is_refused_where_it_cannot_mean_anything(call):
    sent = []
    async with sse_model(lambda r: sent.append(r), store=True) as model:
        with pytest.raises(ConfigError, match="model.start" if call == "complete" else "background must be True"):
            if call == "complete":
                await model.complete(ASK, background=True)
            else:
                [c async for c in model.stream(ASK, background="yes")]
    assert sent == []


async def test_an_uninterrupted_background_stream_is_one_request():
    server = Server()
    async with sse_model(server) as model:
        text, _ = await _text(model)
    assert text == WHOLE_TEXT and len(server.requests) == 1
    assert json.loads(server.requests[0].content) | {"background": True, "stream": True} == json.loads(
        server.requests[0].content)


@pytest.mark.parametrize("cut", range(1, len(RECORDED) - 1))
@pytest.mark.parametrize("repeat", [0, 1, len(RECORDED)])  # a server that sends again what was delivered
async def test_a_cut_background_stream_resumes_after_its_last_event_with_nothing_lost_or_repeated(cut, repeat):
    server = Server(cuts=[cut], repeat=repeat)
    async with sse_model(server) as model:
        text, chunks = await _text(model)
    assert text == WHOLE_TEXT
    assert chunks == [e["delta"] for e in RECORDED if e["type"] == "response.output_text.delta"]
    resume = server.requests[1]
    assert resume.method == "GET" and resume.url.path.endswith(f"/responses/{RESPONSE_ID}")
    assert dict(resume.url.params) == {"stream": "true", "starting_after": str(cut - 1)}
    assert resume.headers["accept"] == "text/event-stream"


async def test_it_resumes_again_and_again_up_to_the_bound_then_raises_with_all_the_text():
    # each connection (the first and every resume) delivers two more events, then breaks
    server = Server(cuts=[7, 2, 2, 2, 2])
    async with sse_model(server) as model:
        with pytest.raises(StreamTruncated) as err:
            await _text(model)
    assert len(server.requests) == 1 + background_module.MAX_RESUMES
    deltas = [e["delta"] for e in RECORDED[: 7 + 2 * background_module.MAX_RESUMES]
              if e["type"] == "response.output_text.delta"]
    assert err.value.partial_text == "".join(deltas) and err.value.response_id == RESPONSE_ID


async def test_a_refused_resume_raises_resume_refused_with_the_text_so_far():
    server = Server(cuts=[8], resume=_error(404, f"Response with id '{RESPONSE_ID}' not found."))
    async with sse_model(server) as model:
        with pytest.raises(ResumeRefused, match="resuming it after event 7 was refused") as err:
            await _text(model)
    so_far = "".join(e["delta"] for e in RECORDED[:8] if e["type"] == "response.output_text.delta")
    assert isinstance(err.value, StreamTruncated) and err.value.partial_text == so_far
    assert err.value.response_id == RESPONSE_ID and "model.wait()" in err.value.hint
    assert "[404] Response with id" in str(err.value) and "model id" not in str(err.value)


async def test_a_stream_cut_before_naming_its_response_is_not_resumed():
    server = Server(cuts=[0])
    async with sse_model(server) as model:
        with pytest.raises(StreamTruncated):
            await _text(model)
    assert len(server.requests) == 1


async def test_a_plain_stream_is_never_sent_again_after_a_cut():
    server = Server(cuts=[8])
    async with sse_model(server) as model:
        with pytest.raises(StreamTruncated) as err:
            [c async for c in model.stream(ASK)]
    so_far = "".join(e["delta"] for e in RECORDED[:8] if e["type"] == "response.output_text.delta")
    assert len(server.requests) == 1 and err.value.partial_text == so_far


async def test_a_background_stream_the_server_failed_is_not_resumed():
    failed = [*RECORDED[:8], {"type": "response.failed", "sequence_number": 8,
                               "response": {**FINAL, "status": "failed",
                                            "error": {"code": "server_error", "message": "boom"}}}]
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(200, headers=SSE_HEADERS, stream=Body([frames(failed)]))

    async with sse_model(handler) as model:
        with pytest.raises(StreamFailed, match="boom"):
            await _text(model)
    assert len(requests) == 1


async def test_wait_on_an_unknown_response_is_not_found():
    async with sse_model(lambda r: _error(404, "Response with id 'resp_x' not found."), store=True) as model:
        with pytest.raises(NotFound):
            await model.wait("resp_x")
