"""Every lesson says what it claims: the committed recordings (which nbval re-runs) in their own store mode, and
02 with papermill's string 'true'; the committed recordings are clean. Every lesson in both store modes, the same
cells signed, recorded and replayed, with the same claims: test_record_replay.py."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from locus_nb.notebook._claims import Claims, claims_in
from locus_nb.runs._runs import run_notebooks

# One run at a time, in the test process: under pytest-xdist each worker already keeps a core busy, and
# a pool would only add its processes' start (run_notebooks' pool itself: tests/runs/test_runs.py).
JOBS = 1
NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("[0-9]*.ipynb"))
# What `papermill -p store true` passes: a string. Every lesson hands `store` to connect() and nothing
# else (test_lessons_read_the_store_parameter_only_through_connect), which parses it (test_settings.py);
# the string is run end to end in the lesson whose course depends on it.
STRING_STORE = ("02_stored", "true")


def _table(text: str) -> list[list[int]]:
    """The numeric rows of 02's side-by-side table: turn, then (items, bytes, tokens) per mode."""
    return [[int(n) for n in line.split()] for line in text.splitlines() if re.fullmatch(r"\d+(\s+\d+)+", line.strip())]


def claims_01(text: str, stored: bool) -> None:
    assert "server_stateful: False" in text  # always stateless, whatever the store parameter
    assert "✓ with the full history, the reply recalls the favorite color (purple)" in text
    assert "reply: I don't know your favorite color" in text  # without the history it cannot recall
    turn1, turn2 = (int(n) for n in re.findall(r"turn \d: input items \d+, request body (\d+) bytes", text))
    assert turn2 > turn1  # the request body grows


def claims_02(text: str, stored: bool) -> None:
    rows = _table(text)
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    stateless_items, stateless_bytes, stateless_tokens = ([r[i] for r in rows] for i in (1, 2, 3))
    assert stateless_items == [1, 3, 5, 7]  # the whole history, the model's replies included
    assert stateless_bytes == sorted(stateless_bytes) and stateless_bytes[-1] > 2 * stateless_bytes[0]
    assert stateless_tokens == sorted(stateless_tokens) and stateless_tokens[-1] > stateless_tokens[0]
    assert "stateless, last reply: Your favorite city is Lisbon." in text
    assert "request bytes per turn, as sent" in text  # the chart's text rendering
    if stored:
        assert re.search(r"^continued from previous_response_id: resp_[0-9a-f]{24,}$", text, re.M)
        assert "✓ through the stored chain, the reply recalls the favorite color (purple)" in text
        assert "✓ a previous_response_id the server never stored raises StateLost" in text
        assert "✓ stored requests stay flat" in text
        assert "StateLost: [400 previous_response_not_found" in text
        stored_items, stored_bytes, stored_tokens = ([r[i] for r in rows] for i in (4, 5, 6))
        assert stored_items == [1, 1, 1, 1]  # only the new message
        assert max(stored_bytes) - min(stored_bytes) < 100  # flat…
        assert stateless_bytes[-1] - stateless_bytes[0] > 500  # …while stateless grows
        assert stored_tokens == sorted(stored_tokens) and stored_tokens[-1] > stored_tokens[0]  # billed still grows
        assert "stored, last reply: Your favorite city is Lisbon." in text
        # a conversation holds the thread: only the new message each turn, flat, and it recalls
        assert "✓ each turn names the conversation and sends only its new message" in text
        assert re.search(r"^turn 2 on the wire: conversation=conv_[0-9a-f]{24,}, input items=1, "
                         r"previous_response_id=None$", text, re.M)
        assert "message  user       What is my favorite color?\nmessage  assistant  Your favorite color is purple." in text
        assert "ConversationNotFound: [404" in text and "✓ after delete_conversation, a turn on it raises" in text
        conversation_items, conversation_bytes = ([r[i] for r in rows] for i in (7, 8))
        assert conversation_items == [1, 1, 1, 1] and max(conversation_bytes) - min(conversation_bytes) < 100
        assert conversation_bytes[-1] <= 1.1 * stored_bytes[-1]  # within 1.1x of a previous_response_id turn
        assert "conversation, last reply: Your favorite city is Lisbon." in text
    else:
        assert "store=False (Zero Data Retention safe): the server keeps nothing" in text
        assert "previous_response_id:" not in text and "StateLost" not in text
        assert text.count("skipped: store=False") == 4
        assert "stored: skipped (store=False)" in text
        assert all(len(r) == 4 for r in rows)
        assert "ConfigError: a store=False model keeps nothing on the server" in text  # no conversation made
        assert "✓ a store=False model will not hand the thread to the server" in text


