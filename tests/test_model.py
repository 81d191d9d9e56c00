"""OCIResponsesModel: complete() against the in-process mock, and its HTTP behaviour on httpx.MockTransport (no sockets)."""

from __future__ import annotations

import asyncio
import json
import ssl
import warnings

import httpx
import pytest

from locus_nb import (
    APIStatusError,
    AuthError,
    BadRequest,
    ConfigError,
    ConnectionFailed,
    Message,
    OCIResponsesModel,
    RateLimited,
    RequestTimeout,
    ServerError,
    StateLost,
    ZDRRejected,
    _model,
)
from locus_nb._model import STREAM_HEADERS

from .conftest import COMPARTMENT, RESPONSES, load_json
from .sse_helpers import SSE_HEADERS, Body, frames, message_item, response_json

SEED = [
    Message.system("You remember user-shared facts and recall them on demand."),
    Message.user("My favorite color is purple. Just acknowledge."),
]


async def test_stateless_recall_from_full_history(make_model, mock_app):
    model = make_model(store=False)
    assert model.server_stateful is False
    r1 = await model.complete(SEED)
    assert r1.provider_state == {}
    r2 = await model.complete([*SEED, r1.message, Message.user("What is my favorite color?")])
    assert "purple" in r2.text.lower()
    sent = [entry["body"] for entry in mock_app.state.mock.log]
    assert all(b["store"] is False and "previous_response_id" not in b for b in sent)
    assert len(sent[1]["input"]) == 3
    # nothing was kept on the server
    assert mock_app.state.mock.responses == {}


async def test_stateless_without_history_cannot_recall(make_model):
    model = make_model(store=False)
    r = await model.complete([Message.user("What is my favorite color?")])
    assert "purple" not in r.text.lower()


async def test_stored_continuation_sends_only_the_new_turn(make_model, mock_app):
    model = make_model(store=True)
    assert model.server_stateful is True
    r1 = await model.complete(SEED)
    assert r1.provider_state == {"previous_response_id": r1.response_id}
    r2 = await model.complete([Message.user("What is my favorite color?")], provider_state=r1.provider_state)
    assert "purple" in r2.text.lower()
    assert r2.provider_state["previous_response_id"] != r1.response_id
    second = mock_app.state.mock.log[1]["body"]
    assert second["previous_response_id"] == r1.response_id
    assert len(second["input"]) == 1
    # the stored chain counts toward what is billed
    assert r2.usage.input_tokens > r1.usage.input_tokens


async def test_unknown_previous_response_is_state_lost(make_model):
    model = make_model(store=True)
    with pytest.raises(StateLost) as info:
        await model.complete([Message.user("hi")], provider_state={"previous_response_id": "resp_gone"})
    assert info.value.code == "previous_response_not_found"


class ClosableTransport(httpx.ASGITransport):
    closed = False

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


async def test_context_manager_closes_client(make_model, mock_app):
    transport = ClosableTransport(app=mock_app)
    async with make_model(transport=transport) as model:
        await model.complete([Message.user("hi")])
        assert not transport.closed
    assert transport.closed


def test_constructor_needs_region_or_base_url(monkeypatch):
    monkeypatch.delenv("OCI_REGION", raising=False)
    monkeypatch.delenv("OCI_COMPARTMENT", raising=False)
    with pytest.raises(ConfigError, match="region"):
        OCIResponsesModel("openai.gpt-4.1", auth="none", compartment_id=COMPARTMENT)
    with pytest.raises(ConfigError, match="compartment"):  # OCI answers 400 without opc-compartment-id
        OCIResponsesModel("openai.gpt-4.1", region="us-chicago-1", auth="none")
    model = OCIResponsesModel("openai.gpt-4.1", region="us-chicago-1", auth="none", compartment_id=COMPARTMENT)
    assert model.base_url == "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1"


# -- HTTP behaviour on httpx.MockTransport: headers, retries, errors (no sockets, no real waiting) --

OK_BODY = load_json("openai_python_live_text_nonstream.json")
PROJECT = "ocid1.generativeaiproject.oc1.us-chicago-1.amaaaaaaprojectlocusnbtest0001"


