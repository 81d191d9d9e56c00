"""Helpers for the mock-server tests: in-process clients, SSE parsing, recorded streams."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from locus_nb.mock import MockConfig, create_app

from ..conftest import COMPARTMENT, RESPONSES

HEADERS = {"opc-compartment-id": COMPARTMENT}
URL = "http://mock/openai/v1/responses"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_temperature",
    "description": "Return the current temperature for a city in Celsius.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}


def parse_sse(text: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(event name, data) per frame, split exactly as the wire is: blank line between frames."""
    frames = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        lines = block.split("\n")
        event = next((line[len("event: "):] for line in lines if line.startswith("event: ")), None)
        data = "\n".join(line[len("data: "):] for line in lines if line.startswith("data: "))
        frames.append((event, json.loads(data)))
    return frames


def recorded(name: str) -> list[dict[str, Any]]:
    return [data for _, data in parse_sse((RESPONSES / name).read_text())]


def deltas(events: list[dict[str, Any]], kind: str = "response.output_text.delta") -> list[str]:
    return [e["delta"] for e in events if e["type"] == kind]


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def make_app():
    return lambda **options: create_app(MockConfig(**options))


class Client:
    """A socket-free client for one app: `post(body)` → httpx.Response, `stream(body)` → events."""

    def __init__(self, app) -> None:
        self.app = app
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock/openai/v1",
                                      headers=HEADERS)

    async def post(self, body: dict[str, Any], **kw) -> httpx.Response:
        return await self.http.post("/responses", json=body, **kw)

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.post(body)
        assert r.status_code == 200, r.text
        return r.json()

    async def stream(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        r = await self.post({**body, "stream": True})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        return [data for _, data in parse_sse(r.text)]

    @property
    def log(self) -> list[dict[str, Any]]:
        return self.app.state.mock.log


@pytest.fixture
async def client(app) -> Iterator[Client]:
    c = Client(app)
    yield c
    await c.http.aclose()


@pytest.fixture
async def make_client(make_app):
    """Clients for apps with a given `MockConfig`."""
    clients = []

    def make(**options) -> Client:
        clients.append(Client(make_app(**options)))
        return clients[-1]

    yield make
    for c in clients:
        await c.http.aclose()
