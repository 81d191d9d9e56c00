"""What the server remembers, and what the model can see on each turn.

Stored responses (`store: true`) chain by `previous_response_id`; `store: false` responses are not
kept. Input items are resolved the way the real endpoint does: an item that needs the server's
memory (an `item_reference`, a reasoning item without `encrypted_content`) must have been stored,
a reasoning item that names its id must come with the item it produced (one replayed without ids,
only `encrypted_content` and `summary`, is read from its content alone), and every function call
must be paired with its output.

Retention is bounded like the real API's (OpenAI keeps stored responses 30 days): a response
expires `ttl` seconds after it was stored, and at most `limit` are kept, the oldest dropped first.
An expired or dropped response is gone: retrieving it gets the real 404, chaining to it the real
400 `previous_response_not_found`, and its items can no longer be referenced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import APIError, bad_request, item_not_found, previous_response_not_found
from ._response_json import Output
from ._sealed import Thought, open_thought

__all__ = ["STORE_LIMIT", "STORE_TTL", "Store", "StoredResponse", "checked_bounds", "context_item", "expire_oldest"]

STORE_TTL = 30 * 24 * 3600.0  # seconds a stored response is kept (OpenAI's retention: 30 days)
STORE_LIMIT = 2_000  # stored responses kept at most (a room of 30 running every lesson needs a few hundred)


@dataclass
class StoredResponse:
    response: dict[str, Any]
    context: list[dict[str, Any]]  # all the model saw and said: the next turn in the chain starts here
    item_ids: list[str] = field(default_factory=list)


def _normalize(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return [dict(item, type=item.get("type", "message")) for item in value]


def context_item(item: Mapping[str, Any], thought: Thought | None) -> dict[str, Any]:
    """An item as the model remembers it: reasoning keeps its thought, not the sealed blob."""
    if item.get("type") != "reasoning":
        return dict(item)
    kept = {k: v for k, v in item.items() if k != "encrypted_content"}
    return {**kept, "thought": thought.text if thought else ""}


def _reasoning_without_follower(item_id: str) -> APIError:
    return bad_request(f"Item '{item_id}' of type 'reasoning' was provided without its required following item.",
                       param="input")


def check_tool_pairs(seen: Sequence[Mapping[str, Any]]) -> None:
    """Every output answers an earlier call; every call gets an output (the real 400s)."""
    calls: list[str] = []
    answered: set[str] = set()
    for item in seen:
        if item["type"] == "function_call":
            calls.append(item["call_id"])
        elif item["type"] == "function_call_output":
            if item["call_id"] not in calls:
                raise bad_request(f"No tool call found for function call output with call_id {item['call_id']}.",
                                  param="input")
            answered.add(item["call_id"])
    for call_id in calls:
        if call_id not in answered:
            raise bad_request(f"No tool output found for function call {call_id}.", param="input")


def checked_bounds(whose: str, what: str, ttl: Any, limit: Any) -> tuple[float, int]:
    """A bounded table's `ttl` (seconds, positive) and `limit` (a whole number of `what`, at least 1), or a
    `ValueError` saying which is wrong (`locus-nb mock` prints it as one line)."""
    if not (isinstance(ttl, int | float) and ttl > 0):
        raise ValueError(f"{whose} ttl must be a positive number of seconds; got {ttl!r}")
    if not (isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1):
        raise ValueError(f"{whose} limit must be a whole number of {what}, at least 1; got {limit!r}")
    return float(ttl), limit


def expire_oldest(stamped: Mapping[str, float], *, now: float, ttl: float, limit: int, drop: Any) -> None:
    """`drop(key)` the oldest keys of `stamped` (in insertion order) while the oldest is `ttl` old or more are
    kept than `limit`."""
    while stamped:
        oldest = next(iter(stamped))
        if len(stamped) <= limit and now - stamped[oldest] < ttl:
            break
        drop(oldest)


class Store:
    def __init__(self, *, ttl: float = STORE_TTL, limit: int = STORE_LIMIT, clock: Any = time.monotonic) -> None:
        self.ttl, self.limit = checked_bounds("the store's", "responses", ttl, limit)
        self._clock = clock
        self.responses: dict[str, StoredResponse] = {}  # in the order stored: the oldest first
        self._stored_at: dict[str, float] = {}
        self._items: dict[str, dict[str, Any]] = {}  # stored item id -> the item as remembered
        self._thoughts: dict[str, Thought] = {}
        self._lock = threading.RLock()  # the log and store are read from test threads too

    def _expire(self) -> None:
        """Forget what is past its ttl or beyond the limit, the oldest first."""
        with self._lock:
            expire_oldest(self._stored_at, now=self._clock(), ttl=self.ttl, limit=self.limit, drop=self.delete)

    # -- one turn ---------------------------------------------------------------------------

    def conversation(self, body: Mapping[str, Any], history: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        """Everything the model sees this turn: the stored chain (or `history`, a conversation's items), then
        the resolved input."""
        self._expire()
        previous = body.get("previous_response_id")
        context: list[dict[str, Any]] = [dict(item) for item in history]
        if previous:
            stored = self.get(previous)
            if stored is None:
                raise previous_response_not_found(previous)
            context = list(stored.context)
        seen = context + self._resolve(_normalize(body["input"]))
        check_tool_pairs(seen)
        return seen

    def _resolve(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        resolved = []
        for index, item in enumerate(items):
            kind = item["type"]
            if kind == "item_reference":
                remembered = self._items.get(item["id"])
                if remembered is None:
                    raise item_not_found(item["id"])
                resolved.append(dict(remembered))
            elif kind == "reasoning":
                thought = self._thought_for(item, index)
                following = items[index + 1] if index + 1 < len(items) else None
                # The follower is named by id: a reasoning item replayed without its own id (an
                # "omit ids" client) has no id to hold it to, so only an item with one is checked.
                if item.get("id") and thought.follows and (following is None or following.get("id") != thought.follows):
                    raise _reasoning_without_follower(item["id"])
                resolved.append(context_item(item, thought))
            else:
                resolved.append(item)
        return resolved

    def _thought_for(self, item: Mapping[str, Any], index: int) -> Thought:
        """The thought a reasoning item stands for: sealed in its encrypted content (which must be
        the mock's, and this item's when it names an id), or kept in the store under its id."""
        sealed, item_id = item.get("encrypted_content"), item.get("id")
        if sealed:
            thought = open_thought(sealed)
            if thought is None or (item_id is not None and thought.item_id != item_id):
                named = item_id or f"input[{index}]"
                raise bad_request(f"The encrypted content for item {named} could not be verified.",
                                  param="input", code="invalid_encrypted_content")
            return thought
        if item_id is None:  # neither an id to look up nor content to read: the SDK marks `id` required
            raise bad_request(f"Missing required parameter: 'input[{index}].id'.", param=f"input[{index}].id",
                              code="missing_required_parameter")
        thought = self._thoughts.get(item_id)
        if thought is None:  # only the server could have filled it in, and it never kept it
            raise item_not_found(item_id)
        return thought

    # -- keeping responses ------------------------------------------------------------------------

    def keep(self, response: dict[str, Any], seen: list[dict[str, Any]], output: Output, *,
             failed: bool = False) -> None:
        produced = [] if failed else [context_item(i, output.thoughts.get(i["id"])) for i in output.items]
        stored = StoredResponse(response, seen + produced, [i["id"] for i in produced])
        with self._lock:
            self.responses[response["id"]] = stored
            self._stored_at[response["id"]] = self._clock()
            self._items.update((i["id"], i) for i in produced)
            self._thoughts.update(output.thoughts)
            self._expire()

    def get(self, response_id: str) -> StoredResponse | None:
        self._expire()
        return self.responses.get(response_id)

    def delete(self, response_id: str) -> bool:
        with self._lock:
            stored = self.responses.pop(response_id, None)
            if stored is None:
                return False
            self._stored_at.pop(response_id, None)
            for item_id in stored.item_ids:
                self._items.pop(item_id, None)
                self._thoughts.pop(item_id, None)
            return True
