"""Allocation decisions (SPEC 2.2) for a cycle: the one place Python reads a SQL model.

Allocation rules match globs and render templates (``allocation.py``), which SQL
cannot express portably, so this step reads the first attempt of every logical request
from ``int_grouped_attempts`` and writes ``int_allocation_decisions`` -- one decision per
distinct set of the attributes rules read (``allocation_key``), so the Python work grows
with the variety of traffic, not its volume. ``request_attempts.sql`` joins the result.

The attributes are already redacted (SPEC 2.5), so a tag a template copies holds its
redacted form; what a template renders is redacted once more, because a template can
join parts that are harmless alone (``{tags.a}{tags.b}``: ``sk-`` and 20 characters)
into a secret, and no stored string may hold one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.allocation import AllocationRule, RequestAttributes, decide_allocation
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.extract.records import redact_value
from tokenreview_pipeline.rule_inputs import replace_cycle_rows


def decide_cycle_allocations(engine: Engine, cycle: Cycle, rules: Sequence[AllocationRule]) -> int:
    """Decide allocation once per distinct attribute set of the cycle's first attempts."""
    s, g = ledger.stg_source_records, ledger.int_grouped_attempts
    query = (
        sa.select(
            s.c.allocation_key, s.c.api_key_id, s.c.model, s.c.endpoint, s.c.environment, s.c.tags
        )
        .distinct()
        .select_from(g.join(s, sa.and_(s.c.cycle_id == g.c.cycle_id, s.c.read_seq == g.c.read_seq)))
        .where(g.c.cycle_id == cycle.cycle_id, g.c.attempt_index == 0)
    )
    rows = []
    with engine.connect() as conn:
        for key, api_key_id, model, endpoint, environment, tags in conn.execute(query):
            decision = decide_allocation(
                rules,
                RequestAttributes(
                    api_key_id=api_key_id,
                    model=model,
                    endpoint=endpoint,
                    environment=environment,
                    tags=json.loads(tags or "{}"),
                ),
            )
            rendered = {
                "owner_tag": decision.owner_tag,
                "workload_tag": decision.workload_tag,
                "environment": decision.environment,
                "request_class": decision.request_class,
            }
            rows.append(
                {
                    "cycle_id": cycle.cycle_id,
                    "allocation_key": key,
                    "allocation_rule_id": decision.allocation_rule_id,
                    **{k: v if v is None else redact_value(v)[0] for k, v in rendered.items()},
                }
            )
    return replace_cycle_rows(engine, ledger.int_allocation_decisions, cycle.cycle_id, rows)
