"""The Agent loop against the mock server (in-process and on a real socket), and against canned
replies for what the scripted mock never does (unknown tools, broken JSON, parallel calls)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from typing import Annotated, Any

import httpx
import pytest
from pydantic import Field

from locus_nb import (
    Agent,
    AgentHooks,
    ConfigError,
    ModelChunkEvent,
    OCIResponsesModel,
    ServerError,
    TerminateEvent,
    ToolCallEvent,
    ToolResultEvent,
    Usage,
    Veto,
    tool,
)

from .conftest import COMPARTMENT
from .sse_helpers import call_item, canned, message_item, response_json, streaming_adapter

QUESTION = "What's the temperature in Paris?"
SYSTEM = "You are a weather assistant. Use the tools."
TEMPERATURES = {"Paris": 18, "Lyon": 21}


@tool
def get_temperature(city: str) -> str:
    """Current temperature in a city, in degrees Celsius.

    Args:
        city: The city name, e.g. "Paris".
    """
    return f"{TEMPERATURES.get(city, 20)}°C in {city}"


# -- helpers ------------------------------------------------------------------------------------------

# How each model call is made: stream() against the mock as it is (it answers JSON; stream()
# accepts that), stream() over real SSE (the mock's replies re-streamed), or complete().
PATHS = ["stream", "stream-sse", "complete"]


def mock_model(mock_app, store: bool, path: str = "stream", *, fail: list[int] | None = None,
               **kw: Any) -> OCIResponsesModel:
    transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=mock_app)
    if path == "stream-sse":
        transport = streaming_adapter(transport)
    if fail is not None:
        transport = _Flaky(transport, fail)
    return OCIResponsesModel("openai.gpt-4.1", base_url="http://mock/openai/v1", auth="none",
                             compartment_id=COMPARTMENT, store=store, transport=transport, **kw)


class _Flaky(httpx.AsyncBaseTransport):
    """Answers 500 to the requests whose numbers (1-based) are in `fail`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, fail: list[int]) -> None:
        self.inner, self.fail, self.count = inner, fail, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.count in self.fail:
            return httpx.Response(500, json={"error": {"message": "the service failed", "code": "server_error"}})
        return await self.inner.handle_async_request(request)


def canned_model(replies: list[dict[str, Any]], sent: list[dict[str, Any]], store: bool = False) -> OCIResponsesModel:
    return OCIResponsesModel("openai.gpt-4.1", base_url="http://canned/openai/v1", auth="none",
                             compartment_id=COMPARTMENT, store=store, transport=canned(replies, sent))


async def run(agent: Agent, prompt: str) -> list[Any]:
    return [event async for event in agent.run(prompt)]


def of(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def bodies(mock_app) -> list[dict[str, Any]]:
    return [entry["body"] for entry in mock_app.state.mock.log]


# -- the acceptance check: both store modes, same answer, over a real socket -----------------------------


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "complete"])
async def test_same_final_answer_with_store_false_and_true(mock_server, streamed):
    answers = {}
    for store in (False, True):
        tag = f"acceptance-{store}-{streamed}"
        async with OCIResponsesModel("openai.gpt-4.1", base_url=mock_server.base_url, auth="none",
                                     compartment_id=COMPARTMENT, store=store) as model:
            agent = Agent(model, tools=[get_temperature], max_iterations=4, system_prompt=SYSTEM,
                          stream=streamed, metadata={"test": tag})
            events = await run(agent, QUESTION)
        calls = of(events, ToolCallEvent)
        assert [(c.tool_call.name, c.tool_call.arguments) for c in calls] == [("get_temperature", {"city": "Paris"})]
        assert [r.result for r in of(events, ToolResultEvent)] == ["18°C in Paris"]
        end = events[-1]
        assert isinstance(end, TerminateEvent) and end.reason == "completed"
        assert (end.iterations_used, end.total_tool_calls) == (2, 1)
        answers[store] = end.final_message
        sent = [r["body"] for r in mock_server.requests if (r["body"] or {}).get("metadata", {}).get("test") == tag]
        assert len(sent) == 2 and all(b["instructions"] == SYSTEM for b in sent)
        if store:  # only the new item, chained to the response that asked for it
            assert [i["type"] for i in sent[1]["input"]] == ["function_call_output"]
            assert sent[1]["previous_response_id"]
        else:  # everything, every time
            assert [i["type"] for i in sent[1]["input"]] == ["message", "function_call", "function_call_output"]
            assert "previous_response_id" not in sent[1] and sent[1]["store"] is False
    # (the wording is the scripted mock's; what matters is that it answers from the tool's result)
    assert answers[False] == answers[True] and "18°C in Paris" in answers[True]


