"""The mock OCI Responses endpoint as an ASGI app (Starlette).

Serve it with uvicorn (`MockServer`, `locus-nb mock`) or mount it in-process with
`httpx.ASGITransport(app=create_app())` for socket-free tests.

One request, in the order the real service checks: credentials (401), `opc-compartment-id`
(400), the body (400), the model id (404), injected faults, ZDR, the stored chain and input items
(400/404); then the scripted model answers, as JSON or — when the body says `"stream": true` — as SSE.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import _scripted
from ._auth import MAX_SKEW_SECONDS, check_access, load_public_keys, masked_headers, require_compartment
from ._errors import ZDR_MESSAGE, APIError, bad_request, request_id_headers
from ._faults import MIDSTREAM_ERROR, FaultSchedule, TruncatedBody, http_fault, requested_faults, server_error
from ._response_json import Output, build_output, failed, input_tokens, response_object, usage, wire_json
from ._sse import EventStream, SSEResponse
from ._store import Store
from ._validate import check_model, validate_request

__all__ = ["PREFIX", "ZDR_MESSAGE", "MockConfig", "MockState", "create_app"]

PREFIX = "/openai/v1"
TEXT_TOKENS_KEY = "mock_text_tokens"  # metadata: answer with exactly this many text deltas
_MAX_TEXT_TOKENS = 1_000_000
_BAD_JSON = object()


@dataclass
class MockConfig:
    zdr: bool = False  # reject store=true / previous_response_id like a ZDR tenancy
    api_key: str | None = None  # when set, require `Authorization: Bearer <api_key>`
    token_delay: float = 0.0  # seconds between streamed deltas
    public_keys: Mapping[str, str] | None = None  # keyId (or "*") -> PEM: verify OCI signatures
    faults: Sequence[str] = ()  # server-wide faults: "name" (always) or "name:N" (next N requests)
    retry_after: float = 1.0  # seconds, announced with the `rate_limit` fault
    first_byte_delay: float = 2.0  # seconds, for the `slow_first_byte` fault
    max_clock_skew: float = MAX_SKEW_SECONDS  # seconds a signed request's Date may be off
    log_limit: int = 10_000  # requests kept in the log (oldest dropped first)
    # Model ids served; others get the real 404 model_not_found. None: any id shaped like one
    # (OCI's vendor.name, e.g. openai.gpt-4.1, or OpenAI's own, e.g. gpt-4.1).
    models: Sequence[str] | None = None


@dataclass
class MockState:
    config: MockConfig
    store: Store = field(default_factory=Store)
    log: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def __post_init__(self) -> None:
        self.faults = FaultSchedule(self.config.faults)
        self.public_keys = load_public_keys(self.config.public_keys) if self.config.public_keys else None
        self._request_ids = itertools.count(1)
        self._log_lock = threading.Lock()

    @property
    def responses(self) -> dict[str, Any]:
        """Stored responses by id."""
        return self.store.responses

    def new_id(self, prefix: str) -> str:
        # Deterministic per server: no randomness in anything a notebook prints.
        self.counter += 1
        return prefix + hashlib.sha256(f"locus-nb-mock:{self.counter}".encode()).hexdigest()[:48]

    def request_id(self) -> str:
        return f"mock-{next(self._request_ids):012x}"

    def record(self, request: Request, raw: bytes, body: Any) -> dict[str, Any]:
        entry = {
            "method": request.method,
            "path": request.url.path,
            "headers": masked_headers(request.headers),
            "body_size": len(raw),
            "body": None if body is _BAD_JSON else body,
        }
        with self._log_lock:
            self.log.append(entry)
            if len(self.log) > self.config.log_limit:
                del self.log[: len(self.log) - self.config.log_limit]
        return entry


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _BAD_JSON


def _json(value: Any, headers: Mapping[str, str]) -> Response:
    return Response(wire_json(value).encode(), headers=dict(headers), media_type="application/json")


def _text_tokens(metadata: Mapping[str, Any] | None) -> int | None:
    value = (metadata or {}).get(TEXT_TOKENS_KEY)
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) <= _MAX_TEXT_TOKENS:
        raise bad_request(f"metadata.{TEXT_TOKENS_KEY} must be a whole number from 1 to {_MAX_TEXT_TOKENS}, "
                          f"got '{value}'.", param=f"metadata.{TEXT_TOKENS_KEY}", code="invalid_value")
    return int(value)


def _thinks(reasoning: Mapping[str, Any] | None) -> tuple[bool, bool]:
    """(emit a reasoning item, with a summary) for the request's `reasoning` setting."""
    reasoning = reasoning or {}
    thinks = reasoning.get("effort") != "none" and any(v is not None for v in reasoning.values())
    return thinks, thinks and (reasoning.get("summary") or reasoning.get("generate_summary")) is not None


