"""deploy/dagster.yaml: the Dagster instance (runs, events, check results) in PostgreSQL."""

import shutil
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from conftest import _pg_schema_url, _pg_url
from scenario import CYCLE, attempt, rows, ts, write_scenario

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cli import main

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "dagster.yaml"


def test_cli_run_is_recorded_in_a_postgres_dagster_instance(tmp_path, monkeypatch, request):
    admin = request.getfixturevalue("pg_admin_engine")
    schema, instance_url = _pg_schema_url(admin, _pg_url())
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    try:
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(DEPLOY, home / "dagster.yaml")
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        monkeypatch.setenv("TOKENREVIEW_DAGSTER_PG_URL", instance_url)
        cfg = write_scenario(tmp_path, [attempt("p1", ts(5))])

        assert (
            main(["run", "--config", str(cfg), "--cycle", CYCLE, "--database-url", ledger_url]) == 0
        )
        assert len(rows(ledger_url, "review_packets")) == 1

        instance = dg.DagsterInstance.get()
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        (run,) = instance.get_runs()
        assert run.tags["dagster/partition"] == CYCLE
        checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("request_attempts"), "no_record_lost")]
        )
        assert len(checks) == 1
        instance.dispose()
    finally:
        ledger.engine_for(ledger_url).dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
