"""`OCIResponsesModel`: the async client for `/openai/v1/responses`. The only client code that does I/O.

Retries: 429, 5xx and connection failures are retried up to `max_retries` times, waiting the
server's `Retry-After` when it sends one (a wait longer than a minute is not waited: the
`RateLimited` error is raised with `retry_after` set), else an exponential backoff with jitter
(0.5 s, 1 s, 2 s … capped at 8 s, each scaled by a random 0.5–1.0). A read timeout is not retried:
the request reached the server, and running a generation twice costs twice.

Settings come in as arguments. A model made directly falls back on a few environment variables
(see `OCIResponsesModel`), read through `_environment.setting` only for a value it was not given;
`connect()` gives every value, so its models read none.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import aclosing, contextmanager
from typing import Any

import httpx
from httpx_sse import EventSource

from ._auth import auth_hint, resolve_auth
from ._environment import choose_region, setting
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
)
from ._events import ModelChunkEvent
from ._messages import Message, ModelResponse
from ._ocid import check_ocid
from ._stream import StreamSnapshot, chunks_from_response, handle_event, stream_error
from ._wire import (
    build_request,
    error_from_body,
    failed_response_error,
    parse_response,
    request_id_of,
    response_problem,
    retry_after_seconds,
)

__all__ = ["DEFAULT_TIMEOUT", "STREAM_HEADERS", "OCIResponsesModel", "oci_base_url"]

DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
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
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not model or not isinstance(model, str):
            raise ConfigError("model is required, e.g. model='openai.gpt-4.1'")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError(f"max_retries must be a whole number >= 0; got {max_retries!r}")
        if (auth is None and not api_key) or auth in ("api_key", "security_token"):  # a profile will be read
            config_file = setting(config_file, "OCI_CONFIG_FILE")
        if auth == "bearer":
            api_key = setting(api_key, "OCI_GENAI_API_KEY")
        self._auth = resolve_auth(auth, profile=profile, config_file=config_file, api_key=api_key)
        region, _ = choose_region(region, getattr(self._auth, "region", None))
        compartment_id = setting(compartment_id, "OCI_COMPARTMENT")
        if base_url is None:
            if not region:
                raise ConfigError("region is required for OCI: pass region= or set OCI_REGION (e.g. us-chicago-1)")
            if not compartment_id:
                raise ConfigError("OCI needs a compartment (sent as opc-compartment-id): pass compartment_id= "
                                  "or set OCI_COMPARTMENT")
            base_url = oci_base_url(region)
        # The kind is checked here (a user OCID or a name is a common slip); connect() checks the full shape.
        if compartment_id:
            check_ocid(compartment_id, "compartment_id", ("compartment", "tenancy"), min_unique=1)
        if project_id:
            check_ocid(project_id, "project_id", ("generativeaiproject",), min_unique=1)
        self.model = model
        self.store = bool(store)
        self.region = region
        self.profile = getattr(self._auth, "profile", profile)
        self.base_url = base_url.rstrip("/")
        self.compartment_id = compartment_id
        self.project_id = project_id
        self.max_retries = max_retries
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

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
        **options: Any,
    ) -> ModelResponse:
        """One non-streaming turn. Options: max_output_tokens, temperature, top_p, reasoning,
        text (structured output), metadata, tool_choice, parallel_tool_calls, include, …"""
        if options.pop("stream", False):  # else request_body would take it, and a stream come back
            raise ConfigError("complete() returns the whole reply at once; to stream it, use "
                              "`async for chunk in model.stream(messages): …`")
        body = self.request_body(messages, provider_state, tools=tools, **options)
        return self._parse_reply(await self._send(body))

    def _parse_reply(self, response: httpx.Response) -> ModelResponse:
        """A whole JSON Response (a `complete()` reply, or a stream request answered in one piece)."""
        request_id = request_id_of(response.headers)
        try:
            data = response.json()
        except ValueError:  # not JSON, or not even text (UnicodeDecodeError)
            data, problem = None, "not JSON"
        else:
            problem = response_problem(data)
        if problem is not None:  # checked, not caught: a bug in parse_response is not a bad reply
            excerpt = response.content[:120].decode("utf-8", "replace")
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
            tools=[tool_spec(t) for t in tools],
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
            f"OCIResponsesModel(model={self.model!r}, store={self.store}, base_url={self.base_url!r}, "
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
                transport=self._transport,
            )
        return self._client

    async def _send(self, body: dict[str, Any], *, stream: bool = False) -> httpx.Response:
        """POST /responses, retrying 429, 5xx and connection failures; any other error raises typed.

        With stream=True the 2xx response comes back open (headers read, body not): the caller
        reads it and closes it, and nothing retries once it has started reading.
        """
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                response = await self._send_once(body, stream)
            except httpx.TimeoutException as exc:
                error: LocusError = RequestTimeout(f"no answer from {self.base_url} in time ({type(exc).__name__})")
                # Only a timeout before the request went out is safe to repeat.
                retryable = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            except httpx.TransportError as exc:
                error = ConnectionFailed(f"could not reach {self.base_url}: {type(exc).__name__}")
                retryable = True
            else:
                if response.is_success:
                    return response
                if stream:  # a streamed error body must be read before it can be inspected
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
                error = self._status_error(response)
                retryable = isinstance(error, RateLimited | ServerError)
                retry_after = retry_after_seconds(response.headers)
            delay = self._retry_delay(attempt, retry_after) if retryable else None
            if delay is None:
                raise error from None
            await _sleep(delay)
            attempt += 1

    async def _send_once(self, body: dict[str, Any], stream: bool) -> httpx.Response:
        if not stream:
            return await self.client.post("/responses", json=body)
        request = self.client.build_request("POST", "/responses", json=body, headers=STREAM_HEADERS)
        return await self.client.send(request, stream=True)

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
        """`text` safe to show: the caller's own secrets (API key, session token, key paths) masked,
        and anything that looks like an OCID or a token. The agent masks a tool's failure with it."""
        return mask_secrets(text, self._secrets)

    @property
    def _secrets(self) -> tuple[str, ...]:
        """The caller's own secrets (API key, session token, key paths): masked wherever a server echoes them."""
        return tuple(getattr(self._auth, "secrets", ()))

    # -- streaming --------------------------------------------------------------------------

    async def stream(
        self,
        messages: Sequence[Message],
        provider_state: Mapping[str, Any] | None = None,
        *,
        tools: Sequence[Any] = (),
        **options: Any,
    ) -> AsyncIterator[ModelChunkEvent]:
        """One turn, streamed: a `ModelChunkEvent` per text delta (`content`), one per completed tool
        call (`tool_calls`), and last exactly one with `done=True` carrying the whole `response`.

        Failures before the first event (connect, 429, 5xx) are retried like `complete()`; once events
        flow nothing is retried. A failed or broken stream raises `StreamFailed` / `StreamTruncated`
        with the text received so far. Leaving the loop early (break, an error, a kernel interrupt)
        closes the HTTP stream; `async with contextlib.aclosing(model.stream(...))` makes that immediate.
        """
        body = self.request_body(messages, provider_state, tools=tools, stream=True, **options)
        response = await self._send(body, stream=True)
        try:
            # The chunks come from a generator of their own, so that what the caller throws in at
            # this `yield` is never taken for a broken stream.
            async with aclosing(self._chunks(response)) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            await response.aclose()

    async def _chunks(self, response: httpx.Response) -> AsyncIterator[ModelChunkEvent]:
        """The chunks of a streamed reply, from its SSE events or, when a server ignored `"stream": true`
        and answered with one JSON Response (some compatible gateways), all at once."""
        snapshot = StreamSnapshot(store=self.store)
        with self._stream_broken(response, snapshot):
            if "text/event-stream" not in response.headers.get("content-type", ""):
                await response.aread()
                for chunk in chunks_from_response(self._parse_reply(response)):
                    yield chunk
                return
            async with aclosing(EventSource(response).aiter_sse()) as events:
                async for sse in events:
                    data = sse.data
                    if not data or snapshot.response is not None:
                        continue  # keep-alives; anything after the end (read on, so the connection is reused)
                    if data == "[DONE]":  # Chat Completions' terminator; some gateways add it
                        break
                    chunk = handle_event(_decode_json(data), snapshot)
                    if chunk is not None:
                        yield chunk
                    elif snapshot.failure is not None:  # (an event that fails makes no chunk)
                        break
            if snapshot.response is None:  # the one place a failure kept in the snapshot is raised
                raise self._stream_error(response, snapshot, "the stream closed before response.completed")

    @contextmanager
    def _stream_broken(self, response: httpx.Response, snapshot: StreamSnapshot) -> Iterator[None]:
        """Reading a stream, the connection can break off and an event can be something other than
        JSON: both are a `StreamTruncated` holding the text so far (httpx's `map_exceptions` idiom)."""
        try:
            yield
        except httpx.RequestError as exc:
            if snapshot.response is None:  # after `done` the answer is whole: a broken drain is harmless
                raise self._stream_error(response, snapshot, f"the stream broke off ({type(exc).__name__})") from None
        except json.JSONDecodeError as exc:
            raise self._stream_error(response, snapshot, f"the stream sent an event that is not JSON ({exc.msg})") from None

    def _stream_error(self, response: httpx.Response, snapshot: StreamSnapshot, why: str) -> StreamError:
        """The snapshot's failure, else `why` the stream stopped, with the reply's request id and the
        caller's secrets masked."""
        return stream_error(snapshot, why, request_id=request_id_of(response.headers), redact=self._secrets)


def tool_spec(tool: Any) -> dict[str, Any]:
    """A tool as its wire spec: `@tool` objects know theirs; dicts pass through."""
    if hasattr(tool, "spec"):
        return tool.spec()
    if isinstance(tool, Mapping):
        return dict(tool)
    raise ConfigError(f"not a tool: {tool!r} (use @tool or a Responses function-tool dict)")


_decode_json = json.JSONDecoder().decode  # json.loads without its per-call checks (one per event)
