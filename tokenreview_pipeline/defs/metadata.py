"""Shared asset metadata: owners, column schemas, row counts."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
from sqlalchemy.engine import Engine

from tokenreview_pipeline.column_docs import column_doc

OWNERS = ["team:finops-data"]


def column_schema(table: sa.Table) -> dg.TableSchema:
    """The table's columns with their types and meanings (``column_docs``)."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=str(c.type.compile(dialect=sa.dialects.postgresql.dialect())).lower(),
                description=column_doc(table.name, c.name),
                constraints=dg.TableColumnConstraints(nullable=c.nullable),
            )
            for c in table.columns
        ]
    )


def definition_metadata(table: sa.Table, **extra) -> dict:
    return {
        "dagster/column_schema": column_schema(table),
        "dagster/table_name": table.name,
        **extra,
    }


def cycle_row_count(engine: Engine, table: sa.Table, cycle_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.cycle_id == cycle_id)
        ).scalar_one()
