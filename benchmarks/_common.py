"""Shared by the benchmark sections: the machine, the results file, timing helpers, the mock in its own process."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "bench" / "results.json"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaabenchmark"
MODEL = "openai.gpt-4.1"
HEADERS = {"opc-compartment-id": COMPARTMENT}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?") if Path("/proc/cpuinfo").exists() else "?"
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0) if Path("/proc/meminfo").exists() else 0
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem / 2**20, 1),
            "python": platform.python_version(), "platform": platform.platform(), "load": loadavg()}


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def load_results() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def save_section(name: str, data: dict) -> None:
    """Merge one section's measurements into docs/bench/results.json (with when, where and the load)."""
    results = load_results()
    results[name] = {**data, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_after": loadavg(),
                     "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def spread(values: list[float]) -> dict:
    """Median and spread of repeated measurements."""
    values = sorted(values)
    return {"median": statistics.median(values), "min": values[0], "max": values[-1], "n": len(values)}


def timed(cmd: list[str] | str, **kw) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, **kw)
    return time.perf_counter() - start


def start_mock(*args: str) -> tuple[subprocess.Popen, str]:
    """`locus-nb mock` in its own process (no shared GIL with the client); (process, base URL)."""
    proc = subprocess.Popen([sys.executable, "-m", "locus_nb.cli", "mock", "--port", "0", *args],
                            stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("the mock did not start")
    for _ in range(200):  # the URL is printed before uvicorn accepts
        try:
            httpx.get(url.rsplit("/openai", 1)[0] + "/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return proc, url


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
