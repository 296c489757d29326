"""The Dagster code location: one Definitions, partitions, schedule, asset metadata."""

from datetime import datetime, timezone

import dagster as dg
from scenario import attempt, run, ts, write_scenario

from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.defs import build_defs
from tokenreview_pipeline.defs.jobs import CYCLE_JOB
from tokenreview_pipeline.sql_models import discover_models


def _defs(tmp_path, cadence="weekly"):
    cfg = write_scenario(tmp_path, [], extra_config={"cadence": cadence})
    return build_defs(load_config(cfg))


def test_code_location_loads_from_pyproject():
    from tokenreview_pipeline.definitions import defs

    assert isinstance(defs(), dg.Definitions)


def test_every_asset_documented_owned_and_typed(tmp_path):
    defs = _defs(tmp_path)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert (
        set(discover_models())
        | {"stg_source_records", "stg_extract_runs", "pricing_snapshots", "pricing_snapshot_prices"}
        <= keys
    )
    for key in graph.get_all_asset_keys():
        spec = graph.get(key)
        assert spec.description, key
        assert spec.owners == ["team:finops-data"], key
        assert spec.kinds & {"python", "sql"}, key
        schema = spec.metadata["dagster/column_schema"]
        assert schema.columns, key
        assert isinstance(spec.partitions_def, dg.WeeklyPartitionsDefinition), key
    # dependencies come from ref(): request_attempts reads the grouped attempts
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey("request_attempts")).parent_keys}
    assert {
        "int_grouped_attempts",
        "int_retry_causes",
        "int_allocation_decisions",
        "int_cycle_pricing",
        "pricing_snapshot_prices",
    } <= parents


def test_weekly_partitions_start_on_monday_and_schedule_reviews_the_ended_cycle(tmp_path):
    defs = _defs(tmp_path)
    job = defs.resolve_job_def(CYCLE_JOB)
    keys = job.partitions_def.get_partition_keys(
        current_time=datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    )
    assert keys[0] == "2024-01-01" and keys[-1] == "2026-11-23"
    assert all(datetime.fromisoformat(k).weekday() == 0 for k in keys)

    schedule = defs.resolve_schedule_def("cycle_review_schedule")
    assert schedule.cron_schedule == "0 0 * * 1"  # Mondays 00:00 UTC, when a cycle ends
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
    )
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-23"


def test_daily_and_monthly_cadences_partition_accordingly(tmp_path):
    daily = _defs(tmp_path / "d", "daily").resolve_job_def(CYCLE_JOB).partitions_def
    monthly = _defs(tmp_path / "m", "monthly").resolve_job_def(CYCLE_JOB).partitions_def
    now = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    assert daily.get_partition_keys(current_time=now)[-1] == "2026-11-29"
    assert monthly.get_partition_keys(current_time=now)[-1] == "2026-10-01"


def test_packets_asset_shows_markdown_table_and_row_count(tmp_path):
    cfg = write_scenario(tmp_path, [attempt("a1", ts(5)), attempt("b1", ts(6), tags={"team": "x"})])
    result = run(cfg, f"sqlite:///{tmp_path / 'l.db'}")
    (mat,) = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key == dg.AssetKey("review_packets")
    ]
    metadata = mat.materialization.metadata
    assert metadata["dagster/row_count"].value == 2
    table = metadata["packets"].value
    header, rule, *lines = table.splitlines()
    assert header.split("|")[1].strip() == "workload_tag"
    assert any("search-web" in line and "pass" in line for line in lines)
    assert "2 packet(s): 1 pass, 1 fail." in table
