"""`locus-nb run`: parameter sets, file names, parallel papermill runs, the summary, the exit code."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
import pytest

from locus_nb import ConfigError
from locus_nb.notebook._claims import Claims
from locus_nb.runs._runs import RunResult, output_name, parameter_sets, run_notebooks, summary_markdown, worker_count
from locus_nb.cli import main

ROOT = Path(__file__).parents[2]
PARAMS_NB = Path(__file__).parents[1] / "fixtures" / "notebooks" / "params.ipynb"
OCID = "ocid1.compartment.oc1..aaaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4a7nla"
PROJECT = "ocid1.generativeaiproject.oc1.us-chicago-1.amaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4aproj"


def test_parameter_sets_are_every_combination():
    assert parameter_sets([]) == [{}]
    assert parameter_sets([], "both") == [{"store": False}, {"store": True}]
    assert parameter_sets(["region=us-chicago-1", "region=eu-frankfurt-1", "model_id=m"], "BOTH") == [
        {"region": "us-chicago-1", "model_id": "m", "store": False},
        {"region": "us-chicago-1", "model_id": "m", "store": True},
        {"region": "eu-frankfurt-1", "model_id": "m", "store": False},
        {"region": "eu-frankfurt-1", "model_id": "m", "store": True},
    ]
    assert parameter_sets(["store=true", "store=true"]) == [{"store": "true"}]  # strings, as papermill's -p


@pytest.mark.parametrize("pairs, store, message", [
    (["store"], None, "name=value"),
    (["=x"], None, "name=value"),
    (["not a name=1"], None, "name=value"),
    ([], "sometimes", "--store takes one of"),
    (["store=true"], "both", "not both"),
])
def test_bad_parameters_are_config_errors(pairs, store, message):
    with pytest.raises(ConfigError, match=message):
        parameter_sets(pairs, store)


def test_output_names_carry_the_parameter_set_only_when_there_are_several():
    nb = Path("notebooks/01_stateless.ipynb")
    assert output_name(nb, {"store": False}, several=False) == "01_stateless.ipynb"
    assert output_name(nb, {"store": False, "region": "eu-frankfurt-1"}, several=True) == \
        "01_stateless.store-False.region-eu-frankfurt-1.ipynb"
    assert output_name(nb, {"store": "true", "model_id": "openai.gpt-4.1"}, several=True) == \
        "01_stateless.store-true.model_id-openai_gpt-4_1.ipynb"
    # A URL, an OCID, a long value: a short stable hash, nothing of the value itself.
    url = "http://127.0.0.1:8000/openai/v1"
    assert output_name(nb, {"endpoint": url}, several=True) == \
        f"01_stateless.endpoint-{hashlib.sha256(url.encode()).hexdigest()[:8]}.ipynb"
    assert re.fullmatch(r"01_stateless\.compartment-[0-9a-f]{8}\.store-True\.ipynb",
                        output_name(nb, {"compartment": OCID, "store": True}, several=True))
    many = {f"p{i}": "a-fairly-long-value" for i in range(8)}
    assert re.fullmatch(r"01_stateless\.params-[0-9a-f]{8}\.ipynb", output_name(nb, many, several=True))


def test_worker_count_is_bounded_by_runs_and_request():
    assert worker_count(1, 8) == 1
    assert worker_count(10, 3) == 3
    assert worker_count(0) == 1


def test_summary_is_one_markdown_table_row_per_run_then_every_claim(tmp_path):
    held = Claims(held=("the reply recalls purple",), stated=((True, "the reply recalls purple"),))
    mixed = Claims(held=("a",), failed=("b (got: 'c')",), stated=((True, "a"), (False, "b (got: 'c')")))
    results = [
        RunResult("notebooks/01_stateless.ipynb", {"store": False}, str(tmp_path / "a.ipynb"), True, 1.234,
                  claims=held, target="the embedded mock server (no OCI profile configured)"),
        RunResult("notebooks/02_stored.ipynb", {}, str(tmp_path / "b.ipynb"), False, 2.0, "cell [3]: ConfigError: a|b",
                  claims=mixed, mode="replay", cassette="c/02_stored.jsonl",
                  target="Replaying cassette 02_stored.jsonl (no network, no credentials), recorded from OCI"),
    ]
    text = summary_markdown(results, seconds=3.3, workers=2, relative_to=tmp_path)
    assert "2 notebook(s) × 2 parameter set(s) = 2 run(s) on 2 worker(s): **1 ok, 1 failed** in 3.3 s." in text
    assert ("| 01_stateless | store=False | the embedded mock server (no OCI profile configured) | ok | 1 held | 1.2 | "
            "[a.ipynb](a.ipynb) |") in text
    assert ("| 02_stored | (defaults) | Replaying cassette 02_stored.jsonl (no network, no credentials), recorded from "
            "OCI | **FAILED** — cell [3]: ConfigError: a/b | 1 held, **1 failed** | 2.0 | [b.ipynb](b.ipynb) |") in text
    assert "**01_stateless** · store=False\n\n- ✓ the reply recalls purple\n" in text
    assert "**02_stored** · (defaults)\n\n- ✓ a\n- ✗ b (got: 'c')\n" in text


def _claims_notebook(path: Path, *, fail: bool) -> Path:
    cells = [nbformat.v4.new_code_cell("from locus_nb import expect\n"
                                       "expect(1 + 1 == 2, 'one and one make two')"),
             nbformat.v4.new_code_cell(f"expect({not fail}, 'the reply mentions purple', got='I like green')"),
             nbformat.v4.new_code_cell("print('after')")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


@pytest.mark.e2e
def test_a_failed_claim_fails_the_run_shows_no_traceback_and_is_listed_in_the_summary(tmp_path):
    out = tmp_path / "out"
    notebook = _claims_notebook(tmp_path / "claims.ipynb", fail=True)
    assert main(["run", "--mock", "--no-progress", "--out", str(out), str(notebook)]) == 1
    summary = (out / "SUMMARY.md").read_text()
    assert "**FAILED** — cell [2]: ClaimFailed: the reply mentions purple (got: I like green)" in summary
    assert "| 1 held, **1 failed** |" in summary
    assert "- ✓ one and one make two\n- ✗ the reply mentions purple (got: I like green)\n" in summary
    code = [c for c in nbformat.read(out / "claims.ipynb", as_version=4).cells if c.cell_type == "code"]
    error = code[1].outputs[0]
    assert error.output_type == "error" and error.ename == "ClaimFailed"
    assert error.traceback == ["\x1b[0;31m✗ the reply mentions purple\x1b[0m", "  got: I like green"]
    assert code[2].outputs == []  # the run stopped at the failed claim


@pytest.mark.e2e
def test_held_claims_are_counted(tmp_path):
    out = tmp_path / "out"
    notebook = _claims_notebook(tmp_path / "claims.ipynb", fail=False)
    assert main(["run", "--mock", "--no-progress", "--out", str(out), str(notebook)]) == 0
    assert "| ok | 2 held |" in (out / "SUMMARY.md").read_text()


def test_in_jupyterlab_a_failed_claim_prints_its_cross_and_the_lesson_goes_on(monkeypatch, capsys):
    from locus_nb import ClaimFailed, expect

    monkeypatch.setenv("JPY_SESSION_NAME", "/home/learner/01_stateless.ipynb")  # a Jupyter server's kernel
    assert expect(False, "the reply mentions purple", got="I like green") is None
    assert capsys.readouterr().out == "✗ the reply mentions purple\n  got: I like green\n"
    monkeypatch.delenv("JPY_SESSION_NAME")
    with pytest.raises(ClaimFailed, match=r"^the reply mentions purple \(expected: 'purple'; got: 'green'\)$"):
        expect(False, "the reply mentions purple", expected="'purple'", got="'green'")


def test_replay_needs_a_cassette_for_every_run(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCUS_NB_TARGET", "mock")  # --replay clears it: this session's is given back afterwards
    with pytest.raises(SystemExit, match=r"no cassette for params\.ipynb in .*none \(it holds: nothing\); "
                                         r"record it with `locus-nb run --record"):
        main(["run", "--no-progress", "--replay", str(tmp_path / "none"), "-p", "store=true", "-p", "store=false",
              "--out", str(tmp_path / "out"), str(PARAMS_NB)])
    with pytest.raises(SystemExit):  # one or the other
        main(["run", "--record", str(tmp_path), "--replay", str(tmp_path), str(PARAMS_NB)])


def _printed(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.e2e
def test_run_store_both_writes_each_run_and_a_summary(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    code = main(["run", "--mock", "--no-progress", "--store", "both", "-j", "2", "-p", "region=eu-frankfurt-1",
                 "--out", str(out), str(PARAMS_NB)])
    assert code == 0
    # region only says where to connect and every set shares it: the file names leave it out
    assert _printed(out / "params.store-False.ipynb") == \
        "store parameter False -> store=False, region=eu-frankfurt-1\n"
    assert _printed(out / "params.store-True.ipynb") == \
        "store parameter True -> store=True, region=eu-frankfurt-1\n"
    summary = (out / "SUMMARY.md").read_text()
    assert "1 notebook(s) × 2 parameter set(s) = 2 run(s) on 2 worker(s): **2 ok, 0 failed**" in summary
    assert re.search(r"\| params \| region=eu-frankfurt-1, store=True \| \(no setup line\) \| ok \| — \| \d+\.\d \|",
                     summary)
    assert summary in capsys.readouterr().out
    # jobs=1: no pool; the runs go one after the other in this process, each with its own parameters and
    # kernel, and each executed notebook is the same as the pool's.
    from locus_nb.runs import _runs

    monkeypatch.setattr(_runs, "ProcessPoolExecutor", None)  # a pool would fail the runs
    alone = run_notebooks([PARAMS_NB], [{"region": "eu-frankfurt-1", "store": s} for s in (False, True)],
                          tmp_path / "alone", jobs=1, progress=False)
    assert [r.ok for r in alone] == [True, True], [r.error for r in alone]
    assert [_cells(Path(r.output)) for r in alone] == [
        _cells(out / f"params.store-{s}.ipynb") for s in (False, True)]


def _cells(path: Path) -> list[tuple]:
    """An executed notebook's cells as papermill wrote them, without its timings."""
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("tags"), c.get("outputs")) for c in nb.cells]


