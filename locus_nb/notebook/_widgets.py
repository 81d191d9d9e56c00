"""Live notebook views: a token stream and an agent transcript.

In a Jupyter kernel with ipywidgets installed each view is an `ipywidgets.HTML` widget whose value
is re-rendered at most `max_rate` times a second, whatever the token rate (time-based coalescing plus
one final render). When the stream ends the view prints its text once, so papermill, nbval and HTML
handouts record it, and the widget folds to its status line (elapsed time, counts) above that printed
copy, so the text is not shown twice. The widget's `text/plain` repr is a fixed string: that is what
nbval compares and what viewers without widget state show. Outside a kernel (or without ipywidgets)
the same views print plain text as it arrives, and the printed result is identical.

    text = await show_stream(model.stream(messages))
    final = await show_transcript(agent.run("What's the temperature in Paris?"))

ipywidgets and IPython are imported here only, and only when a widget is actually shown.
"""

from __future__ import annotations

import asyncio
import functools
import html
import json
import sys
import time
from collections.abc import AsyncIterable, Callable
from typing import Any, Protocol

from .._errors import ConfigError, mask_secrets
from .._events import AgentEvent, ModelChunkEvent, TerminateEvent

__all__ = ["HTML_BYTES_PER_SECOND", "TICK_SECONDS", "UPDATES_PER_SECOND", "StreamView", "TranscriptView",
           "show_stream", "show_transcript", "widgets_available"]

UPDATES_PER_SECOND = 25  # a browser re-renders innerHTML per update; 25/s looks live and stays cheap
# Each update resends the whole value, so long texts update less often: at most ~1 MB of HTML a second
# (a 170 KB answer then updates ~6 times a second; a typical 10 KB one still 25 times).
HTML_BYTES_PER_SECOND = 1_000_000
# While `run()` waits (first token, a tool, a reasoning model), the elapsed time still moves, so a slow
# start does not look like a hang: a render at least this often, when nothing else rendered.
TICK_SECONDS = 0.5

_BOX = ("font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,13px);"
        "border-left:3px solid var(--jp-brand-color1,#1976d2);padding:4px 10px;margin:2px 0")
_MUTED = "color:var(--jp-ui-font-color2,#666);font-size:90%"
_PRE = "white-space:pre-wrap;word-break:break-word;margin:4px 0"


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


class _LiveView:
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

    def show(self) -> _LiveView:
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


