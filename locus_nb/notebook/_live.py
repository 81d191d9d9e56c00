"""What both live views share: coalesced rendering into an HTML widget, or plain text without one.

In a Jupyter kernel with ipywidgets installed each view is an `ipywidgets.HTML` widget whose value
is re-rendered at most `max_rate` times a second, whatever the token rate (time-based coalescing plus
one final render). When the stream ends the view prints its text once, so papermill, nbval and HTML
handouts record it, and the widget folds to its status line (elapsed time, counts) above that printed
copy, so the text is not shown twice. The widget's `text/plain` repr is a fixed string: that is what
nbval compares and what viewers without widget state show. Outside a kernel (or without ipywidgets)
the same views print plain text as it arrives, and the printed result is identical.

ipywidgets and IPython are imported here only, and only when a widget is actually shown.
"""

from __future__ import annotations

import asyncio
import functools
import html
import sys
import time
from collections.abc import AsyncIterable, Callable
from typing import Any, Protocol

from .._errors import ConfigError, mask_secrets

__all__ = ["HTML_BYTES_PER_SECOND", "TICK_SECONDS", "UPDATES_PER_SECOND", "LiveView", "widgets_available"]

UPDATES_PER_SECOND = 25  # a browser re-renders innerHTML per update; 25/s looks live and stays cheap
# Each update resends the whole value, so long texts update less often: at most ~1 MB of HTML a second
# (a 170 KB answer then updates ~6 times a second; a typical 10 KB one still 25 times).
HTML_BYTES_PER_SECOND = 1_000_000
# While `run()` waits (first token, a tool, a reasoning model), the elapsed time still moves, so a slow
# start does not look like a hang: a render at least this often, when nothing else rendered.
TICK_SECONDS = 0.5

BOX = ("font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,13px);"
        "border-left:3px solid var(--jp-brand-color1,#1976d2);padding:4px 10px;margin:2px 0")
MUTED = "color:var(--jp-ui-font-color2,#666);font-size:90%"
PRE = "white-space:pre-wrap;word-break:break-word;margin:4px 0"


