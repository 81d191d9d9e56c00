"""The mock's deterministic "model": a few honest rules over the conversation it can see.

It recalls facts only if they are in what it was sent (plus the stored chain), so a
client that drops history shows up as a failed recall, just as with a real model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Reply", "count_tokens", "filler", "item_text", "reply", "truncate_tokens", "word_pieces"]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PIECE = re.compile(r"\s*\S+")
_NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_FACT = re.compile(r"\bmy ([a-z][a-z ]{0,40}?) (?:is|are) ([^.!?\n]+)", re.I)
_NAME = re.compile(r"\b(?:i am|i'm|call me) ([A-Z][\w-]+)")
_QUESTION = re.compile(r"\bwhat(?:'s| is| are| was) my ([a-z][a-z ]{0,40}?)\s*\??$", re.I)
_COUNT = re.compile(r"\bcount (?:from (\w+) )?to (\w+)", re.I)
_PROPER = r"[A-Z][\w'-]+(?: [A-Z][\w'-]+)*"
_PLACE = re.compile(rf"\b(?:in|for|at|of) ({_PROPER})")
_MORE_PLACES = re.compile(rf"^(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)({_PROPER})")
_TOOL_STOPWORDS = {"get", "set", "fetch", "lookup", "find", "current", "the", "for", "and", "tool"}
_PLACE_WORDS = {"city", "cities", "location", "locations", "place", "places", "country", "countries", "region",
                "town", "destination", "capital", "where"}
_ANSWER_WORDS = {"answer", "response", "reply", "text", "result", "message", "content", "summary"}
_MAX_DEPTH = 8
_FILLER = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
           "et dolore magna aliqua").split()


@dataclass
class Reply:
    text: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    thought: str = ""  # the reasoning behind it (a reasoning item when the request asks for reasoning)
    summary: list[str] = field(default_factory=list)  # reasoning summary parts, when asked for


# -- tokens -----------------------------------------------------------------------------------


def count_tokens(text: str) -> int:
    return _TOKEN.subn("", text)[1]  # the count of matches, without building a list of them


def truncate_tokens(text: str, limit: int) -> str:
    """The first `limit` tokens of `text` (what a capped generation would have produced)."""
    if limit <= 0:
        return ""
    for n, match in enumerate(_TOKEN.finditer(text), start=1):
        if n == limit:
            return text[: match.end()]
    return text


def word_pieces(text: str) -> list[str]:
    """Word-sized stream deltas that concatenate back to `text` exactly."""
    pieces = _PIECE.findall(text)
    if not pieces:
        return [text] if text else []
    tail = len(text) - sum(map(len, pieces))
    if tail:
        pieces[-1] += text[-tail:]
    return pieces


def filler(words: int) -> str:
    """`words` one-token words: a reply of an exact length (benchmarks ask for one via metadata)."""
    return " ".join(_FILLER[i % len(_FILLER)] for i in range(words))


# -- reading the conversation ---------------------------------------------------------------------


def item_text(item: Mapping[str, Any]) -> str:
    """The readable text of one conversation item (message, call, call output, reasoning)."""
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
        return out if isinstance(out, str) else "".join(p.get("text", "") for p in out or ())
    if kind == "reasoning":
        # `thought` is what the mock recovered from encrypted_content or its store.
        return item.get("thought") or " ".join(s.get("text", "") for s in item.get("summary") or ())
    return ""


def _user_texts(items: Sequence[Mapping[str, Any]]) -> list[str]:
    return [item_text(i) for i in items if i.get("type", "message") == "message" and i.get("role") == "user"]


def _to_int(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    word = word.lower()
    return _NUMBERS.index(word) + 1 if word in _NUMBERS else None


def _facts(texts: Sequence[str]) -> dict[str, str]:
    """Facts stated so far ("my X is Y"), the latest statement winning."""
    facts: dict[str, str] = {}
    for text in texts:
        facts.update((key.strip().lower(), value.strip()) for key, value in _FACT.findall(text))
        if m := _NAME.search(text):
            facts["name"] = m.group(1)
    return facts


def _recall(attribute: str, earlier: Sequence[str]) -> str | None:
    attribute = attribute.strip().lower()
    for text in reversed(earlier):
        for key, value in _FACT.findall(text):
            if key.strip().lower() == attribute:
                return value.strip()
        if attribute == "name" and (m := _NAME.search(text)):
            return m.group(1)
    return None


def _places(question: str) -> list[str]:
    """Proper names after in/for/at/of, plus any joined to them with "and" or commas."""
    m = _PLACE.search(question)
    if not m:
        return []
    places, rest = [m.group(1)], question[m.end():]
    while more := _MORE_PLACES.match(rest):
        places.append(more.group(1))
        rest = rest[more.end():]
    return places


def _trailing_outputs(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    outputs: list[Mapping[str, Any]] = []
    for item in reversed(items):
        if item.get("type") != "function_call_output":
            break
        outputs.insert(0, item)
    return outputs


# -- values that satisfy a JSON schema (tool arguments, structured output) -----------------------


@dataclass
class _Evidence:
    """What the model can fill a value from."""

    question: str
    places: list[str]
    numbers: list[str]
    facts: dict[str, str]
    outputs: list[str]  # tool results seen so far, latest last
    text: str  # the default for free-text fields


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {})
        return _resolve(target, root)
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or () if o.get("type") != "null"]
        if options:
            return _resolve({**options[0], **{k: v for k, v in schema.items() if k != key}}, root)
    return schema


def _string_for(name: str, spec: Mapping[str, Any], ev: _Evidence) -> str:
    """A string argument: a fact named by the parameter itself ("my city is Oslo" for `city`), else for a
    place the place the question names, else a fact its description names, else the question's text.
    The question being answered comes before a fact its description happens to mention: "My name is
    Ada." then "temperature in Paris?" calls `get_temperature(city="Paris")`, though the description
    says "The city's name"."""
    named = set(re.split(r"[_\W]+", name.lower()))
    described = set(re.findall(r"[a-z]+", str(spec.get("description", "")).lower()))
    for words in (named, None, described):
        if words is None:
            if named & _PLACE_WORDS:
                return ev.places[0] if ev.places else ev.outputs[-1] if ev.outputs else ev.text
            continue
        for key, value in ev.facts.items():
            if key.split()[-1] in words:
                return value
    words = named | described
    if words & _ANSWER_WORDS:
        return ev.text
    return ev.places[0] if ev.places else ev.text


def _nullable(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind) or any(
        o.get("type") == "null" for key in ("anyOf", "oneOf") for o in schema.get(key) or ())


def _value_for(name: str, schema: Mapping[str, Any], ev: _Evidence, root: Mapping[str, Any], depth: int = 0) -> Any:
    if depth > _MAX_DEPTH and _nullable(schema):  # a self-referencing schema ends where it may
        return None
    spec = _resolve(schema, root)
    if "const" in spec:
        return spec["const"]
    if "enum" in spec:
        mentioned = [v for v in spec["enum"] if str(v).lower() in ev.question.lower()]
        return mentioned[0] if mentioned else spec["enum"][0]
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in spec):
        props: Mapping[str, Any] = spec.get("properties") or {}
        if depth > 2 * _MAX_DEPTH:
            raise ValueError("schema nests too deeply for the scripted model")
        return {key: _value_for(key, sub, ev, root, depth + 1) for key, sub in props.items()}
    if kind == "array":
        item_schema = spec.get("items") or {}
        if set(re.split(r"[_\W]+", name.lower())) & _PLACE_WORDS and ev.places:
            return ev.places[: spec.get("maxItems") or len(ev.places)]
        return [_value_for(name, item_schema, ev, root, depth + 1) for _ in range(spec.get("minItems") or 0)]
    if kind in ("integer", "number"):
        value = float(ev.numbers.pop(0)) if ev.numbers else spec.get("minimum", 1)
        value = min(max(value, spec.get("minimum", value)), spec.get("maximum", value))
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    text = _string_for(name, spec, ev)
    if len(text) < spec.get("minLength", 0):
        text = text.ljust(spec["minLength"], ".")
    return text[: spec["maxLength"]] if "maxLength" in spec else text


def schema_instance(schema: Mapping[str, Any], ev: _Evidence, name: str = "") -> Any:
    return _value_for(name, schema, ev, schema)


# -- choosing what to say --------------------------------------------------------------------------


def _offered(tools: Sequence[Mapping[str, Any]], tool_choice: Any) -> tuple[list[Mapping[str, Any]], bool]:
    """The function tools the model may call, and whether it must call one."""
    functions = [t for t in tools if t.get("type") == "function"]
    if tool_choice == "none":
        return [], False
    if isinstance(tool_choice, Mapping):
        if tool_choice.get("type") == "function":
            return [t for t in functions if t.get("name") == tool_choice.get("name")], True
        if tool_choice.get("type") == "allowed_tools":
            names = {t.get("name") for t in tool_choice.get("tools") or ()}
            return [t for t in functions if t.get("name") in names], tool_choice.get("mode") == "required"
    return functions, tool_choice == "required"


def _fitting_tool(question: str, tools: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    if not tools:  # (no need to split a long question into words)
        return None
    words = set(re.findall(r"[a-z]+", question.lower()))
    for tool in tools:
        keys = {w for w in re.split(r"[_\W]+", tool.get("name", "").lower()) if len(w) > 2} - _TOOL_STOPWORDS
        if keys & words or {k.rstrip("s") for k in keys} & words:
            return tool
    return None


def _calls_for(tool: Mapping[str, Any], ev: _Evidence, parallel: bool) -> list[tuple[str, dict[str, Any]]]:
    """One call, or one per place named when the tool takes a place and parallel calls are allowed."""
    schema = tool.get("parameters") or {"type": "object", "properties": {}}
    takes_place = any(set(re.split(r"[_\W]+", k.lower())) & _PLACE_WORDS
                      for k in (schema.get("properties") or {}))
    groups = [[p] for p in ev.places] if parallel and takes_place and len(ev.places) > 1 else [ev.places]
    calls = []
    for places in groups:
        each = _Evidence(ev.question, list(places), list(ev.numbers), ev.facts, ev.outputs, ev.text)
        arguments = schema_instance(schema, each)
        calls.append((tool["name"], arguments if isinstance(arguments, dict) else {}))
    return calls


def _conversational(question: str, earlier: Sequence[str], instructions: str | None) -> str:
    # Each pattern's first word, looked up first: a long prompt without it is not scanned by the pattern
    # (re.I folds no other character onto these letters, so nothing the pattern would match is skipped).
    lowered = question.lower()
    if "count" in lowered and (m := _COUNT.search(question)):
        start = _to_int(m.group(1) or "1") or 1
        end = _to_int(m.group(2)) or 5
        numbers = [str(n) for n in range(start, end + 1)]
        sep = "\n" if re.search(r"per line|each line|new line|line by line", question, re.I) else ", "
        return sep.join(numbers)

    if "what" in lowered and (m := _QUESTION.search(question)):
        attribute = m.group(1).strip()
        value = _recall(attribute, earlier)
        if value is None:
            return f"I don't know your {attribute} — you haven't told me in this conversation."
        return f"Your {attribute} is {value}."

    if "my" in lowered and (fact := _FACT.search(question)):
        key, value = fact.groups()
        return f"Got it: your {key.strip().lower()} is {value.strip()}."

    if instructions and re.search(r"\bbrief|concise|short\b", instructions, re.I):
        return "OK."
    return f"You said: {question}" if question else "I'm listening."


def _follow_instructions(text: str, instructions: str | None) -> str:
    """The style instructions the scripted model understands (anything else it ignores)."""
    if not instructions:
        return text
    if m := re.search(r"\b(?:start|begin|prefix) (?:every |each |all |your )?(?:answer|reply|response)s? with "
                      r"[\"“']([^\"”']+)[\"”']", instructions, re.I):
        text = f"{m.group(1)} {text}"
    if re.search(r"\b(?:upper ?case|all caps|capital letters)\b", instructions, re.I):
        text = text.upper()
    return text


def _formatted(text: str, text_format: Mapping[str, Any] | None, evidence: Callable[[], _Evidence]) -> str:
    kind = (text_format or {}).get("type")
    if kind == "json_schema":
        ev = evidence()
        ev.text = text
        return _compact(schema_instance(text_format.get("schema") or {}, ev))
    if kind == "json_object":
        return _compact({"answer": text})
    return text


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _reasoning(question: str, reply: Reply, answered_from_tool: bool) -> tuple[str, list[str]]:
    asked = f'The user asks: "{question}".' if question else "There is no question yet."
    if reply.calls:
        plan = " ".join(f"The {name} tool fits; I will call it with {_compact(args)}." for name, args in reply.calls)
    elif answered_from_tool:
        plan = "The tool result answers the question; I will report it."
    else:
        plan = f"I can answer directly: {reply.text}"
    return f"{asked} {plan}", [f"**Understanding the request**\n\n{asked}", f"**Planning the answer**\n\n{plan}"]


def reply(
    items: Sequence[Mapping[str, Any]],
    *,
    instructions: str | None = None,
    tools: Sequence[Mapping[str, Any]] = (),
    tool_choice: Any = "auto",
    parallel_tool_calls: bool = True,
    text_format: Mapping[str, Any] | None = None,
    reasoning: bool = False,
    text_tokens: int | None = None,
) -> Reply:
    """What the scripted model says next, given everything it can see."""
    users = _user_texts(items)
    question = users[-1].strip() if users else ""

    def evidence() -> _Evidence:  # read only for a tool call or a JSON-schema answer: each is a scan of every prompt
        outputs = [item_text(i) for i in items if i.get("type") == "function_call_output"]
        return _Evidence(question, _places(question), re.findall(r"-?\d+(?:\.\d+)?", question), _facts(users),
                         outputs, question)
    offered, must_call = _offered(tools, tool_choice)
    answered = _trailing_outputs(items)

    if text_tokens is not None:
        result = Reply(filler(text_tokens))
    elif not items:
        result = Reply("Hello! What would you like to talk about?")
    elif answered and not must_call:
        names = {i.get("call_id"): i.get("name") for i in items if i.get("type") == "function_call"}
        said = "\n".join(f"According to {names.get(o.get('call_id'), 'the tool')}: {item_text(o)}" for o in answered)
        result = Reply(_formatted(_follow_instructions(said, instructions), text_format, evidence))
    elif (tool := _fitting_tool(question, offered) or (offered[0] if must_call and offered else None)) is not None:
        result = Reply(calls=_calls_for(tool, evidence(), parallel_tool_calls))
    else:
        said = _conversational(question, users[:-1], instructions)
        result = Reply(_formatted(_follow_instructions(said, instructions), text_format, evidence))

    if reasoning:
        result.thought, result.summary = _reasoning(question, result, bool(answered))
    return result
