"""Setup speed on a fresh clone: `make demo` with uv against a plain `pip install -e '.[dev]'`.

    .venv/bin/python benchmarks/run.py --setup      (or this file directly; needs PyPI, ~9 min)

In one run, one after the other on the same machine, from fresh clones of this repository's HEAD
(commit first): (a) the plain pip install alone (`python -m venv`, then `pip install --no-cache-dir
-e '.[dev]'`, as the Makefile did before); (b) the whole `make demo` (venv, uv install with an empty
uv cache, the four notebooks); (c) `make test` after it — (b) and (c) on two fresh clones, each with
its own empty uv cache; (d) `make .venv/.installed` alone on another clone (empty uv cache). Then
first-use costs in the pip venv (bytecode precompiled at install, today) and in the uv venv without
any bytecode (every `__pycache__` removed before each run) and with the bytecode Python wrote lazily:
`python -c "import locus_nb"` and a kernel's start to its first cell done.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (ROOT, kernel_first_cell, loadavg, pytest_summary, save_section, speed_probe_ms,  # noqa: E402
                     spread, timed)

DEMO_CLONES = ("demo", "demo2")


def clear_bytecode(*dirs: Path) -> None:
    for d in dirs:
        for cache in d.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)


def first_use(venvs: dict[str, tuple[Path, tuple[Path, ...]]], repeats: int) -> dict:
    """Per venv (its python, and what to clear so that it has no bytecode each run): median/spread of
    `import locus_nb` and kernel start → first cell done. Interleaved: each round runs every venv once,
    in order, so drift in a shared machine's load hits all alike; a venv listed after one that clears
    the same files runs on the bytecode that run wrote (lazily, as Python does)."""
    out = {name: {"import": [], "kernel": []} for name in venvs}
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("PYTHONDONTWRITEBYTECODE")
    for _ in range(repeats):
        for name, (python, clear) in venvs.items():
            clear_bytecode(*clear)
            out[name]["import"].append(timed([str(python), "-c", "import locus_nb"], env=env))
            clear_bytecode(*clear)
            out[name]["kernel"].append(kernel_first_cell(python, env))
    return {name: {k: spread(v) for k, v in runs.items()} for name, runs in out.items()}


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def main(repeats: int = 5) -> dict:
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    if subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "Makefile", "pyproject.toml"]).returncode:
        print("note: Makefile/pyproject.toml have uncommitted changes; the clones measure HEAD", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="locus-nb-setup-"))
    data: dict = {"commit": head, "load_before": loadavg()}
    try:
        clones = {}
        for name in ("pip", *DEMO_CLONES, "install"):
            clones[name] = tmp / name
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clones[name])], check=True)
        env = {**os.environ, "PIP_NO_CACHE_DIR": "1"}
        env.pop("VIRTUAL_ENV", None)
        print("(a) plain pip install, no pip cache …", flush=True)
        pipvenv = clones["pip"] / ".venv"
        subprocess.run([sys.executable, "-m", "venv", str(pipvenv)], check=True)
        data["pip_install_s"] = timed([str(pipvenv / "bin/python"), "-m", "pip", "install", "--quiet",
                                       "--disable-pip-version-check", "--no-cache-dir", "-e", ".[dev]"],
                                      cwd=clones["pip"], env=env)
        print(f"    {data['pip_install_s']:.1f} s", flush=True)
        # (b) and (c) twice, each on its own fresh clone and empty uv cache: `make test` on these 2 shared
        # cores moves by ±5 % from run to run, and one run said too little against its goal.
        demos, tests, used_uv = [], [], []
        for name in DEMO_CLONES:
            print(f"(b) make demo on a fresh clone ({name}), empty uv cache …", flush=True)
            uvenv = {**env, "UV_CACHE_DIR": str(tmp / f"uv-cache-{name}")}
            demos.append(timed(["make", "demo", f"PYTHON={sys.executable}"], cwd=clones[name], env=uvenv,
                               stdout=subprocess.DEVNULL))
            print(f"    {demos[-1]:.1f} s", flush=True)
            log = (clones[name] / ".venv/pip-install.log").read_text()
            used_uv.append((clones[name] / ".venv/bin/uv").exists() and "installing with pip" not in log)
            print("(c) make test after it …", flush=True)
            probe = speed_probe_ms()
            t = subprocess.run(["bash", "-c", "time -p make test"], cwd=clones[name], env=uvenv, capture_output=True,
                               text=True)
            tests.append({"s": float(t.stderr.rsplit("real", 1)[1].split()[0]), "ok": t.returncode == 0,
                          "tail": pytest_summary(t.stdout), "probe_ms": probe})
            print(f"    {tests[-1]['s']:.1f} s ({'passed' if tests[-1]['ok'] else 'FAILED'})", flush=True)
        data["used_uv"] = all(used_uv)
        data["make_demo_runs_s"] = demos
        data["make_demo_s"] = statistics.median(demos)
        data["make_test_runs_s"] = [t["s"] for t in tests]
        data["make_test_s"] = statistics.median(data["make_test_runs_s"])
        data["make_test_ok"] = all(t["ok"] for t in tests)
        data["make_test_tail"] = [t["tail"] for t in tests]
        data["make_test_probes_ms"] = [t["probe_ms"] for t in tests]
        print("(d) make .venv/.installed alone, empty uv cache …", flush=True)
        data["uv_install_s"] = timed(["make", ".venv/.installed", f"PYTHON={sys.executable}"], cwd=clones["install"],
                                     env={**env, "UV_CACHE_DIR": str(tmp / "uv-cache-install")},
                                     stdout=subprocess.DEVNULL)
        print(f"    {data['uv_install_s']:.1f} s", flush=True)
        uv_site = site_packages(clones["install"] / ".venv")
        data["site_packages_writable"] = os.access(uv_site, os.W_OK)
        data["pyc_after_install"] = sum(1 for _ in uv_site.rglob("*.pyc"))
        print("first use …", flush=True)
        uv_python = clones["install"] / ".venv/bin/python"
        data["first_use"] = first_use({
            "pip venv, bytecode precompiled (before)": (pipvenv / "bin/python", ()),
            "uv venv, no bytecode": (uv_python, (uv_site, clones["install"] / "locus_nb")),
            "uv venv, bytecode written lazily": (uv_python, ()),
        }, repeats)
        data["pyc_after_use"] = sum(1 for _ in uv_site.rglob("*.pyc"))
        data["repeats"] = repeats
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    save_section("setup", data)
    return data


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=1))
