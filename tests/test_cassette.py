"""Cassettes: recorded redacted, replayed byte for byte with their event boundaries, matched by content."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import aclosing
from pathlib import Path

import httpx
import pytest

from locus_nb import ConfigError, Message, OCIResponsesModel, ReplayMismatch, StreamError, connect
from locus_nb._cassette import (
    RecordingTransport,
    Redactor,
    ReplayTransport,
    canonical_body,
    cassette_writer,
    load_cassette,
)
from locus_nb.mock import MockServer, create_app
from locus_nb.mock._replay import create_replay_app

from .cassette_helpers import assert_no_secrets
from .conftest import COMPARTMENT, RESPONSES
from .sse_helpers import ENDINGS, SSE_HEADERS, Body

JSON_FIXTURES = ["openai_python_live_text_nonstream.json", *sorted(p.name for p in RESPONSES.glob("nonstream_*.json")
                                                                   if not p.name.endswith(".request.json"))]
SSE_FIXTURES = sorted(ENDINGS)
MESSAGES = [Message.system("Be brief."), Message.user("My favorite color is purple. Just acknowledge.")]


@pytest.fixture(autouse=True)
def no_secrets_in_any_cassette(tmp_path):
    """Every cassette a test here writes is scanned for secrets when the test ends."""
    yield
    assert_no_secrets(tmp_path.rglob("*.jsonl"))


class Tee(httpx.AsyncBaseTransport):
    """Keeps every chunk of every response body the client reads through `inner`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bodies: list[list[bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        chunks: list[bytes] = []
        self.bodies.append(chunks)

        async def body():
            async for chunk in response.stream:
                chunks.append(chunk)
                yield chunk

        return httpx.Response(response.status_code, headers=response.headers, stream=Body(body()), request=request)


def _model(transport: httpx.AsyncBaseTransport, base_url: str = "http://recorded.test/openai/v1", *,
           store: bool = False) -> OCIResponsesModel:
    return OCIResponsesModel("openai.gpt-4.1", base_url=base_url, auth="none", compartment_id=COMPARTMENT,
                             store=store, transport=transport, max_retries=0)


def _writer(tmp_path: Path, name: str = "c.jsonl"):
    return cassette_writer(tmp_path / name, {"connection": {"model_id": "openai.gpt-4.1", "store": False}})


async def _events(model: OCIResponsesModel, messages=MESSAGES):
    """Every event of a stream, or the stream error (type, partial text) it ended with."""
    got = []
    try:
        async for event in model.stream(messages):
            got.append(event)
    except StreamError as err:
        got.append((type(err).__name__, err.partial_text, err.code))
    return got


# -- real-model shapes: the fixtures, recorded through the transport and replayed -------------------


@pytest.mark.parametrize("name", JSON_FIXTURES)
async def test_a_recorded_json_reply_replays_byte_exact_through_complete(tmp_path, name):
    data = (RESPONSES / name).read_bytes()
    live_transport = RecordingTransport(_writer(tmp_path), httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "application/json"}, content=data)))
    async with _model(live_transport) as live:
        recorded = await live.complete(MESSAGES)
    tee = Tee(ReplayTransport(load_cassette(tmp_path / "c.jsonl")))
    async with _model(tee) as model:
        replayed = await model.complete(MESSAGES)
    assert b"".join(tee.bodies[0]) == data
    assert replayed == recorded and replayed.response_id == json.loads(data)["id"]


@pytest.mark.parametrize("name", SSE_FIXTURES)
async def test_a_recorded_stream_replays_byte_exact_event_by_event_through_stream(tmp_path, name):
    data = (RESPONSES / name).read_bytes()
    pieces = [data[i:i + 97] for i in range(0, len(data), 97)]  # network chunks that cut events anywhere
    live_transport = RecordingTransport(_writer(tmp_path), httpx.MockTransport(
        lambda request: httpx.Response(200, headers=SSE_HEADERS, stream=Body(pieces))))
    async with _model(live_transport) as live:
        recorded = await _events(live)
    cassette = load_cassette(tmp_path / "c.jsonl")
    tee = Tee(ReplayTransport(cassette))
    async with _model(tee) as model:
        replayed = await _events(model)
    assert b"".join(tee.bodies[0]) == data
    # one chunk per SSE event, exactly the recording's events
    frames = [f"{frame}\n\n".encode() for frame in data.decode().split("\n\n")[:-1]]
    assert tee.bodies[0] == frames + ([data[len(b"".join(frames)):]] if len(b"".join(frames)) < len(data) else [])
    assert replayed == recorded and replayed
    assert cassette.exchanges[0].response["stream"]["events"] == len(frames)
    assert cassette.exchanges[0].request["body"]["stream"] is True


