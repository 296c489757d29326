"""Human-readable views of a cycle's packets (Dagster UI markdown, CLI tables)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger

SUMMARY_COLUMNS = (
    "workload_tag",
    "request_class",
    "owner_tag",
    "attempts",
    "retry_attempts",
    "est_cost_usd",
    "unit_cost",
    "result",
    "failed_requirements",
)


def fetch_packets(
    engine: Engine, cycle_id: str, workload: str | None = None
) -> list[dict[str, Any]]:
    t = ledger.review_packets
    query = sa.select(t).where(t.c.cycle_id == cycle_id)
    if workload is not None:
        query = query.where(t.c.workload_tag == workload)
    with engine.connect() as conn:
        packets = [dict(row) for row in conn.execute(query).mappings()]
    # Ordered here, by code point, so both backends agree whatever the database's
    # collation (PostgreSQL's locale order differs from SQLite's byte order).
    return sorted(packets, key=lambda p: (p["workload_tag"], p["request_class"] or ""))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    if hasattr(value, "quantize"):
        return f"{float(value):.6f}"
    if isinstance(value, str) and value.startswith("["):
        try:
            return ", ".join(json.loads(value)) or "-"
        except (ValueError, TypeError):
            return value
    return str(value)


def packets_markdown(engine: Engine, cycle_id: str) -> str:
    packets = fetch_packets(engine, cycle_id)
    header = "| " + " | ".join(SUMMARY_COLUMNS) + " |"
    rule = "|" + "---|" * len(SUMMARY_COLUMNS)
    lines = [header, rule]
    for p in packets:
        lines.append(
            "| " + " | ".join(_cell(p[c]).replace("|", "\\|") for c in SUMMARY_COLUMNS) + " |"
        )
    passed = sum(1 for p in packets if p["result"] == "pass")
    lines.append("")
    lines.append(f"{len(packets)} packet(s): {passed} pass, {len(packets) - passed} fail.")
    return "\n".join(lines)