def _take_turn(state: MockState, body: Mapping[str, Any], faults: set[str]) -> tuple[list[dict[str, Any]], Output, dict[str, Any]]:
    """The scripted model's turn: what it sees, what it produces, and the Response that says so."""
    seen = state.store.conversation(body)
    thinks, summarize = _thinks(body.get("reasoning"))
    try:
        reply = _scripted.reply(
            seen,
            instructions=body.get("instructions"),
            tools=body.get("tools") or (),
            tool_choice=body.get("tool_choice") or "auto",
            parallel_tool_calls=body.get("parallel_tool_calls") is not False,
            text_format=(body.get("text") or {}).get("format"),
            reasoning=thinks,
            text_tokens=_text_tokens(body.get("metadata")),
        )
    except ValueError as exc:  # a schema no finite value satisfies
        raise bad_request(f"Invalid schema: {exc}.", code="invalid_value") from None
    output = build_output(
        reply, state.new_id,
        max_output_tokens=body.get("max_output_tokens"),
        include_encrypted="reasoning.encrypted_content" in (body.get("include") or ()),
        summarize=summarize,
        force_incomplete="incomplete" in faults,
    )
    response = response_object(
        response_id=state.new_id("resp_"), body=body, created_at=int(time.time()),
        status=output.status, output=output.items,
        usage=usage(input_tokens(seen, body.get("instructions"), body.get("tools")), output),
    )
    return seen, output, response


def create_app(config: MockConfig | None = None) -> Starlette:
    state = MockState(config or MockConfig())
    cfg = state.config

    def admit(request: Request, raw: bytes, entry: dict[str, Any]) -> None:
        headers = request.headers
        target = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.url.query:
            target += "?" + request.url.query
        try:
            check_access(api_key=cfg.api_key, public_keys=state.public_keys, max_skew=cfg.max_clock_skew,
                         method=request.method, target=target, headers=headers, body=raw)
        except APIError as refused:
            if refused.__cause__ is not None:
                entry["auth_error"] = str(refused.__cause__)  # for tests; the client only sees the 401
            raise
        require_compartment(headers)

    async def create(request: Request) -> Response:
        raw = await request.body()
        body = _parse(raw)
        entry = state.record(request, raw, body)
        request_id = state.request_id()
        headers = request_id_headers(request_id)
        try:
            admit(request, raw, entry)
            if body is _BAD_JSON:
                raise bad_request("We could not parse the JSON body of your request. The endpoint expects a JSON "
                                  "payload, but what was sent was not valid JSON.")
            body = validate_request(body)
            check_model(body["model"], cfg.models)
            faults = state.faults.take() | requested_faults(body.get("metadata"))
            if "slow_first_byte" in faults:
                await asyncio.sleep(cfg.first_byte_delay)
            if refusal := http_fault(faults, cfg.retry_after):
                raise refusal
            store = body.get("store") is not False
            if cfg.zdr and (store or body.get("previous_response_id")):
                raise bad_request(ZDR_MESSAGE, param="previous_response_id" if body.get("previous_response_id") else "store")
            streaming = body.get("stream") is True
            if "error_event" in faults and not streaming:
                raise server_error()  # a generation that fails before a non-streamed answer exists

            seen, output, response = _take_turn(state, body, faults)
        except APIError as refusal:
            return refusal.response(request_id)

        fails = streaming and "error_event" in faults
        if store:
            state.store.keep(failed(response, MIDSTREAM_ERROR) if fails else response, seen, output, failed=fails)
        if not streaming:
            if "drop_mid_stream" in faults:
                return TruncatedBody(wire_json(response).encode(), headers)
            return _json(response, headers=headers)
        cut = "drop" if "drop_mid_stream" in faults else "error" if fails else None
        stream = EventStream(response, requested_tier=body.get("service_tier"), cut=cut, error=MIDSTREAM_ERROR,
                             obfuscate=(body.get("stream_options") or {}).get("include_obfuscation") is not False)
        return SSEResponse(stream, token_delay=cfg.token_delay, headers=headers)

    async def stored(request: Request) -> Response:
        raw = await request.body()
        entry = state.record(request, raw, _parse(raw))
        request_id = state.request_id()
        try:
            admit(request, raw, entry)
            response_id = request.path_params["response_id"]
            if request.method == "GET" and request.query_params.get("stream", "false").lower() != "false":
                # Resuming a stream is for background responses, which this mock does not implement.
                raise bad_request("Unsupported parameter: 'stream'. The locus-nb mock does not implement background "
                                  "mode, so it has no stream to resume.", param="stream", code="unsupported_parameter")
            found = state.store.get(response_id)
            if found is None:
                raise APIError.envelope(404, f"Response with id '{response_id}' not found.", param="response_id")
        except APIError as refusal:
            return refusal.response(request_id)
        headers = request_id_headers(request_id)
        if request.method == "DELETE":
            state.store.delete(response_id)
            return _json({"id": response_id, "object": "response.deleted", "deleted": True}, headers=headers)
        return _json(found.response, headers=headers)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        # Unknown paths and methods get the API's JSON envelope, not Starlette's plain text.
        message = f"Invalid URL ({request.method} {request.url.path})" if exc.status_code == 404 else exc.detail
        return APIError.envelope(exc.status_code, message).response(state.request_id())

    app = Starlette(
        routes=[
            Route(f"{PREFIX}/responses", create, methods=["POST"]),
            Route(f"{PREFIX}/responses/{{response_id}}", stored, methods=["GET", "DELETE"]),
        ],
        exception_handlers={HTTPException: http_error},
    )
    app.state.mock = state
    return app
