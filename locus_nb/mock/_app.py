"""The mock OCI Responses endpoint as an ASGI app (Starlette).

Serve it with uvicorn (`MockServer`, `locus-nb mock`) or mount it in-process with
`httpx.ASGITransport(app=create_app())` for socket-free tests.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import _scripted

__all__ = ["MockConfig", "MockState", "create_app"]

PREFIX = "/openai/v1"
_SECRET_HEADERS = {"authorization", "x-api-key"}
ZDR_MESSAGE = "Previous response cannot be used for this organization due to Zero Data Retention."


@dataclass
class MockConfig:
    zdr: bool = False  # reject store=true / previous_response_id like a ZDR tenancy
    api_key: str | None = None  # when set, require `Authorization: Bearer <api_key>`
    token_delay: float = 0.0  # seconds between streamed deltas


@dataclass
class MockState:
    config: MockConfig
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def new_id(self, prefix: str) -> str:
        # Deterministic per server: no randomness in anything a notebook prints.
        self.counter += 1
        return prefix + hashlib.sha256(f"locus-nb-mock:{self.counter}".encode()).hexdigest()[:48]


def _error(status: int, message: str, *, param: str | None = None, code: str | None = None,
           type_: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": type_, "param": param, "code": code}},
        status_code=status,
        headers={"opc-request-id": "mock-" + hashlib.sha1(message.encode()).hexdigest()[:16]},
    )


def _normalize_input(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return [dict(i, type=i.get("type", "message")) for i in value]


def _response_object(
    *, rid: str, body: Mapping[str, Any], output: list[dict[str, Any]], usage: dict[str, Any], status: str
) -> dict[str, Any]:
    """A Response in the wire's key order (openai-python's live recording), 2026 fields included."""
    now = int(time.time())
    tools = [dict(t, description=t.get("description"), strict=t.get("strict", True)) for t in body.get("tools") or ()]
    return {
        "id": rid,
        "object": "response",
        "created_at": now,
        "status": status,
        "background": False,
        "completed_at": now if status == "completed" else None,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": None,
        "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": tools,
        "top_logprobs": 0,
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": usage,
        "user": None,
        "metadata": body.get("metadata") or {},
    }


def _output_items(state: MockState, reply: _scripted.Reply) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if reply.text:
        items.append({
            "id": state.new_id("msg_"),
            "type": "message",
            "status": "completed",
            "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": reply.text}],
            "role": "assistant",
        })
    for name, arguments in reply.calls:
        items.append({
            "id": state.new_id("fc_"),
            "type": "function_call",
            "status": "completed",
            "arguments": json.dumps(arguments),
            "call_id": "call_" + state.new_id("")[:24],
            "name": name,
        })
    return items


def _usage(seen: Sequence[Mapping[str, Any]], instructions: str | None, tools: Any, output: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    inp = sum(_scripted.count_tokens(_scripted.item_text(i)) + 4 for i in seen)
    inp += _scripted.count_tokens(instructions or "") + _scripted.count_tokens(json.dumps(tools or []))
    out = sum(_scripted.count_tokens(_scripted.item_text(i)) for i in output)
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": inp + out,
    }


def create_app(config: MockConfig | None = None) -> Starlette:
    state = MockState(config or MockConfig())

    def log(request: Request, raw: bytes, parsed: Any) -> None:
        headers = {k: ("****" if k in _SECRET_HEADERS else v) for k, v in request.headers.items()}
        state.log.append({"method": request.method, "path": request.url.path, "headers": headers,
                          "body_size": len(raw), "body": parsed})

    def check_auth(request: Request) -> Response | None:
        key = state.config.api_key
        if key and request.headers.get("authorization") != f"Bearer {key}":
            return JSONResponse(
                {"code": "NotAuthenticated",
                 "message": "The required information to complete authentication was not provided or was incorrect."},
                status_code=401,
            )
        return None

    async def create(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            log(request, raw, None)
            return _error(400, "We could not parse the JSON body of your request.")
        log(request, raw, body)
        if denied := check_auth(request):
            return denied
        if not request.headers.get("opc-compartment-id"):
            return _error(400, "Compartment ID must be provided")
        if not isinstance(body, dict):
            return _error(400, "Invalid type for request body: expected an object.")
        if not isinstance(body.get("model"), str) or not body["model"]:
            return _error(400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
        if "input" not in body:
            return _error(400, "Missing required parameter: 'input'.", param="input", code="missing_required_parameter")

        previous = body.get("previous_response_id")
        if state.config.zdr and (previous or body.get("store", True)):
            return _error(400, ZDR_MESSAGE, param="previous_response_id" if previous else "store")
        context: list[dict[str, Any]] = []
        if previous:
            stored = state.responses.get(previous)
            if stored is None:
                return _error(400, f"Previous response with id '{previous}' not found.",
                              param="previous_response_id", code="previous_response_not_found")
            context = list(stored["context"])
        seen = context + _normalize_input(body["input"])

        reply = _scripted.reply(seen, instructions=body.get("instructions"), tools=body.get("tools") or ())
        output = _output_items(state, reply)
        rid = state.new_id("resp_")
        response = _response_object(
            rid=rid, body=body, output=output,
            usage=_usage(seen, body.get("instructions"), body.get("tools"), output), status="completed",
        )
        if body.get("store", True):
            state.responses[rid] = {"response": response, "context": seen + output}
        return JSONResponse(response)

    async def retrieve(request: Request) -> Response:
        if denied := check_auth(request):
            return denied
        rid = request.path_params["rid"]
        stored = state.responses.get(rid)
        if stored is None:
            return _error(404, f"Response with id '{rid}' not found.", param="response_id")
        if request.method == "DELETE":
            del state.responses[rid]
            return JSONResponse({"id": rid, "object": "response.deleted", "deleted": True})
        return JSONResponse(stored["response"])

    app = Starlette(routes=[
        Route(f"{PREFIX}/responses", create, methods=["POST"]),
        Route(f"{PREFIX}/responses/{{rid}}", retrieve, methods=["GET", "DELETE"]),
    ])
    app.state.mock = state
    return app