class Scripted:
    """A MockTransport handler that answers from a script and records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def bodies(self):
        return [json.loads(r.content) for r in self.requests]


def scripted_model(handler, **kw) -> OCIResponsesModel:
    kw.setdefault("auth", "none")
    kw.setdefault("compartment_id", COMPARTMENT)
    return OCIResponsesModel("openai.gpt-4.1", base_url="http://oci.test/openai/v1",
                             transport=httpx.MockTransport(handler), **kw)


def error(status: int, code: str | None = None, message: str = "nope", **headers: str) -> httpx.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return httpx.Response(status, json=body, headers=headers)


async def test_sends_compartment_project_and_bearer_headers():
    handler = Scripted(httpx.Response(200, json=OK_BODY))
    async with scripted_model(handler, auth="bearer", api_key="sk-test-123456", project_id=PROJECT) as model:
        reply = await model.complete([Message.user("hi")])
    sent = handler.requests[0]
    assert sent.url.path == "/openai/v1/responses" and sent.method == "POST"
    assert sent.headers["opc-compartment-id"] == COMPARTMENT
    assert sent.headers["openai-project"] == PROJECT
    assert sent.headers["authorization"] == "Bearer sk-test-123456"
    assert reply.status == "completed" and reply.usage.total_tokens == 64


async def test_no_project_header_without_project():
    handler = Scripted(httpx.Response(200, json=OK_BODY))
    async with scripted_model(handler) as model:
        await model.complete([Message.user("hi")])
    assert "openai-project" not in handler.requests[0].headers


@pytest.mark.parametrize("first", [
    error(429, "rate_limit_exceeded"), error(500, "server_error"), error(502), error(503), error(504),
    httpx.ConnectError("refused"), httpx.RemoteProtocolError("closed"), httpx.ConnectTimeout("slow"),
])
async def test_transient_failures_are_retried(first, sleeps):
    handler = Scripted(first, httpx.Response(200, json=OK_BODY))
    async with scripted_model(handler, max_retries=2) as model:
        reply = await model.complete([Message.user("hi")])
    assert reply.text and len(handler.requests) == 2 and len(sleeps) == 1
    assert handler.bodies[0] == handler.bodies[1]  # the same request again


async def test_backoff_is_exponential_with_jitter_and_bounded_by_max_retries(sleeps):
    handler = Scripted(error(503))
    async with scripted_model(handler, max_retries=4) as model:
        with pytest.raises(ServerError) as info:
            await model.complete([Message.user("hi")])
    assert len(handler.requests) == 5 and len(sleeps) == 4
    for attempt, waited in enumerate(sleeps):
        base = min(8.0, 0.5 * 2**attempt)
        assert base * 0.5 <= waited <= base
    assert info.value.status == 503


async def test_retry_after_is_honoured(sleeps):
    handler = Scripted(error(429, "rate_limit_exceeded", **{"Retry-After": "7"}),
                       error(503, **{"retry-after-ms": "1500"}), httpx.Response(200, json=OK_BODY))
    async with scripted_model(handler, max_retries=3) as model:
        await model.complete([Message.user("hi")])
    assert sleeps == [7.0, 1.5]


async def test_a_long_retry_after_is_not_waited_but_reported(sleeps):
    handler = Scripted(error(429, "rate_limit_exceeded", **{"Retry-After": "3600"}))
    async with scripted_model(handler, max_retries=3) as model:
        with pytest.raises(RateLimited) as info:
            await model.complete([Message.user("hi")])
    assert sleeps == [] and len(handler.requests) == 1
    assert info.value.retry_after == 3600.0 and info.value.status == 429


async def test_max_retries_zero_means_one_attempt(sleeps):
    handler = Scripted(httpx.ConnectError("refused"))
    async with scripted_model(handler, max_retries=0) as model:
        with pytest.raises(ConnectionFailed) as info:
            await model.complete([Message.user("hi")])
    assert len(handler.requests) == 1 and sleeps == []
    assert info.value.__cause__ is None and info.value.hint


@pytest.mark.parametrize("answer, kind", [
    (error(400, "invalid_type"), BadRequest),
    (error(401), AuthError),
    (error(403), AuthError),
    (error(404, "model_not_found"), APIStatusError),
    (httpx.ReadTimeout("slow"), RequestTimeout),  # the request reached the server: not repeated
])
async def test_other_failures_are_not_retried(answer, kind, sleeps):
    handler = Scripted(answer)
    async with scripted_model(handler, max_retries=3) as model:
        with pytest.raises(kind):
            await model.complete([Message.user("hi")])
    assert len(handler.requests) == 1 and sleeps == []


async def test_zdr_rejection_says_use_store_false():
    zdr = "Previous response cannot be used for this organization due to Zero Data Retention."
    handler = Scripted(error(400, None, zdr, **{"opc-request-id": "req-zdr"}))
    async with scripted_model(handler, store=True) as model:
        with pytest.raises(ZDRRejected) as info:
            await model.complete([Message.user("hi")], provider_state={"previous_response_id": "resp_1"})
    assert info.value.request_id == "req-zdr" and info.value.status == 400
    assert "use store=False" in str(info.value)


async def test_a_failed_response_body_is_a_typed_error():
    failed = dict(OK_BODY, status="failed", error={"code": "server_error", "message": "The model crashed."})
    async with scripted_model(Scripted(httpx.Response(200, json=failed, headers={"opc-request-id": "r1"}))) as model:
        with pytest.raises(ServerError, match="The model crashed.") as info:
            await model.complete([Message.user("hi")])
    assert info.value.request_id == "r1" and info.value.code == "server_error"


@pytest.mark.parametrize("reply", [
    httpx.Response(200, text="<html>proxy</html>"),
    httpx.Response(200, json=["not", "an", "object"]),
    httpx.Response(200, json={"id": "resp_1", "output": "not a list of items"}),
    httpx.Response(200, json={"id": "resp_1", "output": [{"type": "message", "content": 7}]}),
], ids=["html", "json array", "output not a list", "content not a list"])
async def test_a_success_body_that_is_not_a_response_is_a_typed_error(reply):
    async with scripted_model(Scripted(reply)) as model:
        with pytest.raises(APIStatusError, match="not a JSON Response object .content-type (text/plain|application/json)"):
            await model.complete([Message.user("hi")])


async def test_incomplete_response_is_returned_with_its_status():
    incomplete = dict(OK_BODY, status="incomplete", incomplete_details={"reason": "max_output_tokens"})
    async with scripted_model(Scripted(httpx.Response(200, json=incomplete))) as model:
        reply = await model.complete([Message.user("hi")], max_output_tokens=16)
    assert (reply.status, reply.incomplete_reason) == ("incomplete", "max_output_tokens")


async def test_options_reach_the_wire():
    handler = Scripted(httpx.Response(200, json=OK_BODY))
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
              "additionalProperties": False}
    tool = {"type": "function", "name": "get_weather", "description": "Weather.", "parameters": {"type": "object"}}
    async with scripted_model(handler) as model:
        await model.complete(
            [Message.user("hi")], tools=[tool], max_output_tokens=64, temperature=0.3, metadata={"run": "ci"},
            text={"format": {"type": "json_schema", "name": "city", "schema": schema, "strict": True}},
            tool_choice="get_weather", parallel_tool_calls=False,
        )
    body = handler.bodies[0]
    assert body["max_output_tokens"] == 64 and body["temperature"] == 0.3
    assert body["metadata"] == {"run": "ci"} and body["parallel_tool_calls"] is False
    assert body["text"]["format"]["schema"] == schema
    assert body["tool_choice"] == {"type": "function", "name": "get_weather"}


async def test_temperature_is_dropped_with_a_warning_for_reasoning_models():
    handler = Scripted(httpx.Response(200, json=OK_BODY))
    model = OCIResponsesModel("openai.gpt-5", base_url="http://oci.test/openai/v1", auth="none",
                              compartment_id=COMPARTMENT, transport=httpx.MockTransport(handler))
    with pytest.warns(UserWarning, match="temperature dropped: openai.gpt-5 is a reasoning model"):
        await model.complete([Message.user("hi")], temperature=0.2, reasoning={"effort": "low", "summary": "auto"})
    body = handler.bodies[0]
    assert "temperature" not in body and body["reasoning"] == {"effort": "low", "summary": "auto"}
    await model.aclose()


async def test_a_stream_asks_for_no_compression_and_reads_its_error_body(sleeps):
    # a non-2xx streamed reply is read before it is typed
    handler = Scripted(error(400, "decimal_below_min_value", "Invalid 'temperature'"))
    async with scripted_model(handler) as model:
        with pytest.raises(BadRequest, match="Invalid 'temperature'") as info:
            async for _ in model.stream([Message.user("hi")]):
                pass
    assert info.value.code == "decimal_below_min_value" and sleeps == []
    sent = handler.requests[0]
    assert sent.headers["accept-encoding"] == STREAM_HEADERS["Accept-Encoding"] == "identity"
    assert "zstd" not in sent.headers["accept-encoding"]
    assert sent.headers["accept"] == "text/event-stream"


async def test_a_stream_is_read_as_it_arrives():
    """Each event comes out as soon as it is in: the rest of the body is not sent before the first chunk is out."""
    rest = asyncio.Event()
    delta = {"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0}
    done = response_json("resp_1", message_item("Hello"))

    async def body():
        created = {"type": "response.created", "response": {"id": "resp_1", "output": []}}
        yield frames([created, {**delta, "delta": "Hel"}])
        await rest.wait()
        yield frames([{**delta, "delta": "lo"}, {"type": "response.completed", "response": done}])

    handler = Scripted(httpx.Response(200, headers=SSE_HEADERS, stream=Body(body())))
    async with scripted_model(handler) as model, asyncio.timeout(5):
        chunks = model.stream([Message.user("hi")])
        assert (await anext(chunks)).content == "Hel"
        rest.set()
        assert [chunk.content async for chunk in chunks] == ["lo", None]


def test_repr_shows_masked_compartment_and_no_key():
    model = scripted_model(Scripted(httpx.Response(200)), auth="bearer", api_key="sk-secret-123456")
    text = repr(model)
    assert COMPARTMENT not in text and "sk-secret" not in text and "…0001" in text


def test_bad_constructor_arguments():
    with pytest.raises(ConfigError, match="max_retries"):
        scripted_model(Scripted(httpx.Response(200)), max_retries=-1)
    with pytest.raises(ConfigError, match="not a generativeaiproject OCID"):
        scripted_model(Scripted(httpx.Response(200)), project_id="proj-1")
    with pytest.raises(ConfigError, match="not a compartment OCID"):
        scripted_model(Scripted(httpx.Response(200)), compartment_id="ocid1.user.oc1..aaaaaaaaaaaaaaaaaaaaaaaaa")


def test_region_and_signing_come_from_the_profile(oci_files, monkeypatch):
    from locus_nb._auth import APIKeyAuth, SessionTokenAuth

    monkeypatch.delenv("OCI_REGION", raising=False)
    model = OCIResponsesModel("openai.gpt-4.1", profile="SESSION", config_file=str(oci_files.config),
                              compartment_id=COMPARTMENT)
    assert isinstance(model.auth, SessionTokenAuth) and model.region == "us-chicago-1"
    assert model.base_url == "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1"
    model = OCIResponsesModel("openai.gpt-4.1", profile="DEFAULT", region="eu-frankfurt-1",
                              config_file=str(oci_files.config), compartment_id=COMPARTMENT)
    assert isinstance(model.auth, APIKeyAuth) and model.region == "eu-frankfurt-1"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        repr(model)


@pytest.mark.parametrize("store", [False, True])
async def test_reasoning_conversation_replays_what_the_server_requires(make_model, mock_app, store):
    # Stateless: the encrypted reasoning goes back followed by the item it produced (by id); the
    # mock answers the real 400 otherwise. Stored: the server has it all already.
    model = make_model(store=store)
    model.model_id = "openai.gpt-5"  # a reasoning model: gpt-4.1 refuses `reasoning` (the real 400, as the mock does)
    options = {"reasoning": {"effort": "low", "summary": "auto"}}
    first = await model.complete([Message.user("My favorite color is purple.")], **options)
    assert first.reasoning_summary
    history = [Message.user("My favorite color is purple."), first.message, Message.user("What is my favorite color?")]
    second = await model.complete(history, first.provider_state, **options)
    assert "purple" in second.text.lower()
    sent = mock_app.state.mock.log[-1]["body"]["input"]
    if store:
        assert [i["type"] for i in sent] == ["message"]
    else:  # the reasoning goes back with its encrypted_content, then the message it produced, by id
        reasoning, message = (i for i in first.message.provider_items)
        assert sent[1]["type"] == "reasoning" and sent[1]["encrypted_content"] == reasoning["encrypted_content"]
        assert sent[2]["type"] == "message" and sent[2]["id"] == message["id"]
        assert "include" in mock_app.state.mock.log[-1]["body"]


# -- every recorded JSON reply, through complete() --------------------------------------------------

SOURCES = load_json("_sources.json")
REPLIES = sorted(p.name for p in RESPONSES.glob("*.json") if not p.name.endswith(".request.json") and p.name != "_sources.json")


def recorded_replies(name: str) -> list[tuple[int, dict]]:
    """(HTTP status, body) of each reply a fixture file holds (a chain holds several turns)."""
    data = load_json(name)
    if isinstance(data, list):
        return [(turn["status"], turn["response"]) for turn in data]
    return [(SOURCES[name]["status"], data)]


@pytest.mark.parametrize("name", REPLIES)
async def test_every_recorded_json_reply_through_complete(name):
    for status, body in recorded_replies(name):
        reply = httpx.Response(status, json=body, headers={"opc-request-id": "rec-1"})
        async with scripted_model(Scripted(reply), max_retries=0) as model:
            if status >= 400:
                with pytest.raises(APIStatusError) as info:
                    await model.complete([Message.user("hi")])
                assert (info.value.status, info.value.code) == (status, body["error"]["code"])
                assert info.value.message == body["error"]["message"] and info.value.request_id == "rec-1"
                continue
            response = await model.complete([Message.user("hi")])
        items = body["output"]
        assert response.response_id == body["id"] and response.status == body["status"]
        assert response.text == "".join(part["text"] for item in items if item["type"] == "message"
                                         for part in item["content"] if part["type"] == "output_text")
        assert [(c.id, c.name, c.raw_arguments) for c in response.message.tool_calls] == [
            (i["call_id"], i["name"], i["arguments"]) for i in items if i["type"] == "function_call"]
        assert response.usage.total_tokens == body["usage"]["total_tokens"]


# -- misuse is refused, bugs are not mistaken for bad replies, secrets are masked in public ------


async def test_complete_refuses_stream_true_and_points_to_stream():
    handler = Scripted(httpx.Response(200, json=OK_BODY))
    async with scripted_model(handler) as model:
        with pytest.raises(ConfigError, match=r"model\.stream\(") as info:
            await model.complete([Message.user("hi")], stream=True)
    assert "Responses endpoint" not in str(info.value)
    assert handler.requests == []  # refused before anything was sent


async def test_a_bug_while_reading_a_reply_is_not_taken_for_a_bad_body(monkeypatch):
    """Only a body that is not JSON, or not shaped like a Response, is the server's fault."""
    def broken(body, *, store):
        raise TypeError("a bug in the client")

    monkeypatch.setattr(_model, "parse_response", broken)
    async with scripted_model(Scripted(httpx.Response(200, json=OK_BODY))) as model:
        with pytest.raises(TypeError, match="a bug in the client"):
            await model.complete([Message.user("hi")])


