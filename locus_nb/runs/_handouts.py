"""Executed notebooks → standalone HTML handouts, readable offline with their widgets, plus an index page.

nbconvert's HTML loads require.js and the widget renderer from CDNs, so offline a widget shows
nothing. Here each widget's final state (which papermill stores in `metadata.widgets`) is rendered
as static HTML in place, and the template drops every script the page would fetch from the network.

Handouts are of one edition (`notebook._editions`), and only notebooks run in it are converted: the learner
edition's pages hold no solution (the cells tagged `solution` are dropped, so not one line of a solution's code
is on the page, folded or not); the instructor edition's show each exercise cell run with its solution and its
check's ✓ (the folded copy of the solution is dropped too: the cell above it shows the same code, executed).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._redact import mask_assignments, mask_param
from ..notebook._editions import EDITIONS, edition_of

__all__ = ["build_handouts", "external_resources", "mask_executed", "mask_notebook", "render_widget"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# The lab template minus everything loaded from a CDN (require.js, widget renderer, MathJax, Mermaid).
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{% block html_head_js_requirejs %}{% endblock html_head_js_requirejs %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block html_head_js_mathjax %}{% endblock html_head_js_mathjax %}
{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}
"""

_TEXT_MODELS = {"LabelModel", "TextModel", "TextareaModel", "PasswordModel"}
_BOX_MODELS = {"BoxModel", "VBoxModel", "HBoxModel", "GridBoxModel"}
_MODEL_REF = "IPY_MODEL_"


def mask_notebook(nb: Any, output: str | Path | None = None, source: str | Path | None = None) -> Any:
    """What papermill wrote with the parameters as given, masked: the injected-parameters cell and the
    parameters in `metadata.papermill` (OCIDs, URL credentials, secret-looking names). `output`, `source`: the
    paths to record as papermill's output and input paths (a run executes into a scratch file, and an edition
    from one)."""
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = mask_assignments(cell.source)
    papermill = nb.metadata.get("papermill")
    if isinstance(papermill, dict):
        if isinstance(papermill.get("parameters"), dict):
            papermill["parameters"] = {k: mask_param(k, v) if isinstance(v, str) else v
                                       for k, v in papermill["parameters"].items()}
        for key, path in (("output_path", output), ("input_path", source)):
            if path is not None and key in papermill:
                papermill[key] = str(path)
    return nb


def mask_executed(source: Path, target: Path, lesson: Path | None = None) -> None:
    """Read the notebook papermill wrote at `source`, mask it (`mask_notebook`), write it to `target`;
    `lesson`: the notebook the run was made of."""
    import nbformat

    nb = nbformat.read(source, as_version=4)
    nbformat.write(mask_notebook(nb, target, lesson), target)


def render_widget(model_id: str, state: Mapping[str, Any], _depth: int = 0) -> str | None:
    """A widget's final state as static HTML, or None when it has no static form (then the text fallback shows)."""
    model = state.get(model_id)
    if model is None or _depth > 20:
        return None
    name, values = model.get("model_name"), model.get("state", {})
    if name in ("HTMLModel", "HTMLMathModel"):
        return str(values.get("value", ""))  # already HTML: that is what the widget displays
    if name in _TEXT_MODELS:
        return f'<pre style="white-space:pre-wrap">{html.escape(str(values.get("value", "")))}</pre>'
    if name in _BOX_MODELS:
        parts = [render_widget(str(child).removeprefix(_MODEL_REF), state, _depth + 1)
                 for child in values.get("children", ())]
        return "<div>" + "".join(p for p in parts if p) + "</div>"
    return None


