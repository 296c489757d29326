"""Extra Dagster metadata a SQL model declares in its header (``-- metadata: name``).

Each entry maps a name to a function of (ledger engine, cycle id, the table the model
wrote) returning metadata entries for the model's materialization, so no asset is
special-cased by name. Numbers are emitted as int/float metadata on every
materialization (zeros included), so the Dagster UI plots each of them across cycles
(asset page > Plots).
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.contract import PACKET_CAUSE_ORDER, Reason
from tokenreview_pipeline.packet_tables import (
    budget_markdown,
    fetch_packets,
    markdown_table,
    packets_markdown,
)

MetadataFn = Callable[[Engine, str, str], dict[str, object]]

#: The reconciliation counts of ``extraction_runs`` (SPEC 4.1), in the SPEC's order.
RECONCILIATION_COUNTS = (
    "records_read",
    "attempts_staged",
    "records_quarantined",
    "exact_duplicates",
    "other_cycle_records",
    "redacted_values",
)


def _sum_or_none(values: list) -> float | None:
    """A sum that is unknown when any term is (SPEC 5: a null cost makes the total null)."""
    return None if any(v is None for v in values) else float(sum(values))


def _number(value: float | None) -> object:
    return dg.MetadataValue.null() if value is None else dg.MetadataValue.float(value)


def packet_measures(packets: list[dict]) -> dict[str, object]:
    """A cycle's packet totals as plottable numbers: packets passed and failed, retries
    per cause, retry share, estimated and retry cost."""
    attempts = sum(p["attempts"] for p in packets)
    retries = sum(p["retry_attempts"] for p in packets)
    passed = sum(1 for p in packets if p["result"] == "pass")
    measures: dict[str, object] = {
        "packets_passed": dg.MetadataValue.int(passed),
        "packets_failed": dg.MetadataValue.int(len(packets) - passed),
        "attempts": dg.MetadataValue.int(attempts),
        "retry_attempts": dg.MetadataValue.int(retries),
        "retry_share": _number(retries / attempts if attempts else None),
        "est_cost_usd": _number(_sum_or_none([p["est_cost_usd"] for p in packets])),
        "retry_cost_usd": _number(_sum_or_none([p["retry_cost_usd"] for p in packets])),
        # The same over the packets whose cost is known: a series that plots every cycle.
        "priced_est_cost_usd": dg.MetadataValue.float(
            float(sum(p["est_cost_usd"] or 0 for p in packets))
        ),
        "priced_retry_cost_usd": dg.MetadataValue.float(
            float(sum(p["retry_cost_usd"] or 0 for p in packets))
        ),
    }
    for cause in PACKET_CAUSE_ORDER:
        measures[cause.packet_column] = dg.MetadataValue.int(
            sum(p[cause.packet_column] for p in packets)
        )
    return measures


def _packet_table(engine: Engine, cycle_id: str, table: str) -> dict[str, object]:
    packets = fetch_packets(engine, cycle_id, table=table)
    return {
        "packets": dg.MetadataValue.md(packets_markdown(engine, cycle_id, table)),
        **packet_measures(packets),
    }


def _extraction_counts(engine: Engine, cycle_id: str, table: str) -> dict[str, object]:
    t = ledger.metadata.tables[table]
    with engine.connect() as conn:
        row = conn.execute(sa.select(t).where(t.c.cycle_id == cycle_id)).mappings().first()
    if row is None:
        return {}
    return {name: dg.MetadataValue.int(int(row[name])) for name in RECONCILIATION_COUNTS}


def reason_family(reason: str) -> str:
    """``missing_field:model`` and ``invalid_type:tags`` count as their family."""
    return reason.split(":", 1)[0]


def _quarantine_reasons(engine: Engine, cycle_id: str, table: str) -> dict[str, object]:
    t = ledger.metadata.tables[table]
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(t.c.reason, sa.func.count().label("records"))
            .where(t.c.cycle_id == cycle_id)
            .group_by(t.c.reason)
        ).all()
    families = {str(r): 0 for r in Reason}
    for reason, records in found:
        family = reason_family(reason)
        families[family] = families.get(family, 0) + records
    rows = [{"reason": r, "records": n} for r, n in sorted(found)]
    return {
        **{f"quarantined_{name}": dg.MetadataValue.int(n) for name, n in families.items()},
        "reasons": dg.MetadataValue.md(
            markdown_table(rows, ("reason", "records")) if rows else "(nothing quarantined)"
        ),
    }


def _budget_table(engine: Engine, cycle_id: str, table: str) -> dict[str, object]:
    return {"budget_decisions": dg.MetadataValue.md(budget_markdown(engine, cycle_id, table))}


MODEL_METADATA: dict[str, MetadataFn] = {
    "packet_table": _packet_table,
    "budget_table": _budget_table,
    "extraction_counts": _extraction_counts,
    "quarantine_reasons": _quarantine_reasons,
}


def extra_metadata(
    names: tuple[str, ...], engine: Engine, cycle_id: str, table: str
) -> dict[str, object]:
    metadata: dict[str, object] = {}
    for name in names:
        metadata.update(MODEL_METADATA[name](engine, cycle_id, table))
    return metadata
