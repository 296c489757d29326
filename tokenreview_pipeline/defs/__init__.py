"""The Dagster definitions of tokenreview, split by concern:

- ``staging_assets``: Python extract/load of the request log and rule inputs;
- ``model_assets``: one asset per SQL model, with its checks;
- ``jobs``: the cycle job and its schedule;
- ``resources``: the ledger database and the review configuration.
"""

from __future__ import annotations

import dagster as dg

from tokenreview_pipeline.config import TokenreviewConfig
from tokenreview_pipeline.cycles import partitions_def
from tokenreview_pipeline.defs.jobs import build_cycle_job, build_cycle_schedule
from tokenreview_pipeline.defs.model_assets import build_model_assets
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.staging_assets import build_staging_assets


def build_defs(config: TokenreviewConfig, database_url: str | None = None) -> dg.Definitions:
    partitions = partitions_def(config.cadence, config.first_cycle)
    job = build_cycle_job()
    return dg.Definitions(
        assets=[*build_staging_assets(partitions), *build_model_assets(partitions)],
        jobs=[job],
        schedules=[build_cycle_schedule(job)],
        # Steps are SQL statements the database executes; one process is enough, and
        # SQLite takes one writer at a time (applies to ad-hoc materializations too).
        executor=dg.in_process_executor,
        resources={
            "ledger_db": LedgerResource(database_url=database_url or config.database_url),
            "review_config": ReviewConfigResource(
                config_path=str(config.path), database_url=database_url
            ),
        },
    )
