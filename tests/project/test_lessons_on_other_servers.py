"""Lesson 02 on Responses servers that keep no responses, its own cells run in-process on the mock app behind an
httpx transport that behaves like such a server, with the same cells on the mock alone as the control.

- A proxy that silently drops `previous_response_id` (LiteLLM's proxy without a database: it accepts the field and
  sends only the new turn upstream): nothing in the replies shows it; the lesson's recall claim catches it.
- A server that accepts `store: true`, keeps nothing, and answers the continuing turn with an error (llama.cpp's
  refusal, an empty-bodied 400, a FastAPI "not found"): the lesson stops there with `StateLost`, shown alone, whose
  first line says that the endpoint does not keep responses."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest

import locus_nb
from locus_nb.mock import create_app
from locus_nb.notebook import ClaimFailed
from locus_nb.notebook._settings import Connection

LESSON = Path(__file__).parents[2] / "notebooks" / "02_stored.ipynb"
OTHER = Path(__file__).parents[1] / "fixtures" / "other-servers"
RECALL = "through the stored chain, the reply recalls the favorite color"


class DropsPreviousResponseId(httpx.AsyncBaseTransport):
    """A proxy that accepts `previous_response_id` and forwards the request without it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.dropped: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if "previous_response_id" in body:
            self.dropped.append(body.pop("previous_response_id"))
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        forwarded = httpx.Request(request.method, request.url, headers=headers, content=json.dumps(body).encode())
        return await self.inner.handle_async_request(forwarded)


class KeepsNothing(httpx.AsyncBaseTransport):
    """A server that accepts `store: true` and keeps nothing: a continuing turn gets `status` and `body`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, status: int, body: bytes) -> None:
        self.inner, self.status, self.body = inner, status, body

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "previous_response_id" in json.loads(request.content):
            return httpx.Response(self.status, content=self.body, headers={"content-type": "application/json"})
        return await self.inner.handle_async_request(request)


def _cells_until_the_recall_claim() -> list[str]:
    """The lesson's code cells from its parameters to the cell that makes the recall claim."""
    cells = [c.source for c in nbformat.read(LESSON, as_version=4).cells if c.cell_type == "code"]
    last = next(i for i, source in enumerate(cells) if RECALL in source)
    return cells[: last + 1]


async def _run(cells: list[str], namespace: dict[str, Any]) -> None:
    for number, source in enumerate(cells):
        result = eval(compile(source, f"<02_stored cell {number}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT),
                      namespace)
        if inspect.iscoroutine(result):
            await result
        if number == 0:  # the parameters: an endpoint, in the store mode the lesson is about
            namespace.update(endpoint="http://proxy.test/openai/v1", store=True)


def _behind(transport: httpx.AsyncBaseTransport, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every model the lesson's connection makes talks to `transport`."""
    for name in ("LOCUS_NB_MODE", "LOCUS_NB_ENDPOINT", "LOCUS_NB_TARGET", "OCI_PROFILE", "OCI_RESPONSES_STORE"):
        monkeypatch.delenv(name, raising=False)
    model = Connection.model
    monkeypatch.setattr(Connection, "model", lambda self, **kw: model(self, **{"transport": transport, **kw}))


@pytest.mark.parametrize("drops", [False, True], ids=["the mock", "a proxy that drops previous_response_id"])
async def test_lesson_02_recall_claim_catches_a_proxy_that_drops_the_chain(drops, monkeypatch, capsys):
    app = create_app()
    transport = DropsPreviousResponseId(httpx.ASGITransport(app=app)) if drops else httpx.ASGITransport(app=app)
    _behind(transport, monkeypatch)
    namespace: dict[str, Any] = {"__name__": "__lesson__"}
    cells = _cells_until_the_recall_claim()
    if not drops:
        await _run(cells, namespace)
        assert f"✓ {RECALL}" in capsys.readouterr().out
        assert app.state.mock.log[-1]["body"]["previous_response_id"] == namespace["r1"].response_id
        return
    with pytest.raises(ClaimFailed) as failed:
        await _run(cells, namespace)
    assert RECALL in failed.value.claim and "purple" not in failed.value.got.lower()
    assert transport.dropped == [namespace["r1"].response_id]  # the lesson chained; the proxy dropped it
    assert "previous_response_id" not in app.state.mock.log[-1]["body"]
    assert locus_nb.StateLost is namespace["StateLost"]  # (the lesson's own imports ran)


@pytest.mark.parametrize(("status", "fixture", "says"), [
    (400, "llamacpp_400_previous_response_id.json", "(this endpoint does not keep responses)"),
    (400, "llamastack_400_empty_body.txt", "this endpoint may not keep responses)"),
    (404, "fastapi_404_detail", "this endpoint may not keep responses)"),
])
async def test_lesson_02_says_in_one_line_that_the_endpoint_keeps_no_responses(status, fixture, says, monkeypatch):
    app = create_app()
    body = (b'{"detail": "Response not found."}' if fixture == "fastapi_404_detail" else (OTHER / fixture).read_bytes())
    _behind(KeepsNothing(httpx.ASGITransport(app=app), status, body), monkeypatch)
    namespace: dict[str, Any] = {"__name__": "__lesson__"}
    with pytest.raises(locus_nb.StateLost) as lost:
        await _run(_cells_until_the_recall_claim(), namespace)
    assert namespace["r1"].response_id  # the stored turn was answered; the continuing one was not
    shown = "".join(lost.value._render_traceback_())  # what the notebook shows: the error alone, no traceback
    first, hint = shown.splitlines()
    assert first.startswith(f"\x1b[0;31mStateLost\x1b[0m: [{status}] ") and first.endswith(says)
    assert "use store=False" in hint
