"""The error tree: one root, the same fields everywhere, hints, and no secret in any rendering."""

from __future__ import annotations

import json

import httpx
import pytest

import locus_nb
from locus_nb import (
    Agent,
    APIStatusError,
    AuthError,
    ConfigError,
    ConnectionFailed,
    LocusError,
    Message,
    OCIResponsesModel,
    RequestTimeout,
    ServerError,
    StreamError,
    StreamFailed,
    StreamTruncated,
    mask_ocid,
)
from locus_nb._errors import mask_secrets

from .conftest import COMPARTMENT
from .sse_helpers import SSE_HEADERS, frames

FULL_OCID = "ocid1.compartment.oc1..aaaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4a7nla"
API_KEY = "sk-live-3f9a0c1d2e4b5a6978"


def renderings(err: BaseException) -> str:
    texts = [str(err), repr(err), repr(err.args)]
    texts += [getattr(err, name, None) or "" for name in ("message", "hint", "server_message")]
    return "\n".join(texts)


def test_every_public_error_descends_from_the_one_root():
    errors = [getattr(locus_nb, n) for n in locus_nb.__all__ if n.endswith(("Error", "Failed", "Timeout", "Lost",
                                                                          "Rejected", "Request", "Found", "Limited"))]
    assert len(errors) >= 14
    assert all(issubclass(e, LocusError) for e in errors)


def test_every_error_has_status_code_message_and_request_id():
    for err in (ConfigError("bad"), RequestTimeout("slow"), ConnectionFailed("down"), StreamError("cut", partial_text="he"),
                APIStatusError("no", status=418, code="teapot", request_id="r-1")):
        assert {"status", "code", "message", "request_id"} <= set(dir(err))
    err = APIStatusError("no", status=418, code="teapot", request_id="r-1")
    assert (err.status, err.code, err.message, err.request_id) == (418, "teapot", "no", "r-1")
    assert str(err) == "[418 teapot, opc-request-id r-1] no"


def test_ocids_tokens_and_key_ids_are_masked_when_the_error_is_made():
    err = ConfigError(f"compartment {FULL_OCID} with keyId=\"ST$eyJhbGciOi.secret.token\" and Bearer {API_KEY}")
    text = renderings(err)
    assert FULL_OCID not in text and "eyJhbGciOi" not in text and API_KEY not in text
    assert "…7nla" in text


def test_ocids_with_extra_segments_are_masked_whole():
    ocid = "ocid1.generativeaiproject.oc1.us-chicago-1.future.amaaaaaauniquepartthatmustnotshow"
    assert mask_ocid(ocid) == "ocid1.generativeaiproject.oc1.us-chicago-1.…show"
    assert "uniquepart" not in mask_secrets(f"project {ocid}.")


async def test_a_server_that_echoes_secrets_cannot_leak_them():
    """The Bearer key, a key path and a full OCID, echoed by the server, appear in no rendering."""
    key_path = "/home/alice/.oci/oci_api_key.pem"
    message = f"Key {API_KEY} (file {key_path}) is not allowed in {FULL_OCID}"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": "NotAuthenticated", "message": message},
                              headers={"opc-request-id": "abc"})

    async with OCIResponsesModel("openai.gpt-4.1", base_url="http://oci.test/openai/v1", auth="bearer",
                                 api_key=API_KEY, compartment_id=COMPARTMENT,
                                 transport=httpx.MockTransport(handler)) as model:
        with pytest.raises(AuthError) as info:
            await model.complete([Message.user("hi")])
    text = renderings(info.value)
    assert API_KEY not in text and FULL_OCID not in text
    assert info.value.request_id == "abc" and info.value.status == 401 and info.value.code == "NotAuthenticated"
    assert "regional" in info.value.hint  # the Bearer key's own hint