# -- recording against the mock, replaying with no network ------------------------------------


@pytest.fixture
def recorded_mock(tmp_path, mock_server):
    """A cassette of one stateless turn, one streamed turn, a cut stream and a stream the client stopped,
    recorded over loopback from the mock (a cut connection needs a real socket)."""
    path = tmp_path / "mock.jsonl"
    writer = cassette_writer(path, {"connection": {"model_id": "openai.gpt-4.1", "store": False}})

    async def record():
        async with _model(RecordingTransport(writer), base_url=mock_server.base_url) as model:
            reply = await model.complete(MESSAGES)
            streamed = await _events(model)
            cut = [e async for e in _cut(model)]
            async with aclosing(model.stream(MESSAGES)) as events:
                async for event in events:
                    first = event
                    break
            return reply, streamed, cut, first

    return path, record


async def _cut(model):
    try:
        async for event in model.stream(MESSAGES, metadata={"mock_fault": "drop_mid_stream"}):
            yield event.content
    except StreamError as err:
        yield (type(err).__name__, err.partial_text)


async def test_a_mock_run_replays_identically_with_no_server(recorded_mock):
    path, record = recorded_mock
    reply, streamed, cut, first = await record()
    assert cut[-1][0] == "StreamTruncated" and cut[-1][1]
    async with _model(ReplayTransport(load_cassette(path))) as model:
        assert await model.complete(MESSAGES) == reply
        assert await _events(model) == streamed
        assert [e async for e in _cut(model)] == cut  # the cut is replayed: same partial text, same error
        async with aclosing(model.stream(MESSAGES)) as events:
            async for event in events:
                assert event == first
                break
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["cassette"] == 1
    ends = [json.loads(line)["response"]["stream"]["end"] for line in lines if '"stream": {' in line]
    assert ends == ["complete", "cut", "closed"]


async def test_reading_past_a_stream_the_client_stopped_is_a_clear_error(recorded_mock):
    path, record = recorded_mock
    await record()
    cassette = load_cassette(path)
    for _ in range(3):  # the first three exchanges, as recorded
        exchange = cassette.exchanges[len(cassette.played)]
        cassette.played.add(exchange.number)
    stopped = cassette.exchanges[3]
    assert stopped.response["stream"]["end"] == "closed"
    first_text = next(i for i, e in enumerate(stopped.events) if "output_text.delta" in e["event"])
    assert len(stopped.events) == first_text + 1  # recorded up to the event the client stopped at
    async with _model(ReplayTransport(cassette)) as model:
        with pytest.raises(ReplayMismatch, match=rf"exchange 4: the client stopped reading this stream after "
                                                 rf"{len(stopped.events)} event\(s\) when it was recorded"):
            await _events(model)


async def test_a_request_with_no_recording_names_the_cassette_the_nearest_request_and_the_first_difference(
        recorded_mock):
    path, record = recorded_mock
    await record()
    async with _model(ReplayTransport(load_cassette(path))) as model:
        with pytest.raises(ReplayMismatch) as info:
            await model.complete([MESSAGES[0], Message.user("My favorite color is green. Just acknowledge.")])
    text = str(info.value)
    assert f"no recording in cassette {path} for POST /openai/v1/responses" in text
    assert "nearest recorded request: exchange 1, POST /openai/v1/responses" in text
    assert ("first field that differs: input[0].content[0].text: recorded 'My favorite color is purple. Just "
            "acknowledge.', sent 'My favorite color is green. Just acknowledge.'") in text
    assert f"locus-nb run --record {path.parent}" in text and "mock.jsonl" in text
    assert info.value._render_traceback_() == [f"\x1b[0;31mReplayMismatch\x1b[0m: {text}"]  # no traceback


