"""Background responses: a job in the server's event loop that outlives the request that started it.

Rules, and where they come from:
- `background: true` answers at once with the Response `queued`; the job then moves it to
  `in_progress` and to a terminal status, one streamed delta per `token_delay` (OCI's release note,
  https://docs.oracle.com/iaas/releasenotes/generative-ai/responses-api-background-mode.htm; OpenAI's
  guide, https://developers.openai.com/docs/guides/background). `GET /responses/{id}` polls it.
- With `stream: true` the request follows the job's events; `GET /responses/{id}?stream=true&
  starting_after=N` replays every event after sequence number N, then follows the live ones to
  the terminal event. A background stream starts `response.created` and `response.queued` with
  status `queued` (stream_background_queued_gpt4o.sse, recorded 2026-02). A dropped connection is
  only that: the job goes on (`drop_mid_stream` on a background stream is the cut a client resumes).
- `POST /responses/{id}/cancel` cancels a queued or running job: status `cancelled`, no output, and
  a stream following it ends with `response.failed` carrying that cancelled Response. Cancelling a
  cancelled one answers it again (OpenAI: "cancelling twice is idempotent"); cancelling a finished
  one or a response that was not a background one is a 400 ("Cannot cancel a completed response.",
  "Cannot cancel a synchronous response.": an observed-behaviour contract of the Responses API in
  Azure's agent server SDK, matching vllm-project/vllm#57999 and the live-tested openai cookbook
  patterns that expect "Cannot cancel a completed response").
- `store: false` follows OCI, not OpenAI: "Background execution requires temporary response storage
  … including when store=false" (OCI's release note), so such a response is polled, cancelled and
  resumed like any other while its job is kept, and is not kept after that (nor can it be chained
  by `previous_response_id`). OpenAI's reference says background requires `store: true`.

Bounded: a finished job is kept `ttl` seconds (OpenAI keeps a background response "roughly 10
minutes" for polling), at most `limit` jobs are kept, and their events at most `max_bytes` in all (the
oldest finished dropped first: a job holds every event of its answer for a resume, and one answer may
ask for a million deltas); a new background request while `limit` jobs are still running is refused
with a 429.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import APIError, bad_request
from ._response_json import failed, in_progress
from ._sse import EventStream
from ._store import checked_bounds

__all__ = ["BACKGROUND_BYTES", "BACKGROUND_LIMIT", "BACKGROUND_TTL", "Follow", "Job", "Jobs", "cancel_refused"]

BACKGROUND_TTL = 600.0  # seconds a finished job (its events; a store=false response itself) is kept
BACKGROUND_LIMIT = 1_000  # jobs kept at most, running or finished (a room of 30 starting a few dozen each)
BACKGROUND_BYTES = 256 * 2**20  # bytes of events the finished jobs may hold in all
TERMINAL = ("completed", "incomplete", "failed", "cancelled")
_ARTICLE = {"completed": "a completed", "failed": "a failed", "incomplete": "an incomplete"}


def cancel_refused(status: str | None) -> APIError:
    """Cancelling what cannot be cancelled: a finished job, or a response that was never a background one."""
    what = _ARTICLE.get(status or "", "a synchronous")
    return bad_request(f"Cannot cancel {what} response.")


class Job:
    """One background response: its event log (numbered from 0), its status, and the task producing it."""

    def __init__(self, response: Mapping[str, Any], stream: EventStream, finish: Callable[[Job], None], *,
                 streamed: bool) -> None:
        """`finish(job)`: called once when it ends (keeps the Response, appends to its conversation);
        `streamed`: it was created with `stream: true` (only then can its events be streamed again)."""
        self.response = response  # the finished Response, as it will be once the job is done
        self.stream = stream
        self.finish = finish
        self.streamed = streamed
        self.status = "queued"
        self.final: dict[str, Any] | None = None  # the Response once terminal
        self.frames: list[tuple[bytes, bool]] = []  # (frame, is_delta), index = sequence_number
        self.size = 0  # bytes of `frames`
        self.task: asyncio.Task | None = None
        self._frames = stream.frames()
        self._waiters: list[asyncio.Future] = []
        for _ in range(2):  # response.created and response.queued exist as soon as it is accepted
            self._publish(next(self._frames))

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def snapshot(self) -> dict[str, Any]:
        """The Response as `GET /responses/{id}` shows it now."""
        if self.final is not None:
            return self.final
        return {**in_progress(self.response, None), "status": self.status, "service_tier": "auto"}

    def _publish(self, frame: tuple[bytes, bool]) -> None:
        self.frames.append(frame)
        self.size += len(frame[0])
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def wake_on_change(self, waiter: asyncio.Future) -> None:
        """Resolve `waiter` at the next event (or at once when there is nothing more to come)."""
        if self.done and not waiter.done():
            waiter.set_result(None)
        else:
            self._waiters.append(waiter)

    async def run(self, token_delay: float, queued_for: float = 0.0) -> None:
        """Queued for `queued_for` seconds (at least one beat), then in progress, one delta per `token_delay`,
        then the terminal event."""
        await asyncio.sleep(max(token_delay, queued_for))
        self.status = "in_progress"
        for frame, is_delta in self._frames:
            self._publish((frame, is_delta))
            if is_delta and token_delay > 0:
                await asyncio.sleep(token_delay)
        failed_midway = self.stream.cut == "error"
        self._end(failed(self.response, self.stream.error) if failed_midway else dict(self.response))

    def cancel(self) -> None:
        """Stop the job: status `cancelled`, nothing produced; followers get `response.failed` carrying it."""
        if self.task is not None:
            self.task.cancel()
        cancelled = {**in_progress(self.response, None), "status": "cancelled", "service_tier": "auto"}
        self._frames.close()
        self._publish((self.stream.event("response.failed", response=cancelled), False))
        self._end(cancelled)

    def _end(self, final: dict[str, Any]) -> None:
        self.final, self.status = final, final["status"]
        self.finish(self)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class Jobs:
    """Background jobs by response id: finished ones expire after `ttl`; at most `limit` are kept."""

    def __init__(self, *, ttl: float = BACKGROUND_TTL, limit: int = BACKGROUND_LIMIT,
                 max_bytes: int = BACKGROUND_BYTES, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.limit = checked_bounds("the background jobs'", "jobs", ttl, limit)
        self.max_bytes = max_bytes
        self._clock = clock
        self._jobs: dict[str, Job] = {}  # in the order started
        self._ended: dict[str, float] = {}  # response id -> when it finished (by `clock`)

    def __len__(self) -> int:
        self._expire()
        return len(self._jobs)

    @property
    def running(self) -> int:
        return sum(not job.done for job in self._jobs.values())

    def _expire(self) -> None:
        now = self._clock()
        kept = sum(job.size for job in self._jobs.values())
        for response_id, ended in list(self._ended.items()):  # in the order they ended, the oldest first
            if now - ended < self.ttl and len(self._jobs) <= self.limit and kept <= self.max_bytes:
                break
            kept -= self._jobs[response_id].size
            self._drop(response_id)

    def _drop(self, response_id: str) -> None:
        self._jobs.pop(response_id, None)
        self._ended.pop(response_id, None)

    def ended(self, job: Job) -> None:
        """Start the job's ttl (called when it reaches a terminal status)."""
        self._ended[job.response["id"]] = self._clock()
        self._expire()

    def admit(self) -> None:
        """Room for one more job, or the 429 when `limit` are still running."""
        self._expire()
        if len(self._jobs) >= self.limit:
            for response_id in list(self._ended)[: len(self._jobs) - self.limit + 1]:
                self._drop(response_id)
        if len(self._jobs) >= self.limit:
            raise APIError.envelope(
                429, f"Too many background responses in progress: the locus-nb mock runs at most {self.limit} at "
                     "once. Wait for one to finish, or cancel one.", type_="requests", code="rate_limit_exceeded",
                headers={"retry-after": "1"})

    def add(self, job: Job) -> None:
        self._jobs[job.response["id"]] = job

    def get(self, response_id: str) -> Job | None:
        self._expire()
        return self._jobs.get(response_id)

    def drop(self, response_id: str) -> None:
        self._drop(response_id)


