"""Publication prunes the cycle's per-record staging and intermediate rows; a run that
rebuilds the models from pruned staging without extracting again publishes nothing."""

from __future__ import annotations

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
from tokenreview_pipeline.publication import PRUNED_ON_PUBLICATION

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
