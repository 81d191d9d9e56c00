"""Fault injection: the ways a real endpoint misbehaves, on demand.

Per server: `MockConfig(faults=["rate_limit"])` (every request) or `"rate_limit:2"` (the next two
requests only); `locus-nb mock --fault NAME[:N]`. Per request: `metadata: {"mock_fault": "NAME"}`
(several names comma-separated).

`drop_mid_stream` needs a real socket (`MockServer`): an in-process transport has no connection
to cut, and httpx's `ASGITransport` reports the unfinished reply as an AssertionError.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import APIError, bad_request

__all__ = [
    "FAULTS",
    "METADATA_KEY",
    "MIDSTREAM_ERROR",
    "FaultSchedule",
    "TruncatedBody",
    "http_fault",
    "requested_faults",
    "server_error",
]

FAULTS = {
    "rate_limit": "429 rate_limit_exceeded with Retry-After",
    "server_error": "500 server_error",
    "unavailable": "503 server overloaded",
    "drop_mid_stream": "the connection is cut halfway through the answer (no terminal event)",
    "error_event": "an `error` event (nested shape) then `response.failed`, halfway through a stream",
    "incomplete": "the answer stops halfway: status incomplete (max_output_tokens)",
    "slow_first_byte": "the reply starts only after MockConfig.first_byte_delay seconds",
}
METADATA_KEY = "mock_fault"


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


def http_fault(faults: set[str], retry_after: float) -> APIError | None:
    """The error reply for a fault that happens before any answer is produced."""
    if "rate_limit" in faults:
        wait = f"{retry_after:.3g}s"
        return APIError.envelope(
            429, f"Rate limit reached for requests per minute (RPM). Please try again in {wait}.",
            type_="requests", code="rate_limit_exceeded",
            headers={"retry-after": str(max(1, math.ceil(retry_after))), "retry-after-ms": str(round(retry_after * 1000))},
        )
    if "server_error" in faults:
        return server_error()
    if "unavailable" in faults:
        return APIError.envelope(503, "The server is overloaded or not ready yet. Please try again later.",
                                 type_="server_error")
    return None


def server_error() -> APIError:
    return APIError.envelope(500, "The server had an error while processing your request. Sorry about that!",
                             type_="server_error", code="server_error")


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
