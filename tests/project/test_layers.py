"""How the package is put together: modules import each other without cycles, one module reads the
connection variables from the environment and one sets them for the kernels a run starts. And the tests:
no test module imports a heavy test-only package at its top, and the ones that import the openai SDK run
on one pytest-xdist worker."""

from __future__ import annotations

import pytest

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "locus_nb"

# Who may import whom: the library at the top, then a wing per reader (README: "How the package is laid
# out"). A wing is a folder; the library is the flat `locus_nb/_*.py`. The lesson wing starts the embedded
# mock (lazily, in `connect()`); the mock itself stands apart from the client, taking only the cassette
# format, the errors, the masking and the model families from the library.
LIBRARY = "library"
MAY_IMPORT = {
    LIBRARY: {LIBRARY},
    "notebook": {LIBRARY, "notebook", "mock"},
    "runs": {LIBRARY, "notebook", "runs"},
    "cli": {LIBRARY, "notebook", "runs", "cli", "mock"},
    "mock": {"mock"},
}
MOCK_MAY_IMPORT_FROM_THE_LIBRARY = {"locus_nb._cassette", "locus_nb._errors", "locus_nb._redact",
                                    "locus_nb._families"}


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_name(p): p for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1].startswith("_"):
        return LIBRARY
    return {"pytest_replay": "runs"}.get(parts[1], parts[1])  # the plugin's short alias is the runs wing's


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules `path` imports anywhere in its code (function-level imports count too)."""
    here = _name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            for alias in node.names:  # `from . import _scripted` imports a module
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("locus_nb"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("locus_nb")}
    return {name for name in found if name in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        for dep in sorted(graph.get(node, ())):
            if found := visit(dep, [*path, node]):
                return found
        done.add(node)
        return None

    return next((c for c in (visit(n, []) for n in sorted(graph)) if c), None)


def test_no_import_cycle_anywhere_in_the_package():
    """A package's `__init__` re-exporting its own modules is no cycle: those edges are left out."""
    graph = {name: {dep for dep in deps if not name.startswith(dep + ".") and dep != name.rpartition(".")[0]}
             for name, deps in _graph().items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_each_layer_imports_only_what_the_table_allows():
    wrong = []
    for name, deps in _graph().items():
        if name == "locus_nb":  # the package's front door re-exports the lesson helpers
            continue
        layer = _layer(name)
        for dep in deps:
            allowed = _layer(dep) in MAY_IMPORT[layer] or (layer == "mock" and dep in MOCK_MAY_IMPORT_FROM_THE_LIBRARY)
            if not allowed:
                wrong.append(f"{name} ({layer}) imports {dep} ({_layer(dep)})")
    assert wrong == []


def test_the_layout_is_the_one_the_readme_describes():
    layers = {_layer(name) for name in _modules()}
    assert layers == set(MAY_IMPORT)
    assert (PACKAGE / "cli" / "__main__.py").is_file()


def test_the_tests_are_laid_out_like_the_package():
    """Library tests in tests/, a folder per wing, and the repository-wide checks in tests/project/."""
    tests = Path(__file__).parents[1]
    wings = {layer for layer in MAY_IMPORT if layer != LIBRARY}
    folders = {p.name for p in tests.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert folders == wings | {"project"}
    assert all(any((tests / wing).glob("test_*.py")) for wing in wings)


def test_the_client_does_not_import_the_notebook_settings():
    assert not any(dep.startswith("locus_nb.notebook") for dep in _graph()["locus_nb._model"])
    assert not any(dep.startswith("locus_nb.notebook") for dep in _graph()["locus_nb._auth"])


def test_one_module_reads_the_environment_and_one_sets_it_for_kernels():
    """`_environment` reads the connection variables (`ENV_VARS`); `runs/_kernels` sets the variables of the
    kernels a run starts; the CLI only sets a kernel's cell name (`IPYKERNEL_CELL_NAME`). No other module
    mentions `os.environ` or `os.getenv`."""
    from locus_nb.notebook._settings import ENV_VARS

    mentions = set()
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            uses = (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "getenvb")
                    and isinstance(node.value, ast.Name) and node.value.id == "os")
            uses = uses or (isinstance(node, ast.ImportFrom) and node.module == "os"
                            and any(a.name in ("environ", "getenv") for a in node.names))
            if uses and not (path.parent.name == "cli" and "IPYKERNEL_CELL_NAME" in lines[node.lineno - 1]):
                mentions.add(str(path.relative_to(PACKAGE)))
    assert mentions == {"_environment.py", "runs/_kernels.py"}
    assert "OCI_REGION" in ENV_VARS and "OCI_CONFIG_FILE" in ENV_VARS


@pytest.mark.e2e
def test_the_command_and_its_workers_read_notebooks_without_building_the_iri_grammar():
    """`skip_iri_grammar` (the CLI, the run workers): nbformat still reads and validates a lesson, and the
    ~2 s `rfc3987_syntax` import never happens; where it is loaded already it stays."""
    import subprocess
    import sys

    lesson = PACKAGE.parent / "notebooks" / "01_stateless.ipynb"
    code = ("import sys; from locus_nb.runs._lean import skip_iri_grammar; skip_iri_grammar(); import nbformat; "
            f"nbformat.validate(nbformat.read({str(lesson)!r}, as_version=4)); print(sys.modules['rfc3987_syntax'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "None"

    from locus_nb.runs._lean import skip_iri_grammar

    loaded = sys.modules.get("rfc3987_syntax")
    skip_iri_grammar()
    assert sys.modules.get("rfc3987_syntax") is loaded


def test_no_test_module_imports_a_heavy_test_package_at_its_top():
    from ..conftest import IMPORTED_WHERE_USED

    tests = Path(__file__).parents[1]
    found = []
    for path in [tests.parent / "conftest.py", *tests.rglob("*.py")]:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n.partition(".")[0] in IMPORTED_WHERE_USED]
    assert found == []


def test_the_test_modules_that_import_the_openai_sdk_are_one_unit_of_work():
    from ..work_units import openai_modules, work_unit

    modules = openai_modules()
    assert {"tests/mock/test_openai_sdk.py", "tests/mock/test_conformance.py", "tests/test_cassette.py"} <= modules
    assert len({work_unit(f"{module}::test_x") for module in modules}) == 1
    assert work_unit("tests/runs/test_runs.py::test_x[a]") == "tests/runs/test_runs.py"
    assert work_unit("tests/test_agent.py::TestLoop::test_x") == "tests/test_agent.py::TestLoop"
