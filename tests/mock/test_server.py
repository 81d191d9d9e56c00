"""The mock over a real loopback socket, and the `locus-nb mock` command."""

from __future__ import annotations

import subprocess
import sys

import httpx

from locus_nb import Message, OCIResponsesModel

from ..conftest import COMPARTMENT


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
    r = httpx.post(mock_server.base_url + "/responses", json={"model": "m", "input": "hi"})
    assert r.status_code == 400
    assert r.json() == {"error": {"message": "Compartment ID must be provided", "type": "invalid_request_error",
                                  "param": None, "code": None}}


def test_retrieve_and_delete_stored_response(mock_server):
    headers = {"opc-compartment-id": COMPARTMENT}
    created = httpx.post(mock_server.base_url + "/responses", json={"model": "m", "input": "hi"}, headers=headers).json()
    url = f"{mock_server.base_url}/responses/{created['id']}"
    assert httpx.get(url, headers=headers).json()["id"] == created["id"]
    assert httpx.delete(url, headers=headers).json() == {"id": created["id"], "object": "response.deleted", "deleted": True}
    assert httpx.get(url, headers=headers).status_code == 404


def test_cli_prints_base_url_first_and_serves():
    proc = subprocess.Popen([sys.executable, "-m", "locus_nb.cli", "mock", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/openai/v1")
        for _ in range(50):  # the URL is printed before uvicorn accepts; give it a moment
            try:
                r = httpx.post(url + "/responses", json={"model": "m", "input": "Count to three"},
                               headers={"opc-compartment-id": COMPARTMENT})
                break
            except httpx.ConnectError:
                import time

                time.sleep(0.1)
        assert r.status_code == 200
        assert r.json()["output"][0]["content"][0]["text"] == "1, 2, 3"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