async def test_session_profile_secrets_are_redacted(oci_files):
    token = oci_files.token_file.read_text()

    def handler(request: httpx.Request) -> httpx.Response:
        message = f"token {token} from {oci_files.token_file} signed with {oci_files.key_file} refused"
        return httpx.Response(401, json={"code": "NotAuthenticated", "message": message})

    async with OCIResponsesModel("openai.gpt-4.1", base_url="http://oci.test/openai/v1", profile="SESSION",
                                 config_file=str(oci_files.config), compartment_id=COMPARTMENT,
                                 transport=httpx.MockTransport(handler)) as model:
        with pytest.raises(AuthError) as info:
            await model.complete([Message.user("hi")])
    text = renderings(info.value)
    assert token not in text and str(oci_files.token_file) not in text and str(oci_files.key_file) not in text
    assert "oci session refresh --profile SESSION" in info.value.hint


def test_hints_are_shown_with_the_message():
    err = AuthError("denied", status=403, hint="add a policy")
    assert str(err).endswith("\n  hint: add a policy")
    assert "Zero Data Retention" in locus_nb.ZDRRejected.hint and "store=False" in locus_nb.ZDRRejected.hint
    assert "oci session refresh --profile" in AuthError.hint


ECHOED = f"Key {API_KEY} is not allowed in {FULL_OCID}"
CREATED = {"type": "response.created", "response": {"id": "resp_leak", "status": "in_progress", "output": []}}
DELTA = {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Par"}
BROKEN_STREAMS = {
    "error event": (frames([CREATED, DELTA, {"type": "error", "error": {"code": "bad_key", "message": ECHOED}}]),
                    StreamFailed),
    "response.failed": (frames([CREATED, DELTA, {"type": "response.failed", "response": {
        "id": "resp_leak", "status": "failed", "error": {"code": "bad_key", "message": ECHOED}}}]), StreamFailed),
    "not an object": (frames([CREATED, DELTA]) + f'data: "{ECHOED}"\n\n'.encode(), StreamTruncated),
    "not JSON": (frames([CREATED, DELTA]) + f"data: {ECHOED}\n\n".encode(), StreamTruncated),
}


def bearer_model(handler) -> OCIResponsesModel:
    return OCIResponsesModel("openai.gpt-4.1", base_url="http://oci.test/openai/v1", auth="bearer", api_key=API_KEY,
                             compartment_id=COMPARTMENT, transport=httpx.MockTransport(handler))


def streaming(body: bytes):
    return lambda request: httpx.Response(200, headers={**SSE_HEADERS, "opc-request-id": "req-7"}, content=body)


@pytest.mark.parametrize("case", BROKEN_STREAMS)
async def test_stream_errors_mask_the_callers_secrets_and_keep_the_text_and_request_id(case):
    """Stream errors are made by the pure fold, which does not know the caller's API key: the model
    masks it (and OCIDs) in the message and the server's message before the error leaves stream()."""
    body, kind = BROKEN_STREAMS[case]
    async with bearer_model(streaming(body)) as model:
        with pytest.raises(kind) as info:
            async for _ in model.stream([Message.user("hi")]):
                pass
    err = info.value
    text = renderings(err)
    assert API_KEY not in text and FULL_OCID not in text
    assert (err.partial_text, err.response_id, err.request_id) == ("Par", "resp_leak", "req-7")
    assert "opc-request-id req-7" in str(err)
    if kind is StreamFailed:
        assert err.code == "bad_key" and err.server_message == "Key **** is not allowed in ocid1.compartment.oc1..…7nla"


async def test_errors_raised_from_an_agent_run_carry_no_secret():
    async with bearer_model(streaming(BROKEN_STREAMS["error event"][0])) as model:
        agent = Agent(model, max_iterations=2)
        with pytest.raises(StreamFailed) as info:
            async for _ in agent.run("What's the temperature in Paris?"):
                pass
    assert API_KEY not in renderings(info.value) and info.value.partial_text == "Par"
    assert agent.messages == []  # the failed turn left the conversation as it was


async def test_a_failed_response_body_carries_no_secret():
    failed = {"id": "resp_f", "status": "failed", "error": {"code": "server_error", "message": ECHOED}}
    async with bearer_model(lambda request: httpx.Response(200, json=failed, headers={"opc-request-id": "req-8"})) as model:
        with pytest.raises(ServerError) as info:
            await model.complete([Message.user("hi")])
    assert API_KEY not in renderings(info.value) and FULL_OCID not in renderings(info.value)
    assert info.value.request_id == "req-8"


def test_a_config_error_shows_as_its_message_in_ipython():
    from IPython.core.interactiveshell import InteractiveShell

    shown = []
    shell = InteractiveShell.instance()
    shell._showtraceback = lambda etype, value, stb: shown.append(stb)
    try:
        result = shell.run_cell("from locus_nb import connect\nconnect(region=42)")
    finally:
        InteractiveShell.clear_instance()
    assert not result.success  # still a failed cell
    assert shown == [["\x1b[0;31mConfigError\x1b[0m: region must be a string; got int 42"]]


async def test_a_tool_failure_that_quotes_the_callers_key_is_masked():
    """A tool's error goes to the model and into the transcript: the caller's own key never does."""
    from locus_nb import ToolResultEvent, tool

    replies = iter([
        {"id": "resp_1", "object": "response", "status": "completed", "output": [
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "lookup", "arguments": "{}"}]},
        {"id": "resp_2", "object": "response", "status": "completed", "output": [
            {"type": "message", "id": "msg_1", "role": "assistant",
             "content": [{"type": "output_text", "text": "The lookup failed."}]}]},
    ])
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content.decode())
        return httpx.Response(200, json=next(replies))

    @tool
    def lookup() -> str:
        """Look something up."""
        raise RuntimeError(f"upstream refused key {API_KEY}")

    async with bearer_model(handler) as model:
        events = [e async for e in Agent(model, tools=[lookup], stream=False).run("look it up")]
    [result] = [e for e in events if isinstance(e, ToolResultEvent)]
    assert result.is_error and result.result == "Error: lookup raised RuntimeError: upstream refused key ****"
    assert API_KEY not in repr(events) and API_KEY not in sent[1]


