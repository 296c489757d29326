"""A ``budget_reviews`` row for tests of what reads budget decisions (report, alerts)."""

from __future__ import annotations

import datetime as dt

from tokenreview_pipeline import ledger


def add_budget_decision(db_url: str, row: dict) -> None:
    """Put ``row`` in ``budget_reviews`` in place of the review the cycle's run wrote for
    the same (cycle, workload), the table's grain; columns the row leaves out and the
    table requires get a filler value."""
    engine = ledger.engine_for(db_url)
    table = ledger.budget_reviews
    fillers = {int: 0, float: 0.0, str: "", bool: False, dt.date: dt.date(2026, 11, 16)}
    for c in table.columns:
        if c.name not in row and not c.nullable:
            row[c.name] = fillers.get(c.type.python_type, "")
    grain = (table.c.cycle_id == row["cycle_id"]) & (table.c.workload_tag == row["workload_tag"])
    with engine.begin() as conn:
        conn.execute(table.delete().where(grain))
        conn.execute(table.insert().values(**{k: v for k, v in row.items() if k in table.c}))
