"""Terminal heatmaps and bar charts as Rich renderables. Draws given numbers; computes none.

Shading uses block characters (`` ░▒▓█``), so the picture survives without colour; on a
colour terminal positive values are also red and negative ones blue. A view is a plain dict
(``kind`` heatmap / bars / table), as ``kernels.demo`` builds them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

SHADES = " ░▒▓█"
HIDDEN = "··"
BAR_WIDTH = 32
_EIGHTHS = " ▏▎▍▌▋▊▉"


def _shade(fraction: float) -> str:
    """0..1 -> one of SHADES (0 is blank only for exactly 0), doubled to make a square cell."""
    if fraction <= 0:
        return SHADES[0] * 2
    level = min(len(SHADES) - 1, 1 + int(fraction * (len(SHADES) - 1) - 1e-9))
    return SHADES[level] * 2


def heatmap(matrix: Sequence[Sequence[float]], *, title: str = "", rows: str = "row",
            cols: str = "col", signed: bool = False,
            hide: Sequence[Sequence[bool]] | None = None, peak: float | None = None) -> RenderableType:
    """One square cell per value, shaded by |value| / ``peak`` (default: max |value| shown).

    ``hide`` marks cells drawn as ``··`` (masked attention, future keys); a shared ``peak``
    makes several heatmaps comparable.
    """
    n_rows = len(matrix)
    n_cols = len(matrix[0]) if n_rows else 0
    visible = [abs(v) for r, row in enumerate(matrix) for c, v in enumerate(row)
               if hide is None or not hide[r][c]]
    peak = peak or max(visible, default=0.0) or 1.0
    label_width = len(str(n_rows - 1))
    out = Text()
    if title:
        out.append(title + "\n", style="bold")
    out.append(" " * (label_width + 1) + "".join(f"{c % 10:<2}" for c in range(n_cols)) + f"  {cols}\n",
               style="dim")
    for r, row in enumerate(matrix):
        out.append(f"{r:>{label_width}} ", style="dim")
        for c, value in enumerate(row):
            if hide is not None and hide[r][c]:
                out.append(HIDDEN, style="dim")
                continue
            style = ("red" if value > 0 else "blue") if signed and value else "green"
            out.append(_shade(abs(value) / peak), style=style)
        out.append("\n")
    sign = "|value|" if signed else "value"
    legend = f"{rows} down, {cols} across; ░▒▓█ = {sign} up to {peak:.4g}"
    legend += " (red +, blue -)" if signed else ""
    legend += "; ·· masked" if hide is not None else ""
    out.append(legend, style="dim")
    return out


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str = "") -> RenderableType:
    """Horizontal bars scaled to the largest value, with the value printed after each bar."""
    peak = max((abs(v) for v in values), default=0.0) or 1.0
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="left", style="dim")
    grid.add_column(justify="left")
    grid.add_column(justify="right")
    for label, value in zip(labels, values, strict=True):
        eighths = round(abs(value) / peak * BAR_WIDTH * 8)
        bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
        grid.add_row(label, Text(bar.ljust(BAR_WIDTH), style="cyan"), f"{value:.4g}")
    if not title:
        return grid
    return Group(Text(title, style="bold"), grid)


def render_view(view: Mapping[str, Any]) -> RenderableType:
    """A view dict -> renderable: heatmap, bars, or a small table of rows."""
    kind = view["kind"]
    if kind == "heatmap":
        return heatmap(view["matrix"], title=view.get("title", ""), rows=view.get("rows", "row"),
                       cols=view.get("cols", "col"), signed=view.get("signed", False),
                       hide=view.get("hide"), peak=view.get("peak"))
    if kind == "bars":
        return bar_chart(view["labels"], view["values"], title=view.get("title", ""))
    if kind == "table":
        from llmarch_cli.render.formats import header
        from llmarch_cli.render.tables import rows_table

        rows = view["rows"]
        columns = {key: header(key) for key in rows[0]} if rows else {}
        return rows_table(rows, columns, title=view.get("title"))
    raise ValueError(f"unknown view kind {kind!r}")


def render_views(views: Sequence[Mapping[str, Any]], *, title: str = "") -> RenderableType:
    """A title line, then each view, separated by blank lines."""
    parts: list[RenderableType] = [Text(title, style="bold")] if title else []
    for view in views:
        parts += [Text(""), render_view(view)] if parts else [render_view(view)]
    return Group(*parts)