async def test_equal_requests_replay_in_recorded_order_then_the_last_repeats(tmp_path):
    answers = iter(["first", "second"])
    transport = RecordingTransport(_writer(tmp_path), httpx.MockTransport(lambda request: httpx.Response(
        200, json={"id": "resp_1", "object": "response", "status": "completed", "output": [
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": next(answers)}]}]})))
    async with _model(transport) as live:
        assert [(await live.complete(MESSAGES)).text for _ in range(2)] == ["first", "second"]
    async with _model(ReplayTransport(load_cassette(tmp_path / "c.jsonl"))) as model:
        assert [(await model.complete(MESSAGES)).text for _ in range(3)] == ["first", "second", "second"]


async def test_a_request_that_got_no_answer_replays_as_the_same_transport_error(tmp_path):
    from locus_nb import ConnectionFailed

    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    async with _model(RecordingTransport(_writer(tmp_path), httpx.MockTransport(refuse))) as live:
        with pytest.raises(ConnectionFailed):
            await live.complete(MESSAGES)
    assert load_cassette(tmp_path / "c.jsonl").exchanges[0].response == {"error": "ConnectError"}
    async with _model(ReplayTransport(load_cassette(tmp_path / "c.jsonl"))) as model:
        with pytest.raises(ConnectionFailed, match="ConnectError"):
            await model.complete(MESSAGES)


async def test_paced_replay_waits_the_recorded_time_between_events(tmp_path):
    frames = [f"event: e\ndata: {json.dumps({'type': 'response.output_text.delta', 'delta': str(n)})}\n\n".encode()
              for n in range(3)]

    async def slow():
        for frame in frames:
            await asyncio.sleep(0.15)
            yield frame

    transport = RecordingTransport(_writer(tmp_path), httpx.MockTransport(
        lambda request: httpx.Response(200, headers=SSE_HEADERS, stream=Body(slow()))))
    async with _model(transport) as live:
        await _events(live)
    cassette = load_cassette(tmp_path / "c.jsonl")
    assert [e["t"] for e in cassette.exchanges[0].events] == pytest.approx([0.15, 0.3, 0.45], abs=0.06)
    for pace, bounds in ((False, (0, 0.1)), (True, (0.4, 5))):
        cassette.played.clear()
        start = time.monotonic()
        async with _model(ReplayTransport(cassette, pace=pace)) as model:
            await _events(model)
        assert bounds[0] <= time.monotonic() - start <= bounds[1]


# -- redaction at write time ------------------------------------------------------------------


def test_redaction_is_consistent_within_a_cassette_and_masks_tokens_and_known_secrets():
    redact = Redactor(secrets=["/home/me/.oci/key.pem", "sk-live-1234"])
    text = redact.text('{"a": "ocid1.compartment.oc1..aaaaexample1", "b": "ocid1.user.oc1..bbbbexample2", '
                       '"c": "ocid1.compartment.oc1..aaaaexample1", "t": "ST$eyJhbGciOi.abc.def", '
                       '"h": "Bearer sk-live-1234", "k": "keyId=\\"ocid1.tenancy.oc1..x/y/z\\",signature=\\"QUJD\\"",'
                       '"j": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0b2sifQ.sig", "p": "/home/me/.oci/key.pem"}')
    values = json.loads(text)
    assert values["a"] == values["c"] == "ocid1.compartment.oc1..redacted0001"
    assert values["b"] == "ocid1.user.oc1..redacted0002"
    assert values["t"] == "ST$****" and values["h"] == "Bearer ****" and values["j"] == "****"
    assert values["k"] == 'keyId="****",signature="****"' and values["p"] == "****"
    assert redact.request_id("abc/123456") == redact.request_id("abc/123456") == "redacted-0001"
    assert redact.request_id("def") == "redacted-0002"
    assert redact.text("see opc-request-id abc/123456 and def") == "see opc-request-id redacted-0001 and def"
    assert redact.text("ocid1.compartment.oc1..redacted0001") == "ocid1.compartment.oc1..redacted0001"


def test_matching_ignores_key_order_volatile_fields_and_the_unique_part_of_ocids():
    assert canonical_body({"b": 1, "a": "ocid1.compartment.oc1..aaaa1", "prompt_cache_key": "x"}) == \
        canonical_body({"a": "ocid1.compartment.oc1..redacted0001", "b": 1})
    assert canonical_body({"a": 1}) != canonical_body({"a": 2})


async def test_a_signed_recording_keeps_no_credentials(tmp_path, oci_files):
    """The signing path a real recording takes: API-key signatures, a compartment, request ids."""
    writer = cassette_writer(tmp_path / "signed.jsonl", {"connection": {"compartment_id": COMPARTMENT}},
                             secrets=[str(oci_files.key_file)])
    async with OCIResponsesModel("openai.gpt-4.1", base_url="http://mock/openai/v1", profile="DEFAULT",
                                 config_file=str(oci_files.config), compartment_id=COMPARTMENT, store=True,
                                 transport=RecordingTransport(writer, httpx.ASGITransport(app=create_app()))) as model:
        first = await model.complete(MESSAGES)
        await model.complete([Message.user("What is my favorite color?")], first.provider_state)
        await _events(model)
    text = (tmp_path / "signed.jsonl").read_text()
    assert assert_no_secrets([tmp_path / "signed.jsonl"], [str(oci_files.key_file), COMPARTMENT]) == 1
    assert text.count('"opc-compartment-id": "ocid1.compartment.oc1..redacted0001"') == 3
    assert '"opc-request-id": "redacted-0003"' in text and "previous_response_id" in text


# -- connect(): the mode from the environment ----------------------------------------------------


async def test_connect_records_then_replays_the_same_cells_without_credentials(tmp_path, mock_app):
    path = tmp_path / "nb.jsonl"
    conn = connect(env={"LOCUS_NB_MODE": "record", "LOCUS_NB_CASSETTE": str(path), "LOCUS_NB_TARGET": "mock"})
    assert conn.describe().splitlines()[0] == \
        "Connected to the embedded mock server (no OCI profile configured); recording cassette nb.jsonl"
    async with conn.model(base_url="http://mock/openai/v1", transport=httpx.ASGITransport(app=mock_app)) as model:
        reply = await model.complete(MESSAGES)
    # A profile that does not exist: a replay reads no credentials (and no connection variable) at all.
    env = {"LOCUS_NB_MODE": "replay", "LOCUS_NB_CASSETTE": str(path), "OCI_PROFILE": "NOPE",
           "OCI_CONFIG_FILE": str(tmp_path / "missing"), "LOCUS_NB_MODEL": "xai.grok-4"}
    replay = connect(env=env)
    assert replay.target == "replay" and replay.model_id == "openai.gpt-4.1"
    lines = replay.describe().splitlines()
    assert lines[0] == ("Replaying cassette nb.jsonl (no network, no credentials), recorded from the embedded mock "
                        "server (no OCI profile configured)")
    assert lines[1:] == conn.describe().splitlines()[1:]  # what the recording showed: region, model, mode
    async with replay.model() as model:
        assert await model.complete(MESSAGES) == reply


def test_a_replay_without_its_cassette_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"no cassette at .*gone.jsonl; record one with `locus-nb run --record"):
        connect(env={"LOCUS_NB_MODE": "replay", "LOCUS_NB_CASSETTE": str(tmp_path / "gone.jsonl")})
    with pytest.raises(ConfigError, match="LOCUS_NB_MODE=record needs LOCUS_NB_CASSETTE"):
        connect(env={"LOCUS_NB_MODE": "record"})
    with pytest.raises(ConfigError, match="LOCUS_NB_MODE must be one of live, record, replay"):
        connect(env={"LOCUS_NB_MODE": "rewind"})


# -- `locus-nb mock --replay`: the cassettes over HTTP, for any client -----------------------------


async def test_the_replay_server_answers_the_openai_sdk_from_the_cassettes(recorded_mock):
    import openai

    path, record = recorded_mock
    reply, streamed, _, _ = await record()
    with MockServer(app=create_replay_app(path.parent)) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        request = {"model": "openai.gpt-4.1", "instructions": "Be brief.", "store": False,
                   "input": [{"type": "message", "role": "user", "content": [
                       {"type": "input_text", "text": "My favorite color is purple. Just acknowledge."}]}]}
        answer = await client.responses.create(**request)
        assert answer.id == reply.response_id and answer.output_text == reply.text
        events = [event async for event in await client.responses.create(**request, stream=True)]
        assert [e.type for e in events][-1] == "response.completed"
        assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == \
            "".join(e.content for e in streamed if e.content)
        with pytest.raises(openai.BadRequestError) as info:
            await client.responses.create(**{**request, "instructions": "Be long."})
        assert info.value.code == "no_recording" and "first field that differs: instructions" in info.value.message
        await client.close()


async def test_the_replay_server_names_the_cassette_with_the_nearest_request(tmp_path):
    for name, text in (("a", "far away entirely"), ("b", "My favorite color is purple.")):
        writer = cassette_writer(tmp_path / f"{name}.jsonl", {"connection": {}})
        writer.write({"method": "POST", "path": "/openai/v1/responses", "body": {"model": "m", "input": text}},
                     {"status": 200, "headers": {"content-type": "application/json"}, "json": {}, "encoding": "compact"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_replay_app(tmp_path)),
                                 base_url="http://replay") as client:
        answer = await client.post("/openai/v1/responses", json={"model": "m", "input": "My favorite color is green."})
        message = answer.json()["error"]["message"]
        assert answer.status_code == 400 and "none of the 2 cassettes" in message
        assert f"cassette {tmp_path / 'b.jsonl'}" in message and "sent 'My favorite color is green.'" in message
        found = await client.post("/openai/v1/responses", json={"input": "far away entirely", "model": "m"})
        assert found.status_code == 200


def test_mock_replay_without_cassettes_says_so(tmp_path):
    from locus_nb.cli import main

    with pytest.raises(SystemExit, match=r"no cassettes \(\*\.jsonl\) in .*; record some with `locus-nb run --record"):
        main(["mock", "--replay", str(tmp_path)])


async def test_conversation_and_background_exchanges_replay_offline_polls_and_resumes_included(tmp_path, sleeps):
    from .test_background import RECORDED, Server
    from .test_conversations import ConversationServer

    conversations, background = ConversationServer(), Server(
        statuses=["queued", "in_progress", "completed"], cuts=[9])

    def route(request):
        return (conversations if "conversation" in request.url.path or b"conversation" in request.content
                else background)(request)

    async def session(model):
        conv = await model.create_conversation(metadata={"topic": "colors"})
        turn = await model.complete([Message.user("I like purple.")], conv.provider_state)
        items = await model.conversation_items(conv)
        await model.delete_conversation(conv)
        handle = await model.start(MESSAGES)
        waited = await model.wait(handle)
        streamed = "".join([c.content async for c in model.stream(MESSAGES, background=True) if c.content])
        return conv, turn.text, items, waited.text, streamed

    async with _model(RecordingTransport(_writer(tmp_path), httpx.MockTransport(route)), store=True) as live:
        recorded = await session(live)
    cassette = load_cassette(tmp_path / "c.jsonl")
    paths = [(e.request["method"], e.request["path"].split("/v1")[-1]) for e in cassette.exchanges]
    resp = RECORDED[0]["response"]["id"]
    assert paths[4:] == [("POST", "/responses"), *[("GET", f"/responses/{resp}")] * 3, ("POST", "/responses"),
                         ("GET", f"/responses/{resp}?stream=true&starting_after=8")]
    assert paths[2] == ("GET", "/conversations/conv_0001/items?limit=100&order=asc")
    assert cassette.exchanges[-2].response["stream"]["end"] == "cut"
    async with _model(ReplayTransport(cassette), store=True) as model:
        assert await session(model) == recorded
    assert recorded[-1] == recorded[-2] == "".join(e["delta"] for e in RECORDED if "delta" in e and "text" in e["type"])


async def test_the_replay_server_tells_a_poll_from_a_resumed_stream_by_the_query(tmp_path):
    """A poll and a resume differ only in the query: `locus-nb mock --replay` answers each with its own recording."""
    writer = cassette_writer(tmp_path / "bg.jsonl", {"connection": {}})
    writer.write({"method": "GET", "path": "/openai/v1/responses/resp_1", "body": None},
                 {"status": 200, "headers": {"content-type": "application/json"},
                  "json": {"id": "resp_1", "status": "in_progress"}, "encoding": "compact"})
    writer.write({"method": "GET", "path": "/openai/v1/responses/resp_1?stream=true&starting_after=3", "body": None},
                 {"status": 200, "headers": {"content-type": "application/json"},
                  "json": {"id": "resp_1", "resumed_after": 3}, "encoding": "compact"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_replay_app(tmp_path)),
                                 base_url="http://replay") as client:
        resumed = await client.get("/openai/v1/responses/resp_1", params={"stream": "true", "starting_after": "3"})
        polled = await client.get("/openai/v1/responses/resp_1")
        assert (resumed.json(), polled.json()) == ({"id": "resp_1", "resumed_after": 3},
                                                   {"id": "resp_1", "status": "in_progress"})
        assert (await client.get("/openai/v1/responses/resp_1", params={"stream": "true"})).status_code == 400