_ENVIRONMENT_NB = """import os
print({name: os.environ.get(name) for name in ("LOCUS_NB_MODE", "LOCUS_NB_CASSETTE", "JPY_SESSION_NAME")})"""


@pytest.mark.e2e
def test_one_run_runs_in_this_process_and_gives_back_the_environment_it_set_for_its_kernel(tmp_path, monkeypatch):
    """No worker to start for a single run; its kernel still gets live mode and no Jupyter-server session name,
    and afterwards this process's variables are as they were."""
    import os

    from locus_nb.runs import _runs

    notebook = tmp_path / "env.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_ENVIRONMENT_NB)]), notebook)
    before = {"JPY_SESSION_NAME": "/home/learner/01_stateless.ipynb", "LOCUS_NB_MODE": "record",
              "LOCUS_NB_CASSETTE": str(tmp_path / "c.jsonl")}
    for name, value in before.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(_runs, "ProcessPoolExecutor", None)  # a pool would fail the run
    [result] = run_notebooks([notebook], [], tmp_path / "out", progress=False)
    assert result.ok, result.error
    assert _printed(Path(result.output)) == \
        "{'LOCUS_NB_MODE': None, 'LOCUS_NB_CASSETTE': None, 'JPY_SESSION_NAME': None}\n"
    assert {name: os.environ.get(name) for name in before} == before