def claims_03(text: str, stored: bool) -> None:
    assert '"name": "get_temperature"' in text and '"required": [' in text  # the schema from the signature
    assert text.count('tool call: get_temperature(city="Paris")') == 1  # the tool was called once
    assert "final answer: According to get_temperature: The temperature in Paris is 18 C." in text
    assert "iterations: 2 · tool calls: 1 · stop reason: completed" in text
    if stored:  # only the tool's output goes back, chained to the stored response
        assert "request 2: store=True + previous_response_id\n  input: function_call_output\n" in text
    else:  # the whole exchange goes back: the call before its output
        assert "request 2: store=False\n  input: message (user), function_call, function_call_output\n" in text
    assert '"type": "function_call_output", "call_id": "call_' in text
    # a tool that raises becomes a result the model answers from; the run completes
    assert "tool error: get_temperature → Error: get_temperature raised ValueError: no weather station in Atlantis" in text
    # after a "kernel restart" the checkpoint puts the conversation into a new agent, which goes on with it
    how = "previous_response_id" if stored else "the whole history"
    assert f"restored 8 messages; going on by {how}\n" in text
    assert "final answer: According to get_temperature: The temperature in Lisbon is 21 C." in text
    assert text.count("stop reason: completed") == 3


def claims_04(text: str, stored: bool) -> None:
    chunks = re.search(r"^text chunks: (\[.*\])$", text, re.M).group(1)
    assert len(eval(chunks)) == 5  # one ModelChunkEvent per output_text.delta  # noqa: S307 (our own output)
    assert "last event: done = True · status = completed" in text
    assert "\n1\n2\n3\n4\n5\n" in text  # the widget's final text, printed once
    assert "5 lines streamed: ['1', '2', '3', '4', '5']" in text
    # a cut connection keeps what had arrived
    assert re.search(r"^StreamTruncated: the stream broke off", text, re.M)
    assert "partial_text kept: '1\\n2'" in text
    assert "stopped after the chunk '2'; the stream is closed" in text
    # background: started queued, waited for, a cut background stream resumed whole, a cancel
    assert "started: queued\nended:   completed" in text
    assert "resumed with: ['stream=true&starting_after=" in text
    assert text.count("\n1\n2\n3\n4\n5\n") == 3  # the widget's text, the waited answer, the resumed stream
    assert "✓ nothing lost, nothing repeated: 1-5 once each, in order" in text
    assert re.search(r"^(cancelled while it ran: status cancelled|it had ended already; its answer is kept: completed)$",
                     text, re.M)


# How many claims (✓ lines) each lesson states: (store=False, store=True).
CLAIM_COUNTS = {"01_stateless": (4, 4), "02_stored": (3, 15), "03_tool_roundtrip": (5, 5), "04_streaming": (12, 12)}

CLAIMS: dict[str, Callable[[str, bool], None]] = {
    "04_streaming": claims_04,
    "01_stateless": claims_01,
    "02_stored": claims_02,
    "03_tool_roundtrip": claims_03,
}


# The committed recordings are runs with each lesson's own default store mode. nbval, in the same `make
# test`, re-executes them and matches every output, so their claims are read from them rather than run a
# second time; papermill's string is run here. Every lesson in both modes: the signed runs of
# test_record_replay.py, the same cells against the same mock through the OCI code path, checked with CLAIMS
# and CLAIM_COUNTS (another embedded-mock run of each lesson in its other mode would check them again).
COMMITTED_STORE = {"01_stateless": False, "02_stored": True, "03_tool_roundtrip": False, "04_streaming": False}


@pytest.fixture(scope="module")
def string_store_run(tmp_path_factory):
    lesson = [nb for nb in NOTEBOOKS if nb.stem == STRING_STORE[0]]
    [result] = run_notebooks(lesson, [{"store": STRING_STORE[1]}], tmp_path_factory.mktemp("runs"), progress=False,
                             jobs=JOBS)
    return result


def _outputs(path: str) -> tuple[str, list[str]]:
    nb = nbformat.read(path, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") if o.output_type == "stream" else o.get("data", {}).get("text/plain", "")
                   + "\n" for o in outputs if o.output_type != "error")
    return text, [o.ename for o in outputs if o.output_type == "error"]


