"""The checks of lesson 01's exercises (stateless: you carry the conversation). See `_exercises`.

Each looks at structure and behaviour a real model shares with the mock: how many requests went out and
which messages each carried; whether a reply names a fact, case-insensitively — never exact wording.
"""

from __future__ import annotations

import inspect
from typing import Any

from .._messages import Message, ModelResponse
from ._exercises import Trial

SYSTEM = "You remember user-shared facts and recall them on demand."
TURNS = ("My favorite color is purple.", "My city is Lisbon.", "What is my favorite color?", "What is my city?")
COLOR, CITY = "purple", "lisbon"


def _roles(body: dict[str, Any]) -> list[str]:
    """The roles of a request's input messages, in order (`user`, `assistant`)."""
    return [item.get("role", "") for item in body.get("input", ()) if item.get("type", "message") == "message"]


async def check_01_1(t: Trial, converse: Any) -> str:
    t.require(inspect.iscoroutinefunction(converse), "`converse` is not an `async def` function"
              if callable(converse) else f"`converse` is a {type(converse).__name__}, not a function",
              "define it with `async def converse(model, turns):` — `model.complete` must be awaited inside it")
    model = t.model(store=False)  # the lesson's mode, whatever the store parameter says
    replies = await t.run(converse, model, list(TURNS), call="converse(model, turns)")
    t.require(isinstance(replies, list) and len(replies) == len(TURNS),
              f"`converse` returned {_described(replies)}; the check sent {len(TURNS)} turns",
              "collect one reply per turn in a list, and `return` that list after the loop")
    t.require(all(isinstance(r, str) for r in replies),
              f"the replies are {_types(replies)}, not text", "append `reply.text` (the reply's text), not the reply")
    bodies = [r.body for r in t.sent]
    t.require(len(bodies) == len(TURNS),
              f"{len(TURNS)} turns sent {len(bodies)} request(s) through the model the check gave `converse`",
              "call `await model.complete(history)` once per turn, with the `model` argument")
    for n, body in enumerate(bodies, start=1):
        roles = _roles(body)
        if roles != ["user", "assistant"] * (n - 1) + ["user"]:
            t.require(False, f"request {n} carried {_carried(roles)}; the conversation so far is your {n} "
                      f"message(s) and the model's {n - 1} repl{'y' if n == 2 else 'ies'}", _history_hint(roles, n))
    t.step += 1  # the check above, passed for every request
    recalled = [COLOR in replies[2].lower(), CITY in replies[3].lower()]
    t.require(all(recalled), f"the model did not recall {'the color' if not recalled[0] else 'the city'}: "
              f"{replies[2 if not recalled[0] else 3]!r}",
              "each request must carry both facts: check the order of `history` (oldest first)")
    return f"every request carried the whole conversation (the last: {len(bodies[-1]['input'])} items), and " \
           "the model recalled both facts"


def _described(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "None (no `return`?)" if value is None else f"a {type(value).__name__}"


def _types(replies: list[Any]) -> str:
    kinds = {type(r).__name__ for r in replies if not isinstance(r, str)}
    return " and ".join(sorted(kinds)) + " objects"


def _carried(roles: list[str]) -> str:
    users, assistants = roles.count("user"), roles.count("assistant")
    return f"{users} message(s) of yours and {assistants} of the model's"


def _history_hint(roles: list[str], n: int) -> str:
    if roles.count("user") < n:
        return "the model sees only what you send: add each turn to `history` and send the whole list every time"
    if roles.count("assistant") < n - 1:
        return "append the model's reply too (`history.append(reply.message)`): every turn sends the full " \
               "history, including the model's own replies"
    return "each message once, oldest first: did you append a message twice?"


# -- 01.2 -----------------------------------------------------------------------------------------


async def _conversation(t: Trial) -> tuple[Any, list[Message]]:
    """Two facts, each in its own turn: [system, user, assistant, user, assistant]."""
    model = t.model(store=False)
    history = [Message.system(SYSTEM)]
    for turn in TURNS[:2]:
        history.append(Message.user(turn))
        reply: ModelResponse = await model.complete(history)
        history.append(reply.message)
    return model, history


async def check_01_2(t: Trial, without_turn: Any) -> str:
    t.require(callable(without_turn), f"`without_turn` is a {type(without_turn).__name__}, not a function",
              "define it with `def without_turn(history, n):`")
    model, history = await _conversation(t)
    given = list(history)
    kept = await t.run(without_turn, given, 1, call="without_turn(history, 1)")
    t.require(isinstance(kept, list) and given == history,
              "it changed the history it was given" if given != history else f"it returned {_described(kept)}",
              "build and return a new list (slices like `history[:1]` copy); `pop`, `del` and `remove` change "
              "the list in place, and a caller may still need it" if given != history else
              "`return` the new list")
    t.require(kept == [history[0], *history[3:]], _shape(kept, history, 1), _shape_hint(kept, history, 1))
    kept2 = await t.run(without_turn, list(history), 2, call="without_turn(history, 2)")
    t.require(kept2 == history[:3], f"for turn 2, {_shape(kept2, history, 2)}", _shape_hint(kept2, history, 2))
    color = await model.complete([*kept, Message.user(TURNS[2])])
    city = await model.complete([*kept, Message.user(TURNS[3])])
    t.require(COLOR not in color.text.lower() and CITY in city.text.lower(),
              f"without turn 1 the model said {color.text!r} about the color and {city.text!r} about the city",
              "send exactly the list `without_turn` returns")
    return f"without turn 1 the model no longer knew the color ({color.text!r}) but still knew the city"


def _shape(kept: Any, history: list[Message], n: int) -> str:
    if not isinstance(kept, list):
        return f"it returned {_described(kept)}"
    roles = ", ".join(m.role if isinstance(m, Message) else type(m).__name__ for m in kept)
    return f"it returned [{roles}] from [system, user, assistant, user, assistant] without turn {n}"


def _shape_hint(kept: Any, history: list[Message], n: int) -> str:
    if not isinstance(kept, list) or not kept or kept[0] != history[0]:
        return "keep the system message first: it becomes the request's instructions"
    if n == 1 and kept == history[:3]:
        return "turns count from 1: turn 1 is your first message and the reply to it, history[1] and history[2]"
    if n == 2 and kept == [history[0], *history[3:]]:
        return "it drops turn 1 whatever `n` is: turn n is history[2*n - 1] and history[2*n]"
    if len(kept) == len(history) - 1:
        return "a turn is two messages, your message and the model's reply: drop both (the reply repeats the " \
               "fact: \"Got it: your favorite color is purple.\")"
    return "turn n is history[2*n - 1] and history[2*n] (after the system message): keep everything else, in order"
