"""`OCIResponsesModel`: the async client for `/openai/v1/responses`. The only client code that does I/O.

Every call ends: `deadline=` bounds a whole call (connecting, retries, waiting, reading), `stream_idle_timeout=` a
stream's silence (keep-alive comments do not count), and a stream stops reading at its terminal event. What is
retried, and what never is: `_http`; how a stream is read: `_sse`.

Settings come in as arguments. A model made directly falls back on a few environment variables (see
`OCIResponsesModel`), read through `_environment.resolve` only for a value it was not given; `connect()` gives every
value, so its models read none.
"""

from __future__ import annotations

import asyncio
import functools
import math
import re
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from importlib import import_module
from types import MethodType
from typing import Any

import httpx

from ._auth import auth_hint, resolve_auth
from ._config import doctor_hint
from ._environment import resolve
from ._errors import APIStatusError, ConfigError, RateLimited, ServerError, mask_ocid, mask_secrets, mask_url
from ._events import ModelChunkEvent
from ._http import (body_excerpt, cut_reply, repeatable, request_id_of, retry_after_seconds, retry_delay, typed_errors,
                    unanswered)
from ._messages import Message, ModelResponse
from ._ocid import check_ocid, check_region
from ._sse import EventStream
from ._stream import StreamSnapshot, accumulate_event, build_chunk, chunks_from_response
from ._tools import tool_list, tool_spec
from ._wire import build_request, error_from_body, failed_response_error, parse_response, response_problem

__all__ = ["DEFAULT_DEADLINE", "DEFAULT_LIMITS", "DEFAULT_STREAM_IDLE_TIMEOUT", "DEFAULT_TIMEOUT", "STREAM_HEADERS",
           "OCIResponsesModel", "oci_base_url"]

# pool: how long a request waits for a free connection when all of `limits` are busy.
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0, pool=30.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's own
DEFAULT_DEADLINE = 600.0  # seconds for a whole call, retries included
DEFAULT_STREAM_IDLE_TIMEOUT = 120.0  # seconds a stream may go without an event
# Streams ask for no compression at all: httpx advertises zstd when `zstandard` is installed, OCI then zstd-frames
# each event and httpx's decoder fails mid-stream; any compression would also hold tokens back in buffers.
STREAM_HEADERS = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
_sleep = asyncio.sleep  # the waits between attempts: the one seam tests replace, to count them without waiting


def oci_base_url(region: str) -> str:
    return f"https://inference.generativeai.{region}.oci.oraclecloud.com/openai/v1"


class _Later:
    """A method of the model kept in its own module, imported when the method is first looked up (`help()` and a
    notebook's signature tips then show the function itself): plain complete()/stream() users never load it."""

    def __init__(self, module: str) -> None:
        self.module = module

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, model: Any, owner: type | None = None) -> Any:
        function = getattr(import_module(self.module, __package__), self.name)
        return function if model is None else MethodType(function, model)


