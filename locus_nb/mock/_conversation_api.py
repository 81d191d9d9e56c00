"""The `/conversations` routes: each checks its body or query the way the endpoint does, then asks
`_conversations.Conversations`. The rules and their sources are in `_conversations`.

Each handler is `handler(state, request, body, headers)` (`state`: the app's `MockState`), called by
`_app` once the request is admitted (credentials, compartment); a refusal is raised as `APIError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from ._conversations import LIST_LIMIT, MAX_ITEMS
from ._errors import ZDR_MESSAGE, bad_request
from ._format import json_reply
from ._request_schema import INCLUDABLE, Item, Metadata, Strict
from ._validate import first_error, translate

__all__ = ["ROUTES"]


class CreateConversation(Strict):
    items: list[Item] | None = None
    metadata: Metadata | None = None


class UpdateConversation(Strict):
    metadata: Metadata


class AddItems(Strict):
    items: list[Item]


def _parsed(model: type[Strict], body: Any) -> dict[str, Any]:
    """The body, if the endpoint would take it; otherwise its 400, worded as for `POST /responses`."""
    if not isinstance(body, dict):
        got = "no body" if body is None else "a body that is not a JSON object"
        raise bad_request(f"Invalid type for request body: expected an object, but got {got} instead.",
                          code="invalid_type")
    items = body.get("items")
    if isinstance(items, list) and len(items) > MAX_ITEMS:
        raise bad_request(f"Invalid 'items': array too long. Expected an array with maximum length {MAX_ITEMS}, but "
                          f"got an array with length {len(items)} instead.", param="items",
                          code="array_above_max_length")
    try:
        model.model_validate(body)
    except ValidationError as exc:
        raise translate(first_error(exc)) from None
    for n, item in enumerate(items or ()):
        if item.get("type") == "item_reference":
            raise bad_request("Unsupported parameter: 'item_reference'. The locus-nb mock does not implement item "
                              "references in conversation items.", param=f"items[{n}]", code="unsupported_parameter")
    return body


def _integer(name: str, text: str, lowest: int, highest: int) -> int:
    if not text.lstrip("-").isdigit():
        raise bad_request(f"Invalid type for '{name}': expected an integer, but got a string instead.", param=name,
                          code="invalid_type")
    value = int(text)
    if not lowest <= value <= highest:
        below = value < lowest
        raise bad_request(f"Invalid '{name}': integer {'below minimum' if below else 'above maximum'} value. Expected a "
                          f"value {'>=' if below else '<='} {lowest if below else highest}, but got {value} instead.",
                          param=name, code=f"integer_{'below_min' if below else 'above_max'}_value")
    return value


def _page_query(request: Request) -> dict[str, Any]:
    """`limit`, `order`, `after` (and `include`, checked, not acted on: the mock's items carry nothing extra)."""
    query = request.query_params
    lowest, highest, default = LIST_LIMIT
    limit = _integer("limit", query["limit"], lowest, highest) if "limit" in query else default
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_request(f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.", param="order",
                          code="invalid_value")
    for n, value in enumerate(query.getlist("include") + query.getlist("include[]")):
        if value not in INCLUDABLE.__args__:
            raise bad_request(f"Invalid value: '{value}'. Supported values are: "
                              f"{', '.join(repr(v) for v in INCLUDABLE.__args__)}.", param=f"include[{n}]",
                              code="invalid_value")
    return {"limit": limit, "order": order, "after": query.get("after")}


# -- the handlers ------------------------------------------------------------------------------------


async def create(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Response:
    """`POST /conversations`: a ZDR tenancy keeps no conversation (the same 400 as for stored responses)."""
    if state.config.zdr:
        raise bad_request(ZDR_MESSAGE)
    body = _parsed(CreateConversation, body)
    conversation = state.conversations.create(state.new_id("conv_"), body.get("metadata"), body.get("items") or (),
                                              state.new_id)
    return json_reply(conversation.public(), headers)


async def retrieve(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Response:
    return json_reply(state.conversations.get(request.path_params["conversation_id"]).public(), headers)


async def update(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Response:
    conversation_id = request.path_params["conversation_id"]
    state.conversations.get(conversation_id)  # an unknown id is a 404 before its body is read
    body = _parsed(UpdateConversation, body)
    return json_reply(state.conversations.update(conversation_id, body["metadata"]).public(), headers)


async def delete(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Response:
    conversation_id = request.path_params["conversation_id"]
    state.conversations.delete(conversation_id)
    return json_reply({"id": conversation_id, "object": "conversation.deleted", "deleted": True}, headers)


async def list_items(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Response:
    conversation_id = request.path_params["conversation_id"]
    state.conversations.get(conversation_id)
    return json_reply(state.conversations.page(conversation_id, **_page_query(request)), headers)


async def add_items(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Response:
    """`POST …/items`: the added items, as a list object."""
    conversation_id = request.path_params["conversation_id"]
    state.conversations.get(conversation_id)
    body = _parsed(AddItems, body)
    added = state.conversations.add(conversation_id, body["items"], state.new_id)
    return json_reply({"object": "list", "data": added, "first_id": added[0]["id"] if added else None,
                       "last_id": added[-1]["id"] if added else None, "has_more": False}, headers)


async def retrieve_item(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Response:
    params = request.path_params
    return json_reply(state.conversations.item(params["conversation_id"], params["item_id"]), headers)


async def delete_item(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Response:
    """`DELETE …/items/{item_id}`: answers with the conversation (OpenAI's reference)."""
    params = request.path_params
    return json_reply(state.conversations.delete_item(params["conversation_id"], params["item_id"]).public(), headers)


# (path under the prefix, methods, handler)
ROUTES = (
    ("/conversations", ["POST"], create),
    ("/conversations/{conversation_id}", ["GET"], retrieve),
    ("/conversations/{conversation_id}", ["POST"], update),
    ("/conversations/{conversation_id}", ["DELETE"], delete),
    ("/conversations/{conversation_id}/items", ["GET"], list_items),
    ("/conversations/{conversation_id}/items", ["POST"], add_items),
    ("/conversations/{conversation_id}/items/{item_id}", ["GET"], retrieve_item),
    ("/conversations/{conversation_id}/items/{item_id}", ["DELETE"], delete_item),
)
