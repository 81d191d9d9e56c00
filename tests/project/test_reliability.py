"""The bounded versions of `make reliability` (scripts/reliability.py --quick): small counts, loopback only.

Each area asserts that every try held; the property test and the signature attacks run as their own test files.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "reliability.py"


@pytest.fixture(scope="module")
def reliability():
    spec = importlib.util.spec_from_file_location("reliability_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_the_fault_matrix_raises_only_typed_errors_and_keeps_partial_text(reliability):
    area = reliability.Area("faults")
    asyncio.run(asyncio.wait_for(reliability.fault_matrix(area, quick=True), 120))
    assert area.tries == len(reliability.FAULTS) * 4
    assert area.failures == []  # typed errors only, partial text kept, a cut body never generated twice


@pytest.mark.e2e
def test_raw_server_faults_hold(reliability):
    area = reliability.Area("raw")
    asyncio.run(asyncio.wait_for(reliability.raw_server(area, quick=True), 120))
    assert area.tries == 6 and area.failures == []


def test_bad_messages_arguments_parameters_and_cli_input_are_typed_one_line_errors(reliability):
    area = reliability.Area("bad input")
    reliability.bad_inputs(area, quick=True)
    assert area.failures == [] and area.tries >= 20


def test_concurrent_agent_conversations_do_not_cross(reliability):
    area = reliability.Area("load")
    asyncio.run(reliability.load(area, quick=True))
    assert area.tries == 50 and area.failures == []


@pytest.mark.e2e
def test_the_mock_soak_keeps_rss_bounded(reliability):
    area = reliability.Area("soak")
    reliability.soak(area, quick=True)
    assert area.failures == [] and area.tries == 3


@pytest.mark.e2e
def test_a_zdr_mock_sees_no_stored_state(reliability, tmp_path):
    area = reliability.Area("zdr")
    reliability.zdr(area, quick=True, scratch=tmp_path)
    assert area.failures == [] and area.tries > 1


def test_the_report_counts_per_area(reliability):
    a, b = reliability.Area("a"), reliability.Area("b")
    a.check(True, "x")
    b.check(False, "y")
    text = reliability.report([a, b], "make reliability", 1.0)
    assert "**2 tries: 1 held, 1 failed.**" in text and "| a | 1 | 1 | 0 |" in text and "- ✗ y" in text
