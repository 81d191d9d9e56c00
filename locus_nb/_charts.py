"""A small grouped bar chart for notebooks: SVG in JupyterLab and HTML handouts, text bars elsewhere.

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
        bar_h, gap, label_w, bar_w, value_w = 16, 10, 150, 300, 90
        rows = sum(len(b) for b in self.groups.values())
        height = 28 + rows * (bar_h + 2) + len(self.groups) * gap + 22
        color = {s: _COLORS[i % len(_COLORS)] for i, s in enumerate(self.series)}
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + value_w}" height="{height}" '
               f'font-family="sans-serif" font-size="12" role="img">',
               f'<text x="0" y="14" font-weight="bold">{html.escape(self.title)}</text>']
        y = 28
        for group, bars in self.groups.items():
            out.append(f'<text x="0" y="{y + 12}">{html.escape(group)}</text>')
            for series, value in bars.items():
                w = round(value / self.peak * bar_w)
                out.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{color[series]}"/>'
                           f'<text x="{label_w + w + 4}" y="{y + 12}">{html.escape(self._value(value))}</text>')
                y += bar_h + 2
            y += gap
        x = label_w
        for series in self.series:  # legend
            out.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color[series]}"/>'
                       f'<text x="{x + 14}" y="{y + 9}">{html.escape(series)}</text>')
            x += 24 + 7 * len(series)
        out.append("</svg>")
        return "".join(out)