class OCIResponsesModel:
    """A model behind an OCI (or any Responses-compatible) endpoint.

    store=False: stateless, Zero-Data-Retention safe; send the whole conversation each turn.
    store=True: the server keeps each response; pass `provider_state` from the last reply and send only the new turn.
    Or let a conversation hold the thread: `conv = await model.create_conversation()`, then `conv.provider_state`.

    `auth`: an `httpx.Auth`, or one of "api_key", "security_token", "instance_principal", "resource_principal",
    "bearer", "none"; None picks Bearer when `api_key` is given, else the profile's own kind of signing. Region:
    `region=`, else OCI_REGION, else the profile's (the same rule as `connect()`, which then has a default).
    Compartment (sent as `opc-compartment-id`, required by OCI): `compartment_id=`, else OCI_COMPARTMENT. Config file:
    `config_file=`, else OCI_CONFIG_FILE, else ~/.oci/config. With auth="bearer": `api_key=`, else OCI_GENAI_API_KEY.

    Bounds (each checked here, a `ConfigError` naming it otherwise): `timeout=` (seconds, or an `httpx.Timeout`; its
    `pool` part is the wait for a free connection), `deadline=` (seconds for a whole call; None: none),
    `stream_idle_timeout=` (seconds a stream may send no event; None: none), `limits=` (an `httpx.Limits`, or the
    number of connections; default 100), `max_retries=`. `complete()` and `stream()` also take `deadline=` (and
    `stream()` `stream_idle_timeout=`) per call.
    """

    def __init__(self, model: str, *, profile: str | None = None, region: str | None = None,
                 compartment_id: str | None = None, store: bool = True, base_url: str | None = None,
                 auth: httpx.Auth | str | None = None, config_file: str | None = None, api_key: str | None = None,
                 project_id: str | None = None, timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
                 max_retries: int = 2, transport: httpx.AsyncBaseTransport | None = None,
                 limits: httpx.Limits | int | None = None, deadline: float | None = DEFAULT_DEADLINE,
                 stream_idle_timeout: float | None = DEFAULT_STREAM_IDLE_TIMEOUT) -> None:
        if not model or not isinstance(model, str):
            raise ConfigError("model is required, e.g. model='openai.gpt-4.1'")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError(f"max_retries must be a whole number >= 0; got {max_retries!r}")
        if not isinstance(store, bool):  # bool("false") is True: a string here would store silently
            raise ConfigError(f"store must be True or False; got {type(store).__name__} {store!r}")
        if base_url is not None and (not isinstance(base_url, str) or not _HTTP_URL.match(base_url)):
            raise ConfigError("base_url must be an http(s) URL ending in /openai/v1; "
                              f"got {mask_url(str(base_url))!r:.80}")
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise ConfigError(f"transport must be an httpx.AsyncBaseTransport; got {type(transport).__name__}")
        if transport is not None and limits is not None:
            raise ConfigError("limits= configures the connection pool of the model's own transport; with "
                              "transport= set the limits on that transport instead")
        self._timeout = _checked_timeout(timeout)
        self._limits = _checked_limits(limits)
        self.deadline = _seconds(deadline, "deadline")
        self.stream_idle_timeout = _seconds(stream_idle_timeout, "stream_idle_timeout")
        self._connect_to(base_url, auth=auth, profile=profile, region=region, compartment_id=compartment_id,
                         project_id=project_id, config_file=config_file, api_key=api_key)
        self.model_id = model
        self.store = bool(store)
        self.max_retries = max_retries
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _connect_to(self, base_url: str | None, *, auth: httpx.Auth | str | None, profile: str | None,
                    region: str | None, compartment_id: str | None, project_id: str | None, config_file: str | None,
                    api_key: str | None) -> None:
        """Who signs the requests and where they go (each setting falls back as the class's docstring says)."""
        if (auth is None and not api_key) or auth in ("api_key", "security_token"):  # a profile will be read
            config_file = resolve("config_file", config_file).value
        if auth == "bearer":
            api_key = resolve("api_key", api_key).value
        self._auth = resolve_auth(auth, profile=profile, config_file=config_file, api_key=api_key)
        region = resolve("region", region, profile={"region": getattr(self._auth, "region", None)})
        if region.value is not None:  # for OCI's own URL also a region the oci SDK knows (a typo is no URL)
            check_region(region.value, known=base_url is None,
                         name="region" if region.source == "the region parameter" else f"region (from {region.source})")
        compartment_id = resolve("compartment", compartment_id).value
        if base_url is None:
            if not region.value:
                raise ConfigError("region is required for OCI: pass region= or set OCI_REGION (e.g. us-chicago-1)")
            if not compartment_id:
                raise ConfigError("OCI needs a compartment (sent as opc-compartment-id): pass compartment_id= "
                                  "or set OCI_COMPARTMENT")
            base_url = oci_base_url(region.value)
        # The kind is checked here (a user OCID or a name is a common slip); connect() checks the full shape.
        if compartment_id:
            check_ocid(compartment_id, "compartment_id", ("compartment", "tenancy"), min_unique=1)
        if project_id:
            check_ocid(project_id, "project_id", ("generativeaiproject",), min_unique=1)
        self.region = region.value
        self.profile = getattr(self._auth, "profile", profile)
        self.base_url = base_url.rstrip("/")
        self.compartment_id = compartment_id
        self.project_id = project_id
        self._shown_url = mask_url(self.base_url)  # what messages show: no password, no key in the query
        self._url_secrets = tuple(filter(None, (httpx.URL(self.base_url).password,)))

    # -- public -----------------------------------------------------------------------------

    @property
    def model(self) -> str:
        """The model id under the seed's name (Locus's `OCIResponsesModel.model`); `model_id` everywhere else."""
        return self.model_id

    @property
    def server_stateful(self) -> bool:
        """True when the server holds the conversation (store=True)."""
        return self.store

    @property
    def auth(self) -> httpx.Auth:
        """The `httpx.Auth` that authenticates each request."""
        return self._auth

    async def complete(self, messages: Sequence[Message], provider_state: Mapping[str, Any] | None = None, *,
                       tools: Sequence[Any] = (), deadline: float | None = None, **options: Any) -> ModelResponse:
        """One non-streaming turn. Options: max_output_tokens, temperature, top_p, reasoning, text (structured
        output), metadata, tool_choice, parallel_tool_calls, include, … `deadline`: seconds for this call
        (default: the model's), past which `RequestTimeout`."""
        if options.pop("stream", False):  # else request_body would take it, and a stream come back
            raise ConfigError("complete() returns the whole reply at once; to stream it, use "
                              "`async for chunk in model.stream(messages): …`")
        seconds = _seconds(deadline, "deadline", self.deadline)
        body = self.request_body(messages, provider_state, tools=tools, **options)
        return self._parse_reply(await self._send(body, seconds, _deadline_at(seconds)))

    async def stream(self, messages: Sequence[Message], provider_state: Mapping[str, Any] | None = None, *,
                     tools: Sequence[Any] = (), deadline: float | None = None, stream_idle_timeout: float | None = None,
                     **options: Any) -> AsyncIterator[ModelChunkEvent]:
        """One turn, streamed: a `ModelChunkEvent` per text delta (`content`), one per completed tool call
        (`tool_calls`), and last exactly one with `done=True` carrying the whole `response`.

        Failures before the first event (connect, 429, 5xx) are retried like `complete()`; once events flow nothing is
        retried. A failed or broken stream raises `StreamFailed` / `StreamTruncated` with the text received so far;
        one that sends no event for `stream_idle_timeout` seconds or has not ended by the `deadline` (both default to
        the model's) raises `StreamTimeout`, also with the text so far. With `background=True` the answer runs in the
        background, and a stream that breaks is resumed after its last event, never sent again (`_background`); a plain
        stream is not resumable. Reading stops at the terminal event. Leaving the loop early (break, an error, a kernel
        interrupt) closes the HTTP stream; `async with contextlib.aclosing(model.stream(...))` makes that immediate.
        """
        seconds = _seconds(deadline, "deadline", self.deadline)
        idle = _seconds(stream_idle_timeout, "stream_idle_timeout", self.stream_idle_timeout)
        if not isinstance(background := options.pop("background", False), bool):  # resumed after a cut: `_background`
            raise ConfigError(f"background must be True or False; got {type(background).__name__} {background!r:.40}")
        body = self.request_body(messages, provider_state, tools=tools, stream=True, **options)
        deadline_at = _deadline_at(seconds)
        response = await self._send({**body, "background": True} if background else body, seconds, deadline_at,
                                    stream=True)
        snapshot = StreamSnapshot(store=self.store)
        reply = EventStream(response, snapshot, idle=idle, deadline_at=deadline_at, deadline=seconds,
                            redact=self._secrets)
        source = import_module("._background", __package__).resumed(
            self, reply, snapshot, idle=idle, deadline_at=deadline_at, deadline=seconds) if background else reply.events()
        async with aclosing(source) as events:  # however the loop ends, the response is closed
            async for event in events:
                accumulate_event(event, snapshot)
                chunk = build_chunk(event, snapshot)
                if chunk is not None:
                    yield chunk
        if not reply.is_sse:  # a server that ignored `"stream": true` and answered with one JSON Response
            for chunk in chunks_from_response(self._parse_reply(response)):
                yield chunk
        elif snapshot.response is None:  # the one place a failure kept in the snapshot is raised
            raise reply.error("the stream closed before response.completed")

    # Conversations the server holds, and answers run in the background: in modules of their own, loaded on first use.
    create_conversation = _Later("._conversations")
    conversation_items = _Later("._conversations")
    delete_conversation = _Later("._conversations")
    start = _Later("._background")
    wait = _Later("._background")
    cancel = _Later("._background")

    def request_body(self, messages: Sequence[Message], provider_state: Mapping[str, Any] | None = None, *,
                     tools: Sequence[Any] = (), stream: bool = False, **options: Any) -> dict[str, Any]:
        """The exact JSON this model would send for these messages (useful to show and to test)."""
        return build_request(messages, model=self.model_id, store=self.store, provider_state=provider_state,
                             tools=[tool_spec(t) for t in tool_list(tools, runnable=False)], stream=stream, **options)

    def redact(self, text: str) -> str:
        """`text` safe to show: the caller's own secrets (API key, session token, key paths, …) masked,
        and anything that looks like an OCID or a token. The agent masks a tool's failure with it."""
        return mask_secrets(text, self._secrets)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> OCIResponsesModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (f"OCIResponsesModel(model={self.model_id!r}, store={self.store}, base_url={self._shown_url!r}, "
                f"compartment={mask_ocid(self.compartment_id)}, auth={self._auth!r})")

    # -- HTTP -------------------------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {name: value for name, value in (("opc-compartment-id", self.compartment_id),
                                                       ("OpenAI-Project", self.project_id)) if value}
            self._client = httpx.AsyncClient(base_url=self.base_url, auth=self._auth, headers=headers,
                                             timeout=self._timeout, limits=self._limits, transport=self._transport,
                                             verify=_shared_tls_context())
        return self._client

    async def _send(self, body: dict[str, Any] | None, deadline: float | None, deadline_at: float | None, *,
                    stream: bool = False, method: str = "POST", path: str = "/responses",
                    params: Mapping[str, Any] | None = None) -> httpx.Response:
        """POST /responses (or another `method` and `path`) before the loop time `deadline_at`, retrying while no answer
        has begun (`_http` says what is); what ends the attempts is raised typed. The 2xx reply comes back read whole,
        or with stream=True open (headers read, body not): the caller reads it and closes it."""
        pool = self._limits.max_connections if self._transport is None else None, self._timeout.pool
        hint = doctor_hint(self.profile) if self.profile else None  # the doctor checks DNS, TLS, a proxy, the region
        async with typed_errors(functools.partial(unanswered, url=self._shown_url, deadline=deadline, hint=hint,
                                                  pool=pool), deadline_at):
            attempt = 0
            while True:
                request = self.client.build_request(method, path, json=body, params=params,
                                                    headers=STREAM_HEADERS if stream else None)
                try:  # the body is read apart, so that a failure while reading it is told from one before any answer
                    response = await self.client.send(request, stream=True)
                except httpx.TransportError as exc:
                    delay = retry_delay(attempt, self.max_retries, None) if repeatable(exc) else None
                    if delay is None:
                        raise  # typed by the phase: before any answer
                else:
                    if response.is_success:
                        if not stream:
                            await self._read_body(response)
                        return response
                    await self._read_body(response)  # an error body (streamed or not) is read before it is typed
                    status = response.status_code
                    hint = auth_hint(self._auth, status, response.headers) if status in (401, 403) else None
                    error = error_from_body(status, response.content, response.headers, hint=hint, redact=self._secrets,
                                            previous_response_id=(body or {}).get("previous_response_id"))
                    delay = (retry_delay(attempt, self.max_retries, retry_after_seconds(response.headers))
                             if isinstance(error, RateLimited | ServerError) else None)
                    if delay is None:
                        raise error
                await _sleep(delay)
                attempt += 1

    async def _read_body(self, response: httpx.Response) -> None:
        """Read a reply's whole body, then close it; a failure here is never retried (`cut_reply` says why)."""
        try:
            async with typed_errors(functools.partial(cut_reply, url=self._shown_url, status=response.status_code)):
                await response.aread()
        finally:
            await response.aclose()

    def _parse_reply(self, response: httpx.Response) -> ModelResponse:
        """A whole JSON Response (a `complete()` reply, or a stream request answered in one piece)."""
        request_id = request_id_of(response.headers)
        try:
            data = response.json()
        except ValueError:  # not JSON, or not even text (UnicodeDecodeError), or a >4300-digit number
            data, problem = None, "not JSON"
        except RecursionError:
            data, problem = None, "JSON nested too deeply to read"
        else:
            problem = response_problem(data)
        if problem is not None:  # checked, not caught: a bug in parse_response is not a bad reply
            excerpt = body_excerpt(response.content, self._secrets)
            raise APIStatusError(
                f"the endpoint answered {response.status_code} with a body that is not a JSON Response object "
                f"(content-type {response.headers.get('content-type', 'none')}: {excerpt!r}): {problem}; "
                "is base_url a Responses endpoint?", status=response.status_code, request_id=request_id)
        if data.get("status") == "failed":
            raise failed_response_error(data, status=response.status_code, request_id=request_id, redact=self._secrets)
        return parse_response(data, store=self.store)

    @property
    def _secrets(self) -> tuple[str, ...]:
        """The caller's own secrets (API key, session token, key paths, pass phrase, the endpoint URL's
        password): masked wherever a server echoes them."""
        return (*getattr(self._auth, "secrets", ()), *self._url_secrets)


