"""Exercises that check themselves: `await check("01.1", converse, conn)` under a lesson's "Your turn".

A check runs the learner's code against whatever `connect()` gave (the embedded mock, any endpoint,
OCI) with a model of its own, and prints one line: `✓ 01.1 <title> — all N checks pass …`, or
`✗ 01.1 <title> — check k of N: <the first thing that is wrong>` and an indented `hint:` line, or,
for starter code with a `TODO` still in it, `✗ 01.1 <title> — not yet: …` and the first thing to do.
A learner's mistake (an exception, a wrong type, the untouched stub, a model call that fails) is such
a line, never a traceback into this package; `evaluate()` returns the same as a `CheckResult`.

Time is bounded three ways (`Trial.run`): the whole check by `asyncio.timeout` (model calls too); the
check's model refuses more requests than the exercise can need (a loop that keeps calling it); and
Python code of the learner's that runs for `BUSY_SECONDS` without a pause is interrupted by a
`SIGALRM` sampler (`signal.setitimer`, in `_learner_code`), which raises only while one of the learner's frames is on the
stack, so never inside the event loop or this package. Limits: the sampler needs the main thread
(an IPython kernel runs cells there) and a platform with `setitimer` (not Windows); C code that never
returns to the interpreter (a huge `sum(range(…))`) is not interrupted — the kernel's interrupt is.

Where the solutions live and how a run swaps them in: `_editions`.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .._errors import APIStatusError, BadRequest, StreamError, TransportError, mask_secrets
from ._learner_code import BUSY_SECONDS, TODO, Sampler, Stopped, function_of, invoke, learner_line, todo_line

__all__ = ["EXERCISES", "TODO", "CheckResult", "Exercise", "NotYet", "Trial", "check", "evaluate",
           "parse_status"]

PASSED, FAILED = "✓", "✗"
DEADLINE = 120.0  # seconds for a whole check: a real model takes a few seconds a call


@dataclass(frozen=True)
class Exercise:
    """One exercise as the registry knows it; its check's code loads only when it runs."""

    id: str
    """`01.1`: the lesson's number, a dot, the exercise's number in the lesson."""
    title: str
    """A few words; the ✓/✗ line and `locus-nb progress` show them."""
    steps: int
    """How many checks it makes, in order; a ✗ names the first that fails (`check 2 of 5`)."""
    module: str
    """The module of `locus_nb.notebook` with its check, a function named like `check_01_1`."""
    start: str
    """The first thing to do, for starter code with a TODO still in it."""
    stored: bool = False
    """It needs stored state (`store=True`): on a `store=False` connection the check says so and runs nothing."""
    kind: Literal["exercise"] = "exercise"


EXERCISES = {e.id: e for e in (
    Exercise("01.1", "Two facts, four turns", 6, "_exercises_stateless",
             "fill in the loop: add each turn to `history` as a user message, send the whole history with "
             "`await model.complete(history)`, keep the reply in the history too, and collect `reply.text`"),
    Exercise("01.2", "Make the model forget", 5, "_exercises_stateless",
             "return a new list: the system message, then every turn but turn `n` (a turn is your message and "
             "the model's reply to it)"),
    Exercise("02.1", "Fork a stored conversation", 7, "_exercises_stored",
             "say what to send (only the new question: the server has the turns up to `n`) and which stored "
             "response to go on from (turn `n`'s reply's `provider_state`)", stored=True),
    Exercise("02.2", "A thread on a conversation", 8, "_exercises_stored",
             "create a conversation before the loop, pass its `provider_state` to every turn, and delete it after "
             "the loop", stored=True),
    Exercise("03.1", "Your own tool", 6, "_exercises_tools",
             "give the parameters type hints, describe the tool and each argument in the docstring, and return "
             "a sentence with the converted amount"),
    Exercise("03.2", "A tool that fails well", 6, "_exercises_tools",
             "replace `raise TODO` with an error whose message names the country and the countries you know"),
    Exercise("04.1", "Stop after the first sentence", 7, "_exercises_streaming",
             "wrap the stream in `aclosing(…)`, leave the loop once the text holds a sentence's end (`.`, `!` or `?`), "
             "and return the text up to and including it"),
    Exercise("04.2", "Time to first token", 6, "_exercises_streaming",
             "take the time when the first text arrives (`time.perf_counter() - start`), and return it with the "
             "whole text"),
)}


