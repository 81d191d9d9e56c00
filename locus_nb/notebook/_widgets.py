"""Live notebook views: a token stream and an agent transcript.

In a Jupyter kernel with ipywidgets each view is an HTML widget re-rendered at most `max_rate` times a
second (`_live.LiveView`); when the stream ends it prints its text once, so papermill, nbval and HTML
handouts record it, and the widget folds to its status line. Outside a kernel the same views print plain
text as it arrives, and the printed result is identical.

    text = await show_stream(model.stream(messages))
    final = await show_transcript(agent.run("What's the temperature in Paris?"))
"""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterable
from typing import Any

from .._errors import ConfigError
from .._events import AgentEvent, ModelChunkEvent, TerminateEvent
from ._live import BOX, HTML_BYTES_PER_SECOND, MUTED, PRE, TICK_SECONDS, UPDATES_PER_SECOND, LiveView, widgets_available

__all__ = ["HTML_BYTES_PER_SECOND", "TICK_SECONDS", "UPDATES_PER_SECOND", "StreamView", "TranscriptView",
           "show_stream", "show_transcript", "widgets_available"]


class StreamView(LiveView):
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
        status = f'<div style="{MUTED}">{self._heading()}{state} · {self._stats(now)}'
        if self._folded:  # the text is printed right below: show it once
            return f'<div class="locus-stream" style="{BOX}">{status} · text below ↓</div></div>'
        reasoning = ""
        if self._reasoning:
            reasoning = f'<div style="{MUTED};font-style:italic">{html.escape("".join(self._reasoning))}</div>'
        return (f'<div class="locus-stream" style="{BOX}">{status}</div>{reasoning}'
                f'<pre style="{PRE}">{"".join(self._escaped)}</pre></div>')

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


class TranscriptView(LiveView):
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
            return (f'<div class="locus-transcript" style="{BOX}"><div style="{MUTED}">{status} · '
                    f'transcript below ↓</div></div>')
        rows = []
        for kind, text in self.entries:
            color = self._COLORS[kind]
            weight = "font-weight:bold;" if kind == "final" else ""
            rows.append(f'<div style="display:flex;align-items:baseline;gap:10px;margin:3px 0"><span style="color:{color};'
                        f'font-weight:bold;min-width:7.5em">{self._LABELS[kind]}</span>'
                        f'<pre style="{PRE};margin:0;flex:1;{weight}">{html.escape(text)}</pre></div>')
        footer = self._footer()
        if footer:
            status += f" · {html.escape(footer)}"
        return (f'<div class="locus-transcript" style="{BOX}"><div style="{MUTED}">{status}</div>'
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
