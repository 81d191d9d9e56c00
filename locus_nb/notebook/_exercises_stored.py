"""The checks of lesson 02's exercises (the server keeps the thread: a stored chain, a conversation). See `_exercises`.

Both need stored state, so on a `store=False` connection they run nothing and say so (`Exercise.stored`): a
stateless version would be lesson 01's exercise again, and a ZDR tenancy refuses stored state anyway. Each looks
at what went on the wire (`previous_response_id`, `conversation`, how many input items, which requests) and at
whether a reply names a fact, case-insensitively — never at wording, so a real model passes too.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from .._messages import Message, ModelResponse
from ._exercises import Trial
from ._exercises_stateless import _described
from ._learner_code import Stopped

SYSTEM = "You remember user-shared facts and recall them on demand."
FACTS = ("My favorite color is purple. Just acknowledge.", "My city is Lisbon. Just acknowledge.")
ASK_CITY, ASK_COLOR = "What is my city?", "What is my favorite color?"
COLOR, CITY = "purple", "lisbon"


def _is_async(t: Trial, fn: Any, name: str, signature: str) -> None:
    t.require(inspect.iscoroutinefunction(fn), f"`{name}` is not an `async def` function" if callable(fn) else
              f"`{name}` is a {type(fn).__name__}, not a function",
              f"define it with `async def {signature}:` — the model's calls must be awaited inside it")


def _responses(t: Trial, since: int = 0) -> list[dict[str, Any]]:
    """The bodies of the Responses calls the check's model sent (from the `since`-th request on)."""
    return [r.body for r in t.sent[since:] if r.method == "POST" and r.url.rstrip("/").endswith("/responses")]


def _input_roles(body: dict[str, Any]) -> list[str]:
    return [item.get("role", item.get("type", "")) for item in body.get("input", ())]


# -- 02.1 -----------------------------------------------------------------------------------------


async def _stored_chain(t: Trial) -> tuple[Any, list[ModelResponse]]:
    """Two turns on a stored chain, one fact each: the replies of turn 1 and turn 2."""
    model = t.model()  # the connection's store=True (`Exercise.stored`)
    history, replies, state = [Message.system(SYSTEM)], [], None
    for fact in FACTS:
        history.append(Message.user(fact))
        reply = await model.complete(history, state)
        history.append(reply.message)
        replies.append(reply)
        state = reply.provider_state
    return model, replies


async def check_02_1(t: Trial, fork: Any) -> str:
    _is_async(t, fork, "fork", "fork(model, replies, n, question)")
    model, replies = await _stored_chain(t)
    ids = [r.response_id for r in replies]
    before = len(t.sent)
    text = await t.run(fork, model, list(replies), 1, ASK_CITY, call=f"fork(model, replies, 1, {ASK_CITY!r})")
    t.require(isinstance(text, str), f"`fork` returned {_described(text)}",
              "`return reply.text`, the new reply's text" if isinstance(text, ModelResponse) else "`return` the "
              "new reply's text")
    sent = _responses(t, before)
    t.require(len(sent) == 1, f"`fork` sent {len(sent)} request(s) through the model the check gave it",
              "call `await model.complete(messages, state)` once, with the `model` argument")
    named = sent[0].get("previous_response_id")
    t.require(named == ids[0], f"forking at turn 1, the request named {_which(named, ids)}", _state_hint(named, ids))
    roles = _input_roles(sent[0])
    t.require(roles == ["user"], f"the request carried {len(roles)} input item(s) ({', '.join(roles)})",
              "send only the new question, `[Message.user(question)]`: the server has the turns up to n, and "
              "sends them to the model itself")
    before = len(t.sent)
    text2 = await t.run(fork, model, list(replies), 2, ASK_CITY, call=f"fork(model, replies, 2, {ASK_CITY!r})")
    named2 = [b.get("previous_response_id") for b in _responses(t, before)]
    t.require(named2 == [ids[1]], f"forking at turn 2, the request named {_which(named2[-1] if named2 else None, ids)}",
              "use `n`: turn n's reply is `replies[n - 1]` (turns count from 1, lists from 0)")
    t.require(CITY not in text.lower() and isinstance(text2, str) and CITY in text2.lower(),
              f"from turn 1 the model said {text!r}, from turn 2 {text2!r}; only turn 2 told it the city",
              "send the question alone, with `replies[n - 1].provider_state`: the branch then knows exactly the turns "
              "up to n")
    return f"the branch from turn 1 did not know the city ({text!r}); the one from turn 2 did — one stored chain, " \
           "two branches"


