"""Where an HTTP exchange meets this library's errors: httpx's exceptions, a stream's expired bounds and a call's
deadline become typed errors in one place (`typed_errors`), by the phase they happen in; and the retry policy.

Retries, up to `max_retries` times, only while no answer has begun: a 429, a 5xx, a connection that could not be
made (refused, DNS, TLS, a connect timeout) or that closed before any answer. The wait is the server's `Retry-After`
when it sends one (a wait longer than a minute is not waited: the `RateLimited` error is raised with `retry_after`
set), else an exponential backoff with jitter (0.5 s, 1 s, 2 s … capped at 8 s, each scaled by a random 0.5–1.0).

Never retried, because the server may already have run (and stored) the generation, and running it twice costs
twice: a read timeout; a body that breaks off after the status line (a `complete()` reply cut halfway:
`ConnectionFailed`); anything once a stream's events flow; the `deadline`. A pool timeout (every connection of
`limits=` busy) is not retried either: the wait for a free connection has already lasted the pool timeout.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime

import httpx

from ._errors import ConnectionFailed, LocusError, RequestTimeout, mask_secrets

__all__ = ["Expired", "body_excerpt", "broken_stream", "cut_reply", "repeatable", "request_id_of",
           "retry_after_seconds", "retry_delay", "typed_errors", "unanswered"]

Phase = Callable[[Exception], LocusError | None]  # what an exception means in one phase of a call (None: not ours)

_MAX_BACKOFF = 8.0
_MAX_RETRY_AFTER = 60.0
_CUT_HINT = ("the reply was cut off after the server had answered; check the network or a proxy between you and "
             "the endpoint, then repeat the call yourself if you want it run again")


class Expired(Exception):
    """A bound of this library's own passed: a call's deadline, or a stream's idle timeout (the message says which)."""


@asynccontextmanager
async def typed_errors(phase: Phase, deadline_at: float | None = None) -> AsyncIterator[None]:
    """Run the block (until the loop time `deadline_at`, if given); raise what an httpx exception or an `Expired`
    bound means in `phase` as its typed error, without the httpx traceback, which says nothing the message does not.
    An exception the phase does not know goes on as it is: a bug is not a bad connection."""
    try:
        async with asyncio.timeout_at(deadline_at) as scope:
            yield
    except TimeoutError:
        if not scope.expired():
            raise
        raise phase(Expired("the deadline")) from None  # (only a phase before any answer has a deadline of its own)
    except (httpx.RequestError, Expired) as exc:
        error = phase(exc)
        if error is None:
            raise
        raise error from None


def unanswered(exc: Exception, *, url: str, deadline: float | None = None, hint: str | None = None,
               pool: tuple[int | None, float | None] = (None, None)) -> LocusError | None:
    """Before any answer: the deadline passed, no connection came free (`pool`: its size and wait), no answer
    in time, or no connection (`hint`: what to check)."""
    if isinstance(exc, Expired):
        return RequestTimeout(f"no complete answer from {url} within the deadline of {deadline:g} s",
                              hint="the whole call took longer than its deadline; raise deadline= (an "
                                   "OCIResponsesModel keyword, or per call), or ask for a shorter answer")
    if isinstance(exc, httpx.PoolTimeout):
        limit, wait = pool
        busy = f"all {limit} connections" if limit else "all the connections"
        within = f" within {wait:g} s (the pool timeout)" if wait is not None else ""
        return RequestTimeout(
            f"{busy} of the pool to {url} are busy: none came free{within}; raise limits= "
            "(e.g. limits=httpx.Limits(max_connections=200)) or lower the concurrency",
            hint="too many requests at once for the connection pool (this is not a network problem); "
                 "not retried: the wait for a free connection already lasted the pool timeout")
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"no answer from {url} in time ({type(exc).__name__})")
    if isinstance(exc, httpx.TransportError):
        return ConnectionFailed(f"could not reach {url}: {type(exc).__name__}", hint=hint)
    return None


def cut_reply(exc: Exception, *, url: str, status: int) -> LocusError | None:
    """While reading a reply's body: never retried, the server has answered, so it has run the request."""
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"the {status} reply from {url} stopped arriving ({type(exc).__name__}); not retried: "
                              "the server has already run the request", hint=_CUT_HINT)
    if isinstance(exc, httpx.TransportError):
        return ConnectionFailed(f"the connection broke off while reading the {status} reply from {url} "
                                f"({type(exc).__name__}); not retried: the server has already run the request",
                                hint=_CUT_HINT)
    return None


def broken_stream(exc: Exception, *, error: Callable[..., LocusError]) -> LocusError | None:
    """While a stream's events flow: `error(why, timed_out=…)` makes the `StreamError` that holds the text so far."""
    if isinstance(exc, Expired):
        return error(str(exc), timed_out=True)
    if isinstance(exc, httpx.TimeoutException):
        return error(f"the stream stopped: nothing arrived within the read timeout ({type(exc).__name__})",
                     timed_out=True)
    if isinstance(exc, httpx.RequestError):
        return error(f"the stream broke off ({type(exc).__name__})")
    return None


def repeatable(exc: httpx.TransportError) -> bool:
    """A connection that failed, or a timeout before the request went out: safe to send again."""
    return isinstance(exc, httpx.ConnectTimeout) or not isinstance(exc, httpx.TimeoutException)


def retry_delay(attempt: int, max_retries: int, retry_after: float | None) -> float | None:
    """Seconds to wait before the next attempt, or None for no further attempt."""
    if attempt >= max_retries:
        return None
    if retry_after is not None:
        return retry_after if retry_after <= _MAX_RETRY_AFTER else None
    return min(_MAX_BACKOFF, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The server's wait hint: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date."""
    headers = {k.lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            return max(0.0, float(headers[name]) / scale)
        except (KeyError, ValueError):
            pass
    try:
        when = parsedate_to_datetime(headers.get("retry-after"))
    except (TypeError, ValueError):  # none, or not a date
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The id to quote to support: OCI's `opc-request-id`, else OpenAI's `x-request-id`."""
    headers = {k.lower(): v for k, v in headers.items()}
    return headers.get("opc-request-id") or headers.get("x-request-id")


def body_excerpt(content: bytes | None, redact: Iterable[str | None] = (), limit: int = 120) -> str:
    """The start of a body that is not what was expected, safe to show: secrets masked, then cut."""
    return mask_secrets((content or b"")[: limit * 8].decode("utf-8", "replace"), redact)[:limit]
