"""locus_nb: a thin async client for OCI Generative AI's Responses endpoint, for notebooks.

Heavy or optional pieces (the `oci` SDK, the mock server, widgets) load only when used.
"""

from ._errors import (
    APIStatusError,
    AuthError,
    BadRequest,
    ConfigError,
    ConnectionFailed,
    LocusError,
    NotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    StateLost,
    StreamError,
    ToolError,
    TransportError,
    ZDRRejected,
    mask_ocid,
)
from ._events import AgentEvent, ModelChunkEvent, TerminateEvent, ToolCallEvent, ToolResultEvent
from ._messages import Message, ModelResponse, ToolCall, Usage
from ._model import OCIResponsesModel
from ._settings import Connection, connect
from ._auth import (
    APIKeyAuth,
    BearerAuth,
    InstancePrincipalAuth,
    NoAuth,
    OCISigningAuth,
    ResourcePrincipalAuth,
    SessionTokenAuth,
)

# issue 5: streaming endings, tools, the agent loop
from ._agent import Agent, AgentHooks, Veto
from ._errors import StreamFailed, StreamTruncated
from ._tools import Tool, tool

__version__ = "0.1.0"

__all__ = [
    "AgentEvent",
    "ModelChunkEvent",
    "TerminateEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "APIStatusError",
    "AuthError",
    "BadRequest",
    "ConfigError",
    "Connection",
    "ConnectionFailed",
    "LocusError",
    "Message",
    "ModelResponse",
    "NotFound",
    "OCIResponsesModel",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "StateLost",
    "StreamError",
    "ToolCall",
    "ToolError",
    "TransportError",
    "Usage",
    "ZDRRejected",
    "connect",
    "mask_ocid",
    # request authentication (httpx.Auth)
    "APIKeyAuth",
    "BearerAuth",
    "InstancePrincipalAuth",
    "NoAuth",
    "OCISigningAuth",
    "ResourcePrincipalAuth",
    "SessionTokenAuth",
    # issue 5
    "Agent",
    "AgentHooks",
    "StreamFailed",
    "StreamTruncated",
    "Tool",
    "Veto",
    "tool",
]

# Notebook views (ipywidgets is imported only when a widget is shown) and a dependency-free chart.
from ._charts import BarChart  # noqa: E402
from ._widgets import StreamView, TranscriptView, show_stream, show_transcript  # noqa: E402

__all__ += ["BarChart", "StreamView", "TranscriptView", "show_stream", "show_transcript"]