_HTTP_URL = re.compile(r"^https?://[^\s/]+")


@functools.cache
def _shared_tls_context() -> ssl.SSLContext:
    """One TLS context for every model (made at the first client): building one loads the CA bundle,
    ~80 ms of CPU, which hundreds of models made at once would each pay. A context is safe to share
    between connections; like httpx's own, it honours SSL_CERT_FILE / SSL_CERT_DIR as they are then."""
    return httpx.create_ssl_context()


def _deadline_at(seconds: float | None) -> float | None:
    return None if seconds is None else asyncio.get_running_loop().time() + seconds


def _seconds(value: Any, name: str, default: float | None = None) -> float | None:
    """A bound in seconds: a positive finite number (None: `default`), else a ConfigError naming `name`."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ConfigError(f"{name} must be a positive number of seconds (or None for no bound); "
                          f"got {type(value).__name__} {value!r:.40}")
    return float(value)


def _checked_timeout(timeout: Any) -> httpx.Timeout:
    """`timeout=`: seconds (every phase), an `httpx.Timeout`, or None (no per-phase timeout)."""
    if not isinstance(timeout, httpx.Timeout):
        return httpx.Timeout(_seconds(timeout, "timeout"))
    for phase in ("connect", "read", "write", "pool"):
        _seconds(getattr(timeout, phase), f"timeout.{phase}")
    return timeout


def _checked_limits(limits: Any) -> httpx.Limits:
    """`limits=`: an `httpx.Limits`, or the number of connections (None: httpx's default, 100)."""
    if limits is None or isinstance(limits, httpx.Limits):
        return DEFAULT_LIMITS if limits is None else limits
    if isinstance(limits, bool) or not isinstance(limits, int) or limits < 1:
        raise ConfigError(f"limits must be an httpx.Limits or a number of connections >= 1; "
                          f"got {type(limits).__name__} {limits!r:.40}")
    return httpx.Limits(max_connections=limits, max_keepalive_connections=min(limits, 20))
