"""BarChart: proportional, deterministic text and HTML."""

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


def test_html_bars_scale_to_the_largest_value_and_escape_labels():
    chart = BarChart("a <title>", {"g & 1": {"x": 10, "y": 5}}, unit="B")
    page = chart._repr_html_()
    widths = [int(w) for w in re.findall(r'width:(\d+)px;height:14px;background-color:#', page)]
    assert widths == [300, 150]
    assert "a &lt;title&gt;" in page and "g &amp; 1" in page and "<title>" not in page
    assert page == BarChart("a <title>", {"g & 1": {"x": 10, "y": 5}}, unit="B")._repr_html_()  # no random ids


def test_html_uses_only_what_jupyterlab_keeps_in_an_untrusted_notebook():
    """JupyterLab's sanitizer drops SVG (a committed notebook is untrusted until run): divs and spans only."""
    tags = set(re.findall(r"<(\w+)", BarChart("t", GROUPS, unit="B")._repr_html_()))
    assert tags == {"div", "span"}


def test_empty_and_zero_values_do_not_divide_by_zero():
    assert repr(BarChart("nothing", {"t": {"a": 0}})).endswith("a  " + " " * 40 + " 0")
    assert BarChart("nothing", {})._repr_html_().startswith('<div class="locus-chart"')