class StreamView(_LiveView):
    """A live view of streamed text. Use as a sink (`feed`, `close`) or with `await view.run(events)`."""

    label = "<StreamView: live token stream; the final text is printed below>"

    def __init__(self, title: str | None = None, **kwargs: Any) -> None:
        self.tokens = 0
        self.response = None  # the ModelResponse from the last (done) chunk, if any
        self._first_token: float | None = None
        self._last_token: float | None = None
        self._pending: list[str] = []  # fed, not yet rendered
        self._parts: list[str] = []  # rendered, as fed
        self._escaped: list[str] = []  # the same, HTML-escaped (escaping is per character, so piecewise is exact)
        self._written = 0  # plain-text mode: parts already on stdout
        self._reasoning: list[str] = []
        super().__init__(title, **kwargs)

    @property
    def text(self) -> str:
        return "".join(self._parts) + "".join(self._pending)

    def feed(self, text: str) -> None:
        """Add one token (or any piece of text). Cheap: rendering happens at most `max_rate` times a second."""
        if self.closed:
            raise ConfigError("this StreamView is closed; make a new one for another stream")
        if not text:
            return
        now = self._clock()
        if self._first_token is None:
            self._first_token = now
        self._last_token = now
        self._pending.append(text)
        self.tokens += 1
        self._changed(now)

    def consume(self, event: ModelChunkEvent) -> None:
        """Take one `ModelChunkEvent`: its text is fed, the final one's response is kept."""
        if event.reasoning:
            self._reasoning.append(event.reasoning)
        if event.content:
            self.feed(event.content)
        if event.done:
            self.response = event.response

    async def run(self, events: AsyncIterable[ModelChunkEvent]) -> str:
        """Show the view, consume the stream, close; return the whole text. On an error the partial
        text stays shown and printed, and the error is raised again."""
        return await super().run(events)

    def close(self, error: BaseException | None = None) -> str:
        """Final render; print the text once. Returns the whole text."""
        return super().close(error)

    def _result(self) -> str:
        return self.text

    def _flush_pending(self) -> None:
        if self._pending:
            piece = "".join(self._pending)
            self._pending.clear()
            self._parts.append(piece)
            self._escaped.append(html.escape(piece))

    def _stats(self, now: float) -> str:
        """Elapsed since the view opened; tokens/s over the gaps between first and last token (– until two)."""
        elapsed = now - self._started
        rate = "–"
        if self.tokens > 1 and self._last_token > self._first_token:
            rate = f"{(self.tokens - 1) / (self._last_token - self._first_token):,.0f}"
        noun = "token" if self.tokens == 1 else "tokens"
        return f"{elapsed:.1f} s · {self.tokens:,} {noun} · {rate} tokens/s"

    def _html(self, now: float) -> str:
        self._flush_pending()
        if self.error is not None:
            state = (f"✗ stopped ({html.escape(type(self.error).__name__)})" if self._folded else
                     f"✗ stopped: {html.escape(self._error_note(self.error))} — the text so far is kept")
        elif self.closed:
            state = "✓ done"
        elif self.tokens == 0:
            state = "… waiting for the first token"
        else:
            state = "● streaming"
        status = f'<div style="{_MUTED}">{self._heading()}{state} · {self._stats(now)}'
        if self._folded:  # the text is printed right below: show it once
            return f'<div class="locus-stream" style="{_BOX}">{status} · text below ↓</div></div>'
        reasoning = ""
        if self._reasoning:
            reasoning = f'<div style="{_MUTED};font-style:italic">{html.escape("".join(self._reasoning))}</div>'
        return (f'<div class="locus-stream" style="{_BOX}">{status}</div>{reasoning}'
                f'<pre style="{_PRE}">{"".join(self._escaped)}</pre></div>')

    def _take_plain(self, final: bool) -> str:
        self._flush_pending()
        new = "".join(self._parts[self._written:])
        self._written = len(self._parts)
        if final:
            return new + self._ending()
        return new

    def _ending(self) -> str:
        newline = "" if self.text.endswith("\n") else "\n"
        return newline + (f"[stopped: {self._error_note(self.error)}; the text so far is above]\n" if self.error else "")

    def summary(self) -> str:
        return self.text + self._ending()


async def show_stream(events: AsyncIterable[ModelChunkEvent], *, title: str | None = None, **kwargs: Any) -> str:
    """Stream `ModelChunkEvent`s into a live view; return the whole text (printed once at the end)."""
    return await StreamView(title, **kwargs).run(events)


