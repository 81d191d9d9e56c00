"""Serving the mock app with uvicorn on loopback: in a background thread, or in the foreground."""

from __future__ import annotations

import asyncio
import atexit
import logging
import socket
import threading
import time
from typing import Any

from ._app import PREFIX, MockConfig, MockState, create_app

__all__ = ["MockServer", "embedded_mock"]

# The embedded mock's pace when a notebook kernel starts it (0 in tests; e.g. 0.03 for a live demo).
EMBEDDED_TOKEN_DELAY = 0.03
EMBEDDED_BACKGROUND_QUEUE = 0.5


# Seconds a stopping server lets replies in flight go on; then it cuts them (a paced stream may
# have minutes to go, and a test or a kernel that stops the mock should not wait for it).
SHUTDOWN_GRACE = 0.5
_CUT_AT_SHUTDOWN = "timeout graceful shutdown exceeded"  # in uvicorn's message and its tasks' CancelledError


class _QuietDeliberateDrops(logging.Filter):
    """uvicorn reports a reply that ends without its last chunk, and replies cut when the server
    stops, as errors; for the mock's `drop_mid_stream` fault and for `stop()` that is the point,
    so the lines are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cut = record.exc_info[1] if record.exc_info else None
        return not (message == "ASGI callable returned without completing response."
                    or message.endswith(_CUT_AT_SHUTDOWN)
                    or (isinstance(cut, asyncio.CancelledError) and _CUT_AT_SHUTDOWN in str(cut)))


_QUIET_DROPS = _QuietDeliberateDrops()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this; without it Nagle + delayed ACK cost ~40 ms per request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class MockServer:
    """The mock on a real socket. `with MockServer() as mock: mock.base_url` (a free port by default).

    `app=`: serve another ASGI app on it instead (`locus-nb mock --replay` serves cassettes).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: MockConfig | None = None, *,
                 app: Any = None, **options: Any) -> None:
        self.config = config or MockConfig(**options)
        self.app = app if app is not None else create_app(self.config)
        self._sock = _bind(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{PREFIX}"

    @property
    def state(self) -> MockState:
        return self.app.state.mock

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received: method, path, headers (secrets masked), body size, parsed body."""
        return self.state.log

    def _uvicorn(self):
        import uvicorn

        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=SHUTDOWN_GRACE)
        logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)  # once: same instance
        return uvicorn.Server(config)

    def start(self) -> MockServer:
        self._server = self._uvicorn()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="locus-nb-mock", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the mock server did not start")
            time.sleep(0.005)
        return self

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (the `locus-nb mock` command)."""
        self._server = self._uvicorn()
        self._server.run(sockets=[self._sock])

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._sock.close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_embedded: MockServer | None = None
_embedded_lock = threading.Lock()


def embedded_mock(**options: Any) -> MockServer:
    """One mock per process, started on first use (what notebooks use when no OCI profile is set).

    Streaming pace: `token_delay=` if given (`connect()` passes $LOCUS_NB_MOCK_TOKEN_DELAY), else
    EMBEDDED_TOKEN_DELAY — small but visible, so a learner sees tokens arrive (tests set 0). A background
    response stays queued for EMBEDDED_BACKGROUND_QUEUE seconds, so a lesson can watch it queued and cancel it.
    """
    global _embedded
    with _embedded_lock:
        if _embedded is None:
            if "config" not in options and options.get("token_delay") is None:
                options["token_delay"] = EMBEDDED_TOKEN_DELAY
            if "config" not in options:
                options.setdefault("background_queue", EMBEDDED_BACKGROUND_QUEUE)
            _embedded = MockServer(**options).start()
            atexit.register(_embedded.stop)
        return _embedded
