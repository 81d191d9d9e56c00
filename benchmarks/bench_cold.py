"""Cold paths with the venv already built: `import locus_nb`, a kernel's start to its first cell done,
each notebook's run (`locus-nb run --mock`, one notebook per process, as `make demo` runs them, with
its default token pacing), and `make test`."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, kernel_first_cell, pytest_summary, spread, timed  # noqa: E402


def run(repeats: int = 7, notebook_repeats: int = 2, make_test: bool = True) -> dict:
    python = sys.executable
    out: dict = {
        "bare interpreter": spread([timed([python, "-c", "pass"]) for _ in range(repeats)]),
        "import locus_nb": spread([timed([python, "-c", "import locus_nb"]) for _ in range(repeats)]),
        "kernel start → first cell done": spread([kernel_first_cell(python) for _ in range(max(3, repeats // 2))]),
    }
    locus_nb_cli = str(Path(python).with_name("locus-nb"))
    notebooks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for nb in sorted((ROOT / "notebooks").glob("0*.ipynb")):
            notebooks[nb.name] = spread([timed([locus_nb_cli, "run", "--mock", "--no-progress", "-j", "1",
                                                "--out", tmp, str(nb)], cwd=ROOT, stdout=subprocess.DEVNULL)
                                         for _ in range(notebook_repeats)])
    out["notebooks"] = notebooks
    if make_test:
        start = time.perf_counter()
        r = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True)
        out["make test"] = {"seconds": time.perf_counter() - start, "passed": r.returncode == 0,
                            "summary": pytest_summary(r.stdout)}
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(repeats=3, notebook_repeats=1, make_test=False), indent=1))
