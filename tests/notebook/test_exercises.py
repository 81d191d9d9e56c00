"""The lessons' exercises, run as a learner runs them: each exercise cell's code (the notebook's starter code,
its solution, or a mistake a learner makes) executed like a kernel cell against the mock on loopback, and
what the check prints read back. The solution passes, the starter code gets its "not yet", each typical
mistake its own hint, code that raises or never ends a hint too — never a traceback into locus_nb."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import itertools
import re
import signal
import time
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

import locus_nb
from locus_nb.notebook._editions import instructor_edition, solution_code
from locus_nb.notebook._exercises import EXERCISES, evaluate, parse_status
from locus_nb.notebook._learner_code import TODO
from locus_nb.notebook._settings import Connection

from ..conftest import COMPARTMENT

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
LESSONS = {"01": NOTEBOOKS / "01_stateless.ipynb", "02": NOTEBOOKS / "02_stored.ipynb",
           "03": NOTEBOOKS / "03_tool_roundtrip.ipynb", "04": NOTEBOOKS / "04_streaming.ipynb"}
_cells = itertools.count(1)


def _exercise_cells(lesson: str) -> dict[str, tuple[str, str]]:
    """exercise id → (starter code, solution code), as the lesson's notebook has them."""
    nb = nbformat.read(LESSONS[lesson], as_version=4)
    found, pending = {}, None
    for cell in nb.cells:
        if "exercise" in cell.metadata.get("tags", []):
            pending = (re.search(r'check\("(\d\d\.\d)"', cell.source).group(1), cell.source)
        elif "solution" in cell.metadata.get("tags", []) and pending:
            found[pending[0]] = (pending[1], solution_code(cell.source))
            pending = None
    return found


CELLS = {k: v for lesson in LESSONS for k, v in _exercise_cells(lesson).items()}


@pytest.fixture
def conn(mock_server):
    return Connection(target="endpoint", region="us-chicago-1", store=False, model_id="openai.gpt-4.1",
                      compartment=COMPARTMENT, endpoint=mock_server.base_url)


def on(conn, exercise):
    """The connection a lesson gives its exercise: 02 runs with store=True (its default on the mock)."""
    return replace(conn, store=True) if EXERCISES[exercise].stored else conn


