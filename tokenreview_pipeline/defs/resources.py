"""Resources: the ledger database and the review configuration."""

from __future__ import annotations

import os

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.config import DATABASE_URL_ENV, TokenreviewConfig, load_config
from tokenreview_pipeline.cycle_lease import FencedLedger, Holder


def _run_is_over(instance: dg.DagsterInstance, run_id: str) -> bool | None:
    run = instance.get_run_by_id(run_id)
    return None if run is None else run.is_finished


def _report_dead(instance: dg.DagsterInstance, holder: Holder) -> None:
    """A run whose process died keeps STARTED in the instance: mark it failed, so a
    one-run-per-cycle queue does not wait for it forever."""
    run = instance.get_run_by_id(holder.run_id)
    if run is not None and not run.is_finished:
        instance.report_run_failed(
            run,
            message=f"process {holder.pid} on {holder.host} is gone; the cycle was taken "
            "over by a new run",
        )


#: The environment variable a ledger URL that holds a password is handed over in: the
#: resources are configured with its *name* (``dg.EnvVar``), so the password is never in
#: the job snapshot or run record Dagster stores, only in this process's environment
#: (inherited by the run workers it launches).
LEDGER_URL_ENV = "TOKENREVIEW_LEDGER_URL"


def has_password(url: str) -> bool:
    try:
        return sa.engine.make_url(url).password is not None
    except sa.exc.ArgumentError:
        return False


def ledger_url_config(url: str) -> str | dg.EnvVar:
    """What a resource is configured with for the ledger ``url``: the URL when it holds no
    password (the UI shows it), else an ``EnvVar`` naming where this process keeps it."""
    if not has_password(url):
        return url
    if os.environ.get(DATABASE_URL_ENV) == url:
        return dg.EnvVar(DATABASE_URL_ENV)
    os.environ[LEDGER_URL_ENV] = url
    return dg.EnvVar(LEDGER_URL_ENV)


class LedgerResource(dg.ConfigurableResource):
    """The ledger database (SQLite file or PostgreSQL) reached through SQLAlchemy."""

    database_url: str
    #: How long a run waits for another run of the same cycle before it is refused
    #: (config ``cycle_lock_wait_s``).
    lease_wait_s: float = 0.0

    def engine(self) -> Engine:
        engine = ledger.engine_for(self.database_url)
        ledger.ensure_schema(engine)
        return engine

    def for_cycle(self, context: dg.AssetExecutionContext, cycle_id: str) -> FencedLedger:
        """The ledger as this run writes ``cycle_id``: the cycle's lease claimed (or
        already held), every write transaction fenced by it."""
        writer = FencedLedger(self.engine(), cycle_id, context.run.run_id)
        instance = context.instance
        writer.claim(
            lambda run_id: _run_is_over(instance, run_id),
            wait_s=self.lease_wait_s,
            on_dead=lambda holder: _report_dead(instance, holder),
        )
        return writer


class ReviewConfigResource(dg.ConfigurableResource):
    """``tokenreview.yaml`` and the files it names, read afresh by every run."""

    config_path: str
    database_url: str | None = None

    def load(self) -> TokenreviewConfig:
        return load_config(self.config_path, database_url=self.database_url)
