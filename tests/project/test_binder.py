"""The repository builds with repo2docker (Binder, Zero to JupyterHub) as it is.

`jupyter-repo2docker --no-build --debug` on a clean clone prints the Dockerfile it would build
(no container engine needed); the checks read it. `binder/postBuild` and `binder/start` run here too,
outside a container, as the image would run them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A clean clone of the committed repository (what Binder fetches)."""
    dest = tmp_path_factory.mktemp("binder") / "repo"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest)], check=True, timeout=120)
    return dest


@pytest.fixture(scope="module")
def plan(clone, tmp_path_factory) -> tuple[str, str]:
    """(Dockerfile, log) of `jupyter-repo2docker --no-build --debug` on the clone."""
    cwd = tmp_path_factory.mktemp("r2d")  # no repo2docker_config.py is picked up from here
    result = subprocess.run([str(BIN / "jupyter-repo2docker"), "--no-build", "--debug", str(clone)], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def _index(lines: list[str], pattern: str) -> int:
    found = [n for n, line in enumerate(lines) if re.search(pattern, line)]
    assert found, f"no line matches {pattern!r}"
    return found[0]


@pytest.mark.e2e
def test_the_binder_folder_is_the_configuration_and_the_python_fits(plan):
    dockerfile, log = plan
    python = re.search(r"Building conda environment for python=(\d+\.\d+)", log).group(1)
    assert python in SpecifierSet(PROJECT["requires-python"])
    conda_python = next(d for d in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
                        if isinstance(d, str) and d.startswith("python"))
    assert python in SpecifierSet(conda_python.removeprefix("python"))
    # binder/ wins over the top-level environment.yml (kept for conda users): not a line of the build uses it
    assert "environment.yml" not in dockerfile.replace("environment.py-", "")


@pytest.mark.e2e
def test_the_package_is_installed_after_the_repository_is_copied(plan, clone):
    lines = plan[0].splitlines()
    copy = _index(lines, r"^COPY --chown=\S+ src/ \$\{REPO_DIR\}/$")
    workdir = _index(lines, r"^WORKDIR \$\{REPO_DIR\}$")
    install = _index(lines, r'^RUN \$\{KERNEL_PYTHON_PREFIX\}/bin/pip install --no-cache-dir -r "binder/requirements.txt"$')
    assert workdir < copy < install  # pip runs in the copied repository: `.` in the file is the repository
    requirements = [line.strip() for line in (clone / "binder/requirements.txt").read_text().splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    assert requirements == ["."]
    named = tomllib.loads((clone / "pyproject.toml").read_text())["project"]
    assert named["name"] == "locus-nb" and named["dependencies"] == PROJECT["dependencies"]


def test_installing_the_repository_brings_the_dependencies_pyproject_declares():
    # `pip install .` installs the package with the metadata built from pyproject.toml: as installed here
    # (the same build), its requirements are exactly [project.dependencies], ipywidgets >= 8 among them
    # (its JupyterLab extension ships in the wheel), no dev extra.
    requires = [Requirement(r) for r in importlib.metadata.requires("locus-nb")]
    runtime = sorted(str(r) for r in requires if not r.marker)
    assert runtime == sorted(str(Requirement(d)) for d in PROJECT["dependencies"])
    widgets = next(r for r in requires if r.name == "ipywidgets")
    assert not widgets.specifier.contains("7.9") and widgets.specifier.contains("8.1.5")


@pytest.mark.e2e
def test_jupyterlab_comes_with_the_base_environment(plan):
    # the base environment repo2docker installs for this Python (its lock file, in the repo2docker package)
    python = re.search(r"Building conda environment for python=(\d+\.\d+)", plan[1]).group(1)
    package = Path(importlib.util.find_spec("repo2docker").origin).parent  # found, not imported
    lock = package / "buildpacks/conda" / f"environment.py-{python}-linux-64.lock"
    assert f"environment.py-{python}-linux-64.lock" in plan[0].replace("-2e", ".").replace("-2d", "-")
    assert re.search(r"/jupyterlab-4\.", lock.read_text()), "JupyterLab 4 in repo2docker's base environment"


@pytest.mark.e2e
def test_post_build_and_start_are_wired_in(plan):
    lines = plan[0].splitlines()
    install = _index(lines, r"pip install --no-cache-dir -r \"binder/requirements.txt\"")
    post_build = _index(lines, r"^RUN \./binder/postBuild$")
    assert install < post_build
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in lines


@pytest.mark.e2e
def test_post_build_passes_where_the_package_and_the_widgets_extension_are_installed(clone, tmp_path):
    env = {"PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(clone / "binder/postBuild")], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "locus-nb, ipywidgets and its JupyterLab extension are in place" in result.stdout


@pytest.mark.e2e
def test_post_build_fails_the_build_where_the_widgets_extension_is_disabled(clone, tmp_path):
    """As `jupyter labextension disable @jupyter-widgets/jupyterlab-manager` leaves it, here in the user's config."""
    labconfig = tmp_path / ".jupyter" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text('{"disabledExtensions": {"@jupyter-widgets/jupyterlab-manager": true}}')
    env = {"PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(clone / "binder/postBuild")], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "the ipywidgets JupyterLab extension is not enabled" in result.stderr


@pytest.mark.e2e
def test_post_build_fails_the_build_without_the_package(clone, tmp_path):
    python = shutil.which("python3", path="/usr/bin:/bin")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").symlink_to(python)  # a Python without locus_nb
    env = {"PATH": f"{fake}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(clone / "binder/postBuild")], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "locus_nb" in result.stderr


def _start(clone: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(clone / "binder/start"), *command], cwd=clone,
                          env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.e2e
def test_start_execs_the_command_with_the_hubs_variables_and_lab_on_the_notebooks(clone):
    hub = {"OCI_PROFILE": "WORKSHOP", "OCI_REGION": "eu-frankfurt-1", "OCI_GENAI_API_KEY": "sk-room-key",
           "OCI_COMPARTMENT": "ocid1.compartment.oc1..aaaaaaaaroom"}
    shown = _start(clone, hub, "env")
    assert shown.returncode == 0, shown.stderr
    env = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
    assert {k: env.get(k) for k in hub} == hub  # passed through untouched
    assert env["JUPYTERHUB_DEFAULT_URL"] == "/lab/tree/notebooks"
    # exec: the command replaces the script (same process), so signals reach the server directly
    probe = subprocess.Popen([str(clone / "binder/start"), "sh", "-c", "echo $$"], cwd=clone,
                             env={"PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE, text=True)
    out, _ = probe.communicate(timeout=60)
    assert int(out.strip()) == probe.pid
    # a hub's own default URL wins; the command's exit status is the script's
    kept = _start(clone, {"JUPYTERHUB_DEFAULT_URL": "/lab/tree/notebooks/01_stateless.ipynb"}, "sh", "-c",
                  'echo "$JUPYTERHUB_DEFAULT_URL"; exit 3')
    assert kept.returncode == 3 and kept.stdout.strip() == "/lab/tree/notebooks/01_stateless.ipynb"


@pytest.mark.e2e
def test_with_no_oci_settings_a_notebook_in_the_image_connects_to_the_embedded_mock(clone, tmp_path):
    # the image's kernel, as start leaves it: no OCI variable → connect() picks the embedded mock
    code = "from locus_nb import connect; c = connect(); print(c.target, c.model_id)"
    result = _start(clone, {"HOME": str(tmp_path)}, str(BIN / "python"), "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["mock", "openai.gpt-4.1"]
    # ... by asking for it by name; a target the hub sets, even an empty one, is left to connect()
    asks = _start(clone, {"HOME": str(tmp_path)}, "sh", "-c", 'echo "${LOCUS_NB_TARGET-unset}"')
    assert asks.stdout.strip() == "mock"
    empty = _start(clone, {"HOME": str(tmp_path), "OCI_PROFILE": ""}, str(BIN / "python"), "-c", code)
    assert empty.returncode != 0 and "OCI_PROFILE is set but empty" in empty.stderr
    with_key = _start(clone, {"HOME": str(tmp_path), "OCI_GENAI_API_KEY": "sk-room-key",
                              "OCI_COMPARTMENT": "ocid1.compartment.oc1..aaaaaaaaroomcompartment0001"},
                      str(BIN / "python"), "-c", code.replace("c.model_id", "c.where"))
    assert with_key.returncode == 0, with_key.stderr
    assert with_key.stdout.startswith("oci OCI Generative AI in us-chicago-1 with a GenAI API key")