@pytest.mark.parametrize("reply", [
    httpx.Response(200, json={"id": "resp_1", "output": [{"type": "function_call", "arguments": 7}]}),
    httpx.Response(200, json={"id": "resp_1", "output": [], "usage": {"input_tokens": "many"}}),
    httpx.Response(200, json={"id": "resp_1", "status": "failed", "error": "boom"}),
    httpx.Response(200, content=b"\xff\xfe not text"),
], ids=["arguments not a string", "tokens not a number", "error not an object", "not UTF-8"])
async def test_more_bodies_that_are_not_responses_are_typed_errors(reply):
    async with scripted_model(Scripted(reply)) as model:
        with pytest.raises(APIStatusError, match="not a JSON Response object"):
            await model.complete([Message.user("hi")])


def test_redact_masks_the_callers_own_secrets():
    model = scripted_model(Scripted(httpx.Response(200)), auth="bearer", api_key="sk-secret-123456")
    assert model.redact("the server said sk-secret-123456 is bad") == "the server said **** is bad"
    assert model.redact(f"in {COMPARTMENT}") == "in ocid1.compartment.oc1..…0001"


async def test_models_share_one_tls_context():
    """A TLS context loads the CA bundle (~80 ms of CPU): hundreds of models made at once must not each build one."""
    first = OCIResponsesModel("openai.gpt-4.1", base_url="https://example.invalid/openai/v1", auth="none",
                              compartment_id=COMPARTMENT, store=False)
    second = OCIResponsesModel("openai.gpt-4.1", region="us-ashburn-1", auth="none", compartment_id=COMPARTMENT,
                               store=False)
    try:
        contexts = [model.client._transport._pool._ssl_context for model in (first, second)]
        assert contexts[0] is contexts[1]
        assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname  # still verifying
    finally:
        await first.aclose()
        await second.aclose()
