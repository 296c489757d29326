"""Publish a cycle: swap every published table's rows of the cycle in one transaction.

The models of a run write published tables' rows into their build tables
(``_build_<table>``, see ``sql_models.py``) and check them there. When every one of them
has been built by this run and no blocking check failed, publication replaces the
cycle's rows of every published table from the builds, clears the builds, records the
publication and releases the cycle's lease -- all in one transaction. A reader sees
the whole old cycle or the whole new one, never one table of each; a run that stops
earlier (a failed step, a blocking check, a kill) changes no published row.

The same transaction prunes the cycle's per-record staging and intermediate rows
(:data:`PRUNED_ON_PUBLICATION`): every run rebuilds them and nothing reads them once the
cycle is published, and they are most of a ledger's size (docs/performance.md). A later
run that rebuilds the models from pruned staging without extracting again fails the
blocking ``no_record_lost`` check (the extraction's count kept in ``stg_extract_runs``
no longer matches the rows staged), so it publishes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cycle_lease import FencedLedger


class PublicationError(RuntimeError):
    pass


#: Rows of a cycle deleted when it is published: one or more per record read, rebuilt by
#: every run of the cycle, read by no published table's reader.
PRUNED_ON_PUBLICATION = (
    ledger.stg_source_records,
    ledger.int_classified_records,
    ledger.int_grouped_attempts,
    ledger.int_retry_causes,
)


def _builds_of_run(conn: Connection, cycle_id: str, run_id: str) -> dict[str, int]:
    t = ledger.cycle_builds
    rows = conn.execute(
        sa.select(t.c.model, t.c.rows).where(t.c.cycle_id == cycle_id, t.c.run_id == run_id)
    )
    return dict(rows.all())


def _published_by(conn: Connection, cycle_id: str, run_id: str) -> dict[str, int] | None:
    """The rows published per table when the cycle's latest publication is this run's."""
    t = ledger.cycle_publications
    latest = conn.execute(
        sa.select(t.c.run_id, t.c.table_rows)
        .where(t.c.cycle_id == cycle_id)
        .order_by(t.c.published_at.desc())
        .limit(1)
    ).first()
    if latest is None or latest.run_id != run_id:
        return None
    return json.loads(latest.table_rows)


def insertion_order(table: sa.Table) -> list[str]:
    """The columns of ``table``'s first unique index (by name), or none.

    Rows inserted in the order of a unique index's key go into that B-tree at its
    right edge instead of at random pages: on SQLite, publishing a million attempts
    into ``request_attempts`` (unique on its random ``attempt_id``) takes about half the
    time it takes unordered (docs/performance.md). The other indexes of the published
    tables lead with ``cycle_id``, which is one value per swap.
    """
    unique = sorted((i for i in table.indexes if i.unique), key=lambda i: i.name)
    return [c.name for c in unique[0].columns] if unique else []


def _swap(conn: Connection, table: sa.Table, cycle_id: str, run_id: str) -> int:
    build = ledger.build_table(table.name)
    columns = [c.name for c in table.columns]
    conn.execute(sa.delete(table).where(table.c.cycle_id == cycle_id))
    rows = (
        sa.select(*[build.c[c] for c in columns])
        .where(build.c.cycle_id == cycle_id, build.c[ledger.BUILD_RUN_ID] == run_id)
        .order_by(*[build.c[c] for c in insertion_order(table)])
    )
    inserted = conn.execute(sa.insert(table).from_select(columns, rows)).rowcount
    ledger.delete_cycle_rows(conn, build, cycle_id)
    return int(inserted or 0)


def publish_cycle(writer: FencedLedger) -> dict[str, int]:
    """Publish the cycle built by ``writer``'s run; returns the rows published per table.

    Raises ``PublicationError`` (and publishes nothing) unless every published table of
    the cycle was built by this run.
    """
    cycle_id, run_id = writer.cycle_id, writer.run_id
    with writer.begin() as conn:
        built = _builds_of_run(conn, cycle_id, run_id)
        already = None if built else _published_by(conn, cycle_id, run_id)
        if already is not None:  # a retry after the commit's answer was lost
            writer.release(conn)
            return already
        missing = [t.name for t in ledger.PUBLISHED_TABLES if t.name not in built]
        if missing:
            raise PublicationError(
                f"cycle {cycle_id} cannot be published by run {run_id}: it did not build "
                f"{', '.join(missing)}. A cycle is published whole: run the cycle_review "
                "job (or select every asset of the cycle) for this partition."
            )
        counts = {t.name: _swap(conn, t, cycle_id, run_id) for t in ledger.PUBLISHED_TABLES}
        for table in PRUNED_ON_PUBLICATION:
            ledger.delete_cycle_rows(conn, table, cycle_id)
        conn.execute(
            sa.delete(ledger.cycle_builds).where(ledger.cycle_builds.c.cycle_id == cycle_id)
        )
        conn.execute(
            ledger.cycle_publications.insert().values(
                cycle_id=cycle_id,
                run_id=run_id,
                published_at=datetime.now(timezone.utc),
                table_rows=json.dumps(counts, sort_keys=True),
            )
        )
        writer.release(conn)
    return counts
