"""The checks of lesson 04's exercises (stop a stream after its first sentence; time to first token). See `_exercises`.

The learner's code gets the check's model with its `stream()` watched (`_Watched`): what it yielded, whether the
stream was closed by the time the learner's function returned, and when the first text came. For the timing
exercise the watch also paces the stream — the first text after `PACE` seconds, the rest after another `PACE` — so
"measured at the first token" and "measured at the end" are apart on any endpoint (the mock answers in
milliseconds, a real model in a second or two). Nothing looks at wording: sentence ends are `.`, `!` or `?`.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from contextlib import aclosing
from typing import Any

from .._messages import Message
from ._exercises import Trial
from ._exercises_stateless import _described

PACE = 0.5  # seconds the watched stream holds its first text, then the rest
SENTENCES = [Message.user("Describe the sea in three short sentences. Start each one on a new line.")]
COUNT = [Message.user("Count to twenty, one number per line.")]
_END = re.compile(r"[.!?][\"')\]]*(?=\s|$)")


class _Watched:
    """The check's model as the learner's code gets it: `stream()` watched (and paced), the rest as it is."""

    def __init__(self, model: Any, pace: float = 0.0) -> None:
        self._model, self._pace = model, pace
        self.calls, self.texts, self.done, self.closed = 0, [], False, False
        self.started = self.first = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    async def stream(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.started = time.perf_counter()
        try:
            async with aclosing(self._model.stream(messages, *args, **kwargs)) as events:
                async for event in events:
                    if event.content:
                        await asyncio.sleep(self._pace if len(self.texts) < 2 else 0)
                        self.first = self.first or time.perf_counter()
                        self.texts.append(event.content)
                    self.done = self.done or event.done
                    yield event
        finally:
            self.closed = True


def _is_async(t: Trial, fn: Any, name: str) -> None:
    t.require(inspect.iscoroutinefunction(fn), f"`{name}` is not an `async def` function" if callable(fn) else
              f"`{name}` is a {type(fn).__name__}, not a function",
              f"define it with `async def {name}(model, messages):` — `async for` works only inside one")


def _one_stream(t: Trial, watched: _Watched, name: str) -> None:
    t.require(watched.calls == 1, f"`{name}` streamed {watched.calls} times through the model the check gave it",
              "call `model.stream(messages)` once, with the `model` and `messages` arguments")


# -- 04.1 -----------------------------------------------------------------------------------------


async def check_04_1(t: Trial, first_sentence: Any) -> str:
    _is_async(t, first_sentence, "first_sentence")
    watched = _Watched(t.model())
    text = await t.run(first_sentence, watched, list(SENTENCES), call="first_sentence(model, messages)")
    closed = watched.closed  # now, before the event loop runs a garbage-collected stream's aclose()
    t.require(isinstance(text, str), f"`first_sentence` returned {_described(text)}", "`return` the sentence's text")
    _one_stream(t, watched, "first_sentence")
    received = "".join(watched.texts)
    ends = list(_END.finditer(received))
    t.require(not watched.done or len(ends) > 1, f"the model's whole answer was one sentence: {received!r}",
              "not your code: the check needs an answer of several sentences; run the cell again")
    t.require(not watched.done, f"the loop read the whole answer ({len(watched.texts)} chunks) before it ended",
              "leave the loop (`break`, or `return`) as soon as the text holds the end of a sentence")
    t.require(closed, "the loop stopped, but the stream was still open when `first_sentence` returned",
              "wrap it, `async with aclosing(model.stream(messages)) as events:` then `async for event in events:` — "
              "leaving the loop alone leaves the connection open until the garbage collector closes it")
    first = received[:ends[0].end()].strip() if ends else None
    t.require(first is not None and text.strip() == first,
              f"it returned {text!r}; the first sentence of what arrived is {first!r}",
              "return the text up to and including the first `.`, `!` or `?`: cut what came after it "
              "(`text[:match.end()]`)")
    return f"stopped after {len(watched.texts)} chunk(s), stream closed, returned {text.strip()!r}"


# -- 04.2 -----------------------------------------------------------------------------------------


async def check_04_2(t: Trial, time_to_first_token: Any) -> str:
    _is_async(t, time_to_first_token, "time_to_first_token")
    watched = _Watched(t.model(), pace=PACE)
    pair = await t.run(time_to_first_token, watched, list(COUNT), call="time_to_first_token(model, messages)")
    t.require(isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], int | float)
              and not isinstance(pair[0], bool) and isinstance(pair[1], str),
              f"`time_to_first_token` returned {_pair(pair)}", "`return first, text`: the seconds (a number), then "
              "the whole text (a string)")
    seconds, text = pair
    _one_stream(t, watched, "time_to_first_token")
    whole = "".join(watched.texts)
    t.require(text == whole, f"it returned {len(text)} characters of text; the answer had {len(whole)}",
              "collect every chunk's `event.content` and join them: `\"\".join(chunks)`")
    truth = watched.first - watched.started
    t.require(seconds >= truth - 0.1,
              f"it measured {seconds:.3f} s; the first text came {truth:.2f} s after the stream started",
              "start the clock before the stream starts (`start = time.perf_counter()` before the loop), not inside it")
    t.require(seconds <= truth + PACE / 2,
              f"it measured {seconds:.2f} s; the first text came {truth:.2f} s after the stream started, the whole "
              f"answer {watched.done and 'later' or 'not at all'}",
              "seconds, not milliseconds: `time.perf_counter()` counts seconds" if seconds > 100 else
              "take the time when the first text arrives (the first event with `content`), inside the loop: after the "
              "loop it is the time of the whole answer")
    return f"time to first token {seconds:.2f} s (the check saw {truth:.2f} s), and the whole text"


def _pair(value: Any) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}: ({', '.join(type(v).__name__ for v in value)})"
    return _described(value)