def _static_widgets(nb: Any) -> None:
    """Replace each widget view by its final state as HTML; drop the state, so no widget JS is emitted."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        for output in cell.get("outputs", ()):
            data = output.get("data", {})
            view = data.pop(WIDGET_VIEW, None)
            if view is not None and (rendered := render_widget(view.get("model_id", ""), state)) is not None:
                data["text/html"] = rendered
    nb.metadata.pop("widgets", None)


_NOTEBOOK_LINK = re.compile(r"\]\(([\w-]+)((?:\.[\w=-]+)*)\.ipynb(#[^)]*)?\)")


def _relink(nb: Any, targets: Mapping[str, str]) -> None:
    """Links between notebooks (`](02_stored.ipynb)`) point at the matching handouts instead."""
    def swap(m: re.Match[str]) -> str:
        target = targets.get(m.group(1))
        return f"]({target}{m.group(3) or ''})" if target else m.group(0)

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _NOTEBOOK_LINK.sub(swap, cell.source)


def _title(nb: Any, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (m := re.search(r"^#\s+(.+)$", cell.source, re.M)):
            return m.group(1).replace("`", "").strip()
    return fallback


def _exporter() -> Any:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file="handout.html.j2",
                        extra_loaders=[DictLoader({"handout.html.j2": _TEMPLATE})])


def _lesson(stem: str) -> str:
    """`02_stored.store-True` → `02_stored`: the notebook a (possibly parameterised) run came from."""
    return stem.split(".", 1)[0]


def _page_names(stems: Sequence[str]) -> list[str]:
    """One page name per notebook: its stem, unless that is `index` (the index page's) or already taken
    (two `01_stateless.ipynb` from different folders): then `<stem>-2`, `-3`, …"""
    taken, names = {"index"}, []
    for stem in stems:
        name = stem
        n = 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        names.append(name)
    return names


def _read(source: Path) -> Any:
    import nbformat

    try:
        return nbformat.read(source, as_version=4)
    except Exception as exc:  # not JSON, not a notebook, unreadable: reported, the others still written
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        raise ValueError(f"not a readable notebook ({type(exc).__name__}{': ' + reason if reason else ''})") from None


def _of_edition(source: Path, edition: str) -> Any:
    """The executed notebook at `source`, its solutions dropped; ValueError when it is unreadable or was run in
    another edition (a learner's page must not show the instructor edition's solved exercise cells)."""
    nb = _read(source)
    if (ran := edition_of(nb)) != edition:
        raise ValueError(f"it was run in the {ran} edition: make its handout with --edition {ran}, or run the "
                         f"lessons with `locus-nb run --edition {edition}` for {edition} handouts")
    nb.cells = [c for c in nb.cells if "solution" not in c.get("metadata", {}).get("tags", [])]
    return nb


def build_handouts(sources: Sequence[Path], out_dir: Path, skipped: list[tuple[Path, str]] | None = None,
                   edition: str = "learner") -> Path:
    """Write one `<name>.html` per executed notebook of `edition` and an `index.html`; return the index's path.

    A notebook that cannot be read, or was run in another edition, is left out and appended to `skipped` as
    (path, reason); the others are still written. Page names never overwrite one another or the index
    (`_page_names`).
    """
    if edition not in EDITIONS:
        raise ValueError(f"an edition is one of {', '.join(EDITIONS)}; got {edition!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    notebooks = []
    for source in sources:
        try:
            notebooks.append((Path(source), _of_edition(Path(source), edition)))
        except ValueError as why:
            if skipped is None:
                raise
            skipped.append((Path(source), str(why)))
    stems = [source.stem for source, _ in notebooks]
    pages = _page_names(stems)
    exporter = _exporter()
    entries = []
    for (source, nb), stem, page in zip(notebooks, stems, pages, strict=True):
        variant = stem[len(_lesson(stem)):]  # e.g. ".store-True": link to the same variant of other lessons
        targets = {}
        for lesson in {_lesson(s) for s in stems}:
            same = lesson + variant
            chosen = same if same in stems else next(s for s in stems if _lesson(s) == lesson)
            targets[lesson] = quote(pages[stems.index(chosen)]) + ".html"
        mask_notebook(nb)
        _static_widgets(nb)
        _relink(nb, targets)
        title = _title(nb, stem)
        nb.metadata["title"] = title
        body, _ = exporter.from_notebook_node(nb)
        (out_dir / f"{page}.html").write_text(body, encoding="utf-8")
        papermill = nb.metadata.get("papermill", {})
        shown_file = f"{source.parent.name}/{source.name}" if stems.count(stem) > 1 else source.name
        entries.append((page, title, papermill.get("parameters") or {}, bool(papermill.get("exception")), shown_file))
    index = out_dir / "index.html"
    index.write_text(_index_page(entries, edition), encoding="utf-8")
    return index


_EDITION_NOTE = {
    "learner": "The learner edition: each lesson's exercises as a learner gets them, starter code and its "
               "&ldquo;not yet&rdquo; hint, no solutions.",
    "instructor": "The instructor edition: each exercise cell holds its solution, run, with its check's ✓.",
}


def _index_page(entries: Sequence[tuple[str, str, Mapping[str, Any], bool, str]], edition: str) -> str:
    rows = []
    for page, title, params, failed, file in entries:
        chips = "".join(f'<span class="chip">{html.escape(f"{k}={mask_param(k, v)}")}</span>'
                        for k, v in params.items())
        flag = '<span class="failed">run failed</span>' if failed else ""
        rows.append(f'<li><a href="{html.escape(quote(page))}.html">{html.escape(title)}</a> {chips}{flag}'
                    f'<div class="file">{html.escape(file)}</div></li>')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>locus-notebooks · handouts · {edition} edition</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
li {{ margin: .8rem 0; }} a {{ font-size: 1.1rem; }}
.chip {{ background: #e3f2fd; border-radius: .6rem; padding: .1rem .5rem; margin-left: .4rem; font-size: .85rem; }}
.failed {{ background: #ffebee; color: #c62828; border-radius: .6rem; padding: .1rem .5rem; margin-left: .4rem; }}
.file {{ color: #777; font-size: .85rem; font-family: monospace; }}
</style></head>
<body>
<h1>locus-notebooks · handouts · {edition} edition</h1>
<p>Executed lessons on OCI Generative AI's Responses endpoint. Each page is self-contained: it reads offline,
widgets included (shown as they were when the notebook finished).</p>
<p class="edition">{_EDITION_NOTE[edition]}</p>
<ul>
{chr(10).join(rows)}
</ul>
</body></html>
"""


_RESOURCE = re.compile(r"""<(?:script|img|iframe|audio|video|source|embed)\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)"""
                       r"""|<link\b[^>]*\bhref\s*=\s*["']?([^"'\s>]+)|@import\s+(?:url\()?["']?([^"')\s;]+)""", re.I)


def external_resources(page: str) -> list[str]:
    """URLs a browser would fetch from the network on opening this page (scripts, styles, images…)."""
    found = [next(g for g in m.groups() if g) for m in _RESOURCE.finditer(page)]
    return [u for u in found if re.match(r"^(https?:)?//", u) and not re.match(r"^(https?:)?//(127\.0\.0\.1|localhost)[:/]", u)]