@dataclass(frozen=True)
class CheckResult:
    """What a check found: passed, failed at one step, or starter code still to fill in."""

    exercise: str
    """The exercise's id, e.g. `01.1`."""
    status: Literal["passed", "failed", "todo", "needs_store"]
    """`todo`: a TODO is left in the code, so nothing ran; `needs_store`: the exercise needs stored state and the
    connection has `store=False`, so nothing ran (not the learner's doing: no ✗, no hint)."""
    step: int
    """The check that failed (1-based); `steps` when all passed; 0 for `todo`."""
    steps: int
    """How many checks the exercise makes."""
    said: str
    """What was found, in the lesson's words (masked)."""
    hint: str = ""
    """What to do next (empty when passed)."""
    kind: Literal["check_result"] = "check_result"

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def lines(self) -> list[str]:
        """The ✓/✗ line (`parse_status` reads it back) and the hint, indented."""
        title = EXERCISES[self.exercise].title if self.exercise in EXERCISES else "exercise"
        if self.status == "needs_store":  # neither ✓ nor ✗: `parse_status` (progress, a run) reads it as not run
            return [f"– {self.exercise} {title} — needs store=True: {self.said}"]
        where = (f"all {self.steps} checks pass" if self.passed else "not yet" if self.status == "todo"
                 else f"check {self.step} of {self.steps}")
        first = f"{PASSED if self.passed else FAILED} {self.exercise} {title} — {where}: {self.said}"
        return [first, *([f"  hint: {self.hint}"] if self.hint else [])]


_STATUS = re.compile(r"^([✓✗]) (\d\d\.\d+) .*? — (?:all (\d+) checks pass|not yet|check (\d+) of (\d+)):")


def parse_status(line: str) -> tuple[str, str, int, int] | None:
    """`(exercise, status, step, steps)` from a check's ✓/✗ line; None for any other line."""
    m = _STATUS.match(line)
    if not m:
        return None
    if m.group(1) == PASSED:
        return m.group(2), "passed", int(m.group(3) or 0), int(m.group(3) or 0)
    if m.group(4) is None:
        return m.group(2), "todo", 0, EXERCISES[m.group(2)].steps if m.group(2) in EXERCISES else 0
    return m.group(2), "failed", int(m.group(4)), int(m.group(5))


class NotYet(Exception):
    """Raised by a lesson's check at the first thing that is wrong (`Trial.require`)."""

    def __init__(self, said: str, hint: str) -> None:
        super().__init__(said)
        self.said, self.hint = said, hint


_NOT_YOURS = (TransportError, StreamError, APIStatusError)  # the endpoint failed, not the learner's code


class Trial:
    """What a lesson's check works with: steps (`require`), learner code (`run`), its own model (`model`)."""

    def __init__(self, exercise: Exercise, connection: Any, files: set[str], *, busy: float, max_requests: int):
        self.exercise, self.connection, self.files = exercise, connection, files
        self.busy, self.max_requests = busy, max_requests
        self.step = 0
        self.models: list[Any] = []
        self.sent: Any = []  # the requests the check's latest model sent (`record_requests`)

    def require(self, condition: Any, said: str, hint: str) -> None:
        """One check, in order: passes, or ends the check here with what is wrong and what to do."""
        self.step += 1
        if not condition:
            raise NotYet(said, hint)

    async def run(self, fn: Callable[..., Any], *args: Any, call: str, raises: bool = False, **kwargs: Any) -> Any:
        """Call learner code, bounded; what it raises becomes a `NotYet` for the next check (with `raises`:
        is returned, for a check that wants an error; a model call that failed is still a `NotYet`)."""
        try:
            with Sampler(self.files, self.busy):
                return await invoke(fn, args, kwargs)
        except NotYet:
            raise
        except Stopped as stop:
            self.step += 1
            raise NotYet(f"`{call}` was stopped: {stop}", "look for a loop that never ends (a `while` whose "
                         "condition stays true, a list you append to while looping over it)") from None
        except Exception as exc:  # the learner's mistake, or the endpoint's: say which, without a traceback
            if raises and not isinstance(exc, _NOT_YOURS):
                return exc
            self.step += 1
            raise self.failure(exc, call) from None

    def failure(self, exc: Exception, call: str) -> NotYet:
        if isinstance(exc, _NOT_YOURS) and not isinstance(exc, BadRequest):
            return NotYet(f"a model call failed: {type(exc).__name__}: {_first_line(exc)}",
                          "not your code: the endpoint answered with an error; run the cell again, or check "
                          "the setup cell (`locus-nb doctor` checks an OCI setup)")
        line = learner_line(exc, self.files)
        at = f" (line {line} of its cell)" if line else ""
        if exc is TODO or "_Todo" in str(exc):  # a TODO outside the function the check was given
            return NotYet(f"`{call}` reached a TODO{at}", "replace each TODO with your code")
        return NotYet(f"`{call}` raised {type(exc).__name__}: {_first_line(exc)}{at}",
                      "read the error: it names what went wrong; fix that line and run the cell again")

    def watch(self) -> Sampler:
        """`with trial.watch():` around an agent run that calls learner tools (see `inline_tool`)."""
        return Sampler(self.files, self.busy)

    def model(self, **settings: Any) -> Any:
        """A model of the check's own on the lesson's connection, its requests recorded and counted."""
        from ._recording import record_requests

        model = self.connection.model(**settings)
        self.models.append(model)
        self.sent = sent = record_requests(model)

        async def count(request: Any) -> None:  # after record_requests' own hook: this request is counted
            if len(sent) > self.max_requests:
                raise Stopped(f"it sent more than {self.max_requests} requests")
        model.client.event_hooks["request"].append(count)
        return model

    async def close(self) -> None:
        for model in self.models:
            try:
                await asyncio.wait_for(model.aclose(), 10)
            except Exception:  # a model whose call was interrupted: nothing more to say about it
                pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return mask_secrets(text[0] if text else "(no message)")[:300]


