"""Runs of the cycle job started by ``tokenreview run``, recorded as the code location's runs.

A run started from the command line is the same run ``dagster dev`` would launch:

* its job is *reconstructable* (``build_reconstructable_job`` over :func:`cycle_job`,
  which builds exactly what the code location ``tokenreview_pipeline.definitions``
  builds for the same config and database URL), so the job snapshot the run records
  is the one the UI loads and re-execution from the UI is not "a different version";
* its run record carries the *remote job origin* of the code location
  :data:`CODE_LOCATION` (``[tool.dagster] code_location_name`` and ``workspace.yaml``,
  both checked by the tests), so the UI lists it under Jobs > cycle_review > Runs, in
  the Overview timeline and under its partition;
* it is executed here, in the command's own process, step after step (the job's
  executor is in-process); only the run record goes through the instance;
* before it starts, it honours the instance's run-queue limits
  (``run_coordinator`` ``max_concurrent_runs`` and ``tag_concurrency_limits``, e.g.
  one run per ``dagster/partition`` in ``deploy/dagster.yaml``) and, whatever the
  instance says, one run per cycle: a run created before it that still queues or runs
  is waited for (bounded), then named in the refusal. A started run of the cycle whose
  process is gone is marked failed first (the same rule the cycle lease applies,
  ``cycle_lease.holder_is_dead``).

A fresh ``DAGSTER_HOME`` is created and its storage initialised (Dagster's own SQLite
or PostgreSQL schema, stamped by Alembic) once, under a file lock beside the home, so
two first runs at once cannot both create it.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableJob
from dagster._core.execution.api import execute_run
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus, RunsFilter
from dagster._core.storage.tags import PARTITION_NAME_TAG
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from filelock import FileLock

from tokenreview_pipeline.cycle_lease import current_holder, process_alive

#: The code location's name: ``[tool.dagster] code_location_name`` and ``workspace.yaml``.
CODE_LOCATION = "tokenreview"
#: The module ``dagster dev`` loads (``[tool.dagster] module_name``).
CODE_LOCATION_MODULE = "tokenreview_pipeline.definitions"
#: A ``Definitions`` object's repository name.
REPOSITORY_NAME = "__repository__"

HOST_TAG = "tokenreview/host"
PID_TAG = "tokenreview/pid"

#: Runs that hold or wait for a place in the run queue.
ACTIVE_STATUSES = (
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
)
IN_PROGRESS_STATUSES = (
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
)


class RunRefused(RuntimeError):
    """Another run of the cycle (or the instance's run queue) is in the way."""


def cycle_job(
    config_path: str, database_url: str | None = None, database_url_env: str | None = None
) -> dg.JobDefinition:
    """The cycle job of the code location for this config (the reconstruction target).
    ``database_url_env`` names the environment variable holding the ledger URL when it
    has a password (the run record keeps the job's arguments, never the password)."""
    from tokenreview_pipeline.config import load_config
    from tokenreview_pipeline.defs import build_defs
    from tokenreview_pipeline.defs.jobs import CYCLE_JOB

    if database_url_env is not None:
        database_url = os.environ[database_url_env]
    config = load_config(config_path, database_url=database_url)
    return build_defs(config).resolve_job_def(CYCLE_JOB)


def reconstructable_cycle_job(config_path: Path, database_url: str | None) -> ReconstructableJob:
    from tokenreview_pipeline.defs.resources import ledger_url_config

    url = database_url and ledger_url_config(database_url)
    kwargs = {"config_path": str(config_path), "database_url": url}
    if isinstance(url, dg.EnvVar):  # a password: the run record keeps the variable's name
        kwargs = {"config_path": str(config_path), "database_url_env": url.env_var_name}
    return dg.build_reconstructable_job(__name__, cycle_job.__name__, reconstructable_kwargs=kwargs)


def remote_job_origin(job_name: str) -> RemoteJobOrigin:
    """The origin the UI's workspace gives the job: location ``tokenreview``, loaded from
    the code location module by a managed gRPC server in this Python environment."""
    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        loadable_target_origin=LoadableTargetOrigin(
            executable_path=sys.executable,
            module_name=CODE_LOCATION_MODULE,
            working_directory=os.getcwd(),
        ),
        location_name=CODE_LOCATION,
    )
    return RemoteRepositoryOrigin(location, REPOSITORY_NAME).get_job_origin(job_name)


# ----------------------------------------------------------------------- the instance


def _lock_path(home: Path) -> Path:
    return home.parent / f".{home.name}.lock"


