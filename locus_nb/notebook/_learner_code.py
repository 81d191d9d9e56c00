"""Learner code, as a check runs it: the `TODO` placeholder and where it is left, and running the learner's
functions and tools bounded in time (see `_exercises` for the three bounds and their limits)."""

from __future__ import annotations

import dis
import inspect
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import CodeType, FrameType
from typing import Any

__all__ = ["BUSY_SECONDS", "TODO", "Stopped", "Sampler", "function_of", "inline_tool", "invoke", "learner_line",
           "todo_line"]

BUSY_SECONDS = 3.0  # learner code running this long without a pause is taken for a loop that does not end
_SAMPLE = 0.1  # seconds between the sampler's looks at the stack


class _Todo(Exception):
    """The placeholder in starter code: a value (`reply = TODO`) and an error (`raise TODO`) alike."""

    def __repr__(self) -> str:
        return "TODO"


TODO = _Todo("a TODO in the starter code: replace it with your code")


class Stopped(BaseException):
    """Ends learner code that takes too long. A BaseException: a learner's `except Exception` lets it through."""


def function_of(answer: Any) -> Callable[..., Any] | None:
    """The Python function behind an answer: itself, or a `@tool`'s function."""
    inner = getattr(answer, "function", answer)
    return inner if inspect.isfunction(inner) else None


def _codes(code: CodeType) -> Iterator[CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


def todo_line(answer: Any) -> int | None:
    """The line of the first `TODO` the answer's code still uses, None when there is none."""
    fn = function_of(answer)
    if fn is None or fn.__globals__.get("TODO") is not TODO:
        return None
    lines = [i.positions.lineno for c in _codes(fn.__code__) for i in dis.get_instructions(c)
             if i.opname in ("LOAD_GLOBAL", "LOAD_NAME") and i.argval == "TODO" and i.positions]
    return min((n for n in lines if n is not None), default=None) if lines else None


def learner_line(exc: BaseException, files: set[str]) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in files:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


async def invoke(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The one place learner code is called from: the sampler looks for the learner's frames inside it."""
    result = fn(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


def _inline(fn: Callable[..., Any], calls: list[dict[str, Any]]) -> Callable[..., Any]:
    """A learner's tool function run in the event loop's thread (where the sampler can stop it), each call
    recorded: `{"arguments": …, "result": …}` or `{"arguments": …, "error": the exception}`."""
    async def inline(**arguments: Any) -> Any:
        call: dict[str, Any] = {"arguments": arguments}
        calls.append(call)
        try:
            result = fn(**arguments)
            call["result"] = await result if inspect.isawaitable(result) else result
        except Exception as exc:
            call["error"] = exc
            raise
        return call["result"]
    return inline


_BOUNDARY = {invoke.__code__, _inline(print, []).__code__}


def inline_tool(tool: Any, calls: list[dict[str, Any]]) -> Any:
    """The learner's `@tool` as the agent gets it: same name, description and schema; run by `_inline`."""
    return replace(tool, function=_inline(tool.function, calls))


class Sampler:
    """Interrupts learner code that runs `busy` seconds without a pause (see the module doc)."""

    def __init__(self, files: set[str], busy: float) -> None:
        self.files, self.busy, self.since = files, busy, None
        self.on = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def _learner_running(self, frame: FrameType | None) -> bool:
        found = False
        while frame is not None:
            if frame.f_code in _BOUNDARY:
                return found
            found = found or frame.f_code.co_filename in self.files
            frame = frame.f_back
        return False  # not inside a call of learner code: the event loop, this package, another task

    def _sample(self, signum: int, frame: FrameType | None) -> None:
        if not self._learner_running(frame):
            self.since = None
        elif self.since is None:
            self.since = time.monotonic()
        elif time.monotonic() - self.since >= self.busy:
            self.since = None
            raise Stopped(f"it ran {self.busy:.0f} s without finishing")

    def __enter__(self) -> Sampler:
        if self.on:
            self.previous = signal.signal(signal.SIGALRM, self._sample)
            self.timer = signal.setitimer(signal.ITIMER_REAL, _SAMPLE, _SAMPLE)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.on:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
            if self.timer[0]:
                signal.setitimer(signal.ITIMER_REAL, *self.timer)