# -- running a check --------------------------------------------------------------------------------


async def evaluate(exercise: str, answer: Any, connection: Any, *, timeout: float = DEADLINE,
                   busy: float = BUSY_SECONDS) -> CheckResult:
    """Run one exercise's check on `answer` (the learner's function or tool) against `connection`."""
    found = EXERCISES.get(exercise) if isinstance(exercise, str) else None
    if found is None:
        said = f"there is no exercise {exercise!r}" if isinstance(exercise, str) else \
            "the first argument is the exercise's id, a string like \"01.1\""
        return CheckResult(str(exercise)[:20], "failed", 1, 1, said,
                           f"copy the check line from the lesson; the exercises are {', '.join(EXERCISES)}")
    if inspect.iscoroutine(answer):  # check("01.1", converse(model, turns), conn)
        answer.close()  # (never run: no "was never awaited" warning)
        return CheckResult(found.id, "failed", 1, found.steps, "it was given what a call returned, not the function",
                           f"pass the function itself, without parentheses: `await check(\"{found.id}\", converse, "
                           "conn)`")
    if found.stored and getattr(connection, "store", True) is False:
        return CheckResult(found.id, "needs_store", 0, found.steps, "this notebook runs with store=False (Zero Data Retention safe); where stored state is allowed, "
                           "run it with `-p store True`")
    if (line := todo_line(answer)) is not None:
        name = getattr(answer, "__name__", getattr(answer, "name", "it"))
        return CheckResult(found.id, "todo", 0, found.steps, f"`{name}` still has a TODO (line {line} of its cell)",
                           found.start)
    if not hasattr(connection, "model"):
        return CheckResult(found.id, "failed", 1, found.steps, "the check needs the lesson's connection",
                           "pass `conn`, from the setup cell: `await check(…, …, conn)`")
    fn = function_of(answer)
    trial = Trial(found, connection, {fn.__code__.co_filename} if fn else set(), busy=busy, max_requests=12)
    module = importlib.import_module(f"{__package__}.{found.module}")
    run = getattr(module, "check_" + found.id.replace(".", "_"))
    try:
        async with asyncio.timeout(timeout):
            said = await run(trial, answer)
        return CheckResult(found.id, "passed", trial.step, found.steps, said)
    except NotYet as not_yet:
        return CheckResult(found.id, "failed", max(trial.step, 1), found.steps, not_yet.said, not_yet.hint)
    except TimeoutError:
        return CheckResult(found.id, "failed", trial.step + 1, found.steps, f"the check stopped after {timeout:.0f} s",
                           "a loop that keeps waiting? (a real model takes seconds per call: run it again)")
    except Stopped as stop:
        return CheckResult(found.id, "failed", trial.step + 1, found.steps, f"the check stopped: {stop}",
                           "look for a loop that never ends")
    except _NOT_YOURS as exc:  # the check's own model call: the endpoint's fault
        failure = trial.failure(exc, "")
        return CheckResult(found.id, "failed", trial.step + 1, found.steps, failure.said, failure.hint)
    except Exception as exc:  # noqa: BLE001 (a bug of the check's: still a line, not a traceback)
        return CheckResult(found.id, "failed", trial.step + 1, found.steps,
                           f"the check itself failed: {type(exc).__name__}: {_first_line(exc)}",
                           "not your code: a bug in locus_nb's check; please report it with this line")
    finally:
        await trial.close()


class _Pending:
    """`check(…)` before it is awaited; shown un-awaited, it says what is missing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def __await__(self) -> Any:
        return self._run().__await__()

    async def _run(self) -> None:
        try:
            result = await evaluate(*self.args, **self.kwargs)
        except KeyboardInterrupt:
            print(f"{FAILED} the check was interrupted (the kernel's stop button): run the cell again")
            return
        print("\n".join(result.lines()))

    def __repr__(self) -> str:
        return "the check did not run: write `await check(…)`"


def check(exercise: str, answer: Any, connection: Any, *, timeout: float = DEADLINE) -> Any:
    """Check an exercise: `await check("01.1", converse, conn)` prints ✓ or ✗ with a hint; returns None."""
    return _Pending(exercise, answer, connection, timeout=timeout)
