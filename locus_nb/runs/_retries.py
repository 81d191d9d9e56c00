"""`--retries N`: a run that failed only on a transient error is run again, at most N times.

Transient: what a later attempt may not meet — a 429 the client's own retries did not get past
(`RateLimited`), a 5xx (`ServerError`), no connection or no answer in time (`ConnectionFailed`,
`RequestTimeout`, a stream cut or gone quiet: `StreamTruncated`, `StreamTimeout`; httpx's own transport
errors when a cell met one directly). Read from the cell error's exception name, as the run reports it.
A ✗ claim (`ClaimFailed`) or any other error is never retried: it says something about the lesson or the
endpoint that running again would only hide. Nor is a replay: a cassette answers the same every time.
Each retried run keeps the errors of its earlier attempts (`RunResult.retried`); the reports say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from ._results import RunResult, error_name

__all__ = ["TRANSIENT", "is_transient", "with_retries"]

TRANSIENT = frozenset({
    "RateLimited", "ServerError", "ConnectionFailed", "RequestTimeout", "StreamTruncated", "StreamTimeout",
    "ConnectError", "ConnectTimeout", "ReadError", "ReadTimeout", "WriteTimeout", "PoolTimeout", "RemoteProtocolError",
})


class _Job(Protocol):
    mode: str


def is_transient(result: RunResult) -> bool:
    """Failed, on a transient error only (no claim failed), and not a replay."""
    return (not result.ok and result.mode != "replay" and not result.claims.failed
            and error_name(result.error) in TRANSIENT)


def with_retries(work: Sequence[_Job], execute: Callable[[list[_Job]], list[RunResult]], retries: int,
                 say: Callable[[str], None] = print) -> list[RunResult]:
    """`execute(work)`, then the runs that failed on a transient error again, up to `retries` rounds."""
    results = execute(list(work))
    for attempt in range(2, retries + 2):
        again = [i for i, result in enumerate(results) if is_transient(result)]
        if not again:
            break
        say(f"attempt {attempt}: running {len(again)} run(s) again that failed on a transient error")
        for i, result in zip(again, execute([work[i] for i in again]), strict=True):
            results[i] = replace(result, retried=(*results[i].retried, results[i].error))
    return results