@pytest.mark.e2e
def test_a_run_writes_its_notebook_as_it_starts_and_ends_and_a_cell_timeout_keeps_what_ran(tmp_path, monkeypatch):
    """The engine (_engine.py) writes twice per run, not twice per cell; a cell that outlives the timeout
    ends the run, and the notebook written then holds the cells that ran before it."""
    import papermill.engines

    writes = []
    write = papermill.engines.write_ipynb
    monkeypatch.setattr(papermill.engines, "write_ipynb", lambda nb, path: (writes.append(path), write(nb, path)))
    cells = [nbformat.v4.new_code_cell(f"print('cell {n}')") for n in range(1, 6)]
    cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    notebook = tmp_path / "slow.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), notebook)
    [result] = run_notebooks([notebook], [], tmp_path / "out", progress=False, timeout=2)
    assert not result.ok and "Timeout" in result.error
    assert len(writes) == 2  # as the run started, and as it ended
    executed = nbformat.read(result.output, as_version=4).cells
    assert [c.outputs[0].text for c in executed[:5]] == [f"cell {n}\n" for n in range(1, 6)]


@pytest.mark.e2e
def test_run_mock_clears_every_connection_variable_the_kernels_would_read(tmp_path, monkeypatch):
    """`make notebooks` in a shell with OCI_REGION (or any connection variable) set records the mock's setup."""
    monkeypatch.setenv("OCI_REGION", "eu-frankfurt-1")
    monkeypatch.setenv("OCI_RESPONSES_STORE", "true")
    out = tmp_path / "out"
    assert main(["run", "--mock", "--no-progress", "--out", str(out), str(PARAMS_NB)]) == 0
    assert _printed(out / "params.ipynb") == "store parameter None -> store=False, region=us-chicago-1\n"


