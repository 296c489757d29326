"""The bind parameters every SQL model of a cycle's run receives."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import dagster as dg

from tokenreview_pipeline.config import TokenreviewConfig
from tokenreview_pipeline.cycles import Cycle, parse_cycle, previous_cycle_start
from tokenreview_pipeline.extract.load import StagingWindow
from tokenreview_pipeline.isotime import parse_date

REVIEW_DATE_TAG = "tokenreview/review_date"


def review_date_of(context: dg.AssetExecutionContext) -> date:
    """``review_date`` is the run's tag when given (``--review-date``), else the
    run's UTC date (SPEC 5)."""
    tagged = context.run.tags.get(REVIEW_DATE_TAG)
    if tagged:
        return parse_date(tagged)
    return datetime.now(timezone.utc).date()


def cycle_of(context: dg.AssetExecutionContext, config: TokenreviewConfig) -> Cycle:
    return parse_cycle(context.partition_key, config.cadence)


def cycle_params(
    cycle: Cycle, config: TokenreviewConfig, review_date: date, run_id: str
) -> dict[str, Any]:
    window = StagingWindow.for_cycle(cycle, config.thresholds.retry_span_s)
    t = config.thresholds
    return {
        "cycle_id": cycle.cycle_id,
        "cycle_start": cycle.start,
        "cycle_end": cycle.end,
        # The cycle's first day as a date, for date columns (budgets' `from`).
        "cycle_date": cycle.start.date(),
        # The cycle exactly one cadence earlier: budget reviews compare with its
        # published packets (a cycle never run has none: nulls, never zeros).
        "previous_cycle_id": previous_cycle_start(cycle.start.date(), config.cadence).isoformat(),
        "cycle_start_us": window.cycle_start_us,
        "cycle_end_us": window.cycle_end_us,
        "read_start_us": window.read_start_us,
        "read_end_us": window.read_end_us,
        "run_id": run_id,
        "review_date": review_date,
        "review_date_end": datetime.combine(
            review_date + timedelta(days=1), time(0), tzinfo=timezone.utc
        ),
        "fingerprint_window_us": t.fingerprint_window_s * 1_000_000,
        "retry_span_us": t.retry_span_s * 1_000_000,
        "client_timeout_ms": t.client_timeout_ms,
        "min_sample_size": t.min_sample_size,
        "max_unknown_retry_share": Decimal(str(t.max_unknown_retry_share)),
        "max_source_age_days": t.max_source_age_days,
        "pricing_max_age_days": config.pricing.max_age_days,
        "unit_metric": config.unit_metric,
        "provider_name": config.provider_name,
        "billing_configured": config.billing is not None,
        "max_billing_gap_share": Decimal(str(t.max_billing_gap_share)),
    }
