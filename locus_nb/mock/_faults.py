"""Fault injection: the ways a real endpoint misbehaves, on demand.

Per server: `MockConfig(faults=["rate_limit"])` (every request) or `"rate_limit:2"` (the next two
requests only); `locus-nb mock --fault NAME[:N]`. Per request: `metadata: {"mock_fault": "NAME"}`
(several names comma-separated).

`FAULTS` is the one table of them: each `Fault` says what a client sees and which part of the
reply it changes. `plan_faults` combines the ones on for a request into a `FaultPlan`, which the
app's pipeline applies; `locus-nb mock --help` lists the table (`fault_help`), and so does the README.

`drop_mid_stream` needs a real socket (`MockServer`): an in-process transport has no connection
to cut, and httpx's `ASGITransport` reports the unfinished reply as an AssertionError.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import APIError, bad_request

__all__ = [
    "FAULTS",
    "METADATA_KEY",
    "MIDSTREAM_ERROR",
    "Fault",
    "FaultPlan",
    "FaultSchedule",
    "TruncatedBody",
    "fault_help",
    "plan_faults",
    "requested_faults",
    "server_error",
]

METADATA_KEY = "mock_fault"


def server_error() -> APIError:
    """The real 500 (its body names no parameter)."""
    return APIError.envelope(500, "The server had an error while processing your request. Sorry about that!",
                             type_="server_error", code="server_error")


def _rate_limited(retry_after: float) -> APIError:
    wait = f"{retry_after:.3g}s"
    return APIError.envelope(
        429, f"Rate limit reached for requests per minute (RPM). Please try again in {wait}.",
        type_="requests", code="rate_limit_exceeded",
        headers={"retry-after": str(max(1, math.ceil(retry_after))), "retry-after-ms": str(round(retry_after * 1000))},
    )


def _unavailable(retry_after: float) -> APIError:
    return APIError.envelope(503, "The server is overloaded or not ready yet. Please try again later.",
                             type_="server_error")


@dataclass(frozen=True)
class Fault:
    """One way to misbehave: what a client sees, and which part of the reply it changes."""

    name: str
    effect: str  # what a client sees, in a few words (the `--fault` help and the README's list)
    refusal: Callable[[float], APIError] | None = None  # an error reply instead of any answer (given Retry-After)
    delays: bool = False  # the reply starts only after `MockConfig.first_byte_delay` seconds
    drops: bool = False  # the connection is cut halfway: a stream with no terminal event, or half a JSON body
    fails: bool = False  # the generation fails: an `error` event then `response.failed` mid-stream; a 500 for JSON
    incomplete: bool = False  # the answer stops halfway with status incomplete, as a capped generation would


# In the order they apply: the first refusal wins when several are on.
FAULTS = {fault.name: fault for fault in (
    Fault("rate_limit", "429 rate_limit_exceeded with Retry-After", refusal=_rate_limited),
    Fault("server_error", "500 server_error", refusal=lambda _retry_after: server_error()),
    Fault("unavailable", "503 server overloaded", refusal=_unavailable),
    Fault("drop_mid_stream", "the connection is cut halfway through the answer (no terminal event)", drops=True),
    Fault("error_event", "halfway through a stream an `error` event (nested shape), then `response.failed`; "
                         "a 500 without streaming", fails=True),
    Fault("incomplete", "the answer stops halfway: status incomplete (max_output_tokens)", incomplete=True),
    Fault("slow_first_byte", "the reply starts only after a delay (MockConfig.first_byte_delay, default 2 s)",
          delays=True),
)}


def fault_help() -> str:
    """One line per fault, `name  effect`: the `locus-nb mock --fault` help lists them so."""
    width = max(map(len, FAULTS))
    return "\n".join(f"  {f.name:<{width}}  {f.effect}" for f in FAULTS.values())


@dataclass(frozen=True)
class FaultPlan:
    """What the faults on for one request do to it, decided once by `plan_faults`."""

    names: frozenset[str] = frozenset()
    delay: float | None = None  # seconds to wait before anything is sent
    refusal: APIError | None = None  # sent instead of any answer (before the ZDR check, as a front door would)
    drops: bool = False
    fails: bool = False
    incomplete: bool = False

    def unstreamed_failure(self, streaming: bool) -> APIError | None:
        """A JSON answer cannot fail halfway: a failing generation is a 500 before any answer exists."""
        return server_error() if self.fails and not streaming else None

    def stream_cut(self) -> str | None:
        """Where a stream breaks off (`EventStream`'s `cut`): a dropped connection wins over an error event."""
        return "drop" if self.drops else "error" if self.fails else None


def plan_faults(names: Iterable[str], *, retry_after: float, first_byte_delay: float) -> FaultPlan:
    """The combined effect of the named faults (each checked against `FAULTS` already)."""
    names = frozenset(names)
    active = [fault for name, fault in FAULTS.items() if name in names]
    refusal = next((f.refusal(retry_after) for f in active if f.refusal is not None), None)
    return FaultPlan(
        names=names,
        delay=first_byte_delay if any(f.delays for f in active) else None,
        refusal=refusal,
        drops=any(f.drops for f in active),
        fails=any(f.fails for f in active),
        incomplete=any(f.incomplete for f in active),
    )


def _check(name: str) -> str:
    if name not in FAULTS:
        raise ValueError(f"unknown mock fault {name!r}; known: {', '.join(FAULTS)}")
    return name


class FaultSchedule:
    """The server-wide faults: each either always on, or on for its next N requests."""

    def __init__(self, specs: Iterable[str]) -> None:
        self._left: dict[str, float] = {}
        for spec in specs:
            name, _, count = spec.partition(":")
            if count and not count.strip().isdigit():
                raise ValueError(f"bad fault {spec!r}: expected NAME or NAME:COUNT")
            self._left[_check(name.strip())] = int(count) if count else math.inf
        self._lock = threading.Lock()

    def take(self) -> set[str]:
        """The faults for the next request (counting it against any N)."""
        with self._lock:
            active = {name for name, left in self._left.items() if left > 0}
            for name in active:
                self._left[name] -= 1
        return active


def requested_faults(metadata: Mapping[str, Any] | None) -> set[str]:
    value = (metadata or {}).get(METADATA_KEY)
    if not value:
        return set()
    names = {n.strip() for n in value.split(",") if n.strip()}
    unknown = sorted(names - FAULTS.keys())
    if unknown:
        raise bad_request(f"Unknown mock fault {unknown[0]!r} in metadata.{METADATA_KEY}; known: {', '.join(FAULTS)}.",
                          param=f"metadata.{METADATA_KEY}", code="invalid_value")
    return names


MIDSTREAM_ERROR = {
    "code": "server_error",
    "message": "An error occurred while processing your request. You can retry your request, "
               "or contact us through our help center if the error persists.",
}


class TruncatedBody:
    """A JSON reply cut off halfway (`drop_mid_stream` on a non-streaming request).

    It announces the full `content-length`, sends half, and returns without finishing: the
    server then closes the connection, and the client reads a body that ends too soon.
    """

    def __init__(self, body: bytes, headers: Mapping[str, str]) -> None:
        self.body = body
        self.headers = {"content-type": "application/json", "content-length": str(len(body)), **headers}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(k.encode(), v.encode()) for k, v in self.headers.items()]})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})
