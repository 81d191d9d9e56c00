"""Token to pixel: from a server sending a delta to its text being in a JupyterLab page in headless Chromium.

    .venv/bin/python benchmarks/bench_pixel.py [--tokens 300]

Three processes besides this driver: a paced SSE server (the events of `bench_stream.sse_frames`, one
delta every 1/rate s, recording `time.time()` as it hands each delta to the socket), JupyterLab with
a one-cell notebook that streams through `OCIResponsesModel.stream()` into `show_stream()` (the path
of notebook 04), and Debian's `chromium`, driven over the Chrome DevTools Protocol (websocket-client,
already installed with jupyter_server). A MutationObserver in the page stamps each token when it first
appears in an output area (`performance.timeOrigin + performance.now()`, the same wall clock; a DOM
change, before the paint that follows it within a frame). The browser's CPU is the utime+stime of
Chromium's processes over each stream, as a share of one core. Goal: p95 ≤ 2.5× the view's
redraw interval (1 / `UPDATES_PER_SECOND`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import COMPARTMENT, MODEL, loadavg  # noqa: E402

RATES = (20, 200)

CELL = """\
import asyncio
from locus_nb import Message, OCIResponsesModel, show_stream
model = OCIResponsesModel({model!r}, base_url={url!r}, auth="none", compartment_id={compartment!r}, store=False)
async def ask(prefix, n, rate):
    return await show_stream(model.stream([Message.user("go")], metadata={{"mock_text_tokens": str(n), "prefix": prefix, "rate": str(rate)}}))
