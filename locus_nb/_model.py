"""`OCIResponsesModel`: the async client for `/openai/v1/responses`. The only client code that does I/O."""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import httpx
from httpx_sse import EventSource

from ._auth import resolve_auth
from ._errors import (
    ConfigError,
    ConnectionFailed,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
    mask_ocid,
)
from ._events import ModelChunkEvent
from ._messages import Message, ModelResponse
from ._stream import StreamState, chunks_from_response, fold, truncated, whole_response
from ._wire import build_request, error_from_body, parse_response

__all__ = ["DEFAULT_TIMEOUT", "OCIResponsesModel", "oci_base_url"]

DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
_MAX_BACKOFF = 8.0
_MAX_RETRY_AFTER = 60.0


def oci_base_url(region: str) -> str:
    return f"https://inference.generativeai.{region}.oci.oraclecloud.com/openai/v1"


class OCIResponsesModel:
    """A model behind an OCI (or any Responses-compatible) endpoint.

    store=False: stateless, Zero-Data-Retention safe; send the whole conversation each turn.
    store=True: the server keeps each response; pass `provider_state` from the last reply and
    send only the new turn.
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
        if not model:
            raise ConfigError("model is required, e.g. model='openai.gpt-4.1'")
        region = region or os.environ.get("OCI_REGION")
        if base_url is None:
            if not region:
                raise ConfigError("region is required for OCI: pass region= or set OCI_REGION (e.g. us-chicago-1)")
            base_url = oci_base_url(region)
        self.model = model
        self.store = bool(store)
        self.region = region
        self.profile = profile
        self.base_url = base_url.rstrip("/")
        self.compartment_id = compartment_id or os.environ.get("OCI_COMPARTMENT")
        self.project_id = project_id
        self.max_retries = max(0, int(max_retries))
        self._timeout = timeout
        self._transport = transport
        self._auth = resolve_auth(auth, profile=profile, config_file=config_file, api_key=api_key)
        self._client: httpx.AsyncClient | None = None

    # -- public -----------------------------------------------------------------------------

    @property
    def server_stateful(self) -> bool:
        """True when the server holds the conversation (store=True)."""
        return self.store

    async def complete(
        self,
        messages: Sequence[Message],
        provider_state: Mapping[str, Any] | None = None,
        *,
        tools: Sequence[Any] = (),
        **options: Any,
    ) -> ModelResponse:
        body = self.request_body(messages, provider_state, tools=tools, **options)
        response = await self._post(body)
        return parse_response(response.json(), store=self.store)

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
            f"compartment={mask_ocid(self.compartment_id)})"
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

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        """POST /responses with retries on 429, 5xx and connection failures."""
        attempt = 0
        while True:
            try:
                response = await self._send_once(body)
                if response.is_success:
                    return response
                raise error_from_body(response.status_code, response.content, response.headers)
            except (RateLimited, ServerError, TransportError) as err:
                if attempt >= self.max_retries:
                    raise
                await asyncio.sleep(_backoff(attempt, getattr(err, "retry_after", None)))
                attempt += 1

    async def _send_once(self, body: dict[str, Any]) -> httpx.Response:
        try:
            return await self.client.post("/responses", json=body)
        except httpx.TimeoutException as exc:
            raise RequestTimeout(f"no answer from {self.base_url} in time ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"could not reach {self.base_url}: {type(exc).__name__}") from None

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
        response = await self._open_stream(body)
        state = StreamState(store=self.store)
        try:
            if "text/event-stream" not in response.headers.get("content-type", ""):
                # A server that ignores `"stream": true` and answers with one JSON Response
                # (some compatible gateways): the same chunks, all at once.
                await response.aread()
                whole = whole_response(response.content, response.headers.get("content-type"), store=self.store)
                for chunk in chunks_from_response(whole):
                    yield chunk
                return
            async with aclosing(EventSource(response).aiter_sse()) as events:
                async for sse in events:
                    data = sse.data
                    if not data or state.response is not None:
                        continue  # keep-alives; anything after the end
                    if data == "[DONE]":  # Chat Completions' terminator; some gateways add it
                        break
                    state = fold(state, _decode_json(data))
                    if state.emit is not None:
                        yield state.emit
                    if state.error is not None:
                        raise state.error
            if state.response is None:
                raise truncated(state, "the stream closed before response.completed")
        except httpx.RequestError as exc:
            if state.response is None:  # after `done` the answer is whole: a broken drain is harmless
                raise truncated(state, f"the stream broke off ({type(exc).__name__})") from None
        except json.JSONDecodeError as exc:
            raise truncated(state, f"the stream sent an event that is not JSON ({exc.msg})") from None
        finally:
            await response.aclose()

    async def _open_stream(self, body: dict[str, Any]) -> httpx.Response:
        """POST a streaming request; retry connect failures, 429 and 5xx until a 2xx reply starts."""
        attempt = 0
        while True:
            try:
                request = self.client.build_request("POST", "/responses", json=body, headers=_STREAM_HEADERS)
                try:
                    response = await self.client.send(request, stream=True)
                    if response.is_success:
                        return response
                    try:  # a streamed reply must be read before its body can be inspected
                        await response.aread()
                    finally:
                        await response.aclose()
                except httpx.TimeoutException as exc:
                    raise RequestTimeout(f"no answer from {self.base_url} in time ({type(exc).__name__})") from None
                except httpx.TransportError as exc:
                    raise ConnectionFailed(f"could not reach {self.base_url}: {type(exc).__name__}") from None
                raise error_from_body(response.status_code, response.content, response.headers)
            except (RateLimited, ServerError, TransportError) as err:
                if attempt >= self.max_retries:
                    raise
                await asyncio.sleep(_backoff(attempt, getattr(err, "retry_after", None)))
                attempt += 1


_decode_json = json.JSONDecoder().decode  # json.loads without its per-call checks (one per event)
# No zstd: OCI zstd-frames each streamed event and httpx's zstd decoder then fails mid-stream.
_STREAM_HEADERS = {"Accept": "text/event-stream", "Accept-Encoding": "gzip, deflate", "Cache-Control": "no-store"}


def _backoff(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(retry_after, _MAX_RETRY_AFTER)
    return min(_MAX_BACKOFF, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)


def tool_spec(tool: Any) -> dict[str, Any]:
    """A tool as its wire spec: `@tool` objects know theirs; dicts pass through."""
    if hasattr(tool, "spec"):
        return tool.spec()
    if isinstance(tool, Mapping):
        return dict(tool)
    raise ConfigError(f"not a tool: {tool!r} (use @tool or a Responses function-tool dict)")

