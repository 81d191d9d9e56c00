"""`make reliability`: the adversarial tries, counted, written to docs/RELIABILITY.md.

    .venv/bin/python scripts/reliability.py            # every area, about 3-5 minutes on 2 cores
    .venv/bin/python scripts/reliability.py --quick    # small counts (what tests/project/test_reliability.py runs)

Each area is a list of tries; a try holds when the endpoint, the client or the tooling does what
the standards say it must (a typed `LocusError`, partial text kept, nothing generated twice, no secret
shown, …) and fails otherwise, with the reason. Everything runs on loopback against real
`MockServer`s, bounded in count and time. The report says what held and what did not; a failed
try is a finding, not a crash of this script (the exit status is 1 when any try failed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locus_nb import LocusError, Message, OCIResponsesModel  # noqa: E402
from locus_nb.mock import MockServer  # noqa: E402
from locus_nb.mock._faults import FAULTS  # noqa: E402

COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4a7nla"
HEADERS = {"opc-compartment-id": COMPARTMENT}
MODEL = "openai.gpt-4.1"


@dataclass
class Area:
    name: str
    tries: int = 0
    held: int = 0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def check(self, ok: bool, what: str) -> bool:
        self.tries += 1
        if ok:
            self.held += 1
        else:
            self.failures.append(what)
        return ok


def _model(base_url: str, *, store: bool, **kw) -> OCIResponsesModel:
    return OCIResponsesModel(MODEL, base_url=base_url, auth="none", compartment_id=COMPARTMENT, store=store, **kw)


def _posts(mock: MockServer) -> list[dict]:
    return [r for r in mock.requests if r["method"] == "POST"]


# -- the fault matrix: each mock fault × store × stream, through the client ------------------------------


async def _one_fault(fault: str, store: bool, stream: bool) -> tuple[bool, str]:
    mock = MockServer(faults=[f"{fault}:1"], first_byte_delay=0.3, retry_after=0.05)
    await asyncio.to_thread(mock.start)  # (its start and stop wait for its thread: not on this loop)
    try:
        model = _model(mock.base_url, store=store, max_retries=2, timeout=10)
        text, error = "", None
        try:
            if stream:
                async for event in model.stream([Message.user("Count to five.")]):
                    text += event.content or ""
            else:
                text = (await model.complete([Message.user("Count to five.")])).message.content or ""
        except LocusError as exc:
            error = exc
        except Exception as exc:  # anything untyped is a finding
            return False, f"{type(exc).__name__} escaped: {str(exc)[:80]}"
        finally:
            await model.aclose()
        posts, stored = len(_posts(mock)), len(mock.state.store.responses)
    finally:
        await asyncio.to_thread(mock.stop)
    if error is not None:
        partial = getattr(error, "partial_text", None)
        if stream and fault in ("drop_mid_stream", "error_event") and not partial:
            return False, f"{type(error).__name__} without the partial text"
        if not stream and fault == "drop_mid_stream" and posts > 1:
            return False, f"a cut body was retried: {posts} POSTs, {stored} stored responses (generated twice)"
        return True, type(error).__name__
    if fault in ("drop_mid_stream",) and not stream and posts > 1:
        return False, f"a cut body was retried: {posts} POSTs, {stored} stored responses (generated twice)"
    if store and stored > 1:
        return False, f"{stored} stored responses for one answer"
    return bool(text), f"answered ({posts} POST{'s' if posts > 1 else ''})"


async def fault_matrix(area: Area, quick: bool) -> None:
    """Every fault × store × stream, each against a mock of its own; a few at once, since most of a try is
    waiting (a backoff, a delayed first byte), and checked in order."""
    tries = [(fault, store, stream) for fault in FAULTS for store in (False, True) for stream in (False, True)]
    at_once = asyncio.Semaphore(8)

    async def one(fault: str, store: bool, stream: bool) -> tuple[bool, str]:
        async with at_once:
            return await _one_fault(fault, store, stream)

    for (fault, store, stream), (ok, what) in zip(tries, await asyncio.gather(*(one(*t) for t in tries))):
        area.check(ok, f"{fault} store={store} stream={stream}: {what}")


# -- the raw server: killed mid-stream, refused, timeouts, many failures ------------------------------------


def _fds() -> int:
    return len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else 0


async def raw_server(area: Area, quick: bool) -> None:
    # killed mid-stream: a `locus-nb mock` process, SIGKILLed after the first deltas of a paced stream
    proc = subprocess.Popen([sys.executable, "-m", "locus_nb.cli", "mock", "--token-delay", "0.05"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        model = _model(url, store=False, max_retries=0, timeout=10)
        text, error = "", None
        try:
            async for event in model.stream([Message.user("Count to fifty.")]):
                text += event.content or ""
                if len(text) > 3 and proc.poll() is None:
                    proc.kill()
        except Exception as exc:
            error = exc
        await model.aclose()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    area.check(isinstance(error, LocusError) and bool(getattr(error, "partial_text", "")),
               f"server killed mid-stream: {type(error).__name__}, partial {getattr(error, 'partial_text', None)!r}")
    # refused: nothing listens
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = _model(f"http://127.0.0.1:{port}/openai/v1", store=False, max_retries=1, timeout=5)
    try:
        await model.complete([Message.user("hi")])
        area.check(False, "refused connection: answered?")
    except LocusError as exc:
        area.check(type(exc).__name__ == "ConnectionFailed", f"refused connection: {type(exc).__name__}")
    except Exception as exc:
        area.check(False, f"refused connection: {type(exc).__name__} escaped")
    await model.aclose()
    # timeouts: a first byte slower than the read timeout, streamed and not
    with MockServer(faults=["slow_first_byte"], first_byte_delay=2.0) as mock:
        for stream in (False, True):
            model = _model(mock.base_url, store=False, max_retries=0, timeout=0.5)
            start = time.monotonic()
            try:
                if stream:
                    async for _ in model.stream([Message.user("hi")]):
                        pass
                else:
                    await model.complete([Message.user("hi")])
                area.check(False, f"timeout stream={stream}: answered")
            except LocusError as exc:
                area.check(type(exc).__name__ == "RequestTimeout" and time.monotonic() - start < 5,
                           f"timeout stream={stream}: {type(exc).__name__} after {time.monotonic() - start:.1f} s")
            except Exception as exc:
                area.check(False, f"timeout stream={stream}: {type(exc).__name__} escaped")
            await model.aclose()
    # many failing requests, no leaked connections
    count = 50 if quick else 500
    with MockServer(faults=["server_error"]) as mock:
        model = _model(mock.base_url, store=False, max_retries=0, timeout=10)
        before = _fds()
        typed = 0
        for _ in range(count):
            try:
                await model.complete([Message.user("hi")])
            except LocusError as exc:
                typed += type(exc).__name__ == "ServerError"
        during = _fds()
        await model.aclose()
        after = _fds()
    area.check(typed == count, f"{count} failing requests: {typed} ServerError")
    area.check(during - before <= 20 and after - before <= 5,
               f"{count} failing requests: file descriptors {before} → {during} (open) → {after} (closed)")


# -- bad input: messages, arguments, parameters --------------------------------------------------------------


def bad_inputs(area: Area, quick: bool) -> None:
    from locus_nb import Agent, connect

    cases: list[tuple[str, Callable[[], object]]] = [
        ("Message role 'User'", lambda: Message("User", "hi")),
        ("Message role 'usr'", lambda: Message("usr", "hi")),
        ("Message content 42", lambda: Message("user", 42)),
        ("OCIResponsesModel(region='nowhere-1')", lambda: OCIResponsesModel(MODEL, region="nowhere-1",
                                                                             compartment_id=COMPARTMENT)),
        ("OCIResponsesModel(timeout=-5)", lambda: OCIResponsesModel(MODEL, timeout=-5, auth="none",
                                                                    base_url="http://127.0.0.1:9/openai/v1")),
        ("OCIResponsesModel(max_retries=-1)", lambda: OCIResponsesModel(MODEL, max_retries=-1, auth="none",
                                                                        base_url="http://127.0.0.1:9/openai/v1")),
        ("Agent(max_iterations='3')", lambda: Agent(model=_model("http://127.0.0.1:9/openai/v1", store=False),
                                                    max_iterations="3")),
        ("connect(region='chicago')", lambda: connect(region="chicago", env={"LOCUS_NB_TARGET": "mock"})),
        ("connect(store='maybe')", lambda: connect(store="maybe", env={"LOCUS_NB_TARGET": "mock"})),
        ("connect(compartment='x')", lambda: connect(compartment="x", env={"LOCUS_NB_TARGET": "mock"})),
        ("connect(endpoint='localhost:8000')", lambda: connect(endpoint="localhost:8000", env={})),
        ("connect() with OCI_PROFILE=''", lambda: connect(env={"OCI_PROFILE": ""})),
        ("connect() with nothing configured", lambda: connect(env={})),
        ("connect() with LOCUS_NB_TARGET=oci", lambda: connect(env={"LOCUS_NB_TARGET": "oci"})),
        ("connect() mock and a profile", lambda: connect(profile="DEFAULT", env={"LOCUS_NB_TARGET": "mock"})),
    ]
    from locus_nb.notebook._params import check_injected

    cases.append(("papermill -p regoin", lambda: check_injected(
        ["", "region = None\nstore = None\n", '# Parameters\nregoin = "eu-frankfurt-1"\n'])))
    for what, call in cases:
        try:
            call()
            area.check(False, f"{what}: accepted")
        except LocusError as exc:
            area.check(True, f"{what}: {type(exc).__name__}")
        except Exception as exc:
            area.check(False, f"{what}: {type(exc).__name__} instead of a LocusError")
    from locus_nb.cli import main

    for what, argv in [("run -p regoin=x", ["run", "--mock", "-p", "regoin=x", str(ROOT / "notebooks/01_stateless.ipynb")]),
                       ("run --out notebooks", ["run", "--mock", "--out", str(ROOT / "notebooks")]),
                       ("mock --host 0.0.0.0", ["mock", "--host", "0.0.0.0"]),
                       ("mock --store-limit 0", ["mock", "--store-limit", "0"])]:
        try:
            main(argv)
            area.check(False, f"{what}: ran")
        except SystemExit as exc:
            area.check(isinstance(exc.code, str) and "\n" not in exc.code, f"{what}: {str(exc.code)[:60]}")


# -- the hypothesis property test of the SSE fold (the client branch adds it) --------------------------------


def _pytest(area: Area, paths: list[str], what: str, timeout: int = 240) -> None:
    with tempfile.NamedTemporaryFile(suffix=".xml") as junit:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit.name}",
                               *paths], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        xml = Path(junit.name).read_text() if Path(junit.name).stat().st_size else ""
    cases = re.findall(r"<testcase [^>]*?name=\"([^\"]+)\"[^>]*?(/>|>(.*?)</testcase>)", xml, re.S)
    for name, _, inner in cases:
        area.check(not re.search(r"<(failure|error)", inner or ""), f"{what}: {name}")
    if not cases:
        area.notes.append(f"pytest found nothing to run (exit {done.returncode}): {done.stdout[-200:]}")


def properties(area: Area, quick: bool) -> None:
    found = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*propert*.py"))
    if not found:
        area.notes.append("no tests/test_*propert*.py in this checkout yet (the client branch adds the hypothesis "
                          "test of the SSE fold); nothing counted")
        return
    _pytest(area, found, "property")


def signatures(area: Area, quick: bool) -> None:
    _pytest(area, ["tests/mock/test_signature.py"], "signature")


# -- secrets: nothing a run, the tests or `make demo` write shows one -------------------------------------------

_RAW_OCID = re.compile(r"ocid1\.[a-z0-9]+\.[a-z0-9]+\.[a-z0-9-]*\.(?!redacted\d{4}\b|mockcompartmentlocusnb)[A-Za-z0-9_-]{20,}")


def _leaks(text: str, known: list[str]) -> list[str]:
    found = [m.group(0)[:24] + "…" for m in _RAW_OCID.finditer(text)]
    found += [k[:6] + "…" for k in known if k and k in text]
    found += [s for s in ("-----BEGIN", "PRIVATE KEY", "Bearer sk-", "ST$") if s in text]
    return found


def secret_scan(area: Area, quick: bool, scratch: Path) -> None:
    from tests.conftest import SIGNING, VECTORS

    key = (SIGNING / "sample_private_key.pem").read_text()
    known = [VECTORS["fingerprint"], VECTORS["tenancy"], VECTORS["user"], "".join(key.strip().splitlines()[1:-1])[:40],
             COMPARTMENT, "s3cret-pass"]
    # A run with realistic OCI parameters (the kernel gets them; nothing written may show them).
    notebook = scratch / "src" / "oci.ipynb"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    import nbformat

    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("compartment = None\nendpoint = None\nstore = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(len(compartment), len(endpoint), store)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}), notebook)
    out = scratch / "out"
    done = subprocess.run([sys.executable, "-m", "locus_nb.cli", "run", "--no-progress", "-p", f"compartment={COMPARTMENT}",
                           "-p", "endpoint=https://user:s3cret-pass@genai.example.com/openai/v1", "--store", "both",
                           "--out", str(out), str(notebook)], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LOCUS_NB_TARGET": "mock"})
    area.check(done.returncode == 0 and not _leaks(done.stdout + done.stderr, known),
               f"run with OCI parameters: exit {done.returncode}, stdout leaks {_leaks(done.stdout, known)}")
    handouts = subprocess.run([sys.executable, "-m", "locus_nb.cli", "handouts", "--from", str(out), "--out",
                               str(out / "handouts")], cwd=ROOT, capture_output=True, text=True, timeout=180)
    area.check(handouts.returncode == 0, f"handouts of that run: exit {handouts.returncode}")
    # `make demo`, into the scratch folder (and the checkout's own out/ and cassettes/ when they exist).
    demo = subprocess.run([sys.executable, "-m", "locus_nb.cli", "run", "--mock", "--no-progress", "--out",
                           str(scratch / "demo")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "LOCUS_NB_MOCK_TOKEN_DELAY": "0"})
    area.check(demo.returncode == 0 and not _leaks(demo.stdout + demo.stderr, known),
               f"make demo (locus-nb run --mock): exit {demo.returncode}")
    places = [out, scratch / "demo", ROOT / "out", ROOT / "cassettes"]
    for place in places:
        if not place.exists():
            area.notes.append(f"{place.relative_to(ROOT)}/: not in this checkout, nothing to scan")
            continue
        for path in sorted(p for p in place.rglob("*") if p.is_file() and p.suffix in (".ipynb", ".md", ".html", ".jsonl",
                                                                                      ".log", ".txt")):
            if len(path.name) > 120:
                area.check(False, f"{path.name[:40]}…: a file name of {len(path.name)} characters")
            leaks = _leaks(path.read_text(encoding="utf-8", errors="replace") + path.name, known)
            area.check(not leaks, f"{path.relative_to(place.parent)}: {leaks or 'clean'}")


# -- ZDR: a run of every notebook against a ZDR mock sends no stored state ----------------------------------


def zdr(area: Area, quick: bool, scratch: Path) -> None:
    from locus_nb.runs._runs import run_notebooks

    notebooks = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if quick:
        notebooks = notebooks[:1]
    with MockServer(zdr=True) as mock:
        saved = {k: os.environ.get(k) for k in ("LOCUS_NB_ENDPOINT", "LOCUS_NB_TARGET")}
        os.environ.pop("LOCUS_NB_TARGET", None)
        os.environ["LOCUS_NB_ENDPOINT"] = mock.base_url
        try:
            results = run_notebooks(notebooks, [{"store": False}], scratch / "zdr", progress=False)
        finally:
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        posts = _posts(mock)
    for r in results:
        area.check(r.ok, f"{Path(r.notebook).stem} store=False on a ZDR mock: {'ok' if r.ok else r.error}")
    stray = [p for p in posts if (p["body"] or {}).get("store") is not False or (p["body"] or {}).get("previous_response_id")]
    area.tries += len(posts)
    area.held += len(posts) - len(stray)
    area.failures += [f"stray stored state: {p['body'].get('store')!r}" for p in stray]
    area.notes.append(f"{len(posts)} requests logged by the ZDR mock, {len(stray)} with store not false or a "
                      "previous_response_id")


# -- load and soak ---------------------------------------------------------------------------------------------


async def load(area: Area, quick: bool) -> None:
    """Concurrent agent conversations, each with its own tool answer: no answer reaches another conversation."""
    from locus_nb import Agent, TerminateEvent, tool

    count = 50 if quick else 500

    def make_tool(n: int):
        @tool
        def get_temperature(city: str) -> str:
            """Return the temperature for a city.

            Args:
                city: The city's name.
            """
            return f"It is {n} C in {city}."

        return get_temperature

    async def conversation(base_url: str, n: int) -> tuple[int, str]:
        model = _model(base_url, store=n % 2 == 0, timeout=60)
        try:
            agent = Agent(model=model, tools=[make_tool(n)], max_iterations=3)
            final = ""
            async for event in agent.run(f"What's the temperature in City{n}?"):
                if isinstance(event, TerminateEvent):
                    final = event.final_message or ""
            return n, final
        finally:
            await model.aclose()

    with MockServer() as mock:
        start = time.monotonic()
        results = await asyncio.wait_for(asyncio.gather(*(conversation(mock.base_url, n) for n in range(count)),
                                                        return_exceptions=True), 240)
        seconds = time.monotonic() - start
    for n, result in enumerate(results):
        if isinstance(result, BaseException):
            area.check(False, f"conversation {n}: {type(result).__name__}: {str(result)[:60]}")
        else:
            area.check(f"It is {n} C in City{n}." in result[1], f"conversation {n}: {result[1][:60]!r}")
    area.notes.append(f"{count} concurrent agent conversations (half stored, half stateless) in {seconds:.1f} s")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def soak(area: Area, quick: bool) -> None:
    """A `locus-nb mock` process: many stored responses, then large stateless requests; its RSS stays bounded."""
    stored, large, size = (1000, 100, 200_000) if quick else (10_000, 1_000, 200_000)
    proc = subprocess.Popen([sys.executable, "-m", "locus_nb.cli", "mock", "--token-delay", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        figures = {"start": _rss_kib(proc.pid)}
        with httpx.Client(base_url=url, headers=HEADERS, timeout=60) as http:
            for n in range(stored):
                r = http.post("/responses", json={"model": MODEL, "input": f"My favorite number is {n}.", "store": True})
                if r.status_code != 200:
                    area.check(False, f"stored request {n}: {r.status_code}")
                    break
            figures[f"after {stored} stored"] = _rss_kib(proc.pid)
            blob = "lorem ipsum " * (size // 12)
            for n in range(large):
                r = http.post("/responses", json={"model": MODEL, "input": blob + str(n), "store": False})
                if r.status_code != 200:
                    area.check(False, f"large request {n}: {r.status_code}")
                    break
                if n == large // 2:
                    figures[f"after {large // 2} large"] = _rss_kib(proc.pid)
            figures[f"after {large} large ({size // 1000} kB each)"] = _rss_kib(proc.pid)
            first = http.get("/responses/" + "resp_" + "0" * 48)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    mib = {k: v / 1024 for k, v in figures.items()}
    keys = list(mib)
    area.check(mib[keys[-1]] < 400, f"RSS after the soak: {mib[keys[-1]]:.0f} MiB (bound 400 MiB)")
    area.check(mib[keys[-1]] - mib[keys[-2]] < 64, f"RSS flat over the second half of the large requests: "
                                                   f"{mib[keys[-2]]:.0f} → {mib[keys[-1]]:.0f} MiB")
    area.check(first.status_code == 404, f"a response id never stored: {first.status_code}")
    area.notes.append("RSS of the `locus-nb mock` process: " + ", ".join(f"{k} {v:.0f} MiB" for k, v in mib.items()))


# -- the report -------------------------------------------------------------------------------------------------


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPU(s) {cpu}, Python {platform.python_version()}"


def report(areas: list[Area], command: str, seconds: float) -> str:
    tries = sum(a.tries for a in areas)
    held = sum(a.held for a in areas)
    lines = ["# Reliability", "",
             "What the reliability standards ask to hold, tried and counted by `make reliability` (`scripts/reliability.py`). "
             "Generated: do not edit by hand.", "",
             f"- command: `{command}`", f"- machine: {_machine()}",
             f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {seconds:.0f} s", "",
             f"**{tries} tries: {held} held, {tries - held} failed.**", "",
             "| area | tries | held | failed | seconds |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {a.name} | {a.tries} | {a.held} | {len(a.failures)} | {a.seconds:.1f} |" for a in areas]
    for a in areas:
        if a.failures or a.notes:
            lines += ["", f"## {a.name}", ""]
            lines += [f"- {n}" for n in a.notes]
            lines += [f"- ✗ {f}" for f in a.failures]
    return "\n".join(lines) + "\n"


AREAS = ["faults", "raw", "bad-input", "properties", "secrets", "zdr", "signatures", "load", "soak"]


def run(selected: list[str], quick: bool) -> list[Area]:
    areas = []
    with tempfile.TemporaryDirectory(prefix="locus-nb-reliability-") as tmp:
        scratch = Path(tmp)
        steps: dict[str, tuple[str, Callable[[Area], object]]] = {
            "faults": ("fault matrix (mock faults × store × stream)", lambda a: asyncio.run(fault_matrix(a, quick))),
            "raw": ("raw-server faults (killed, refused, timeouts, failing requests)",
                    lambda a: asyncio.run(raw_server(a, quick))),
            "bad-input": ("bad input (messages, arguments, parameters, CLI)", lambda a: bad_inputs(a, quick)),
            "properties": ("property test of the SSE fold (hypothesis)", lambda a: properties(a, quick)),
            "secrets": ("secret scan (run outputs, handouts, out/, cassettes/)", lambda a: secret_scan(a, quick, scratch)),
            "zdr": ("ZDR: every notebook against a ZDR mock", lambda a: zdr(a, quick, scratch)),
            "signatures": ("signature attacks (tests/mock/test_signature.py)", lambda a: signatures(a, quick)),
            "load": ("load: concurrent agent conversations, no cross-talk", lambda a: asyncio.run(load(a, quick))),
            "soak": ("soak: stored responses and large requests, RSS", lambda a: soak(a, quick)),
        }
        for key in selected:
            name, step = steps[key]
            area = Area(name)
            start = time.monotonic()
            try:
                step(area)
            except Exception as exc:  # the area itself broke: counted as one failed try, with the reason
                area.check(False, f"the area did not finish: {type(exc).__name__}: {str(exc)[:200]}")
                area.notes.append(traceback.format_exc(limit=3).splitlines()[-1])
            area.seconds = time.monotonic() - start
            areas.append(area)
            print(f"{name:70s} {area.held}/{area.tries} held  {area.seconds:.1f} s", flush=True)
    return areas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small counts")
    parser.add_argument("--only", action="append", choices=AREAS, help="run only this area (repeatable)")
    parser.add_argument("--report", default=str(ROOT / "docs" / "RELIABILITY.md"), help="where to write the report")
    args = parser.parse_args(argv)
    start = time.monotonic()
    areas = run(args.only or AREAS, args.quick)
    command = "make reliability" if not (args.quick or args.only) else "python scripts/reliability.py " + " ".join(
        (argv if argv is not None else sys.argv[1:]))
    text = report(areas, command, time.monotonic() - start)
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(text, encoding="utf-8")
    print(text)
    return 0 if all(not a.failures for a in areas) else 1


if __name__ == "__main__":
    sys.exit(main())