class Follow:
    """SSE of a job's events after `after` (-1: from the start), then the live ones to the terminal event.

    `drop_after`: cut the connection after this many deltas (the `drop_mid_stream` fault) — the job
    goes on, and the events stay there to resume from.
    """

    media_type = "text/event-stream; charset=utf-8"

    def __init__(self, job: Job, *, after: int = -1, drop_after: int | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.job = job
        self.next = after + 1
        self.drop_after = drop_after
        self.headers = dict(headers or {})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        gone = False
        waiter: asyncio.Future = loop.create_future()

        async def watch() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone = True
            if not waiter.done():
                waiter.set_result(None)

        watcher = asyncio.ensure_future(watch())
        headers = {"content-type": self.media_type, "cache-control": "no-cache", **self.headers}
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(k.encode(), v.encode()) for k, v in headers.items()]})
        try:
            deltas = 0
            while not gone:
                frames = self.job.frames[self.next:]
                self.next += len(frames)
                batch = []
                for frame, is_delta in frames:
                    batch.append(frame)
                    deltas += is_delta
                    if self.drop_after is not None and is_delta and deltas >= self.drop_after:
                        await send({"type": "http.response.body", "body": b"".join(batch), "more_body": True})
                        return  # without the end of the body: the connection is cut
                if batch:
                    await send({"type": "http.response.body", "body": b"".join(batch), "more_body": True})
                if self.job.done and self.next >= len(self.job.frames):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                waiter = loop.create_future()
                self.job.wake_on_change(waiter)
                await waiter
        finally:
            watcher.cancel()
