"""A small grouped bar chart for notebooks: styled HTML in JupyterLab and HTML handouts, text bars elsewhere.

No plotting library: the lessons need one chart of a few numbers, and both renderings are
deterministic, so nbval can compare them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

__all__ = ["BarChart"]

_COLORS = ("#1976d2", "#ef6c00", "#2e7d32", "#8e24aa")
_EIGHTHS = " ▏▎▍▌▋▊▉"


class BarChart:
    """Horizontal bars, one group per row (e.g. a turn), one bar per series (e.g. a mode).

    >>> BarChart("request bytes per turn", {"turn 1": {"stateless": 263, "stored": 270}}, unit="B")
    """

    def __init__(self, title: str, groups: Mapping[str, Mapping[str, float]], *, unit: str = "",
                 width: int = 40) -> None:
        self.title = title
        self.groups = {str(g): {str(s): v for s, v in bars.items()} for g, bars in groups.items()}
        self.unit = unit
        self.width = width
        self.series = list(dict.fromkeys(s for bars in self.groups.values() for s in bars))
        self.peak = max((v for bars in self.groups.values() for v in bars.values()), default=0) or 1

    def _value(self, value: float) -> str:
        number = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
        return f"{number} {self.unit}".rstrip()

    def _text_bar(self, value: float) -> str:
        eighths = round(value / self.peak * self.width * 8)
        full, part = divmod(eighths, 8)
        return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(self.width)

    def __repr__(self) -> str:
        group_w = max(map(len, self.groups), default=0)
        series_w = max(map(len, self.series), default=0)
        lines = [self.title]
        for group, bars in self.groups.items():
            for i, (series, value) in enumerate(bars.items()):
                label = group if i == 0 else ""
                lines.append(f"{label:<{group_w}}  {series:<{series_w}}  {self._text_bar(value)} {self._value(value)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        # Plain spans with inline styles, not SVG: JupyterLab sanitizes the HTML of an untrusted
        # notebook (a committed one, freshly opened) and keeps these, where an SVG would lose its
        # shapes and show as run-together text.
        bar_w, label_w, row_h = 300, 150, 18
        color = {s: _COLORS[i % len(_COLORS)] for i, s in enumerate(self.series)}
        out = ['<div class="locus-chart" style="font-family:sans-serif;font-size:12px;line-height:18px">',
               f'<div style="font-weight:bold;margin-bottom:6px">{html.escape(self.title)}</div>']
        for group, bars in self.groups.items():
            for i, (series, value) in enumerate(bars.items()):
                label = html.escape(group) if i == 0 else ""
                w = round(value / self.peak * bar_w)
                out.append(f'<div style="height:{row_h}px;white-space:nowrap">'
                           f'<span style="display:inline-block;width:{label_w}px">{label}</span>'
                           f'<span style="display:inline-block;vertical-align:middle;width:{w}px;height:14px;'
                           f'background-color:{color[series]}"></span>'
                           f'<span style="margin-left:4px">{html.escape(self._value(value))}</span></div>')
            out.append('<div style="height:8px"></div>')
        out.append(f'<div style="padding-left:{label_w}px">')
        for series in self.series:  # legend
            out.append(f'<span style="display:inline-block;vertical-align:middle;width:10px;height:10px;'
                       f'background-color:{color[series]};margin-right:4px"></span>'
                       f'<span style="margin-right:14px">{html.escape(series)}</span>')
        out.append("</div></div>")
        return "".join(out)
