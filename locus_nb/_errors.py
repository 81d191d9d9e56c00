"""One root for every error this package raises.

LocusError
 ├── ConfigError               bad settings: profile, region, OCID, parameter types
 ├── ToolError                 a tool definition or call that cannot work
 ├── TransportError            no HTTP answer at all
 │    ├── RequestTimeout
 │    └── ConnectionFailed
 ├── APIStatusError            the endpoint answered with an error (status, code, message, request_id)
 │    ├── BadRequest           400/422
 │    │    ├── StateLost       previous_response_not_found
 │    │    └── ZDRRejected     Zero Data Retention forbids stored state
 │    ├── AuthError            401/403
 │    ├── NotFound             404 (unknown model id, unknown response)
 │    ├── RateLimited          429 (retry_after)
 │    └── ServerError          5xx
 └── StreamError               a stream that failed or broke off; carries the text received so far
      ├── StreamFailed         the server ended it with response.failed or an error event
      └── StreamTruncated      it stopped before a terminal event
           └── StreamTimeout   no event within stream_idle_timeout, or no end within the deadline

Every error carries `status`, `code`, `message` and `request_id` (the `opc-request-id`), None
where they do not apply, and a `hint` that says what to do. Messages never include credentials:
they are masked when the error is made (OCIDs by `mask_ocid`, tokens and key ids by pattern, and
the caller's own secrets — API key, key paths — by value), so `str(err)` and `repr(err)` are safe
to print. `mask_url` shows an endpoint URL without the password (or key) it may carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "APIStatusError",
    "AuthError",
    "BadRequest",
    "ConfigError",
    "ConnectionFailed",
    "LocusError",
    "NotFound",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "StateLost",
    "StreamError",
    "StreamFailed",
    "StreamTimeout",
    "StreamTruncated",
    "ToolError",
    "TransportError",
    "ZDRRejected",
    "mask_ocid",
    "mask_secrets",
    "mask_url",
]

# The unique part may itself contain dots (OCIDs with a "future use" segment).
_OCID = re.compile(r"\b(ocid1\.[a-z0-9]+\.[a-z0-9-]*\.[a-z0-9-]*\.)([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)")
_TOKEN = re.compile(r"(ST\$|Bearer\s+)[A-Za-z0-9._~+/=$-]{8,}")
# An OCI signature's keyId (tenancy/user/fingerprint, or ST$<token>) and its signature value, whole:
# quoted, JSON-escaped (\"), or cut off by an excerpt.
_SIGNATURE_PARAM = re.compile(r"""\b(keyId|signature)=(\\?["']?)[^"'\\\s,]+""")
_FINGERPRINT = re.compile(r"\b[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){15}\b")
# user:password@ in a URL (the user name stays, the password goes).
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@/\s]*@")
# Query parameters that carry credentials (?api_key=…, &sig=…).
_SECRET_QUERY = re.compile(r"([?&](?:[\w-]*(?:key|token|secret|password|passwd|sig|signature|auth)[\w-]*)=)[^&#\s]*",
                           re.IGNORECASE)


def _mask_ocids(text: str) -> str:
    return _OCID.sub(lambda m: f"{m.group(1)}…{m.group(2)[-4:]}", text)


def mask_ocid(value: str | None) -> str:
    """`ocid1.compartment.oc1..aaaa…xyz` → `ocid1.compartment.oc1..…xyz` (kind and last 4 kept)."""
    if not value:
        return "(none)"
    return _mask_ocids(value)


def mask_secrets(text: str, redact: Iterable[str | None] = ()) -> str:
    """Mask OCIDs, anything that looks like a token, a key id, a signature, a key fingerprint or a
    URL's password, and the given known secrets (before any excerpt is cut, so none is cut in half)."""
    for secret in redact:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "****")
    text = _SIGNATURE_PARAM.sub(lambda m: f"{m.group(1)}={m.group(2)}****", text)
    text = _TOKEN.sub(lambda m: m.group(1) + "****", _mask_ocids(text))
    return mask_url(_FINGERPRINT.sub("**:**", text))


