"""`record_requests(model)`: the requests a model sends, exactly as they go out.

For lessons that measure the wire (input items, body bytes) and for tests. Only the method, the
URL and the body are kept: headers carry credentials (`Authorization`, the OCI signature).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import httpx

__all__ = ["RequestRecord", "SentRequest", "record_requests"]


@dataclass(frozen=True)
class SentRequest:
    """One request as it went out (after any signing, before the server saw it)."""

    method: str
    """`POST` for a Responses call."""
    url: str
    """The full URL, e.g. `…/openai/v1/responses`."""
    content: bytes = field(repr=False)
    """The body's bytes as sent: `len(content)` is what went on the wire."""

    @property
    def body(self) -> Any:
        """The body parsed from JSON (None when there is none)."""
        return json.loads(self.content) if self.content else None

    def __repr__(self) -> str:
        return f"SentRequest({self.method} {self.url}, {len(self.content)} bytes)"


class RequestRecord(Sequence[SentRequest]):
    """A list of the requests sent since `record_requests()`; a `with` block ends the recording."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._sent: list[SentRequest] = []
        client.event_hooks["request"].append(self._record)

    async def _record(self, request: httpx.Request) -> None:  # an httpx request hook
        self._sent.append(SentRequest(request.method, str(request.url), request.content))

    def stop(self) -> None:
        """Record nothing more (what was recorded stays)."""
        hooks = self._client.event_hooks["request"]
        if self._record in hooks:
            hooks.remove(self._record)

    def __enter__(self) -> RequestRecord:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @overload
    def __getitem__(self, index: int) -> SentRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[SentRequest]: ...
    def __getitem__(self, index: int | slice) -> SentRequest | list[SentRequest]:
        return self._sent[index]

    def __len__(self) -> int:
        return len(self._sent)

    def __iter__(self) -> Iterator[SentRequest]:
        return iter(self._sent)

    def __repr__(self) -> str:
        return f"RequestRecord({len(self._sent)} request(s))"


def record_requests(model: Any) -> RequestRecord:
    """Record every request `model` (an `OCIResponsesModel`) sends from now on, until `aclose()`.

        sent = record_requests(model)
        await model.complete(messages)
        sent[-1].body["input"], len(sent[-1].content)   # what went out, and its size in bytes

    Or `with record_requests(model) as sent: …` to record only inside the block.
    """
    return RequestRecord(model.client)
