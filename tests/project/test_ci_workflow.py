"""docs/ci/: the GitHub Actions workflow passes actionlint, and every `locus-nb` command in it and in the GitLab
note is one the CLI takes; pull requests need no secret, and no secret is ever printed."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from locus_nb.cli._main import parser

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / "docs" / "ci" / "github-actions.yml"
GITLAB = ROOT / "docs" / "ci" / "gitlab-ci.md"


def _steps(job: str) -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]


def _commands(text: str) -> list[list[str]]:
    """Each `locus-nb …` command, with CI expressions and variables filled in as CI would."""
    text = re.sub(r"\$\{\{\s*matrix\.shard\s*\}\}", "1", text.replace(">-\n", ""))
    text = text.replace('"$CI_NODE_INDEX/$CI_NODE_TOTAL"', "1/2").replace("$CI_NODE_INDEX", "1")
    joined = re.sub(r"\n\s+(?=--)", " ", text)  # a folded command's continuation lines
    return [shlex.split(line.split("locus-nb", 1)[1]) for line in joined.splitlines()
            if re.search(r"\.venv/bin/locus-nb (run|summary|doctor)\b", line)]


@pytest.mark.e2e
def test_actionlint_passes_the_github_workflow():
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert actionlint, "actionlint is installed with the dev extra (make .venv/.installed)"
    done = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", [WORKFLOW, GITLAB], ids=lambda p: p.name)
def test_every_locus_nb_command_in_the_ci_docs_is_one_the_cli_takes(path):
    commands = _commands(path.read_text())
    assert len(commands) >= 2
    for argv in commands:
        args = parser().parse_args(argv)  # SystemExit on an unknown flag or a bad value
        if args.command == "run" and args.replay is None and args.edition != "instructor":  # the live matrix
            assert args.shard and args.retries and args.store == "both", argv


def test_pull_requests_replay_with_no_secret_and_the_live_jobs_are_sharded_and_report():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    replay = yaml.safe_dump(workflow["jobs"]["replay"])
    assert "secrets." not in replay and "--replay cassettes" in replay
    assert workflow["jobs"]["live"]["strategy"]["matrix"]["shard"] == [1, 2]
    merge = yaml.safe_dump(workflow["jobs"]["live-report"])
    assert "locus-nb summary out/shards/live-1 out/shards/live-2 --out out/live" in merge
    for job in ("replay", "live-report"):
        uses = {step.get("uses", "").split("@")[0]: step.get("with", {}) for step in _steps(job)}
        assert uses["mikepenz/action-junit-report"]["report_paths"].endswith("junit.xml")
        assert "actions/upload-artifact" in uses


def test_the_oci_key_is_written_private_and_no_secret_is_ever_printed():
    script = next(s["run"] for s in _steps("live") if s.get("name", "").startswith("OCI config and key"))
    assert script.startswith("umask 077\n")
    secret_vars = {name for name, value in next(s for s in _steps("live") if s.get("run") == script)["env"].items()
                   if "secrets." in value}
    assert secret_vars >= {"OCI_API_KEY_PEM", "OCI_USER_OCID"}
    for line in script.splitlines():
        if any(f"${name}" in line for name in secret_vars):
            assert re.search(r">>? \"\$RUNNER_TEMP/oci/(key\.pem|config)\"$", line) or line.strip().startswith("echo \""), line
    # every echo of a secret goes into the config file's block, which is redirected to the file
    assert re.search(r"\{\n(\s+echo [^\n]*\n)+\s*\} > \"\$RUNNER_TEMP/oci/config\"", script)
    assert not re.search(r"\b(cat|set -x)\b", script)
