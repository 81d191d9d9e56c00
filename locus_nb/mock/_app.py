"""The mock OCI Responses endpoint as an ASGI app (Starlette).

Serve it with uvicorn (`MockServer`, `locus-nb mock`) or mount it in-process with
`httpx.ASGITransport(app=create_app())` for socket-free tests.

One request is a pipeline of module-level steps, in the order the real service checks:
`admit` (credentials 401, `opc-compartment-id` 400), `validate` (the body 400, the model id 404),
`apply_faults` (injected faults), `check_zdr`, `take_turn` (the conversation or stored chain and the
input items 400/404, then the scripted model's answer), `keep` (the store, the conversation), and
`respond_json` or — when the body says `"stream": true` — `respond_stream` (SSE); a background
request (`"background": true`) is handed to a job instead (`start_background`, `_background`).
`create` runs them; a step refuses by raising `APIError`, which becomes the reply. The
`/conversations` routes are `_conversation_api`'s, admitted the same way (`_admitted`).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import _conversation_api, _models, _response_api, _scripted
from .._redact import mask_headers
from ._auth import MAX_SKEW_SECONDS, check_access, load_public_keys, require_compartment
from ._background import BACKGROUND_LIMIT, BACKGROUND_TTL, Follow, Job, Jobs
from ._conversations import CONVERSATION_LIMIT, CONVERSATION_TTL, Conversations
from ._errors import ZDR_MESSAGE, APIError, bad_request, request_id_headers
from ._faults import MIDSTREAM_ERROR, FaultPlan, FaultSchedule, TruncatedBody, plan_faults, requested_faults
from ._format import json_reply, wire_json
from ._models import LOGPROBS, check_parameters, family_of
from ._response_json import Output, build_output, failed, input_tokens, response_object, usage
from ._sse import EventStream, SSEResponse
from ._store import STORE_LIMIT, STORE_TTL, Store, context_item
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
    # seconds a background response stays `queued` before its job starts (a real service queues it behind other
    # work; the embedded mock keeps it there long enough for a lesson to watch it, or cancel it, in that state)
    background_queue: float = 0.0
    public_keys: Mapping[str, str] | None = None  # keyId (or "*") -> PEM: verify OCI signatures
    faults: Sequence[str] = ()  # server-wide faults: "name" (always) or "name:N" (next N requests)
    retry_after: float = 1.0  # seconds, announced with the `rate_limit` fault
    first_byte_delay: float = 2.0  # seconds, for the `slow_first_byte` fault
    max_clock_skew: float = MAX_SKEW_SECONDS  # seconds a signed request's Date may be off
    log_limit: int = 10_000  # requests kept in the log (oldest dropped first)
    # A logged body larger than this many bytes keeps only its small top-level fields (store, model, …).
    log_body_limit: int = 64 * 1024
    store_ttl: float = STORE_TTL  # seconds a stored response is kept (30 days, as OpenAI's retention)
    store_limit: int = STORE_LIMIT  # stored responses kept at most, the oldest dropped first
    # Model ids served; others get the real 404 model_not_found. None: any id shaped like one
    # (OCI's vendor.name, e.g. openai.gpt-4.1, or OpenAI's own, e.g. gpt-4.1).
    models: Sequence[str] | None = None
    conversation_ttl: float = CONVERSATION_TTL  # seconds a conversation is kept after its last change
    conversation_limit: int = CONVERSATION_LIMIT  # conversations kept at most, the least recently changed dropped
    background_ttl: float = BACKGROUND_TTL  # seconds a finished background response's events are kept
    background_limit: int = BACKGROUND_LIMIT  # background responses kept at most (running ones: then a 429)


@dataclass
class MockState:
    config: MockConfig
    store: Store | None = None  # default: one with the config's ttl and limit
    conversations: Conversations | None = None  # default: one with the config's ttl and limit
    jobs: Jobs | None = None  # background responses; default: with the config's ttl and limit
    log: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def __post_init__(self) -> None:
        cfg = self.config
        if self.store is None:
            self.store = Store(ttl=cfg.store_ttl, limit=cfg.store_limit)
        if self.conversations is None:
            self.conversations = Conversations(ttl=cfg.conversation_ttl, limit=cfg.conversation_limit)
        if self.jobs is None:
            self.jobs = Jobs(ttl=cfg.background_ttl, limit=cfg.background_limit)
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
        """Log a request (credentials masked); the entry is returned so later steps can add to it."""
        entry = {
            "method": request.method,
            "path": request.url.path,
            "headers": mask_headers(request.headers),
            "body_size": len(raw),
            "body": None if body is _BAD_JSON else _loggable(body, len(raw), self.config.log_body_limit),
        }
        with self._log_lock:
            self.log.append(entry)
            if len(self.log) > self.config.log_limit:
                del self.log[: len(self.log) - self.config.log_limit]
        return entry


def _loggable(body: Any, size: int, limit: int) -> Any:
    """A body for the log: as sent, or — larger than `limit` bytes — its small top-level fields only
    (`store`, `model`, `stream`, `previous_response_id`, …), the rest named by size (`truncated`)."""
    if size <= limit or not isinstance(body, dict):
        return body if size <= limit else {"truncated": size}
    kept: dict[str, Any] = {"truncated": size}
    for key, value in body.items():
        small = value is None or isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 256)
        kept[key] = value if small else f"<{type(value).__name__}, truncated>"
    return kept


def _text_tokens(metadata: Mapping[str, Any] | None) -> int | None:
    value = (metadata or {}).get(TEXT_TOKENS_KEY)
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) <= _MAX_TEXT_TOKENS:
        raise bad_request(f"metadata.{TEXT_TOKENS_KEY} must be a whole number from 1 to {_MAX_TEXT_TOKENS}, "
                          f"got '{value}'.", param=f"metadata.{TEXT_TOKENS_KEY}", code="invalid_value")
    return int(value)


@dataclass
class Turn:
    """One answered request: what the model saw, what it produced, and the Response that says so."""

    seen: list[dict[str, Any]]
    output: Output
    response: dict[str, Any]
    new: int = 0  # how many of `seen` are this request's own input (the rest: the conversation or chain)


# -- the steps of `POST /responses`, in the order the real service checks -------------------------


def parse_body(raw: bytes) -> Any:
    """The request body as JSON: None when empty, `_BAD_JSON` when unreadable (refused after `admit`)."""
    try:
        return json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _BAD_JSON


def admit(state: MockState, request: Request, raw: bytes, entry: dict[str, Any]) -> None:
    """Credentials (401, the reason kept in the log entry as `auth_error`), then `opc-compartment-id` (400)."""
    cfg = state.config
    target = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
    if request.url.query:
        target += "?" + request.url.query
    try:
        check_access(api_key=cfg.api_key, public_keys=state.public_keys, max_skew=cfg.max_clock_skew,
                     method=request.method, target=target, headers=request.headers, body=raw)
    except APIError as refused:
        if refused.__cause__ is not None:
            entry["auth_error"] = str(refused.__cause__)  # for tests; the client only sees the 401
        raise
    require_compartment(request.headers)


def validate(state: MockState, body: Any) -> dict[str, Any]:
    """The body (400: not a valid request), the model id (404), then what the model's family takes
    (400: sampling on a reasoning model, an effort it lacks): the request, normalized."""
    body = validate_request(body)
    check_model(body["model"], state.config.models)
    check_parameters(body)
    return body


async def apply_faults(state: MockState, body: Mapping[str, Any]) -> FaultPlan:
    """The injected faults (server-wide and per request): a slow first byte, then any error reply (429/5xx)."""
    faults = plan_faults(state.faults.take() | requested_faults(body.get("metadata")),
                         retry_after=state.config.retry_after, first_byte_delay=state.config.first_byte_delay)
    if faults.delay is not None:
        await asyncio.sleep(faults.delay)
    if faults.refusal is not None:
        raise faults.refusal
    return faults


def check_zdr(state: MockState, body: Mapping[str, Any]) -> None:
    """A Zero Data Retention tenancy refuses stored state: `store` true (the default), `previous_response_id`,
    or a `conversation` (a thread the server holds), with the same 400."""
    if not state.config.zdr:
        return
    for name in ("conversation", "previous_response_id"):
        if body.get(name):
            raise bad_request(ZDR_MESSAGE, param=name)
    if body.get("store") is not False:
        raise bad_request(ZDR_MESSAGE, param="store")


def conversation_id(body: Mapping[str, Any]) -> str | None:
    """The request's `conversation`, given as "conv_…" or {"id": "conv_…"}."""
    named = body.get("conversation")
    return named.get("id") if isinstance(named, dict) else named


