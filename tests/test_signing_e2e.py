"""End to end over loopback: a small server that verifies OCI signatures as OCI does.

The server here is deliberately independent of the client and of the mock (whose own
verification is separate): it checks the draft-cavage signature with the sample public key via
the SDK's vendored verifier, the six required headers, the body digest and length, and the Date
skew, and answers OCI's 401 body otherwise.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import socket
import threading
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from locus_nb import AuthError, Message, OCIResponsesModel

from .conftest import COMPARTMENT, SIGNING, VECTORS

PUBLIC_KEY = (SIGNING / "sample_public_key.pem").read_text()
REQUIRED = ["date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256"]
NOT_AUTHENTICATED = {"code": "NotAuthenticated",
                     "message": "The required information to complete authentication was not provided or was incorrect."}


async def responses(request: Request) -> JSONResponse:
    from oci._vendor.httpsig_cffi.utils import parse_authorization_header
    from oci._vendor.httpsig_cffi.verify import HeaderVerifier

    body = await request.body()
    headers = dict(request.headers)
    try:
        fields = parse_authorization_header(headers["authorization"])[1]
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        good = HeaderVerifier(headers, PUBLIC_KEY, required_headers=REQUIRED, method=request.method,
                              path=target).verify()
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        good = good and headers["x-content-sha256"] == digest and int(headers["content-length"]) == len(body)
        skew = abs(email.utils.parsedate_to_datetime(headers["date"]).timestamp() - time.time())
        good = good and skew <= 300
    except Exception:  # any missing or malformed piece is a failed authentication, as on OCI
        good = False
    request.app.state.seen.append({"ok": good, "key_id": fields["keyId"] if good else None,
                                   "compartment": headers.get("opc-compartment-id")})
    if not good:
        return JSONResponse(NOT_AUTHENTICATED, status_code=401, headers={"opc-request-id": "verify-401"})
    return JSONResponse({"id": "resp_ok", "object": "response", "status": "completed", "output": [
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "verified"}]}]})


@pytest.fixture(scope="module")
def verifying_server():
    import uvicorn

    app = Starlette(routes=[Route("/openai/v1/responses", responses, methods=["POST"])])
    app.state.seen = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the verifying server did not start"
    app.state.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/openai/v1"
    yield app
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


class TamperingTransport(httpx.AsyncBaseTransport):
    """Changes the body after it was signed (same length), like a proxy that rewrites it."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = (await request.aread()).replace(b"purple", b"yellow")
        forged = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        return await self.inner.handle_async_request(forged)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("profile, key_id", [("DEFAULT", VECTORS["key_id"]), ("SESSION", None)])
async def test_signed_requests_verify_on_a_real_server(verifying_server, oci_files, profile, key_id):
    async with OCIResponsesModel("openai.gpt-4.1", base_url=verifying_server.state.base_url, profile=profile,
                                 config_file=str(oci_files.config), compartment_id=COMPARTMENT, store=False) as model:
        reply = await model.complete([Message.user("My favorite color is purple.")])
    assert reply.text == "verified"
    seen = verifying_server.state.seen[-1]
    assert seen["ok"] and seen["compartment"] == COMPARTMENT
    assert seen["key_id"] == (key_id or "ST$" + oci_files.token_file.read_text())


async def test_a_tampered_body_is_rejected(verifying_server, oci_files):
    async with OCIResponsesModel("openai.gpt-4.1", base_url=verifying_server.state.base_url, profile="DEFAULT",
                                 config_file=str(oci_files.config), compartment_id=COMPARTMENT, store=False,
                                 transport=TamperingTransport(), max_retries=0) as model:
        with pytest.raises(AuthError) as info:
            await model.complete([Message.user("My favorite color is purple.")])
    assert info.value.status == 401 and info.value.code == "NotAuthenticated"
    assert info.value.request_id == "verify-401"
    assert "fingerprint" in info.value.hint  # the API-key profile's own hint
    assert verifying_server.state.seen[-1]["ok"] is False


@pytest.fixture(scope="module")
def verifying_mock():
    from locus_nb.mock import MockServer

    with MockServer(public_keys={"*": PUBLIC_KEY}) as server:
        yield server


@pytest.mark.parametrize("profile, key_id", [("DEFAULT", VECTORS["key_id"]), ("SESSION", None)])
async def test_the_mock_verifies_what_the_client_signs(verifying_mock, oci_files, profile, key_id):
    """The product pair: our signing auths against the mock's own OCI signature check."""
    async with OCIResponsesModel("openai.gpt-4.1", base_url=verifying_mock.base_url, profile=profile,
                                 config_file=str(oci_files.config), compartment_id=COMPARTMENT, store=True) as model:
        first = await model.complete([Message.user("My favorite color is purple.")])
        second = await model.complete([Message.user("What is my favorite color?")], first.provider_state)
    assert second.text == "Your favorite color is purple."
    signed = verifying_mock.requests[-1]["headers"]
    # the log keeps the signature's shape (which headers were signed), never the key id or signature
    assert 'keyId="****",signature="****"' in signed["authorization"]
    assert "x-content-sha256" in signed["authorization"]
    assert oci_files.token_file.read_text() not in str(verifying_mock.requests)
    assert signed["opc-compartment-id"] == COMPARTMENT and signed["x-content-sha256"]


async def test_the_mock_rejects_a_tampered_body(verifying_mock, oci_files):
    async with OCIResponsesModel("openai.gpt-4.1", base_url=verifying_mock.base_url, profile="DEFAULT",
                                 config_file=str(oci_files.config), compartment_id=COMPARTMENT, store=False,
                                 transport=TamperingTransport(), max_retries=0) as model:
        with pytest.raises(AuthError) as info:
            await model.complete([Message.user("My favorite color is purple.")])
    assert info.value.status == 401
