"""Conversations: every route and rule of `/conversations`, responses created on one, ZDR, and the bounds."""

from __future__ import annotations

import pytest

from locus_nb.mock import MockConfig, create_app
from locus_nb.mock._conversations import Conversations

from .conftest import HEADERS, WEATHER_TOOL, Client

MODEL = "openai.gpt-4.1"
ZDR = "Previous response cannot be used for this organization due to Zero Data Retention."


def user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": text}


def error(message: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


async def new_conversation(client: Client, **body) -> dict:
    r = await client.http.post("/conversations", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def items(client: Client, conversation_id: str, **params) -> dict:
    r = await client.http.get(f"/conversations/{conversation_id}/items", params=params)
    assert r.status_code == 200, r.text
    return r.json()


# -- the conversation object ------------------------------------------------------------------------


async def test_create_retrieve_update_delete(client):
    made = await new_conversation(client, metadata={"topic": "demo"})
    assert list(made) == ["id", "object", "created_at", "metadata"]
    assert made["id"].startswith("conv_") and made["object"] == "conversation" and made["metadata"] == {"topic": "demo"}
    assert (await client.http.get(f"/conversations/{made['id']}")).json() == made
    updated = (await client.http.post(f"/conversations/{made['id']}", json={"metadata": {"lesson": "02"}})).json()
    assert updated == {**made, "metadata": {"lesson": "02"}}  # replaced, not merged
    deleted = await client.http.delete(f"/conversations/{made['id']}")
    assert deleted.json() == {"id": made["id"], "object": "conversation.deleted", "deleted": True}


GONE = [("GET", ""), ("POST", ""), ("DELETE", ""), ("GET", "/items"), ("POST", "/items"), ("GET", "/items/msg_1"),
        ("DELETE", "/items/msg_1")]


@pytest.mark.parametrize("method, tail", GONE)
async def test_every_route_of_a_deleted_or_unknown_conversation_is_the_real_404(client, method, tail):
    made = await new_conversation(client)
    await client.http.delete(f"/conversations/{made['id']}")
    for conversation_id in (made["id"], "conv_never"):
        body = {"metadata": {}} if tail == "" else {"items": [user("hi")]}
        r = await client.http.request(method, f"/conversations/{conversation_id}{tail}",
                                      json=body if method == "POST" else None)
        assert (r.status_code, r.json()) == (404, error(f"Conversation with id '{conversation_id}' not found."))


# -- items ------------------------------------------------------------------------------------------


async def test_initial_items_are_listed_newest_first_with_ids_and_parts(client):
    made = await new_conversation(client, items=[user("one"), {"role": "assistant", "content": "two"},
                                                 user("three")])
    listed = await items(client, made["id"])
    assert list(listed) == ["object", "data", "first_id", "last_id", "has_more"]
    texts = [item["content"][0]["text"] for item in listed["data"]]
    assert texts == ["three", "two", "one"] and listed["has_more"] is False
    first = listed["data"][-1]
    assert first == {"id": first["id"], "type": "message", "status": "completed", "role": "user",
                     "content": [{"type": "input_text", "text": "one"}]}
    assert listed["data"][1]["content"][0]["type"] == "output_text"
    assert (listed["first_id"], listed["last_id"]) == (listed["data"][0]["id"], listed["data"][-1]["id"])
    assert len({item["id"] for item in listed["data"]}) == 3 and all(i["id"].startswith("msg_") for i in listed["data"])


async def test_paging_with_limit_order_and_after(client):
    made = await new_conversation(client, items=[user(str(n)) for n in range(5)])
    text = lambda page: [item["content"][0]["text"] for item in page["data"]]  # noqa: E731
    page = await items(client, made["id"], order="asc", limit=2)
    assert (text(page), page["has_more"]) == (["0", "1"], True)
    page = await items(client, made["id"], order="asc", limit=2, after=page["last_id"])
    assert (text(page), page["has_more"]) == (["2", "3"], True)
    page = await items(client, made["id"], order="asc", limit=2, after=page["last_id"])
    assert (text(page), page["has_more"]) == (["4"], False)
    page = await items(client, made["id"], limit=2)
    assert text(page) == ["4", "3"]
    empty = await items(client, (await new_conversation(client))["id"])
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


async def test_add_retrieve_and_delete_an_item(client):
    made = await new_conversation(client, items=[user("kept")])
    added = (await client.http.post(f"/conversations/{made['id']}/items", json={"items": [user("a"), user("b")]})).json()
    assert [item["content"][0]["text"] for item in added["data"]] == ["a", "b"]
    assert (added["first_id"], added["last_id"], added["has_more"]) == (added["data"][0]["id"], added["data"][1]["id"],
                                                                        False)
    item_id = added["data"][0]["id"]
    assert (await client.http.get(f"/conversations/{made['id']}/items/{item_id}")).json() == added["data"][0]
    after_delete = await client.http.delete(f"/conversations/{made['id']}/items/{item_id}")
    assert after_delete.json() == made  # the conversation, as the reference says
    gone = await client.http.get(f"/conversations/{made['id']}/items/{item_id}")
    assert (gone.status_code, gone.json()) == (404, error(f"Item with id '{item_id}' not found."))
    assert [i["content"][0]["text"] for i in (await items(client, made["id"], order="asc"))["data"]] == ["kept", "b"]


TWENTY_ONE = [user(str(n)) for n in range(21)]
# (method, path under the conversation, body or query, the 400's message, param, code)
REFUSED = {
    "21 initial items": ("POST", None, {"items": TWENTY_ONE}, "Invalid 'items': array too long. Expected an array with "
                         "maximum length 20, but got an array with length 21 instead.", "items", "array_above_max_length"),
    "17 metadata pairs": ("POST", None, {"metadata": {f"k{n}": "v" for n in range(17)}}, "Invalid 'metadata': too many "
                          "properties. Expected an object with at most 16 properties, but got 17 instead.", "metadata",
                          "object_above_max_properties"),
    "an unknown field": ("POST", None, {"title": "x"}, "Unknown parameter: 'title'.", "title", "unknown_parameter"),
    "an item without a role": ("POST", None, {"items": [{"type": "message", "content": "x"}]},
                               "Missing required parameter: 'items[0].role'.", "items[0].role",
                               "missing_required_parameter"),
    "an item reference": ("POST", None, {"items": [{"type": "item_reference", "id": "msg_1"}]},
                          "Unsupported parameter: 'item_reference'. The locus-nb mock does not implement item "
                          "references in conversation items.", "items[0]", "unsupported_parameter"),
    "an update without metadata": ("POST", "", {}, "Missing required parameter: 'metadata'.", "metadata",
                                   "missing_required_parameter"),
    "21 added items": ("POST", "/items", {"items": TWENTY_ONE}, "Invalid 'items': array too long. Expected an array "
                       "with maximum length 20, but got an array with length 21 instead.", "items",
                       "array_above_max_length"),
    "limit 0": ("GET", "/items", {"limit": "0"}, "Invalid 'limit': integer below minimum value. Expected a value >= 1, "
                "but got 0 instead.", "limit", "integer_below_min_value"),
    "limit 101": ("GET", "/items", {"limit": "101"}, "Invalid 'limit': integer above maximum value. Expected a value "
                  "<= 100, but got 101 instead.", "limit", "integer_above_max_value"),
    "limit not a number": ("GET", "/items", {"limit": "ten"}, "Invalid type for 'limit': expected an integer, but got "
                           "a string instead.", "limit", "invalid_type"),
    "order sideways": ("GET", "/items", {"order": "up"}, "Invalid value: 'up'. Supported values are: 'asc' and "
                       "'desc'.", "order", "invalid_value"),
    "after an unknown item": ("GET", "/items", {"after": "msg_nope"}, "Invalid 'after': no item with id 'msg_nope' in "
                              "this conversation.", "after", "invalid_value"),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_refusals_are_the_endpoints_400s(client, case):
    method, tail, payload, message, param, code = REFUSED[case]
    path = "/conversations" if tail is None else f"/conversations/{(await new_conversation(client))['id']}{tail}"
    if method == "GET":
        r = await client.http.get(path, params=payload)
    else:
        r = await client.http.post(path, json=payload)
    assert (r.status_code, r.json()) == (400, error(message, param, code))


async def test_include_is_checked(client):
    made = await new_conversation(client)
    ok = await client.http.get(f"/conversations/{made['id']}/items", params={"include[]": "reasoning.encrypted_content"})
    assert ok.status_code == 200
    bad = await client.http.get(f"/conversations/{made['id']}/items", params={"include[]": "everything"})
    assert (bad.status_code, bad.json()["error"]["param"], bad.json()["error"]["code"]) == (400, "include[0]",
                                                                                          "invalid_value")


# -- responses on a conversation --------------------------------------------------------------------


@pytest.mark.parametrize("named", ["string", "object"])
async def test_a_response_sees_the_conversation_and_is_appended_to_it(client, named):
    made = await new_conversation(client, items=[user("My name is Ada.")])
    ref = made["id"] if named == "string" else {"id": made["id"]}
    first = await client.create({"model": MODEL, "input": "My favorite city is Lisbon.", "conversation": ref})
    assert first["conversation"] == {"id": made["id"]} and first["previous_response_id"] is None
    second = await client.create({"model": MODEL, "input": "What is my name?", "conversation": ref})
    assert second["output"][0]["content"][0]["text"] == "Your name is Ada."
    third = await client.create({"model": MODEL, "input": "What is my favorite city?", "conversation": ref})
    assert third["output"][0]["content"][0]["text"] == "Your favorite city is Lisbon."
    assert first["usage"]["input_tokens"] < second["usage"]["input_tokens"] < third["usage"]["input_tokens"]
    listed = (await items(client, made["id"], order="asc"))["data"]
    assert [(i["role"], i["content"][0]["text"]) for i in listed] == [
        ("user", "My name is Ada."), ("user", "My favorite city is Lisbon."),
        ("assistant", first["output"][0]["content"][0]["text"]), ("user", "What is my name?"),
        ("assistant", "Your name is Ada."), ("user", "What is my favorite city?"),
        ("assistant", "Your favorite city is Lisbon.")]
    assert listed[2] == first["output"][0]  # the output item itself, under its own id


async def test_a_response_without_a_conversation_names_none(client):
    r = await client.create({"model": MODEL, "input": "hi"})
    assert "conversation" not in r


async def test_a_tool_call_waits_in_the_conversation_for_its_output(client):
    made = await new_conversation(client)
    body = {"model": MODEL, "conversation": made["id"], "tools": [WEATHER_TOOL]}
    first = await client.create({**body, "input": "What's the temperature in Paris?"})
    [call] = first["output"]
    assert call["type"] == "function_call"
    unanswered = await client.post({**body, "input": "Never mind."})
    assert unanswered.json()["error"]["message"] == f"No tool output found for function call {call['call_id']}."
    answer = {"type": "function_call_output", "call_id": call["call_id"], "output": "18 C"}
    second = await client.create({**body, "input": [answer]})
    assert second["output"][0]["content"][0]["text"] == "According to get_temperature: 18 C"
    kinds = [i["type"] for i in (await items(client, made["id"], order="asc"))["data"]]
    assert kinds == ["message", "function_call", "function_call_output", "message"]


async def test_a_failed_response_appends_nothing(client):
    made = await new_conversation(client)
    events = await client.stream({"model": MODEL, "input": "Count to ten", "conversation": made["id"],
                                  "metadata": {"mock_fault": "error_event"}})
    assert events[-1]["type"] == "response.failed"
    assert (await items(client, made["id"]))["data"] == []


async def test_store_false_on_a_conversation_still_appends_but_keeps_no_response(client):
    made = await new_conversation(client)
    r = await client.create({"model": MODEL, "input": "My name is Ada.", "conversation": made["id"], "store": False})
    assert len((await items(client, made["id"]))["data"]) == 2
    assert (await client.http.get(f"/responses/{r['id']}")).status_code == 404


async def test_conversation_with_previous_response_id_is_the_real_400(client):
    made = await new_conversation(client)
    earlier = await client.create({"model": MODEL, "input": "hi"})
    r = await client.post({"model": MODEL, "input": "again", "conversation": made["id"],
                           "previous_response_id": earlier["id"]})
    assert (r.status_code, r.json()) == (400, error(
        "Mutually exclusive parameters: ''. Ensure you are only providing one of: 'pre..._id' or 'conversation'.",
        code="mutually_exclusive_parameters"))


@pytest.mark.parametrize("named", ["conv_never", {"id": "conv_never"}])
async def test_an_unknown_conversation_is_the_real_404(client, named):
    r = await client.post({"model": MODEL, "input": "hi", "conversation": named})
    assert (r.status_code, r.json()) == (404, error("Conversation with id 'conv_never' not found."))


async def test_a_deleted_conversation_refuses_the_next_turn(client):
    made = await new_conversation(client)
    await client.create({"model": MODEL, "input": "hi", "conversation": made["id"]})
    await client.http.delete(f"/conversations/{made['id']}")
    r = await client.post({"model": MODEL, "input": "again", "conversation": made["id"]})
    assert r.status_code == 404


@pytest.mark.parametrize("named, param", [("chat_1", "conversation"), ({"id": "chat_1"}, "conversation.id")])
async def test_a_conversation_id_must_look_like_one(client, named, param):
    r = await client.post({"model": MODEL, "input": "hi", "conversation": named})
    assert (r.status_code, r.json()) == (400, error(
        "Invalid 'conversation': 'chat_1'. Expected an ID that begins with 'conv'.", param, "invalid_value"))


# -- a ZDR tenancy ------------------------------------------------------------------------------------


async def test_a_zdr_tenancy_refuses_conversations_like_stored_state(make_client):
    client = make_client(zdr=True)
    r = await client.http.post("/conversations", json={})
    assert (r.status_code, r.json()) == (400, error(ZDR))
    r = await client.post({"model": MODEL, "input": "hi", "store": False, "conversation": "conv_1"})
    assert (r.status_code, r.json()) == (400, error(ZDR, "conversation"))


# -- bounds ---------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_conversation_expires_ttl_after_its_last_change():
    clock = Clock()
    app = create_app()
    app.state.mock.conversations = Conversations(ttl=60, clock=clock)
    client = Client(app)
    made = await new_conversation(client)
    clock.now += 50
    await client.create({"model": MODEL, "input": "hi", "conversation": made["id"]})  # a change: its ttl starts again
    clock.now += 50
    assert (await client.http.get(f"/conversations/{made['id']}")).status_code == 200
    clock.now += 11
    gone = await client.http.get(f"/conversations/{made['id']}")
    assert (gone.status_code, gone.json()) == (404, error(f"Conversation with id '{made['id']}' not found."))
    await client.http.aclose()


async def test_at_most_limit_conversations_are_kept_the_least_recently_changed_dropped():
    client = Client(create_app(MockConfig(conversation_limit=2)))
    a, b = await new_conversation(client), await new_conversation(client)
    await client.http.post(f"/conversations/{a['id']}", json={"metadata": {"x": "1"}})  # a changed after b
    c = await new_conversation(client)
    assert [(await client.http.get(f"/conversations/{x['id']}")).status_code for x in (a, b, c)] == [200, 404, 200]
    assert len(client.app.state.mock.conversations) == 2
    await client.http.aclose()


@pytest.mark.parametrize("options, says", [({"ttl": 0}, "ttl must be a positive"), ({"limit": 0}, "limit must be")])
def test_bad_bounds_are_refused(options, says):
    with pytest.raises(ValueError, match=says):
        Conversations(**options)


async def test_the_conversation_routes_are_admitted_like_responses(make_client):
    client = make_client(api_key="sk-room")
    r = await client.http.post("/conversations", json={})
    assert (r.status_code, r.json()["code"]) == (401, "NotAuthenticated")
    r = await client.http.post("/conversations", json={}, headers={"authorization": "Bearer sk-room",
                                                                    "opc-compartment-id": ""})
    assert (r.status_code, r.json()["error"]["message"]) == (400, "Compartment ID must be provided")
    r = await client.http.post("/conversations", json={}, headers={**HEADERS, "authorization": "Bearer sk-room"})
    assert r.status_code == 200