def take_turn(state: MockState, body: Mapping[str, Any], faults: FaultPlan) -> Turn:
    """The scripted model's turn: what it sees (the conversation's items or the stored chain, then the input
    items; 400/404), what it produces."""
    # A background job streams inside even when its client does not: its generation fails midway.
    if refusal := faults.unstreamed_failure(body.get("stream") is True or body.get("background") is True):
        raise refusal  # a generation that fails before a non-streamed answer exists
    named = conversation_id(body)
    history = state.conversations.get(named).context() if named else []
    seen = state.store.conversation(body, history)
    family = family_of(body["model"])
    thinks, summarize = _models.thinks(family, body.get("reasoning"))
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
        force_incomplete=faults.incomplete,
        logprobs=(body.get("top_logprobs") or 0) if LOGPROBS in (body.get("include") or ()) else None,
    )
    response = response_object(
        response_id=state.new_id("resp_"), body=body, created_at=int(time.time()),
        status=output.status, output=output.items,
        usage=usage(input_tokens(seen, body.get("instructions"), body.get("tools")), output), family=family,
    )
    return Turn(seen, output, response, new=len(seen) - len(history))


def keep(state: MockState, body: Mapping[str, Any], turn: Turn, response: Mapping[str, Any]) -> None:
    """Store the finished `response` when `store` is not false; append the turn to its conversation unless
    it failed or was cancelled (its input and output together, as the real service does)."""
    produced = response["status"] in ("completed", "incomplete")
    if body.get("store") is not False:
        state.store.keep(dict(response), turn.seen, turn.output, failed=not produced)
    named = conversation_id(body)
    if named and produced:
        mine = turn.seen[len(turn.seen) - turn.new:]
        remembered = [context_item(i, turn.output.thoughts.get(i["id"])) for i in turn.output.items]
        try:
            state.conversations.add(named, mine + turn.output.items, state.new_id, seen=mine + remembered)
        except APIError:
            pass  # deleted (or expired) while the response was running: nothing to append to


