"""No message is lost: a `Message` refuses what the wire cannot carry where it is made,
`developer` is a role of its own, and a conversation with nothing to answer is refused before sending."""

from __future__ import annotations

import httpx
import pytest

from locus_nb import ConfigError, Message, OCIResponsesModel, ToolCall
from locus_nb._wire import build_request

from .conftest import COMPARTMENT

PARTS = [{"type": "input_text", "text": "What is in this picture?"},
         {"type": "input_image", "image_url": "https://example.com/cat.png"}]


@pytest.mark.parametrize("role, fix", [
    ("User", "roles are lower-case; use 'user' (or Message.user(…))"),
    ("ASSISTANT", "use 'assistant'"),
    ("usr", "did you mean 'user' (Message.user(…))?"),
    ("sytem", "did you mean 'system'"),
    ("bot", "is not one of 'system', 'developer', 'user', 'assistant', 'tool'"),
    (None, "is not one of"),
])
def test_an_unknown_role_is_refused_at_construction_naming_the_fix(role, fix):
    with pytest.raises(ConfigError) as info:
        Message(role, "hi")
    assert fix in str(info.value)


@pytest.mark.parametrize("content, fix", [
    (42, "got int 42 (str(value) for a number)"),
    (None, "got NoneType None"),
    ({"type": "input_text", "text": "hi"}, "got dict"),
    (b"hi", "got bytes"),
    ([{"text": "no type"}], "part 0 is dict"),
    (["plain string part"], "part 0 is str"),
])
def test_content_that_is_not_text_or_parts_is_refused(content, fix):
    with pytest.raises(ConfigError, match="Message content must be text .a str. or a list of content parts") as info:
        Message.user(content)
    assert fix in str(info.value)


@pytest.mark.parametrize("make", [lambda p: Message.system(p), lambda p: Message.assistant(p)])
def test_parts_are_for_user_developer_and_tool_messages_only(make):
    with pytest.raises(ConfigError, match="content must be text .a str.; content parts go in Message.user"):
        make(PARTS)


def test_tool_calls_belong_to_assistant_messages_and_must_be_tool_calls():
    with pytest.raises(ConfigError, match="only an assistant message carries tool_calls"):
        Message("user", "hi", (ToolCall("call_1", "f"),))
    with pytest.raises(ConfigError, match="must be ToolCall values; got dict"):
        Message.assistant("", [{"id": "call_1", "name": "f"}])


def test_developer_messages_and_content_parts_reach_the_wire():
    messages = [Message.system("Be brief."), Message.developer("Answer in French."), Message.user(PARTS),
                Message.assistant("", [ToolCall("call_1", "look", {})]),
                Message.tool("call_1", [{"type": "input_text", "text": "a cat"}])]
    body = build_request(messages, model="m", store=False)
    assert body["instructions"] == "Be brief."
    assert body["input"][0] == {"type": "message", "role": "developer",
                                "content": [{"type": "input_text", "text": "Answer in French."}]}
    assert body["input"][1] == {"type": "message", "role": "user", "content": PARTS}
    assert body["input"][3] == {"type": "function_call_output", "call_id": "call_1",
                                "output": [{"type": "input_text", "text": "a cat"}]}
    assert Message.user(PARTS).content == tuple(PARTS)  # kept, as a tuple (the message is frozen)


@pytest.mark.parametrize("messages, why", [
    ([], "no messages"),
    ([Message.system("Be brief.")], "only system/developer instructions"),
    ([Message.system("Be brief."), Message.developer("Answer in French.")], "only system/developer instructions"),
])
async def test_a_conversation_with_nothing_to_answer_is_refused_before_sending(messages, why):
    sent: list[httpx.Request] = []
    model = OCIResponsesModel("openai.gpt-4.1", base_url="http://x.test/openai/v1", auth="none",
                              compartment_id=COMPARTMENT, store=False,
                              transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500)))
    async with model:
        with pytest.raises(ConfigError, match=f"nothing for the model to answer: {why}; add Message.user"):
            await model.complete(messages)
        with pytest.raises(ConfigError, match="nothing for the model to answer"):
            [c async for c in model.stream(messages)]
    assert sent == []


def test_stored_mode_sends_a_lone_tool_result_but_refuses_nothing_new():
    call = ToolCall("call_1", "get_temperature", {"city": "Paris"})
    history = [Message.system("Use tools."), Message.user("Temperature in Paris?"), Message.assistant("", [call])]
    state = {"previous_response_id": "resp_1"}
    body = build_request([*history, Message.tool("call_1", "18°C")], model="m", store=True, provider_state=state)
    assert body["input"] == [{"type": "function_call_output", "call_id": "call_1", "output": "18°C"}]
    assert body["previous_response_id"] == "resp_1" and body["instructions"] == "Use tools."
    with pytest.raises(ConfigError, match="nothing new to send: no message after the model's last answer .the server "
                                          "continues from resp_1.; add Message.user"):
        build_request(history, model="m", store=True, provider_state=state)
    # stateless, the same history is a whole conversation to send again
    assert len(build_request(history, model="m", store=False)["input"]) == 2


@pytest.mark.parametrize("messages, what", [
    ("What is my favorite color?", "got str"),
    (Message.user("hi"), "got Message"),
    ([Message.user("hi"), "and this"], r"\[1\] is str 'and this', not a Message"),
    (None, "got NoneType"),
])
def test_messages_must_be_a_list_of_messages(messages, what):
    with pytest.raises(ConfigError, match=f"messages.*{what}"):
        build_request(messages, model="m", store=False)