# -- the loop, per store mode and per way of calling the model -------------------------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("store", [False, True], ids=["store=False", "store=True"])
async def test_tool_round_trip_events_and_requests(mock_app, store, path):
    agent = Agent(mock_model(mock_app, store, path), tools=[get_temperature], system_prompt=SYSTEM,
                  stream=path != "complete")
    events = await run(agent, QUESTION)
    kinds = [e.kind for e in events]
    first_call, first_result = kinds.index("tool_call"), kinds.index("tool_result")
    assert kinds[-1] == "terminate" and kinds.count("terminate") == 1
    assert first_call < first_result < len(kinds) - 1
    # the model's calls are visible as chunks before the agent runs them
    assert any(e.tool_calls for e in events[:first_call] if isinstance(e, ModelChunkEvent))
    text = "".join(e.content for e in events[first_result:] if isinstance(e, ModelChunkEvent) and e.content)
    assert text == events[-1].final_message and "18°C in Paris" in text
    if path == "stream-sse":  # really streamed, word by word
        assert len([e for e in events[first_result:] if isinstance(e, ModelChunkEvent) and e.content]) > 3
    assert [m.role for m in agent.messages] == ["user", "assistant", "tool", "assistant"]

    sent = bodies(mock_app)
    if path != "stream-sse":  # (the re-streaming adapter takes the flag off before the mock sees it)
        assert [b.get("stream", False) for b in sent] == [path == "stream"] * 2
    assert all(b["store"] is store and b["instructions"] == SYSTEM for b in sent)
    if store:
        assert agent.provider_state == {"previous_response_id": events[-2].response.response_id}
        assert [i["type"] for i in sent[1]["input"]] == ["function_call_output"]
    else:
        assert agent.provider_state == {}
        assert [i["type"] for i in sent[1]["input"]] == ["message", "function_call", "function_call_output"]
    assert events[-1].usage.total_tokens > 0


@pytest.mark.parametrize("store", [False, True], ids=["store=False", "store=True"])
async def test_conversation_continues_across_runs(mock_app, store):
    agent = Agent(mock_model(mock_app, store, "stream-sse"), tools=[get_temperature], system_prompt=SYSTEM)
    await run(agent, "My favorite color is purple.")
    events = await run(agent, "What is my favorite color?")
    assert "purple" in events[-1].final_message
    second = bodies(mock_app)[1]
    if store:
        assert len(second["input"]) == 1 and second["previous_response_id"]
    else:
        assert len(second["input"]) == 3 and "previous_response_id" not in second
    agent.reset()
    forgot = await run(agent, "What is my favorite color?")
    assert "purple" not in forgot[-1].final_message


# -- what goes wrong becomes a message to the model ----------------------------------------------------


@pytest.mark.parametrize("store", [False, True], ids=["store=False", "store=True"])
async def test_a_tool_that_raises_is_reported_to_the_model(mock_app, store):
    @tool
    def get_temperature(city: str) -> str:
        """Current temperature.

        Args:
            city: The city.
        """
        raise RuntimeError("sensor offline")

    agent = Agent(mock_model(mock_app, store), tools=[get_temperature])
    events = await run(agent, QUESTION)
    [result] = of(events, ToolResultEvent)
    assert result.is_error and result.result == "Error: get_temperature raised RuntimeError: sensor offline"
    assert bodies(mock_app)[1]["input"][-1]["output"] == result.result
    assert events[-1].reason == "completed" and result.result in events[-1].final_message