def _which(named: Any, ids: list[str]) -> str:
    if named is None:
        return "no stored response (no `previous_response_id`)"
    return {ids[0]: "turn 1's response", ids[1]: "turn 2's response (the latest)"}.get(named, f"{named!r}")


def _state_hint(named: Any, ids: list[str]) -> str:
    if named is None:
        return "pass turn n's `provider_state` as the second argument: `model.complete(messages, " \
               "replies[n - 1].provider_state)`"
    if named == ids[1]:
        return "fork from turn n, not from the latest: turn n's reply is `replies[n - 1]` (turns count from 1)"
    return "the state to go on from is turn n's reply's: `replies[n - 1].provider_state`"


# -- 02.2 -----------------------------------------------------------------------------------------

QUESTIONS = (*FACTS, ASK_COLOR)


def _conversations(t: Trial, method: str) -> list[str]:
    """The conversation URLs the check's model sent `method` to (`POST …/conversations`, `DELETE …/conv_…`)."""
    return [r.url for r in t.sent if r.method == method and "/conversations" in r.url]


async def check_02_2(t: Trial, on_conversation: Any) -> str:
    _is_async(t, on_conversation, "on_conversation", "on_conversation(model, questions)")
    model = t.model()
    created = _remembering(model)
    try:
        replies = await t.run(on_conversation, model, list(QUESTIONS), call="on_conversation(model, questions)")
        return await _thread_held(t, replies)
    finally:
        await _clean_up(t, model, created)


def _remembering(model: Any) -> list[str]:
    """The ids of the conversations `model.create_conversation` makes from now on (the check deletes any left)."""
    created: list[str] = []
    make = model.create_conversation

    @functools.wraps(make)
    async def create_conversation(*args: Any, **kwargs: Any) -> Any:
        conversation = await make(*args, **kwargs)
        created.append(conversation.id)
        return conversation
    model.create_conversation = create_conversation
    return created


async def _thread_held(t: Trial, replies: Any) -> str:
    t.require(isinstance(replies, list) and len(replies) == len(QUESTIONS),
              f"`on_conversation` returned {_described(replies)}; the check sent {len(QUESTIONS)} questions",
              "collect one reply per question in a list, and `return` that list after the loop")
    t.require(all(isinstance(r, str) for r in replies), "the replies are not all text",
              "append `reply.text` (the reply's text), not the reply")
    created, turns = _conversations(t, "POST"), _responses(t)
    t.require(len(created) == 1, f"{len(created)} conversations were created" if created else
              "no conversation was created", "create one with `conv = await model.create_conversation()` before the "
              "loop: the whole thread goes on it" if not created else "create the conversation once, before the loop")
    conv = turns[0].get("conversation") if turns else None
    off = next((n for n, b in enumerate(turns, 1) if b.get("conversation") != conv or conv is None
                or "previous_response_id" in b), None)
    t.require(off is None and len(turns) == len(QUESTIONS),
              f"turn {off} did not run on the conversation" if off else f"{len(turns)} turns for {len(QUESTIONS)} "
              "questions", "pass the conversation's `provider_state` to every turn: `model.complete(messages, "
              "conv.provider_state)`" if off else "one `model.complete(…)` per question")
    extra = next((n for n, b in enumerate(turns, 1) if _input_roles(b) != ["user"]), None)
    t.require(extra is None, f"turn {extra} sent {len(turns[extra - 1]['input']) if extra else 0} input items",
              "send only the new question: the conversation already holds every earlier turn (a message sent twice "
              "is in it twice)")
    t.require(COLOR in replies[-1].lower(), f"asked {ASK_COLOR!r}, the model said {replies[-1]!r}",
              "every turn on the same conversation: the model reads the earlier ones from it")
    t.require(any(conv in url for url in _conversations(t, "DELETE")), "the conversation was not deleted",
              "delete it when the thread is done, `await model.delete_conversation(conv)`: until then the server keeps "
              "every turn")
    return f"{len(turns)} turns on one conversation, each sending only its question; the model recalled the color " \
           "and the conversation was deleted"


async def _clean_up(t: Trial, model: Any, created: list[str]) -> None:
    """Delete what the learner's code created and left, even when it raised (the server would keep it)."""
    deleted = " ".join(_conversations(t, "DELETE"))
    for conv in created:
        if conv not in deleted:
            try:
                await model.delete_conversation(conv)
            except (Exception, Stopped):  # gone already, or the endpoint failed: the check's verdict stands
                pass
