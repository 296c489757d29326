"""`tokenreview run` records a run of the code location's job, honours the run queue, and
leaves one partitioned evaluation per check; a fresh DAGSTER_HOME is created once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import tomli
import yaml
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
from scenario import CYCLE, attempt, ts, write_scenario

from tokenreview_pipeline import cli_runs
from tokenreview_pipeline.cli import main
from tokenreview_pipeline.defs.resources import LEDGER_URL_ENV
from tokenreview_pipeline.sql_models import discover_models

ROOT = Path(__file__).resolve().parent.parent


def _records():
    return [
        attempt("a1", ts(10), request_id="r1"),
        attempt("n1", ts(30), request_id="n1", tags={"team": "nobody"}),  # fails evidence
    ]


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _run(cfg, db_url, *extra) -> int:
    return main(["run", "--config", str(cfg), "--cycle", CYCLE, "--database-url", db_url, *extra])


def test_the_code_location_is_named_tokenreview_everywhere():
    pyproject = tomli.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["dagster"]["code_location_name"] == cli_runs.CODE_LOCATION
    assert pyproject["tool"]["dagster"]["module_name"] == cli_runs.CODE_LOCATION_MODULE
    (entry,) = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    assert entry["python_module"] == {
        "module_name": cli_runs.CODE_LOCATION_MODULE,
        "location_name": cli_runs.CODE_LOCATION,
    }


# What `dagster dev` loads for this config: the code location module, in a fresh
# interpreter, configured by the environment.
SNAPSHOT_SCRIPT = """
from tokenreview_pipeline.definitions import defs
print(defs().resolve_job_def("cycle_review").get_job_snapshot_id())
"""


def test_run_is_recorded_under_the_code_location_job_with_partitioned_checks(
    tmp_path, db_url, home
):
    cfg = write_scenario(tmp_path, _records())
    assert _run(cfg, db_url) == 0

    instance = dg.DagsterInstance.get()
    (run,) = instance.get_runs()
    origin = run.remote_job_origin
    assert (origin.location_name, origin.repository_origin.repository_name, origin.job_name) == (
        "tokenreview",
        "__repository__",
        "cycle_review",
    )
    assert run.tags["dagster/partition"] == CYCLE
    # Jobs > cycle_review > Runs: the UI filters by job name and repository label.
    listed = instance.get_runs(
        filters=RunsFilter(
            job_name="cycle_review", tags={REPOSITORY_LABEL_TAG: "__repository__@tokenreview"}
        )
    )
    assert [r.run_id for r in listed] == [run.run_id]
    assert run.status == DagsterRunStatus.SUCCESS
    # The job snapshot is the one the UI loads, so re-execution is not "a different version".
    env = {**os.environ, "TOKENREVIEW_CONFIG": str(cfg), "TOKENREVIEW_DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-c", SNAPSHOT_SCRIPT], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == run.job_snapshot_id

    # Every check of every model: one evaluation, on the cycle's partition, none skipped.
    keys = [
        dg.AssetCheckKey(dg.AssetKey(model), check.name)
        for model, m in discover_models().items()
        for check in m.checks
    ]
    assert keys
    for key in keys:
        history = instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
        assert [(r.partition, r.run_id) for r in history] == [(CYCLE, run.run_id)], key
        (record,) = history
        assert record.status in (
            AssetCheckExecutionRecordStatus.SUCCEEDED,
            AssetCheckExecutionRecordStatus.FAILED,
        ), key
    evidence = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("review_packets"), "evidence_requirements_met"), limit=1
    )[0]
    assert evidence.status == AssetCheckExecutionRecordStatus.FAILED
    evaluation = evidence.event.dagster_event.event_specific_data
    assert evaluation.partition == CYCLE
    assert evaluation.metadata["cycle_id"].value == CYCLE
    instance.dispose()


def _started_run(instance, cfg, db_url, pid: int) -> dg.DagsterRun:
    job = cli_runs.cycle_job(str(cfg), db_url)
    return instance.create_run_for_job(
        job_def=job,
        tags={
            "dagster/partition": CYCLE,
            cli_runs.HOST_TAG: os.uname().nodename,
            cli_runs.PID_TAG: str(pid),
        },
        status=DagsterRunStatus.STARTED,
    )


def test_a_ledger_password_is_never_stored_in_the_dagster_instance(
    tmp_path, pg_db_url, home, capsys, monkeypatch
):
    # PostgreSQL here trusts local connections, so the password is sent to no one; what
    # is under test is where it is written: the job snapshot, the run record, the events.
    password = "pw-Never-Stored-7316"
    url = sa.engine.make_url(pg_db_url).set(password=password).render_as_string(False)
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    cfg = write_scenario(tmp_path, _records())
    assert _run(cfg, url) == 0
    out = capsys.readouterr()
    assert password not in out.out + out.err
    instance = dg.DagsterInstance.get()
    (run,) = instance.get_runs()
    assert run.status == DagsterRunStatus.SUCCESS
    instance.dispose()
    stored = [p for p in home.rglob("*") if p.is_file()]
    assert stored and not [p for p in stored if password.encode() in p.read_bytes()]
    # The same URL in TOKENREVIEW_DATABASE_URL: the snapshot names that variable.
    monkeypatch.setenv("TOKENREVIEW_DATABASE_URL", url)
    assert main(["run", "--config", str(cfg), "--cycle", CYCLE]) == 0
    assert not [p for p in home.rglob("*") if p.is_file() and password.encode() in p.read_bytes()]


def test_opening_an_instance_leaves_the_environment_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "named"))
    instance = cli_runs.open_instance(tmp_path / "other")
    assert os.environ["DAGSTER_HOME"] == str(tmp_path / "named")
    assert (tmp_path / "other" / "dagster.yaml").exists()
    assert Path(instance.root_directory) == (tmp_path / "other").resolve()
    instance.dispose()


def test_a_live_run_of_the_cycle_is_named_and_the_cli_exits_1(tmp_path, home, capsys):
    db_url = f"sqlite:///{tmp_path / 'ledger.db'}"  # the instance is under test, not the ledger
    cfg = write_scenario(tmp_path, _records())
    instance = cli_runs.open_instance(home)
    other = _started_run(instance, cfg, db_url, os.getpid())  # this process: alive

    assert _run(cfg, db_url, "--wait", "0") == 1
    err = capsys.readouterr().err
    assert other.run_id in err and f"cycle {CYCLE}" in err
    # The refused run never started and is not left behind.
    assert [r.run_id for r in instance.get_runs()] == [other.run_id]
    instance.dispose()


def test_the_cli_waits_for_the_run_ahead_then_starts(tmp_path, home, capsys):
    db_url = f"sqlite:///{tmp_path / 'ledger.db'}"  # the instance is under test, not the ledger
    cfg = write_scenario(tmp_path, _records())
    instance = cli_runs.open_instance(home)
    other = _started_run(instance, cfg, db_url, os.getpid())
    finisher = threading.Timer(8.0, lambda: instance.report_run_canceled(other))
    finisher.start()
    try:
        assert _run(cfg, db_url, "--wait", "30") == 0
    finally:
        finisher.cancel()
    assert f"waiting up to 30s for run {other.run_id}" in capsys.readouterr().err
    statuses = sorted(r.status.value for r in instance.get_runs())
    assert statuses == ["CANCELED", "SUCCESS"]
    instance.dispose()


def test_a_started_run_whose_process_is_gone_is_marked_failed(tmp_path, home):
    db_url = f"sqlite:///{tmp_path / 'ledger.db'}"  # the instance is under test, not the ledger
    cfg = write_scenario(tmp_path, _records())
    instance = cli_runs.open_instance(home)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = _started_run(instance, cfg, db_url, gone.pid)

    assert _run(cfg, db_url, "--wait", "0") == 0
    assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
    instance.dispose()


def test_the_instance_queue_limits_are_honoured(tmp_path, home, capsys):
    db_url = f"sqlite:///{tmp_path / 'ledger.db'}"  # the instance is under test, not the ledger
    """deploy/dagster.yaml's run coordinator: a limit on another tag blocks the run too."""
    home.mkdir()
    (home / "dagster.yaml").write_text(
        yaml.safe_dump(
            {
                "run_coordinator": {
                    "module": "dagster.core.run_coordinator",
                    "class": "QueuedRunCoordinator",
                    "config": {"tag_concurrency_limits": [{"key": "team", "limit": 1}]},
                },
                "telemetry": {"enabled": False},
            }
        )
    )
    cfg = write_scenario(tmp_path, _records())
    instance = cli_runs.open_instance(home)
    job = cli_runs.cycle_job(str(cfg), db_url)
    other = instance.create_run_for_job(
        job_def=job,
        tags={"team": "finops", "dagster/partition": "2026-11-09"},
        status=DagsterRunStatus.STARTED,
    )
    run = instance.create_run_for_job(
        job_def=job,
        tags={"team": "finops", "dagster/partition": CYCLE},
        status=DagsterRunStatus.NOT_STARTED,
    )
    (blocker,) = cli_runs.blockers(instance, run)
    assert blocker.run.run_id == other.run_id and "team" in blocker.reason
    instance.dispose()


FIRST_RUN = """
import sys
from pathlib import Path
from tokenreview_pipeline.cli_runs import open_instance
instance = open_instance(Path(sys.argv[1]))
instance.get_runs()
print("ok")
"""


def test_two_first_runs_at_once_create_dagster_home_once(tmp_path):
    home = tmp_path / "fresh_home"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FIRST_RUN, str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    # Dagster's own storage has one Alembic head, stamped once.
    engine = sa.create_engine(f"sqlite:///{home / 'history' / 'runs.db'}")
    with engine.connect() as conn:
        heads = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    assert len(heads) == 1
