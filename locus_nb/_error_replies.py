"""An error reply read as the typed error it means. Loaded at the first error reply (`_wire.error_from_body`): a
call that goes well never needs it.

OCI and OpenAI answer `{"error": {"message", "type", "param", "code"}}` (OCI's flat `{"code", "message"}` too). What
other Responses servers send was seen from here (README, "Other Responses servers"; the sources of each shape:
`tests/fixtures/other-servers/README.md`):
- a numeric `code` that repeats the HTTP status (llama.cpp, vLLM): shown once, as the status;
- FastAPI servers (Llama Stack) answer `{"detail": "Response 'resp_…' not found."}`, or a 422 whose `detail` is a
  list of validation errors (`{"loc": [...], "msg": ...}`);
- a server that keeps no responses refuses store=true (vLLM without its store) or the continuation by name
  (llama.cpp: "llama.cpp does not support 'previous_response_id'."), or says it has no such response, sometimes
  with an empty body (Llama Stack 0.2).
On a turn continuing from a stored response, each of these is `StateLost`, worded for the evidence: a refusal says
that the endpoint keeps no responses; a missing one that it may not keep them, or never stored that one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import (APIStatusError, AuthError, BadRequest, ConversationNotFound, NotFound, RateLimited, ServerError,
                      StateLost, ZDRRejected, mask_secrets)
from ._http import body_excerpt, request_id_of, retry_after_seconds

__all__ = ["error_from_body", "failed_response_error"]

ZDR_TEXT = "Zero Data Retention"

_FIELD = "previous_response_id"
_REFUSED = re.compile(r"not (?:be )?supported|unsupported|does not support|not allowed|unrecognized|extra inputs",
                      re.I)
_MISSING = re.compile(r"not found|no such|does not exist|unknown response", re.I)
_RESPONSE_ID = re.compile(r"\bresp_[\w-]+")
_NO_STATE = ("this endpoint keeps no responses to continue from: use store=False, which sends the full history "
             "each turn")
_MAYBE_NO_STATE = ("the endpoint does not have that response: it was never stored (store=False), was deleted or "
                   "expired — or this endpoint does not keep responses (some accept store=true and keep nothing). "
                   "Start a new conversation, or use store=False, which sends the full history each turn")


def error_from_body(status: int, content: bytes, headers: Mapping[str, str] | None = None, *, hint: str | None = None,
                    redact: Iterable[str | None] = (), previous_response_id: str | None = None,
                    response_id: str | None = None) -> APIStatusError:
    """The typed error for a non-2xx reply: OpenAI's envelope, OCI's flat body, and what other servers send
    (`_other_server`).

    `hint` replaces the class's default hint (the auth knows best why it was refused);
    `redact` lists the caller's own secrets, masked wherever the server echoes them;
    `previous_response_id`: the stored response the request continued from, if any; `response_id`: the one it reads
    (a `GET`, a cancel), if any — a 404 then says the server does not have it, whatever its wording.
    """
    headers, redact = headers or {}, tuple(redact)  # (the headers are read case-insensitively)
    try:
        parsed = json.loads(content or b"null")
    except (ValueError, RecursionError):  # not JSON (or not text); a huge number; nested too deeply
        parsed = None
    err = parsed.get("error", parsed) if isinstance(parsed, dict) else None
    if isinstance(err, dict):
        message = mask_secrets(str(err.get("message") or err.get("code") or ""), redact)
        code, param = err.get("code"), err.get("param")
        param = param if isinstance(param, str) else None
    else:  # masked before it is cut: a secret at the cut would otherwise show in part
        message = body_excerpt(content, redact, 300)
        code = param = None
    code = str(code) if code is not None and str(code) != str(status) else None  # (a numeric code repeats the status)
    kw: dict[str, Any] = {"status": status, "code": code, "param": param, "request_id": request_id_of(headers)}
    if ZDR_TEXT.lower() in message.lower():
        return ZDRRejected(message, **kw)
    if code == "previous_response_not_found":
        return StateLost(message, **kw)
    if status == 404 and "conversation" in message.lower():  # OpenAI: "Conversation with id 'conv_…' not found."
        return ConversationNotFound(message, **kw)
    message, error = _other_server(status, parsed, message, kw, previous_response_id=previous_response_id,
                                   response_id=response_id, redact=redact)
    if error is not None:
        return error
    message = message or f"HTTP {status} with an empty body"
    if status in (400, 409, 422):
        return BadRequest(message, **kw)
    if status in (401, 403):
        return AuthError(message, hint=hint, **kw)
    if status == 404:
        return NotFound(message, **kw)
    if status == 429:
        return RateLimited(message, retry_after=retry_after_seconds(headers), **kw)
    if status >= 500:
        return ServerError(message, **kw)
    return APIStatusError(message, **kw)


def failed_response_error(body: Mapping[str, Any], *, status: int = 200, request_id: str | None = None,
                          redact: Iterable[str | None] = ()) -> APIStatusError:
    """A Response whose `status` is `failed`: its `error` as the typed error it means."""
    err = body.get("error") or {}
    code = None if err.get("code") is None else str(err["code"])
    message = mask_secrets(str(err.get("message") or f"response {body.get('id', '')} failed without an error message"),
                           redact)
    kw: dict[str, Any] = {"status": status, "code": code, "request_id": request_id}
    if code == "rate_limit_exceeded":
        return RateLimited(message, **kw)
    if code == "server_error":
        return ServerError(message, **kw)
    return APIStatusError(message, **kw)


def _other_server(status: int, parsed: Any, message: str, kw: dict[str, Any], *, previous_response_id: str | None,
                  response_id: str | None, redact: tuple[str | None, ...]) -> tuple[str, APIStatusError | None]:
    """The reply's message (from a FastAPI `detail` when OpenAI's envelope had none), and the error it means when
    that is not what its status alone says (None: type it by its status)."""
    if not message and isinstance(parsed, dict) and "detail" in parsed:
        message = mask_secrets(_detail_text(parsed["detail"]), redact)
    if kw.get("param") == "store" and _REFUSED.search(message):  # vLLM without its store: 400 to store=true
        return message, BadRequest(message, hint=_NO_STATE, **kw)
    if previous_response_id and status in (400, 404, 410, 422):
        said = f"{message} {kw.get('param') or ''}"
        if _FIELD in said and _REFUSED.search(said):
            return message, StateLost(f"{message} (this endpoint does not keep responses)", hint=_NO_STATE, **kw)
        about_it = previous_response_id in said or _FIELD in said or "response" in said.lower()
        if not message or about_it and (_MISSING.search(said) or previous_response_id in said):
            what = message or f"HTTP {status} with an empty body"
            note = "" if previous_response_id in message else f"no response {previous_response_id} there; "
            return message, StateLost(f"{what} ({note}this endpoint may not keep responses)", hint=_MAYBE_NO_STATE,
                                      **kw)
    if status == 404 and (response_id or _RESPONSE_ID.search(message) and _MISSING.search(message)):
        what = message or f"HTTP {status} with an empty body"
        asked = f" (no response {response_id} there)" if response_id and response_id not in message else ""
        return message, NotFound(what + asked, hint=_MAYBE_NO_STATE, **kw)
    return message, None


def _detail_text(detail: Any) -> str:
    """FastAPI's `detail`: a text, or a list of validation errors, each `{"loc": [...], "msg": ...}`."""
    if not isinstance(detail, list):
        return str(detail)
    errors = [f"{'.'.join(str(p) for p in e.get('loc') or ())}: {e.get('msg')}" if isinstance(e, dict) else str(e)
              for e in detail[:5]]
    return "; ".join(errors) + (f" (and {len(detail) - 5} more)" if len(detail) > 5 else "")
