"""`locus-nb mock --replay DIR`: the recorded exchanges of a folder of cassettes, served over HTTP.

Any client can use it — the openai SDK in your own notebook, curl, another language — with no
credentials: a request is answered by the recording whose method, path and canonical body match it
(`locus_nb._cassette`, the same matching as `locus-nb run --replay`), JSON as recorded, streams
one SSE event per chunk (at the recorded pace with `pace=True`), a recorded cut as a dropped
connection. A request with no recording gets a 400 whose message names the cassette, the nearest
recorded request and the first field that differs.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .._cassette import CASSETTE_SUFFIX, Cassette, ReplayMismatch, load_cassette, parse_body, replay_events
from .._errors import LocusError

__all__ = ["create_replay_app"]


def _cassettes(source: Path) -> list[Cassette]:
    paths = sorted(source.glob(f"*{CASSETTE_SUFFIX}")) if source.is_dir() else [source]
    if not paths:
        raise LocusError(f"no cassettes (*{CASSETTE_SUFFIX}) in {source}; record some with "
                         f"`locus-nb run --record {source}`")
    return [load_cassette(path) for path in paths]


def _no_recording(message: str) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "no_recording"}}
    return Response(json.dumps(body), status_code=400, media_type="application/json")


def _target(request: Request) -> str:
    """Path and query as the request line has them, the way a cassette records them: a poll, a resumed stream
    (`?stream=true&starting_after=N`) and a page of conversation items differ only there."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    return (raw + (b"?" + query if query else b"")).decode("ascii")


def create_replay_app(source: Path, *, pace: bool = False) -> Starlette:
    """An ASGI app answering from the cassettes in `source` (a folder, or one cassette file)."""
    cassettes = _cassettes(source)

    async def answer(request: Request) -> Response:
        content, target = await request.body(), _target(request)
        misses = []
        for cassette in cassettes:
            try:
                exchange = cassette.play(request.method, target, content)
            except ReplayMismatch as miss:
                misses.append((cassette.distance(request.method, target, parse_body(content)), miss))
                continue
            if "error" in exchange.response:  # recorded with no answer at all: say so with a gateway error
                return Response(json.dumps({"error": {
                    "message": f"the recorded request got no answer ({exchange.response['error']})",
                    "type": "server_error", "param": None, "code": "no_answer_recorded"}}),
                    status_code=502, media_type="application/json")
            headers = exchange.response.get("headers", {})
            status = exchange.response["status"]
            if exchange.streamed:
                return StreamingResponse(replay_events(exchange, cassette.path, pace), status_code=status,
                                         headers=headers)
            return Response(exchange.body_bytes(), status_code=status, headers=headers)
        nearest = min(misses, key=lambda miss: miss[0])[1]
        return _no_recording(str(nearest) if len(misses) == 1 else
                             f"none of the {len(cassettes)} cassettes in {source} has this request; the one with "
                             f"the nearest says:\n{nearest}")

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "DELETE"])])