await ask("tokW", 10, 200)  # warm-up: connection, widget code
await asyncio.sleep(1)
{asks}
print("BENCH" + "-DONE")
"""

# the status bar's kernel status, or the toolbar's kernel indicator
# run the notebook through JupyterLab's own command (the app is exposed for this: expose_app_in_browser)
RUN_ALL = """(() => {
  const app = window.jupyterapp;
  if (!app) return 'no jupyterapp in the page';
  const panel = Array.from(app.shell.widgets('main')).find(w => w.content && w.content.widgets);
  if (!panel) return 'no notebook panel';
  app.shell.activateById(panel.id);
  app.commands.execute('notebook:run-all-cells');
  return 'ok';
})()"""

OBSERVER = """
window.__seen = {};
const re = /tok([A-Z])(\\d+)/g;
const scan = () => {
  const now = performance.timeOrigin + performance.now();
  for (const node of document.querySelectorAll('.jp-OutputArea-output')) {
    const text = node.textContent; re.lastIndex = 0; let m;
    while ((m = re.exec(text))) { const k = m[1] + m[2]; if (!(k in window.__seen)) window.__seen[k] = now; }
  }
};
new MutationObserver(scan).observe(document.body, {subtree: true, childList: true, characterData: true});
'ok'
"""


# -- the paced server (run as `bench_pixel.py --serve`) -----------------------------------------


def serve() -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    from bench_stream import sse_frames

    sent: dict[str, list[float]] = {}

    async def create(request):
        meta = (await request.json()).get("metadata") or {}
        prefix, n, pause = meta.get("prefix", "tokZ"), int(meta.get("mock_text_tokens", 20)), 1 / float(meta.get("rate", 20))
        frames = [f.encode() for f in sse_frames([f" {prefix}{i}" for i in range(n)])]
        times = sent.setdefault(prefix, [])

        async def paced():
            yield b"".join(frames[:4])  # created, in_progress, item and part added
            for frame in frames[4 : 4 + n]:
                await asyncio.sleep(pause)
                times.append(time.time() * 1000)
                yield frame
            yield b"".join(frames[4 + n :])

        return StreamingResponse(paced(), media_type="text/event-stream; charset=utf-8")

    async def times(request):
        return JSONResponse(sent)

    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=[Route("/openai/v1/responses", create, methods=["POST"]), Route("/times", times)])
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")).run(sockets=[sock])


# -- the driver ---------------------------------------------------------------------------------


class CDP:
    """The smallest Chrome DevTools Protocol client: one page, calls by id, events ignored."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page: {r['exceptionDetails']}")
        return r["result"].get("value")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_cpu_s(root: int) -> float:
    """utime+stime (s) of `root` and all its descendants."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += int(stats[pid][11]) + int(stats[pid][12])
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def chromium() -> str:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise RuntimeError("headless Chromium not found (scripts/ensure-chromium.sh installs Debian's `chromium`)")


def wait_for(predicate, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise RuntimeError(f"timed out waiting for {what}")


def run(tokens: int = 300, timeout: float = 120) -> dict:
    from locus_nb.notebook._widgets import UPDATES_PER_SECOND

    browser = chromium()
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        try:
            server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
            procs.append(server)
            url = server.stdout.readline().strip()
            asks = "\n".join(f"await ask('tok{chr(65 + i)}', {tokens}, {rate})" for i, rate in enumerate(RATES))
            cell = CELL.format(model=MODEL, url=url + "/openai/v1", compartment=COMPARTMENT, asks=asks)
            nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "bench", "metadata": {},
                             "outputs": [], "source": cell}],
                  "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                              "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
            (root / "bench.ipynb").write_text(json.dumps(nb))
            port, token = free_port(), "bench"
            env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / "cfg"), "JUPYTER_RUNTIME_DIR": str(root / "rt"),
                   "JUPYTERLAB_WORKSPACES_DIR": str(root / "ws")}
            lab = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
                                    "--ip=127.0.0.1", "--allow-root", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                                    "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=(root / "lab.log").open("w"))
            procs.append(lab)
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _up(f"{base}/api/status?token={token}"), 90, "JupyterLab")
            chrome = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                       "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                       "--remote-debugging-port=0", f"--user-data-dir={root / 'chrome'}",
                                       "--window-size=1280,900", "about:blank"],
                                      stdout=subprocess.DEVNULL, stderr=(root / "chrome.log").open("w"))
            procs.append(chrome)
            ws_url = wait_for(lambda: _devtools_url(chrome, root / "chrome.log"), 60, "Chromium's DevTools endpoint")
            devtools = ws_url.split("/devtools/")[0].replace("ws://", "http://")
            page = next(t for t in httpx.get(f"{devtools}/json", timeout=10).json() if t["type"] == "page")
            cdp = CDP(page["webSocketDebuggerUrl"])
            cdp.call("Page.enable")
            cdp.call("Page.navigate", url=f"{base}/lab/tree/bench.ipynb?token={token}")
            wait_for(lambda: cdp.js("document.querySelector('.jp-Notebook .jp-Cell .jp-InputArea') !== null"), 120,
                     "the notebook in JupyterLab")
            def kernel_ready() -> bool:
                kernels = httpx.get(f"{base}/api/kernels?token={token}", timeout=10).json()
                return bool(kernels) and kernels[0]["execution_state"] == "idle" and kernels[0]["connections"] > 0

            wait_for(kernel_ready, 120, "the notebook's kernel to be idle and connected")
            cdp.js(OBSERVER)
            wait_for(lambda: cdp.js(RUN_ALL) == "ok", 30, "JupyterLab's app object to run the notebook")
            samples: list[tuple[float, float]] = []
            deadline = time.monotonic() + timeout
            while not cdp.js("Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                             ".some(n => n.textContent.includes('BENCH-DONE'))"):
                samples.append((time.time() * 1000, tree_cpu_s(chrome.pid)))
                if time.monotonic() > deadline:
                    raise RuntimeError("the notebook cell did not finish (no BENCH-DONE in the page); the notebook "
                                       "says: " + repr(cdp.js("document.querySelector('.jp-Notebook').innerText")[-800:]))
                time.sleep(0.1)
            seen = cdp.js("window.__seen")
            sent = httpx.get(f"{url}/times", timeout=10).json()
        finally:
            for proc in reversed(procs):
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    runs = []
    for i, rate in enumerate(RATES):
        prefix = chr(65 + i)
        times = sent[f"tok{prefix}"]
        delays = sorted(seen[f"{prefix}{k}"] - t for k, t in enumerate(times) if f"{prefix}{k}" in seen)
        if not delays:
            raise RuntimeError(f"no token of the {rate} tokens/s stream was seen in the page")
        t0, t1 = times[0], times[-1] + delays[-1]
        inside = [s for s in samples if t0 <= s[0] <= t1]
        cpu = (inside[-1][1] - inside[0][1]) / ((inside[-1][0] - inside[0][0]) / 1000) * 100 if len(inside) > 1 else 0.0
        runs.append({"rate": rate, "tokens": len(times), "seen": len(delays), "p50_ms": statistics.median(delays),
                     "p95_ms": delays[min(len(delays) - 1, int(0.95 * len(delays)))], "max_ms": delays[-1],
                     "min_ms": delays[0], "browser_cpu_pct": cpu})
    return {"runs": runs, "redraw_ms": 1000 / UPDATES_PER_SECOND, "load": loadavg(),
            "method": ("A paced server → `OCIResponsesModel.stream()` → `show_stream()` in a JupyterLab kernel → "
                       "JupyterLab in headless Chromium (Debian's package, driven over the DevTools protocol); delay = "
                       "the page's MutationObserver stamp of a token's first appearance minus the server's stamp when "
                       "it handed that delta to the socket (same wall clock). Browser CPU: utime+stime of Chromium's "
                       "processes over the stream, as a share of one core.")}


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _devtools_url(chrome: subprocess.Popen, log: Path) -> str | None:
    for line in log.read_text().splitlines():
        if "DevTools listening on" in line:
            return line.split("listening on ", 1)[1].strip()
    if chrome.poll() is not None:
        raise RuntimeError(f"Chromium exited: {log.read_text()[-500:]}")
    return None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
    else:
        print(json.dumps(run(args.tokens), indent=1))