# -- secrets masked on every path ---------------------------------------------------------------------


@pytest.mark.parametrize("status, kind", [(401, AuthError), (200, APIStatusError)])
@pytest.mark.parametrize("offset", [10, 105, 285])  # the key whole, cut at 120, cut at 300
async def test_a_body_that_is_not_json_and_echoes_the_key_never_shows_it_even_in_part(status, kind, offset):
    """An HTML or plain-text body (a proxy's error page): masked before its excerpt is cut."""
    page = ("x" * offset + f"your key {API_KEY} is wrong " + "y" * 400).encode()
    async with bearer_model(lambda r: httpx.Response(status, content=page, headers={"content-type": "text/html"})) as model:
        with pytest.raises(kind) as info:
            await model.complete([Message.user("hi")])
    assert API_KEY[:5] not in renderings(info.value)


def encrypted_profile(tmp_path, oci_files, pass_phrase: str):
    from cryptography.hazmat.primitives import serialization
    from oci.signer import load_private_key

    key = load_private_key(oci_files.key_file.read_bytes(), None)
    oci_files.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.BestAvailableEncryption(pass_phrase.encode())))
    config = tmp_path / "config-encrypted"
    config.write_text(oci_files.config.read_text().replace(
        f"key_file={oci_files.key_file}\n", f"key_file={oci_files.key_file}\npass_phrase={pass_phrase}\n", 1))
    return config


