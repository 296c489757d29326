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

import os

import dagster as dg
import sqlalchemy as sa

from tokenreview_pipeline.config import DATABASE_URL_ENV, TokenreviewConfig
from tokenreview_pipeline.cycles import partitions_def
from tokenreview_pipeline.defs.alerts import cycle_alerts
from tokenreview_pipeline.defs.extract import build_extract_assets
from tokenreview_pipeline.defs.jobs import build_cycle_job, build_cycle_schedule
from tokenreview_pipeline.defs.models import build_model_assets
from tokenreview_pipeline.defs.pricing import build_pricing_assets
from tokenreview_pipeline.defs.publish import build_publication_asset
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.rules import build_rule_assets


def _ledger_url(config: TokenreviewConfig, database_url: str | None) -> str | dg.EnvVar:
    """The ledger URL as the resource's config. A resource's value is written into the job
    snapshot, which the instance stores with every run and the UI shows: a URL holding a
    password that came from ``$TOKENREVIEW_DATABASE_URL`` is recorded by the variable's
    name instead (any other URL as it is, so CLI and code location snapshots stay equal)."""
    url = database_url or config.database_url
    if os.environ.get(DATABASE_URL_ENV) == url and sa.engine.make_url(url).password is not None:
        return dg.EnvVar(DATABASE_URL_ENV)
    return url


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
                database_url=_ledger_url(config, database_url),
                lease_wait_s=config.cycle_lock_wait_s,
            ),
            "review_config": ReviewConfigResource(
                config_path=str(config.path), database_url=database_url
            ),
        },
    )
