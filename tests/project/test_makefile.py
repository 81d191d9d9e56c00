"""The Makefile's install step, run for real by make, on a stand-in venv whose `python` and `uv` log
what they are asked (no network, no real install): uv when it can be had, else pip with one line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE = """#!/bin/sh
echo "$(basename "$0") $*" >> "$(dirname "$0")/../calls.log"
case "$(basename "$0") $*" in
  *"install --quiet --disable-pip-version-check uv"*) [ -n "$NO_UV" ] && { echo "ERROR: no uv here" >&2; exit 1; } ;;
  *"-e .[dev]"*) [ -n "$BROKEN" ] && { echo "ERROR: the install broke" >&2; exit 1; } ;;
esac
case "$*" in *" uv") cp "$0" "$(dirname "$0")/uv" ;; esac  # `pip install uv` puts a uv next to python
exit 0
"""


@pytest.fixture
def venv(tmp_path):
    if shutil.which("make") is None:
        pytest.fail("make is part of the contract (README): install it")
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(FAKE)
    (bin_dir / "python").chmod(0o755)
    return tmp_path / "venv"


def _install(venv: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    done = subprocess.run(["make", "--no-print-directory", f"VENV={venv}", f"{venv}/.installed"], cwd=ROOT,
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env}, timeout=60)
    log = venv / "calls.log"
    return done, log.read_text().splitlines() if log.exists() else []


@pytest.mark.e2e
def test_uv_installs_the_package_when_it_can_be_had(venv):
    done, calls = _install(venv)
    assert done.returncode == 0, done.stderr
    assert calls[0] == "python -m pip install --quiet --disable-pip-version-check uv"
    assert calls[1].startswith(f"uv pip install --quiet --python {venv}/bin/python -e .[dev]")
    assert "installing with pip" not in done.stdout
    assert (venv / ".installed").exists()


@pytest.mark.e2e
def test_without_uv_pip_installs_and_one_line_says_so(venv):
    done, calls = _install(venv, NO_UV="1")
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stdout.splitlines() if not line.startswith("installing locus-nb")]
    assert said == [f"uv could not be installed (see {venv}/pip-install.log): installing with pip, about a minute"]
    assert calls[-1] == "python -m pip install --quiet --disable-pip-version-check -e .[dev]"
    assert not any(call.startswith("uv ") for call in calls)
    assert (venv / ".installed").exists()


@pytest.mark.e2e
def test_a_failed_install_shows_its_log_and_leaves_no_stamp(venv):
    done, _ = _install(venv, NO_UV="1", BROKEN="1")
    assert done.returncode != 0
    assert "ERROR: the install broke" in done.stdout + done.stderr
    assert not (venv / ".installed").exists()  # the next `make` tries again
