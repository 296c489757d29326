"""``tokenreview report``: one self-contained HTML file for a cycle's review meeting.

Packets and their results, retries by cause per workload, cost by model and token
class, the trend over the last cycles in the ledger, and the budget decisions when the
ledger has ``budget_reviews``. Charts are inline SVG (``charts.py``), styles are inline,
and the page loads nothing: it opens offline, from a mail attachment or a wiki upload.
The template is Jinja2 with autoescaping (``templates/report.html.j2``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.engine import Engine

from tokenreview_pipeline.contract import PACKET_CAUSE_ORDER
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.packet_tables import cell
from tokenreview_pipeline.report.charts import (
    cost_by_model_chart,
    retry_causes_chart,
    trend_chart,
)
from tokenreview_pipeline.report.data import BUDGET_COLUMNS, ReportError, load_report_data

__all__ = ["ReportError", "render_report", "write_report"]

PACKET_COLUMNS = (
    "workload_tag",
    "request_class",
    "owner_tag",
    "attempts",
    "retry_attempts",
    "retry_share",
    "est_cost_usd",
    "retry_cost_usd",
    "unit_cost",
    "result",
    "failed_requirements",
    "notes",
)


def _money(value) -> str:
    return "unknown" if value is None else f"${float(value):,.6f}"


def _share(value) -> str:
    return "-" if value is None else f"{float(value):.1%}"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tokenreview_pipeline.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=_money, share=_share, cell=cell)
    return env


def render_report(
    engine: Engine, cycle: Cycle, *, workload: str | None = None, ledger_url: str = ""
) -> str:
    """The report's HTML; raises ``ReportError`` when there is nothing to report."""
    data = load_report_data(engine, cycle.cycle_id, workload)
    charts = {
        "retry_causes": Markup(retry_causes_chart(data.retry_causes)),
        "trend": Markup(trend_chart(data.trend)),
        "cost_by_model": Markup(cost_by_model_chart(data.cost_by_model))
        if data.cost_by_model
        else None,
    }
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            cycle=cycle,
            charts=charts,
            packet_columns=PACKET_COLUMNS,
            budget_columns=BUDGET_COLUMNS,
            causes=[c.name for c in PACKET_CAUSE_ORDER],
            generated_at=datetime.now(timezone.utc),  # noqa: UP017 (Python 3.10)
            ledger_url=ledger_url,
        )
    )


def write_report(path: Path, html: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a report
    return path