def finished(turn: Turn, faults: FaultPlan, body: Mapping[str, Any]) -> dict[str, Any]:
    """The Response as it ends: failed when a stream will fail midway, else as answered."""
    return failed(turn.response, MIDSTREAM_ERROR) if body.get("stream") is True and faults.fails else turn.response


def respond_json(turn: Turn, faults: FaultPlan, headers: Mapping[str, str]) -> Response | TruncatedBody:
    """The Response as one JSON body (cut off halfway under `drop_mid_stream`)."""
    if faults.drops:
        return TruncatedBody(wire_json(turn.response).encode(), headers)
    return json_reply(turn.response, headers)


def respond_stream(state: MockState, body: Mapping[str, Any], turn: Turn, faults: FaultPlan,
                   headers: Mapping[str, str]) -> SSEResponse:
    """The Response replayed as SSE, paced by `token_delay`, broken off where the faults say."""
    stream = EventStream(turn.response, requested_tier=body.get("service_tier"), cut=faults.stream_cut(),
                         error=MIDSTREAM_ERROR,
                         obfuscate=(body.get("stream_options") or {}).get("include_obfuscation") is not False)
    return SSEResponse(stream, token_delay=state.config.token_delay, headers=headers)


def start_background(state: MockState, body: Mapping[str, Any], turn: Turn, faults: FaultPlan,
                     headers: Mapping[str, str]) -> Response | TruncatedBody | Follow:
    """A job in the server's event loop; the reply is the `queued` Response, or — streaming — its events."""
    state.jobs.admit()
    stream = EventStream(turn.response, requested_tier=body.get("service_tier"), error=MIDSTREAM_ERROR,
                         cut="error" if faults.fails else None, queued=True,
                         obfuscate=(body.get("stream_options") or {}).get("include_obfuscation") is not False)

    def finish(ended: Job) -> None:
        state.jobs.ended(ended)
        keep(state, body, turn, ended.final)

    job = Job(turn.response, stream, finish, streamed=body.get("stream") is True)
    state.jobs.add(job)
    job.task = asyncio.get_running_loop().create_task(job.run(state.config.token_delay,
                                                                 state.config.background_queue))
    if body.get("stream") is True:
        return Follow(job, drop_after=max(1, stream.cut_after) if faults.drops else None, headers=headers)
    if faults.drops:
        return TruncatedBody(wire_json(job.snapshot()).encode(), headers)
    return json_reply(job.snapshot(), headers)


