"""Human-readable views of a cycle's packets (Dagster UI markdown, CLI table).

Tables are rendered by pandas through tabulate (``to_markdown``; ``simple`` for a terminal).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.contract import STANDARD_TIER

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


def fetch_packets(
    engine: Engine, cycle_id: str, workload: str | None = None
) -> list[dict[str, Any]]:
    t = ledger.review_packets
    query = sa.select(t).where(t.c.cycle_id == cycle_id)
    if workload is not None:
        query = query.where(t.c.workload_tag == workload)
    with engine.connect() as conn:
        packets = [dict(row) for row in conn.execute(query).mappings()]
    # Ordered here, by code point, so both backends agree whatever the database's
    # collation (PostgreSQL's locale order differs from SQLite's byte order).
    return sorted(packets, key=lambda p: (p["workload_tag"], p["request_class"] or ""))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) or hasattr(value, "quantize"):
        return f"{float(value):.6f}"
    if isinstance(value, str) and value.startswith("["):
        return ", ".join(json.loads(value)) or "-"
    return str(value)


def summary_frame(packets: list[dict[str, Any]]) -> pd.DataFrame:
    """The packets' summary columns, formatted for people (costs to 1e-6)."""
    return pd.DataFrame(
        [[_cell(p[c]) for c in SUMMARY_COLUMNS] for p in packets],
        columns=SUMMARY_COLUMNS,
    )


def packets_text(packets: list[dict[str, Any]]) -> str:
    return summary_frame(packets).to_markdown(index=False, tablefmt="simple", disable_numparse=True)


def packets_markdown(engine: Engine, cycle_id: str) -> str:
    packets = fetch_packets(engine, cycle_id)
    passed = sum(1 for p in packets if p["result"] == "pass")
    table = (
        summary_frame(packets).to_markdown(index=False, disable_numparse=True)
        if packets
        else "(no packets)"
    )
    return f"{table}\n\n{len(packets)} packet(s): {passed} pass, {len(packets) - passed} fail."
