"""The dbt-like runner: discovery, ref(), macros, replace-by-key, build/check/swap."""

from datetime import date

import pytest
import sqlalchemy as sa

from tokenreview_pipeline import ledger
from tokenreview_pipeline.sql_models import (
    ModelError,
    SqlCheck,
    SqlModel,
    bind,
    discover_models,
    render,
    run_model,
    topological_order,
)


def test_every_model_has_a_table_and_resolvable_refs():
    models = discover_models()
    assert {
        "int_grouped_attempts",
        "int_retry_causes",
        "request_attempts",
        "review_packets",
        "quarantined_records",
        "extraction_runs",
        "focus_charges",
    } <= set(models)
    order = topological_order(models)
    for name in order:
        for ref in models[name].refs:
            assert ref not in models or order.index(ref) < order.index(name)
    assert models["request_attempts"].has_blocking_checks
    severities = {c.name: c.severity for c in models["review_packets"].checks}
    assert severities == {"evidence_requirements_met": "warn", "totals_reconcile": "error"}


def test_render_ref_and_macros_per_dialect():
    sql = "SELECT {{ days_between('a', 'b') }}, {{ json_string('x') }} FROM {{ ref('t') }}"
    assert render(sql, "sqlite") == (
        "SELECT CAST(julianday(a) - julianday(b) AS INTEGER), json_quote(x) FROM t"
    )
    assert render(sql, "postgresql") == (
        "SELECT ((a) - (b)), to_json(CAST(x AS TEXT))::text FROM t"
    )
    with pytest.raises(ModelError, match="only available in checks"):
        render("SELECT * FROM {{ this }}", "sqlite")
    with pytest.raises(ModelError, match="unknown macro"):
        render("{{ nope('x') }}", "sqlite")


def test_bind_requires_every_parameter():
    with pytest.raises(ModelError, match="cycle_id"):
        bind("SELECT :cycle_id", {})
    clause = bind("SELECT :d, 'a:b'", {"d": date(2026, 1, 1), "unused": 1})
    assert set(clause.compile().params) == {"d"}


def _probe_model(tmp_path, sql: str, checks=()) -> SqlModel:
    path = tmp_path / "stg_evidence_sources.sql"
    path.write_text(sql)
    return SqlModel("stg_evidence_sources", path, sql, "probe", (), ("cycle_id",), checks)


SELECT_TWO = """
SELECT :cycle_id AS cycle_id, 0 AS position, 'a' AS area, 'https://x/a' AS url,
       :day AS accessed_on
UNION ALL
SELECT :cycle_id, 1, 'b', 'https://x/b', :day
"""


def _count(db_url: str, cycle: str) -> int:
    t = ledger.stg_evidence_sources
    with ledger.engine_for(db_url).connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(t).where(t.c.cycle_id == cycle)
        ).scalar_one()


def test_replace_by_cycle_is_idempotent_and_scoped(tmp_path, db_url):
    engine = ledger.engine_for(db_url)
    model = _probe_model(tmp_path, SELECT_TWO)
    for cycle in ("2026-11-09", "2026-11-16", "2026-11-16"):
        run = run_model(engine, model, {"cycle_id": cycle, "day": date(2026, 11, 20)})
        assert not run.blocked and run.rows == 2
    assert _count(db_url, "2026-11-16") == 2
    assert _count(db_url, "2026-11-09") == 2


def test_missing_or_unknown_columns_are_clear_errors(tmp_path, db_url):
    engine = ledger.engine_for(db_url)
    with pytest.raises(ModelError, match="does not produce column"):
        run_model(
            engine,
            _probe_model(tmp_path, "SELECT :cycle_id AS cycle_id"),
            {"cycle_id": "2026-11-16"},
        )
    bad = SELECT_TWO.split("UNION ALL")[0].replace("'a' AS area", "'a' AS area, 1 AS surprise")
    with pytest.raises(ModelError, match="surprise"):
        run_model(
            engine,
            _probe_model(tmp_path, bad),
            {"cycle_id": "2026-11-16", "day": date(2026, 11, 20)},
        )


QUARANTINED_ONE = """
SELECT :cycle_id AS cycle_id, 0 AS read_seq, 'a.jsonl' AS source_name, 1 AS source_line,
       CAST(NULL AS INTEGER) AS source_page, 'malformed_json' AS reason,
       CAST(NULL AS TEXT) AS attempt_id, s."timestamp",
       '{' AS raw_redacted
FROM stg_source_records AS s
RIGHT JOIN (SELECT 1 AS one) AS probe ON 1 = 0
"""


def _published_probe(tmp_path, checks=()) -> SqlModel:
    path = tmp_path / "quarantined_records.sql"
    path.write_text(QUARANTINED_ONE)
    return SqlModel(
        "quarantined_records", path, QUARANTINED_ONE, "probe", (), ("cycle_id",), checks
    )


def _check(name: str, severity: str, sql: str, tmp_path) -> SqlCheck:
    return SqlCheck(name, "quarantined_records", severity, name, sql, tmp_path / f"{name}.sql")


def test_a_published_model_is_built_for_its_run_and_checked_there(tmp_path, db_url):
    engine = ledger.engine_for(db_url)
    params = {"cycle_id": "2026-11-16", "run_id": "run-1"}
    never = _check(
        "never_one",
        "error",
        "SELECT COUNT(*) AS n FROM {{ this }} WHERE cycle_id = :cycle_id HAVING COUNT(*) = 1",
        tmp_path,
    )
    finding = _check(
        "finding", "warn", "SELECT reason FROM {{ this }} WHERE cycle_id = :cycle_id", tmp_path
    )
    run = run_model(engine, _published_probe(tmp_path, (never, finding)), params)
    assert run.table == "_build_quarantined_records"
    assert run.blocked  # the error check failed; the warning alone would not block
    assert [(o.check.name, o.passed) for o in run.checks] == [
        ("never_one", False),
        ("finding", False),
    ]
    with engine.connect() as conn:
        built = conn.execute(sa.select(ledger.build_table("quarantined_records"))).mappings()
        assert [(r["build_run_id"], r["reason"]) for r in built] == [("run-1", "malformed_json")]
        published = conn.execute(sa.select(sa.func.count()).select_from(ledger.quarantined_records))
        assert published.scalar_one() == 0  # nothing reaches analysts before publication
        (build,) = conn.execute(sa.select(ledger.cycle_builds)).mappings()
    assert (build["model"], build["run_id"], build["rows"]) == ("quarantined_records", "run-1", 1)


def test_a_warning_never_blocks(tmp_path, db_url):
    engine = ledger.engine_for(db_url)
    params = {"cycle_id": "2026-11-16", "day": date(2026, 11, 20)}
    warn = SqlCheck(
        "finding",
        "stg_evidence_sources",
        "warn",
        "a finding",
        "SELECT url FROM {{ this }} WHERE cycle_id = :cycle_id",
        tmp_path / "w.sql",
    )
    run = run_model(engine, _probe_model(tmp_path, SELECT_TWO, (warn,)), params)
    assert not run.blocked and not run.checks[0].passed
    assert run.table == "stg_evidence_sources"  # not published: written in place
    assert _count(db_url, "2026-11-16") == 2
