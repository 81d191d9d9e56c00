"""The conda environment and the import-time budget stay in step with pyproject.toml."""

from __future__ import annotations

import pytest

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[2]


def _requirements(specs: list[str]) -> dict[str, str]:
    out = {}
    for spec in specs:
        name, bound = re.match(r"^([A-Za-z0-9_.-]+)\s*(.*)$", spec.strip()).groups()
        out[name.lower().replace("_", "-")] = bound.replace(" ", "")
    return out


def _conda_specs() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = []
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            specs.append(dep)
        else:
            specs += [d for d in dep.get("pip", []) if not d.startswith("-")]
    return specs


def test_environment_yml_lists_every_dependency_with_the_same_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _requirements(project["dependencies"] + project["optional-dependencies"]["dev"])
    conda = _requirements(_conda_specs())
    missing = sorted(set(wanted) - set(conda))
    assert not missing, f"environment.yml lacks {missing}"
    differing = {n: (wanted[n], conda[n]) for n in wanted if wanted[n] != conda[n]}
    assert not differing, f"bounds differ (pyproject, environment.yml): {differing}"


# Imported modules that come with a declared distribution and must not be declared themselves:
# pydantic pins its own pydantic-core release exactly.
_PROVIDED_BY = {"pydantic_core": "pydantic"}


def _imported_top_level_modules() -> set[str]:
    names = set()
    for path in (ROOT / "locus_nb").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.partition(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__", "locus_nb"}


def test_every_imported_package_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(_requirements(project["dependencies"]))
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for module in sorted(_imported_top_level_modules()):
        if module in _PROVIDED_BY:
            assert _PROVIDED_BY[module] in declared, module
            continue
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not names & declared:
            undeclared[module] = sorted(names)
    assert not undeclared, f"imported by locus_nb but not in [project.dependencies]: {undeclared}"


def test_environment_yml_python_matches_requires_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floor = project["requires-python"].removeprefix(">=")
    python = next(s for s in _conda_specs() if s.startswith("python"))
    assert f">={floor}" in python


@pytest.mark.e2e
def test_import_does_not_load_heavy_optional_modules():
    code = "import sys, locus_nb; print(sorted(m for m in ('oci','starlette','uvicorn','ipywidgets','papermill') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.e2e
def test_the_optional_client_parts_load_on_first_use():
    """Checkpoints, conversations and background answers are not loaded by `import locus_nb` (the library's size
    rule counts what it loads), and are there the moment they are used."""
    optional = ("locus_nb._checkpoint", "locus_nb._conversations", "locus_nb._background")
    code = ("import sys, locus_nb; from locus_nb import OCIResponsesModel; loaded = lambda: [m for m in "
            f"{optional!r} if m in sys.modules]; print(loaded()); locus_nb.Conversation; OCIResponsesModel.wait; "
            "from locus_nb import save_checkpoint; print(loaded())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", repr(list(optional))]