def _call_text(name: str, arguments: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return f"{name}({args})"


class TranscriptView(_LiveView):
    """A live, readable transcript of an agent run: model text, tool calls, tool results, final answer."""

    label = "<TranscriptView: agent run; the transcript is printed below>"

    _LABELS = {"model": "model", "call": "tool call", "result": "tool result", "tool_error": "tool error",
               "final": "final answer"}
    _COLORS = {"model": "#1976d2", "call": "#8e24aa", "result": "#2e7d32", "tool_error": "#c62828",
               "final": "#000"}

    def __init__(self, title: str | None = None, **kwargs: Any) -> None:
        self.entries: list[list[str]] = []  # [kind, text]; a "model" entry grows while text streams
        self.terminate: TerminateEvent | None = None
        self.tool_calls = 0
        self._open_model = False  # the last entry is model text still streaming
        self._printed = 0  # plain-text mode: entries already on stdout
        super().__init__(title, **kwargs)

    def consume(self, event: AgentEvent) -> None:
        if self.closed:
            raise ConfigError("this TranscriptView is closed; make a new one for another run")
        kind = getattr(event, "kind", None)
        if kind == "model_chunk":
            if event.content:
                if self._open_model:
                    self.entries[-1][1] += event.content
                else:
                    self.entries.append(["model", event.content])
                    self._open_model = True
            if event.done:
                self._open_model = False
        elif kind == "tool_call":
            self._open_model = False
            self.tool_calls += 1
            self.entries.append(["call", _call_text(event.tool_call.name, event.tool_call.arguments)])
        elif kind == "tool_result":
            self._open_model = False
            self.entries.append(["tool_error" if event.is_error else "result",
                                 f"{event.tool_call.name} → {event.result}"])
        elif kind == "terminate":
            self._open_model = False
            self.terminate = event
            # The last model turn is the final answer: show it once, as such.
            if self.entries and self.entries[-1] == ["model", event.final_message]:
                self.entries.pop()
            self.entries.append(["final", event.final_message])
        else:
            raise ConfigError(f"TranscriptView cannot show {type(event).__name__}; expected agent events")
        self._changed()

    async def run(self, events: AsyncIterable[AgentEvent]) -> TerminateEvent | None:
        """Show the view, consume the run's events, close; return its `TerminateEvent`."""
        return await super().run(events)

    def close(self, error: BaseException | None = None) -> TerminateEvent | None:
        self._open_model = False
        return super().close(error)

    def _result(self) -> TerminateEvent | None:
        return self.terminate

    def _footer(self) -> str | None:
        if self.error is not None:
            return f"stopped: {self._error_note(self.error)}"
        if self.terminate is None:
            return None
        t = self.terminate
        return f"iterations: {t.iterations_used} · tool calls: {t.total_tool_calls} · stop reason: {t.reason}"

    def _html(self, now: float) -> str:
        state = "✓ done" if self.closed and self.error is None else "✗ stopped" if self.error else "● running"
        status = f"{self._heading()}{state} · {now - self._started:.1f} s"
        if self._folded:  # the transcript is printed right below: show it once
            return (f'<div class="locus-transcript" style="{_BOX}"><div style="{_MUTED}">{status} · '
                    f'transcript below ↓</div></div>')
        rows = []
        for kind, text in self.entries:
            color = self._COLORS[kind]
            weight = "font-weight:bold;" if kind == "final" else ""
            rows.append(f'<div style="display:flex;align-items:baseline;gap:10px;margin:3px 0"><span style="color:{color};'
                        f'font-weight:bold;min-width:7.5em">{self._LABELS[kind]}</span>'
                        f'<pre style="{_PRE};margin:0;flex:1;{weight}">{html.escape(text)}</pre></div>')
        footer = self._footer()
        if footer:
            status += f" · {html.escape(footer)}"
        return (f'<div class="locus-transcript" style="{_BOX}"><div style="{_MUTED}">{status}</div>'
                f'{"".join(rows)}</div>')

    def _lines(self, entries: list[list[str]]) -> str:
        return "".join(f"{self._LABELS[kind]}: {text}\n" for kind, text in entries)

    def _take_plain(self, final: bool) -> str:
        # A model entry may still grow: print only entries that are complete.
        done = len(self.entries) if final or not self._open_model else len(self.entries) - 1
        out = self._lines(self.entries[self._printed:done])
        self._printed = max(self._printed, done)
        if final and (footer := self._footer()):
            out += footer + "\n"
        return out

    def summary(self) -> str:
        footer = self._footer()
        return (self._lines(self.entries) + (footer or "")).rstrip("\n")


async def show_transcript(events: AsyncIterable[AgentEvent], *, title: str | None = None,
                          **kwargs: Any) -> TerminateEvent | None:
    """Render an agent run live; print the transcript once at the end; return its `TerminateEvent`."""
    return await TranscriptView(title, **kwargs).run(events)
