"""Resources: the ledger database and the review configuration."""

from __future__ import annotations

import dagster as dg
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.config import TokenreviewConfig, load_config


class LedgerResource(dg.ConfigurableResource):
    """The ledger database (SQLite file or PostgreSQL) reached through SQLAlchemy."""

    database_url: str

    def engine(self) -> Engine:
        engine = ledger.engine_for(self.database_url)
        ledger.ensure_schema(engine)
        return engine


class ReviewConfigResource(dg.ConfigurableResource):
    """``tokenreview.yaml`` and the files it names, read afresh by every run."""

    config_path: str
    database_url: str | None = None

    def load(self) -> TokenreviewConfig:
        return load_config(self.config_path, database_url=self.database_url)