def assert_says_what_it_claims(notebook: str, output: str, claims: Claims, stored: bool) -> None:
    """The lesson's printed outputs hold CLAIMS, and its own claims, as `locus-nb run` reads them back for
    SUMMARY.md, all held: as many as CLAIM_COUNTS says."""
    assert notebook in CLAIMS and notebook in CLAIM_COUNTS, f"add what {notebook} claims to CLAIMS in {__file__}"
    text, errors = _outputs(output)
    assert errors == []
    CLAIMS[notebook](text, stored)
    assert claims.failed == ()
    assert len(claims.held) == CLAIM_COUNTS[notebook][stored], claims.held


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_lesson_says_what_it_claims(path):
    assert path.stem in COMMITTED_STORE, f"add {path.stem}'s store mode to COMMITTED_STORE in {__file__}"
    assert_says_what_it_claims(path.stem, str(path), claims_in(str(path)), COMMITTED_STORE[path.stem])


@pytest.mark.e2e
def test_the_stored_lesson_takes_papermills_string_true(string_store_run):
    assert string_store_run.ok, string_store_run.error
    assert_says_what_it_claims(STRING_STORE[0], string_store_run.output, string_store_run.claims, stored=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_a_clean_mock_recording(path):
    """What `make notebooks` commits: mock outputs, nothing secret, nothing that changes run to run."""
    raw = path.read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=4)
    assert set(nb.metadata) <= {"kernelspec", "language_info"}  # no papermill timings, no widget state
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(set(c.metadata) <= {"tags"} for c in nb.cells)
    assert all(c.execution_count == n for n, c in enumerate(code, start=1))  # one clean top-to-bottom run
    assert [c for c in code if "parameters" in c.metadata.get("tags", [])] == [code[0]]
    assert "injected-parameters" not in raw
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert "Connected to the embedded mock server" in raw
    assert f"  mode:        store={COMMITTED_STORE[path.stem]}: " in raw  # the mode its claims are read for
    # Every OCID in it is masked; no key material, key paths or tokens.
    assert re.findall(r"ocid1\.[a-z]+\.oc1\.[a-z0-9-]*\.[^…\s\"]", raw) == []
    for leak in ("-----BEGIN", ".pem", "key_file", "fingerprint", "Bearer ", "ST$", "Authorization", "/home/",
                 "/root/", "/tmp/"):
        assert leak not in raw, leak


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lessons_call_only_public_helpers(path):
    """What a learner copies from a lesson works outside it: no environment reads, no client internals."""
    nb = nbformat.read(path, as_version=4)
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        for internal in ("os.environ", "getenv", "import os", ".client", "event_hooks", "locus_nb._"):
            assert internal not in cell.source, (internal, cell.source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lessons_read_the_store_parameter_only_through_connect(path):
    """So that papermill's string ("true", "False") means in every lesson what connect() parses it to."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and not c.source.lstrip().startswith(("%", "!")))
    tree = ast.parse(code)
    shadowed = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                and "store" in {a.arg for a in f.args.args} for n in ast.walk(f)}  # a function's own `store`
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "store" and id(n) not in shadowed]
    handed = {id(arg) for call in ast.walk(tree) if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "connect"
              for arg in [*call.args, *(k.value for k in call.keywords)] if isinstance(arg, ast.Name)}
    stray = [n.lineno for n in uses if isinstance(n.ctx, ast.Load) and id(n) not in handed]
    assert [n for n in uses if isinstance(n.ctx, ast.Store)] and stray == [], f"`store` read outside connect(): {stray}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parts_are_numbered_in_order(path):
    nb = nbformat.read(path, as_version=4)
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()]
    parts = [int(m.group(1)) for line in headings if (m := re.match(r"^#+ Part (\d+)\b", line))]
    assert parts == list(range(1, len(parts) + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lesson_declares_the_settings_a_run_may_pass(path):
    """`locus-nb run -p project=<ocid>` (the README's OCI example) reaches connect() in every lesson: a
    parameter the parameters cell does not declare is refused."""
    from locus_nb.notebook._params import declared_parameters

    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert set(declared_parameters(cell.source)) >= {"profile", "region", "compartment", "store", "model_id",
                                                      "endpoint", "project"}
    assert all("project=project" in c.source for c in nb.cells if c.cell_type == "code" and "connect(" in c.source)
