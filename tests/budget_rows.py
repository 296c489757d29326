"""A ``budget_reviews`` row for tests of what reads budget decisions (report, alerts)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tokenreview_pipeline import ledger


def add_budget_decision(db_url: str, row: dict) -> None:
    """A budget_reviews row, in the table the budget review writes (created here with the
    columns the report reads while this branch's ledger does not declare it)."""
    engine = ledger.engine_for(db_url)
    if not sa.inspect(engine).has_table("budget_reviews"):
        columns = [sa.Column("cycle_id", sa.String(10)), sa.Column("workload_tag", sa.Text)]
        columns += [sa.Column(c, sa.Text) for c in ("decision", "pause_reasons", "notes")]
        columns.append(sa.Column("budget_usd", sa.Float))
        sa.Table("budget_reviews", sa.MetaData(), *columns).create(engine)
    table = sa.Table("budget_reviews", sa.MetaData(), autoload_with=engine)
    fillers = {int: 0, float: 0.0, str: "", bool: False, dt.date: dt.date(2026, 11, 16)}
    for c in table.columns:
        if c.name not in row and not c.nullable:
            row[c.name] = fillers.get(c.type.python_type, "")
    with engine.begin() as conn:
        conn.execute(table.insert().values(**{k: v for k, v in row.items() if k in table.c}))
