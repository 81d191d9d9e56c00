"""Which cassettes a record run writes and a replay finds: names with no volatile value, parameters noted in the
header, every recorded set replayed with no parameter repeated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from locus_nb import ConfigError
from locus_nb.cli import main
from locus_nb.runs._cassettes import note_parameters, recorded, replayed_sets
from locus_nb.runs._matrix import label, naming_parameters, parameter_sets

FIXTURES = Path(__file__).parents[1] / "fixtures"
CASSETTES = FIXTURES / "runs" / "cassettes"
PARAMS_NB = FIXTURES / "notebooks" / "params.ipynb"
URL = "http://127.0.0.1:41234/openai/v1"
OCID = "ocid1.compartment.oc1..aaaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4a7nla"


@pytest.mark.parametrize("pairs, store, named", [
    ([f"endpoint={URL}", "profile=TEST", f"compartment={OCID}"], "both", [{"store": False}, {"store": True}]),
    (["region=us-chicago-1", "region=eu-frankfurt-1"], "true",
     [{"region": "us-chicago-1", "store": True}, {"region": "eu-frankfurt-1", "store": True}]),
    (["model_id=a", "model_id=b", "project=ocid1.x"], None, [{"model_id": "a"}, {"model_id": "b"}]),
])
def test_file_names_leave_out_the_connection_parameters_every_set_shares(pairs, store, named):
    assert naming_parameters(parameter_sets(pairs, store)) == named


def test_test_names_never_carry_where_a_run_connected():
    assert label("notebooks/02_stored.ipynb", {"endpoint": URL, "profile": "TEST", "store": True}) == \
        "02_stored[store=True]"
    assert label("notebooks/01_stateless.ipynb", {"region": "eu-frankfurt-1"}) == "01_stateless"


def test_recording_several_targets_into_one_folder_is_refused_before_any_kernel(tmp_path):
    with pytest.raises(SystemExit, match=r"-p region=… names several targets; .* its own --record folder"):
        main(["run", "--no-progress", "--record", str(tmp_path), "-p", "region=a", "-p", "region=b",
              "--out", str(tmp_path / "out"), str(PARAMS_NB)])


def test_a_record_run_notes_the_parameters_that_made_a_cassette_without_where_it_connected(tmp_path):
    cassette = tmp_path / "02_stored.store-True.jsonl"
    exchange = '{"exchange": 1, "request": {}, "response": {}}\n'
    cassette.write_text(json.dumps({"cassette": 1, "name": cassette.stem}) + "\n" + exchange)
    note_parameters(cassette, {"endpoint": URL, "profile": "TEST", "compartment": OCID, "store": True})
    header, rest = cassette.read_text().split("\n", 1)
    assert json.loads(header) == {"cassette": 1, "name": cassette.stem, "parameters": {"store": True}}
    assert rest == exchange
    note_parameters(tmp_path / "none.jsonl", {"store": True})  # a run that wrote no cassette: nothing to note
    assert not (tmp_path / "none.jsonl").exists()


def test_a_replay_finds_every_set_recorded_for_a_notebook():
    assert recorded(CASSETTES, Path("notebooks/01_stateless.ipynb")) == [
        (CASSETTES / "01_stateless.store-False.jsonl", {"store": False}),
        (CASSETTES / "01_stateless.store-True.jsonl", {"store": True})]
    assert recorded(CASSETTES, Path("notebooks/02_stored.ipynb")) == [(CASSETTES / "02_stored.jsonl", None)]


@pytest.mark.parametrize("pairs, store, stems", [
    ([], None, ["01_stateless.store-False", "01_stateless.store-True"]),
    ([f"endpoint={URL}", "profile=TEST"], None, ["01_stateless.store-False", "01_stateless.store-True"]),  # ignored
    ([], "true", ["01_stateless.store-True"]),
    (["store=False"], None, ["01_stateless.store-False"]),
    ([], "both", ["01_stateless.store-False", "01_stateless.store-True"]),
])
def test_parameters_given_to_a_replay_pick_the_recorded_sets_that_match(pairs, store, stems):
    chosen = replayed_sets(CASSETTES, Path("notebooks/01_stateless.ipynb"), parameter_sets(pairs, store))
    assert [path.stem for path, _ in chosen] == stems
    assert all(params == {"store": path.stem.endswith("True")} for path, params in chosen)


def test_an_older_cassette_is_matched_on_its_recorded_connection_and_replayed_with_no_parameters():
    nb = Path("notebooks/02_stored.ipynb")
    assert replayed_sets(CASSETTES, nb, parameter_sets([], "true")) == [(CASSETTES / "02_stored.jsonl", {})]
    with pytest.raises(ConfigError, match=r"no cassette for 02_stored\.ipynb matching store=False in .*cassettes "
                                          r"\(it holds: 01_stateless\.store-False\.jsonl, 01_stateless\.store-True"
                                          r"\.jsonl, 02_stored\.jsonl\)"):
        replayed_sets(CASSETTES, nb, parameter_sets([], "false"))


def test_a_replay_with_nothing_for_a_notebook_says_what_the_folder_holds(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCUS_NB_TARGET", "mock")  # --replay clears it: this session's is given back afterwards
    shutil.copytree(CASSETTES, tmp_path / "cassettes")
    with pytest.raises(SystemExit, match=r"no cassette for params\.ipynb in .*cassettes \(it holds: "
                                         r"01_stateless\.store-False\.jsonl, .*02_stored\.jsonl\); record it"):
        main(["run", "--no-progress", "--replay", str(tmp_path / "cassettes"), "--out", str(tmp_path / "out"),
              str(PARAMS_NB)])


def test_a_recorded_parameter_the_notebook_no_longer_declares_stops_the_replay_before_any_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCUS_NB_TARGET", "mock")  # --replay clears it: this session's is given back afterwards
    header = {"cassette": 1, "name": "params.store-True", "parameters": {"store": True, "temprature": "0.2"}}
    (tmp_path / "params.store-True.jsonl").write_text(json.dumps(header) + "\n")
    with pytest.raises(SystemExit, match=r"params\.ipynb has no parameter 'temprature'; its parameters: store, region"):
        main(["run", "--no-progress", "--replay", str(tmp_path), "--out", str(tmp_path / "out"), str(PARAMS_NB)])


def test_a_recording_of_one_parameter_set_is_named_after_it_too(tmp_path):
    from locus_nb.runs._runs import _jobs

    jobs = _jobs([PARAMS_NB], [{"region": "eu-frankfurt-1", "store": "true"}], tmp_path / "out", in_place=False, timeout=60,
                 record=tmp_path / "cassettes", replay=None, mock=False)
    assert [(Path(j.output).name, Path(j.cassette).name) for j in jobs] == [("params.store-true.ipynb",
                                                                               "params.store-true.jsonl")]
