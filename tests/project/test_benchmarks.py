"""The benchmark report generator: every section from fake measurements (no timing, no servers)."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _report():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("bench_report", BENCHMARKS / "report.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def spread(median, lo=None, hi=None, n=3):
    return {"median": median, "min": lo if lo is not None else median * 0.9, "max": hi if hi is not None else median * 1.1,
            "n": n}


STAMP = {"date": "2026-12-01 12:00 UTC", "command": "run.py --fake", "load_after": [1.0, 1.0, 1.0]}

FAKE = {
    "machine": {"nproc": 2, "cpu": "Fake CPU", "memory_gib": 8.0, "python": "3.11.7", "platform": "Linux", "load": [1.0]},
    "setup": {**STAMP, "commit": "abc1234", "load_before": [1.0], "pip_install_s": 80.0, "make_demo_s": 35.0,
              "uv_install_s": 6.0, "make_test_s": 100.0, "make_test_ok": True, "used_uv": True,
              "site_packages_writable": True, "pyc_after_install": 700, "pyc_after_use": 390,
              "first_use": {name: {"import": spread(0.2), "kernel": spread(1.5)} for name in (
                  "pip venv, bytecode precompiled (before)", "uv venv, no bytecode", "uv venv, bytecode written lazily")}},
    "complete": {**STAMP, "requests": 10, "trials": 2,
                 "clients": {name: {"per_request_us": {**spread(us), "p90": us * 1.2}, "trial_totals_s": [us / 1e5] * 2}
                             for name, us in (("floor", 1000), ("complete()", 1050), ("openai", 2500),
                                              ("complete() signed", 1500), ("Locus", 1700))},
                 "ratios": {k: {"median": v, "trials": [v, v]} for k, v in (
                     ("complete()/floor", 1.05), ("complete()/openai", 0.42), ("complete() signed/Locus", 0.88),
                     ("complete()/Locus", 0.6))}},
    "stream": {**STAMP, **{key: {"server": key, "deltas": 20000, "rounds": 3,
                                 "clients": {name: spread(s) for name, s in (("raw bytes", 0.05), ("floor", 0.1),
                                                                             ("stream()", 0.11), ("openai", 1.2),
                                                                             ("Locus", 0.2))},
                                 "ratios": {"stream()/floor": {"median": 1.1, "rounds": [1.1]},
                                            "openai/stream()": {"median": 10.9, "rounds": [10.9]},
                                            "Locus/stream()": {"median": 1.8, "rounds": [1.8]}}}
                           for key in ("mock", "local")}},
    "wire": {**STAMP, "turns": 20, "store=True": {"bytes": [300 + i for i in range(20)], "smallest": [250] * 20},
             "store=False": {"bytes": [300 + 280 * i for i in range(20)], "smallest": [250] * 20},
             "conversation": {"bytes": [310] * 20, "smallest": [250] * 20},
             "summary": {"stored_last_over_first": 1.06, "stored_last_minus_smallest": 69,
                         "stateless_growth_per_turn": 280.0, "stateless_last_over_stored_last": 18.0,
                         "total": {"store=True": 6190, "store=False": 59200, "conversation": 6200},
                         "conversation_over_stored_max": 1.03, "conversation_last_over_second": 1.0}},
    "resume": {**STAMP, "token_delay": 0.005, "count": 200, "rounds": 3, "deltas": 200,
               "uninterrupted_s": [1.06, 1.07, 1.08], "resumed_s": [1.06, 1.07, 1.09], "extra_s": [0.0, 0.0, 0.01],
               "round_trip_s": [0.003, 0.003, 0.004], "resumes": [1, 1, 1], "starting_after": [104, 104, 104],
               "text_equal": True, "summary": {"extra_median_s": 0.002, "round_trip_median_s": 0.003,
                                               "uninterrupted_median_s": 1.07}},
    "pixel": {**STAMP, "redraw_ms": 40.0, "method": "fake", "runs": [
        {"rate": 20, "tokens": 300, "p50_ms": 10.0, "p95_ms": 20.0, "max_ms": 30.0, "browser_cpu_pct": 20.0},
        {"rate": 200, "tokens": 300, "p50_ms": 30.0, "p95_ms": 60.0, "max_ms": 70.0, "browser_cpu_pct": 50.0}]},
    "concurrency": {**STAMP, "runs": [
        {"conversations": n, "tls": tls, "streams": 2 * n, "wall_s": n / 100, "errors": 0, "cross_talk": 0,
         "client_peak_rss_mib": 50.0, "mock_peak_rss_mib": 60.0}
        for n, tls in ((200, "shared by all models (default)"), (1000, "shared by all models (default)"),
                       (200, "one per model (before the fix)"))]},
    "room": {**STAMP, "streams": 300, "tokens": 200, "token_delay_ms": 20.0, "wall_s": 4.7, "errors": 0,
             "first_errors": [], "complete": 300, "gaps": 59700,
             "gap_ms": {"p50": 20.7, "p95": 29.2, "p99": 39.0, "max": 63.7},
             "mock_rss_mib": {"before": 52.0, "peak": 92.0, "after": 91.5}, "client_peak_rss_mib": 70.0},
    "cold": {**STAMP, "bare interpreter": spread(0.02), "import locus_nb": spread(0.15),
             "kernel start → first cell done": spread(1.2), "notebooks": {"01_stateless.ipynb": spread(5.0)},
             "make test": {"seconds": 100.0, "passed": True, "summary": "1 passed"}},
}


def test_report_has_every_section_and_chart(tmp_path):
    written = _report().render(FAKE, tmp_path / "BENCHMARKS.md")
    text = (tmp_path / "BENCHMARKS.md").read_text()
    for heading in ("## The machine", "## Setup speed", "## Non-streaming overhead", "## Stream throughput",
                    "## Wire bytes per turn", "## A background stream cut halfway and resumed", "## Token to pixel",
                    "## Concurrency", "## A room's load", "## Cold paths"):
        assert heading in text
    assert "conversation turn / previous_response_id turn (turns 2–20, the largest) = **1.03×**" in text
    assert "extra time of the resumed run over the uninterrupted one (median) = **2.0 ms**" in text
    assert "Fake CPU" in text and "run.py --fake" in text and "2026-12-01 12:00 UTC" in text
    assert "make demo` / pip install alone = **0.44×** — goal ≤ 0.5×: met" in text
    assert "complete() / floor = **1.05×**" in text and "not met" not in text
    assert "- gap p95 = **29.2 ms** (pacing 20 ms) — goal ≤ 40 ms: met" in text
    assert "| mock RSS MiB: before / peak / after | 52 / 92 / 92 |" in text
    charts = sorted(p.name for p in written if p.suffix == ".svg")
    assert charts == ["bytes-per-turn.svg", "complete.svg", "setup.svg", "stream-local.svg", "stream-mock.svg"]
    for path in written:
        if path.suffix == ".svg":
            ET.parse(path)  # well-formed
            assert f"](bench/{path.name})" in text


def test_a_missed_goal_and_a_failed_section_say_so(tmp_path):
    fake = {**FAKE, "pixel": {**STAMP, "error": "RuntimeError: no chromium"},
            "complete": {**FAKE["complete"], "ratios": {**FAKE["complete"]["ratios"],
                                                        "complete()/floor": {"median": 1.3, "trials": [1.3]}}}}
    _report().render(fake, tmp_path / "BENCHMARKS.md")
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert "complete() / floor = **1.30×**" in text and "goal ≤ 1.10×: **not met**" in text
    assert "Not measured in this run: RuntimeError: no chromium" in text


def test_setup_on_two_clones_shows_medians_with_their_range(tmp_path):
    setup = {**FAKE["setup"], "make_demo_runs_s": [34.0, 36.0], "make_test_runs_s": [118.0, 124.0],
             "make_demo_s": 35.0, "make_test_s": 121.0, "make_test_probes_ms": [52.0, 71.0], "probe_ms_after": 60.0}
    _report().render({**FAKE, "setup": setup}, tmp_path / "BENCHMARKS.md")
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert "on each of 2 clones: medians" in text
    assert "| `make test` after `make demo` | 121.0 (118.0–124.0, n=2) (passed) |" in text
    assert "`make test` after it = **121 s** — goal < 120 s: **not met**" in text
    assert "speed probe just before each of those `make test` runs: 52 ms, 71 ms" in text
    assert "speed probe after: 60 ms.*" in text

