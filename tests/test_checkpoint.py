"""Checkpoints: save a conversation, "restart the kernel" (a new model and agent), load it, go on."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from locus_nb import (
    Agent,
    Checkpoint,
    CheckpointMismatch,
    ConfigError,
    Message,
    OCIResponsesModel,
    TerminateEvent,
    ToolCall,
    load_checkpoint,
    record_requests,
    save_checkpoint,
    tool,
)
from locus_nb._messages import ROLES

from .conftest import COMPARTMENT

TEMPERATURES = {"Paris": 18, "Lisbon": 21}


@tool
def get_temperature(city: str) -> str:
    """Return the current temperature for a city, in degrees Celsius.

    Args:
        city: The city's name, e.g. "Paris".
    """
    return f"The temperature in {city} is {TEMPERATURES[city]} C."


def agent_for(model) -> Agent:
    return Agent(model=model, tools=[get_temperature], max_iterations=4,
                 system_prompt="Use get_temperature to answer temperature questions.")


async def final(agent: Agent, prompt: str) -> TerminateEvent:
    events = [event async for event in agent.run(prompt)]
    assert isinstance(events[-1], TerminateEvent)
    return events[-1]


@pytest.mark.parametrize("store", [False, True])
async def test_an_agent_goes_on_after_a_restart_exactly_as_it_would_have(make_model, tmp_path, store):
    path = tmp_path / "chat.json"
    before = agent_for(make_model(store=store))
    first = await final(before, "What's the temperature in Paris?")
    assert "18" in first.final_message
    save_checkpoint(path, before)
    saved_state = dict(before.provider_state)

    # the agent that never restarted, and one made anew after a "kernel restart", ask the same next question
    went_on = record_requests(before.model)
    await final(before, "What's the temperature in Lisbon?")
    after = agent_for(make_model(store=store))
    load_checkpoint(path, model=after.model).restore(after)
    assert after.messages == before.messages[:len(after.messages)]
    resumed = record_requests(after.model)
    answer = await final(after, "What's the temperature in Lisbon?")

    assert "21" in answer.final_message
    # the first request is the one the checkpoint shapes: byte for byte what the agent that went on sent
    # (the later ones carry the ids the server made for each run's own answers)
    assert resumed[0].content == went_on[0].content
    assert len(resumed) == len(went_on) == 2
    first_body = resumed[0].body
    if store:  # by continuation id: only the new question goes out
        assert saved_state["previous_response_id"].startswith("resp_")
        assert first_body["previous_response_id"] == saved_state["previous_response_id"]
        assert [i.get("type", "message") for i in first_body["input"]] == ["message"]
    else:  # by history: the earlier round trip goes out again, the function_call before its output
        types = [i.get("type", "message") for i in first_body["input"]]
        assert types[:4] == ["message", "function_call", "function_call_output", "message"]
        assert "previous_response_id" not in first_body


async def test_a_stored_conversation_continues_by_its_id(make_model, mock_app, tmp_path):
    model = make_model(store=True)
    history = [Message.user("My favorite color is purple. Just acknowledge.")]
    reply = await model.complete(history)
    history.append(reply.message)
    save_checkpoint(tmp_path / "c.json", history, model=model, provider_state=reply.provider_state)

    restarted = make_model(store=True)
    checkpoint = load_checkpoint(tmp_path / "c.json", model=restarted)
    assert checkpoint.provider_state == {"previous_response_id": reply.response_id}
    answer = await restarted.complete([*checkpoint.messages, Message.user("What is my favorite color?")],
                                      checkpoint.provider_state)
    assert "purple" in answer.text.lower()
    sent = mock_app.state.mock.log[-1]["body"]
    assert sent["previous_response_id"] == reply.response_id and len(sent["input"]) == 1


async def test_a_stateless_history_keeps_the_encrypted_reasoning(make_model, mock_app, tmp_path):
    options = {"reasoning": {"effort": "low", "summary": "auto"}}
    model = make_model(store=False)
    model.model_id = "openai.gpt-5"  # a reasoning model
    history = [Message.user("My favorite color is purple.")]
    reply = await model.complete(history, **options)
    reasoning = [i for i in reply.message.provider_items if i["type"] == "reasoning"]
    assert reasoning and reasoning[0]["encrypted_content"]
    history.append(reply.message)
    save_checkpoint(tmp_path / "r.json", history, model=model)

    restarted = make_model(store=False)
    restarted.model_id = "openai.gpt-5"
    checkpoint = load_checkpoint(tmp_path / "r.json", model=restarted)
    assert checkpoint.messages == tuple(history)  # provider_items and all, equal value for value
    answer = await restarted.complete([*checkpoint.messages, Message.user("What is my favorite color?")], **options)
    assert "purple" in answer.text.lower()  # the mock refuses (400) reasoning replayed without what it produced
    sent = mock_app.state.mock.log[-1]["body"]["input"]
    assert sent[1]["type"] == "reasoning" and sent[1]["encrypted_content"] == reasoning[0]["encrypted_content"]


def test_messages_round_trip_with_tool_calls_and_provider_items(tmp_path):
    history = [
        Message.user("Weather in Paris?"),
        Message("assistant", "", (ToolCall("call_1", "get_temperature", {"city": "Paris"},
                                           raw_arguments='{"city": "Paris"}'),),
                provider_items=({"type": "reasoning", "id": "rs_1", "encrypted_content": "gAAAA-sealed",
                                 "summary": []},)),
        Message.tool("call_1", "The temperature in Paris is 18 C."),
        Message.assistant("It is 18 C in Paris."),
    ]
    save_checkpoint(tmp_path / "h.json", history)
    checkpoint = load_checkpoint(tmp_path / "h.json")
    assert checkpoint.messages == tuple(history)
    assert checkpoint.made_with is None and checkpoint.provider_state == {}


def test_a_developer_message_round_trips(tmp_path):
    """It used to save, then fail to load: the loader knew the other four roles only."""
    history = [Message.developer("Answer in French."), Message.developer([{"type": "input_text", "text": "Be brief."}]),
               Message.user("Bonjour ?")]
    save_checkpoint(tmp_path / "d.json", history)
    assert load_checkpoint(tmp_path / "d.json").messages == tuple(history)


# -- every message the library can make survives save → load ---------------------------------------

TEXT = st.text(st.characters(exclude_categories=()), max_size=12)  # lone surrogates too
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
OBJECT = st.dictionaries(TEXT, JSON_VALUE, max_size=3)
PARTS = st.lists(st.builds(lambda kind, rest: {**rest, "type": kind}, TEXT, OBJECT), max_size=3)
CALLS = st.lists(st.builds(ToolCall, TEXT, TEXT, OBJECT, raw_arguments=st.none() | TEXT), max_size=3)


@st.composite
def messages(draw) -> Message:
    """Any role, text or content parts, tool calls, the id a tool result answers, provider items: every
    combination the constructor takes (the ones it refuses, e.g. parts in an assistant turn, are skipped)."""
    role = draw(st.sampled_from(ROLES))
    content = draw(TEXT | PARTS)
    calls = draw(CALLS) if role == "assistant" else []
    try:
        return Message(role, content, tuple(calls), tool_call_id=draw(st.none() | TEXT),
                       provider_items=tuple(draw(st.lists(OBJECT, max_size=2))))
    except ConfigError:
        return draw(st.nothing())


def test_text_with_a_lone_surrogate_round_trips_and_leaves_no_temporary_file(tmp_path):
    """A parsed JSON escape like "\\ud800" is a str no UTF-8 file can hold: it is kept as the escape."""
    history = [Message.user("half a pair: \ud800 and a whole one: 😀"), Message.assistant("ok")]
    save_checkpoint(tmp_path / "chat.json", history)
    assert load_checkpoint(tmp_path / "chat.json").messages == tuple(history)
    assert [p.name for p in tmp_path.iterdir()] == ["chat.json"]

@given(st.lists(messages(), max_size=6))
@settings(max_examples=40, deadline=None, derandomize=True, database=None)
def test_every_message_survives_save_and_load(tmp_path_factory, history):
    path = tmp_path_factory.mktemp("roundtrip") / "c.json"
    save_checkpoint(path, history)
    assert load_checkpoint(path).messages == tuple(history)


def test_another_model_id_is_refused(make_model, tmp_path):
    save_checkpoint(tmp_path / "c.json", [Message.user("hi")], model=make_model(store=False))
    other = make_model(store=False)
    other.model_id = "openai.gpt-5"
    with pytest.raises(CheckpointMismatch, match="made with model 'openai.gpt-4.1', not 'openai.gpt-5'"):
        load_checkpoint(tmp_path / "c.json", model=other)
    assert issubclass(CheckpointMismatch, ConfigError)


@pytest.mark.parametrize("saved", [False, True])
def test_another_store_mode_is_refused(make_model, tmp_path, saved):
    save_checkpoint(tmp_path / "c.json", [Message.user("hi")], model=make_model(store=saved))
    with pytest.raises(CheckpointMismatch, match=f"made with store={saved}") as caught:
        load_checkpoint(tmp_path / "c.json", model=make_model(store=not saved))
    assert f"store={saved} model" in caught.value.hint
    agent = agent_for(make_model(store=not saved))
    with pytest.raises(CheckpointMismatch):
        load_checkpoint(tmp_path / "c.json").restore(agent)
    assert agent.messages == []


def test_a_stored_conversation_needs_the_same_endpoint(make_model, tmp_path):
    save_checkpoint(tmp_path / "c.json", [Message.user("hi")], model=make_model(store=True),
                    provider_state={"previous_response_id": "resp_1"})
    elsewhere = make_model(store=True)
    elsewhere.base_url = "http://another-mock/openai/v1"
    with pytest.raises(CheckpointMismatch, match="lives on http://mock/openai/v1"):
        load_checkpoint(tmp_path / "c.json", model=elsewhere)
    # a stateless conversation carries its history: any endpoint will do
    save_checkpoint(tmp_path / "s.json", [Message.user("hi")], model=make_model(store=False))
    stateless = make_model(store=False)
    stateless.base_url = "http://another-mock/openai/v1"
    load_checkpoint(tmp_path / "s.json", model=stateless)


def test_the_file_holds_no_credentials(tmp_path):
    model = OCIResponsesModel("openai.gpt-4.1", base_url="https://learner:pw-123@gateway.example/openai/v1?key=q-9",
                              auth="bearer", api_key="sk-checkpoint-secret-0001",
                              compartment_id=COMPARTMENT, store=False, region="eu-frankfurt-1")
    path = save_checkpoint(tmp_path / "c.json", [Message.user("hi")], model=model)
    text = path.read_text()
    for secret in ("sk-checkpoint-secret-0001", "pw-123", "learner", "q-9", COMPARTMENT):
        assert secret not in text
    saved = json.loads(text)["model"]
    assert saved == {"id": "openai.gpt-4.1", "store": False, "region": "eu-frankfurt-1",
                     "endpoint": "https://gateway.example/openai/v1", "compartment": "ocid1.compartment.oc1..…0001"}


def test_the_agent_keeps_its_own_system_prompt(make_model, tmp_path):
    agent = agent_for(make_model(store=False))
    agent.messages = [Message.user("hi"), Message.assistant("Hello.")]
    save_checkpoint(tmp_path / "c.json", agent)
    checkpoint = load_checkpoint(tmp_path / "c.json")
    assert checkpoint.system_prompt == agent.system_prompt
    bare = Agent(model=make_model(store=False))
    assert checkpoint.restore(bare) is bare
    assert bare.system_prompt == agent.system_prompt and bare.messages == agent.messages
    own = Agent(model=make_model(store=False), system_prompt="Be brief.")
    checkpoint.restore(own)
    assert own.system_prompt == "Be brief."


@pytest.mark.parametrize("content, message", [
    ("{not json", "cannot be read as a checkpoint"),
    ('{"format": "something else"}', "is not a locus-nb checkpoint"),
    ('{"format": "locus-nb checkpoint", "version": 99}', "version 99"),
    ('{"format": "locus-nb checkpoint", "version": 1, "messages": [{"role": "robot"}]}', "message 1"),
])
def test_a_file_that_is_not_a_checkpoint(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_checkpoint(path)
    with pytest.raises(ConfigError, match="no checkpoint at missing.json"):
        load_checkpoint(tmp_path / "missing.json")


def test_saving_replaces_the_file_whole(tmp_path):
    path = tmp_path / "c.json"
    save_checkpoint(path, [Message.user("one")])
    save_checkpoint(path, [Message.user("one"), Message.assistant("two")])
    assert len(load_checkpoint(path).messages) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"]  # no temporary file left behind
    with pytest.raises(ConfigError, match="an Agent or a list of Message"):
        save_checkpoint(path, ["not a message"])
    assert isinstance(load_checkpoint(path), Checkpoint)


def test_a_model_without_a_base_url_attribute_is_recorded_as_far_as_it_goes(tmp_path):
    class Duck:  # any model with an id and a store mode
        model = "duck-1"
        server_stateful = False

    save_checkpoint(tmp_path / "d.json", [Message.user("quack")], model=Duck())
    assert load_checkpoint(tmp_path / "d.json", model=Duck()).made_with["endpoint"] is None
