"""The `/responses/{id}` routes: retrieve (and resume a background stream), delete, cancel.

A background response is looked up among the running and recently finished jobs first (its live
state), then in the store. The rules and their sources are in `_background`. Handlers are called as
`_conversation_api`'s are (`state`: the app's `MockState`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from ._background import Follow, cancel_refused
from ._errors import APIError, bad_request
from ._format import json_reply

__all__ = ["ROUTES", "response_not_found"]


def response_not_found(response_id: str) -> APIError:
    return APIError.envelope(404, f"Response with id '{response_id}' not found.", param="response_id")


def _streaming(request: Request) -> bool:
    return request.query_params.get("stream", "false").lower() != "false"


def _starting_after(request: Request) -> int:
    text = request.query_params.get("starting_after")
    if text is None:
        return -1
    if not text.isdigit():
        raise bad_request(f"Invalid type for 'starting_after': expected an integer, but got '{text}' instead.",
                          param="starting_after", code="invalid_type")
    return int(text)


def _cannot_stream(state: Any, response_id: str, response: Mapping[str, Any] | None) -> APIError:
    if response is None:
        return response_not_found(response_id)
    if response.get("background"):
        return bad_request(f"The events of response '{response_id}' are no longer kept to stream (a background "
                           f"response's events are kept {state.jobs.ttl:.0f} s after it ends); retrieve it without "
                           "`stream`.", param="stream")
    return bad_request("This response cannot be streamed because it was not created with background=true.",
                       param="stream")


async def retrieve(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Any:
    """`GET /responses/{id}`: the Response as it is now; `?stream=true[&starting_after=N]`: a background
    response's events after N, then the live ones."""
    response_id = request.path_params["response_id"]
    job = state.jobs.get(response_id)
    stored = state.store.get(response_id)
    if _streaming(request):
        after = _starting_after(request)
        if job is None:
            raise _cannot_stream(state, response_id, stored.response if stored else None)
        if not job.streamed:
            raise bad_request("This response cannot be streamed because it was not created with stream=true.",
                              param="stream")
        return Follow(job, after=after, headers=headers)
    if job is not None:
        return json_reply(job.snapshot(), headers)
    if stored is None:
        raise response_not_found(response_id)
    return json_reply(stored.response, headers)


async def delete(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Any:
    """`DELETE /responses/{id}`: a background response still running must be cancelled first."""
    response_id = request.path_params["response_id"]
    job = state.jobs.get(response_id)
    if job is not None and not job.done:
        raise bad_request("Cannot delete an in-flight response.")
    if not state.store.delete(response_id) and job is None:
        raise response_not_found(response_id)
    state.jobs.drop(response_id)
    return json_reply({"id": response_id, "object": "response.deleted", "deleted": True}, headers)


async def cancel(state: Any, request: Request, body: Any, headers: Mapping[str, str]) -> Any:
    """`POST /responses/{id}/cancel`: a queued or running background response is cancelled; a cancelled
    one is answered again; anything else is refused."""
    response_id = request.path_params["response_id"]
    job = state.jobs.get(response_id)
    if job is None:
        stored = state.store.get(response_id)
        if stored is None:
            raise response_not_found(response_id)
        status = stored.response["status"]
        if not stored.response.get("background"):
            raise cancel_refused(None)
        if status != "cancelled":
            raise cancel_refused(status)
        return json_reply(stored.response, headers)
    if not job.done:
        job.cancel()
    elif job.status != "cancelled":
        raise cancel_refused(job.status)
    return json_reply(job.snapshot(), headers)


# (path under the prefix, methods, handler)
ROUTES = (
    ("/responses/{response_id}", ["GET"], retrieve),
    ("/responses/{response_id}", ["DELETE"], delete),
    ("/responses/{response_id}/cancel", ["POST"], cancel),
)