def run_cell(source: str, conn, capsys, **names) -> str:
    """Run `source` as a kernel runs a cell (top-level await; its own file name, `<cell-N>`), in a namespace
    like the lesson's after its setup cell; return what it printed."""
    namespace = {name: getattr(locus_nb, name) for name in locus_nb.__all__} | {"TODO": TODO, "conn": conn}
    namespace |= {"re": re, "aclosing": contextlib.aclosing}  # lesson 04's setup cell imports them
    namespace.update(names)
    code = compile(source, f"<cell-{next(_cells)}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # noqa: S307 (the test's own cell)
    if asyncio.iscoroutine(result):
        asyncio.run(result)
    return capsys.readouterr().out


def _status(out: str) -> tuple[str, str, int, int]:
    statuses = [s for s in map(parse_status, out.splitlines()) if s]
    assert len(statuses) == 1, out
    assert "Traceback" not in out and "locus_nb/" not in out, out
    return statuses[0]


def test_every_exercise_of_the_lessons_has_starter_code_a_solution_and_a_check():
    assert sorted(CELLS) == sorted(EXERCISES) == ["01.1", "01.2", "02.1", "02.2", "03.1", "03.2",
                                                    "04.1", "04.2"]
    for exercise, (stub, solution) in CELLS.items():
        assert f'await check("{exercise}", ' in stub and f'await check("{exercise}", ' in solution
        assert "TODO" in stub and "TODO" not in solution
        compile(solution, "<solution>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize("exercise", sorted(CELLS))
def test_the_solution_passes_every_check(exercise, conn, capsys):
    out = run_cell(CELLS[exercise][1], on(conn, exercise), capsys)
    assert _status(out) == (exercise, "passed", EXERCISES[exercise].steps, EXERCISES[exercise].steps), out
    assert out.startswith(f"✓ {exercise} {EXERCISES[exercise].title} — all {EXERCISES[exercise].steps} checks pass: ")


@pytest.mark.parametrize("exercise", sorted(CELLS))
def test_the_untouched_starter_code_says_not_yet_and_sends_nothing(exercise, conn, capsys, mock_server):
    before = len(mock_server.requests)
    out = run_cell(CELLS[exercise][0], on(conn, exercise), capsys)
    assert _status(out)[:2] == (exercise, "todo")
    assert re.search(r"still has a TODO \(line \d+ of its cell\)", out), out
    assert f"  hint: {EXERCISES[exercise].start}" in out
    assert len(mock_server.requests) == before


def test_the_check_counts_its_steps_as_the_registry_says(conn):
    """A passing check makes exactly as many checks as its ✗ lines count ("check k of N")."""
    for exercise, (_, solution) in CELLS.items():
        namespace = {name: getattr(locus_nb, name) for name in locus_nb.__all__} | {"conn": conn, "re": re,
                                                                                  "aclosing": contextlib.aclosing}
        exec(compile(solution.replace(f'await check("{exercise}", ', "answer = ("), "<cell>", "exec"), namespace)
        result = asyncio.run(evaluate(exercise, namespace["answer"][0], on(conn, exercise)))
        assert result.passed and result.step == result.steps == EXERCISES[exercise].steps, result


# Mistakes a learner makes, as they would write them: (exercise, the cell, the check that fails, what the ✗ line
# says, what the hint says). Each is a different first thing wrong.
CONVERSE = '''async def converse(model, turns):
    history = [Message.system("You remember user-shared facts and recall them on demand.")]
    replies = []
    for turn in turns:
{body}
    return replies


await check("01.1", converse, conn)'''
TOOL = '''RATES = {{"Japan": ("JPY", 160.0), "Norway": ("NOK", 11.5), "Switzerland": ("CHF", 0.95)}}

{decorator}
def convert_currency({params}):
    """{doc}

    Args:
        amount: How many euros, e.g. 20.
        country: The country's name in English, e.g. "Japan".
    """
    {body}


await check("03.1", convert_currency, conn)'''
RATE = '''RATES = {{"Japan": ("JPY", 160.0), "Norway": ("NOK", 11.5), "Switzerland": ("CHF", 0.95)}}


@tool
def exchange_rate(country: str) -> str:
    """How many units of a country's currency one euro buys.

    Args:
        country: The country's name in English, e.g. "Japan".
    """
{body}
    code, rate = RATES[country]
    return f"1 euro buys {{rate}} {{code}}."


await check("03.2", exchange_rate, conn)'''
FORK = '''async def fork(model, replies, n, question):
    """Ask `question` on a branch of the stored conversation that goes on from turn `n`; return the reply's text."""
{body}


await check("02.1", fork, conn)'''
ON_CONVERSATION = '''async def on_conversation(model, questions):
    """Ask each question on a new conversation, sending only the new message; delete it; return the replies' texts."""
    replies = []
{body}
    return replies


await check("02.2", on_conversation, conn)'''
SENTENCE = '''async def first_sentence(model, messages):
    text = ""
{body}


await check("04.1", first_sentence, conn)'''
TTFT = '''import time


async def time_to_first_token(model, messages):
    start = time.perf_counter()
    first, chunks = None, []
{body}


await check("04.2", time_to_first_token, conn)'''
LOOP = "    async for event in model.stream(messages):\n        if event.content:\n"
TURN = "        reply = await model.complete([Message.user(question)], conv.provider_state)\n"
NEW_CONV = "    conv = await model.create_conversation()\n"
ON_IT = NEW_CONV + "    for question in questions:\n"
DELETE = "\n    await model.delete_conversation(conv)"
GOOD_TOOL = dict(decorator="@tool", params="amount: float, country: str",
                 doc="Convert an amount of euros into the currency of a country.",
                 body='code, rate = RATES[country]\n    return f"{amount} euros is {amount * rate:.2f} {code}."')

MISTAKES = [
    ("01.1", CONVERSE.replace("async def", "def").format(body="        replies.append(model.complete(turn))"), 1,
     "not an `async def` function", "async def converse"),
    ("01.1", CONVERSE.format(body="        reply = await model.complete([Message.user(turn)])\n"
                                   "        replies.append(reply.text)"), 5,
     "request 2 carried 1 message(s) of yours and 0 of the model's", "the model sees only what you send"),
    ("01.1", CONVERSE.format(body="        history.append(Message.user(turn))\n"
                                   "        reply = await model.complete(history)\n"
                                   "        replies.append(reply.text)"), 5,
     "request 2 carried 2 message(s) of yours and 0 of the model's", "history.append(reply.message)"),
    ("01.1", CONVERSE.format(body="        history.append(Message.user(turn))\n"
                                   "        reply = await model.complete(history)\n"
                                   "        history.append(reply.message)\n"
                                   "        replies.append(reply)"), 3,
     "the replies are ModelResponse objects, not text", "reply.text"),
    ("01.1", CONVERSE.replace("    return replies\n", "").format(
        body="        history.append(Message.user(turn))\n        reply = await model.complete(history)\n"
             "        history.append(reply.message)\n        replies.append(reply.text)"), 2,
     "`converse` returned None (no `return`?)", "`return` that list"),
    ("01.2", "def without_turn(history, n):\n    del history[2 * n - 1 : 2 * n + 1]\n    return history\n\n\n"
             'await check("01.2", without_turn, conn)', 2, "it changed the history it was given", "in place"),
    ("01.2", "def without_turn(history, n):\n    return history[: 2 * n - 1] + history[2 * n :]\n\n\n"
             'await check("01.2", without_turn, conn)', 3,
     "it returned [system, assistant, user, assistant]", "a turn is two messages"),
    ("01.2", "def without_turn(history, n):\n    return history[: 2 * n + 1] + history[2 * n + 3 :]\n\n\n"
             'await check("01.2", without_turn, conn)', 3, "it returned [system, user, assistant]",
     "turns count from 1"),
    ("01.2", "def without_turn(history, n):\n    return [history[0]] + history[3:]\n\n\n"
             'await check("01.2", without_turn, conn)', 4, "for turn 2, it returned", "history[2*n - 1]"),
    ("01.2", "def without_turn(history, n):\n    return history[2 * n + 1 :]\n\n\n"
             'await check("01.2", without_turn, conn)', 3, "it returned [user, assistant]",
     "keep the system message first"),
    ("02.1", FORK.replace("async def", "def").format(
        body="    return model.complete([Message.user(question)], replies[n - 1].provider_state)"), 1,
     "`fork` is not an `async def` function", "async def fork(model, replies, n, question)"),
    ("02.1", FORK.format(body="    return await model.complete([Message.user(question)], replies[n - 1].provider_state)"),
     2, "`fork` returned a ModelResponse", "`return reply.text`"),
    ("02.1", FORK.format(body="    reply = await model.complete([Message.user(question)])\n    return reply.text"), 4,
     "forking at turn 1, the request named no stored response", "pass turn n's `provider_state`"),
    ("02.1", FORK.format(body="    reply = await model.complete([Message.user(question)], replies[-1].provider_state)\n"
                              "    return reply.text"), 4,
     "forking at turn 1, the request named turn 2's response (the latest)", "not from the latest"),
    ("02.1", FORK.format(body="    reply = await model.complete([Message.user(question)], replies[n].provider_state)\n"
                              "    return reply.text"), 4, "the request named turn 2's response", "`replies[n - 1]`"),
    ("02.1", FORK.format(body="    reply = await model.complete([Message.user(question)], replies[0].provider_state)\n"
                              "    return reply.text"), 6, "forking at turn 2, the request named turn 1's response",
     "use `n`"),
    ("02.2", ON_CONVERSATION.format(body=ON_IT + "        reply = await model.complete([Message.user(question)])\n"
                                         "        replies.append(reply.text)" + DELETE),
     5, "turn 1 did not run on the conversation", "pass the conversation's `provider_state` to every turn"),
    ("02.2", ON_CONVERSATION.format(body="    for question in questions:\n    " + NEW_CONV + TURN +
                                         "        replies.append(reply.text)" + DELETE.replace("\n", "\n    ")),
     4, "3 conversations were created", "create the conversation once, before the loop"),
    ("02.2", ON_CONVERSATION.format(body=ON_IT + TURN + "        replies.append(reply.text)"), 8, "the conversation was not deleted", "`await model.delete_conversation(conv)`"),
    ("02.2", ON_CONVERSATION.format(body="    history = []\n" + ON_IT + "        history.append(Message.user(question))\n"
                                         "        reply = await model.complete(history, conv.provider_state)\n"
                                         "        replies.append(reply.text)" + DELETE),
     6, "turn 2 sent 2 input items", "send only the new question"),
    ("02.2", ON_CONVERSATION.format(body=ON_IT + TURN + "        replies.append(reply)" + DELETE),
     3, "the replies are not all text", "reply.text"),
    ("04.1", SENTENCE.format(body="    async for event in model.stream(messages):\n        text += event.content or ''\n"
                                   "        if re.search(r'[.!?]', text):\n            break\n    return text"), 6,
     "the stream was still open when `first_sentence` returned", "async with aclosing(model.stream(messages))"),
    ("04.1", SENTENCE.format(body="    async for event in model.stream(messages):\n        text += event.content or ''\n"
                                   "    return text.split('.')[0] + '.'"), 5, "the loop read the whole answer",
     "leave the loop"),
    ("04.1", SENTENCE.format(body="    async with aclosing(model.stream(messages)) as events:\n"
                                   "        async for event in events:\n            text += event.content or ''\n"
                                   "            if re.search(r'[.!?]\\s', text):\n                break\n    return text"), 7,
     "the first sentence of what arrived is", "cut what came after it"),
    ("04.1", SENTENCE.format(body="    async with aclosing(model.stream(messages)) as events:\n"
                                   "        async for event in events:\n            text += event.content or ''\n"
                                   "            if re.search(r'[.!?]', text):\n                break"), 2,
     "`first_sentence` returned None (no `return`?)", "`return` the sentence's text"),
    ("04.2", TTFT.format(body=LOOP + "            chunks.append(event.content)\n"
                              "    return time.perf_counter() - start, ''.join(chunks)"), 6,
     "the first text came", "inside the loop: after the loop it is the time of the whole answer"),
    ("04.2", TTFT.format(body=LOOP + "            if first is None:\n                start = time.perf_counter()\n"
                              "                first = time.perf_counter() - start\n"
                              "            chunks.append(event.content)\n    return first, ''.join(chunks)"), 5,
     "the first text came", "start the clock before the stream starts"),
    ("04.2", TTFT.format(body=LOOP + "            if first is None:\n"
                              "                first = (time.perf_counter() - start) * 1000\n"
                              "            chunks.append(event.content)\n    return first, ''.join(chunks)"), 6,
     "the first text came", "seconds, not milliseconds"),
    ("04.2", TTFT.format(body=LOOP + "            if first is None:\n                first = time.perf_counter() - start\n"
                              "            chunks.append(event.content)\n    return first, chunks[0]"), 4,
     "it returned 1 characters of text", "join them"),
    ("04.2", TTFT.format(body=LOOP + "            if first is None:\n                first = time.perf_counter() - start\n"
                              "            chunks.append(event.content)\n    return first"), 2,
     "returned a float", "`return first, text`"),
    ("03.1", TOOL.format(**GOOD_TOOL | {"decorator": ""}), 1, "`convert_currency` is a plain function, not a tool",
     "put `@tool` on the line above `def`"),
    ("03.1", TOOL.format(**GOOD_TOOL | {"params": "amount, country"}), 3, "`amount` has no type hint",
     "amount: float, country: str"),
    ("03.1", TOOL.format(**GOOD_TOOL | {"doc": "TODO: what it does."}), 2,
     "its description (the docstring's first line) still says TODO", "the model reads that"),
    ("03.1", TOOL.format(**GOOD_TOOL | {"body": "code, rate = RATES[country]\n    print(amount * rate, code)"}), 4,
     "convert_currency(20, 'Norway') returned None", "a tool's return value is what the model reads"),
    ("03.1", TOOL.format(**GOOD_TOOL | {"body": 'code, rate = RATES[country]\n    return f"{amount / rate} {code}"'}),
     4, "returned '1.7391304347826086 NOK'", "multiply the amount by the rate"),
    ("03.2", RATE.format(body="    if country not in RATES:\n        return \"unknown country\""), 4,
     "exchange_rate('Brazil') returned 'unknown country'", "`raise` an error"),
    ("03.2", RATE.format(body="    if country not in RATES:\n        raise ValueError(\"unknown country\")"), 5,
     "the error says 'unknown country'", "which country failed and which ones you know"),
    ("03.2", RATE.format(body="    if country not in RATES:\n        raise ValueError(country)"), 5,
     "the error says 'Brazil'", "which ones you know"),
    ("03.2", RATE.format(body="    country = \"Japan\""), 4, "exchange_rate('Brazil') returned '1 euro buys 160.0 JPY.'",
     "`raise` an error"),
]


@pytest.mark.parametrize(("exercise", "cell", "step", "said", "hint"), MISTAKES,
                         ids=[f"{m[0]}-{n}" for n, m in enumerate(MISTAKES)])
def test_a_typical_mistake_gets_its_own_hint(exercise, cell, step, said, hint, conn, capsys):
    out = run_cell(cell, on(conn, exercise), capsys)
    found, status, at, steps = _status(out)
    assert (found, status, at, steps) == (exercise, "failed", step, EXERCISES[exercise].steps), out
    lines = out.splitlines()  # (what the learner's own code printed comes first)
    at = next(n for n, line in enumerate(lines) if parse_status(line))
    assert said in lines[at], out
    assert lines[at + 1].startswith("  hint: ") and hint in lines[at + 1], out


@pytest.mark.parametrize("exercise", ["02.1", "02.2"])
def test_with_store_false_an_exercise_on_stored_state_says_it_needs_store_true_and_sends_nothing(
        exercise, conn, capsys, mock_server):
    """Not the learner's doing: neither ✓ nor ✗ (a run and `locus-nb progress` read it as not run), no hint."""
    before = len(mock_server.requests)
    for cell in CELLS[exercise]:  # the starter code and the solution alike
        out = run_cell(cell, conn, capsys)
        assert out.startswith(f"– {exercise} {EXERCISES[exercise].title} — needs store=True: this notebook runs "
                              "with store=False"), out
        assert "-p store True" in out and "hint" not in out and len(out.splitlines()) == 1, out
        assert parse_status(out.splitlines()[0]) is None
    assert len(mock_server.requests) == before


@pytest.mark.parametrize(("body", "step"), [
    (ON_IT + TURN + "        replies.append(reply.text)", 8),  # never deleted
    (ON_IT + "        reply = await model.complete([Message.user(question)], conv.id)", 2),  # raised: a str is no state
], ids=["left", "raised"])
def test_02_2_deletes_a_conversation_the_learner_left(body, step, conn, mock_server):
    """The check cleans up after a learner who did not delete theirs, or whose code raised after creating it."""
    cell = ON_CONVERSATION.format(body=body)
    namespace = {name: getattr(locus_nb, name) for name in locus_nb.__all__} | {"conn": conn}
    exec(compile(cell.replace('await check("02.2", on_conversation, conn)', ""), "<cell>", "exec"), namespace)
    before = len(mock_server.requests)
    result = asyncio.run(evaluate("02.2", namespace["on_conversation"], on(conn, "02.2")))
    assert (result.status, result.step) == ("failed", step), result
    sent = mock_server.requests[before:]
    made = [r for r in sent if r["method"] == "POST" and r["path"].endswith("/conversations")]
    deletes = [r for r in sent if r["method"] == "DELETE"]
    assert len(made) == len(deletes) == 1 and deletes[0]["path"].startswith(made[0]["path"] + "/conv_"), sent


def test_a_tool_error_that_only_names_the_key_is_not_yet_an_explanation(conn, capsys):
    """RATES[country] for an unknown country raises KeyError('Brazil'): an error, so check 4 passes; check 5
    asks for a message the model can explain."""
    out = run_cell(RATE.format(body=""), conn, capsys)
    assert _status(out)[2] == 5 and "the error says \"'Brazil'\"" in out, out


# Learner code that raises, or never ends: a hint naming the line of the learner's cell, no traceback.
RAISES = [
    ("01.1", CONVERSE.format(body="        histroy.append(Message.user(turn))"), "raised NameError: name 'histroy' "
     "is not defined (line 5 of its cell)"),
    ("01.1", CONVERSE.format(body="        reply = await model.complete(turn)"), "raised ConfigError"),
    ("01.2", "def without_turn(history):\n    return history[3:]\n\n\n" 'await check("01.2", without_turn, conn)',
     "raised TypeError: without_turn() takes 1 positional argument but 2 were given"),
    ("02.2", ON_CONVERSATION.format(body=ON_IT + "        reply = await model.complete([Message.user(question)], conv.id)"),
     "raised ConfigError: provider_state must be the dict a reply gave (reply.provider_state)"),
    ("04.1", SENTENCE.format(body="    async for event in model.stream(messages):\n        text += event.content\n"
                                   "        if text.endswith('!'):\n            break\n    return text"),
     'raised TypeError: can only concatenate str (not "NoneType") to str (line 4 of its cell)'),
    ("03.1", TOOL.format(**GOOD_TOOL | {"body": "return RATES[country][2]"}),
     "raised IndexError: tuple index out of range (line 11 of its cell)"),
]


@pytest.mark.parametrize(("exercise", "cell", "said"), RAISES, ids=[f"{r[0]}-{n}" for n, r in enumerate(RAISES)])
def test_learner_code_that_raises_gets_a_hint_not_a_traceback(exercise, cell, said, conn, capsys):
    out = run_cell(cell, on(conn, exercise), capsys)
    assert _status(out)[:2] == (exercise, "failed")
    assert said in out and "read the error: it names what went wrong" in out, out


LOOPS = [
    ("01.1", CONVERSE.format(body="        while turn:\n            pass"), "was stopped: it ran 0 s without finishing"),
    ("01.1", CONVERSE.format(body="        history.append(Message.user(turn))\n        while True:\n"
                                   "            try:\n                await model.complete(history)\n"
                                   "            except Exception:\n                pass"), "it sent more than 12 requests"),
    ("03.2", RATE.format(body="    while country not in RATES:\n        try:\n            time.sleep(0.01)\n"
                              "        except Exception:\n            pass"), "was stopped: it ran 0 s"),
    ("04.1", SENTENCE.format(body="    async for event in model.stream(messages):\n        text += event.content or ''\n"
                                   "        while not text.endswith('.'):\n            pass\n    return text"),
     "was stopped: it ran 0 s"),
]


@pytest.mark.parametrize(("exercise", "cell", "said"), LOOPS, ids=[f"{r[0]}-{n}" for n, r in enumerate(LOOPS)])
def test_learner_code_that_never_ends_is_stopped_with_a_hint(exercise, cell, said, conn, capsys):
    """Also through the learner's own `except Exception:`; the timer and the SIGALRM handler are put back."""
    namespace = {name: getattr(locus_nb, name) for name in locus_nb.__all__} | {"conn": conn, "time": time}
    exec(compile(re.sub(r'\n\n\nawait check\("\d\d\.\d", (\w+), conn\)', r"\n\nanswer = \1", cell), "<loop>", "exec"),
         namespace)
    handler = signal.getsignal(signal.SIGALRM)
    start = time.monotonic()
    result = asyncio.run(evaluate(exercise, namespace["answer"], conn, busy=0.4))
    assert time.monotonic() - start < 10
    assert result.status == "failed" and said in result.said and "a loop that never ends" in result.hint, result
    assert signal.getsignal(signal.SIGALRM) is handler and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_slow_model_is_bounded_by_the_checks_deadline(conn):
    async def converse(model, turns):
        await asyncio.sleep(30)

    result = asyncio.run(evaluate("01.1", converse, conn, timeout=0.5))
    assert result.status == "failed" and result.step == 2 and "stopped after 0 s" in result.said, result


def test_a_model_call_that_fails_is_not_the_learners_fault(capsys):
    dead = Connection(target="endpoint", region="us-chicago-1", store=False, model_id="openai.gpt-4.1",
                      compartment=COMPARTMENT, endpoint="http://127.0.0.1:9/openai/v1")
    out = run_cell(CELLS["01.2"][1], dead, capsys)
    assert _status(out)[:2] == ("01.2", "failed")
    assert "a model call failed: ConnectionFailed" in out and "not your code" in out, out


@pytest.mark.parametrize(("cell", "said", "hint"), [
    ('await check("01.9", print, conn)', "there is no exercise '01.9'", "the exercises are 01.1, 01.2, 02.1, 02.2, 03.1"),
    ('async def converse(model, turns): return []\nawait check("01.1", converse, None)',
     "the check needs the lesson's connection", "pass `conn`"),
    ('await check("01.1", "converse", conn)', "`converse` is a str, not a function", "async def converse"),
    ('async def converse(model, turns): return []\nawait check("01.1", converse(None, []), conn)',
     "it was given what a call returned, not the function", "pass the function itself, without parentheses"),
    ('async def converse(model, turns): return []\nawait check(converse, "01.1", conn)',
     "the first argument is the exercise's id", "the exercises are 01.1"),
])
def test_a_check_called_wrongly_says_how_to_call_it(cell, said, hint, conn, capsys):
    out = run_cell(cell, conn, capsys)
    assert said in out and hint in out and "Traceback" not in out, out


def test_a_check_not_awaited_says_so_when_shown(conn):
    assert repr(locus_nb.check("01.1", print, conn)) == "the check did not run: write `await check(…)`"


@pytest.mark.parametrize("line", [
    "✓ 01.1 Two facts, four turns — all 6 checks pass: every request …",
    "✗ 03.2 A tool that fails well — check 5 of 6: the error says 'Brazil'",
    "✗ 01.2 Make the model forget — not yet: `without_turn` still has a TODO (line 3 of its cell)",
])
def test_a_check_line_reads_back_as_it_was_printed(line):
    exercise, status, step, steps = parse_status(line)
    assert (exercise, status) == (line[2:6], {"✓": "passed", "✗": "todo" if "not yet" in line else "failed"}[line[0]])
    assert steps == EXERCISES[exercise].steps and step == {"passed": steps, "todo": 0, "failed": 5}[status]
    assert parse_status("✓ the request grows") is None and parse_status("  hint: ✗ 01.1 x — not yet:") is None


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_the_instructor_edition_runs_each_solution_in_place_of_its_exercise(lesson):
    nb = nbformat.read(LESSONS[lesson], as_version=4)
    edition = instructor_edition(nb)
    exercises = [c for c in edition.cells if "exercise" in c.metadata.get("tags", [])]
    assert [c.source for c in exercises] == [CELLS[e][1] for e in sorted(CELLS) if e.startswith(lesson)]
    assert all(c.outputs == [] and c.execution_count is None for c in exercises)
    assert [c for c in nb.cells if "exercise" in c.metadata.get("tags", [])][0].outputs  # the original is untouched
    assert len(edition.cells) == len(nb.cells)


@pytest.mark.e2e
def test_in_a_real_kernel_a_loop_that_never_ends_gets_a_hint_and_the_kernel_goes_on():
    """nbclient → ipykernel: the sampler interrupts the learner's loop in the kernel's main thread; the next
    cells run, SIGALRM's handler and timer are back as they were, and the next check passes."""
    from nbclient import NotebookClient

    nb = nbformat.read(Path(__file__).parents[1] / "fixtures" / "notebooks" / "exercise_cells.ipynb", as_version=4)
    start = time.monotonic()
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert time.monotonic() - start < 45
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells if c.cell_type == "code"]
    assert all(o.output_type != "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert texts[1].startswith("✗ 01.1 Two facts, four turns — check 2 of 6: `converse(model, turns)` was stopped: "
                               "it ran 3 s without finishing\n  hint: look for a loop that never ends"), texts[1]
    assert texts[2] == "the kernel goes on: 42 True (0.0, 0.0)\n"
    assert texts[3].startswith("✓ 01.2 Make the model forget — all 5 checks pass"), texts[3]


@pytest.mark.e2e
@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_the_instructor_edition_of_a_lesson_runs_and_every_check_passes(lesson):
    """The whole lesson in a kernel against the embedded mock, each exercise cell holding its solution: what an
    instructor run executes, and how CI learns every exercise is solvable on its target."""
    from nbclient import NotebookClient

    edition = instructor_edition(nbformat.read(LESSONS[lesson], as_version=4))
    NotebookClient(edition, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    exercises = [c for c in edition.cells if "exercise" in c.metadata.get("tags", [])]
    printed = ["".join(o.get("text", "") for o in c.outputs) for c in exercises]
    assert [parse_status(p.splitlines()[0])[:2] for p in printed] == [(e, "passed") for e in sorted(CELLS)
                                                                        if e.startswith(lesson)], printed


def test_a_todo_left_in_a_helper_is_named_as_a_todo(conn, capsys):
    cell = ("def message_for(turn):\n    return TODO\n\n\nasync def converse(model, turns):\n    history, replies = [], []\n"
            "    for turn in turns:\n        history.append(message_for(turn))\n        reply = await model.complete(history)\n"
            "        history.append(reply.message)\n        replies.append(reply.text)\n    return replies\n\n\n"
            'await check("01.1", converse, conn)')
    out = run_cell(cell.replace("return TODO", "raise TODO"), conn, capsys)
    assert "check 2 of 6: `converse(model, turns)` reached a TODO (line 2 of its cell)" in out, out  # the `raise TODO`
    assert "hint: replace each TODO with your code" in out