async def test_invalid_arguments_are_reported_to_the_model():
    # The mock only sends schema-valid arguments, so a canned reply plays a model that does not.
    sent: list[dict[str, Any]] = []
    replies = [response_json("resp_1", call_item("get_temperature", '{"city": "Paris"}', "call_a")),
               response_json("resp_2", message_item("That name is too short."))]
    ran = []

    @tool
    def get_temperature(city: Annotated[str, Field(min_length=10)]) -> str:
        """Current temperature.

        Args:
            city: The city's full official name.
        """
        ran.append(city)
        return "never"

    events = await run(Agent(canned_model(replies, sent), tools=[get_temperature]), QUESTION)
    [result] = of(events, ToolResultEvent)
    assert ran == [] and result.is_error
    assert result.result == ("Error: invalid arguments for get_temperature: city: "
                             "String should have at least 10 characters")
    [output] = [i for i in sent[1]["input"] if i["type"] == "function_call_output"]
    assert output == {"type": "function_call_output", "call_id": "call_a", "output": result.result}
    assert events[-1].reason == "completed" and events[-1].final_message == "That name is too short."


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "complete"])
async def test_unknown_tool_and_broken_json_are_reported_to_the_model(streamed):
    sent: list[dict[str, Any]] = []
    replies = [
        response_json("resp_1",
                      call_item("get_weather", '{"city": "Paris"}', "call_a"),
                      call_item("get_temperature", '{"city": "Par', "call_b"),
                      call_item("get_temperature", "[1, 2]", "call_c")),
        response_json("resp_2", message_item("Sorry, I could not check.")),
    ]
    ran = []

    @tool
    def get_temperature(city: str) -> str:
        """T."""
        ran.append(city)
        return "?"

    agent = Agent(canned_model(replies, sent), tools=[get_temperature], stream=streamed)
    events = await run(agent, QUESTION)
    results = of(events, ToolResultEvent)
    assert ran == [] and all(r.is_error for r in results)
    assert results[0].result == "Error: there is no tool named 'get_weather'; available: get_temperature."
    assert results[1].result.startswith("Error: the arguments for get_temperature are not valid JSON (")
    assert results[2].result.startswith("Error: the arguments for get_temperature are a JSON list, not an object")
    outputs = [(i["call_id"], i["output"]) for i in sent[1]["input"] if i["type"] == "function_call_output"]
    assert outputs == [(c, r.result) for c, r in zip(["call_a", "call_b", "call_c"], results)]
    # the model's broken call is replayed byte for byte
    assert [i["arguments"] for i in sent[1]["input"] if i["type"] == "function_call"] == [
        '{"city": "Paris"}', '{"city": "Par', "[1, 2]"]
    assert events[-1] == TerminateEvent("Sorry, I could not check.", 2, 3, reason="completed",
                                        usage=Usage(input_tokens=20, output_tokens=10, total_tokens=30))


# -- limits and endings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("store", [False, True], ids=["store=False", "store=True"])
async def test_max_iterations_ends_with_what_was_produced(mock_app, store):
    agent = Agent(mock_model(mock_app, store), tools=[get_temperature], max_iterations=1)
    events = await run(agent, QUESTION)
    end = events[-1]
    assert (end.reason, end.iterations_used, end.total_tool_calls, end.final_message) == ("max_iterations", 1, 1, "")
    assert [r.result for r in of(events, ToolResultEvent)] == ["18°C in Paris"]  # the call was answered
    assert [m.role for m in agent.messages] == ["user", "assistant", "tool"]
    # the history is whole, so the conversation goes on
    agent.max_iterations = 4
    more = await run(agent, "Thanks. And what is my name?")
    assert more[-1].reason == "completed" and more[-1].final_message


async def test_max_iterations_keeps_text_said_along_the_way():
    sent: list[dict[str, Any]] = []
    replies = [response_json("resp_1", message_item("Let me check."), call_item("get_temperature", '{"city":"Paris"}', "c1")),
               response_json("resp_2", message_item("Checking again."), call_item("get_temperature", '{"city":"Paris"}', "c2"))]
    agent = Agent(canned_model(replies, sent), tools=[get_temperature], max_iterations=2)
    end = (await run(agent, QUESTION))[-1]
    assert (end.reason, end.iterations_used, end.total_tool_calls) == ("max_iterations", 2, 2)
    assert end.final_message == "Let me check.\n\nChecking again."


async def test_an_incomplete_answer_ends_the_run_as_incomplete():
    sent: list[dict[str, Any]] = []
    replies = [response_json("resp_1", message_item("Rivers are vital"), status="incomplete")]
    end = (await run(Agent(canned_model(replies, sent), tools=[get_temperature]), "Tell me about rivers."))[-1]
    assert (end.reason, end.final_message) == ("incomplete", "Rivers are vital")


# -- hooks --------------------------------------------------------------------------------------------------


