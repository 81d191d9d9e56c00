"""The mock's deterministic "model": a few honest rules over the conversation it can see.

It recalls facts only if they are in what it was sent (plus the stored chain), so a
client that drops history shows up as a failed recall, just as with a real model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Reply", "count_tokens", "item_text", "reply"]

_WORD = re.compile(r"\w+|[^\w\s]")
_NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_FACT = re.compile(r"\bmy ([a-z][a-z ]{0,40}?) (?:is|are) ([^.!?\n]+)", re.I)
_NAME = re.compile(r"\b(?:i am|i'm|call me) ([A-Z][\w-]+)")
_QUESTION = re.compile(r"\bwhat(?:'s| is| are| was) my ([a-z][a-z ]{0,40}?)\s*\??$", re.I)
_COUNT = re.compile(r"\bcount (?:from (\w+) )?to (\w+)", re.I)
_PLACE = re.compile(r"\b(?:in|for|at) ([A-Z][\w'-]+(?: [A-Z][\w'-]+)*)")
_TOOL_STOPWORDS = {"get", "set", "fetch", "lookup", "find", "current", "the", "for", "and", "tool"}


@dataclass
class Reply:
    text: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def count_tokens(text: str) -> int:
    return len(_WORD.findall(text))


def item_text(item: Mapping[str, Any]) -> str:
    """The readable text of one conversation item (message, call or call output)."""
    kind = item.get("type", "message")
    if kind == "message":
        content = item.get("content")
        if isinstance(content, str):
            return content
        return "".join(p.get("text") or p.get("refusal") or "" for p in content or ())
    if kind == "function_call":
        return f"{item.get('name', '')}({item.get('arguments', '')})"
    if kind == "function_call_output":
        out = item.get("output")
        return out if isinstance(out, str) else json.dumps(out)
    if kind == "reasoning":
        return " ".join(s.get("text", "") for s in item.get("summary") or ())
    return ""


def _user_texts(items: Sequence[Mapping[str, Any]]) -> list[str]:
    return [item_text(i) for i in items if i.get("type", "message") == "message" and i.get("role") == "user"]


def _to_int(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    word = word.lower()
    return _NUMBERS.index(word) + 1 if word in _NUMBERS else None


def _recall(attribute: str, earlier: Sequence[str]) -> str | None:
    attribute = attribute.strip().lower()
    for text in reversed(earlier):
        for key, value in _FACT.findall(text):
            if key.strip().lower() == attribute:
                return value.strip()
        if attribute == "name" and (m := _NAME.search(text)):
            return m.group(1)
    return None


def _fitting_tool(question: str, tools: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    words = set(re.findall(r"[a-z]+", question.lower()))
    for tool in tools:
        if tool.get("type") != "function":
            continue
        keys = {w for w in re.split(r"[_\W]+", tool.get("name", "").lower()) if len(w) > 2} - _TOOL_STOPWORDS
        if keys & words or {k.rstrip("s") for k in keys} & words:
            return tool
    return None


def _arguments_for(tool: Mapping[str, Any], question: str) -> dict[str, Any]:
    """Arguments filled from the question, of the types the tool's schema asks for."""
    schema = tool.get("parameters") or {}
    props: Mapping[str, Any] = schema.get("properties") or {}
    place = _PLACE.search(question)
    numbers = re.findall(r"-?\d+(?:\.\d+)?", question)
    args: dict[str, Any] = {}
    for name, spec in props.items():
        kind = spec.get("type")
        if "enum" in spec:
            mentioned = [v for v in spec["enum"] if str(v).lower() in question.lower()]
            args[name] = mentioned[0] if mentioned else spec["enum"][0]
        elif kind == "string":
            args[name] = place.group(1) if place else question.strip().rstrip("?")
        elif kind in ("integer", "number"):
            value = float(numbers.pop(0)) if numbers else 1
            args[name] = int(value) if kind == "integer" else value
        elif kind == "boolean":
            args[name] = False
        elif name in (schema.get("required") or ()):
            args[name] = {} if kind == "object" else []
    return args


def reply(
    items: Sequence[Mapping[str, Any]],
    *,
    instructions: str | None = None,
    tools: Sequence[Mapping[str, Any]] = (),
) -> Reply:
    """What the scripted model says next, given everything it can see."""
    if not items:
        return Reply("Hello! What would you like to talk about?")
    last = items[-1]
    if last.get("type") == "function_call_output":
        calls = {i.get("call_id"): i.get("name") for i in items if i.get("type") == "function_call"}
        name = calls.get(last.get("call_id"), "the tool")
        return Reply(f"According to {name}: {item_text(last)}")

    users = _user_texts(items)
    question = users[-1].strip() if users else ""
    earlier = users[:-1]

    tool = _fitting_tool(question, tools)
    if tool is not None:
        return Reply(calls=[(tool["name"], _arguments_for(tool, question))])

    if m := _COUNT.search(question):
        start = _to_int(m.group(1) or "1") or 1
        end = _to_int(m.group(2)) or 5
        numbers = [str(n) for n in range(start, end + 1)]
        sep = "\n" if re.search(r"per line|each line|new line|line by line", question, re.I) else ", "
        return Reply(sep.join(numbers))

    if m := _QUESTION.search(question):
        attribute = m.group(1).strip()
        value = _recall(attribute, earlier)
        if value is None:
            return Reply(f"I don't know your {attribute} — you haven't told me in this conversation.")
        return Reply(f"Your {attribute} is {value}.")

    facts = _FACT.findall(question)
    if facts:
        key, value = facts[0]
        return Reply(f"Got it: your {key.strip().lower()} is {value.strip()}.")

    if instructions and re.search(r"\bbrief|concise|short\b", instructions, re.I):
        return Reply("OK.")
    return Reply(f"You said: {question}" if question else "I'm listening.")