def open_instance(home: Path) -> dg.DagsterInstance:
    """The instance of ``home``, created (a local SQLite instance, telemetry off) and its
    storage initialised under a file lock when it is new. The process environment is left
    as it was: a later command (or test) in the same process that names another home
    gets that home, not this one."""
    home = home.resolve()
    home.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(_lock_path(home)), timeout=300):
        if not (home / "dagster.yaml").exists():
            home.mkdir(exist_ok=True)
            (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        instance = dg.DagsterInstance.from_config(str(home))
        # Touch every storage: a new one creates and stamps its schema now, under the lock.
        instance.get_runs(limit=1)
        instance.event_log_storage.get_event_records(
            dg.EventRecordsFilter(dg.DagsterEventType.RUN_SUCCESS), limit=1
        )
        if instance.schedule_storage is not None:
            instance.schedule_storage.all_instigator_state()
    return instance


# ----------------------------------------------------------------------- run queue


@dataclass(frozen=True)
class Blocker:
    run: DagsterRun
    reason: str

    def describe(self) -> str:
        return f"run {self.run.run_id} ({self.run.status.value}; {self.reason})"


def _limit_applies(limit: Mapping, tags: Mapping[str, str], other: Mapping[str, str]) -> bool:
    key = limit["key"]
    if key not in tags or key not in other:
        return False
    value = limit.get("value")
    if isinstance(value, Mapping) and value.get("applyLimitPerUniqueValue"):
        return other[key] == tags[key]
    if value is None:
        return True
    return tags[key] == value and other[key] == value


def blockers(instance: dg.DagsterInstance, run: DagsterRun) -> list[Blocker]:
    """Runs created before ``run`` that it must wait for: another run of its cycle, or
    the instance's run-queue limits reached."""
    records = instance.get_run_records(filters=RunsFilter(statuses=list(ACTIVE_STATUSES)))
    mine = instance.get_run_record_by_id(run.run_id)
    ahead = [
        r.dagster_run
        for r in records
        if r.dagster_run.run_id != run.run_id
        and (mine is None or r.storage_id < mine.storage_id)
        # A run created but not started counts only when it is ours (a waiting CLI run).
        and (r.dagster_run.status != DagsterRunStatus.NOT_STARTED or PID_TAG in r.dagster_run.tags)
    ]
    found: dict[str, Blocker] = {}
    cycle = run.tags.get(PARTITION_NAME_TAG)
    for other in ahead:
        if cycle is not None and other.tags.get(PARTITION_NAME_TAG) == cycle:
            found[other.run_id] = Blocker(other, f"cycle {cycle}: one run per cycle")
    queue = instance.get_concurrency_config().run_queue_config
    if queue is not None:
        for limit in queue.tag_concurrency_limits or ():
            matching = [o for o in ahead if _limit_applies(limit, run.tags, o.tags)]
            if len(matching) >= int(limit["limit"]):
                for other in matching:
                    found.setdefault(
                        other.run_id,
                        Blocker(other, f"run-queue limit {limit['key']}: {limit['limit']}"),
                    )
        running = [o for o in ahead if o.status in IN_PROGRESS_STATUSES]
        if 0 <= queue.max_concurrent_runs <= len(running):
            for other in running:
                found.setdefault(
                    other.run_id,
                    Blocker(other, f"max_concurrent_runs {queue.max_concurrent_runs}"),
                )
    return list(found.values())


def _dead_process(instance_run: DagsterRun, ledger_engine) -> str | None:
    """Why a started run is dead, or None: its process (our tags, else the cycle's lease
    holder in the ledger) is gone on this host."""
    host, pid = instance_run.tags.get(HOST_TAG), instance_run.tags.get(PID_TAG)
    if host is None and ledger_engine is not None:
        cycle = instance_run.tags.get(PARTITION_NAME_TAG)
        holder = current_holder(ledger_engine, cycle) if cycle else None
        if holder is not None and holder.run_id == instance_run.run_id:
            host, pid = holder.host, str(holder.pid)
    if host == socket.gethostname() and pid and not process_alive(int(pid)):
        return f"process {pid} on {host} is gone"
    return None


def mark_dead_runs(instance: dg.DagsterInstance, found: list[Blocker], ledger_engine) -> list:
    """Report the runs among ``found`` whose process died as failed; the live rest."""
    alive = []
    for blocker in found:
        dead = _dead_process(blocker.run, ledger_engine)
        if dead is None or blocker.run.status == DagsterRunStatus.QUEUED:
            alive.append(blocker)
            continue
        instance.report_run_failed(
            blocker.run, message=f"{dead}; marked failed by a new run of its cycle"
        )
    return alive


def wait_for_turn(
    instance: dg.DagsterInstance,
    run: DagsterRun,
    *,
    wait_s: float,
    ledger_engine=None,
    poll_s: float = 1.0,
    say: Callable[[str], None] = lambda _: None,
) -> None:
    """Return when ``run`` may start; raise ``RunRefused`` naming the runs in its way
    after ``wait_s`` seconds."""
    deadline = time.monotonic() + wait_s
    announced = False
    while True:
        found = mark_dead_runs(instance, blockers(instance, run), ledger_engine)
        if not found:
            return
        names = "; ".join(b.describe() for b in found)
        if time.monotonic() >= deadline:
            raise RunRefused(
                f"cycle {run.tags.get(PARTITION_NAME_TAG)} is not started: {names}. Wait for "
                "it to finish or cancel it (Dagster UI, Runs), then run again"
            )
        if not announced:
            say(f"waiting up to {wait_s:.0f}s for {names}")
            announced = True
        time.sleep(poll_s)


# ----------------------------------------------------------------------- the run


def create_cycle_run(
    instance: dg.DagsterInstance,
    recon_job: ReconstructableJob,
    partition_key: str,
    tags: Mapping[str, str],
    run_config: Mapping,
) -> DagsterRun:
    job_def = recon_job.get_definition()
    return instance.create_run_for_job(
        job_def=job_def,
        run_config=run_config,
        tags={
            **job_def.get_tags_for_partition_key(partition_key, selected_asset_keys=None),
            HOST_TAG: socket.gethostname(),
            PID_TAG: str(os.getpid()),
            **tags,
        },
        status=DagsterRunStatus.NOT_STARTED,
        remote_job_origin=remote_job_origin(job_def.name),
        job_code_origin=recon_job.get_python_origin(),
    )


def execute_cycle_run(
    instance: dg.DagsterInstance, recon_job: ReconstructableJob, run: DagsterRun
) -> dg.JobExecutionResult:
    """Execute the created run here, in this process (the job's executor is in-process)."""
    return execute_run(recon_job, run, instance)
