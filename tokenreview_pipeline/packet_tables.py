"""Human-readable views of a cycle's packets (Dagster UI markdown, CLI table).

Tables are rendered by pandas through tabulate (``to_markdown``; ``simple`` for a terminal).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
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
#: The Dagster UI's packet table adds what is missing and who must supply it.
UI_COLUMNS = (*SUMMARY_COLUMNS, "notes")


def fetch_packets(
    engine: Engine, cycle_id: str, workload: str | None = None, table: str | None = None
) -> list[dict[str, Any]]:
    """A cycle's packets from ``review_packets`` (or, for a run's own view before
    publication, the named build table), ordered by workload and request class."""
    t = ledger.metadata.tables[table] if table else ledger.review_packets
    query = sa.select(t).where(t.c.cycle_id == cycle_id)
    if workload is not None:
        query = query.where(t.c.workload_tag == workload)
    with engine.connect() as conn:
        packets = [dict(row) for row in conn.execute(query).mappings()]
    # Ordered here, by code point, so both backends agree whatever the database's
    # collation (PostgreSQL's locale order differs from SQLite's byte order).
    return sorted(packets, key=lambda p: (p["workload_tag"], p["request_class"] or ""))


def cell(value: Any) -> str:
    """A value as people read it: costs to 1e-6, JSON arrays (stored as text or decoded)
    as comma lists, a note's lines on one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) or hasattr(value, "quantize"):
        return f"{float(value):.6f}"
    if isinstance(value, str) and value.startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return " ".join(str(value).splitlines())  # a note's lines are sentences


def markdown_table(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> str:
    """Rows as a markdown table for the Dagster UI (pipes in values escaped)."""
    frame = pd.DataFrame(
        [[cell(r.get(c)).replace("|", "\\|") for c in columns] for r in rows], columns=columns
    )
    return frame.to_markdown(index=False, disable_numparse=True)


def summary_frame(
    packets: list[dict[str, Any]], columns: tuple[str, ...] = SUMMARY_COLUMNS
) -> pd.DataFrame:
    """The packets' summary columns, formatted for people (costs to 1e-6)."""
    return pd.DataFrame([[cell(p[c]) for c in columns] for p in packets], columns=columns)


def packets_text(packets: list[dict[str, Any]]) -> str:
    return summary_frame(packets).to_markdown(index=False, tablefmt="simple", disable_numparse=True)


def packets_markdown(engine: Engine, cycle_id: str, table: str | None = None) -> str:
    packets = fetch_packets(engine, cycle_id, table=table)
    passed = sum(1 for p in packets if p["result"] == "pass")
    table = markdown_table(packets, UI_COLUMNS) if packets else "(no packets)"
    return f"{table}\n\n{len(packets)} packet(s): {passed} pass, {len(packets) - passed} fail."