async def test_before_hook_can_veto(mock_app):
    ran = []

    @tool
    def get_temperature(city: str) -> str:
        """T.

        Args:
            city: The city.
        """
        ran.append(city)
        return "?"

    class NoWeather(AgentHooks):
        def on_before_tool_call(self, call):
            return Veto("weather lookups are switched off")

    events = await run(Agent(mock_model(mock_app, False), tools=[get_temperature], hooks=NoWeather()), QUESTION)
    [result] = of(events, ToolResultEvent)
    assert ran == [] and result.is_error
    assert result.result == "Error: the application refused this call: weather lookups are switched off"
    assert result.result in events[-1].final_message


@pytest.mark.parametrize("store", [False, True], ids=["store=False", "store=True"])
async def test_before_hook_can_rewrite_and_after_hook_can_replace(mock_app, store):
    seen_after = []

    async def to_lyon(call):  # async hooks work too
        await asyncio.sleep(0)
        return dataclasses.replace(call, arguments={"city": "Lyon"})

    def annotate(call, result, is_error):
        seen_after.append((call.arguments, result, is_error))
        return result + " (checked)"

    agent = Agent(mock_model(mock_app, store), tools=[get_temperature],
                  hooks={"on_before_tool_call": to_lyon, "on_after_tool_call": annotate})
    events = await run(agent, QUESTION)
    [call_event] = of(events, ToolCallEvent)
    [result] = of(events, ToolResultEvent)
    model_call = next(c for e in of(events, ModelChunkEvent) if e.tool_calls for c in e.tool_calls)
    assert model_call.arguments == {"city": "Paris"} and call_event.tool_call.arguments == {"city": "Lyon"}
    assert seen_after == [({"city": "Lyon"}, "21°C in Lyon", False)]
    assert result.result == "21°C in Lyon (checked)"
    output = bodies(mock_app)[1]["input"][-1]
    assert output == {"type": "function_call_output", "call_id": model_call.id, "output": "21°C in Lyon (checked)"}
    assert "21°C in Lyon (checked)" in events[-1].final_message


# -- parallel calls ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "complete"])
async def test_parallel_calls_run_concurrently(streamed):
    sent: list[dict[str, Any]] = []
    replies = [
        response_json("resp_1", call_item("slow_a", "{}", "call_a"), call_item("slow_b", "{}", "call_b"),
                      call_item("blocking", '{"n": 1}', "call_c"), call_item("blocking", '{"n": 2}', "call_d")),
        response_json("resp_2", message_item("All four done.")),
    ]
    started = {"a": asyncio.Event(), "b": asyncio.Event()}
    barrier = threading.Barrier(2, timeout=5)

    async def meet(me: str, other: str) -> str:
        started[me].set()
        await asyncio.wait_for(started[other].wait(), 5)  # only returns if both run at once
        return f"{me} met {other}"

    @tool
    async def slow_a() -> str:
        """A."""
        return await meet("a", "b")

    @tool
    async def slow_b() -> str:
        """B."""
        await asyncio.sleep(0.01)  # finishes after a: results still come in call order
        return await meet("b", "a")

    @tool
    def blocking(n: int) -> str:
        """Sync tools run in threads, so two can wait for each other."""
        barrier.wait()
        return f"thread {n}"

    agent = Agent(canned_model(replies, sent), tools=[slow_a, slow_b, blocking], stream=streamed)
    events = await asyncio.wait_for(run(agent, "Run all four."), 10)
    results = of(events, ToolResultEvent)
    assert [(r.tool_call.id, r.result, r.is_error) for r in results] == [
        ("call_a", "a met b", False), ("call_b", "b met a", False),
        ("call_c", "thread 1", False), ("call_d", "thread 2", False)]
    assert [e.kind for e in events if e.kind in ("tool_call", "tool_result")] == ["tool_call"] * 4 + ["tool_result"] * 4
    assert events[-1].final_message == "All four done." and events[-1].total_tool_calls == 4


# -- failures leave the conversation usable ---------------------------------------------------------------


@pytest.mark.parametrize("store", [False, True], ids=["store=False", "store=True"])
async def test_history_survives_a_failed_turn(mock_app, store):
    model = mock_model(mock_app, store, fail=[2], max_retries=0)
    agent = Agent(model, tools=[get_temperature])
    await run(agent, "My favorite color is purple.")
    before = (list(agent.messages), dict(agent.provider_state))
    with pytest.raises(ServerError):
        await run(agent, "My name is Ada.")
    assert (agent.messages, agent.provider_state) == before
    events = await run(agent, "What is my favorite color?")
    assert "purple" in events[-1].final_message


