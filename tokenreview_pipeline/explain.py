"""``tokenreview explain``: why a workload's packets pass or fail, in plain text."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.contract import PACKET_CAUSE_ORDER
from tokenreview_pipeline.packet_tables import fetch_packets


def _money(value) -> str:
    return "unknown" if value is None else f"${float(value):.6f}"


def _model_breakdown(engine: Engine, cycle_id: str, workload: str, request_class: str) -> list[str]:
    a = ledger.request_attempts
    query = (
        sa.select(
            a.c.model,
            sa.func.count().label("attempts"),
            sa.func.sum(sa.case((a.c.is_retry, 1), else_=0)).label("retries"),
            sa.func.sum(a.c.prompt_tokens + a.c.completion_tokens).label("tokens"),
            sa.func.sum(sa.case((a.c.cost_usd.is_(None), 1), else_=0)).label("unpriced"),
            sa.func.sum(a.c.cost_usd).label("cost"),
        )
        .where(
            a.c.cycle_id == cycle_id,
            a.c.workload_tag == workload,
            a.c.request_class == request_class,
        )
        .group_by(a.c.model)
        .order_by(a.c.model)
    )
    lines = []
    with engine.connect() as conn:
        for row in conn.execute(query):
            cost = "unknown (model not priced)" if row.unpriced else _money(row.cost)
            lines.append(
                f"    {row.model}: {row.attempts} attempts ({row.retries} retries), "
                f"{row.tokens} tokens, cost {cost}"
            )
    return lines


def gateway_retry_lines(
    engine: Engine, cycle_id: str, workload: str, request_class: str
) -> list[str]:
    """What the log does not show as attempts (SPEC 2.1 ``gateway_retries``): the retries a
    gateway (LiteLLM's ``attempted_retries``) made inside logged attempts. Their tokens and
    cost are already in the logged attempt's usage; they are not counted as retries."""
    a = ledger.request_attempts
    query = sa.select(
        sa.func.coalesce(sa.func.sum(a.c.gateway_retries), 0).label("retries"),
        sa.func.sum(sa.case((a.c.gateway_retries > 0, 1), else_=0)).label("attempts"),
    ).where(
        a.c.cycle_id == cycle_id,
        a.c.workload_tag == workload,
        a.c.request_class == request_class,
    )
    with engine.connect() as conn:
        row = conn.execute(query).one()
    if not row.retries:
        return []
    return [
        f"    hidden gateway retries: {row.retries} inside {row.attempts} logged attempt(s); "
        "the gateway retried before answering, so their cost is inside the logged row "
        "(not in retry counts or retry cost)"
    ]


def explain_workload(engine: Engine, cycle_id: str, workload: str) -> str:
    packets = fetch_packets(engine, cycle_id, workload)
    if not packets:
        known = sorted({p["workload_tag"] for p in fetch_packets(engine, cycle_id)})
        hint = (
            f" Workloads in this cycle: {', '.join(known)}."
            if known
            else (" The cycle has no packets; run `tokenreview run` first.")
        )
        return f"No packets for workload {workload!r} in cycle {cycle_id}.{hint}"
    out = [
        f"Workload {workload} — cycle {cycle_id} "
        f"[{packets[0]['cycle_start']:%Y-%m-%d}, {packets[0]['cycle_end']:%Y-%m-%d}) UTC, "
        f"reviewed {packets[0]['review_date']}"
    ]
    for p in packets:
        out.append("")
        out.append(
            f"  request class {p['request_class']!r}: {p['result'].upper()}"
            f" (owner {p['owner_tag'] or 'unknown'}, environment "
            f"{p['environment'] or 'mixed/unknown'})"
        )
        out.append(
            f"    {p['logical_requests']} logical requests, {p['attempts']} attempts: "
            f"{p['first_attempts']} first, {p['retry_attempts']} retries "
            f"({p['orphan_retries']} orphan); retry share "
            f"{float(p['retry_share'] or 0):.1%}"
        )
        causes = ", ".join(
            f"{c.name} {p[c.packet_column]}" for c in PACKET_CAUSE_ORDER if p[c.packet_column]
        )
        out.append(f"    retry causes: {causes or 'none'}")
        out.append(
            f"    tokens: {p['prompt_tokens']} prompt, {p['completion_tokens']} "
            f"completion, {p['retry_tokens']} in retries"
        )
        out.append(
            f"    estimated cost {_money(p['est_cost_usd'])}, retries "
            f"{_money(p['retry_cost_usd'])}; {p['unit_metric']} = "
            f"{_money(p['unit_cost'])}"
        )
        out.append(
            f"    pricing snapshot: {p['pricing_snapshot_id'] or 'none'}"
            f" from {p['pricing_source_url'] or '-'}"
        )
        out.append(
            f"    allocation rules: "
            f"{', '.join(json.loads(p['allocation_rule_ids'])) or 'none matched'}"
        )
        out.extend(_model_breakdown(engine, cycle_id, workload, p["request_class"]))
        out.extend(gateway_retry_lines(engine, cycle_id, workload, p["request_class"]))
        failed = json.loads(p["failed_requirements"])
        if failed:
            out.append("    missing evidence:")
            out.extend(f"      - {line}" for line in p["notes"].splitlines())
    return "\n".join(out)