def widgets_available() -> bool:
    """True in a Jupyter kernel with ipywidgets installed: a live widget can be shown."""
    if "ipykernel" not in sys.modules:  # cheap check first: no kernel, no widgets
        return False
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def _html_widget_class() -> type:
    import ipywidgets

    class LiveHTML(ipywidgets.HTML):
        """An HTML widget with a fixed repr: its text/plain fallback never depends on the stream."""

        def __init__(self, label: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._label = label

        def __repr__(self) -> str:
            return self._label

    return LiveHTML


class _Timer(Protocol):
    def cancel(self) -> None: ...


_CallLater = Callable[[float, Callable[[], None]], _Timer]


class LiveView:
    """Coalesced rendering shared by both views: render when due, else once the interval has passed.

    Time comes from `clock` (monotonic seconds) and timers from `call_later(delay, callback)`, which
    returns a handle with `cancel()`; by default `time.monotonic` and the running asyncio loop's
    `call_later`. Tests pass a hand-driven clock for both, so nothing waits on the real clock.
    """

    label = "<live view>"

    def __init__(self, title: str | None = None, *, live: bool | None = None, max_rate: float = UPDATES_PER_SECOND,
                 echo: bool = True, clock: Callable[[], float] = time.monotonic,
                 call_later: _CallLater | None = None) -> None:
        if max_rate <= 0:
            raise ConfigError(f"max_rate must be a positive number of updates per second; got {max_rate!r}")
        self.title = title
        self.error: BaseException | None = None  # what ended the view early (set by `close`)
        self.live = widgets_available() if live is None else live
        self.echo = echo  # widget mode: print the result once at the end (plain mode prints as it goes)
        self.updates = 0  # renders sent: widget value updates, or plain-text writes
        self.closed = False
        self._interval = 1.0 / max_rate
        self._clock = clock
        self._call_later = call_later
        self._started = clock()
        self._next_render = float("-inf")  # when the next render is due
        self._dirty = False
        self._timer: _Timer | None = None
        self._ticker: _Timer | None = None
        self._rendered_at = float("-inf")
        self._shown = False
        self.widget = _html_widget_class()(self.label, value=self._html(self._started)) if self.live else None

    # -- what subclasses provide -----------------------------------------------------------------

    def consume(self, event: Any) -> None:
        raise NotImplementedError

    def _result(self) -> Any:
        """What `run` and `close` return."""
        raise NotImplementedError

    def _html(self, now: float) -> str:
        raise NotImplementedError

    def _take_plain(self, final: bool) -> str:
        """Plain text not yet written (fallback mode), and at close everything that is left."""
        raise NotImplementedError

    def summary(self) -> str:
        """What the view prints once at the end (deterministic: no timings)."""
        raise NotImplementedError

    # -- shared machinery -------------------------------------------------------------------------

    def show(self) -> LiveView:
        """Display the widget (once). In plain-text mode there is nothing to display up front."""
        if self.widget is not None and not self._shown:
            from IPython.display import display

            display(self.widget)
        self._shown = True
        return self

    def _changed(self, now: float | None = None) -> None:
        if not self._shown:
            self.show()
        if now is None:
            now = self._clock()
        if now >= self._next_render:
            self._render(now)
            return
        self._dirty = True
        if self._timer is None:  # trailing render, so a pause in the stream does not hide text
            self._timer = self._later(self._next_render - now, self._render_if_dirty)

    def _later(self, delay: float, callback: Callable[[], None]) -> _Timer | None:
        """`callback` after `delay` seconds; None without a timer source (fed from sync code, no
        loop running: the next `feed` or `close` renders instead)."""
        if self._call_later is not None:
            return self._call_later(delay, callback)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return loop.call_later(delay, callback)

    def _render_if_dirty(self) -> None:
        self._timer = None
        if self._dirty and not self.closed:
            self._render(self._clock())

    def _render(self, now: float) -> None:
        self._dirty = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.widget is not None:
            value = self._html(now)
            self.widget.value = value
            self._next_render = now + max(self._interval, len(value) / HTML_BYTES_PER_SECOND)
        else:
            sys.stdout.write(self._take_plain(final=False))
            sys.stdout.flush()
            self._next_render = now + self._interval
        self._rendered_at = now
        self.updates += 1

    def _tick(self) -> None:
        self._ticker = None
        if self.closed:
            return
        now = self._clock()
        if now - self._rendered_at >= TICK_SECONDS:
            self._render(now)
        self._ticker = self._later(TICK_SECONDS, self._tick)

    async def run(self, events: AsyncIterable[Any]) -> Any:
        self.show()
        if self.widget is not None:  # plain text has no clock to move
            self._ticker = self._later(TICK_SECONDS, self._tick)
        try:
            async for event in events:
                self.consume(event)
        except BaseException as exc:  # KeyboardInterrupt too: the view says so and keeps what came
            self.close(error=exc)
            raise
        return self.close()

    def close(self, error: BaseException | None = None) -> Any:
        if error is not None and not self.closed:
            self.error = error
        self._finish()
        return self._result()

    def _finish(self) -> None:
        """Final render and the one printed copy. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self._render(self._clock())
        if self.widget is None:
            sys.stdout.write(self._take_plain(final=True))
            sys.stdout.flush()
        elif self.echo:
            summary = self.summary()
            sys.stdout.write(summary if summary.endswith("\n") else summary + "\n")
            sys.stdout.flush()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        if self.widget is not None:
            return self.widget._repr_mimebundle_(**kwargs)
        return {"text/plain": self.label}

    def __repr__(self) -> str:
        return self.label

    @property
    def _folded(self) -> bool:
        """Closed, and the text is printed below the widget: the widget keeps only its status line."""
        return self.closed and self.echo

    def _heading(self) -> str:
        return f"<b>{html.escape(self.title)}</b> · " if self.title else ""

    def _error_note(self, error: BaseException | None) -> str:
        return "" if error is None else mask_secrets(f"{type(error).__name__}: {error}")
