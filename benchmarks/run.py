"""Run the benchmarks and write docs/BENCHMARKS.md (+ SVG charts in docs/bench/).

    make bench                                   # = .venv/bin/python benchmarks/run.py
    .venv/bin/python benchmarks/run.py --quick   # fewer repeats, no `make test`, 200 conversations only
    .venv/bin/python benchmarks/run.py --setup   # also the fresh-clone setup measurement (needs PyPI, ~9 min)
    .venv/bin/python benchmarks/run.py --only stream wire     # some sections; the others keep their last figures
    .venv/bin/python benchmarks/run.py --render  # only re-render the report from docs/bench/results.json

Each section's measurements are merged into docs/bench/results.json (with date, command line and load),
and the report is rendered from that file, so a section run alone keeps the others' last figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402
from _common import ROOT, load_results, machine, save_section  # noqa: E402

DEFAULT = ("complete", "stream", "wire", "resume", "concurrency", "room", "cold", "pixel")


def section(name: str, quick: bool) -> dict:
    if name == "complete":
        import bench_complete

        return bench_complete.run(requests=150 if quick else 500, trials=2 if quick else 3)
    if name == "stream":
        import bench_stream

        return bench_stream.run(deltas=20_000, rounds=3 if quick else 7)
    if name == "wire":
        import bench_wire

        return bench_wire.run(turns=20)
    if name == "resume":
        import bench_resume

        return bench_resume.run(rounds=3 if quick else 7)
    if name == "concurrency":
        # a fresh process per run, so each peak RSS is that run's own
        counts = ["200"] if quick else ["200", "1000", "own-tls:200"]
        out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_concurrency.py"), *counts],
                             check=True, capture_output=True, text=True).stdout
        return {"runs": [json.loads(line) for line in out.splitlines() if line.startswith("{")]}
    if name == "room":
        # its own process, so the client's peak RSS is this run's; the mock runs in another
        out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_room.py"),
                              *(["--streams", "100"] if quick else [])],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    if name == "cold":
        import bench_cold

        return bench_cold.run(repeats=3 if quick else 7, notebook_repeats=1 if quick else 2, make_test=not quick)
    if name == "pixel":
        import bench_pixel

        return bench_pixel.run(tokens=100 if quick else 300)
    if name == "setup":
        import bench_setup

        return bench_setup.main(repeats=3 if quick else 5)  # saves itself
    raise SystemExit(f"unknown section {name!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats; skips `make test` and 1,000 conversations")
    parser.add_argument("--setup", action="store_true", help="also measure setup speed on fresh clones")
    parser.add_argument("--only", nargs="+", metavar="SECTION", choices=[*DEFAULT, "setup"])
    parser.add_argument("--render", action="store_true", help="only render docs/BENCHMARKS.md from results.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    if not args.render:
        names = list(args.only or DEFAULT) + (["setup"] if args.setup and not args.only else [])
        save_section("machine", machine())
        for name in names:
            start = time.perf_counter()
            print(f"{name} …", flush=True)
            try:
                data = section(name, args.quick)
            except Exception as exc:  # noqa: BLE001 — one failed section must not lose the others
                if name != "pixel":
                    raise
                data = {"error": f"{type(exc).__name__}: {exc}"}
            if name != "setup":
                save_section(name, {**data, "quick": args.quick})
            print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    for path in report.render(load_results(), args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
