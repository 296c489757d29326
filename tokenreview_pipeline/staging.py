"""Write the small rule inputs of a cycle into their staging tables.

Each function replaces the cycle's rows in one transaction (delete, insert) and
returns the number of rows written. The SQL models read these tables; the
rules they hold are decided by the pure modules ``maintenance``, ``sources``,
``allocation`` and ``pricing``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.allocation import AllocationRule, RequestAttributes, decide_allocation
from tokenreview_pipeline.config import TokenreviewConfig
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.extract.load import to_us
from tokenreview_pipeline.maintenance import expand_windows
from tokenreview_pipeline.pricing import (
    PricingFetchError,
    PricingFormatError,
    fetch_pricing_bytes,
    parse_pricing,
    safe_url,
)
from tokenreview_pipeline.sources import EvidenceSource

log = logging.getLogger(__name__)


def _replace_cycle(engine: Engine, table: sa.Table, cycle_id: str, rows: list[dict]) -> int:
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.cycle_id == cycle_id))
        if rows:
            conn.execute(table.insert(), rows)
    return len(rows)


def stage_maintenance_windows(
    engine: Engine, cycle: Cycle, windows: Sequence, retry_span_s: int
) -> int:
    """Maintenance windows as concrete UTC intervals meeting the cycle's read window
    (every attempt a retry cause reads lies in it)."""
    start, end = cycle.read_window(retry_span_s)
    intervals = expand_windows(windows, start, end)
    rows = [
        {
            "cycle_id": cycle.cycle_id,
            "window_start": s,
            "window_end": e,
            "window_start_us": to_us(s),
            "window_end_us": to_us(e),
            "source_url": url,
        }
        for s, e, url in intervals
    ]
    return _replace_cycle(engine, ledger.stg_maintenance_windows, cycle.cycle_id, rows)


def stage_evidence_sources(engine: Engine, cycle: Cycle, sources: Sequence[EvidenceSource]) -> int:
    rows = [
        {
            "cycle_id": cycle.cycle_id,
            "position": i,
            "area": s.area,
            "url": s.url,
            "accessed_on": s.accessed_on,
        }
        for i, s in enumerate(sources)
    ]
    return _replace_cycle(engine, ledger.stg_evidence_sources, cycle.cycle_id, rows)


def stage_allocation_decisions(
    engine: Engine, cycle: Cycle, rules: Sequence[AllocationRule]
) -> int:
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
            rows.append(
                {
                    "cycle_id": cycle.cycle_id,
                    "allocation_key": key,
                    "allocation_rule_id": decision.allocation_rule_id,
                    "owner_tag": decision.owner_tag,
                    "workload_tag": decision.workload_tag,
                    "environment": decision.environment,
                    "request_class": decision.request_class,
                }
            )
    return _replace_cycle(engine, ledger.stg_allocation_decisions, cycle.cycle_id, rows)


@dataclass(frozen=True)
class PricingFetch:
    succeeded: bool
    snapshot_id: str | None
    new_snapshot: bool
    model_count: int | None
    error: str | None


def fetch_pricing_snapshot(
    engine: Engine, config: TokenreviewConfig, now: datetime | None = None
) -> PricingFetch:
    """Fetch ``pricing.url`` and store it as an immutable snapshot (SPEC 2.3).

    Identical bytes add no snapshot. A failed fetch keeps the last snapshot, is
    logged and recorded in ``pricing_fetches``, and never raises.
    """
    now = now or datetime.now(UTC)
    cfg = config.pricing
    try:
        raw = fetch_pricing_bytes(cfg.url, base_dir=Path(config.base_dir))
        snapshot = parse_pricing(raw, fmt=cfg.format, configured_url=cfg.url, accessed_at=now)
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
    with engine.begin() as conn:
        if outcome.succeeded:
            exists = conn.execute(
                sa.select(ledger.pricing_snapshots.c.snapshot_id).where(
                    ledger.pricing_snapshots.c.snapshot_id == snapshot.snapshot_id
                )
            ).first()
            if not exists:
                conn.execute(
                    ledger.pricing_snapshots.insert(),
                    {
                        "snapshot_id": snapshot.snapshot_id,
                        "source_url": snapshot.source_url,
                        "configured_url": cfg.url,
                        "pricing_format": cfg.format,
                        "currency": snapshot.currency,
                        "accessed_at": snapshot.accessed_at,
                        "accessed_on": snapshot.accessed_at.astimezone(UTC).date(),
                        "content_sha256": snapshot.content_sha256,
                        "model_count": snapshot.model_count,
                    },
                )
                if snapshot.prices:
                    conn.execute(
                        ledger.pricing_snapshot_prices.insert(),
                        [
                            {
                                "snapshot_id": snapshot.snapshot_id,
                                "model": p.model,
                                "input_per_1m": p.input_per_1m,
                                "output_per_1m": p.output_per_1m,
                                "per_request": p.per_request,
                            }
                            for p in snapshot.prices
                        ],
                    )
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


@dataclass(frozen=True)
class PricingFreshness:
    snapshot_id: str | None
    accessed_at: datetime | None
    age_days: int | None
    max_age_days: int
    last_fetch_error: str | None

    @property
    def fresh(self) -> bool:
        return self.age_days is not None and self.age_days <= self.max_age_days


def pricing_freshness(engine: Engine, review_date: date, max_age_days: int) -> PricingFreshness:
    """Age in whole days, at ``review_date``, of the newest snapshot that applies to it
    (accessed on or before the end of ``review_date``, as SPEC 4.4 chooses it)."""
    snaps, fetches = ledger.pricing_snapshots, ledger.pricing_fetches
    review_end = datetime.combine(review_date + timedelta(days=1), time(0), tzinfo=UTC)
    with engine.connect() as conn:
        newest = conn.execute(
            sa.select(snaps.c.snapshot_id, snaps.c.accessed_at, snaps.c.accessed_on)
            .where(snaps.c.accessed_at < review_end)
            .order_by(snaps.c.accessed_at.desc(), snaps.c.snapshot_id)
            .limit(1)
        ).first()
        last = conn.execute(
            sa.select(fetches.c.succeeded, fetches.c.error)
            .order_by(fetches.c.fetched_at.desc())
            .limit(1)
        ).first()
    error = last.error if last is not None and not last.succeeded else None
    if newest is None:
        return PricingFreshness(None, None, None, max_age_days, error)
    return PricingFreshness(
        newest.snapshot_id,
        newest.accessed_at,
        (review_date - newest.accessed_on).days,
        max_age_days,
        error,
    )
