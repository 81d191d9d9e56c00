"""`locus-nb handouts`: static widget rendering, offline pages, and a real headless browser reading them."""

from __future__ import annotations

import functools
import html
import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import nbformat
import pytest

from locus_nb.runs._handouts import (
    WIDGET_STATE,
    WIDGET_VIEW,
    _relink,
    _static_widgets,
    build_handouts,
    external_resources,
    render_widget,
)
from locus_nb.cli import main

FIXTURE_NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no network but loopback
]


def _state(**models):
    return {mid: {"model_name": name, "state": state} for mid, (name, state) in models.items()}


def test_render_widget_final_state_as_static_html():
    state = _state(
        a=("HTMLModel", {"value": "<pre>done</pre>"}),
        b=("LabelModel", {"value": "1 < 2"}),
        box=("VBoxModel", {"children": ["IPY_MODEL_a", "IPY_MODEL_b", "IPY_MODEL_gone"]}),
        s=("IntSliderModel", {"value": 3}),
    )
    assert render_widget("a", state) == "<pre>done</pre>"
    assert render_widget("b", state) == '<pre style="white-space:pre-wrap">1 &lt; 2</pre>'
    assert render_widget("box", state) == f"<div><pre>done</pre>{render_widget('b', state)}</div>"
    assert render_widget("s", state) is None  # no static form: the text fallback stays
    assert render_widget("missing", state) is None


def test_static_widgets_replaces_views_and_drops_the_state():
    nb = nbformat.v4.new_notebook()
    nb.metadata.widgets = {WIDGET_STATE: {"state": _state(a=("HTMLModel", {"value": "<b>final</b>"}),
                                                          s=("IntSliderModel", {"value": 3}))}}
    view = lambda mid: nbformat.v4.new_output("display_data", data={  # noqa: E731
        WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": mid}, "text/plain": f"<{mid}>"})
    nb.cells = [nbformat.v4.new_code_cell(outputs=[view("a"), view("s")])]
    _static_widgets(nb)
    first, second = nb.cells[0].outputs
    assert first.data == {"text/plain": "<a>", "text/html": "<b>final</b>"}
    assert second.data == {"text/plain": "<s>"}
    assert "widgets" not in nb.metadata


def test_links_between_notebooks_point_at_handouts():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "[02](02_stored.ipynb), [03](03_tool_roundtrip.ipynb#Setup), [x](https://example.com/a.ipynb)")])
    _relink(nb, {"02_stored": "02_stored.store-True.html", "03_tool_roundtrip": "03_tool_roundtrip.html"})
    assert nb.cells[0].source == ("[02](02_stored.store-True.html), [03](03_tool_roundtrip.html#Setup), "
                                  "[x](https://example.com/a.ipynb)")


def test_external_resources_finds_what_a_browser_would_fetch():
    page = """<script src="https://cdn.example/require.js"></script><link rel="stylesheet" href="//fonts.x/css">
    <img src="data:image/png;base64,AAA"><script src="http://127.0.0.1:8000/local.js"></script>
    <a href="https://docs.oracle.com">docs</a><style>@import url("https://x.y/z.css");</style>"""
    assert external_resources(page) == ["https://cdn.example/require.js", "//fonts.x/css", "https://x.y/z.css"]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The widget fixture notebook run by papermill in a real kernel (widget state in its metadata)."""
    import papermill

    out = tmp_path_factory.mktemp("executed")
    papermill.execute_notebook(str(FIXTURE_NOTEBOOKS / "widgets.ipynb"), str(out / "widgets.ipynb"),
                               kernel_name="python3", progress_bar=False, cwd=str(out))
    return out


@pytest.fixture(scope="module")
def handouts(executed, tmp_path_factory):
    out = tmp_path_factory.mktemp("handouts")
    assert main(["handouts", "--from", str(executed), "--out", str(out)]) == 0
    return out


@pytest.mark.e2e
def test_handouts_are_self_contained(handouts):
    page = (handouts / "widgets.html").read_text()
    assert external_resources(page) == []
    assert "require.js" not in page and "embed-amd" not in page and WIDGET_STATE not in page
    assert "Streamed &lt;tokens&gt; &amp; escaped text" in page  # the widget's final HTML, inline
    index = (handouts / "index.html").read_text()
    assert '<a href="widgets.html">Widget handout fixture</a>' in index
    assert external_resources(index) == []


@pytest.mark.e2e
def test_stock_nbconvert_would_fetch_widget_code_from_a_cdn(executed):
    """The reason for the above: the default export depends on the network for widgets."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_filename(str(executed / "widgets.ipynb"))
    assert any("require" in url for url in external_resources(body))


def test_handouts_without_executed_notebooks_say_what_to_do(tmp_path, capsys):
    assert main(["handouts", "--from", str(tmp_path), "--out", str(tmp_path / "h")]) == 2
    assert "locus-nb run --mock" in capsys.readouterr().err


# -- a real browser, offline ------------------------------------------------------------------------

def chromium() -> str:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and (path := shutil.which(name)):
            return path
    pytest.fail("the handout test needs headless Chromium, which was not found. Install it with "
                "`sudo apt-get update && sudo apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this in CI), "
                "or point CHROMIUM at a Chrome/Chromium binary.")


PAGES = ("widgets", "stock", "index")


