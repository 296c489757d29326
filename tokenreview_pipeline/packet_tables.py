"""Human-readable views of a cycle's packets and budget reviews (Dagster UI markdown,
CLI table).

Tables are rendered by pandas through tabulate (``to_markdown``; ``simple`` for a terminal).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.contract import BUDGET_DECISION, BUDGET_DECISIONS, STANDARD_TIER

SUMMARY_COLUMNS = (
    "workload_tag",
    "request_class",
    "owner_tag",
    "attempts",
    "retry_attempts",
    "prompt_tokens",
    "cached_prompt_tokens",
    "cache_write_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "est_cost_usd",
    "cache_savings_usd",
    "unit_cost",
    "result",
    "failed_requirements",
)
#: The Dagster UI's packet table adds what is missing and who must supply it.
UI_COLUMNS = (*SUMMARY_COLUMNS, "notes")


def price_label(model: str, service_tier: str, above_prompt_tokens: int | None) -> str:
    """``model[, tier tier][, prompts over N tokens]``: which price row priced something."""
    label = model if service_tier == STANDARD_TIER else f"{model}, {service_tier} tier"
    if above_prompt_tokens is not None:
        label += f", prompts over {above_prompt_tokens} tokens"
    return label


def token_classes(packet: dict[str, Any]) -> str:
    """A packet's tokens by class (SPEC 2.1: the classes are parts of the two totals)."""
    prompt, cached, writes = (
        packet["prompt_tokens"],
        packet["cached_prompt_tokens"],
        packet["cache_write_tokens"],
    )
    return (
        f"{prompt} prompt ({prompt - cached - writes} uncached, {cached} cached, {writes} "
        f"cache writes), {packet['completion_tokens']} completion "
        f"({packet['reasoning_tokens']} reasoning)"
    )


def _cycle_rows(
    engine: Engine, t: sa.Table, cycle_id: str, workload: str | None
) -> list[dict[str, Any]]:
    query = sa.select(t).where(t.c.cycle_id == cycle_id)
    if workload is not None:
        query = query.where(t.c.workload_tag == workload)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def fetch_packets(
    engine: Engine, cycle_id: str, workload: str | None = None, table: str | None = None
) -> list[dict[str, Any]]:
    """A cycle's packets from ``review_packets`` (or, for a run's own view before
    publication, the named build table), ordered by workload and request class."""
    t = ledger.metadata.tables[table] if table else ledger.review_packets
    packets = _cycle_rows(engine, t, cycle_id, workload)
    # Ordered here, by code point, so both backends agree whatever the database's
    # collation (PostgreSQL's locale order differs from SQLite's byte order).
    return sorted(packets, key=lambda p: (p["workload_tag"], p["request_class"] or ""))


def cell(value: Any) -> str:
    """A value as people read it: costs to 1e-6, JSON arrays (stored as text or decoded)
    as comma lists, a note's lines on one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) or hasattr(value, "quantize"):
        return f"{float(value):.6f}"
    if isinstance(value, str) and value.startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return " ".join(str(value).splitlines())  # a note's lines are sentences


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame([[cell(r[c]) for c in columns] for r in rows], columns=columns)


def markdown_table(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> str:
    """Rows as a markdown table for the Dagster UI (pipes in values escaped)."""
    frame = pd.DataFrame(
        [[cell(r.get(c)).replace("|", "\\|") for c in columns] for r in rows], columns=columns
    )
    return frame.to_markdown(index=False, disable_numparse=True)


def summary_frame(
    packets: list[dict[str, Any]], columns: tuple[str, ...] = SUMMARY_COLUMNS
) -> pd.DataFrame:
    """The packets' summary columns, formatted for people (costs to 1e-6)."""
    return _frame(packets, columns)


def packets_text(packets: list[dict[str, Any]]) -> str:
    return summary_frame(packets).to_markdown(index=False, tablefmt="simple", disable_numparse=True)


def packets_markdown(engine: Engine, cycle_id: str, table: str | None = None) -> str:
    packets = fetch_packets(engine, cycle_id, table=table)
    passed = sum(1 for p in packets if p["result"] == "pass")
    table = markdown_table(packets, UI_COLUMNS) if packets else "(no packets)"
    return f"{table}\n\n{len(packets)} packet(s): {passed} pass, {len(packets) - passed} fail."


# ------------------------------------------------------------------ budget reviews

BUDGET_COLUMNS = (
    "workload_tag",
    "owner_tag",
    "packets",
    "packets_passed",
    "est_cost_usd",
    "previous_est_cost_usd",
    "budget_usd",
    "budget_used_share",
    "requested_budget_usd",
    "requested_by",
    "decision",
    "pause_reasons",
)


def fetch_budget_reviews(
    engine: Engine, cycle_id: str, workload: str | None = None, table: str | None = None
) -> list[dict[str, Any]]:
    """A cycle's rows of ``budget_reviews`` (or of the named build table), ordered by
    ``workload_tag`` by code point."""
    t = ledger.metadata.tables[table] if table else ledger.budget_reviews
    return sorted(_cycle_rows(engine, t, cycle_id, workload), key=lambda r: r["workload_tag"])


def budget_frame(reviews: list[dict[str, Any]]) -> pd.DataFrame:
    """The budget reviews' summary columns, formatted for people (costs to 1e-6)."""
    return _frame(reviews, BUDGET_COLUMNS)


def budget_tally(reviews: list[dict[str, Any]]) -> str:
    """``3 workload(s): 1 paused, 1 ready_for_review, 1 no_change_requested.``"""
    counts = ", ".join(f"{sum(r['decision'] == d for r in reviews)} {d}" for d in BUDGET_DECISIONS)
    return f"{len(reviews)} workload(s): {counts}."


def paused_notes(reviews: list[dict[str, Any]]) -> list[str]:
    """For each paused change request: who asked, then what must be supplied by whom."""
    lines = []
    for r in reviews:
        if r["decision"] != BUDGET_DECISION.paused:
            continue
        lines.append(
            f"{r['workload_tag']} (owner {r['owner_tag'] or 'unknown'}, requested by "
            f"{r['requested_by']}):"
        )
        lines.extend(f"  - {line}" for line in r["notes"].splitlines())
    return lines


def budget_text(reviews: list[dict[str, Any]]) -> str:
    """The terminal view: the table, the tally, then the paused requests' notes."""
    table = budget_frame(reviews).to_markdown(index=False, tablefmt="simple", disable_numparse=True)
    notes = paused_notes(reviews)
    paused = ["", "Paused until the evidence is complete:", *notes] if notes else []
    return "\n".join([table, "", budget_tally(reviews), *paused])


def budget_markdown(engine: Engine, cycle_id: str, table: str | None = None) -> str:
    """The Dagster UI view: the budget decision per workload, and the paused requests'
    notes."""
    reviews = fetch_budget_reviews(engine, cycle_id, table=table)
    if not reviews:
        return "(no workloads: no packets, budgets or change requests for this cycle)"
    body = budget_frame(reviews).to_markdown(index=False, disable_numparse=True)
    notes = paused_notes(reviews)
    paused = ["", "**Paused until the evidence is complete:**", "", *notes] if notes else []
    return "\n".join([body, "", budget_tally(reviews), *paused])
