"""``tokenreview explain``: why a workload's packets pass or fail, in plain text."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.contract import (
    BUDGET_DECISION,
    PACKET_CAUSE_ORDER,
    REQUIREMENTS,
    STANDARD_TIER,
    UNKNOWN_CAUSE,
)
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


class UnknownWorkload(LookupError):
    """The cycle has no packet of the workload (the message lists the ones it has)."""


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
        if fetch_budget_reviews(engine, cycle_id, workload):
            # a change request for a workload without traffic: the decision is the story
            return "\n".join(
                [*decision, "", f"No packets for workload {workload!r} in cycle {cycle_id}.{hint}"]
            )
        raise UnknownWorkload(f"no packets for workload {workload!r} in cycle {cycle_id}.{hint}")
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
            out.extend(evidence_sections(engine, p, failed))
    return "\n".join(out)


# ------------------------------------------------------------- the evidence behind a note
# Each section names the rows behind one failed requirement: attempts by id, traffic by
# what a rule can match, owners by name and rule. They read the published tables only.

#: How many attempts a section lists before it says how many more there are.
SHOWN = 10


def _packet_filter(t: sa.Table, packet: dict) -> list:
    request_class = (
        t.c.request_class.is_(None)
        if packet["request_class"] is None
        else t.c.request_class == packet["request_class"]
    )
    return [
        t.c.cycle_id == packet["cycle_id"],
        t.c.workload_tag == packet["workload_tag"],
        request_class,
    ]


def _when(value) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M:%S} UTC"


def _previous_outcome(row) -> str:
    if row.prev_attempt_id is None:
        return "previous attempt: none in the log (its first attempt is missing)"
    status = row.prev_status if row.prev_status is not None else "no response"
    error = f", error {row.prev_error}" if row.prev_error else ""
    return f"previous attempt {row.prev_attempt_id}: status {status}{error}"


def _retry_rows(engine: Engine, packet: dict, condition) -> tuple[list, int]:
    """Retries of the packet matching ``condition``, each with the attempt before it."""
    a = ledger.request_attempts
    prev = a.alias("prev")
    where = [*_packet_filter(a, packet), condition]
    query = (
        sa.select(
            a.c.attempt_id,
            a.c.timestamp,
            a.c.api_key_id,
            a.c.request_id,
            a.c.logical_request_id,
            prev.c.attempt_id.label("prev_attempt_id"),
            prev.c.status_code.label("prev_status"),
            prev.c.error_type.label("prev_error"),
        )
        .select_from(
            a.outerjoin(
                prev,
                sa.and_(
                    prev.c.cycle_id == a.c.cycle_id,
                    prev.c.logical_request_id == a.c.logical_request_id,
                    prev.c.attempt_index == a.c.attempt_index - 1,
                ),
            )
        )
        .where(*where)
        .order_by(a.c.timestamp, a.c.attempt_id)
        .limit(SHOWN)
    )
    count = sa.select(sa.func.count()).select_from(a).where(*where)
    with engine.connect() as conn:
        return list(conn.execute(query)), conn.execute(count).scalar_one()


def _attempt_lines(title: str, rows: list, total: int) -> list[str]:
    lines = [f"      {title} ({total}):"]
    for row in rows:
        key = f"request_id {row.request_id}" if row.request_id else "no request_id"
        lines.append(
            f"        {row.attempt_id} at {_when(row.timestamp)}, api key {row.api_key_id}, "
            f"{key}; {_previous_outcome(row)}"
        )
    if total > len(rows):
        lines.append(f"        ... and {total - len(rows)} more")
    return lines


def orphan_retry_lines(engine: Engine, packet: dict) -> list[str]:
    rows, total = _retry_rows(engine, packet, ledger.request_attempts.c.is_orphan_retry)
    return _attempt_lines("orphan retries", rows, total) if total else []


def unknown_cause_lines(engine: Engine, packet: dict) -> list[str]:
    a = ledger.request_attempts
    rows, total = _retry_rows(engine, packet, a.c.retry_cause == UNKNOWN_CAUSE.name)
    return _attempt_lines("retries with an unknown cause", rows, total) if total else []


def _rule_snippet(group) -> list[str]:
    """A YAML allocation rule that would match a group of unallocated traffic."""
    match: dict = {"api_key_id": [group.api_key_id], "model": group.model}
    match["endpoint"] = group.endpoint
    tags = json.loads(group.tags or "{}")
    if tags:
        match["tags"] = tags
    rule = {
        "id": "CHANGE-ME",
        "match": match,
        "assign": {"owner_tag": "CHANGE-ME", "workload_tag": "CHANGE-ME"},
    }
    text = yaml.safe_dump({"rules": [rule]}, sort_keys=False, default_flow_style=None)
    return [f"          {line}" for line in text.splitlines()]


def unallocated_traffic_lines(engine: Engine, packet: dict) -> list[str]:
    """The packet's logical requests that matched no rule, grouped by what a rule can
    match (api key, tags, model, endpoint of their attempts), largest group first."""
    a = ledger.request_attempts
    where = [*_packet_filter(a, packet), a.c.allocation_rule_id.is_(None)]
    query = (
        sa.select(
            a.c.api_key_id,
            a.c.tags,
            a.c.model,
            a.c.endpoint,
            sa.func.count(sa.distinct(a.c.logical_request_id)).label("requests"),
        )
        .where(*where)
        .group_by(a.c.api_key_id, a.c.tags, a.c.model, a.c.endpoint)
    )
    with engine.connect() as conn:
        groups = sorted(
            conn.execute(query),
            key=lambda g: (-g.requests, g.api_key_id, g.model, g.endpoint, g.tags or ""),
        )
    if not groups:
        return []
    lines = ["      unallocated traffic, by what an allocation rule can match:"]
    for group in groups[:SHOWN]:
        lines.append(
            f"        {group.requests} logical request(s): api key {group.api_key_id}, model "
            f"{group.model}, endpoint {group.endpoint}, tags {group.tags or '{}'}"
        )
        lines.append("          a rule that would match them (allocation_rules.yaml):")
        lines.extend(_rule_snippet(group))
    if len(groups) > SHOWN:
        lines.append(f"        ... and {len(groups) - SHOWN} more group(s)")
    return lines


def conflicting_owner_lines(engine: Engine, packet: dict) -> list[str]:
    """The owners the packet's requests were given, each with the rule that gave it."""
    a = ledger.request_attempts
    query = (
        sa.select(
            a.c.owner_tag,
            a.c.allocation_rule_id,
            sa.func.count(sa.distinct(a.c.logical_request_id)).label("requests"),
        )
        .where(*_packet_filter(a, packet))
        .group_by(a.c.owner_tag, a.c.allocation_rule_id)
    )
    with engine.connect() as conn:
        owners = sorted(
            conn.execute(query), key=lambda o: (o.owner_tag or "", o.allocation_rule_id or "")
        )
    if len({o.owner_tag for o in owners}) < 2:
        return []
    lines = ["      owners assigned:"]
    for o in owners:
        rule = f"rule {o.allocation_rule_id}" if o.allocation_rule_id else "no rule"
        lines.append(f"        {o.owner_tag or '(none)'}: {o.requests} request(s), by {rule}")
    return lines