def test_clearing_the_environment_removes_every_variable_connect_reads(monkeypatch):
    import os

    from locus_nb import connect
    from locus_nb.notebook._settings import ENV_VARS
    from locus_nb.runs._kernels import clear_environment

    mock_setup = connect(env={"LOCUS_NB_TARGET": "mock"}).describe()
    for name in ENV_VARS:
        monkeypatch.setenv(name, "ocid1.compartment.oc1..aaaaaaaaaaaaaaaaaaaaaaaaaaaaa" if name == "OCI_COMPARTMENT"
                           else "eu-frankfurt-1" if name == "OCI_REGION" else "something-else")
    clear_environment()
    assert not set(ENV_VARS) & set(os.environ)
    with pytest.raises(ConfigError, match="nothing says where to connect"):  # cleared: no target, and no silent mock
        connect()
    monkeypatch.setenv("LOCUS_NB_TARGET", "mock")
    assert connect().describe() == mock_setup


@pytest.mark.e2e
def test_the_test_session_runs_without_connection_variables():
    """conftest.py clears the same list, so nbval's kernels compare against the mock's recordings, and asks
    for the mock explicitly (connect() does not fall back on it under nbval)."""
    import os

    from locus_nb.notebook._settings import ENV_VARS

    assert set(ENV_VARS) & set(os.environ) == {"LOCUS_NB_TARGET"} and os.environ["LOCUS_NB_TARGET"] == "mock"


@pytest.mark.e2e
def test_string_parameters_reach_the_notebook_as_strings(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--no-progress", "-p", "store=true", "--out", str(out), str(PARAMS_NB)]) == 0
    assert _printed(out / "params.ipynb") == "store parameter 'true' -> store=True, region=us-chicago-1\n"


@pytest.mark.e2e
def test_a_wrong_parameter_fails_the_run_at_the_setup_cell_and_exits_nonzero(tmp_path):
    out = tmp_path / "out"
    code = main(["run", "--mock", "--no-progress", "-p", "store=maybe", "--out", str(out),
                 str(ROOT / "notebooks" / "01_stateless.ipynb")])
    assert code == 1
    summary = (out / "SUMMARY.md").read_text()
    assert "**0 ok, 1 failed**" in summary
    assert re.search(r"\*\*FAILED\*\* — cell \[3\]: ConfigError: store must be a boolean .*got 'maybe'", summary)
    # The failed notebook is kept for reading, and what it shows is the message, not a traceback
    # through the package's validation code.
    nb = nbformat.read(out / "01_stateless.ipynb", as_version=4)
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert len(errors) == 1
    cell, error = errors[0]
    assert "connect(" in nb.cells[cell].source  # the setup cell
    assert error.ename == "ConfigError" and error.evalue.startswith("store must be a boolean")
    assert error.traceback == [f"\x1b[0;31mConfigError\x1b[0m: {error.evalue}"]


def test_in_place_takes_no_parameters(tmp_path):
    with pytest.raises(SystemExit, match="--in-place"):
        main(["run", "--in-place", "--store", "both", "--out", str(tmp_path), str(PARAMS_NB)])


@pytest.mark.e2e
def test_in_place_runs_record_the_same_bytes_each_time(tmp_path):
    """`make notebooks` twice gives identical files: no timings, widget state or random widget ids."""
    notebook = tmp_path / "widgets.ipynb"
    notebook.write_bytes((PARAMS_NB.parent / "widgets.ipynb").read_bytes())
    recorded = []
    for _ in range(2):
        assert main(["run", "--in-place", "--no-progress", "--out", str(tmp_path / "out"), str(notebook)]) == 0
        recorded.append(notebook.read_bytes())
    assert recorded[0] == recorded[1]
    nb = nbformat.reads(recorded[0].decode(), as_version=4)
    assert set(nb.metadata) == {"kernelspec", "language_info"}
    views = [o for c in nb.cells for o in c.get("outputs", ()) if o.output_type == "display_data"]
    assert [set(o.data) for o in views] == [{"text/plain"}, {"text/plain"}]  # the fixed reprs nbval compares
    assert all(set(c.metadata) <= {"tags"} for c in nb.cells)  # no papermill timings


# -- no silent fallback, no secrets, no long names ---------------------------------------------------


def test_a_parameter_the_notebooks_do_not_declare_stops_the_run_before_any_kernel(tmp_path):
    with pytest.raises(SystemExit, match=r"^locus-nb run: 01_stateless\.ipynb has no parameter 'regoin' \(did you "
                                         r"mean 'region'\?\); its parameters: profile, region, compartment, store, "
                                         r"model_id, endpoint, project\."):
        main(["run", "--mock", "--no-progress", "-p", "regoin=eu-frankfurt-1", "--out", str(tmp_path / "out"),
              str(ROOT / "notebooks" / "01_stateless.ipynb")])
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
def test_papermill_run_directly_with_an_undeclared_parameter_fails_at_the_setup_cell(tmp_path):
    """papermill's own -p only warns about `regoin`; the setup cell's connect() refuses it."""
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match="ConfigError") as info:
        papermill.execute_notebook(str(ROOT / "notebooks" / "04_streaming.ipynb"), str(tmp_path / "o.ipynb"),
                                   parameters={"regoin": "eu-frankfurt-1"}, kernel_name="python3",
                                   progress_bar=False, cwd=str(ROOT / "notebooks"), execution_timeout=120)
    assert "this notebook has no parameter 'regoin' (did you mean 'region'?)" in info.value.evalue


