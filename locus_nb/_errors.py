"""One root for every error this package raises.

LocusError
 ├── ConfigError               bad settings: profile, region, OCID, parameter types
 ├── ReplayMismatch            a replayed request its cassette has no recording for
 ├── ToolError                 a tool definition or call that cannot work
 ├── TransportError            no HTTP answer at all
 │    ├── RequestTimeout
 │    └── ConnectionFailed
 ├── APIStatusError            the endpoint answered with an error (status, code, message, request_id)
 │    ├── BadRequest           400/422
 │    │    ├── StateLost       the server cannot continue from that response (any server's wording)
 │    │    ├── ZDRRejected     Zero Data Retention forbids stored state
 │    │    └── CancelRefused   a response that cannot be cancelled (not a background one)
 │    ├── AuthError            401/403
 │    ├── NotFound             404 (unknown model id, unknown response)
 │    │    └── ConversationNotFound   a conversation deleted, expired or never made
 │    ├── RateLimited          429 (retry_after)
 │    └── ServerError          5xx
 └── StreamError               a stream that failed or broke off; carries the text received so far
      ├── StreamFailed         the server ended it with response.failed or an error event
      └── StreamTruncated      it stopped before a terminal event
           ├── StreamTimeout   no event within stream_idle_timeout, or no end within the deadline
           └── ResumeRefused   a broken background stream the server would not resume

Every error carries `status`, `code`, `message` and `request_id` (the `opc-request-id`), None where they do not
apply, and a `hint` that says what to do. Messages never include credentials: they are masked when the error is
made (`_redact.mask_secrets`), so `str(err)` and `repr(err)` are safe to print.
"""

from __future__ import annotations

from ._redact import mask_ocid, mask_secrets, mask_url

__all__ = ["APIStatusError", "AuthError", "BadRequest", "CancelRefused", "ConfigError", "ConnectionFailed",
           "ConversationNotFound", "LocusError", "NotFound", "RateLimited", "ReplayMismatch", "RequestTimeout",
           "ResumeRefused", "ServerError", "StateLost", "StreamError", "StreamFailed", "StreamTimeout", "StreamTruncated",
           "ToolError", "TransportError", "ZDRRejected",
           "mask_ocid", "mask_secrets", "mask_url"]  # the masks: re-exported, their old home


class LocusError(Exception):
    """Root of every error raised by locus_nb (see the module doc)."""

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


class _ShownAlone(LocusError):
    def _render_traceback_(self) -> list[str]:
        """How IPython shows it in a notebook: the message alone. What to fix is named in it (a setting, a recording);
        a traceback through this package would only bury that. The cell still fails (papermill, nbval and
        `locus-nb run` see it)."""
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class ConfigError(_ShownAlone):
    pass


class ReplayMismatch(_ShownAlone):
    """A replayed request the cassette has no recording for (or a stream read past its recording)."""


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

    def __init__(self, message: str, *, status: int, code: str | None = None, param: str | None = None,
                 request_id: str | None = None, hint: str | None = None) -> None:
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id
        where = f", opc-request-id {request_id}" if request_id else ""
        label = f"{status} {code}" if code else str(status)
        super().__init__(f"[{label}{where}] {message}", hint=hint)
        self.message = mask_secrets(message)

    def retyped(self, kind: type[APIStatusError]) -> APIStatusError:
        """The same answer as a more specific error (what the call knows it means), with that kind's hint."""
        return kind(self.message, status=self.status, code=self.code, param=self.param, request_id=self.request_id)


class BadRequest(APIStatusError):
    pass


class StateLost(BadRequest, _ShownAlone):
    """The server cannot continue from that response; shown alone in a notebook, as its message says why (and, when
    the reply shows it, that the endpoint keeps no responses) and its hint what to do."""

    hint = ("the server no longer has (or never stored) that response; start a new conversation, or use "
            "store=False and send the full history")


class ZDRRejected(BadRequest):
    hint = "this tenancy has Zero Data Retention: use store=False (the full history is sent each turn)"


class CancelRefused(BadRequest):
    hint = ("only a background response (model.start, stream(background=True)) can be cancelled, and only while it "
            "runs; one that has ended keeps its answer: model.wait(handle) fetches it")


class AuthError(APIStatusError):
    hint = ("check the clock (OCI rejects signatures more than 5 minutes off), the IAM policy for generative-ai-family,"
            " and for session profiles refresh the token: `oci session refresh --profile <profile>`")


class NotFound(APIStatusError):
    hint = ("check the model id (OCI ids are vendor-prefixed, e.g. openai.gpt-4.1), the region, and that base_url ends "
            "where the Responses API lives (…/openai/v1 on OCI, …/v1 on most other servers)")


class ConversationNotFound(NotFound):
    hint = ("the conversation was deleted or has expired (or lives in another region); start a new one with "
            "model.create_conversation(), or go on statelessly with the history you keep")


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

    def __init__(self, message: str, *, partial_text: str = "", response_id: str | None = None, code: str | None = None,
                 server_message: str | None = None, request_id: str | None = None) -> None:
        self.partial_text = partial_text
        self.response_id = response_id
        self.code = code
        self.server_message = mask_secrets(server_message) if server_message is not None else None
        self.request_id = request_id
        super().__init__(f"{message} [opc-request-id {request_id}]" if request_id else message)
        self.message = mask_secrets(message)


class StreamFailed(StreamError):
    hint = ("the server gave up on this response; the text so far is in .partial_text — retry later or change the "
            "request")


class StreamTruncated(StreamError):
    hint = ("the connection ended before the response was complete; the text so far is in .partial_text — retry the "
            "request")


class StreamTimeout(StreamTruncated):
    """The stream sent no event for `stream_idle_timeout` seconds (keep-alive comments do not count),
    or did not end within the model's `deadline`: it was cut off, and its text so far is kept."""

    hint = ("the server went quiet or the answer took too long; the text so far is in .partial_text — retry, or "
            "raise stream_idle_timeout= / deadline= (OCIResponsesModel keywords, or per call)")


class ResumeRefused(StreamTruncated):
    hint = ("the server would not resume this background stream (expired, or not a background response); the text "
            "so far is in .partial_text — model.wait() may still fetch the whole answer by its response_id")