def unpriced_model_lines(engine: Engine, packet: dict) -> list[str]:
    """Models the pricing snapshot does not price: the pipeline operator must add them
    (whatever the packet's note says about its owner, a missing price is configuration)."""
    a = ledger.request_attempts
    query = (
        sa.select(a.c.model, a.c.service_tier, sa.func.count().label("attempts"))
        .where(*_packet_filter(a, packet), a.c.cost_usd.is_(None))
        .group_by(a.c.model, a.c.service_tier)
    )
    with engine.connect() as conn:
        rows = sorted(conn.execute(query), key=lambda r: (r.model, r.service_tier or ""))
    if not rows:
        return []
    snapshot = packet["pricing_snapshot_id"] or "none"
    lines = [
        f"      unpriced models (snapshot {snapshot}); the pipeline operator must add their "
        "prices to pricing.url, the owner has nothing to supply:"
    ]
    lines.extend(
        f"        {r.model} (tier {r.service_tier or 'standard'}): {r.attempts} attempt(s)"
        for r in rows
    )
    return lines


#: The section that shows the rows behind each packet measure. A failed requirement
#: gets the sections of the measures its condition (``contract.Requirement.holds``)
#: reads, so no requirement is named here.
EVIDENCE_BY_MEASURE = {
    "orphan_retries": orphan_retry_lines,
    "retries_unknown": unknown_cause_lines,
    "unmatched_requests": unallocated_traffic_lines,
    "workload_tag": unallocated_traffic_lines,
    "owner_tag": conflicting_owner_lines,
    "unpriced_attempts": unpriced_model_lines,
    "unit_cost": unpriced_model_lines,
}


def _sections_for(requirement: str) -> list:
    (holds,) = [r.holds for r in REQUIREMENTS if r.name == requirement]
    return [
        section
        for measure, section in EVIDENCE_BY_MEASURE.items()
        if re.search(rf"\b{measure}\b", holds)
    ]


def evidence_sections(engine: Engine, packet: dict, failed: list[str]) -> list[str]:
    """The rows behind the packet's failed requirements, each section once."""
    lines: list[str] = []
    shown = set()
    for name in failed:
        for section in _sections_for(name):
            if section not in shown:
                shown.add(section)
                lines.extend(section(engine, packet))
    return lines
