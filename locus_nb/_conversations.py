"""Conversations the server holds: made, listed, deleted; a turn on one sends only what is new.

    conv = await model.create_conversation(metadata={"topic": "colors"})   # a store=True model
    r1 = await model.complete([Message.user("My favorite color is purple.")], conv.provider_state)
    r2 = await model.complete([Message.user("What is my favorite color?")], r1.provider_state)
    items = await model.conversation_items(conv)   # every item it holds, page after page
    await model.delete_conversation(conv)          # then a turn on it raises ConversationNotFound

OCI's Conversations API (docs.oracle.com, generative-ai/conversations-api.htm: "the same format as the OpenAI
Conversations API", no OCI limitations listed): `POST /conversations`, then `"conversation": "conv_…"` on each
response, which appends the turn's input and output items to the conversation and echoes it. The `provider_state`
of a conversation, and of each reply on it, is `{"conversation": "conv_…"}`: passed like a `previous_response_id`,
so the `Agent` loop and checkpoints carry it unchanged. A conversation is never combined with a
`previous_response_id` (the endpoint answers 400); and a store=False model, which keeps nothing on the server, makes
none (a Zero Data Retention tenancy refuses them too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from . import _model
from ._errors import APIStatusError, ConfigError, ConversationNotFound, NotFound
from ._messages import Message
from ._options import check_metadata
from ._wire import NO_CONVERSATION_STATELESS, json_type, to_input_items

__all__ = ["MAX_ITEMS", "PAGE_SIZE", "Conversation", "conversation_items", "create_conversation",
           "delete_conversation"]

MAX_ITEMS = 20  # items a conversation may be created with (OpenAI's reference)
PAGE_SIZE = 100  # items asked for per page when listing (the endpoint's largest `limit`)
_MAX_PAGES = 1000  # a listing that has not ended after this many pages is not followed further


@dataclass(frozen=True)
class Conversation:
    """A conversation the server holds: pass its `provider_state` to a turn to run the turn on it."""

    id: str
    """The server's id for it (`conv_…`)."""
    metadata: dict[str, str] = field(default_factory=dict)
    """The metadata it was made with (at most 16 string pairs)."""
    created_at: int | None = None
    """When it was made (Unix seconds), as the server says."""
    _: KW_ONLY
    kind: Literal["conversation"] = "conversation"
    """Tells a conversation from the other values a model call gives."""

    @property
    def provider_state(self) -> dict[str, str]:
        """`{"conversation": id}`: what a turn takes to run on this conversation (its replies give the same)."""
        return {"conversation": self.id}


async def create_conversation(model: Any, messages: Sequence[Message] = (), *, metadata: Mapping[str, str] | None = None,
                              deadline: float | None = None) -> Conversation:
    """A new conversation on the server (`POST /conversations`), holding `messages` to begin with (at most 20,
    system messages excepted: send those as each turn's instructions) and `metadata`."""
    _stateful(model)
    if isinstance(messages, str | Message | Mapping) or not all(isinstance(m, Message) for m in messages):
        raise ConfigError("messages must be a list of Message to begin the conversation with, e.g. "
                          f"[Message.user('Hi')] (or none); got {type(messages).__name__} {messages!r:.60}")
    items = to_input_items(messages, replay_provider_items=False) if messages else []
    if len(items) > MAX_ITEMS:
        raise ConfigError(f"a conversation is made with at most {MAX_ITEMS} items; got {len(items)} (add the rest "
                          "as the first turn)")
    if metadata is not None:
        check_metadata(metadata)
    body = {k: v for k, v in (("items", items), ("metadata", dict(metadata or {}))) if v}
    data = await _call(model, "POST", "/conversations", body, deadline)
    created = data.get("created_at")
    return Conversation(_id_of(data), dict(data.get("metadata") or {}),
                        created if isinstance(created, int) and not isinstance(created, bool) else None)


async def conversation_items(model: Any, conversation: Conversation | Mapping[str, Any] | str, *,
                             order: Literal["asc", "desc"] = "asc", deadline: float | None = None) -> list[dict[str, Any]]:
    """Every item the conversation holds (input and output items, as the wire has them: `type`, `role`, `content`…),
    oldest first (`order="desc"`: newest first), read page after page (`after` the last one's id) until `has_more`
    is false. `deadline` (seconds, default the model's) bounds each page's request."""
    path = f"/conversations/{_conversation_id(conversation)}/items"
    if order not in ("asc", "desc"):
        raise ConfigError(f"order must be 'asc' or 'desc'; got {order!r:.40}")
    items: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(_MAX_PAGES):
        params = {"limit": PAGE_SIZE, "order": order, **({"after": after} if after else {})}
        page = await _call(model, "GET", path, None, deadline, params=params)
        data = page.get("data")
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise APIStatusError(f"a page of conversation items whose 'data' is a JSON {json_type(data)}, not a list "
                                 "of items; is base_url a Responses endpoint?", status=200)
        items += data
        following = page.get("last_id") or (data[-1].get("id") if data else None)
        if not page.get("has_more") or not data or following == after:
            return items
        after = following
    raise APIStatusError(f"the conversation's items did not end after {_MAX_PAGES} pages", status=200)


async def delete_conversation(model: Any, conversation: Conversation | Mapping[str, Any] | str, *,
                              deadline: float | None = None) -> None:
    """Delete the conversation (`DELETE /conversations/{id}`): a later turn on it raises `ConversationNotFound`."""
    data = await _call(model, "DELETE", f"/conversations/{_conversation_id(conversation)}", None, deadline)
    if data.get("deleted") is not True:
        raise APIStatusError(f"the server did not say the conversation was deleted (deleted: {data.get('deleted')!r})",
                             status=200)


async def _call(model: Any, method: str, path: str, body: dict[str, Any] | None, deadline: float | None,
                params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One request on the conversations routes: its JSON object; a 404 is `ConversationNotFound`."""
    seconds = _model._seconds(deadline, "deadline", model.deadline)
    try:
        response = await model._send(body, seconds, _model._deadline_at(seconds), method=method, path=path,
                                     params=params)
    except NotFound as missing:
        raise missing if isinstance(missing, ConversationNotFound) else missing.retyped(ConversationNotFound) from None
    return _json_object(response)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise APIStatusError(f"the endpoint answered {response.status_code} without a JSON object; is base_url a "
                             "Responses endpoint with conversations?", status=response.status_code)
    return data


def _id_of(data: Mapping[str, Any]) -> str:
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise APIStatusError("the endpoint made a conversation without an id", status=200)
    return data["id"]


def _conversation_id(conversation: Any) -> str:
    """The id of a `Conversation`, of a provider_state that names one, or the id itself, quoted for a URL path."""
    if isinstance(conversation, Mapping):
        conversation = conversation.get("conversation")
    conversation_id = conversation if isinstance(conversation, str) else getattr(conversation, "id", None)
    if not isinstance(conversation_id, str) or not conversation_id or getattr(conversation, "kind", "conversation") \
            != "conversation":
        raise ConfigError("pass a Conversation (from model.create_conversation()), a provider_state that names one "
                          f"({{'conversation': 'conv_…'}}) or its id; got {type(conversation).__name__}")
    return quote(conversation_id, safe="")


def _stateful(model: Any) -> None:
    if not model.store:
        raise ConfigError(NO_CONVERSATION_STATELESS)
