"""The stream and transcript views: coalescing, escaping, stable repr, the one printed copy, fallback."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from locus_nb import (
    ConfigError,
    ModelChunkEvent,
    StreamError,
    StreamView,
    TerminateEvent,
    ToolCall,
    ToolCallEvent,
    ToolResultEvent,
    TranscriptView,
    show_stream,
    show_transcript,
)
from locus_nb.notebook._widgets import widgets_available

FIXTURE_NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"


@dataclass
class Timer:
    when: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """A hand-driven monotonic clock; its timers (`call_later`) fire as `advance` passes them."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.timers: list[Timer] = []

    def __call__(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(self.now + delay, callback)
        self.timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while due := [t for t in self.timers if not t.cancelled and t.when <= end]:
            timer = min(due, key=lambda t: t.when)
            self.timers.remove(timer)
            self.now = max(self.now, timer.when)
            timer.callback()
        self.now = end

    def pending(self) -> int:
        return sum(not t.cancelled for t in self.timers)


@pytest.fixture
def shown(monkeypatch):
    """Widgets outside a kernel: record what would be displayed instead of printing reprs."""
    displayed = []
    monkeypatch.setattr("IPython.display.display", lambda obj: displayed.append(obj))
    return displayed


def value_updates(view) -> list[str]:
    seen: list[str] = []
    view.widget.observe(lambda change: seen.append(change["new"]), names="value")
    return seen


def test_not_a_kernel_means_plain_text():
    assert widgets_available() is False
    assert StreamView().widget is None


def test_a_kernel_without_ipywidgets_means_plain_text(monkeypatch):
    import sys
    import types

    import ipykernel  # noqa: F401  (what the check looks for first)

    monkeypatch.setattr("IPython.get_ipython", lambda: types.SimpleNamespace(kernel=object()))
    assert widgets_available() is True
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # makes `import ipywidgets` fail
    assert widgets_available() is False


def test_widget_updates_are_coalesced_by_time_plus_one_final(shown, capsys):
    clock = Clock()
    view = StreamView(live=True, max_rate=25, clock=clock)
    updates = value_updates(view)
    for i in range(1000):  # 1000 tokens over 2 s: 500 tokens a second
        view.feed(f"t{i} ")
        clock.now += 0.002
    assert len(updates) <= 2.0 * 25 + 1  # at most 25 a second of stream
    assert len(updates) >= 40  # and it keeps updating while tokens flow (float steps may skip a few)
    before_close = len(updates)
    text = view.close()
    assert len(updates) == before_close + 1  # one final render
    assert view.updates == len(updates)
    assert text == "".join(f"t{i} " for i in range(1000))
    assert shown == [view.widget]
    assert capsys.readouterr().out == text + "\n"  # printed once, at the end


def test_long_texts_update_less_often(shown):
    """Each update resends the whole value: beyond ~40 KB the interval grows with the size (≤ ~1 MB/s)."""
    clock = Clock()
    view = StreamView(live=True, clock=clock)
    updates = value_updates(view)
    view.feed("x" * 200_000)  # rendered at once: ~200 KB of HTML
    for _ in range(100):  # then 1 s of small tokens
        clock.now += 0.01
        view.feed("y")
    assert 5 <= len(updates) <= 6  # every ~0.2 s, not 25 times a second
    assert sum(len(v) for v in updates) <= 1_000_000 * 1.0 + 2 * 200_500


def test_slow_tokens_each_render_immediately(shown):
    clock = Clock()
    view = StreamView(live=True, max_rate=25, clock=clock)
    updates = value_updates(view)
    for word in ["one ", "two ", "three "]:
        view.feed(word)
        clock.now += 0.5
    assert len(updates) == 3
    assert "one two three" in updates[-1]


def test_model_text_is_html_escaped_and_stats_shown(shown):
    clock = Clock()
    view = StreamView("demo <b>", live=True, clock=clock)
    clock.now += 0.5
    for token in ["<script>", "alert(1)", "</script> & ", '"quotes"']:
        view.feed(token)
        clock.now += 0.25
    value = view.widget.value  # each token was due: the last render holds them all
    assert "<script>" not in value and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;" in value
    assert "demo &lt;b&gt;" in value
    # elapsed from the start; tokens/s over the 3 gaps between the first and the last token (0.75 s)
    assert "● streaming · " in value and " s · 4 tokens · 4 tokens/s" in value
    view.close()
    assert "✓ done · 1.5 s · 4 tokens · 4 tokens/s" in view.widget.value


def test_rate_needs_two_tokens_and_counts_are_singular_for_one(shown):
    clock = Clock()
    view = StreamView(live=True, clock=clock)
    clock.now += 0.3
    view.feed("only")  # a rate from one token would be 1 / (almost nothing)
    assert "0.3 s · 1 token · – tokens/s" in view.widget.value
    clock.now += 0.5
    view.feed(" two")
    assert "0.8 s · 2 tokens · 2 tokens/s" in view.widget.value
    clock.now += 10  # a pause after the last token does not lower the rate
    view.close()
    assert "10.8 s · 2 tokens · 2 tokens/s" in view.widget.value


def test_closed_view_folds_to_its_status_line_above_the_printed_text(shown, capsys):
    """In JupyterLab the text is shown once: live in the widget, then printed below its status line."""
    view = StreamView("demo", live=True)
    view.feed("1\n2\n<3>")
    assert "&lt;3&gt;</pre>" in view.widget.value
    view.close()
    value = view.widget.value
    assert "<pre" not in value and "&lt;3&gt;" not in value
    assert "<b>demo</b> · ✓ done · " in value and value.endswith(" · text below ↓</div></div>")
    assert capsys.readouterr().out == "1\n2\n<3>\n"


def test_without_echo_the_widget_keeps_the_text(shown, capsys):
    view = StreamView(live=True, echo=False)
    view.feed("kept <here>")
    view.close()
    assert "✓ done" in view.widget.value and "kept &lt;here&gt;</pre>" in view.widget.value
    assert capsys.readouterr().out == ""


def test_repr_is_stable_whatever_was_streamed(shown):
    view = StreamView(live=True)
    before = view.widget._repr_mimebundle_()["text/plain"]
    view.feed("anything at all " * 50)
    view.close()
    assert repr(view.widget) == before == repr(view) == "<StreamView: live token stream; the final text is printed below>"
    assert view.widget._repr_mimebundle_()["text/plain"] == before


def test_plain_fallback_writes_as_it_goes_and_ends_like_the_widget(capsys):
    clock = Clock()
    view = StreamView(live=False, clock=clock)
    view.feed("Hello ")
    assert capsys.readouterr().out == "Hello "  # first token shows at once
    view.feed("world")  # not due yet: coalesced
    assert capsys.readouterr().out == ""
    clock.now += 1
    view.feed("!")
    assert capsys.readouterr().out == "world!"
    assert view.close() == "Hello world!"
    assert capsys.readouterr().out == "\n"


def test_same_printed_text_in_both_modes(shown, capsys):
    tokens = ["1\n", "2\n", "3\n", "4\n", "5\n"]
    for live in (True, False):
        view = StreamView(live=live)
        for t in tokens:
            view.feed(t)
        view.close()
        assert capsys.readouterr().out == "1\n2\n3\n4\n5\n"  # no extra blank line after text ending in \n


def test_feed_after_close_is_a_typed_error():
    view = StreamView(live=False, echo=False)
    view.close()
    with pytest.raises(ConfigError, match="closed"):
        view.feed("late")


def test_bad_rate_is_a_typed_error():
    with pytest.raises(ConfigError, match="max_rate"):
        StreamView(max_rate=0)


async def chunks(*texts, done=True):
    for t in texts:
        await asyncio.sleep(0)
        yield ModelChunkEvent(content=t)
    if done:
        yield ModelChunkEvent(done=True, response="the-response")


async def test_show_stream_consumes_model_chunk_events(capsys):
    text = await show_stream(chunks("Hi", " <there>", None))
    assert text == "Hi <there>"
    assert capsys.readouterr().out == "Hi <there>\n"


async def test_run_keeps_the_final_response(shown):
    view = StreamView(live=True)
    assert await view.run(chunks("a", "b")) == "ab"
    assert view.response == "the-response"


async def test_broken_stream_keeps_and_prints_partial_text(shown, capsys):
    async def broken():
        yield ModelChunkEvent(content="partial ")
        yield ModelChunkEvent(content="answer")
        raise StreamError("connection closed before response.completed", partial_text="partial answer")

    view = StreamView(live=True)
    with pytest.raises(StreamError):
        await view.run(broken())
    assert view.text == "partial answer"
    assert "✗ stopped (StreamError) · " in view.widget.value  # the details are printed right below
    out = capsys.readouterr().out
    assert out.startswith("partial answer\n[stopped: StreamError: connection closed")

    quiet = StreamView(live=True, echo=False)  # nothing printed: the widget keeps text and error
    with pytest.raises(StreamError):
        await quiet.run(broken())
    assert "✗ stopped: StreamError: connection closed" in quiet.widget.value
    assert "partial answer</pre>" in quiet.widget.value
    assert capsys.readouterr().out == ""


def test_a_pause_in_the_stream_still_shows_pending_text(shown):
    """Coalesced tokens render once the interval has passed, even if no further token arrives."""
    clock = Clock()
    view = StreamView(live=True, max_rate=50, clock=clock, call_later=clock.call_later)  # a 20 ms interval
    updates = value_updates(view)
    view.feed("first ")
    view.feed("second")  # within the interval: held back
    assert "second" not in view.widget.value
    clock.advance(0.019)
    assert "second" not in view.widget.value
    clock.advance(0.001)  # the interval has passed: the trailing render
    assert "first second" in view.widget.value
    assert len(updates) == 2
    view.close()
    assert clock.pending() == 0


async def test_without_call_later_the_trailing_render_is_timed_by_the_running_loop(shown):
    view = StreamView(live=True, max_rate=50)  # a 20 ms interval, timed by the running loop
    updates = value_updates(view)
    view.feed("first ")
    view.feed("second")  # within the interval: held back
    assert "second" not in view.widget.value
    for _ in range(200):  # the loop renders it once the interval has passed (bounded: at most ~2 s)
        await asyncio.sleep(0.01)
        if "first second" in view.widget.value:
            break
    assert "first second" in view.widget.value and len(updates) == 2
    view.feed("third")
    view.close()  # the final render, and no timer left to render after it
    await asyncio.sleep(0.05)
    assert len(updates) == 3


def test_fed_from_sync_code_without_a_loop_the_next_feed_renders(shown):
    clock = Clock()
    view = StreamView(live=True, max_rate=50, clock=clock)  # no call_later, no running loop: no timer
    view.feed("first ")
    view.feed("second")
    assert "second" not in view.widget.value
    clock.now += 0.02
    view.feed("!")
    assert "first second!" in view.widget.value


async def test_while_waiting_the_elapsed_time_still_moves_and_stops_with_the_view(shown):
    clock = Clock()

    async def slow_start():  # e.g. a reasoning model: nothing for 1.6 s
        clock.advance(1.6)  # ticks every TICK_SECONDS (0.5 s)
        yield ModelChunkEvent(content="late")
        yield ModelChunkEvent(done=True)

    view = StreamView(live=True, echo=False, clock=clock, call_later=clock.call_later)
    updates = value_updates(view)
    await view.run(slow_start())
    waiting = [v for v in updates if "waiting for the first token" in v]
    assert [re.search(r"(\d+\.\d) s · 0 tokens", v).group(1) for v in waiting] == ["0.5", "1.0", "1.5"]
    done = len(updates)
    clock.advance(10)
    assert len(updates) == done and clock.pending() == 0  # no ticks after close


async def test_a_tick_is_skipped_when_something_rendered_recently(shown):
    clock = Clock()
    view = StreamView(live=True, echo=False, clock=clock, call_later=clock.call_later)
    updates = value_updates(view)

    async def tokens():
        clock.advance(0.4)
        yield ModelChunkEvent(content="token")  # rendered at 0.4 s
        clock.advance(0.1)  # the tick at 0.5 s: only 0.1 s since that render
        assert len(updates) == 1
        clock.advance(0.5)  # the tick at 1.0 s: 0.6 s since
        assert len(updates) == 2 and "1.0 s · 1 token" in updates[-1]
        yield ModelChunkEvent(done=True)

    await view.run(tokens())
    assert len(updates) == 3  # the final render


# -- transcript -----------------------------------------------------------------------------------

CALL = ToolCall(id="call_1", name="get_temperature", arguments={"city": "Paris", "unit": "celsius"})


async def agent_events(final="According to get_temperature: 18 °C <ok>"):
    yield ModelChunkEvent(content="Let me check.")
    yield ModelChunkEvent(done=True)
    yield ToolCallEvent(CALL)
    yield ToolResultEvent(CALL, "18 °C")
    for piece in (final[:10], final[10:]):
        yield ModelChunkEvent(content=piece)
    yield ModelChunkEvent(done=True)
    yield TerminateEvent(final, iterations_used=2, total_tool_calls=1)


TRANSCRIPT = """\
model: Let me check.
tool call: get_temperature(city="Paris", unit="celsius")
tool result: get_temperature → 18 °C
final answer: According to get_temperature: 18 °C <ok>
iterations: 2 · tool calls: 1 · stop reason: completed
"""


async def test_transcript_widget_renders_every_event_kind_escaped(shown, capsys):
    view = TranscriptView(live=True, echo=False)  # not printed: the final widget keeps every row
    final = await view.run(agent_events())
    assert final.iterations_used == 2 and view.tool_calls == 1
    value = view.widget.value
    for label in ("model", "tool call", "tool result", "final answer"):
        assert f">{label}</span>" in value
    assert "get_temperature(city=&quot;Paris&quot;, unit=&quot;celsius&quot;)" in value
    assert "&lt;ok&gt;" in value and "<ok>" not in value
    assert "iterations: 2 · tool calls: 1 · stop reason: completed" in value
    assert repr(view.widget) == "<TranscriptView: agent run; the transcript is printed below>"
    assert capsys.readouterr().out == ""


async def test_transcript_shows_rows_live_then_folds_above_the_printed_copy(shown, capsys):
    clock = Clock()

    async def paced():  # each event comes after the render interval: every one is rendered
        async for event in agent_events():
            clock.now += 0.1
            yield event

    view = TranscriptView("run", live=True, clock=clock)
    updates = value_updates(view)
    await view.run(paced())
    assert ">tool result</span>" in updates[-2] and ">final answer</span>" in updates[-2]
    assert updates[-1] == view.widget.value
    assert "<b>run</b> · ✓ done · 0.8 s · transcript below ↓" in view.widget.value
    assert "</span>" not in view.widget.value  # no rows: they are printed right below
    assert capsys.readouterr().out == TRANSCRIPT  # the final answer once, not also as model text


async def test_transcript_plain_fallback_prints_the_same(capsys):
    await show_transcript(agent_events(), live=False)
    assert capsys.readouterr().out == TRANSCRIPT


async def test_transcript_shows_tool_errors_and_run_errors(shown, capsys):
    async def failing():
        yield ToolCallEvent(CALL)
        yield ToolResultEvent(CALL, "ToolError: city not found", is_error=True)
        raise RuntimeError("model went away")

    view = TranscriptView(live=True, echo=False)
    with pytest.raises(RuntimeError):
        await view.run(failing())
    assert ">tool error</span>" in view.widget.value and "✗ stopped" in view.widget.value
    assert "stopped: RuntimeError: model went away" in view.widget.value

    view = TranscriptView(live=True)
    with pytest.raises(RuntimeError):
        await view.run(failing())
    assert "✗ stopped · " in view.widget.value
    assert capsys.readouterr().out.endswith("tool error: get_temperature → ToolError: city not found\n"
                                            "stopped: RuntimeError: model went away\n")


def test_transcript_rejects_what_is_not_an_agent_event():
    with pytest.raises(ConfigError, match="cannot show"):
        TranscriptView(live=False).consume({"kind": "model_chunk"})


# -- in a real kernel ---------------------------------------------------------------------------------

@pytest.mark.e2e
def test_in_a_kernel_widgets_record_stable_outputs_and_final_state(tmp_path):
    """papermill → real kernel: the widget's text/plain is the fixed repr, text printed once, state final."""
    import nbformat
    import papermill

    out = tmp_path / "widgets.ipynb"
    papermill.execute_notebook(str(FIXTURE_NOTEBOOKS / "widgets.ipynb"), str(out), kernel_name="python3",
                               progress_bar=False, cwd=str(tmp_path))
    nb = nbformat.read(out, as_version=4)
    stream_cell, transcript_cell = nb.cells[1], nb.cells[2]
    kinds = [o.output_type for o in stream_cell.outputs]
    assert kinds == ["display_data", "stream"]
    display, printed = stream_cell.outputs
    assert display.data["text/plain"] == "<StreamView: live token stream; the final text is printed below>"
    assert printed.text == "Streamed <tokens> & escaped text, shown offline \n"
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    model_id = display.data["application/vnd.jupyter.widget-view+json"]["model_id"]
    value = state[model_id]["state"]["value"]
    # the final state: the status line above the printed text (the text itself is not shown twice)
    assert "✓ done" in value and "7 tokens" in value and "text below" in value and "Streamed" not in value
    transcript_text = "".join(o.get("text", "") for o in transcript_cell.outputs)
    assert "tool call: get_temperature(city=\"Paris\")" in transcript_text
    assert json.dumps(transcript_cell.outputs[0].data["text/plain"]) == json.dumps(
        "<TranscriptView: agent run; the transcript is printed below>")
