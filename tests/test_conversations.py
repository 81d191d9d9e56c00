"""Conversations: made, turned on (only the new turn on the wire), listed page by page, deleted; carried by the
`Agent` loop and by checkpoints. On httpx.MockTransport, in the shapes of OpenAI's reference (which OCI follows)."""

from __future__ import annotations

import json
from itertools import count

import httpx
import pytest

from locus_nb import (Agent, ConfigError, Conversation, ConversationNotFound, Message, load_checkpoint,
                      save_checkpoint)
from locus_nb import _conversations

from .sse_helpers import SSE_HEADERS, Body, sse_from_response, sse_model

SYSTEM = Message.system("You remember facts.")


def _error(status: int, message: str, code: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "type": "invalid_request_error", "param": None,
                                                  "code": code}})


class ConversationServer:
    """Conversations as OpenAI's reference has them: `POST /conversations` → a `conversation` object; a response
    made with `conversation` appends its input and output items and echoes `{"id": …}`; items are listed in pages
    (`limit`, `order`, `after`; `first_id`, `last_id`, `has_more`); `DELETE` → `conversation.deleted`."""

    def __init__(self) -> None:
        self.conversations: dict[str, list[dict]] = {}
        self.requests: list[httpx.Request] = []
        self.ids = count(1)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        parts = request.url.path.split("/openai/v1/", 1)[1].split("/")
        body = json.loads(request.content) if request.content else None
        if parts == ["conversations"] and request.method == "POST":
            conv = f"conv_{next(self.ids):04d}"
            self.conversations[conv] = [self._item(i) for i in body.get("items", [])]
            return httpx.Response(200, json={"id": conv, "object": "conversation", "created_at": 1765000000,
                                             "metadata": body.get("metadata", {})})
        if parts[0] == "conversations":
            if parts[1] not in self.conversations:
                return _error(404, f"Conversation with id '{parts[1]}' not found.")
            if request.method == "DELETE":
                del self.conversations[parts[1]]
                return httpx.Response(200, json={"id": parts[1], "object": "conversation.deleted", "deleted": True})
            return self._page(self.conversations[parts[1]], dict(request.url.params))
        if parts == ["responses"]:
            return self._respond(body)
        return _error(404, "no such route")

    def _item(self, item: dict) -> dict:
        return {"id": f"msg_{next(self.ids):04d}", **item}

    def _page(self, items: list[dict], query: dict) -> httpx.Response:
        items = items[::-1] if query.get("order") == "desc" else items
        if "after" in query:
            items = items[[i["id"] for i in items].index(query["after"]) + 1:]
        page = items[: int(query.get("limit", 20))]
        return httpx.Response(200, json={"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                                         "last_id": page[-1]["id"] if page else None,
                                         "has_more": len(items) > len(page)})

    def _respond(self, body: dict) -> httpx.Response:
        conv = body.get("conversation")
        if conv and body.get("previous_response_id"):
            return _error(400, "Mutually exclusive parameters: Ensure you are only providing one of: "
                               "'previous_response_id' or 'conversation'.", "mutually_exclusive_parameters")
        if conv and conv not in self.conversations:
            return _error(404, f"Conversation with id '{conv}' not found.")
        seen = [*self.conversations.get(conv, []), *body["input"]]
        said = [p["text"] for i in seen if i.get("role") == "user" for p in i["content"]]
        answer = f"You have told me {len(said)} thing(s); first: {said[0]}"
        output = [{"type": "message", "id": f"msg_{next(self.ids):04d}", "role": "assistant", "status": "completed",
                   "content": [{"type": "output_text", "text": answer, "annotations": []}]}]
        if conv:
            self.conversations[conv] += [self._item(i) for i in body["input"]] + output
        reply = {"id": f"resp_{next(self.ids):024d}", "object": "response", "status": "completed", "output": output,
                 "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
                 **({"conversation": {"id": conv}} if conv else {})}
        if body.get("stream"):
            return httpx.Response(200, headers=SSE_HEADERS, stream=Body([sse_from_response(reply)]))
        return httpx.Response(200, json=reply)

    @property
    def bodies(self) -> list[dict | None]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


@pytest.fixture
def server():
    return ConversationServer()


async def test_a_conversation_holds_the_thread_and_each_turn_sends_only_the_new_message(server):
    async with sse_model(server, store=True) as model:
        conv = await model.create_conversation(metadata={"topic": "colors"})
        assert conv == Conversation("conv_0001", {"topic": "colors"}, 1765000000) and conv.kind == "conversation"
        assert conv.provider_state == {"conversation": "conv_0001"}
        history = [SYSTEM, Message.user("I like purple.")]
        r1 = await model.complete(history, conv.provider_state)
        assert r1.provider_state == {"conversation": "conv_0001"}
        history += [r1.message, Message.user("And Lisbon.")]
        r2 = await model.complete(history, r1.provider_state)
    assert r2.text == "You have told me 2 thing(s); first: I like purple."
    turn1, turn2 = server.bodies[1:]
    for body, text in ((turn1, "I like purple."), (turn2, "And Lisbon.")):
        assert body["conversation"] == "conv_0001" and "previous_response_id" not in body
        assert body["input"] == [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}]
        assert body["instructions"] == "You remember facts." and body["store"] is True


async def test_a_streamed_turn_on_a_conversation_carries_it_too(server):
    async with sse_model(server, store=True) as model:
        conv = await model.create_conversation()
        [done] = [c async for c in model.stream([Message.user("hi")], conv.provider_state) if c.done]
    assert done.response.provider_state == conv.provider_state


