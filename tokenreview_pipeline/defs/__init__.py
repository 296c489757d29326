"""The Dagster definitions of tokenreview, split by concern:

- ``extract``: the request log, extracted and loaded in Python;
- ``rules``: rule inputs staged as tables, and the allocation decisions;
- ``pricing``: the pricing-source snapshot;
- ``models``: one asset per SQL model, with its checks (``checks``);
- ``publish``: the cycle's publication, the last step of its run;
- ``jobs``: the cycle job and its schedule;
- ``alerts``: the sensor that tells on-call what a cycle's run found;
- ``resources``: the ledger database and the review configuration.
"""

from __future__ import annotations

import dagster as dg

from tokenreview_pipeline.config import TokenreviewConfig
from tokenreview_pipeline.cycles import partitions_def
from tokenreview_pipeline.defs.alerts import cycle_alerts
from tokenreview_pipeline.defs.extract import build_extract_assets
from tokenreview_pipeline.defs.jobs import build_cycle_job, build_cycle_schedule
from tokenreview_pipeline.defs.models import build_model_assets
from tokenreview_pipeline.defs.pricing import build_pricing_assets
from tokenreview_pipeline.defs.publish import build_publication_asset
from tokenreview_pipeline.defs.resources import (
    LedgerResource,
    ReviewConfigResource,
    ledger_url_config,
)
from tokenreview_pipeline.defs.rules import build_rule_assets


def build_defs(config: TokenreviewConfig, database_url: str | None = None) -> dg.Definitions:
    partitions = partitions_def(config.cadence, config.first_cycle)
    job = build_cycle_job()
    return dg.Definitions(
        assets=[
            *build_extract_assets(partitions),
            *build_rule_assets(partitions),
            *build_pricing_assets(partitions),
            *build_model_assets(partitions),
            build_publication_asset(partitions),
        ],
        jobs=[job],
        schedules=[build_cycle_schedule(job)],
        sensors=[cycle_alerts],
        # Steps are SQL statements the database executes; one process is enough, and
        # SQLite takes one writer at a time (applies to ad-hoc materializations too).
        executor=dg.in_process_executor,
        resources={
            "ledger_db": LedgerResource(
                database_url=ledger_url_config(database_url or config.database_url),
                lease_wait_s=config.cycle_lock_wait_s,
            ),
            "review_config": ReviewConfigResource(
                config_path=str(config.path),
                database_url=database_url and ledger_url_config(database_url),
            ),
        },
    )