async def test_an_api_key_profiles_pass_phrase_and_its_signature_are_never_shown(tmp_path, oci_files):
    pass_phrase = "correct-horse-battery"
    config = encrypted_profile(tmp_path, oci_files, pass_phrase)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        message = f"rejected {request.headers['authorization']} (pass phrase {pass_phrase})"
        return httpx.Response(401, json={"code": "NotAuthenticated", "message": message})

    async with OCIResponsesModel("openai.gpt-4.1", base_url="http://oci.test/openai/v1", profile="DEFAULT",
                                 auth="api_key", config_file=str(config), compartment_id=COMPARTMENT,
                                 transport=httpx.MockTransport(handler)) as model:
        assert pass_phrase in model.auth.secrets
        with pytest.raises(AuthError) as info:
            await model.complete([Message.user("hi")])
    text = renderings(info.value)
    signature = seen[0].split('signature="')[1].rstrip('"')
    fingerprint = seen[0].split('keyId="')[1].split("/")[2].split('"')[0]
    assert pass_phrase not in text and signature[:12] not in text and fingerprint not in text
    assert fingerprint[:5] not in text.replace("**:**", "")  # no part of the fingerprint either
    assert 'keyId="****"' in text and 'signature="****"' in text


@pytest.mark.parametrize("echo", [
    'Signature version="1",keyId="ocid1.tenancy.oc1..aaaa/ocid1.user.oc1..bbbb/20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5'
    ':3a:34",algorithm="rsa-sha256",signature="c2VjcmV0c2lnbmF0dXJl"',
    '{\\"authorization\\": \\"Signature keyId=\\"ST$eyJhbGciOiJIUzI1NiJ9.e30.sig\\",signature=\\"c2VjcmV0c2ln\\"\\"}',
    'Signature keyId="ocid1.tenancy.oc1..aaaa/ocid1.user.oc1..bbbb/20:3b:97:13:55:1c:5b:0d:d3:37',  # an excerpt cut short
])
def test_an_echoed_authorization_header_is_masked_whole(echo):
    text = mask_secrets(echo)
    assert "20:3b" not in text and "c2VjcmV0" not in text and "eyJhbGciOi" not in text and "bbbb" not in text


async def test_a_password_in_the_endpoint_url_is_never_shown():
    from locus_nb._errors import mask_url

    url = "http://bob:hunter2-pw@127.0.0.1:9/openai/v1?api_key=k3y-in-query"
    assert mask_url(url) == "http://bob:****@127.0.0.1:9/openai/v1?api_key=****"
    model = OCIResponsesModel("openai.gpt-4.1", base_url=url, auth="none", compartment_id=COMPARTMENT, max_retries=0)
    assert "hunter2-pw" not in repr(model) and "k3y-in-query" not in repr(model) and "bob:****@" in repr(model)
    with pytest.raises(ConnectionFailed) as info:  # nothing listens on port 9
        await model.complete([Message.user("hi")])
    await model.aclose()
    assert "hunter2-pw" not in renderings(info.value) and "bob:****@127.0.0.1:9" in str(info.value)

    def echo(request: httpx.Request) -> httpx.Response:  # a server that quotes the password on its own
        return httpx.Response(400, json={"error": {"message": "bad password hunter2-pw", "code": "bad"}})

    async with OCIResponsesModel("openai.gpt-4.1", base_url=url, auth="none", compartment_id=COMPARTMENT,
                                 transport=httpx.MockTransport(echo)) as model:
        with pytest.raises(APIStatusError) as info:
            await model.complete([Message.user("hi")])
    assert "hunter2-pw" not in renderings(info.value)


@pytest.mark.parametrize("offset", [0, 60, 150])  # the key whole in the excerpt, cut at 80, cut at 200
async def test_an_event_that_quotes_the_key_is_masked_before_its_excerpt_is_cut(offset):
    event = json.dumps(["x" * offset + f" key {API_KEY} " + "y" * 300])
    async with bearer_model(streaming(frames([CREATED, DELTA]) + f"data: {event}\n\n".encode())) as model:
        with pytest.raises(StreamTruncated, match="not a JSON object") as info:
            async for _ in model.stream([Message.user("hi")]):
                pass
    assert API_KEY[:5] not in renderings(info.value) and info.value.partial_text == "Par"
