"""The report's charts as inline SVG, drawn with pygal (pure Python, SVG output).

pygal was chosen over matplotlib: it writes SVG directly (no rendering backend, no
font cache, no numpy), is a small pure-Python wheel, and its charts keep their
labels as text. Its one network dependency is the tooltip script it links by
default: ``js=[]`` drops it, so a chart needs nothing but the file it is inlined in.
Its stylesheet is inlined by pygal itself.
"""

from __future__ import annotations

import pygal
from pygal.style import Style

from tokenreview_pipeline.report.data import CycleTotals

_STYLE = Style(
    background="white",
    plot_background="white",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
    title_font_size=14,
)


def _options(title: str, **extra) -> dict:
    return {
        "title": title,
        "style": _STYLE,
        "js": [],  # no external tooltip script: the report opens offline
        "disable_xml_declaration": True,  # inlined in HTML
        "width": 860,
        "height": 420,
        "legend_at_bottom": True,
        "print_values": False,
        **extra,
    }


def _svg(chart) -> str:
    return chart.render(is_unicode=True)


def retry_causes_chart(causes: dict[str, dict[str, int]]) -> str:
    """Retries per workload, stacked by cause."""
    workloads = list(causes)
    names = list(next(iter(causes.values()))) if causes else []
    chart = pygal.HorizontalStackedBar(
        **_options("Retries by cause, per workload", x_title="retries")
    )
    chart.x_labels = workloads
    for name in names:
        chart.add(name, [causes[w][name] for w in workloads])
    return _svg(chart)


def cost_by_model_chart(costs: dict[tuple[str, str], float | None]) -> str:
    """Estimated cost per model, stacked by token class (charge kind)."""
    models = sorted({m for m, _ in costs})
    kinds = sorted({k for _, k in costs})
    chart = pygal.StackedBar(
        **_options("Estimated cost by model and token class (USD)", x_label_rotation=20)
    )
    chart.x_labels = models
    for kind in kinds:
        chart.add(kind, [costs.get((m, kind)) for m in models])
    return _svg(chart)


def trend_chart(trend: list[CycleTotals]) -> str:
    """Estimated and retry cost of the priced packets per cycle (a packet with an unknown
    cost would make a cycle's total unknown: the table below says which totals are), and
    the retry share on a second axis."""
    chart = pygal.Line(**_options("Cost of priced packets and retry share, last cycles"))
    chart.x_labels = [t.cycle_id for t in trend]
    chart.add("estimated cost (USD)", [t.priced_cost_usd for t in trend])
    chart.add("retry cost (USD)", [t.priced_retry_cost_usd for t in trend])
    chart.add("retry share", [t.retry_share for t in trend], secondary=True)
    return _svg(chart)
