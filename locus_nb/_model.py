"""`OCIResponsesModel`: the async client for `/openai/v1/responses`. The only client code that does I/O.

Retries, up to `max_retries` times, only while no answer has begun: a 429, a 5xx, a connection
that could not be made (refused, DNS, TLS, a connect timeout) or that closed before any answer.
The wait is the server's `Retry-After` when it sends one (a wait longer than a minute is not
waited: the `RateLimited` error is raised with `retry_after` set), else an exponential backoff
with jitter (0.5 s, 1 s, 2 s … capped at 8 s, each scaled by a random 0.5–1.0).

Never retried, because the server may already have run (and stored) the generation, and running
it twice costs twice: a read timeout; a body that breaks off after the status line (a
`complete()` reply cut halfway: `ConnectionFailed`); anything once a stream's events flow; the
`deadline`. A pool timeout (every connection of `limits=` busy) is not retried either: the wait
for a free connection has already lasted the pool timeout; the error says to raise `limits=`.

Every call ends: `deadline=` (default 600 s) bounds a whole call — connecting, retries, waiting
and reading — and raises `RequestTimeout` (before a stream's first event) or `StreamTimeout` (with
the text so far); `stream_idle_timeout=` (default 120 s) ends a stream that sends no event for that
long (keep-alive comments do not count); a stream stops reading at its terminal event.

Settings come in as arguments. A model made directly falls back on a few environment variables
(see `OCIResponsesModel`), read through `_environment.resolve` only for a value it was not given;
`connect()` gives every value, so its models read none.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import random
import re
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing, asynccontextmanager
from typing import Any

import httpx
from httpx_sse._decoders import SSEDecoder, SSELineDecoder  # the decoders of its `aiter_sse`

from ._auth import auth_hint, resolve_auth
from ._config import doctor_hint
from ._environment import resolve
from ._errors import (
    APIStatusError,
    ConfigError,
    ConnectionFailed,
    LocusError,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamError,
    mask_ocid,
    mask_secrets,
    mask_url,
)
from ._events import ModelChunkEvent
from ._messages import Message, ModelResponse
from ._ocid import check_ocid, check_region
from ._stream import StreamSnapshot, chunks_from_response, handle_event, stream_error
from ._tools import tool_list, tool_spec
from ._wire import (
    body_excerpt,
    build_request,
    error_from_body,
    failed_response_error,
    parse_response,
    request_id_of,
    response_problem,
    retry_after_seconds,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_LIMITS",
    "DEFAULT_STREAM_IDLE_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "STREAM_HEADERS",
    "OCIResponsesModel",
    "oci_base_url",
]

# pool: how long a request waits for a free connection when all of `limits` are busy.
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0, pool=30.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's own
DEFAULT_DEADLINE = 600.0  # seconds for a whole call, retries included
DEFAULT_STREAM_IDLE_TIMEOUT = 120.0  # seconds a stream may go without an event
# After a stream's terminal event the rest of the body (normally nothing) is read this long at
# most, so that the connection can be reused; a server that keeps it open is then simply left.
_DRAIN_AFTER_END = 0.25
# Streams ask for no compression at all: httpx advertises zstd when `zstandard` is installed,
# OCI then zstd-frames each event and httpx's decoder fails mid-stream; any compression would
# also hold tokens back in buffers.
STREAM_HEADERS = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
_MAX_BACKOFF = 8.0
_MAX_RETRY_AFTER = 60.0
_sleep = asyncio.sleep  # module-level so tests can count waits without waiting


def oci_base_url(region: str) -> str:
    return f"https://inference.generativeai.{region}.oci.oraclecloud.com/openai/v1"


class OCIResponsesModel:
    """A model behind an OCI (or any Responses-compatible) endpoint.

    store=False: stateless, Zero-Data-Retention safe; send the whole conversation each turn.
    store=True: the server keeps each response; pass `provider_state` from the last reply and
    send only the new turn.

    `auth`: an `httpx.Auth`, or one of "api_key", "security_token", "instance_principal",
    "resource_principal", "bearer", "none"; None picks Bearer when `api_key` is given, else the
    profile's own kind of signing. Region: `region=`, else OCI_REGION, else the profile's (the
    same rule as `connect()`, which then has a default). Compartment (sent as `opc-compartment-id`,
    required by OCI): `compartment_id=`, else OCI_COMPARTMENT. Config file: `config_file=`, else
    OCI_CONFIG_FILE, else ~/.oci/config. With auth="bearer": `api_key=`, else OCI_GENAI_API_KEY.

    Bounds (each checked here, a `ConfigError` naming it otherwise): `timeout=` (seconds, or an
    `httpx.Timeout`; its `pool` part is the wait for a free connection), `deadline=` (seconds for a
    whole call; None: none), `stream_idle_timeout=` (seconds a stream may send no event; None:
    none), `limits=` (an `httpx.Limits`, or the number of connections; default 100), `max_retries=`.
    `complete()` and `stream()` also take `deadline=` (and `stream()` `stream_idle_timeout=`) per call.
    """

    def __init__(
        self,
        model: str,
        *,
        profile: str | None = None,
        region: str | None = None,
        compartment_id: str | None = None,
        store: bool = True,
        base_url: str | None = None,
        auth: httpx.Auth | str | None = None,
        config_file: str | None = None,
        api_key: str | None = None,
        project_id: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | int | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
        stream_idle_timeout: float | None = DEFAULT_STREAM_IDLE_TIMEOUT,
    ) -> None:
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
        self.model = model
        self.store = bool(store)
        self.max_retries = max_retries
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _connect_to(self, base_url: str | None, *, auth: httpx.Auth | str | None, profile: str | None,
                    region: str | None, compartment_id: str | None, project_id: str | None, config_file: str | None,
                    api_key: str | None) -> None:
        """Who signs the requests and where they go. Each setting is the one given, else its variable
        (`_environment.resolve`); the region after those is the auth's profile's."""
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
    def server_stateful(self) -> bool:
        """True when the server holds the conversation (store=True)."""
        return self.store

    @property
    def auth(self) -> httpx.Auth:
        """The `httpx.Auth` that authenticates each request."""
        return self._auth

    async def complete(
        self,
        messages: Sequence[Message],
        provider_state: Mapping[str, Any] | None = None,
        *,
        tools: Sequence[Any] = (),
        deadline: float | None = None,
        **options: Any,
    ) -> ModelResponse:
        """One non-streaming turn. Options: max_output_tokens, temperature, top_p, reasoning,
        text (structured output), metadata, tool_choice, parallel_tool_calls, include, …

        `deadline`: seconds for this call (default: the model's), past which `RequestTimeout`."""
        if options.pop("stream", False):  # else request_body would take it, and a stream come back
            raise ConfigError("complete() returns the whole reply at once; to stream it, use "
                              "`async for chunk in model.stream(messages): …`")
        seconds = self.deadline if deadline is None else _seconds(deadline, "deadline")
        body = self.request_body(messages, provider_state, tools=tools, **options)
        async with self._within(_deadline_at(seconds), seconds):
            response = await self._send(body)
        return self._parse_reply(response)

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
                "is base_url a Responses endpoint?",
                status=response.status_code,
                request_id=request_id,
            )
        if data.get("status") == "failed":
            raise failed_response_error(data, status=response.status_code, request_id=request_id, redact=self._secrets)
        return parse_response(data, store=self.store)

    def request_body(
        self,
        messages: Sequence[Message],
        provider_state: Mapping[str, Any] | None = None,
        *,
        tools: Sequence[Any] = (),
        stream: bool = False,
        **options: Any,
    ) -> dict[str, Any]:
        """The exact JSON this model would send for these messages (useful to show and to test)."""
        return build_request(
            messages,
            model=self.model,
            store=self.store,
            provider_state=provider_state,
            tools=[tool_spec(t) for t in tool_list(tools, runnable=False)],
            stream=stream,
            **options,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> OCIResponsesModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"OCIResponsesModel(model={self.model!r}, store={self.store}, base_url={self._shown_url!r}, "
            f"compartment={mask_ocid(self.compartment_id)}, auth={self._auth!r})"
        )

    # -- HTTP -------------------------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {}
            if self.compartment_id:
                headers["opc-compartment-id"] = self.compartment_id
            if self.project_id:
                headers["OpenAI-Project"] = self.project_id
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                auth=self._auth,
                headers=headers,
                timeout=self._timeout,
                limits=self._limits,
                transport=self._transport,
                verify=_shared_tls_context(),
            )
        return self._client

    async def _send(self, body: dict[str, Any], *, stream: bool = False) -> httpx.Response:
        """POST /responses, retrying while no answer has begun (429, 5xx, connection failures); any
        other error raises typed.

        The 2xx response comes back read whole, or with stream=True open (headers read, body not):
        the caller reads it and closes it. Nothing retries once the status line has arrived: a
        body that breaks off is a generation the server has already run.
        """
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                response = await self._send_once(body, stream)
            except httpx.PoolTimeout:
                raise self._pool_exhausted() from None
            except httpx.TimeoutException as exc:
                error: LocusError = RequestTimeout(f"no answer from {self._shown_url} in time ({type(exc).__name__})")
                # Only a timeout before the request went out is safe to repeat.
                retryable = isinstance(exc, httpx.ConnectTimeout)
            except httpx.TransportError as exc:
                # With a profile, the doctor checks what this can be (DNS, TLS, a proxy, the region).
                error = ConnectionFailed(f"could not reach {self._shown_url}: {type(exc).__name__}",
                                         hint=doctor_hint(self.profile) if self.profile else None)
                retryable = True
            else:
                if response.is_success:
                    if not stream:
                        await self._read_body(response)
                    return response
                await self._read_body(response)  # an error body (streamed or not) is read before it is inspected
                error = self._status_error(response)
                retryable = isinstance(error, RateLimited | ServerError)
                retry_after = retry_after_seconds(response.headers)
            delay = self._retry_delay(attempt, retry_after) if retryable else None
            if delay is None:
                raise error from None
            await _sleep(delay)
            attempt += 1

    async def _send_once(self, body: dict[str, Any], stream: bool) -> httpx.Response:
        """The request sent and the status line and headers read; the body is read apart, so that
        a failure while reading it is told from one before any answer."""
        request = self.client.build_request("POST", "/responses", json=body, headers=STREAM_HEADERS if stream else None)
        return await self.client.send(request, stream=True)

    async def _read_body(self, response: httpx.Response) -> None:
        """Read a reply's whole body, then close it. A failure here is never retried: the server
        has answered, so it has run the request (a `complete()` generation, stored if store=True)."""
        status = response.status_code
        try:
            await response.aread()
        except httpx.TimeoutException as exc:
            raise RequestTimeout(
                f"the {status} reply from {self._shown_url} stopped arriving ({type(exc).__name__}); not retried: "
                "the server has already run the request", hint=_CUT_HINT) from None
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"the connection broke off while reading the {status} reply from {self._shown_url} "
                f"({type(exc).__name__}); not retried: the server has already run the request", hint=_CUT_HINT) from None
        finally:
            await response.aclose()

    def _pool_exhausted(self) -> RequestTimeout:
        limit = self._limits.max_connections if self._transport is None else None
        wait = self.client.timeout.pool
        busy = f"all {limit} connections" if limit else "all the connections"
        within = f" within {wait:g} s (the pool timeout)" if wait is not None else ""
        return RequestTimeout(
            f"{busy} of the pool to {self._shown_url} are busy: none came free{within}; raise limits= "
            "(e.g. limits=httpx.Limits(max_connections=200)) or lower the concurrency",
            hint="too many requests at once for the connection pool (this is not a network problem); "
                 "not retried: the wait for a free connection already lasted the pool timeout")

    @asynccontextmanager
    async def _within(self, deadline_at: float | None, seconds: float | None) -> AsyncIterator[None]:
        """The `deadline` of a call (no bound when None): past it, what runs inside is cancelled and
        `RequestTimeout` raised. (It never spans a `yield` to a caller.)"""
        try:
            async with asyncio.timeout_at(deadline_at) as scope:
                yield
        except TimeoutError:
            if not scope.expired():
                raise
            raise RequestTimeout(f"no complete answer from {self._shown_url} within the deadline of {seconds:g} s",
                                 hint=_DEADLINE_HINT) from None

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None for no further attempt."""
        if attempt >= self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= _MAX_RETRY_AFTER else None
        return min(_MAX_BACKOFF, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        status = response.status_code
        hint = auth_hint(self._auth, status, response.headers) if status in (401, 403) else None
        return error_from_body(status, response.content, response.headers, hint=hint, redact=self._secrets)

    def redact(self, text: str) -> str:
        """`text` safe to show: the caller's own secrets (API key, session token, key paths, …) masked,
        and anything that looks like an OCID or a token. The agent masks a tool's failure with it."""
        return mask_secrets(text, self._secrets)

    @property
    def _secrets(self) -> tuple[str, ...]:
        """The caller's own secrets (API key, session token, key paths, pass phrase, the endpoint URL's
        password): masked wherever a server echoes them."""
        return (*getattr(self._auth, "secrets", ()), *self._url_secrets)

    # -- streaming --------------------------------------------------------------------------

    async def stream(
        self,
        messages: Sequence[Message],
        provider_state: Mapping[str, Any] | None = None,
        *,
        tools: Sequence[Any] = (),
        deadline: float | None = None,
        stream_idle_timeout: float | None = None,
        **options: Any,
    ) -> AsyncIterator[ModelChunkEvent]:
        """One turn, streamed: a `ModelChunkEvent` per text delta (`content`), one per completed tool
        call (`tool_calls`), and last exactly one with `done=True` carrying the whole `response`.

        Failures before the first event (connect, 429, 5xx) are retried like `complete()`; once events
        flow nothing is retried. A failed or broken stream raises `StreamFailed` / `StreamTruncated`
        with the text received so far; one that sends no event for `stream_idle_timeout` seconds or
        has not ended by the `deadline` (both default to the model's) raises `StreamTimeout`, also
        with the text so far. Reading stops at the terminal event. Leaving the loop early (break, an
        error, a kernel interrupt) closes the HTTP stream; `async with
        contextlib.aclosing(model.stream(...))` makes that immediate.
        """
        seconds = self.deadline if deadline is None else _seconds(deadline, "deadline")
        idle = self.stream_idle_timeout if stream_idle_timeout is None else _seconds(stream_idle_timeout,
                                                                                       "stream_idle_timeout")
        body = self.request_body(messages, provider_state, tools=tools, stream=True, **options)
        deadline_at = _deadline_at(seconds)
        async with self._within(deadline_at, seconds):
            response = await self._send(body, stream=True)
        snapshot = StreamSnapshot(store=self.store)
        try:
            watched = response.stream = _Watched(response.stream, idle=idle, deadline_at=deadline_at, deadline=seconds)
            try:
                sse = await _reads_as_sse(response)
                if not sse:  # a server that ignored `"stream": true` and answered with one JSON Response
                    await response.aread()
            except (_Expired, httpx.RequestError) as exc:
                raise self._broken_off(response, snapshot, exc) from None
            if not sse:
                for chunk in chunks_from_response(self._parse_reply(response)):
                    yield chunk
                return
            # One loop, no generator in between: httpx-sse's own decoders, fed a chunk of text at a
            # time (its `aiter_sse` awaits a generator per line, three per event). Only the reading
            # is inside `try`, so that what the caller throws in at `yield` is never taken for a
            # broken stream.
            lines, decoder = SSELineDecoder(), SSEDecoder()
            async with aclosing(response.aiter_text()) as texts:
                ended = False
                while not ended and not snapshot.done:
                    try:
                        received = lines.decode(await anext(texts))
                    except StopAsyncIteration:
                        received, ended = lines.flush(), True
                    except (_Expired, httpx.RequestError) as exc:
                        raise self._broken_off(response, snapshot, exc) from None
                    for data in _event_data(received, decoder):
                        if data == "[DONE]":  # Chat Completions' terminator; some gateways add it
                            ended = True
                            break
                        try:
                            event = _decode_json(data)
                        except (ValueError, RecursionError) as exc:  # not JSON; a >4300-digit number; too deep
                            raise self._stream_error(response, snapshot, _not_json(exc)) from None
                        chunk = handle_event(event, snapshot)
                        if chunk is not None:
                            yield chunk
                        if snapshot.done:  # the end, or a failure: what follows is not read
                            break
                if snapshot.response is None:  # the one place a failure kept in the snapshot is raised
                    raise self._stream_error(response, snapshot, "the stream closed before response.completed")
                await self._drain(watched, texts)
        finally:
            await response.aclose()

    async def _drain(self, watched: _Watched, texts: AsyncIterator[str]) -> None:
        """After the terminal event, read what follows (normally nothing) for `_DRAIN_AFTER_END` at most,
        so that the connection can be reused; once the answer is whole, a broken or endless rest is harmless."""
        watched.drain(_DRAIN_AFTER_END)
        try:
            async for _ in texts:
                pass
        except (_Expired, httpx.RequestError):
            pass

    def _broken_off(self, response: httpx.Response, snapshot: StreamSnapshot, exc: Exception) -> StreamError:
        """A stream whose connection broke off or went quiet: a `StreamTruncated` (a `StreamTimeout`
        for a deadline) holding the text so far (what httpx's `map_exceptions` does, in one place)."""
        if isinstance(exc, _Expired):
            return self._stream_error(response, snapshot, exc.why, timed_out=True)
        if isinstance(exc, httpx.TimeoutException):
            return self._stream_error(response, snapshot, f"the stream stopped: nothing arrived within the read "
                                      f"timeout ({type(exc).__name__})", timed_out=True)
        return self._stream_error(response, snapshot, f"the stream broke off ({type(exc).__name__})")

    def _stream_error(self, response: httpx.Response, snapshot: StreamSnapshot, why: str, *,
                      timed_out: bool = False) -> StreamError:
        """The snapshot's failure, else `why` the stream stopped, with the reply's request id and the
        caller's secrets masked."""
        return stream_error(snapshot, why, request_id=request_id_of(response.headers), redact=self._secrets,
                            timed_out=timed_out)


