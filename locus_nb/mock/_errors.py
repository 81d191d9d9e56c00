"""The mock's error replies, worded like the real endpoint's (see tests/fixtures/responses/error_*.json).

Everything the mock refuses goes through `APIError`: raised anywhere while a request is
handled, turned into one JSON reply (the OpenAI envelope, or OCI's flat body for auth).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response

from ._format import wire_json

__all__ = [
    "APIError",
    "NOT_AUTHENTICATED",
    "ZDR_MESSAGE",
    "bad_request",
    "item_not_found",
    "model_not_found",
    "previous_response_not_found",
    "request_id_headers",
]

ZDR_MESSAGE = "Previous response cannot be used for this organization due to Zero Data Retention."
# OCI's own 401 body (not the OpenAI envelope): what a bad or missing signature gets.
NOT_AUTHENTICATED = {
    "code": "NotAuthenticated",
    "message": "The required information to complete authentication was not provided or was incorrect.",
}


class APIError(Exception):
    """A refusal: status, the JSON body to send, extra headers."""

    def __init__(self, status: int, body: Mapping[str, object], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(json.dumps(body))
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    @classmethod
    def envelope(
        cls,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> APIError:
        """The OpenAI envelope: all four keys always present, `param`/`code` may be null."""
        return cls(status, {"error": {"message": message, "type": type_, "param": param, "code": code}}, headers)

    def response(self, request_id: str) -> Response:
        body = wire_json(self.body).encode()
        headers = {**request_id_headers(request_id), **self.headers}
        return Response(body, status_code=self.status, headers=headers, media_type="application/json")


def request_id_headers(request_id: str) -> dict[str, str]:
    """The id of a reply, under OCI's name and OpenAI's (clients read one or the other)."""
    return {"opc-request-id": request_id, "x-request-id": request_id}


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> APIError:
    return APIError.envelope(400, message, param=param, code=code)


def previous_response_not_found(response_id: str) -> APIError:
    return bad_request(
        f"Previous response with id '{response_id}' not found.",
        param="previous_response_id",
        code="previous_response_not_found",
    )


def item_not_found(item_id: str) -> APIError:
    return APIError.envelope(
        404,
        f"Item with id '{item_id}' not found. Items are not persisted when `store` is set to false. "
        "Try again with `store` set to true, or remove this item from your input.",
        param="input",
    )


def model_not_found(model: str) -> APIError:
    """The real 404 (tests/fixtures/responses/error_404_model_not_found.json)."""
    return APIError.envelope(404, f"The model `{model}` does not exist or you do not have access to it.",
                             code="model_not_found")
