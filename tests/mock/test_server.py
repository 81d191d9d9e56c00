"""The mock over a real loopback socket, and the `locus-nb mock` command."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from locus_nb import Message, NotFound, OCIResponsesModel
from locus_nb.mock import MockServer

from ..conftest import COMPARTMENT, SIGNING, VECTORS

MODEL = "openai.gpt-4.1"


async def test_client_against_mock_over_socket(mock_server):
    assert mock_server.base_url.startswith("http://127.0.0.1:")
    async with OCIResponsesModel("openai.gpt-4.1", base_url=mock_server.base_url, auth="none",
                                 compartment_id=COMPARTMENT, store=True) as model:
        r1 = await model.complete([Message.user("My name is Ada.")])
        r2 = await model.complete([Message.user("What is my name?")], provider_state=r1.provider_state)
    assert r2.text == "Your name is Ada."
    logged = [e for e in mock_server.requests if e["body"] and e["body"].get("previous_response_id") == r1.response_id]
    assert logged and logged[0]["headers"]["opc-compartment-id"] == COMPARTMENT


def test_compartment_header_required(mock_server):
    r = httpx.post(mock_server.base_url + "/responses", json={"model": MODEL, "input": "hi"})
    assert r.status_code == 400
    assert r.json() == {"error": {"message": "Compartment ID must be provided", "type": "invalid_request_error",
                                  "param": None, "code": None}}


def test_retrieve_and_delete_stored_response(mock_server):
    headers = {"opc-compartment-id": COMPARTMENT}
    created = httpx.post(mock_server.base_url + "/responses", json={"model": MODEL, "input": "hi"}, headers=headers).json()
    url = f"{mock_server.base_url}/responses/{created['id']}"
    assert httpx.get(url, headers=headers).json()["id"] == created["id"]
    assert httpx.delete(url, headers=headers).json() == {"id": created["id"], "object": "response.deleted", "deleted": True}
    assert httpx.get(url, headers=headers).status_code == 404


@pytest.mark.e2e
def test_cli_prints_base_url_first_and_serves():
    proc, url = _start_cli()
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/openai/v1")
        r = _post_when_ready(url, {"model": MODEL, "input": "Count to three"}, headers={"opc-compartment-id": COMPARTMENT})
        assert r.status_code == 200
        assert r.json()["output"][0]["content"][0]["text"] == "1, 2, 3"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _start_cli(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "locus_nb.cli", "mock", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def _post_when_ready(url: str, body: dict, **kw) -> httpx.Response:
    import time

    for _ in range(100):  # the URL is printed before uvicorn accepts; bounded wait
        try:
            return httpx.post(url + "/responses", json=body, **kw)
        except httpx.ConnectError:
            time.sleep(0.05)
    raise AssertionError("the mock never accepted a connection")


@pytest.mark.e2e
def test_cli_flags_zdr_api_key_fault_and_public_key(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "key.pem").write_bytes(pem)
    headers = {"opc-compartment-id": COMPARTMENT}
    proc, url = _start_cli("--zdr", "--api-key", "sk-cli", "--fault", "unavailable:1", "--token-delay", "0",
                           "--public-key", str(tmp_path / "key.pem"))
    try:
        body = {"model": MODEL, "input": "Count to two", "store": False}
        unsigned = _post_when_ready(url, body, headers=headers)
        assert unsigned.status_code == 401  # neither the key nor a signature
        keyed = {**headers, "authorization": "Bearer sk-cli"}
        assert httpx.post(url + "/responses", json=body, headers=keyed).status_code == 503  # the one injected fault
        assert httpx.post(url + "/responses", json=body, headers=keyed).json()["output"][0]["content"][0]["text"] == "1, 2"
        zdr = httpx.post(url + "/responses", json={**body, "store": True}, headers=keyed)
        assert "Zero Data Retention" in zdr.json()["error"]["message"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.e2e
def test_cli_refuses_a_bad_fault_name_without_a_traceback():
    proc = subprocess.run([sys.executable, "-m", "locus_nb.cli", "mock", "--fault", "meteor"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "locus-nb mock: unknown mock fault 'meteor'" in proc.stderr and "Traceback" not in proc.stderr


def test_server_socket_has_tcp_nodelay(mock_server):
    import socket

    assert mock_server._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_request_log_masks_secrets(mock_server):
    headers = {"opc-compartment-id": COMPARTMENT, "authorization": "Bearer sk-secret-value", "x-api-key": "k-secret"}
    httpx.post(mock_server.base_url + "/responses", json={"model": MODEL, "input": "hi"}, headers=headers)
    entry = mock_server.requests[-1]
    assert entry["method"] == "POST" and entry["path"] == "/openai/v1/responses"
    assert entry["headers"]["authorization"] == "Bearer ****" and entry["headers"]["x-api-key"] == "****"
    assert entry["body"] == {"model": MODEL, "input": "hi"} and entry["body_size"] == len(b'{"model":"openai.gpt-4.1","input":"hi"}')
    assert "secret" not in repr(mock_server.requests)


def test_request_log_is_bounded():
    with MockServer(log_limit=3) as mock:
        for n in range(5):
            httpx.post(mock.base_url + "/responses", json={"model": MODEL, "input": f"n{n}"},
                       headers={"opc-compartment-id": COMPARTMENT})
        assert [e["body"]["input"] for e in mock.requests] == ["n2", "n3", "n4"]


@pytest.mark.e2e
async def test_cli_flags_host_port_model_key_id_map_and_token_delay(oci_files):
    """The flags the other CLI test does not reach: an explicit host and port, `--model`, a
    `KEY_ID=PEM_FILE` public key that really verifies our client's signature, and a paced stream."""
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key_id = f"{VECTORS['tenancy']}/{VECTORS['user']}/{VECTORS['fingerprint']}"
    proc, url = _start_cli("--host", "127.0.0.1", "--port", str(port), "--model", "openai.gpt-4.1",
                           "--public-key", f"{key_id}={SIGNING / 'sample_public_key.pem'}", "--token-delay", "0.05")
    try:
        assert url == f"http://127.0.0.1:{port}/openai/v1"
        _post_when_ready(url, {"model": MODEL, "input": "hi"}, headers={"opc-compartment-id": COMPARTMENT})
        async with OCIResponsesModel(MODEL, base_url=url, profile="DEFAULT", config_file=str(oci_files.config),
                                     compartment_id=COMPARTMENT, store=False) as model:
            start, arrivals = time.perf_counter(), []
            async for chunk in model.stream([Message.user("Count to five, one number per line.")]):
                if chunk.content:
                    arrivals.append(time.perf_counter() - start)
            assert chunk.response.text == "1\n2\n3\n4\n5"
            # Paced: the server's 4+ sleeps between deltas all happen after `start`, so this lower bound
            # holds however the client's scheduling bunches the arrivals (without pacing it is ~ms).
            assert len(arrivals) == 5 and arrivals[-1] >= 4 * 0.05
            model.model_id = "openai.gpt-5"
            with pytest.raises(NotFound, match="model_not_found"):
                await model.complete([Message.user("hi")])
        unsigned = httpx.post(url + "/responses", json={"model": MODEL, "input": "hi"},
                              headers={"opc-compartment-id": COMPARTMENT})
        assert unsigned.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_stop_cuts_streams_in_flight_and_ends_the_server_thread():
    """A paced stream with a minute to go does not hold stop() (nor a kernel's exit) hostage."""
    mock = MockServer(token_delay=0.05).start()
    thread, outcome, first_bytes = mock._thread, [], threading.Event()
    body = {"model": MODEL, "input": "go", "stream": True, "metadata": {"mock_text_tokens": "1200"}}

    def read() -> None:
        received = b""
        try:
            with httpx.stream("POST", mock.base_url + "/responses", json=body, timeout=120,
                              headers={"opc-compartment-id": COMPARTMENT}) as r:
                for chunk in r.iter_bytes():
                    received += chunk
                    first_bytes.set()
        except httpx.RemoteProtocolError:
            outcome.append(received.count(b"event: response.output_text.delta\n"))

    reader = threading.Thread(target=read)
    reader.start()
    assert first_bytes.wait(10)
    mock.stop()
    assert not thread.is_alive()
    reader.join(10)
    assert not reader.is_alive() and len(outcome) == 1 and outcome[0] < 1200  # cut, not completed
    with pytest.raises(httpx.ConnectError):
        httpx.post(mock.base_url + "/responses", json=body, timeout=5)
