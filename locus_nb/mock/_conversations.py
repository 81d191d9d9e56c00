"""Conversations: a server-held thread of items that responses read from and append to.

The shapes and rules are OpenAI's Conversations API, which OCI serves unchanged ("The OCI
Conversations API uses the same format as the OpenAI Conversations API … OCI Limitations: None"
for every operation: https://docs.oracle.com/en-us/iaas/Content/generative-ai/conversations-api.htm;
https://platform.openai.com/docs/api-reference/conversations):

- a conversation is `{"id": "conv_…", "object": "conversation", "created_at", "metadata"}`; it is
  created with at most 20 initial `items` and 16 `metadata` pairs, its metadata replaced by an update,
  and deleting it answers `{"id", "object": "conversation.deleted", "deleted": true}`;
- its items are listed newest first by default (`limit` 1–100, default 20; `order` asc|desc; `after`
  an item id), as `{"object": "list", "data", "first_id", "last_id", "has_more"}`;
- a response created with `conversation` sees the conversation's items before its own input; when
  it finishes, its input items and then its output items are appended together (never one without
  the other: a live probe of api.openai.com saw both appear at once, both `completed`);
- an unknown or deleted conversation is the real 404, `param` and `code` null: "Conversation with
  id 'conv_…' not found." (live probes of api.openai.com, 2025-10 and 2026-08).

Bounded like the store of responses: a conversation expires `ttl` seconds after it was last
changed (created, updated, appended to), and at most `limit` are kept, the least recently
changed dropped first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import APIError, bad_request
from ._store import checked_bounds, expire_oldest

__all__ = ["CONVERSATION_LIMIT", "CONVERSATION_TTL", "MAX_ITEMS", "Conversation", "Conversations", "not_found"]

CONVERSATION_TTL = 30 * 24 * 3600.0  # seconds after its last change (as long as a stored response is kept)
CONVERSATION_LIMIT = 1_000  # conversations kept at most (a room of 30, each with a few per lesson)
MAX_ITEMS = 20  # initial items per create, and items per `POST …/items` (OpenAI's reference)
LIST_LIMIT = (1, 100, 20)  # `limit`: lowest, highest, default

_ID_PREFIX = {"message": "msg_", "function_call": "fc_", "function_call_output": "fco_", "reasoning": "rs_"}


def not_found(conversation_id: str) -> APIError:
    return APIError.envelope(404, f"Conversation with id '{conversation_id}' not found.")


def item_not_found(item_id: str) -> APIError:
    return APIError.envelope(404, f"Item with id '{item_id}' not found.")


@dataclass
class Conversation:
    """One conversation: its object, and its items in the order they were added."""

    id: str
    created_at: int
    metadata: dict[str, str]
    items: list[dict[str, Any]] = field(default_factory=list)
    """Items as listed to clients (ids, `status`, content parts)."""
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Item id → the item as the model remembers it, where that differs (a reasoning item keeps its thought)."""

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "object": "conversation", "created_at": self.created_at, "metadata": dict(self.metadata)}

    def context(self) -> list[dict[str, Any]]:
        """What a response created on this conversation sees before its own input."""
        return [dict(self.seen.get(item["id"], item)) for item in self.items]


def _parts(role: str, content: Any) -> list[dict[str, Any]]:
    """Message content as the conversation lists it: a string becomes one text part."""
    if not isinstance(content, str):
        return [dict(part) for part in content]
    if role == "assistant":
        return [{"type": "output_text", "annotations": [], "logprobs": [], "text": content}]
    return [{"type": "input_text", "text": content}]


def listed_item(item: Mapping[str, Any], new_id: Callable[[str], str]) -> dict[str, Any]:
    """An input item as a conversation item: an id of its own kind, `completed`, message content as parts."""
    kind = item.get("type", "message")
    out = {"id": item.get("id") or new_id(_ID_PREFIX.get(kind, "item_")), "type": kind}
    if kind == "message":
        out.update(status="completed", role=item["role"], content=_parts(item["role"], item["content"]))
    else:
        out.update((k, v) for k, v in item.items() if k not in ("id", "type", "thought"))
        if kind in ("function_call", "function_call_output"):
            out["status"] = "completed"
    return out


