"""BarChart: proportional, deterministic text and SVG."""

from __future__ import annotations

import re

from locus_nb import BarChart

GROUPS = {"turn 1": {"stateless": 250, "stored": 250}, "turn 2": {"stateless": 500, "stored": 260}}


def test_text_bars_are_proportional_and_labelled():
    text = repr(BarChart("request bytes", GROUPS, unit="B", width=20))
    assert text.splitlines() == [
        "request bytes",
        "turn 1  stateless  ██████████           250 B",
        "        stored     ██████████           250 B",
        "turn 2  stateless  ████████████████████ 500 B",
        "        stored     ██████████▍          260 B",
    ]


def test_svg_bars_scale_to_the_largest_value_and_escape_labels():
    chart = BarChart("a <title>", {"g & 1": {"x": 10, "y": 5}}, unit="B")
    svg = chart._repr_html_()
    widths = [int(w) for w in re.findall(r'<rect x="150" y="\d+" width="(\d+)" height="16"', svg)]
    assert widths == [300, 150]
    assert "a &lt;title&gt;" in svg and "g &amp; 1" in svg and "<title>" not in svg
    assert svg == BarChart("a <title>", {"g & 1": {"x": 10, "y": 5}}, unit="B")._repr_html_()  # no random ids


def test_empty_and_zero_values_do_not_divide_by_zero():
    assert repr(BarChart("nothing", {"t": {"a": 0}})).endswith("a  " + " " * 40 + " 0")
    assert "<svg" in BarChart("nothing", {})._repr_html_()
