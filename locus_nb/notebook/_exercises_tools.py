"""The checks of lesson 03's exercises (your own tool, and one that fails well). See `_exercises`.

The questions name a real country and an amount, so a real model calls the tool as the mock does; the
checks look at the schema, at what the tool returns or raises, at the arguments the model sent, and at
whether the answer names the number (or the countries), never at wording.
"""

from __future__ import annotations

import re
from typing import Any

from .._agent import Agent
from .._events import TerminateEvent
from .._tools import Tool
from ._exercises import Trial
from ._learner_code import inline_tool

# The lesson's table (the exercise cells define the same RATES): one euro in each country's currency.
RATES = {"Japan": ("JPY", 160.0), "Norway": ("NOK", 11.5), "Switzerland": ("CHF", 0.95)}
CONVERT = "How much is 20 euros in the currency of Norway?"
AMOUNT, COUNTRY, CONVERTED = 20, "Norway", "230"  # 20 × 11.5
UNKNOWN = "Brazil"  # a real country (a real model calls the tool for it), not in RATES
ASK_RATE = f"What is the exchange rate of the euro in {UNKNOWN}?"
SYSTEM = "Answer with the tools you have."


def _mentions(text: Any, number: str) -> bool:
    """`230` in `text` as a number: 230, 230.0, 230,00 or 1,230 is not it."""
    plain = re.sub(r"(?<=\d)[,\u202f ](?=\d{3}\b)", "", str(text))
    return re.search(rf"(?<![\d.,]){number}(?:[.,]0+)?(?![\d])", plain) is not None


def _is_tool(t: Trial, answer: Any, name: str) -> Tool:
    t.require(isinstance(answer, Tool), f"`{name}` is a plain {type(answer).__name__}, not a tool",
              "put `@tool` on the line above `def`: it turns the function into a tool the agent can offer")
    return answer


async def _agent_run(t: Trial, tool: Tool, question: str) -> tuple[list[dict[str, Any]], TerminateEvent | None]:
    calls: list[dict[str, Any]] = []
    agent = Agent(model=t.model(), tools=[inline_tool(tool, calls)], max_iterations=4, system_prompt=SYSTEM)
    final = None
    with t.watch():
        async for event in agent.run(question):
            if isinstance(event, TerminateEvent):
                final = event
    return calls, final


def _parameters(tool: Tool) -> tuple[str | None, str | None, str | None]:
    """The amount's and the country's parameter names, and what is wrong with the schema (None: nothing)."""
    props: dict[str, Any] = tool.parameters.get("properties") or {}
    numbers = [n for n, p in props.items() if p.get("type") in ("number", "integer")]
    texts = [n for n, p in props.items() if p.get("type") == "string"]
    untyped = [n for n, p in props.items() if "type" not in p]
    if untyped:
        return None, None, f"`{untyped[0]}` has no type hint"
    if len(props) != 2 or not numbers or not texts:
        return None, None, f"its parameters are {', '.join(props) or 'none'}; it takes an amount and a country"
    bare = [n for n, p in props.items() if not str(p.get("description", "")).strip() or "TODO" in p["description"]]
    if bare:
        return numbers[0], texts[0], f"`{bare[0]}` has no description"
    return numbers[0], texts[0], None


async def check_03_1(t: Trial, answer: Any) -> str:
    tool = _is_tool(t, answer, "convert_currency")
    t.require(tool.name == "convert_currency" and tool.description.strip() and "TODO" not in tool.description,
              f"the tool is named {tool.name!r}" if tool.name != "convert_currency" else
              "its description (the docstring's first line) still says TODO" if "TODO" in tool.description else
              "it has no description", "keep the name convert_currency, and say in the docstring's first line what "
              "it does (\"Convert an amount of euros into a country's currency.\"): the model reads that")
    amount, country, problem = _parameters(tool)
    t.require(problem is None, f"{problem}: the schema is all the model sees of your function",
              "write `amount: float, country: str`, and describe each under `Args:` in the docstring")
    result = await t.run(tool.function, **{amount: AMOUNT, country: COUNTRY},
                         call=f"convert_currency({amount}={AMOUNT}, {country}={COUNTRY!r})")
    t.require(isinstance(result, str | int | float) and _mentions(result, CONVERTED),
              f"convert_currency({AMOUNT}, {COUNTRY!r}) returned {result!r}; 20 euros is 230 NOK (20 × 11.5)",
              "a tool's return value is what the model reads: return a sentence with the converted amount"
              if result is None or not isinstance(result, str | int | float) else
              "multiply the amount by the rate in RATES[country]")
    calls, final = await _agent_run(t, tool, CONVERT)
    sent = [c["arguments"] for c in calls]
    t.require(any(_mentions(a.get(amount), str(AMOUNT)) and str(a.get(country, "")).strip().lower() == "norway"
                  for a in sent),
              f"asked {CONVERT!r}, the model called convert_currency with {sent}" if sent else
              f"asked {CONVERT!r}, the model did not call convert_currency",
              "the name and the description decide whether the model calls a tool, the argument descriptions "
              "what it sends: say what each argument is (\"The country's name, e.g. 'Japan'\")")
    t.require(final is not None and _mentions(final.final_message, CONVERTED),
              f"the final answer does not give 230: {final.final_message if final else None!r}",
              "return the converted amount in words the model can repeat (\"20 euros is 230.0 NOK\")")
    return f"the model called convert_currency({sent[0]}) and answered with 230"


async def check_03_2(t: Trial, answer: Any) -> str:
    tool = _is_tool(t, answer, "exchange_rate")
    t.require(tool.name == "exchange_rate" and "country" in (tool.parameters.get("properties") or {}),
              f"the tool is now {tool.name}({', '.join(tool.parameters.get('properties') or {})})",
              "change only the line with `raise TODO`; keep `exchange_rate(country: str)`")
    known = await t.run(tool.function, country="Japan", call="exchange_rate('Japan')")
    t.require(_mentions(known, "160"), f"exchange_rate('Japan') returned {known!r}, not Japan's rate (160)",
              "your change broke the countries RATES knows: raise only when the country is not in RATES")
    error = await t.run(tool.function, country=UNKNOWN, call=f"exchange_rate({UNKNOWN!r})", raises=True)
    t.require(isinstance(error, Exception), f"exchange_rate({UNKNOWN!r}) returned {error!r}",
              "a returned value reads as an answer; `raise` an error, so the agent reports it to the model as one")
    message = str(error)
    t.require(UNKNOWN in message and all(c in message for c in RATES),
              f"the error says {message!r}",
              f"say in the message which country failed and which ones you know: "
              f"f\"no rate for {{country}}; I know {{', '.join(RATES)}}\"")
    calls, final = await _agent_run(t, tool, ASK_RATE)
    failed = [c for c in calls if "error" in c and str(c["arguments"].get("country", "")).lower() == UNKNOWN.lower()]
    answer_text = final.final_message if final else ""
    t.require(failed and final is not None and final.reason == "completed"
              and any(c.lower() in answer_text.lower() for c in (UNKNOWN, *RATES)),
              f"asked {ASK_RATE!r}, the model {'answered ' + repr(answer_text) if failed else 'never saw the error'}",
              "the error goes back to the model as the tool's result; its message is all the model can explain")
    return f"for {UNKNOWN} the tool raised, and the model answered from the error: {answer_text!r}"
