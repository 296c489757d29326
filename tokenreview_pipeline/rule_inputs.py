"""Write a cycle's rule inputs (SPEC 2.4) into their staging tables, for SQL to join.

Maintenance windows, known sources and evidence sources are configuration; the SQL
models apply them (``int_retry_causes.sql``, ``review_packets.sql``). Each function
replaces the cycle's rows in one transaction (delete, insert) and returns the number
of rows written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.extract.load import to_us
from tokenreview_pipeline.extract.records import redact_value
from tokenreview_pipeline.ip_keys import network_range
from tokenreview_pipeline.maintenance import expand_windows
from tokenreview_pipeline.sources import EvidenceSource, KnownSources


def replace_cycle_rows(engine: Engine, table: sa.Table, cycle_id: str, rows: list[dict]) -> int:
    """Replace the cycle's rows of ``table`` with ``rows`` in one transaction."""
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.cycle_id == cycle_id))
        if rows:
            conn.execute(table.insert(), rows)
    return len(rows)


def stage_maintenance_windows(
    engine: Engine, cycle: Cycle, windows: Sequence, retry_span_s: int
) -> int:
    """Maintenance windows as concrete UTC intervals meeting the cycle's read window
    (every attempt a retry cause reads lies in it)."""
    start, end = cycle.read_window(retry_span_s)
    intervals = expand_windows(windows, start, end)
    rows = [
        {
            "cycle_id": cycle.cycle_id,
            "window_start": s,
            "window_end": e,
            "window_start_us": to_us(s),
            "window_end_us": to_us(e),
            "source_url": url,
        }
        for s, e, url in intervals
    ]
    return replace_cycle_rows(engine, ledger.stg_maintenance_windows, cycle.cycle_id, rows)


def stage_evidence_sources(engine: Engine, cycle: Cycle, sources: Sequence[EvidenceSource]) -> int:
    rows = [
        {
            "cycle_id": cycle.cycle_id,
            "position": i,
            "area": s.area,
            "url": s.url,
            "accessed_on": s.accessed_on,
        }
        for i, s in enumerate(sources)
    ]
    return replace_cycle_rows(engine, ledger.stg_evidence_sources, cycle.cycle_id, rows)


def stage_known_sources(engine: Engine, cycle: Cycle, known: KnownSources) -> int:
    """``known_sources.yaml``: which lists are configured (one row) and their entries.

    API key ids are redacted as record values are (SPEC 2.5) before SQL compares them;
    networks are stored as their first and last address key (``ip_keys``).
    """
    lists = {
        "cycle_id": cycle.cycle_id,
        "api_key_ids_configured": known.api_key_ids is not None,
        "source_cidrs_configured": known.source_cidrs is not None,
    }
    entries: list[dict] = []
    for key in sorted(known.api_key_ids or ()):
        entries.append({"api_key_id": redact_value(key)[0]})
    for network in known.source_cidrs or ():
        ip_from, ip_to = network_range(network)
        entries.append({"network": str(network), "ip_from": ip_from, "ip_to": ip_to})
    rows = [
        {
            "cycle_id": cycle.cycle_id,
            "position": i,
            "api_key_id": None,
            "network": None,
            "ip_from": None,
            "ip_to": None,
            **entry,
        }
        for i, entry in enumerate(entries)
    ]
    with engine.begin() as conn:
        for table in (ledger.stg_known_source_lists, ledger.stg_known_sources):
            conn.execute(sa.delete(table).where(table.c.cycle_id == cycle.cycle_id))
        conn.execute(ledger.stg_known_source_lists.insert(), lists)
        if rows:
            conn.execute(ledger.stg_known_sources.insert(), rows)
    return len(rows)