@pytest.mark.parametrize("env, says", [({}, "nothing says where to connect"),
                                       ({"OCI_PROFILE": ""}, "OCI_PROFILE is set but empty")])
@pytest.mark.e2e
def test_without_asking_for_the_mock_a_run_with_no_target_fails_and_says_why(tmp_path, monkeypatch, env, says):
    monkeypatch.delenv("LOCUS_NB_TARGET")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    assert main(["run", "--no-progress", "--out", str(out), str(PARAMS_NB)]) == 1
    assert re.search(rf"\*\*FAILED\*\* — cell \[\d\]: ConfigError: {says}", (out / "SUMMARY.md").read_text())


def test_mock_with_another_target_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="--mock runs against the embedded mock; -p endpoint=… names another target"):
        main(["run", "--mock", "-p", "endpoint=http://127.0.0.1:9/openai/v1", "--out", str(tmp_path),
              str(ROOT / "notebooks" / "01_stateless.ipynb")])


@pytest.mark.e2e
def test_realistic_oci_parameters_give_short_names_and_show_no_ocid_or_password(tmp_path, capsys):
    """-p compartment=<ocid> -p project=<ocid> -p endpoint=https://user:pass@… used to fail with `File name too
    long` and print the OCIDs everywhere; the kernel still gets the real values."""
    notebook = tmp_path / "src" / "oci.ipynb"
    notebook.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("compartment = None\nproject = None\nendpoint = None\nstore = None",
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(len(compartment), compartment[-4:], project[-4:], endpoint.startswith('https://user:'), store)"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}), notebook)
    endpoint = "https://user:s3cret@genai.example.com/openai/v1"
    out = tmp_path / "out"
    code = main(["run", "--no-progress", "-p", f"compartment={OCID}", "-p", f"project={PROJECT}", "-p",
                 f"endpoint={endpoint}", "--store", "both", "-j", "1", "--out", str(out), str(notebook)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    written = sorted(p.name for p in out.iterdir())
    assert written == ["SUMMARY.md", "junit.xml", "oci.store-False.ipynb", "oci.store-True.ipynb", "summary.json"]
    for name in written:
        assert len(name) < 100 and OCID[-20:] not in name and "s3cret" not in name
    executed = [out / n for n in written if n.endswith(".ipynb")]
    assert [_printed(p) for p in executed] == [f"{len(OCID)} 7nla proj True {s}\n" for s in (False, True)]
    for text in (printed, *(p.read_text() for p in out.iterdir())):
        assert OCID not in text and PROJECT not in text and "s3cret" not in text
        assert OCID[:-4] not in text  # not even most of it
    assert "compartment=ocid1.compartment.oc1..…7nla" in printed and "endpoint=https://user:****@genai.example.com" in printed
    injected = [c for c in nbformat.read(executed[0], as_version=4).cells
                if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'compartment = "ocid1.compartment.oc1..…7nla"' in injected[0].source


def test_out_in_the_lessons_folder_is_refused_unless_in_place(tmp_path):
    lessons = tmp_path / "notebooks"
    lessons.mkdir()
    lesson = lessons / "01_params.ipynb"
    lesson.write_bytes(PARAMS_NB.read_bytes())
    with pytest.raises(SystemExit, match=r"--out .*notebooks is where 01_params\.ipynb lives: the executed copies "
                                         r"would overwrite the lessons; pass another --out, or --in-place"):
        main(["run", "--mock", "--no-progress", "--dir", str(lessons), "--out", str(lessons)])
    assert lesson.read_bytes() == PARAMS_NB.read_bytes()


def test_a_hash_in_a_file_name_still_links_in_the_summary(tmp_path):
    results = [RunResult("nb/a#1.ipynb", {}, str(tmp_path / "a#1 x.ipynb"), True, 1.0)]
    assert "[a#1 x.ipynb](a%231%20x.ipynb)" in summary_markdown(results, seconds=1, workers=1, relative_to=tmp_path)


@pytest.mark.e2e
def test_a_live_run_reports_the_tokens_its_kernel_logged(tmp_path):
    """No cassette: the kernel logs each response's usage to the file the run names (LOCUS_NB_USAGE_LOG)."""
    out = tmp_path / "out"
    notebook = Path(__file__).parents[1] / "fixtures" / "notebooks" / "one_request.ipynb"
    assert main(["run", "--mock", "--no-progress", "--out", str(out), str(notebook)]) == 0
    facts = json.loads((out / "summary.json").read_text())
    [run] = facts["results"]
    [usage] = run["usage"]
    assert usage["model"] == "openai.gpt-4.1" and usage["requests"] == 2
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert facts["usage"] == {**usage, "model": ""}
    assert re.search(r"\| one_request \| 2 \| [\d,]+ \| 0 \| [\d,]+ \| \d+ \|", (out / "SUMMARY.md").read_text())
    assert (out / "junit.xml").is_file()


@pytest.mark.e2e
def test_retries_run_a_notebook_again_after_a_transient_error_and_the_summary_says_so(tmp_path):
    notebook = tmp_path / "src" / "flaky.ipynb"
    notebook.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from pathlib import Path\nfrom locus_nb import RateLimited\n\n"
        "if not Path('attempted').exists():  # the first attempt meets a 429 the client's retries did not get past\n"
        "    Path('attempted').write_text('1')\n"
        "    raise RateLimited('slow down', status=429)\n"
        "print('second attempt')")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}), notebook)
    out = tmp_path / "out"
    assert main(["run", "--mock", "--no-progress", "--retries", "1", "--out", str(out), str(notebook)]) == 0
    assert _printed(out / "flaky.ipynb") == "second attempt\n"
    [run] = json.loads((out / "summary.json").read_text())["results"]
    assert run["attempts"] == 2 and run["retried"][0].startswith("cell [1]: RateLimited: [429] slow down")
    assert "| ok (attempt 2; retried after RateLimited) |" in (out / "SUMMARY.md").read_text()


