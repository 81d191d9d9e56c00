"""What a lesson cell calls: `connect()` and its parameters, `expect()`, the exercises' `check()` and
`TODO`, the widgets, the charts and the wire recorder. Built on the library above it; the embedded mock is started from here when asked for."""

from ._charts import BarChart
from ._claims import ClaimFailed, expect
from ._exercises import TODO, check
from ._recording import record_requests
from ._settings import Connection, connect
from ._widgets import StreamView, TranscriptView, show_stream, show_transcript

__all__ = ["BarChart", "ClaimFailed", "Connection", "StreamView", "TODO", "TranscriptView", "check", "connect",
           "expect", "record_requests", "show_stream", "show_transcript"]
