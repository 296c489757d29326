"""The cycle review job and the schedule built from it (one run per cycle)."""

from __future__ import annotations

import dagster as dg

CYCLE_JOB = "cycle_review"


def build_cycle_job() -> dg.UnresolvedAssetJobDefinition:
    # The job takes its partitions from its assets (every asset is cycle-partitioned).
    return dg.define_asset_job(
        CYCLE_JOB,
        selection=dg.AssetSelection.all(),
        description="Extract, group, classify, allocate, price and review one cycle.",
    )


def build_cycle_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    # Runs when a cycle ends, for the cycle that just ended (latest complete partition).
    return dg.build_schedule_from_partitioned_job(
        job, name="cycle_review_schedule", default_status=dg.DefaultScheduleStatus.STOPPED
    )
