"""How the package is put together: modules import each other without cycles, and one module reads
the connection variables from the environment. And the tests: no test module imports a heavy test-only
package at its top, and the ones that import the openai SDK run on one pytest-xdist worker."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "locus_nb"


def _imports(path: Path) -> set[str]:
    """The package modules `path` imports anywhere in its code (function-level imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])  # `from .mock._server import …` is the mock package
    return found


def _graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return {name: _imports(path) & set(modules) for name, path in modules.items()}


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


def test_the_modules_import_each_other_without_a_cycle():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


def test_the_client_does_not_import_the_notebook_settings():
    assert "_settings" not in _graph()["_model"]
    assert "_settings" not in _graph()["_auth"]


def test_only_the_environment_module_reads_the_environment():
    """`_environment` reads the connection variables (`ENV_VARS`); the CLI only sets a kernel's cell name."""
    from locus_nb._settings import ENV_VARS

    readers = set()
    for path in PACKAGE.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            uses = (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
                    and isinstance(node.value, ast.Name) and node.value.id == "os")
            if uses and "IPYKERNEL_CELL_NAME" not in lines[node.lineno - 1]:
                readers.add(path.name)
    assert readers == {"_environment.py"}
    assert "OCI_REGION" in ENV_VARS and "OCI_CONFIG_FILE" in ENV_VARS


def test_the_command_and_its_workers_read_notebooks_without_building_the_iri_grammar():
    """`skip_iri_grammar` (the CLI, the run workers): nbformat still reads and validates a lesson, and the
    ~2 s `rfc3987_syntax` import never happens; where it is loaded already it stays."""
    import subprocess
    import sys

    lesson = PACKAGE.parent / "notebooks" / "01_stateless.ipynb"
    code = ("import sys; from locus_nb._lean import skip_iri_grammar; skip_iri_grammar(); import nbformat; "
            f"nbformat.validate(nbformat.read({str(lesson)!r}, as_version=4)); print(sys.modules['rfc3987_syntax'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "None"

    from locus_nb._lean import skip_iri_grammar

    loaded = sys.modules.get("rfc3987_syntax")
    skip_iri_grammar()
    assert sys.modules.get("rfc3987_syntax") is loaded


def test_no_test_module_imports_a_heavy_test_package_at_its_top():
    from .conftest import IMPORTED_WHERE_USED

    tests = Path(__file__).parent
    found = []
    for path in [tests.parent / "conftest.py", *tests.rglob("*.py")]:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n.partition(".")[0] in IMPORTED_WHERE_USED]
    assert found == []


def test_the_test_modules_that_import_the_openai_sdk_are_one_unit_of_work():
    from .work_units import openai_modules, work_unit

    modules = openai_modules()
    assert {"tests/mock/test_openai_sdk.py", "tests/mock/test_conformance.py", "tests/test_cassette.py"} <= modules
    assert len({work_unit(f"{module}::test_x") for module in modules}) == 1
    assert work_unit("tests/test_runs.py::test_x[a]") == "tests/test_runs.py"
    assert work_unit("tests/test_agent.py::TestLoop::test_x") == "tests/test_agent.py::TestLoop"
