"""Answers run in the background: started, waited for, cancelled; and background streams that pick up where they broke.

    handle = await model.start(messages)            # at once: Background(response_id='resp_…', status='queued')
    reply = await model.wait(handle, deadline=120)  # polls GET /responses/{id}, with backoff, until it ends
    await model.cancel(handle)                      # POST /responses/{id}/cancel
    async for chunk in model.stream(messages, background=True): …   # a cut stream is resumed, not re-sent

The rules are OCI's (release note "Background Mode Available for the OCI Responses API", 2026-07-29) in the shapes of
OpenAI's background guide, which OCI follows: `"background": true` answers at once with a `queued` response that goes
on running; poll it while it is `queued` or `in_progress`; cancel it until it ends. OCI keeps a background response
for a while even with store=False ("background execution requires temporary response storage … including when
store=false"; OpenAI instead asks for store=true), so both store modes may start one.

A background stream's events carry `sequence_number`s; when the connection breaks,
`GET /responses/{id}?stream=true&starting_after=<the last one seen>` sends every event after it, then the live ones.
Events at or below the last one seen are skipped, so a server that sends one again never doubles a delta: the text of
a resumed stream is the text of an uninterrupted one. At most `MAX_RESUMES` resumes per stream; then, or when the
server refuses (`ResumeRefused`) or the stream named no response id or sequence number to resume from, the broken-stream
error is raised with all the text so far. A plain stream is never sent again after a cut: that would run the whole
generation again (and bill it twice).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from . import _model
from ._errors import (APIStatusError, BadRequest, CancelRefused, ConfigError, RequestTimeout, ResumeRefused,
                      StreamTimeout, StreamTruncated, TransportError)
from ._messages import Message, ModelResponse
from ._sse import EventStream
from ._stream import StreamSnapshot
from ._wire import response_problem

__all__ = ["MAX_RESUMES", "RUNNING", "Background", "cancel", "resumed", "start", "wait"]

RUNNING = ("queued", "in_progress")  # the statuses of a response that has not ended
MAX_RESUMES = 3  # resumes of one background stream before its broken-stream error is raised
_FIRST_POLL, _MAX_POLL = 0.25, 2.0  # seconds between polls: doubled each time, up to the cap


@dataclass(frozen=True)
class Background:
    """A response running on the server in the background: what `model.start()` returns, for `wait` and `cancel`."""

    response_id: str
    """The server's id for it (`resp_…`)."""
    status: str = "queued"
    """What the server last said: `queued` or `in_progress` while it runs, then `completed`, `incomplete`, `failed` or
    `cancelled`."""
    _: KW_ONLY
    kind: Literal["background"] = "background"
    """Tells a background handle from the other values a model call gives."""

    @property
    def done(self) -> bool:
        """True once the server said it ended (as of this handle: `wait()` asks again)."""
        return self.status not in RUNNING


async def start(model: Any, messages: Sequence[Message], provider_state: Mapping[str, Any] | None = None, *,
                tools: Sequence[Any] = (), deadline: float | None = None, **options: Any) -> Background:
    """Start one turn in the background (`"background": true`) and return at once, with its `Background` handle;
    the answer is fetched with `await model.wait(handle)`. Takes what `complete()` takes."""
    seconds = _model._seconds(deadline, "deadline", model.deadline)
    body = {**model.request_body(messages, provider_state, tools=tools, **options), "background": True}
    response = await model._send(body, seconds, _model._deadline_at(seconds))
    data = _response_json(response)
    if data is None or not isinstance(data.get("id"), str):
        model._parse_reply(response)  # says what the reply is instead (not JSON, not a Response…), typed
        raise APIStatusError("the endpoint answered a background request without a response id to poll; does it "
                             "run responses in the background?", status=response.status_code)
    return Background(data["id"], data.get("status") if isinstance(data.get("status"), str) else "queued")


