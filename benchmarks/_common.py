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


def speed_probe_ms() -> float:
    """How fast this shared machine runs Python right now: the best of 5 runs of a fixed loop, in ms (the
    host lends these 2 cores to others too: on 2026-12-02 such a loop took 1.0 to 1.8 times its fastest)."""
    def once() -> float:
        start, total = time.perf_counter(), 0
        for i in range(1_000_000):
            total += i
        return (time.perf_counter() - start) * 1000
    return round(min(once() for _ in range(5)), 1)


def save_section(name: str, data: dict) -> None:
    """Merge one section's measurements into docs/bench/results.json (with when, where, the load and the
    speed probe)."""
    results = load_results()
    results[name] = {**data, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_after": loadavg(),
                     "probe_ms_after": speed_probe_ms(), "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def pytest_summary(output: str) -> str:
    """pytest's closing line (`N passed in …`) from a run's output; the last line may be make's own."""
    return next((line for line in reversed(output.splitlines()) if " passed" in line or " failed" in line), "")


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


def peak_rss_mib(pid: int, field: str = "VmHWM") -> float | None:
    """VmHWM (peak resident set) of a live process, in MiB; `field="VmRSS"`: its resident set now."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def oci_profile(directory: Path) -> Path:
    """A throw-away OCI config file + RSA key (profile DEFAULT), for the clients that must sign (Locus)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = directory / "key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    config = directory / "config"
    config.write_text("[DEFAULT]\nuser=ocid1.user.oc1..aaaaaaaabench\nfingerprint=0a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:"
                      "c6:d7:e8:f9\ntenancy=ocid1.tenancy.oc1..aaaaaaaabench\nregion=us-chicago-1\n"
                      f"key_file={key_file}\n")
    return config


def locus_model(url: str, config: Path, *, store: bool = False, metadata: dict | None = None):
    """Oracle's Locus `OCIResponsesModel` (PyPI locus-sdk) pointed at `url`, signing with `config`.

    Locus passes no `metadata` through; with `metadata` given, its request-body builder is wrapped to
    add it (the harness's only change: the mock needs it to stream N deltas)."""
    from locus.models.providers.oci import responses as locus_responses

    if metadata is not None and not getattr(locus_responses.build_request_body, "_bench", False):
        original = locus_responses.build_request_body

        def build_request_body(*args, **kwargs):
            return {**original(*args, **kwargs), "metadata": metadata}

        build_request_body._bench = True
        locus_responses.build_request_body = build_request_body
    return locus_responses.OCIResponsesModel(model=MODEL, profile="DEFAULT", region="us-chicago-1",
                                             compartment_id=COMPARTMENT, store=store, base_url=url,
                                             config_file=str(config))


_KERNEL = """
import time
t0 = time.perf_counter()
from jupyter_client import KernelManager
km = KernelManager(kernel_name="python3")
km.start_kernel()
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=120)
kc.execute_interactive("import locus_nb", timeout=120)
print(time.perf_counter() - t0)
kc.stop_channels(); km.shutdown_kernel(now=True)
"""


def kernel_first_cell(python: str | Path, env: dict | None = None) -> float:
    """Seconds from starting a kernel (of `python`'s environment) to its first cell (`import locus_nb`) done."""
    r = subprocess.run([str(python), "-c", _KERNEL], env=env, check=True, capture_output=True, text=True)
    return float(r.stdout.strip().splitlines()[-1])