@pytest.mark.parametrize("store", [False, True], ids=["store=False", "store=True"])
async def test_a_failure_after_the_tools_ran_keeps_their_results(mock_app, store):
    agent = Agent(mock_model(mock_app, store, "stream-sse", fail=[2], max_retries=0), tools=[get_temperature])
    with pytest.raises(ServerError):
        await run(agent, QUESTION)
    assert [m.role for m in agent.messages] == ["user", "assistant", "tool"]
    # the server accepts the history as it stands (every call answered)
    events = await run(agent, "My name is Ada.")
    assert events[-1].reason == "completed" and "Ada" in events[-1].final_message


async def test_leaving_a_run_early_changes_nothing(mock_app):
    agent = Agent(mock_model(mock_app, False, "stream-sse"), tools=[get_temperature])
    async for event in agent.run(QUESTION):
        if isinstance(event, ToolCallEvent):
            break
    await asyncio.sleep(0)
    assert agent.messages == []


async def test_leaving_a_run_while_tools_run_cancels_them():
    sent: list[dict[str, Any]] = []
    replies = [response_json("resp_1", call_item("fast", "{}", "call_f"), call_item("slow", "{}", "call_s"))]
    cancelled = asyncio.Event()

    @tool
    async def fast() -> str:
        """F."""
        return "done"

    @tool
    async def slow() -> str:
        """S."""
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "too late"

    agent = Agent(canned_model(replies, sent), tools=[fast, slow])
    async with contextlib.aclosing(agent.run("Go.")) as events:
        async for event in events:
            if isinstance(event, ToolResultEvent):  # fast's result; slow is still running
                break
    await asyncio.wait_for(cancelled.wait(), 5)
    assert agent.messages == []


def test_configuration_errors():
    def get_time() -> str:
        """Now."""
        return "noon"

    agent = Agent(model=None, tools=[get_temperature, get_time])
    assert list(agent.tools) == ["get_temperature", "get_time"]  # plain functions become tools
    with pytest.raises(ConfigError, match="two tools are named 'get_time'"):
        Agent(model=None, tools=[get_time, tool(get_time)])
    with pytest.raises(ConfigError, match="max_iterations"):
        Agent(model=None, max_iterations=0)


# -- the usage of every turn, and the model's own way to mask its secrets --------------------------


async def test_terminate_event_sums_the_usage_of_every_turn_with_cached_and_reasoning_tokens():
    def with_usage(reply: dict[str, Any], cached: int, reasoning: int) -> dict[str, Any]:
        return {**reply, "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
                                   "input_tokens_details": {"cached_tokens": cached},
                                   "output_tokens_details": {"reasoning_tokens": reasoning}}}

    replies = [with_usage(response_json("resp_1", call_item("get_temperature", '{"city": "Paris"}', "call_a")), 2, 3),
               with_usage(response_json("resp_2", message_item("18°C in Paris.")), 8, 1)]
    events = await run(Agent(canned_model(replies, []), tools=[get_temperature]), QUESTION)
    assert events[-1].usage == Usage(input_tokens=20, output_tokens=10, total_tokens=30, cached_tokens=10,
                                     reasoning_tokens=4)


class _RedactingModel:
    """A duck-typed model (no OCIResponsesModel) that knows its own secret and says how to mask it."""

    server_stateful = False

    def __init__(self) -> None:
        self.replies = iter([response_json("resp_1", call_item("lookup", "{}", "call_1")),
                             response_json("resp_2", message_item("It failed."))])

    async def complete(self, messages, provider_state=None, *, tools=(), **options):
        from locus_nb._wire import parse_response

        return parse_response(next(self.replies), store=False)

    def redact(self, text: str) -> str:
        return text.replace("hunter2", "[mine]")


@pytest.mark.parametrize("redacts", [True, False], ids=["model.redact", "no redact"])
async def test_a_tool_failure_is_masked_by_the_models_own_redact(redacts):
    @tool
    def lookup() -> str:
        """Look it up."""
        raise RuntimeError("password hunter2 refused, token ST$abcdefghijklmnop")

    model = _RedactingModel()
    if not redacts:  # a model without redact() still works: what looks like a token is masked anyway
        model.redact = None
    events = await run(Agent(model, tools=[lookup], stream=False), "look it up")
    [result] = of(events, ToolResultEvent)
    mine = "[mine]" if redacts else "hunter2"
    assert result.result == f"Error: lookup raised RuntimeError: password {mine} refused, token ST$****"
