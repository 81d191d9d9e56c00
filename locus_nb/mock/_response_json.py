"""The Response object and its output items, in the wire's key order.

Field set and key order follow the newest recordings (2026-07 `stream_reasoning_commentary_function_call_gpt55.sse`,
2026-09 `thirdparty_live_response_incomplete_frame.sse`): `moderation`, `tool_usage`,
`reasoning.context` and `usage.input_tokens_details.cache_write_tokens` included. The non-stream
body is the same object that a stream's terminal event carries.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import _scripted
from ._format import wire_json
from ._sealed import Thought, seal_thought

if TYPE_CHECKING:
    from ._models import Family

__all__ = ["Output", "build_output", "failed", "in_progress", "input_tokens", "response_object", "usage"]

NewId = Callable[[str], str]


@dataclass
class Output:
    """What one turn produced: wire items, their token cost, and the thoughts behind reasoning items."""

    items: list[dict[str, Any]] = field(default_factory=list)
    status: str = "completed"  # or "incomplete"
    output_tokens: int = 0
    reasoning_tokens: int = 0
    thoughts: dict[str, Thought] = field(default_factory=dict)


# Runner-up tokens for `top_logprobs`, in order (the chosen token is never among its own runners-up).
_RUNNERS_UP = (" the", " a", ",", ".", " and", " to", " of", " is", " in", " it", " I", " you", " that", "\n",
               " for", " on", " with", " as", " be", " at", " this")


def _logprob(token: str, position: int, salt: str = "") -> float:
    """A fixed number in [0, 1) for a token at a position: the same text always gets the same values."""
    digest = hashlib.sha256(f"{position}:{salt}:{token}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def token_logprobs(text: str, top: int) -> list[dict[str, Any]]:
    """Per-token logprobs for `include: ["message.output_text.logprobs"]`, one per streamed delta, in
    the real shape (`token`, `bytes`, `logprob`, `top_logprobs` of up to `top` entries: the chosen token
    first, then runners-up). Deterministic, and a distribution: the probabilities sum to less than 1."""
    out = []
    for position, token in enumerate(_scripted.word_pieces(text)):
        chosen = -round(0.1 + 0.5 * _logprob(token, position), 6)  # p in (0.55, 0.91]
        entries = [(token, chosen)]
        runners = [t for t in _RUNNERS_UP if t != token][: max(0, top - 1)]
        # p ≤ e^-3 · (1 + e^-1 + e^-2 + …) < 0.08: with the chosen token's, below 1
        entries += [(t, -round(3 + i + _logprob(t, position, token), 6)) for i, t in enumerate(runners)]
        tops = [{"token": t, "bytes": list(t.encode()), "logprob": lp} for t, lp in entries[:top]]
        out.append({"token": token, "bytes": list(token.encode()), "logprob": chosen, "top_logprobs": tops})
    return out


def message_item(item_id: str, text: str, status: str = "completed", logprobs: int | None = None) -> dict[str, Any]:
    """An assistant message; with `logprobs` (the request's `top_logprobs`), per-token logprobs in its part."""
    per_token = token_logprobs(text, logprobs) if logprobs is not None else []
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "content": [{"type": "output_text", "annotations": [], "logprobs": per_token, "text": text}],
        "role": "assistant",
    }


def function_call_item(item_id: str, call_id: str, name: str, arguments: str,
                       status: str = "completed") -> dict[str, Any]:
    return {"id": item_id, "type": "function_call", "status": status, "arguments": arguments, "call_id": call_id,
            "name": name}