# -- the routes ------------------------------------------------------------------------------------


async def create(state: MockState, request: Request, body: Any,
                 headers: Mapping[str, str]) -> Response | TruncatedBody | SSEResponse | Follow:
    """`POST /responses` (once admitted, `_admitted`): the steps above, in order; a refusal from any of them
    is the reply."""
    body = validate(state, body)
    faults = await apply_faults(state, body)
    check_zdr(state, body)
    turn = take_turn(state, body, faults)
    if body.get("background") is True:
        return start_background(state, body, turn, faults, headers)
    keep(state, body, turn, finished(turn, faults, body))
    if body.get("stream") is True:
        return respond_stream(state, body, turn, faults, headers)
    return respond_json(turn, faults, headers)


Handler = Callable[["MockState", Request, Any, Mapping[str, str]], Awaitable[Any]]


def _admitted(handler: Handler) -> Callable[[Request], Awaitable[Any]]:
    """A route that logs the request, admits it (`admit`; a body that is not JSON: 400), then runs
    `handler(state, request, body, headers)`; a refusal it raises is the reply."""
    async def endpoint(request: Request) -> Any:
        state: MockState = request.app.state.mock
        raw = await request.body()
        body = parse_body(raw)
        entry = state.record(request, raw, body)
        request_id = state.request_id()
        try:
            admit(state, request, raw, entry)
            if body is _BAD_JSON:
                raise bad_request("We could not parse the JSON body of your request. The endpoint expects a JSON "
                                  "payload, but what was sent was not valid JSON.")
            return await handler(state, request, body, request_id_headers(request_id))
        except APIError as refusal:
            return refusal.response(request_id)

    endpoint.__name__ = endpoint.__qualname__ = handler.__name__
    return endpoint


async def http_error(request: Request, exc: HTTPException) -> Response:
    """Unknown paths and methods get the API's JSON envelope, not Starlette's plain text."""
    message = f"Invalid URL ({request.method} {request.url.path})" if exc.status_code == 404 else exc.detail
    return APIError.envelope(exc.status_code, message).response(request.app.state.mock.request_id())


def create_app(config: MockConfig | None = None) -> Starlette:
    """The app, with its own `MockState` (store, request log, fault schedule) at `app.state.mock`."""
    app = Starlette(
        routes=[
            *(Route(PREFIX + path, _admitted(handler), methods=methods)
              for path, methods, handler in (("/responses", ["POST"], create), *_response_api.ROUTES,
                                             *_conversation_api.ROUTES)),
        ],
        exception_handlers={HTTPException: http_error},
    )
    app.state.mock = MockState(config or MockConfig())
    return app