def mask_url(url: str) -> str:
    """`https://user:pw@host/…?api_key=k` → `https://user:****@host/…?api_key=****`: a URL (or any
    text holding URLs) safe to show. The model's repr and every error naming its endpoint use it."""
    return _SECRET_QUERY.sub(lambda m: m.group(1) + "****", _USERINFO.sub(lambda m: m.group(1) + "****@", url))


class LocusError(Exception):
    """Root of every error raised by locus_nb.

    Every error has `status`, `code`, `message` and `request_id` (None when they do not
    apply) and an optional `hint` saying what to do. The message is masked when the error
    is made, so neither `str(err)` nor `repr(err)` can show an OCID or a token.
    """

    hint: str = ""
    status: int | None = None
    code: str | None = None
    request_id: str | None = None

    def __init__(self, message: str = "", *, hint: str | None = None) -> None:
        self.message = mask_secrets(str(message))
        if hint is not None:
            self.hint = mask_secrets(hint)
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.args[0] if self.args else ""
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigError(LocusError):
    def _render_traceback_(self) -> list[str]:
        """How IPython shows it in a notebook: the message alone, no traceback into this package.

        What to fix is a setting and the message names it; a traceback through the validation
        code would only bury that. The cell still fails (papermill, nbval and `locus-nb run` see it).
        """
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class ToolError(LocusError):
    pass


class TransportError(LocusError):
    pass


class RequestTimeout(TransportError):
    hint = "the endpoint did not answer in time; raise timeout= or check the network"


class ConnectionFailed(TransportError):
    hint = "could not reach the endpoint; check the region / base_url and your network"


class APIStatusError(LocusError):
    """The endpoint answered with an error. `message` is the server's own text (masked)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id
        where = f", opc-request-id {request_id}" if request_id else ""
        label = f"{status} {code}" if code else str(status)
        super().__init__(f"[{label}{where}] {message}", hint=hint)
        self.message = mask_secrets(message)


class BadRequest(APIStatusError):
    pass


class StateLost(BadRequest):
    hint = (
        "the server no longer has (or never stored) that response; start a new "
        "conversation, or use store=False and send the full history"
    )


class ZDRRejected(BadRequest):
    hint = "this tenancy has Zero Data Retention: use store=False (the full history is sent each turn)"


class AuthError(APIStatusError):
    hint = (
        "check the clock (OCI rejects signatures more than 5 minutes off), the IAM policy "
        "for generative-ai-family, and for session profiles refresh the token: "
        "`oci session refresh --profile <profile>`"
    )


class NotFound(APIStatusError):
    hint = "check the model id (OCI ids are vendor-prefixed, e.g. openai.gpt-4.1) and the region"


class RateLimited(APIStatusError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)

    hint = "slow down or raise max_retries; the server's Retry-After is honoured"


class ServerError(APIStatusError):
    hint = "the service failed; retried automatically up to max_retries"


class StreamError(LocusError):
    """A stream that failed or stopped early. `partial_text` is everything received before it broke;
    also the `response_id`, the reply's `request_id` (`opc-request-id`, also named in the message),
    and the server's `code` and `server_message` when it sent them."""

    def __init__(
        self,
        message: str,
        *,
        partial_text: str = "",
        response_id: str | None = None,
        code: str | None = None,
        server_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.partial_text = partial_text
        self.response_id = response_id
        self.code = code
        self.server_message = mask_secrets(server_message) if server_message is not None else None
        self.request_id = request_id
        super().__init__(f"{message} [opc-request-id {request_id}]" if request_id else message)
        self.message = mask_secrets(message)


class StreamFailed(StreamError):
    """The server ended the stream with `response.failed` or an `error` event (`code`, `server_message`)."""

    hint = "the server gave up on this response; the text so far is in .partial_text — retry later or change the request"


class StreamTruncated(StreamError):
    """The stream stopped (closed or broke off) before a terminal event: the answer is incomplete."""

    hint = "the connection ended before the response was complete; the text so far is in .partial_text — retry the request"


class StreamTimeout(StreamTruncated):
    """The stream sent no event for `stream_idle_timeout` seconds (keep-alive comments do not count),
    or did not end within the model's `deadline`: it was cut off, and its text so far is kept."""

    hint = ("the server went quiet or the answer took too long; the text so far is in .partial_text — retry, or "
            "raise stream_idle_timeout= / deadline= (OCIResponsesModel keywords, or per call)")
