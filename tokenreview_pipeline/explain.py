"""``tokenreview explain``: why a workload's packets pass or fail, in plain text."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.contract import BUDGET_DECISION, PACKET_CAUSE_ORDER, STANDARD_TIER
from tokenreview_pipeline.packet_tables import (
    fetch_budget_reviews,
    fetch_packets,
    price_label,
    token_classes,
)


def _money(value) -> str:
    return "unknown" if value is None else f"${float(value):.6f}"


def _price_breakdown(engine: Engine, cycle_id: str, workload: str, request_class: str) -> list[str]:
    """One line per (model, service tier, long-context band) the packet's attempts used."""
    a = ledger.request_attempts
    keys = (a.c.model, a.c.service_tier, a.c.above_prompt_tokens)
    query = (
        sa.select(
            *keys,
            sa.func.count().label("attempts"),
            sa.func.sum(sa.case((a.c.is_retry, 1), else_=0)).label("retries"),
            sa.func.sum(a.c.prompt_tokens + a.c.completion_tokens).label("tokens"),
            sa.func.sum(sa.case((a.c.cost_usd.is_(None), 1), else_=0)).label("unpriced"),
            sa.func.min(a.c.cost_unknown_reason).label("reason"),
            sa.func.sum(a.c.cost_usd).label("cost"),
        )
        .where(
            a.c.cycle_id == cycle_id,
            a.c.workload_tag == workload,
            a.c.request_class == request_class,
        )
        .group_by(*keys)
    )
    lines = []
    with engine.connect() as conn:
        found = sorted(
            conn.execute(query),
            key=lambda r: (r.model, r.service_tier != STANDARD_TIER, r.service_tier,
                           r.above_prompt_tokens or 0),
        )  # fmt: skip
    for row in found:
        cost = f"unknown ({row.reason.replace('_', ' ')})" if row.unpriced else _money(row.cost)
        lines.append(
            f"    {price_label(row.model, row.service_tier, row.above_prompt_tokens)}: "
            f"{row.attempts} attempts ({row.retries} retries), {row.tokens} tokens, cost {cost}"
        )
    return lines


def _share(value) -> str:
    return "" if value is None else f" ({float(value):.1%} used)"


def budget_decision(engine: Engine, cycle_id: str, workload: str) -> list[str]:
    """The workload's budget decision (``budget_reviews``), the first thing ``explain``
    says: the change request and its decision, the cost against the previous cycle and
    the budget, and, when paused, what must be supplied by whom before the change can
    be discussed."""
    found = fetch_budget_reviews(engine, cycle_id, workload)
    if not found:
        return [
            f"Budget decision: none recorded for {workload!r} in cycle {cycle_id} (the "
            "cycle has no budget review for it; run `tokenreview run` for the cycle)."
        ]
    r = found[0]
    request = (
        f"change request to {_money(r['requested_budget_usd'])} per cycle by {r['requested_by']}"
    )
    if r["decision"] == BUDGET_DECISION.paused:
        head = f"PAUSED: the {request} cannot be discussed until the evidence is complete"
    elif r["decision"] == BUDGET_DECISION.ready_for_review:
        head = (
            f"READY FOR REVIEW: the {request} can be discussed with the packets and the "
            "billing reconciliation (ready is not an approval)"
        )
    else:
        head = "NO CHANGE REQUESTED for this cycle"
    budget = "no budget" if r["budget_usd"] is None else f"budget {_money(r['budget_usd'])}"
    out = [
        f"Budget decision: {head}.",
        f"  estimated cost {_money(r['est_cost_usd'])} (retries "
        f"{_money(r['retry_cost_usd'])}) over {r['packets']} packet(s), "
        f"{r['packets_passed']} passing; previous cycle {_money(r['previous_est_cost_usd'])}; "
        f"{budget}{_share(r['budget_used_share'])}",
    ]
    if r["decision"] == BUDGET_DECISION.paused:
        out.append("  Before the change can be discussed:")
        out.extend(f"    - {line}" for line in r["notes"].splitlines())
    return out


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
    decision = budget_decision(engine, cycle_id, workload)
    packets = fetch_packets(engine, cycle_id, workload)
    if not packets:
        known = sorted({p["workload_tag"] for p in fetch_packets(engine, cycle_id)})
        hint = (
            f" Workloads in this cycle: {', '.join(known)}."
            if known
            else (" The cycle has no packets; run `tokenreview run` first.")
        )
        return "\n".join(
            [*decision, "", f"No packets for workload {workload!r} in cycle {cycle_id}.{hint}"]
        )
    out = [
        *decision,
        "",
        f"Workload {workload} — cycle {cycle_id} "
        f"[{packets[0]['cycle_start']:%Y-%m-%d}, {packets[0]['cycle_end']:%Y-%m-%d}) UTC, "
        f"reviewed {packets[0]['review_date']}",
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
        out.append(f"    tokens: {token_classes(p)}; {p['retry_tokens']} in retries")
        out.append(
            f"    gateway retries inside attempts: {p['gateway_retries']}; prompt caching "
            f"saved {_money(p['cache_savings_usd'])} (cached tokens at the input price, less "
            "what they cost)"
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
        out.extend(_price_breakdown(engine, cycle_id, workload, p["request_class"]))
        out.extend(gateway_retry_lines(engine, cycle_id, workload, p["request_class"]))
        failed = json.loads(p["failed_requirements"])
        if failed:
            out.append("    missing evidence:")
            out.extend(f"      - {line}" for line in p["notes"].splitlines())
    return "\n".join(out)