async def wait(model: Any, handle: Background | str, *, deadline: float | None = None) -> ModelResponse:
    """The answer of a background response, polled for (`GET /responses/{id}`, first after 0.25 s, the waits doubling
    up to 2 s) until it ends: its `ModelResponse` (`status` completed, incomplete or cancelled); a failed one raises
    its typed error. Past `deadline` seconds (default: the model's) `RequestTimeout`: the response goes on running,
    and `wait` may be called again."""
    response_id = _response_id(handle)
    seconds = _model._seconds(deadline, "deadline", model.deadline)
    deadline_at, loop, delay = _model._deadline_at(seconds), asyncio.get_running_loop(), _FIRST_POLL
    while True:
        response = await model._send(None, seconds, deadline_at, method="GET", path=f"/responses/{response_id}")
        status = (_response_json(response) or {}).get("status")
        if status not in RUNNING:
            return model._parse_reply(response)
        if deadline_at is not None and loop.time() + delay > deadline_at:
            raise RequestTimeout(f"response {response_id} is still {status} after the deadline of {seconds:g} s",
                                 hint="it goes on running on the server: wait again (model.wait(handle)), with a "
                                      "larger deadline=, or stop it with model.cancel(handle)")
        await _model._sleep(delay)
        delay = min(_MAX_POLL, delay * 2)


async def cancel(model: Any, handle: Background | str, *, deadline: float | None = None) -> ModelResponse:
    """Cancel a background response (`POST /responses/{id}/cancel`): the response as it ended, `status` cancelled
    (or, when it had ended already, as it ended). One that was not started in the background: `CancelRefused`."""
    response_id = _response_id(handle)
    seconds = _model._seconds(deadline, "deadline", model.deadline)
    try:
        response = await model._send(None, seconds, _model._deadline_at(seconds),
                                     path=f"/responses/{response_id}/cancel")
    except BadRequest as refused:
        raise refused.retyped(CancelRefused) from None
    return model._parse_reply(response)


async def resumed(model: Any, reply: EventStream, snapshot: StreamSnapshot, *, idle: float | None,
                  deadline_at: float | None, deadline: float | None) -> AsyncIterator[Any]:
    """The events of a background stream, each once and in order, resumed after the last `sequence_number` seen
    where the stream breaks (see the module doc)."""
    last, attempts = -1, 0
    while True:
        try:
            async with aclosing(reply.events()) as events:
                async for event in events:
                    number = event.get("sequence_number") if type(event) is dict else None
                    if type(number) is int:
                        if number <= last:  # sent again by the resumed stream: already taken
                            continue
                        last = number
                    yield event
            if snapshot.done or not reply.is_sse:
                return
            cut = reply.error("the stream closed before response.completed")
        except StreamTimeout:
            raise
        except StreamTruncated as error:
            cut = error
        resumed_reply = None
        while resumed_reply is None:
            if snapshot.response_id is None or last < 0 or attempts >= MAX_RESUMES:
                raise cut
            attempts += 1
            try:
                resumed_reply = await _resume(model, snapshot, last, cut, deadline_at=deadline_at, deadline=deadline)
            except TransportError:  # no answer to the resume: one attempt spent
                continue
        reply = EventStream(resumed_reply, snapshot, idle=idle, deadline_at=deadline_at, deadline=deadline,
                            redact=model._secrets)


async def _resume(model: Any, snapshot: StreamSnapshot, after: int, cut: StreamTruncated, *,
                  deadline_at: float | None, deadline: float | None) -> httpx.Response:
    """The stream of `snapshot`'s response from the event after `after` on, open; a refusal is `ResumeRefused`."""
    path = f"/responses/{quote(snapshot.response_id, safe='')}"
    try:
        return await model._send(None, deadline, deadline_at, stream=True, method="GET", path=path,
                                 params={"stream": "true", "starting_after": after})
    except APIStatusError as refused:
        raise ResumeRefused(f"{cut.message}; resuming it after event {after} was refused: {refused.args[0]}",
                            partial_text=cut.partial_text, response_id=snapshot.response_id, code=refused.code,
                            server_message=refused.message, request_id=refused.request_id) from None


def _response_id(handle: Any) -> str:
    """The response id of a `Background` handle, a `ModelResponse`, or the id itself, quoted for a URL path."""
    response_id = handle if isinstance(handle, str) else getattr(handle, "response_id", None)
    if not isinstance(response_id, str) or not response_id:
        raise ConfigError("pass the handle model.start() returned (or its response_id, 'resp_…'); "
                          f"got {type(handle).__name__} {handle!r:.60}")
    return quote(response_id, safe="")


def _response_json(response: httpx.Response) -> dict[str, Any] | None:
    """The reply's JSON when it is a Response this client reads, else None (`_parse_reply` then says why)."""
    try:
        data = response.json()
    except (ValueError, RecursionError):
        return None
    return data if response_problem(data) is None else None