class _Expired(Exception):
    """A stream's idle timeout or deadline passed (`why` says which); raised by `_Watched`, turned
    into a `StreamTimeout` by `_stream_broken`: it never leaves this module."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Watched(httpx.AsyncByteStream):
    """A streamed body read under the call's deadline and the stream's idle timeout, with one timer
    per chunk of bytes read (a chunk holds many events on a fast stream), none per event.

    Chunks that hold only SSE comments (`: keep-alive`) do not count as activity for the idle
    timeout. `drain()` bounds the read of what follows the terminal event.
    """

    def __init__(self, inner: httpx.AsyncByteStream, *, idle: float | None, deadline_at: float | None,
                 deadline: float | None) -> None:
        self._inner = inner
        self._idle = idle
        self._deadline_at = deadline_at
        self._deadline = deadline

    def drain(self, seconds: float) -> None:
        """Read on for at most `seconds` more (the answer is whole; only the connection's reuse is at stake)."""
        until = asyncio.get_running_loop().time() + seconds
        self._deadline_at = until if self._deadline_at is None else min(self._deadline_at, until)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        chunks = aiter(self._inner)
        idle = idle_left = self._idle  # seconds of waiting still allowed without an event (None: no bound)
        while True:
            # Only the time spent waiting here counts as the server's silence, not the caller's
            # between two chunks; the deadline counts all time.
            started = loop.time()
            at = self._deadline_at
            if at is not None and started >= at:
                raise self._expired(started)
            if idle_left is not None:
                at = started + idle_left if at is None else min(at, started + idle_left)
            try:
                async with asyncio.timeout_at(at):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise self._expired(loop.time()) from None
            if idle_left is not None:
                idle_left = idle_left - (loop.time() - started) if _only_comments(chunk) else idle
            yield chunk

    def _expired(self, now: float) -> _Expired:
        if self._deadline_at is not None and now >= self._deadline_at:
            return _Expired(f"the stream did not end within the deadline of {self._deadline:g} s")
        return _Expired(f"the stream sent no event for {self._idle:g} s (stream_idle_timeout)")

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _reads_as_sse(response: httpx.Response) -> bool:
    """Whether a streamed 2xx body is SSE. Its content-type says so when it names an event stream or
    JSON; with none or another one (some gateways), the body's first bytes decide, as the openai SDK
    reads any streamed body as SSE while a JSON Response or an HTML page still reads as what it is."""
    kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind == "text/event-stream" or kind.endswith("json"):
        return kind == "text/event-stream"
    head, rest = b"", aiter(response.stream)
    async for chunk in rest:
        head += chunk
        if head.strip():
            break
    response.stream = _Prefixed(head, rest, response.stream)
    if head.lstrip()[:1] in (b"", b"{", b"[", b"<"):
        return False
    return True


class _Prefixed(httpx.AsyncByteStream):
    """A body whose first bytes were read to see what it is: those bytes, then the rest."""

    def __init__(self, head: bytes, rest: AsyncIterator[bytes], inner: httpx.AsyncByteStream) -> None:
        self._head, self._rest, self._inner = head, rest, inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._head:
            yield self._head
        async for chunk in self._rest:
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def _event_data(lines: list[str], decoder: SSEDecoder) -> list[str]:
    """The `data` of each event these lines complete (keep-alives and events without data: none)."""
    out = []
    for line in lines:
        sse = decoder.decode(line)
        if sse is not None and sse.data:
            out.append(sse.data)
    return out


def _only_comments(chunk: bytes) -> bool:
    """True for bytes that hold only SSE comment lines (`: keep-alive`) and blank lines."""
    if chunk[:1] not in (b":", b"\n", b"\r"):  # the usual case, decided by the first byte
        return False
    return all(not line or line.startswith(b":") for line in chunk.splitlines())


def _not_json(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"the stream sent an event that is not JSON ({exc.msg})"
    if isinstance(exc, RecursionError):
        return "the stream sent an event nested too deeply to read"
    return f"the stream sent an event that is not readable JSON ({exc})"


_HTTP_URL = re.compile(r"^https?://[^\s/]+")
_DEADLINE_HINT = ("the whole call took longer than its deadline; raise deadline= (an OCIResponsesModel keyword, "
                  "or per call), or ask for a shorter answer")
_CUT_HINT = ("the reply was cut off after the server had answered; check the network or a proxy between you and "
             "the endpoint, then repeat the call yourself if you want it run again")


@functools.cache
def _shared_tls_context() -> ssl.SSLContext:
    """One TLS context for every model (made at the first client): building one loads the CA bundle,
    ~80 ms of CPU, which hundreds of models made at once would each pay. A context is safe to share
    between connections; like httpx's own, it honours SSL_CERT_FILE / SSL_CERT_DIR as they are then."""
    return httpx.create_ssl_context()


def _deadline_at(seconds: float | None) -> float | None:
    return None if seconds is None else asyncio.get_running_loop().time() + seconds


def _seconds(value: Any, name: str) -> float | None:
    """A bound in seconds: None (no bound) or a positive finite number, else a ConfigError naming `name`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ConfigError(f"{name} must be a positive number of seconds (or None for no bound); "
                          f"got {type(value).__name__} {value!r:.40}")
    return float(value)


def _checked_timeout(timeout: Any) -> httpx.Timeout:
    """`timeout=`: seconds (every phase), an `httpx.Timeout`, or None (no per-phase timeout)."""
    if isinstance(timeout, httpx.Timeout):
        for phase in ("connect", "read", "write", "pool"):
            _seconds(getattr(timeout, phase), f"timeout.{phase}")
        return timeout
    if timeout is None:
        return httpx.Timeout(None)
    return httpx.Timeout(_seconds(timeout, "timeout"))


def _checked_limits(limits: Any) -> httpx.Limits:
    """`limits=`: an `httpx.Limits`, or the number of connections (None: httpx's default, 100)."""
    if limits is None:
        return DEFAULT_LIMITS
    if isinstance(limits, httpx.Limits):
        return limits
    if isinstance(limits, bool) or not isinstance(limits, int) or limits < 1:
        raise ConfigError(f"limits must be an httpx.Limits or a number of connections >= 1; "
                          f"got {type(limits).__name__} {limits!r:.40}")
    return httpx.Limits(max_connections=limits, max_keepalive_connections=min(limits, 20))


_decode_json = json.JSONDecoder().decode  # json.loads without its per-call checks (one per event)