def reasoning_item(item_id: str, summary: Sequence[str], encrypted: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": item_id, "type": "reasoning"}
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    item["summary"] = [{"type": "summary_text", "text": s} for s in summary]
    return item


def build_output(
    reply: _scripted.Reply,
    new_id: NewId,
    *,
    max_output_tokens: int | None,
    include_encrypted: bool,
    summarize: bool,
    force_incomplete: bool = False,
    logprobs: int | None = None,
) -> Output:
    """Output items for a reply, cut where `max_output_tokens` runs out (status `incomplete`);
    `logprobs`: per-token logprobs with this many `top_logprobs` in the message (None: none)."""
    out = Output()
    left = max_output_tokens if max_output_tokens is not None else sys.maxsize
    if force_incomplete:  # the `incomplete` fault: stop halfway, as a capped generation would
        left = min(left, max(1, reply_tokens(reply) // 2))
        out.status = "incomplete"

    rs_id = new_id("rs_") if reply.thought else None
    thought_text = ""
    if rs_id:
        out.reasoning_tokens = min(_scripted.count_tokens(reply.thought), left)
        thought_text = _scripted.truncate_tokens(reply.thought, out.reasoning_tokens)
        left -= out.reasoning_tokens

    produced = _answer(reply, new_id, out, left, logprobs)
    if rs_id:
        thought = Thought(rs_id, thought_text, produced[0]["id"] if produced else None)
        out.thoughts[rs_id] = thought
        encrypted = seal_thought(thought) if include_encrypted else None
        out.items.append(reasoning_item(rs_id, reply.summary if summarize else [], encrypted))
    out.items += produced
    out.output_tokens += out.reasoning_tokens
    return out


def _answer(reply: _scripted.Reply, new_id: NewId, out: Output, left: int,
            logprobs: int | None) -> list[dict[str, Any]]:
    """The message and function calls of a reply, as far as `left` tokens go (`out` counts them, and
    says `incomplete` where they ran out)."""
    produced: list[dict[str, Any]] = []
    if reply.text:
        text, cost = reply.text, _scripted.count_tokens(reply.text)
        if cost > left:
            text, cost, out.status = _scripted.truncate_tokens(text, left), left, "incomplete"
        if text:
            produced.append(message_item(new_id("msg_"), text, out.status, logprobs))
            out.output_tokens += cost
            left -= cost
    for name, arguments in reply.calls:
        encoded = wire_json(arguments)
        cost = _scripted.count_tokens(f"{name}({encoded})")
        if cost > left:
            out.status = "incomplete"
            break
        produced.append(function_call_item(new_id("fc_"), "call_" + new_id("")[:24], name, encoded))
        out.output_tokens += cost
        left -= cost
    return produced


def reply_tokens(reply: _scripted.Reply) -> int:
    calls = sum(_scripted.count_tokens(f"{name}({wire_json(args)})") for name, args in reply.calls)
    return _scripted.count_tokens(reply.text) + calls


def usage(input_tokens: int, output: Output) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
        "output_tokens": output.output_tokens,
        "output_tokens_details": {"reasoning_tokens": output.reasoning_tokens},
        "total_tokens": input_tokens + output.output_tokens,
    }


def input_tokens(seen: Sequence[Mapping[str, Any]], instructions: str | None, tools: Any) -> int:
    """What the model reads: every item it sees (4 tokens of framing each), instructions, tool specs."""
    tokens = sum(_scripted.count_tokens(_scripted.item_text(i)) + 4 for i in seen)
    return tokens + _scripted.count_tokens(instructions or "") + _scripted.count_tokens(json.dumps(tools or []))


def _echo_tools(tools: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    echoed = []
    for tool in tools or ():
        if tool.get("type") != "function":
            echoed.append(dict(tool))
            continue
        spec = {"type": "function", "description": tool.get("description"), "name": tool["name"]}
        if "defer_loading" in tool:
            spec["defer_loading"] = tool["defer_loading"]
        spec["parameters"] = tool.get("parameters")
        spec["strict"] = tool.get("strict") if tool.get("strict") is not None else True  # strict by default
        echoed.append(spec)
    return echoed


def _echo_text(text: Mapping[str, Any] | None) -> dict[str, Any]:
    text = text or {}
    fmt = dict(text.get("format") or {"type": "text"})
    if fmt["type"] == "json_schema":
        # `strict` unset is echoed as its default, false: the Response's format has a boolean there (Open
        # Responses' JsonSchemaResponseFormat; the request's JsonSchemaResponseFormatParam defaults it to false).
        fmt = {"type": "json_schema", "description": fmt.get("description"), "name": fmt["name"],
               "schema": fmt["schema"], "strict": fmt.get("strict") is True}
    return {"format": fmt, "verbosity": text.get("verbosity") or "medium"}


def _echo_reasoning(reasoning: Mapping[str, Any] | None, default_effort: str | None) -> dict[str, Any]:
    """The request's `reasoning`, the model's default effort filled in (recorded: gpt-5.2 → "none")."""
    reasoning = dict(reasoning or {})
    summary = reasoning.pop("summary", None) or reasoning.pop("generate_summary", None)
    if summary == "auto":  # the service reports what "auto" picked (recorded: "detailed")
        summary = "detailed"
    effort = reasoning.get("effort") or default_effort
    echoed = {**reasoning, "context": reasoning.get("context"), "effort": effort, "summary": summary}
    return dict(sorted(echoed.items()))


def _tool_usage() -> dict[str, Any]:
    """Hosted-tool usage: always zero here (the scripted model never calls hosted tools)."""
    zero = {"image_tokens": 0, "text_tokens": 0}
    return {
        "image_gen": {"input_tokens": 0, "input_tokens_details": dict(zero), "output_tokens": 0,
                      "output_tokens_details": dict(zero), "total_tokens": 0},
        "web_search": {"num_requests": 0},
    }


def response_object(
    *,
    response_id: str,
    body: Mapping[str, Any],
    created_at: int,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    family: Family,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Response in the wire's key order, as recorded: these four, the rest alphabetically, `metadata` last."""
    produced = {
        "background": body.get("background") is True,
        "completed_at": int(time.time()) if status == "completed" else None,
        "error": error,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "moderation": None,
        "output": output,
        "tool_usage": _tool_usage(),
        "usage": usage,
    }
    fields = dict(sorted({**produced, **_echoed(body, family)}.items()))
    return {"id": response_id, "object": "response", "created_at": created_at, "status": status, **fields,
            "metadata": body.get("metadata") or {}}


def _echoed(body: Mapping[str, Any], family: Family) -> dict[str, Any]:
    """The request's fields as a Response echoes them: unset ones with the API's defaults (the model
    family's, where they differ by model: `reasoning.effort`, `top_p`)."""
    def get(key: str, default: Any = None) -> Any:
        value = body.get(key)
        return default if value is None else value

    # Only a response created on a conversation names it (no recording carries the key otherwise).
    named = body.get("conversation")
    conversation = {"conversation": {"id": named.get("id") if isinstance(named, dict) else named}} if named else {}
    return {
        **conversation,
        "frequency_penalty": get("frequency_penalty", 0.0),
        "instructions": get("instructions"),
        "max_output_tokens": get("max_output_tokens"),
        "max_tool_calls": get("max_tool_calls"),
        "model": body["model"],
        "parallel_tool_calls": get("parallel_tool_calls", True),
        "presence_penalty": get("presence_penalty", 0.0),
        "previous_response_id": get("previous_response_id"),
        "prompt_cache_key": get("prompt_cache_key"),
        "prompt_cache_retention": get("prompt_cache_retention", "in_memory"),
        "reasoning": _echo_reasoning(get("reasoning"), family.default_effort),
        "safety_identifier": get("safety_identifier"),
        "service_tier": get("service_tier") if get("service_tier") in ("flex", "scale", "priority") else "default",
        "store": get("store", True),
        "temperature": get("temperature", 1.0),
        "text": _echo_text(get("text")),
        "tool_choice": get("tool_choice", "auto"),
        "tools": _echo_tools(get("tools")),
        "top_logprobs": get("top_logprobs", 0),
        "top_p": get("top_p", family.top_p),
        "truncation": get("truncation", "disabled"),
        "user": get("user"),
    }


def in_progress(response: Mapping[str, Any], requested_tier: str | None) -> dict[str, Any]:
    """The snapshot `response.created`/`response.in_progress` carry: nothing produced yet."""
    return {
        **response,
        "status": "in_progress",
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "output": [],
        "service_tier": requested_tier or "auto",
        "usage": None,
    }


def failed(response: Mapping[str, Any], error: Mapping[str, Any]) -> dict[str, Any]:
    """The Response after generation failed: status `failed`, the error, nothing produced."""
    return {**in_progress(response, None), "status": "failed", "error": dict(error),
            "service_tier": response["service_tier"]}
