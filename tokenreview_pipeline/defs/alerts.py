"""The cycle alert sensor: after a cycle's run, tell on-call what failed (``alerts.py``).

Each tick reads the cycle-job runs that finished since the cursor (by their last
update, so a long run that finishes after a shorter later one is not missed), builds
each run's alert from the instance's check evaluations and the ledger's budget
decisions, and POSTs the alert when it reports something not yet sent for that cycle.
The cursor (JSON) keeps the update time reached and, per cycle, what was sent; it
only moves past a run once its alert is delivered, so a webhook that is down delays
alerts and never loses or repeats them.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter
from dagster._core.storage.tags import PARTITION_NAME_TAG

from tokenreview_pipeline.alerts import (
    AlertError,
    CycleAlert,
    FailedCheck,
    deliver,
    paused_workloads,
    run_url,
)
from tokenreview_pipeline.defs.jobs import CYCLE_JOB
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource

SENSOR_NAME = "cycle_alerts"
#: Cycles whose sent alerts the cursor remembers (older cycles are not re-run for alerts).
REMEMBERED_CYCLES = 60
_FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE]


def _load_cursor(text: str | None) -> dict:
    if not text:
        return {"updated_after": None, "sent": {}}
    return json.loads(text)


def _dump_cursor(cursor: dict) -> str:
    sent = cursor["sent"]
    for cycle in sorted(sent)[:-REMEMBERED_CYCLES]:
        del sent[cycle]
    return json.dumps(cursor, sort_keys=True)


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[FailedCheck]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed:
            failed.append(
                FailedCheck(
                    evaluation.asset_key.to_user_string(),
                    evaluation.check_name,
                    evaluation.severity.value,
                    evaluation.description or "",
                )
            )
    return sorted(failed, key=lambda c: (c.asset, c.check))


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a cycle's run, POSTs a short summary (failed checks, paused budget "
    "changes, a link to the run) to the webhook of the config's alerts block, at most "
    "once per cycle and check.",
)
def cycle_alerts(
    context: dg.SensorEvaluationContext,
    review_config: ReviewConfigResource,
    ledger_db: LedgerResource,
):
    config = review_config.load()
    if config.alerts is None:
        return dg.SkipReason("no alerts block in the config")
    cursor = _load_cursor(context.cursor)
    after = cursor["updated_after"]
    records = context.instance.get_run_records(
        filters=RunsFilter(
            job_name=CYCLE_JOB,
            statuses=_FINISHED,
            updated_after=datetime.fromtimestamp(after, timezone.utc) if after else None,  # noqa: UP017
        ),
        limit=50,
        order_by="update_timestamp",
        ascending=True,
    )
    delivered, problem = 0, None
    for record in records:
        run = record.dagster_run
        cycle = run.tags.get(PARTITION_NAME_TAG)
        if cycle is not None:
            alert = CycleAlert(
                cycle_id=cycle,
                run_id=run.run_id,
                run_status=run.status.value,
                failed_checks=failed_checks(context.instance, run.run_id),
                paused_workloads=paused_workloads(ledger_db.engine(), cycle),
                run_url=run_url(config.alerts, run.run_id),
            )
            sent = set(cursor["sent"].get(cycle, []))
            new = [k for k in alert.keys() if k not in sent]
            if new:
                try:
                    tries = deliver(config.alerts, alert.payload())
                except AlertError as exc:
                    problem = f"cycle {cycle}, run {run.run_id}: {exc}"
                    context.log.error(f"alert not delivered: {problem}")
                    break
                context.log.info(f"alert for cycle {cycle} delivered ({tries} try/tries)")
                cursor["sent"][cycle] = sorted(sent | set(new))
                delivered += 1
        updated = record.update_timestamp
        if updated.tzinfo is None:  # SQLite run storage: naive UTC
            updated = updated.replace(tzinfo=timezone.utc)  # noqa: UP017
        cursor["updated_after"] = updated.timestamp()
    result_cursor = _dump_cursor(cursor)
    if problem:
        return dg.SensorResult(skip_reason=f"alert not delivered: {problem}", cursor=result_cursor)
    if not delivered:
        return dg.SensorResult(skip_reason="no new cycle alert", cursor=result_cursor)
    return dg.SensorResult(cursor=result_cursor)