async def test_items_are_listed_page_after_page_in_either_order(server, monkeypatch):
    monkeypatch.setattr(_conversations, "PAGE_SIZE", 2)
    async with sse_model(server, store=True) as model:
        conv = await model.create_conversation([Message.user("one"), Message.developer("two")])
        for n in range(3):
            await model.complete([Message.user(f"turn {n}")], conv.provider_state)
        items = await model.conversation_items(conv)
        newest_first = await model.conversation_items(conv.provider_state, order="desc")
    assert len(items) == 2 + 3 * 2 and newest_first == items[::-1]
    assert [i["role"] for i in items] == ["user", "developer", *["user", "assistant"] * 3]
    pages = [dict(r.url.params) for r in server.requests if r.url.path.endswith("/items")]
    assert pages[:4] == [{"limit": "2", "order": "asc"}, {"limit": "2", "order": "asc", "after": items[1]["id"]},
                         {"limit": "2", "order": "asc", "after": items[3]["id"]},
                         {"limit": "2", "order": "asc", "after": items[5]["id"]}]


async def test_a_deleted_conversation_refuses_the_next_turn_with_a_typed_error(server):
    async with sse_model(server, store=True) as model:
        conv = await model.create_conversation()
        await model.complete([Message.user("hi")], conv.provider_state)
        assert await model.delete_conversation(conv) is None
        with pytest.raises(ConversationNotFound, match="conv_0001") as turn:
            await model.complete([Message.user("still there?")], conv.provider_state)
        with pytest.raises(ConversationNotFound) as listing:
            await model.conversation_items(conv)
        with pytest.raises(ConversationNotFound):
            await model.delete_conversation(conv.id)
    assert turn.value.status == 404 and "create_conversation()" in turn.value.hint
    assert listing.value.status == 404


@pytest.mark.parametrize("call, args, says", [
    ("complete", ([Message.user("x")], {"conversation": "conv_1", "previous_response_id": "resp_1"}), "both"),
    ("complete", ([Message.user("x")], {"conversation": 3}), "a conversation id"),
    ("conversation_items", ("",), "pass a Conversation"),
    ("conversation_items", ({"previous_response_id": "resp_1"},), "pass a Conversation"),
    ("conversation_items", (Conversation("conv_1"),), None),
    ("delete_conversation", (None,), "pass a Conversation"),
    ("create_conversation", ([Message.user("x")] * 21,), "at most 20 items"),
    ("create_conversation", ("Hi",), "messages must be a list of Message"),
    ("create_conversation", ([{"role": "user", "content": "Hi"}],), "messages must be a list of Message"),
    ("create_conversation", ((), ), None),
])
async def test_arguments_are_checked_before_any_request(call, args, says):
    sent = []
    kwargs = {"order": "newest"} if says is None and call == "conversation_items" else \
        {"metadata": {"k": 1}} if says is None else {}
    async with sse_model(lambda r: sent.append(r), store=True) as model:
        with pytest.raises(ConfigError, match=says or "order must be|metadata"):
            await getattr(model, call)(*args, **kwargs)
    assert sent == []


async def test_a_stateless_model_makes_no_conversation_and_runs_no_turn_on_one():
    sent = []
    async with sse_model(lambda r: sent.append(r), store=False) as model:
        with pytest.raises(ConfigError, match="store=False model keeps nothing on the server"):
            await model.create_conversation()
        with pytest.raises(ConfigError, match="store=False model keeps nothing on the server"):
            await model.complete([Message.user("x")], {"conversation": "conv_1"})
    assert sent == []


async def test_the_agent_loop_runs_on_a_conversation_and_a_checkpoint_keeps_it(server, tmp_path):
    async with sse_model(server, store=True) as model:
        conv = await model.create_conversation()
        agent = Agent(model, system_prompt="You remember facts.")
        agent.provider_state = conv.provider_state
        [end] = [e async for e in agent.run("I like purple.") if type(e).__name__ == "TerminateEvent"]
        assert agent.provider_state == conv.provider_state
        save_checkpoint(tmp_path / "chat.json", agent)
    async with sse_model(server, store=True) as restarted:
        agent = load_checkpoint(tmp_path / "chat.json", model=restarted).restore(Agent(restarted))
        assert agent.provider_state == conv.provider_state
        [end] = [e async for e in agent.run("And Lisbon.") if type(e).__name__ == "TerminateEvent"]
    assert end.final_message == "You have told me 2 thing(s); first: I like purple."
    last = server.bodies[-1]
    assert last["conversation"] == conv.id and [i["content"][0]["text"] for i in last["input"]] == ["And Lisbon."]


async def test_on_the_mock_a_zero_data_retention_tenancy_refuses_a_conversation_with_a_typed_error(make_model):
    from locus_nb import ZDRRejected
    from locus_nb.mock import MockConfig, create_app

    model = make_model(store=True, transport=httpx.ASGITransport(app=create_app(MockConfig(zdr=True))))
    with pytest.raises(ZDRRejected) as refused:
        await model.create_conversation()
    assert refused.value.status == 400 and "store=False" in refused.value.hint


async def test_on_the_mock_a_conversation_holds_the_thread_in_process(make_model):
    model = make_model(store=True)
    conv = await model.create_conversation()
    r1 = await model.complete([SYSTEM, Message.user("My favorite color is purple.")], conv.provider_state)
    r2 = await model.complete([SYSTEM, r1.message, Message.user("What is my favorite color?")], r1.provider_state)
    assert "purple" in r2.text.lower() and r2.provider_state == conv.provider_state
    assert [i["role"] for i in await model.conversation_items(conv)] == ["user", "assistant"] * 2
