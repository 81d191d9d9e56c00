"""locus_nb: a thin async client for OCI Generative AI's Responses endpoint, for notebooks.

Heavy or optional pieces (the `oci` SDK, the mock server, widgets, checkpoints, conversations, background answers) load
only when used.
"""

from importlib import import_module
from typing import Any

from ._agent import Agent, AgentHooks, Veto
from ._auth import (APIKeyAuth, BearerAuth, InstancePrincipalAuth, NoAuth, OCISigningAuth, ResourcePrincipalAuth,
                    SessionTokenAuth)
from ._errors import (APIStatusError, AuthError, BadRequest, CancelRefused, ConfigError, ConnectionFailed,
                      ConversationNotFound, LocusError, NotFound, RateLimited, ReplayMismatch, RequestTimeout,
                      ResumeRefused, ServerError, StateLost, StreamError, StreamFailed, StreamTimeout, StreamTruncated,
                      ToolError, TransportError, ZDRRejected, mask_ocid)
from ._events import AgentEvent, ModelChunkEvent, TerminateEvent, ToolCallEvent, ToolResultEvent
from ._messages import Message, ModelResponse, ToolCall, Usage
from ._model import OCIResponsesModel
from ._tools import Tool, tool
# What a lesson cell calls: connect(), expect(), the exercises' check() and TODO, the widgets (ipywidgets loads
# only when one is shown), a chart.
from .notebook import (TODO, BarChart, ClaimFailed, Connection, StreamView, TranscriptView, check, connect, expect,
                       record_requests, show_stream, show_transcript)

__version__ = "0.1.0"

__all__ = [
    # connecting, the model, its values
    "Connection", "Message", "ModelResponse", "OCIResponsesModel", "ToolCall", "Usage", "connect",
    # what went on the wire (for lessons and tests), what a lesson claims, and the exercises' checks
    "record_requests", "expect", "check", "TODO",
    # streaming and agent events
    "AgentEvent", "ModelChunkEvent", "TerminateEvent", "ToolCallEvent", "ToolResultEvent",
    # tools and the agent loop
    "Agent", "AgentHooks", "Tool", "Veto", "tool",
    # checkpoints: a conversation saved to JSON and resumed after a kernel restart
    "Checkpoint", "CheckpointMismatch", "load_checkpoint", "save_checkpoint",
    # the server holds the thread (a conversation), or runs the answer in the background
    "Background", "Conversation",
    # errors
    "APIStatusError", "AuthError", "BadRequest", "CancelRefused", "ClaimFailed", "ConfigError", "ConnectionFailed",
    "ConversationNotFound", "LocusError", "NotFound", "RateLimited", "ReplayMismatch", "RequestTimeout",
    "ResumeRefused", "ServerError", "StateLost", "StreamError", "StreamFailed", "StreamTimeout", "StreamTruncated",
    "ToolError", "TransportError", "ZDRRejected", "mask_ocid",
    # request authentication (httpx.Auth)
    "APIKeyAuth", "BearerAuth", "InstancePrincipalAuth", "NoAuth", "OCISigningAuth", "ResourcePrincipalAuth",
    "SessionTokenAuth",
    # notebook views
    "BarChart", "StreamView", "TranscriptView", "show_stream", "show_transcript",
]

# Optional parts, loaded on first use (PEP 562): checkpoints, conversations and background answers.
_LATER = {**dict.fromkeys(("Checkpoint", "CheckpointMismatch", "load_checkpoint", "save_checkpoint"), "._checkpoint"),
          "Conversation": "._conversations", "Background": "._background"}


def __getattr__(name: str) -> Any:
    if name not in _LATER:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_LATER[name], __name__), name)
