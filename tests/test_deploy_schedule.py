"""The production setup of docs/deploy.md, as ``dagster-daemon`` runs it.

A Dagster instance built from ``deploy/dagster.yaml`` on PostgreSQL (its own schema), the
code location of ``workspace.yaml`` served by a code server the way the daemon starts one,
``cycle_review_schedule`` turned on, and its tick evaluated by the scheduler daemon's own
code (``launch_scheduled_runs``) at a given time just after a cycle ends. The run goes
through the instance's ``QueuedRunCoordinator``, is dequeued by the daemon's
``QueuedRunCoordinatorDaemon`` and launched by the instance's ``DefaultRunLauncher``
(a run worker process started by the code server), and writes the cycle into a PostgreSQL
ledger named only by ``TOKENREVIEW_DATABASE_URL``.
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from conftest import _pg_schema_url, _pg_url
from dagster._core.scheduler.instigation import TickStatus
from dagster._core.snap import JobSnap
from dagster._core.test_utils import freeze_time
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._daemon import get_default_daemon_logger
from dagster._daemon.controller import create_daemon_grpc_server_registry
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster._scheduler.scheduler import launch_scheduled_runs
from dagster._serdes import serialize_value
from scenario import CYCLE, attempt, rows, ts, write_scenario

import tokenreview_pipeline
from tokenreview_pipeline import ledger
from tokenreview_pipeline.config import DATABASE_URL_ENV, load_config
from tokenreview_pipeline.cycles import parse_cycle
from tokenreview_pipeline.defs import build_defs

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "dagster.yaml"
WORKSPACE = ROOT / "workspace.yaml"
SCHEDULE = "cycle_review_schedule"


def _evaluate_schedules(context: WorkspaceProcessContext, now, crash_flags=None) -> None:
    """One iteration of the scheduler daemon at ``now``, with the instance's scheduler
    settings (serial, the daemon's default), as ``SchedulerDaemon`` runs it."""
    scheduler = context.instance.scheduler
    with freeze_time(now):
        list(
            launch_scheduled_runs(
                context,
                get_default_daemon_logger("SchedulerDaemon"),
                now,
                iteration_times={},
                max_catchup_runs=scheduler.max_catchup_runs,
                max_tick_retries=scheduler.max_tick_retries,
                debug_crash_flags=crash_flags,
            )
        )


def _ticks(instance: dg.DagsterInstance, schedule):
    return instance.get_ticks(schedule.get_remote_origin_id(), schedule.selector_id)


def _wait_for_run(instance: dg.DagsterInstance, run_id: str, timeout_s: float = 90):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run.is_finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {timeout_s} s: {run.status}")


def _failure_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [
        e.message
        for e in instance.all_logs(run_id)
        if e.is_dagster_event and (e.dagster_event.is_failure or e.dagster_event.is_run_failure)
    ]


def _rows_holding(admin, schema: str, text: str) -> dict[str, int]:
    """Per table of ``schema``, how many rows hold ``text`` anywhere (as text)."""
    found = {}
    with admin.connect() as conn:
        tables = conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
        ).scalars()
        for table in list(tables):
            count = conn.execute(
                sa.text(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE t::text LIKE :p'),
                {"p": f"%{text}%"},
            ).scalar()
            if count:
                found[table] = count
    return found


def test_a_ledger_password_from_the_environment_stays_out_of_the_job_snapshot(
    tmp_path, monkeypatch
):
    # The instance stores a job snapshot with every run and the UI shows resource config:
    # a ledger URL from TOKENREVIEW_DATABASE_URL is recorded by the variable's name.
    url = "postgresql+psycopg2://tokenreview:pw-not-in-snapshots@db.internal:5432/ledger"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    defs = build_defs(load_config(write_scenario(tmp_path, [])))
    repo = defs.get_repository_def()
    snapshot = serialize_value(JobSnap.from_job_def(repo.get_job("cycle_review")))
    assert "pw-not-in-snapshots" not in snapshot and DATABASE_URL_ENV in snapshot
    # (the run resolves it: the schedule test's run writes to the ledger named only there)


def test_daemon_schedule_tick_runs_the_ended_cycle_through_the_queue(
    tmp_path, monkeypatch, request, pg_db_url
):
    admin = request.getfixturevalue("pg_admin_engine")
    instance_schema, instance_url = _pg_schema_url(admin, _pg_url())
    cycle = parse_cycle(CYCLE, "weekly")
    # The daemon evaluates the schedule a minute after the cycle's end (Monday 00:00 UTC).
    just_after_end = cycle.end + timedelta(minutes=1)
    # A password in the ledger URL (trust auth ignores it): it must reach the run and no
    # stored snapshot.
    ledger_url = (
        sa.engine.make_url(pg_db_url)
        .set(password="pw-never-stored")
        .render_as_string(hide_password=False)
    )
    registry = None
    try:
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(DEPLOY, home / "dagster.yaml")
        cfg = write_scenario(
            tmp_path / "project",
            [attempt("p1", ts(5)), attempt("a1", ts(9), tags={"team": "search", "project": "app"})],
        )
        # What docs/deploy.md sets for both processes; the code server and the run worker
        # inherit it. PYTHONPATH: they import the same tokenreview_pipeline as this test.
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        monkeypatch.setenv("TOKENREVIEW_DAGSTER_PG_URL", instance_url)
        monkeypatch.setenv("TOKENREVIEW_CONFIG", str(cfg))
        monkeypatch.setenv(DATABASE_URL_ENV, ledger_url)
        package_root = str(Path(tokenreview_pipeline.__file__).resolve().parent.parent)
        paths = [package_root, os.environ.get("PYTHONPATH", "")]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))

        with ExitStack() as stack:
            instance = stack.enter_context(dg.DagsterInstance.get())
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
            assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
            assert type(instance.run_launcher).__name__ == "DefaultRunLauncher"
            # The daemon's own code-server registry and workspace (dagster-daemon run -w).
            registry = stack.enter_context(create_daemon_grpc_server_registry(instance))
            context = stack.enter_context(
                WorkspaceProcessContext(
                    instance,
                    WorkspaceFileTarget(paths=[str(WORKSPACE)]),
                    grpc_server_registry=registry,
                )
            )
            entries = context.create_request_context().get_code_location_entries()
            assert entries["tokenreview"].load_error is None, entries["tokenreview"].load_error
            (repo,) = entries["tokenreview"].code_location.get_repositories().values()
            schedule = repo.get_schedule(SCHEDULE)

            # Turned on (as in the UI or `dagster schedule start`) before the cycle ends.
            with freeze_time(cycle.end - timedelta(hours=1)):
                instance.start_schedule(schedule)

            # The first tick fails right after it created the run, before submitting it
            # (Dagster's own fault-injection point of the daemon, as if the instance database
            # dropped the connection there): a run exists, nothing is queued.
            crash = {SCHEDULE: {"RUN_CREATED": RuntimeError("injected: daemon fault")}}
            _evaluate_schedules(context, just_after_end, crash_flags=crash)
            (failed,) = _ticks(instance, schedule)
            assert failed.status == TickStatus.FAILURE
            assert failed.timestamp == cycle.end.timestamp()  # the Monday 00:00 UTC tick
            (run,) = instance.get_runs()
            assert run.status == dg.DagsterRunStatus.NOT_STARTED
            run_id = run.run_id

            # deploy/dagster.yaml retries a failed tick: the next iteration, at the same
            # time, evaluates the same tick again, and the run key (the cycle) finds the
            # run it already made, which it now submits to the queue.
            assert instance.scheduler.max_tick_retries >= 1
            _evaluate_schedules(context, just_after_end)
            (tick,) = _ticks(instance, schedule)
            assert tick.status == TickStatus.SUCCESS, tick.error
            assert tick.timestamp == cycle.end.timestamp()
            assert tick.run_ids == [run_id]
            (run,) = instance.get_runs()
            assert run.run_id == run_id
            assert run.status == dg.DagsterRunStatus.QUEUED  # the QueuedRunCoordinator's queue
            assert run.tags["dagster/partition"] == CYCLE  # the cycle that just ended
            assert run.tags["dagster/run_key"] == CYCLE
            assert run.tags["dagster/schedule_name"] == SCHEDULE
            assert run.job_name == "cycle_review"

            # Another iteration at the same time: no new tick, no second run.
            _evaluate_schedules(context, just_after_end)
            assert len(_ticks(instance, schedule)) == 1
            assert [r.run_id for r in instance.get_runs()] == [run_id]

            # The daemon's queue: dequeued within deploy/dagster.yaml's limits and launched.
            list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(context))
            assert instance.get_run_by_id(run_id).status != dg.DagsterRunStatus.QUEUED
            finished = _wait_for_run(instance, run_id)
            assert finished.status == dg.DagsterRunStatus.SUCCESS, _failure_messages(
                instance, run_id
            )
            # Queued by the coordinator, launched by the queue daemon, then executed.
            events = [
                e.dagster_event.event_type_value
                for e in instance.all_logs(run_id)
                if e.is_dagster_event
            ]
            milestones = [
                "PIPELINE_ENQUEUED",
                "PIPELINE_STARTING",
                "PIPELINE_START",
                "PIPELINE_SUCCESS",
            ]
            assert [e for e in events if e in milestones] == milestones

            packets = rows(ledger_url, "review_packets")
            assert sorted(p["workload_tag"] for p in packets) == ["search-app", "search-web"]
            assert {p["cycle_id"] for p in packets} == {CYCLE}
            (extraction,) = rows(ledger_url, "extraction_runs")
            assert extraction["run_id"] == run_id
            # The ledger came from TOKENREVIEW_DATABASE_URL, not the config's database_url,
            # and the job snapshot the instance stored with the run names the variable only.
            assert not (cfg.parent / "unused.db").exists()
            snapshot = serialize_value(instance.get_job_snapshot(finished.job_snapshot_id))
            assert DATABASE_URL_ENV in snapshot and "pw-never-stored" not in snapshot
            # Nor any row of the instance in plain text (snapshot bodies are compressed,
            # hence the check above), nor a file of DAGSTER_HOME (compute logs).
            assert _rows_holding(admin, instance_schema, "pw-never-stored") == {}
            assert not [f for f in home.rglob("*") if f.is_file() and b"pw-never" in f.read_bytes()]
        # Leaving the stack shut the code server down; wait for it (and its run worker)
        # to exit before the instance's schema is dropped.
        registry.wait_for_processes()
        registry = None
    finally:
        ledger.engine_for(ledger_url).dispose()
        if registry is not None:
            registry.wait_for_processes()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{instance_schema}" CASCADE'))
