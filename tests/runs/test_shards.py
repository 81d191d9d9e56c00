"""`--shard K/N` slices and `locus-nb summary`'s merge of the slices' reports (no kernel: reports from fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from junitparser import JUnitXml

from locus_nb import ConfigError
from locus_nb.cli import main
from locus_nb.notebook._claims import Claims
from locus_nb.runs._results import RunResult
from locus_nb.runs._shards import merge_results, parse_shard, shard_of
from locus_nb.runs._summary import write_reports
from locus_nb.runs._usage import Usage


@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), unique=True, max_size=60), st.integers(1, 12))
def test_the_shards_are_the_whole_matrix_each_run_once_and_balanced(matrix, n):
    slices = [shard_of(matrix, k, n) for k in range(1, n + 1)]
    assert sorted(run for s in slices for run in s) == sorted(matrix)  # all of it, none twice
    assert max(map(len, slices)) - min(map(len, slices)) <= 1
    assert all(s == sorted(s, key=matrix.index) for s in slices)  # in matrix order
    assert slices == [shard_of(list(matrix), k, n) for k in range(1, n + 1)]  # the same on every machine


@pytest.mark.parametrize("text, shard", [("1/4", (1, 4)), (" 4 / 4 ", (4, 4)), ("1/1", (1, 1))])
def test_a_shard_is_k_of_n(text, shard):
    assert parse_shard(text) == shard


@pytest.mark.parametrize("text", ["0/4", "5/4", "1", "a/b", "1/0", "", "-1/2"])
def test_a_bad_shard_says_what_it_takes(text):
    with pytest.raises(ConfigError, match=r"--shard takes K/N with 1 ≤ K ≤ N"):
        parse_shard(text)


def _run(folder: Path, notebook: str, store: bool, ok: bool = True, tokens: int = 100) -> RunResult:
    output = folder / f"{notebook}.store-{store}.ipynb"
    claims = Claims(held=("a claim",), stated=((True, "a claim"),))
    return RunResult(f"notebooks/{notebook}.ipynb", {"store": store}, str(output), ok, 2.0,
                     "" if ok else "cell [3]: ServerError: [500] boom", claims, "live", None, "the mock",
                     (Usage(model="openai.gpt-4.1", requests=1, input_tokens=tokens, output_tokens=10),))


def _shards(tmp_path: Path, n: int = 2) -> list[Path]:
    matrix = [(nb, s) for nb in ("01_stateless", "02_stored", "03_tool_roundtrip") for s in (False, True)]
    folders = []
    for k in range(1, n + 1):
        folder = tmp_path / f"shard-{k}"
        runs = [_run(folder, nb, s, ok=(nb, s) != ("02_stored", True)) for nb, s in shard_of(matrix, k, n)]
        write_reports(runs, folder, seconds=10.0 * k, workers=2, shard=f"{k}/{n}")
        folders.append(folder)
    return folders


def test_locus_nb_summary_merges_the_shards_reports_into_one(tmp_path):
    folders = _shards(tmp_path)
    out = tmp_path / "merged"
    assert main(["summary", *map(str, folders), "--out", str(out)]) == 1  # one run failed
    facts = json.loads((out / "summary.json").read_text())
    assert [r["name"] for r in facts["results"]] == [f"{nb}[store={s}]" for nb in ("01_stateless", "02_stored",
                                                     "03_tool_roundtrip") for s in (False, True)]
    assert (facts["runs"], facts["ok"], facts["failed"], facts["seconds"], facts["workers"]) == (6, 5, 1, 20.0, 4)
    assert facts["usage"]["input_tokens"] == 600 and facts["usage"]["requests"] == 6
    assert facts["results"][0]["executed"] == "../shard-1/01_stateless.store-False.ipynb"
    suites = [s.name for s in JUnitXml.fromfile(str(out / "junit.xml"))]
    assert suites == [r["name"] for r in facts["results"]]
    text = (out / "SUMMARY.md").read_text()
    assert "3 notebook(s) × 2 parameter set(s) = 6 run(s) on 4 worker(s): **5 ok, 1 failed** in 20.0 s." in text
    assert "[01_stateless.store-False.ipynb](../shard-1/01_stateless.store-False.ipynb)" in text


def test_a_merge_with_a_shard_missing_or_twice_is_refused(tmp_path):
    folders = _shards(tmp_path, n=3)
    with pytest.raises(ConfigError, match=r"shard\(s\) 2/3 missing: merge the folders of every slice"):
        merge_results([folders[0], folders[2]])
    with pytest.raises(ConfigError, match=r"01_stateless\[store=False\] is in both .*shard-1 and .*shard-1"):
        merge_results([folders[0], folders[0]])


def test_a_folder_without_a_summary_says_so(tmp_path):
    with pytest.raises(SystemExit, match=r"locus-nb summary: .*summary\.json: cannot read it .*is .* the --out of a "
                                         r"`locus-nb run`\?"):
        main(["summary", str(tmp_path), "--out", str(tmp_path / "merged")])
