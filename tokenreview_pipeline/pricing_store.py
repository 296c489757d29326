"""Fetch the configured price list and store it as an immutable snapshot (SPEC 2.3).

``pricing.py`` fetches and parses; this module records the outcome in the ledger:
``pricing_snapshots`` and ``pricing_snapshot_prices`` (append-only, keyed by the
SHA-256 of the bytes) and ``pricing_fetches`` (every attempt, with its error). Which
snapshot prices a cycle is decided by ``int_cycle_pricing.sql`` alone.

``pricing_snapshot_prices`` holds the snapshot's prices *resolved* (``price_list.py``): one
row per (model, service tier, long-context band), tier inheritance and the long-context
entry already applied, SPEC 4.4's defaults not (a missing key stays NULL). A snapshot
and its rows are written in one transaction and never changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.config import TokenreviewConfig
from tokenreview_pipeline.pricing import (
    PricingFetchError,
    PricingFormatError,
    PricingSnapshot,
    fetch_pricing_bytes,
    parse_pricing,
    safe_url,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PricingFetch:
    succeeded: bool
    snapshot_id: str | None
    new_snapshot: bool
    model_count: int | None
    error: str | None


def price_rows(snapshot: PricingSnapshot) -> list[dict]:
    """The ``pricing_snapshot_prices`` rows of a snapshot: one per (model, service tier,
    long-context band), each price key as resolved (``None`` where still missing)."""
    return [
        {
            "snapshot_id": snapshot.snapshot_id,
            "model": band.model,
            "service_tier": band.service_tier,
            "min_prompt_tokens": band.min_prompt_tokens,
            "max_prompt_tokens": band.max_prompt_tokens,
            "above_prompt_tokens": band.above_prompt_tokens,
            **dict(band.prices.items()),
        }
        for band in snapshot.bands()
    ]


def insert_new(conn: Connection, table: sa.Table, rows: list[dict] | dict) -> int:
    """INSERT the rows a table's primary key does not hold yet: ``ON CONFLICT DO
    NOTHING`` on both backends. Returns the rows inserted. Two runs storing the same
    snapshot at once never collide: PostgreSQL makes the second wait for the first's
    row and then skips it; SQLite serializes the writers."""
    statement = ledger.dialect_insert(conn, table).on_conflict_do_nothing()
    return conn.execute(statement, rows).rowcount


def store_snapshot(conn: Connection, snapshot: PricingSnapshot, url: str, fmt: str) -> bool:
    """Store a snapshot and its prices unless the ledger has it (snapshots are immutable
    and keyed by the SHA-256 of their bytes); True when it is new."""
    new = insert_new(
        conn,
        ledger.pricing_snapshots,
        {
            "snapshot_id": snapshot.snapshot_id,
            "source_url": safe_url(snapshot.source_url),
            "configured_url": safe_url(url),
            "pricing_format": fmt,
            "currency": snapshot.currency,
            "accessed_at": snapshot.accessed_at,
            "accessed_on": snapshot.accessed_at.astimezone(timezone.utc).date(),
            "content_sha256": snapshot.content_sha256,
            "model_count": snapshot.model_count,
        },
    )
    if new:
        insert_new(conn, ledger.pricing_snapshot_prices, price_rows(snapshot))
    return bool(new)


def fetch_pricing_snapshot(
    engine: Engine, config: TokenreviewConfig, now: datetime | None = None
) -> PricingFetch:
    """Fetch ``pricing.url`` and store it as an immutable snapshot (SPEC 2.3).

    Identical bytes add no snapshot. A failed fetch keeps the last snapshot, is
    logged and recorded in ``pricing_fetches``, and never raises.
    """
    now = now or datetime.now(timezone.utc)
    cfg = config.pricing
    try:
        raw = fetch_pricing_bytes(
            cfg.url,
            base_dir=Path(config.base_dir),
            timeout_s=cfg.timeout_s,
            max_bytes=cfg.max_bytes,
        )
        snapshot = parse_pricing(
            raw, fmt=cfg.format, configured_url=safe_url(cfg.url), accessed_at=now
        )
    except PricingFormatError as exc:  # fetched, but not a valid price document
        error = f"pricing document from {safe_url(cfg.url)} is invalid: {exc}"
    except PricingFetchError as exc:  # its message names the URL (without credentials)
        error = str(exc)
    else:
        error = None
    if error is not None:
        log.warning("%s; keeping the last snapshot", error)
        outcome = PricingFetch(False, None, False, None, error)
    else:
        outcome = PricingFetch(True, snapshot.snapshot_id, False, snapshot.model_count, None)
    with ledger.write_connection(engine) as conn, conn.begin():
        if outcome.succeeded and store_snapshot(conn, snapshot, cfg.url, cfg.format):
            outcome = PricingFetch(True, snapshot.snapshot_id, True, snapshot.model_count, None)
        conn.execute(
            ledger.pricing_fetches.insert(),
            {
                "fetched_at": now,
                "configured_url": safe_url(cfg.url),
                "succeeded": outcome.succeeded,
                "snapshot_id": outcome.snapshot_id,
                "new_snapshot": outcome.new_snapshot,
                "error": outcome.error,
            },
        )
    return outcome