@pytest.mark.e2e
def test_a_shard_runs_its_slice_of_the_matrix(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--mock", "--no-progress", "--store", "both", "--shard", "2/2", "--out", str(out),
                 str(PARAMS_NB)]) == 0
    assert sorted(p.name for p in out.glob("*.ipynb")) == ["params.store-True.ipynb"]  # store=False is slice 1's
    facts = json.loads((out / "summary.json").read_text())
    assert facts["shard"] == "2/2" and [r["name"] for r in facts["results"]] == ["params[store=True]"]


def test_a_cells_printed_text_is_recorded_as_one_output_per_stream_however_the_kernel_split_it(tmp_path):
    """Re-recording gives the same bytes: the kernel's flush timing splits a print into messages, the text does not."""
    import nbformat

    from locus_nb.runs._runs import clean_notebook

    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("print('a'); print('b')", execution_count=1, outputs=[
        out("stream", name="stdout", text="✗ not yet\n  hint: …"), out("stream", name="stdout", text="\n"),
        out("stream", name="stderr", text="warning\n"), out("stream", name="stdout", text="after\n"),
        out("execute_result", data={"text/plain": "1"}, execution_count=1), out("stream", name="stdout", text="x")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    clean_notebook(path)
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [(o.output_type, o.get("name"), o.get("text")) for o in outputs] == [
        ("stream", "stdout", "✗ not yet\n  hint: …\n"), ("stream", "stderr", "warning\n"),
        ("stream", "stdout", "after\n"), ("execute_result", None, None), ("stream", "stdout", "x")]
