"""The benchmark's smoke run (CI): ``tokenreview bench`` at 10k attempts on each backend.

It asserts the figures' structure and that the measured cycle reconciles (SPEC 4.1),
never a timing: performance is read from the printed figures (docs/performance.md).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from tokenreview_pipeline import bench, ledger, ledger_migrations
from tokenreview_pipeline.cli import main
from tokenreview_pipeline.sql_models import discover_models

ATTEMPTS = 10_000


def _bench(capsys, *args: str) -> dict:
    code = main(["bench", "--attempts", str(ATTEMPTS), "--json", *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def _assert_cycle(cycle: dict, database: str, history: bool = False) -> None:
    assert cycle["database"] == database
    assert cycle["success"] is True
    assert cycle["reconciled"] is True
    if history:  # the cycle's own files and (unless skipped) the history's
        assert cycle["records_read"] >= ATTEMPTS
    else:
        assert cycle["records_read"] == ATTEMPTS
    assert 0 < cycle["attempts_staged"] < cycle["records_read"]
    assert 0 < cycle["peak_anonymous_bytes"] < cycle["peak_rss_bytes"]
    assert cycle["ledger_bytes"] > 0
    assert cycle["ledger_bytes_per_attempt"] == pytest.approx(
        cycle["ledger_bytes"] / cycle["attempts_staged"]
    )
    names = [s["name"] for s in cycle["stages"]]
    assert names[:2] == ["extract", "load"]
    assert set(discover_models()) <= set(names)
    assert names[-1] == "publish"
    for stage in cycle["stages"]:
        assert stage["seconds"] >= 0
        assert 0 < stage["peak_anonymous_bytes"] < stage["peak_rss_bytes"]
    # Every step's seconds lie inside the cycle's end-to-end time.
    assert sum(s["seconds"] for s in cycle["stages"]) <= cycle["total_seconds"]


def test_bench_sqlite_with_history_and_duckdb(capsys, tmp_path):
    pytest.importorskip("duckdb")
    figures = _bench(
        capsys,
        "--workdir",
        str(tmp_path),
        "--history-weeks",
        "1",
        "--history-attempts",
        "2000",
        "--compare-duckdb",
    )
    assert figures["attempts"] == ATTEMPTS
    labels = [c["label"] for c in figures["cycles"]]
    assert labels[0] == "sqlite"
    assert labels[1].startswith("history first run")
    assert labels[2].startswith("history steady state")
    for cycle in figures["cycles"]:
        _assert_cycle(cycle, "sqlite", history=cycle is not figures["cycles"][0])
    alone, first, steady = figures["cycles"]
    # The history folder's cycle is the same cycle: the same attempts staged.
    assert first["attempts_staged"] == steady["attempts_staged"] == alone["attempts_staged"]
    assert figures["duckdb"]["rows_read"] == ATTEMPTS
    assert set(figures["ratios"]) == {"history_over_alone", "sqlite_over_duckdb"}
    assert all(r > 0 for r in figures["ratios"].values())


def test_bench_postgresql(capsys, tmp_path, pg_db_url):
    """The SQLite cycle is measured by every bench run; this one adds PostgreSQL."""
    figures = _bench(capsys, "--workdir", str(tmp_path), "--database-url", pg_db_url)
    sqlite, postgresql = figures["cycles"]
    _assert_cycle(sqlite, "sqlite")
    _assert_cycle(postgresql, "postgresql")
    assert postgresql["attempts_staged"] == sqlite["attempts_staged"]
    assert set(figures["ratios"]) == {"postgresql_over_sqlite"}


def test_a_ledger_used_before_is_emptied_and_recreated_at_the_head(db_url):
    # --workdir keeps the ledgers: the next bench run in that folder starts from empty
    engine = ledger.engine_for(db_url)
    ledger.ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            ledger.cycle_builds.insert().values(
                cycle_id="c", run_id="r", model="m", rows=1, built_at=datetime.now(timezone.utc)
            )
        )
    bench._fresh_ledger(db_url)
    assert ledger_migrations.current(engine).kind == "current"
    with engine.connect() as conn:
        assert set(ledger.metadata.tables) <= set(sa.inspect(conn).get_table_names())
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(ledger.cycle_builds)).scalar() == 0
        )
