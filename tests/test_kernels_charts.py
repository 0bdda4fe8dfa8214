"""Terminal heatmaps and bars rendered into a fixed-width console without colour."""

from __future__ import annotations

import io

from llmarch_cli.render.charts import bar_chart, heatmap, render_views
from llmarch_cli.render.console import make_console


def render(renderable) -> str:
    buffer = io.StringIO()
    make_console(file=buffer, width=80).print(renderable)
    return buffer.getvalue()


def test_heatmap_shades_by_magnitude_and_marks_hidden_cells():
    text = render(heatmap([[1.0, 0.0], [0.5, 0.25]], title="w", hide=[[False, True], [False, False]]))
    lines = text.splitlines()
    assert lines[0] == "w"
    assert lines[2] == "0 ██··"
    assert lines[3] == "1 ▒▒░░"


def test_shared_peak_keeps_small_values_light():
    assert render(heatmap([[0.1]], peak=1.0)).splitlines()[1] == "0 ░░"


def test_bar_chart_scales_bars_to_the_largest_value():
    lines = render(bar_chart(["a", "b"], [4.0, 2.0])).splitlines()
    assert lines[0].count("█") == 32 and lines[1].count("█") == 16
    assert lines[0].rstrip().endswith("4") and lines[1].rstrip().endswith("2")


def test_render_views_puts_the_title_first():
    views = [{"kind": "bars", "title": "load", "labels": ["e0"], "values": [1]}]
    assert render(render_views(views, title="moe")).splitlines()[:3] == ["moe", "", "load"]