class Conversations:
    """Conversations by id, bounded by `ttl` (since last change) and `limit` (count)."""

    def __init__(self, *, ttl: float = CONVERSATION_TTL, limit: int = CONVERSATION_LIMIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.limit = checked_bounds("the conversations'", "conversations", ttl, limit)
        self._clock = clock
        self._by_id: dict[str, Conversation] = {}
        self._changed_at: dict[str, float] = {}  # least recently changed first
        self._lock = threading.RLock()

    def __len__(self) -> int:
        self._expire()
        return len(self._by_id)

    def _expire(self) -> None:
        with self._lock:
            expire_oldest(self._changed_at, now=self._clock(), ttl=self.ttl, limit=self.limit, drop=self._drop)

    def _drop(self, conversation_id: str) -> None:
        self._by_id.pop(conversation_id, None)
        self._changed_at.pop(conversation_id, None)

    def _touch(self, conversation: Conversation) -> None:
        with self._lock:
            self._by_id[conversation.id] = conversation
            self._changed_at.pop(conversation.id, None)
            self._changed_at[conversation.id] = self._clock()  # to the young end
            self._expire()

    # -- the conversation object -----------------------------------------------------------------

    def create(self, conversation_id: str, metadata: Mapping[str, str] | None,
               items: Sequence[Mapping[str, Any]], new_id: Callable[[str], str]) -> Conversation:
        conversation = Conversation(conversation_id, int(time.time()), dict(metadata or {}))
        conversation.items = [listed_item(item, new_id) for item in items]
        self._touch(conversation)
        return conversation

    def get(self, conversation_id: str) -> Conversation:
        """The conversation, or the real 404."""
        self._expire()
        conversation = self._by_id.get(conversation_id)
        if conversation is None:
            raise not_found(conversation_id)
        return conversation

    def update(self, conversation_id: str, metadata: Mapping[str, str]) -> Conversation:
        conversation = self.get(conversation_id)
        conversation.metadata = dict(metadata)
        self._touch(conversation)
        return conversation

    def delete(self, conversation_id: str) -> None:
        self.get(conversation_id)
        with self._lock:
            self._drop(conversation_id)

    # -- its items -------------------------------------------------------------------------------

    def add(self, conversation_id: str, items: Sequence[Mapping[str, Any]], new_id: Callable[[str], str],
            seen: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Append items (listed as given, or given ids); `seen`: the same items as the model saw them."""
        conversation = self.get(conversation_id)
        added = [listed_item(item, new_id) for item in items]
        with self._lock:
            conversation.items += added
            for listed, remembered in zip(added, seen or ()):
                if remembered.get("type") == "reasoning":  # the model remembers its thought, not the sealed blob
                    conversation.seen[listed["id"]] = {**remembered, "id": listed["id"]}
        self._touch(conversation)
        return added

    def item(self, conversation_id: str, item_id: str) -> dict[str, Any]:
        found = next((i for i in self.get(conversation_id).items if i["id"] == item_id), None)
        if found is None:
            raise item_not_found(item_id)
        return found

    def delete_item(self, conversation_id: str, item_id: str) -> Conversation:
        conversation = self.get(conversation_id)
        self.item(conversation_id, item_id)
        with self._lock:
            conversation.items = [i for i in conversation.items if i["id"] != item_id]
            conversation.seen.pop(item_id, None)
        self._touch(conversation)
        return conversation

    def page(self, conversation_id: str, *, limit: int, order: str, after: str | None) -> dict[str, Any]:
        """One page of the items list: `limit` items in `order`, starting after the item `after`."""
        items = list(self.get(conversation_id).items)
        if order == "desc":
            items.reverse()
        if after is not None:
            position = next((n for n, i in enumerate(items) if i["id"] == after), None)
            if position is None:
                raise bad_request(f"Invalid 'after': no item with id '{after}' in this conversation.", param="after",
                                  code="invalid_value")
            items = items[position + 1:]
        data = items[:limit]
        return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None, "has_more": len(items) > limit}
