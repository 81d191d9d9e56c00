"""`Agent`: the tool loop. Ask the model; run the tools it calls; send the results; repeat.

    agent = Agent(model, tools=[get_temperature], max_iterations=4, system_prompt="…")
    async for event in agent.run("What's the temperature in Paris?"):
        ...  # ModelChunkEvent, ToolCallEvent, ToolResultEvent, then one TerminateEvent

Each iteration streams the model's answer (`model.stream`), so a notebook shows text as it
arrives; `Agent(..., stream=False)` uses `model.complete` and yields the same kinds of events
all at once. A server that does not stream at all also works (`stream()` accepts a plain JSON reply).

The conversation lives in `agent.messages` and carries over between `run()` calls. It changes only when an iteration
is complete (the model's answer, plus the results of the tools it called), so a failed or interrupted turn leaves it
consistent and a new `run()` can go on. With a store=True model only what is new since the last response is sent, with
its `previous_response_id` — or on a conversation the server holds, after `agent.provider_state = conv.provider_state`
(`model.create_conversation()`); otherwise the whole history, every time.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from ._errors import ConfigError, LocusError, StreamTruncated, mask_secrets
from ._events import AgentEvent, ModelChunkEvent, TerminateEvent, ToolCallEvent, ToolResultEvent
from ._messages import Message, ModelResponse, ToolCall, Usage
from ._stream import chunks_from_response
from ._tools import Tool, tool, tool_list, tool_output
from ._wire import arguments_problem

__all__ = ["Agent", "AgentHooks", "Veto"]


@dataclass(frozen=True)
class Veto:
    """Returned by `on_before_tool_call` to refuse a call; the model is told `reason`."""

    reason: str = "not allowed"


class AgentHooks:
    """Override what you need; sync or async methods both work. A dict of callables works too."""

    def on_before_tool_call(self, call: ToolCall) -> ToolCall | Veto | None:
        """None runs the call as is; a `ToolCall` runs that instead; a `Veto` refuses it."""
        return None

    def on_after_tool_call(self, call: ToolCall, result: str, is_error: bool) -> str | None:
        """A string returned here replaces the result the model sees."""
        return None


class Agent:
    def __init__(self, model: Any, tools: Iterable[Tool | Callable[..., Any]] = (), *, max_iterations: int = 10,
                 system_prompt: str | None = None, hooks: AgentHooks | Mapping[str, Callable[..., Any]] | Any = None,
                 stream: bool = True, **options: Any) -> None:
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
            raise ConfigError(f"max_iterations must be a whole number of at least 1 (model calls per run); "
                              f"got {type(max_iterations).__name__} {max_iterations!r}")
        if system_prompt is not None and not isinstance(system_prompt, str):
            raise ConfigError(f"system_prompt must be text (a str) or None; got {type(system_prompt).__name__}")
        self.model = model
        self.tools: dict[str, Tool] = {}
        for t in map(tool, tool_list(tools, runnable=True)):  # (a `@tool` stays as it is)
            if t.name in self.tools:
                raise ConfigError(f"two tools are named {t.name!r}; pass tool(name=...) to tell them apart")
            self.tools[t.name] = t
        self.max_iterations = max_iterations
        self.system_prompt = system_prompt
        self.hooks = hooks
        self.stream = stream
        self.options = options  # passed to every model call (temperature, reasoning, ...)
        self.messages: list[Message] = []  # the conversation so far (without the system prompt)
        self.provider_state: dict[str, Any] = {}

    def reset(self) -> None:
        """Forget the conversation."""
        self.messages = []
        self.provider_state = {}

    async def run(self, prompt: str) -> AsyncIterator[AgentEvent]:
        staged = [Message.user(prompt)]  # sent, but not yet part of the conversation
        texts: list[str] = []
        usage = Usage()
        total_calls = 0
        for iteration in range(1, self.max_iterations + 1):
            response: ModelResponse | None = None
            async with aclosing(self._ask(staged)) as chunks:
                async for chunk in chunks:
                    if chunk.done:
                        response = chunk.response
                    yield chunk
            if response is None:
                raise StreamTruncated("the model's answer ended without its final response")
            usage += response.usage
            if response.text:
                texts.append(response.text)
            calls = response.message.tool_calls
            outputs: list[Message] = []
            if calls:
                async with aclosing(self._run_tools(calls)) as events:
                    async for event in events:
                        yield event
                        if isinstance(event, ToolResultEvent):  # in call order; answers the model's own call id
                            outputs.append(Message.tool(calls[len(outputs)].id, event.result))
                total_calls += len(calls)
            # The iteration is complete: only now does it join the conversation.
            self.messages += [*staged, response.message, *outputs]
            if getattr(self.model, "server_stateful", False) is True:
                self.provider_state = dict(response.provider_state)
            staged = []
            if not calls:
                reason = "incomplete" if response.status == "incomplete" else "completed"
                yield TerminateEvent(response.text, iteration, total_calls, reason=reason, usage=usage)
                return
        yield TerminateEvent("\n\n".join(texts), self.max_iterations, total_calls, reason="max_iterations", usage=usage)

    # -- one model call -----------------------------------------------------------------------

    async def _ask(self, staged: list[Message]) -> AsyncIterator[ModelChunkEvent]:
        # The whole conversation and the server's state: with a `previous_response_id` the model
        # itself sends only what came after its last response (the store rules live in build_request).
        system = [Message.system(self.system_prompt)] if self.system_prompt else []
        messages, provider_state = [*system, *self.messages, *staged], self.provider_state or None
        tools = list(self.tools.values())
        if self.stream and hasattr(self.model, "stream"):
            async with aclosing(self.model.stream(messages, provider_state, tools=tools, **self.options)) as chunks:
                async for chunk in chunks:
                    yield chunk
        else:
            response = await self.model.complete(messages, provider_state, tools=tools, **self.options)
            for chunk in chunks_from_response(response):
                yield chunk

    # -- the tools ------------------------------------------------------------------------------

    async def _run_tools(self, calls: tuple[ToolCall, ...]) -> AsyncIterator[ToolCallEvent | ToolResultEvent]:
        """Ask the before-hook about each call in order, run the allowed ones concurrently, and
        report results in call order (stable output for notebooks)."""
        before, after = self._hook("on_before_tool_call"), self._hook("on_after_tool_call")
        planned: list[tuple[ToolCall, asyncio.Task[tuple[str, bool]] | None, str]] = []
        try:
            for call in calls:
                decision = await _call(before, call) if before else None
                if isinstance(decision, ToolCall):
                    call = decision
                yield ToolCallEvent(call)
                if isinstance(decision, Veto):
                    planned.append((call, None, f"Error: the application refused this call: {decision.reason}"))
                else:
                    planned.append((call, asyncio.create_task(self._execute(call)), ""))
            for call, task, refusal in planned:
                result, is_error = (refusal, True) if task is None else await task
                if after:
                    replaced = await _call(after, call, result, is_error)
                    if isinstance(replaced, str):
                        result = replaced
                yield ToolResultEvent(call, result, is_error=is_error)
        finally:  # interrupted (break, cancel, a hook that raised): stop the tools still running
            for _, task, _ in planned:
                if task is not None and not task.done():
                    task.cancel()

    async def _execute(self, call: ToolCall) -> tuple[str, bool]:
        """The text the model gets back, and whether it reports an error. Never raises for a tool's fault."""
        found = self.tools.get(call.name)
        if found is None:
            return f"Error: there is no tool named {call.name!r}; available: {', '.join(self.tools) or 'none'}.", True
        if problem := arguments_problem(call):
            return f"Error: the arguments for {call.name} are {problem}; send a JSON object that fits its schema.", True
        try:
            return tool_output(await found.invoke(call.arguments)), False
        except LocusError as exc:  # invalid arguments: the message says which
            return f"Error: {exc}", True
        except Exception as exc:  # the tool itself failed; the model may try another way
            # What a tool says about its failure reaches the model and the transcript: the model's `redact()` (a
            # duck-typed model may have none) masks the caller's own credentials too, not only what looks like one.
            text = f"Error: {call.name} raised {type(exc).__name__}: {exc}"
            redact = getattr(self.model, "redact", None)
            return mask_secrets(redact(text) if callable(redact) else text), True

    def _hook(self, name: str) -> Callable[..., Any] | None:
        return self.hooks.get(name) if isinstance(self.hooks, Mapping) else getattr(self.hooks, name, None)


async def _call(function: Callable[..., Any | Awaitable[Any]], *args: Any) -> Any:
    result = function(*args)
    return await result if inspect.isawaitable(result) else result
