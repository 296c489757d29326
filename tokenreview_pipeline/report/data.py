"""What the review report shows, read from the published ledger tables.

Every query reads what analysts see (``review_packets``, ``request_attempts``,
``focus_charges``, and ``budget_reviews`` when that table exists), for one cycle and
optionally one workload; the trend reads the cycles before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.contract import PACKET_CAUSE_ORDER
from tokenreview_pipeline.packet_tables import fetch_packets

#: Cycles in the trend, this one included.
TREND_CYCLES = 8
#: The budget decisions table, added by the budget review (SPEC 5); read when present.
BUDGET_TABLE = "budget_reviews"
BUDGET_COLUMNS = (
    "workload_tag",
    "owner_tag",
    "decision",
    "budget_usd",
    "est_cost_usd",
    "budget_used_share",
    "requested_budget_usd",
    "requested_by",
    "pause_reasons",
    "notes",
)


class ReportError(LookupError):
    """Nothing to report (no packets for the cycle, or not for the workload)."""


def _sum(values: list) -> float | None:
    """Null when any term is null (SPEC 5: an unknown cost makes the total unknown)."""
    return None if any(v is None for v in values) else float(sum(values))


@dataclass
class CycleTotals:
    cycle_id: str
    packets: int
    packets_failed: int
    attempts: int
    retry_attempts: int
    est_cost_usd: float | None
    retry_cost_usd: float | None
    #: The same sums over the packets whose cost is known (what a chart can plot).
    priced_cost_usd: float
    priced_retry_cost_usd: float

    @property
    def retry_share(self) -> float | None:
        return self.retry_attempts / self.attempts if self.attempts else None


def totals(cycle_id: str, packets: list[dict]) -> CycleTotals:
    return CycleTotals(
        cycle_id=cycle_id,
        packets=len(packets),
        packets_failed=sum(1 for p in packets if p["result"] != "pass"),
        attempts=sum(p["attempts"] for p in packets),
        retry_attempts=sum(p["retry_attempts"] for p in packets),
        est_cost_usd=_sum([p["est_cost_usd"] for p in packets]),
        retry_cost_usd=_sum([p["retry_cost_usd"] for p in packets]),
        priced_cost_usd=float(sum(p["est_cost_usd"] or 0 for p in packets)),
        priced_retry_cost_usd=float(sum(p["retry_cost_usd"] or 0 for p in packets)),
    )


@dataclass
class ReportData:
    cycle_id: str
    workload: str | None
    packets: list[dict[str, Any]]
    totals: CycleTotals
    #: workload -> cause -> retries
    retry_causes: dict[str, dict[str, int]]
    #: (model, charge kind) -> cost (None: not priced)
    cost_by_model: dict[tuple[str, str], float | None]
    trend: list[CycleTotals]
    budgets: list[dict[str, Any]] | None = None  # None: no budget_reviews table
    workloads: list[str] = field(default_factory=list)


def retry_causes(packets: list[dict]) -> dict[str, dict[str, int]]:
    causes: dict[str, dict[str, int]] = {}
    for p in packets:
        per = causes.setdefault(p["workload_tag"], {c.name: 0 for c in PACKET_CAUSE_ORDER})
        for cause in PACKET_CAUSE_ORDER:
            per[cause.name] += p[cause.packet_column]
    return causes


def _charge_kind(t: sa.Table) -> sa.Column:
    # SPEC 5 names the column x_ChargeKind (FOCUS 1.3); earlier schemas call it charge_kind.
    return t.c["x_ChargeKind"] if "x_ChargeKind" in t.c else t.c["charge_kind"]


def cost_by_model(
    engine: Engine, cycle_id: str, workload: str | None
) -> dict[tuple[str, str], float | None]:
    t = ledger.focus_charges
    kind = _charge_kind(t)
    query = (
        sa.select(
            t.c.model,
            kind.label("kind"),
            sa.func.sum(t.c.ListCost).label("cost"),
            sa.func.sum(sa.case((t.c.ListCost.is_(None), 1), else_=0)).label("unpriced"),
        )
        .where(t.c.cycle_id == cycle_id)
        .group_by(t.c.model, kind)
    )
    if workload is not None:
        query = query.where(t.c.workload_tag == workload)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {
        (r.model, r.kind): (None if r.unpriced else float(r.cost or 0))
        for r in sorted(rows, key=lambda r: (r.model, r.kind))
    }


def trend(engine: Engine, cycle_id: str, workload: str | None) -> list[CycleTotals]:
    """The last ``TREND_CYCLES`` cycles up to this one that the ledger has packets of."""
    t = ledger.review_packets
    cycles_query = (
        sa.select(t.c.cycle_id)
        .where(t.c.cycle_id <= cycle_id)
        .group_by(t.c.cycle_id)
        .order_by(t.c.cycle_id.desc())
        .limit(TREND_CYCLES)
    )
    if workload is not None:
        cycles_query = cycles_query.where(t.c.workload_tag == workload)
    with engine.connect() as conn:
        cycles = sorted(r.cycle_id for r in conn.execute(cycles_query))
    return [totals(c, fetch_packets(engine, c, workload)) for c in cycles]


def budget_decisions(
    engine: Engine, cycle_id: str, workload: str | None
) -> list[dict[str, Any]] | None:
    """The cycle's rows of ``budget_reviews``, or None when the ledger has no such table."""
    if not sa.inspect(engine).has_table(BUDGET_TABLE):
        return None
    t = sa.Table(BUDGET_TABLE, sa.MetaData(), autoload_with=engine)
    columns = [t.c[c] for c in BUDGET_COLUMNS if c in t.c]
    query = sa.select(*columns).where(t.c.cycle_id == cycle_id)
    if workload is not None:
        query = query.where(t.c.workload_tag == workload)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for row in rows:
        if isinstance(row.get("pause_reasons"), str):
            row["pause_reasons"] = json.loads(row["pause_reasons"])
    return sorted(rows, key=lambda r: r["workload_tag"])


def load_report_data(engine: Engine, cycle_id: str, workload: str | None = None) -> ReportData:
    everything = fetch_packets(engine, cycle_id)
    workloads = sorted({p["workload_tag"] for p in everything})
    if not everything:
        raise ReportError(f"cycle {cycle_id} has no packets; run `tokenreview run` first")
    packets = [p for p in everything if workload is None or p["workload_tag"] == workload]
    if not packets:
        raise ReportError(
            f"no packets for workload {workload!r} in cycle {cycle_id}; workloads in this "
            f"cycle: {', '.join(workloads)}"
        )
    return ReportData(
        cycle_id=cycle_id,
        workload=workload,
        packets=packets,
        totals=totals(cycle_id, packets),
        retry_causes=retry_causes(packets),
        cost_by_model=cost_by_model(engine, cycle_id, workload),
        trend=trend(engine, cycle_id, workload),
        budgets=budget_decisions(engine, cycle_id, workload),
        workloads=workloads,
    )
