"""Publication prunes the cycle's per-record staging and intermediate rows; a run that
rebuilds the models from pruned staging without extracting again publishes nothing."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from scenario import (
    CYCLE,
    attempt,
    rows,
    run,
    run_assets_but,
    run_unpublished,
    ts,
    write_scenario,
)
from test_reliability import published_tables

from tokenreview_pipeline import ledger
from tokenreview_pipeline.publication import PRUNED_ON_PUBLICATION, insertion_order

EXTRACTION = {"stg_source_records", "stg_extract_runs"}


def _records():
    return [
        attempt("a1", ts(10), request_id="r1", status_code=503),
        attempt("a2", ts(11), request_id="r1"),
        attempt("b1", ts(30), request_id="r2"),
        '{"attempt_id": "broken"',  # quarantined
    ]


def _cycle_rows(db_url: str, table: sa.Table) -> int:
    with ledger.engine_for(db_url).connect() as conn:
        query = sa.select(sa.func.count()).select_from(table).where(table.c.cycle_id == CYCLE)
        return conn.execute(query).scalar_one()


def test_publication_prunes_the_cycles_per_record_staging(tmp_path, db_url):
    cfg = write_scenario(tmp_path, _records())
    run(cfg, db_url)
    assert {t.name: _cycle_rows(db_url, t) for t in PRUNED_ON_PUBLICATION} == {
        t.name: 0 for t in PRUNED_ON_PUBLICATION
    }
    assert len(rows(db_url, "request_attempts")) == 3
    assert len(rows(db_url, "quarantined_records")) == 1
    assert rows(db_url, "stg_known_sources") is not None  # rule inputs stay (small evidence)
    first = published_tables(db_url)
    run(cfg, db_url)  # a re-run extracts again: the same publication
    assert published_tables(db_url) == first


def test_a_run_stopped_before_publication_keeps_its_staging(tmp_path, db_url):
    run_unpublished(write_scenario(tmp_path, _records()), db_url)
    kept = {t.name: _cycle_rows(db_url, t) for t in PRUNED_ON_PUBLICATION}
    assert kept["stg_source_records"] == 4 and all(kept.values()), kept
    assert rows(db_url, "request_attempts") == []  # nothing published


def test_models_rebuilt_from_pruned_staging_are_not_published(tmp_path, db_url):
    cfg = write_scenario(tmp_path, _records())
    run(cfg, db_url)
    before = published_tables(db_url)

    result = run_assets_but(cfg, db_url, EXTRACTION, expect_success=False)
    # The blocking check that compares what was extracted with what was staged stops
    # it before publication.
    failed = {
        (e.asset_key.to_user_string(), e.check_name)
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }
    assert ("request_attempts", "no_record_lost") in failed
    assert "cycle_publication" not in {
        e.step_key for e in result.all_events if e.is_successful_output
    }
    assert published_tables(db_url) == before


def _rows_by_cycle(db_url: str, table: sa.Table) -> dict[str, int]:
    with ledger.engine_for(db_url).connect() as conn:
        query = sa.select(table.c.cycle_id, sa.func.count()).group_by(table.c.cycle_id)
        return dict(conn.execute(query).all())


def test_publication_prunes_only_its_own_cycle(tmp_path, db_url):
    # The week before stopped before publication (a blocking check, say): its staging
    # and intermediate rows stay while this week is published and pruned, on SQLite
    # (where a table holding only the published cycle is emptied as a truncate) and
    # on PostgreSQL.
    previous = "2026-11-09"
    records = [*_records(), attempt("p1", ts(10, day=-7), request_id="p")]
    cfg = write_scenario(tmp_path, records)
    run_unpublished(cfg, db_url, cycle=previous)
    kept = {t.name: _rows_by_cycle(db_url, t).get(previous, 0) for t in PRUNED_ON_PUBLICATION}
    assert all(kept.values()), kept

    run(cfg, db_url)
    after = {t.name: _rows_by_cycle(db_url, t) for t in PRUNED_ON_PUBLICATION}
    assert {name: counts.get(previous, 0) for name, counts in after.items()} == kept
    assert all(CYCLE not in counts for counts in after.values()), after
    assert {r["attempt_id"] for r in rows(db_url, "request_attempts")} == {"a1", "a2", "b1"}

    run(cfg, db_url, cycle=previous)  # now the week before publishes: all pruned
    assert all(_rows_by_cycle(db_url, t) == {} for t in PRUNED_ON_PUBLICATION)
    assert [r["attempt_id"] for r in rows(db_url, "request_attempts", cycle=previous)] == ["p1"]


def test_deleting_a_cycles_rows_keeps_every_other_cycle(db_url):
    # ledger.delete_cycle_rows on a build table: alone, and beside another cycle's rows.
    table = ledger.build_table("extraction_runs")
    engine = ledger.engine_for(db_url)
    ledger.ensure_schema(engine)

    def add(conn, cycle_id: str) -> None:
        conn.execute(
            table.insert(),
            {
                "cycle_id": cycle_id,
                ledger.BUILD_RUN_ID: "r",
                "run_id": "r",
                "extracted_at": datetime(2026, 11, 23, tzinfo=timezone.utc),
                "source_kind": "files",
                "source_location": "x",
                "records_read": 1,
                **dict.fromkeys(("attempts_staged", "records_quarantined", "exact_duplicates"), 0),
                **dict.fromkeys(("other_cycle_records", "redacted_values"), 0),
            },
        )

    with engine.begin() as conn:
        conn.execute(sa.delete(table))
        add(conn, "2026-11-02")
        add(conn, "2026-11-09")
        add(conn, "2026-11-09")
        ledger.delete_cycle_rows(conn, table, "2026-11-09")
        assert _counts_in(conn, table) == {"2026-11-02": 1}
        ledger.delete_cycle_rows(conn, table, "2026-11-09")  # nothing left of it
        assert _counts_in(conn, table) == {"2026-11-02": 1}
        ledger.delete_cycle_rows(conn, table, "2026-11-02")  # the only cycle: emptied
        assert _counts_in(conn, table) == {}
        add(conn, "2026-11-16")
        ledger.delete_cycle_rows(conn, table, "2026-11-09")  # another cycle's only
        assert _counts_in(conn, table) == {"2026-11-16": 1}
        conn.execute(sa.delete(table))


def _counts_in(conn, table: sa.Table) -> dict[str, int]:
    query = sa.select(table.c.cycle_id, sa.func.count()).group_by(table.c.cycle_id)
    return dict(conn.execute(query).all())


def test_every_published_table_is_inserted_in_its_unique_keys_order():
    # Each published table has a unique index, so publication inserts its rows in key
    # order (B-tree right edge) rather than in whatever order the build holds them.
    orders = {t.name: insertion_order(t) for t in ledger.PUBLISHED_TABLES}
    assert all(orders.values()), orders
    assert orders["request_attempts"] == ["attempt_id"]
    assert orders["review_packets"] == ["cycle_id", "workload_tag", "request_class"]


def test_published_attempts_are_stored_in_attempt_id_order(tmp_path, db_url):
    # A fresh table's physical order (SQLite's rowid, PostgreSQL's ctid) is its
    # insertion order: the build's order (read order: z, m, a) is not the published one.
    records = [
        attempt("z9", ts(10), request_id="r1"),
        attempt("m5", ts(11), request_id="r2"),
        attempt("a1", ts(12), request_id="r3"),
    ]
    run(write_scenario(tmp_path, records), db_url)
    t = ledger.request_attempts
    with ledger.engine_for(db_url).connect() as conn:
        physical = sa.literal_column("rowid" if conn.dialect.name == "sqlite" else "ctid")
        query = sa.select(t.c.attempt_id).where(t.c.cycle_id == CYCLE).order_by(physical)
        stored = conn.execute(query).scalars().all()
    assert stored == ["a1", "m5", "z9"]


def test_emptying_a_table_does_not_rewrite_its_pages_on_sqlite(tmp_path):
    # SQLite builds compiled with SECURE_DELETE (Debian's) zero every freed page, which
    # in WAL mode writes each page of a pruned table to the WAL once more. The ledger's
    # connections use secure_delete=FAST: emptying a table frees its pages unwritten.
    path = tmp_path / "ledger.db"
    wal = tmp_path / "ledger.db-wal"
    engine = ledger.engine_for(f"sqlite:///{path}")
    scratch = sa.Table("scratch", sa.MetaData(), sa.Column("cycle_id", sa.Text))
    with engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 2  # FAST
        conn.exec_driver_sql("CREATE TABLE scratch (cycle_id TEXT, payload TEXT)")
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) "
            "INSERT INTO scratch SELECT 'c', hex(randomblob(500)) FROM n"
        )
    raw = engine.raw_connection()  # a checkpoint runs outside any transaction
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        table_bytes = raw.execute(
            "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size"
        ).fetchone()[0]
    finally:
        raw.close()
    assert table_bytes > 4_000_000 and (not wal.exists() or wal.stat().st_size == 0)
    with engine.begin() as conn:
        ledger.delete_cycle_rows(conn, scratch, "c")  # the only cycle: emptied
        wal_bytes = wal.stat().st_size
        assert conn.exec_driver_sql("SELECT count(*) FROM scratch").scalar() == 0
    assert wal_bytes < table_bytes / 20, (wal_bytes, table_bytes)
    engine.dispose()
