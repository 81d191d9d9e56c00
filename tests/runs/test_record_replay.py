"""The record → replay loop on the lessons: the same cells signed with an OCI API key against a mock that
verifies every signature, recorded to cassettes, then replayed by `locus-nb run --replay` and by nbval with no
network. The signed runs are also where every lesson is checked in both store modes (test_notebooks.py's CLAIMS
and CLAIM_COUNTS). Its own module, the longest: under pytest-xdist (`--dist loadscope`, make test) the others run
beside it on the other workers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from locus_nb.runs._runs import run_notebooks
from locus_nb.notebook._settings import ENV_VARS

from ..cassette_helpers import assert_no_secrets
from ..project.test_notebooks import JOBS, NOTEBOOKS, _outputs, assert_says_what_it_claims


@pytest.fixture(scope="module")
def signed_runs(tmp_path_factory):
    """The OCI code path, unchanged cells, recording: OCI_PROFILE set (an API-key profile with the sample
    key), requests signed and sent to a mock that verifies every signature (401 otherwise), every
    exchange written to a cassette — as `locus-nb run --record` against OCI. The mock is stopped and
    the environment restored before the tests that replay the cassettes run."""
    from locus_nb.mock import MockServer

    from ..conftest import COMPARTMENT, SIGNING, VECTORS

    tmp = tmp_path_factory.mktemp("oci")
    key = tmp / "key.pem"
    key.write_text((SIGNING / "sample_private_key.pem").read_text())
    config = tmp / "config"
    config.write_text(f"[DEFAULT]\nuser={VECTORS['user']}\nfingerprint={VECTORS['fingerprint']}\n"
                      f"tenancy={VECTORS['tenancy']}\nregion=us-chicago-1\nkey_file={key}\n")
    env = {"OCI_PROFILE": "DEFAULT", "OCI_CONFIG_FILE": str(config), "OCI_COMPARTMENT": COMPARTMENT}
    cassettes = tmp / "cassettes"
    with MockServer(public_keys={"*": (SIGNING / "sample_public_key.pem").read_text()}) as mock, \
            pytest.MonkeyPatch.context() as patch:
        patch.delenv("LOCUS_NB_TARGET", raising=False)  # the session asks for the embedded mock; not this run
        for name, value in {**env, "LOCUS_NB_ENDPOINT": mock.base_url}.items():
            patch.setenv(name, value)
        results = run_notebooks(NOTEBOOKS, [{"store": s} for s in (False, True)], tmp / "out", progress=False,
                                jobs=JOBS, record=cassettes)
        requests = list(mock.requests)
    return results, requests, cassettes, [str(key), str(config), COMPARTMENT]


@pytest.mark.e2e
def test_same_cells_run_signed_against_a_verifying_endpoint(signed_runs):
    results, requests, _, _ = signed_runs
    assert len(results) == 2 * len(NOTEBOOKS)
    for result in results:
        assert result.ok, (result.notebook, result.parameters, result.error)
        assert "signed with profile 'DEFAULT'" in _outputs(result.output)[0]
        assert_says_what_it_claims(Path(result.notebook).stem, result.output, result.claims,
                                   stored=result.parameters["store"] is True)
    posts = [r for r in requests if r["method"] == "POST"]
    assert len(posts) > 20 and all(r["headers"]["authorization"].startswith("Signature ") for r in requests)
    assert {r["method"] for r in requests} == {"POST", "GET", "DELETE"}  # conversations, polls, resumes: signed too


@pytest.mark.e2e
def test_a_recorded_run_writes_one_redacted_cassette_per_notebook_and_store_mode(signed_runs):
    results, requests, cassettes, known = signed_runs
    written = sorted(p.name for p in cassettes.glob("*.jsonl"))
    assert written == sorted(f"{nb.stem}.store-{s}.jsonl" for nb in NOTEBOOKS for s in (False, True))
    assert assert_no_secrets(cassettes.glob("*.jsonl"), known) == 8
    exchanges = [line for p in cassettes.glob("*.jsonl") for line in p.read_text().splitlines()
                 if line.startswith('{"exchange": ') and '"request": ' in line]
    assert len(exchanges) == len(requests)  # every exchange, once: polls, resumes and conversation calls too
    text = "\n".join(p.read_text() for p in cassettes.glob("*.jsonl"))
    assert '"opc-compartment-id": "ocid1.compartment.oc1..redacted0001"' in text  # consistent, so it still matches
    assert '"opc-request-id": "redacted-0001"' in text
    assert '"end": "cut", "error": "RemoteProtocolError"' in text and '"end": "closed"' in text
    assert re.search(r'"method": "GET", "path": "/openai/v1/responses/resp_[0-9a-f]+\?stream=true&starting_after=\d+"',
                     text)  # a background stream's resume, with its query
    assert '"method": "DELETE", "path": "/openai/v1/conversations/conv_' in text


@pytest.mark.e2e
def test_locus_nb_run_replays_the_cassettes_with_the_same_claims(signed_runs, tmp_path):
    """`locus-nb run --replay`: no connection variables, no server; the setup cell names the cassette. (One
    lesson, the one with a stored chain and a recorded 400, in both modes: every lesson's replay is nbval's, below.)"""
    results, _, cassettes, _ = signed_runs
    chosen = [nb for nb in NOTEBOOKS if nb.stem == "02_stored"]
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV_VARS:
            patch.delenv(name, raising=False)
        replayed = run_notebooks(chosen, [{"store": s} for s in (False, True)], tmp_path, progress=False,
                                 jobs=JOBS, replay=cassettes)
    recorded = {(r.notebook, r.parameters["store"]): r for r in results}
    for result in replayed:
        assert result.ok, result.error
        assert result.target.startswith(f"Replaying cassette {Path(result.cassette).name} (no network")
        assert result.claims == recorded[(result.notebook, result.parameters["store"])].claims


def _unshare_works() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.e2e
def test_the_recordings_replay_under_nbval_with_no_network(signed_runs):
    """The CI loop's second half: the mock is stopped; nbval re-runs the recorded notebooks in a network
    namespace with only loopback (the kernels' own channels), no connection variables, no
    credentials — each kernel replays its cassette — and every cell's output matches the recording."""
    results, _, cassettes, _ = signed_runs
    recorded = [r.output for r in results]
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    # -p tests.lean_imports, as make test's own processes (tests/lean_imports.py): from the repository's root
    env["PYTHONPATH"] = os.pathsep.join([str(NOTEBOOKS[0].parent.parent), *filter(None, [env.get("PYTHONPATH")])])
    pytest_cmd = [sys.executable, "-m", "pytest", "-p", "tests.lean_imports", "-p", "locus_nb.pytest_replay",
                  "-p", "no:cacheprovider",
                  "--replay-cassettes", str(cassettes), "--nbval", "--nbval-current-env",
                  "--nbval-sanitize-with", str(NOTEBOOKS[0].parent / "sanitize.cfg"), "-q", *recorded]
    if _unshare_works():
        cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *pytest_cmd]
    elif os.environ.get("LOCUS_NB_REPLAY_WITHOUT_UNSHARE") == "1":  # the documented fallback
        cmd = pytest_cmd
    else:
        pytest.fail("replaying with no network needs `unshare -n` (util-linux, as root or with CAP_SYS_ADMIN); run "
                    "make test as root, or set LOCUS_NB_REPLAY_WITHOUT_UNSHARE=1 to replay without the network "
                    "namespace (the replay transport opens no socket either way)")
    done = subprocess.run(cmd, cwd=Path(recorded[0]).parent, env=env, capture_output=True, text=True, timeout=600)
    cells = sum(1 for path in recorded for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(rf"\b{cells} passed\b", done.stdout), done.stdout[-2000:]