@pytest.fixture(scope="module")
def rendered(handouts, executed, tmp_path_factory) -> dict[str, str]:
    """The text a headless Chromium shows of each page — the handouts and, as a control, a stock nbconvert
    export — served over HTTP on loopback. One browser run loads the three pages, each in its own frame."""
    from nbconvert import HTMLExporter

    site = tmp_path_factory.mktemp("site")
    shutil.copytree(handouts, site, dirs_exist_ok=True)
    stock, _ = HTMLExporter(template_name="lab").from_filename(str(executed / "widgets.ipynb"))
    (site / "stock.html").write_text(stock)
    # innerText is layout-aware: it holds only text that is rendered (not display:none, not unloaded widgets).
    frames = "".join(
        f'<iframe id="f-{page}" src="{page}.html" style="width:1200px;height:4000px"></iframe>'
        f'<pre id="visible-{page}"></pre><script>'
        f'document.getElementById("f-{page}").addEventListener("load", (e) => {{'
        f' document.getElementById("visible-{page}").textContent = e.target.contentDocument.body.innerText; }});'
        '</script>' for page in PAGES)
    (site / "visible.html").write_text(f"<!DOCTYPE html><html><body>{frames}</body></html>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('profile')}",
             "--virtual-time-budget=10000", "--dump-dom", f"http://127.0.0.1:{server.server_address[1]}/visible.html"],
            capture_output=True, text=True, timeout=120,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 0, run.stderr[-2000:]
    texts = {page: re.search(rf'<pre id="visible-{page}">(.*?)</pre>', run.stdout, re.S) for page in PAGES}
    assert all(texts.values()), run.stdout[-2000:]
    return {page: html.unescape(m.group(1)) for page, m in texts.items()}


@pytest.mark.e2e
def test_handout_shows_widget_text_in_an_offline_browser(rendered):
    text = rendered["widgets"]
    # Only the widgets render these: their status lines, folded above the printed copies.
    assert re.search(r"stream · ✓ done · [\d.]+ s · 7 tokens · [\d,–]+ tokens/s · text below", text)
    assert re.search(r"agent · ✓ done · [\d.]+ s · transcript below", text)
    assert "Streamed <tokens> & escaped text, shown offline" in text  # printed once, below
    assert 'tool call: get_temperature(city="Paris")' in text
    assert "Widget handout fixture" in rendered["index"]


@pytest.mark.e2e
def test_stock_export_shows_no_widget_text_offline(rendered):
    """Control: the same check fails for nbconvert's default page, whose widgets need the CDN."""
    text = rendered["stock"]
    assert "Streamed <tokens> & escaped text, shown offline" in text  # printed output: still there
    assert "7 tokens" not in text  # the widget: nothing


# -- edge cases: a one-line error or a correct result, never a traceback or a silent overwrite ----------


def _copy(executed: Path, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(executed / "widgets.ipynb", to)
    return to


@pytest.mark.e2e
def test_a_corrupt_notebook_is_skipped_in_one_line_and_the_others_are_written(executed, tmp_path, capsys):
    good = _copy(executed, tmp_path / "in" / "good.ipynb")
    bad = tmp_path / "in" / "bad.ipynb"
    bad.write_text('{"cells": [')
    out = tmp_path / "h"
    assert main(["handouts", "--out", str(out), str(bad), str(good)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"locus-nb handouts: skipped {bad}: not a readable notebook (") and err.count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["good.html", "index.html"]
    assert 'href="good.html"' in (out / "index.html").read_text()


@pytest.mark.e2e
def test_a_notebook_named_index_does_not_clobber_the_index(executed, tmp_path):
    source = _copy(executed, tmp_path / "in" / "index.ipynb")
    out = tmp_path / "h"
    assert main(["handouts", "--out", str(out), str(source)]) == 0
    index = (out / "index.html").read_text()
    assert "locus-notebooks · handouts" in index and '<a href="index-2.html">Widget handout fixture</a>' in index
    assert "Streamed &lt;tokens&gt;" in (out / "index-2.html").read_text()


@pytest.mark.e2e
def test_two_notebooks_with_the_same_name_from_different_folders_both_get_a_page(executed, tmp_path):
    first, second = _copy(executed, tmp_path / "a" / "w.ipynb"), _copy(executed, tmp_path / "b" / "w.ipynb")
    out = tmp_path / "h"
    assert main(["handouts", "--out", str(out), str(first), str(second)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "w-2.html", "w.html"]
    index = (out / "index.html").read_text()
    assert 'href="w.html"' in index and 'href="w-2.html"' in index and "a/w.ipynb" in index and "b/w.ipynb" in index


@pytest.mark.e2e
def test_a_hash_in_a_file_name_still_links(executed, tmp_path):
    source = _copy(executed, tmp_path / "in" / "lesson #1.ipynb")
    out = tmp_path / "h"
    assert main(["handouts", "--out", str(out), str(source)]) == 0
    assert (out / "lesson #1.html").is_file()
    assert '<a href="lesson%20%231.html">' in (out / "index.html").read_text()


@pytest.mark.e2e
def test_masked_parameters_on_pages_and_the_index(executed, tmp_path):
    """A notebook papermill ran directly (not masked by `locus-nb run`): masked on its way into a handout."""
    ocid = "ocid1.compartment.oc1..aaaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4a7nla"
    nb = nbformat.read(executed / "widgets.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f'# Parameters\ncompartment = "{ocid}"\n',
                                                 metadata={"tags": ["injected-parameters"]}))
    nb.metadata.setdefault("papermill", {})["parameters"] = {"compartment": ocid,
                                                             "endpoint": "https://u:pw123456@h.example/openai/v1"}
    source = tmp_path / "in" / "p.ipynb"
    source.parent.mkdir()
    nbformat.write(nb, source)
    out = tmp_path / "h"
    assert main(["handouts", "--out", str(out), str(source)]) == 0
    for page in ("p.html", "index.html"):
        text = (out / page).read_text()
        assert ocid not in text and "pw123456" not in text and "…7nla" in text
