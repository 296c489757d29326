"""The ledger database: engines, portable column types and every table's schema.

Tables are declared once here with SQLAlchemy Core so that SQLite and
PostgreSQL get the right types (``TIMESTAMP WITH TIME ZONE`` and ``NUMERIC`` on
PostgreSQL; ISO-8601 text and REAL on SQLite), the SQL models can insert into
them by column name, and Dagster can show each table's column schema.

Naming: ``stg_*`` tables are staging inputs written by Python assets; ``int_*``
tables are intermediate SQL models; the rest are the SPEC's output tables.
``_build_<table>`` tables hold a model's freshly built rows while its blocking
checks run (see ``sql_models.py``).
"""

from __future__ import annotations

import sqlite3
import time
from datetime import timezone
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from tokenreview_pipeline.column_docs import column_doc
from tokenreview_pipeline.contract import (
    CHARGE_KINDS,
    FOCUS,
    PACKET_CAUSE_ORDER,
    PRICE_KEYS,
    RECORD_FIELDS,
    REQUIRED_PRICE_KEYS,
    REQUIREMENTS,
)
from tokenreview_pipeline.extract.redaction import has_secret, may_hold_secret
from tokenreview_pipeline.isotime import parse_datetime


class UtcDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp.

    PostgreSQL: ``TIMESTAMP WITH TIME ZONE``. SQLite: fixed-width ISO-8601 text
    (``2026-11-16T08:00:00.000000Z``), so string order is time order and
    SQLite's date functions read it.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(27))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = parse_datetime(value)
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: ledger timestamps must be tz-aware")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = parse_datetime(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# Costs: exact NUMERIC on PostgreSQL (never rounded per attempt), REAL on SQLite.
Money = sa.Numeric(38, 18).with_variant(sa.Float(), "sqlite")
# Prices and FOCUS quantities: exact NUMERIC on both backends' declarations (SQLite stores
# them with NUMERIC affinity).
Price = sa.Numeric(38, 18)
Quantity = sa.Numeric(38, 18).with_variant(sa.Float(), "sqlite")
Share = sa.Numeric(38, 18).with_variant(sa.Float(), "sqlite")
JsonText = sa.Text  # JSON documents stored as text (same on both backends)

metadata = sa.MetaData()
#: ``info`` of a published table (see ``is_published``).
PUBLISHED = {"published": True}


# Storage of each SPEC 2.1 field kind (contract.RecordField.kind).
_KIND_TYPES = {
    "str": sa.Text,
    "timestamp": UtcDateTime,
    "ip": lambda: sa.String(45),
    "int": sa.BigInteger,
    "nonneg_int": sa.Integer,
    "nonneg_number": sa.Float,
    "tags": lambda: JsonText(),
}
# status_code is an HTTP status: a 4-byte integer (SPEC 2.5 bounds it below 2^31).
_FIELD_TYPES = {"status_code": sa.Integer}


def record_columns(
    *, nullable: bool = False, rename: dict[str, str] | None = None, skip: tuple[str, ...] = ()
) -> list[sa.Column]:
    """Columns for the request-log fields of SPEC 2.1, in the contract's order.

    ``nullable=False`` keeps NOT NULL on required fields and fields with a default
    (absent tokens are 0, absent tags ``{}``), as a staged attempt has them.
    """
    rename = rename or {}
    columns = []
    for f in RECORD_FIELDS:
        if f.name in skip:
            continue
        kind = _FIELD_TYPES.get(f.name, _KIND_TYPES[f.kind])
        columns.append(
            sa.Column(
                rename.get(f.name, f.name),
                kind(),
                nullable=nullable or not (f.required or f.default is not None),
            )
        )
    return columns


def _cycle(index: bool = True) -> sa.Column:
    """The cycle column, indexed unless the table's (cycle_id, read_seq) key serves (an
    extra index on the per-record tables costs every insert and every pruning delete)."""
    return sa.Column("cycle_id", sa.String(10), nullable=False, index=index)


# ---------------------------------------------------------------- staging (Python)


def _extract_run_columns() -> list[sa.Column]:
    """The run's identity and what the extractor read (shared by the staging row and
    the published extraction_runs row)."""
    return [
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("extracted_at", UtcDateTime, nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("source_location", sa.Text, nullable=False),
        sa.Column("records_read", sa.BigInteger, nullable=False),
    ]


stg_extract_runs = sa.Table(
    "stg_extract_runs",
    metadata,
    _cycle(),
    *_extract_run_columns(),
    comment="One row per extraction run: what the Python extractor counted as read.",
)

stg_source_records = sa.Table(
    "stg_source_records",
    metadata,
    _cycle(index=False),
    sa.Column("read_seq", sa.BigInteger, nullable=False),
    sa.Column("source_name", sa.Text, nullable=False),
    sa.Column("source_line", sa.Integer),
    sa.Column("source_page", sa.Integer),
    sa.Column("defect", sa.String(64)),
    sa.Column("content_sha256", sa.String(64)),
    sa.Column("ts_us", sa.BigInteger),
    *record_columns(nullable=True),
    sa.Column("source_ip_key", sa.String(32)),
    sa.Column("allocation_key", sa.String(64)),
    sa.Column("redacted_values", sa.Integer, nullable=False),
    sa.Column("raw_redacted", sa.Text),
    sa.Index("ix_stg_source_records_cycle_seq", "cycle_id", "read_seq", unique=True),
    comment="Every record read by a cycle's run, validated and redacted; no content fields.",
)

source_files = sa.Table(
    "source_files",
    metadata,
    sa.Column(
        "source_format", sa.Text, primary_key=True, comment="request_logs.format it was read as"
    ),
    sa.Column("path", sa.Text, primary_key=True, comment="the file's path as configured, redacted"),
    sa.Column("size_bytes", sa.BigInteger, nullable=False, comment="its size when read"),
    sa.Column(
        "modified_ns",
        sa.BigInteger,
        nullable=False,
        comment="its modification time when read, nanoseconds since the Unix epoch",
    ),
    sa.Column("sha256", sa.String(64), nullable=False, comment="SHA-256 of all its bytes"),
    sa.Column(
        "edge_sha256",
        sa.String(64),
        nullable=False,
        comment="SHA-256 of its first and last 64 KiB (all of it when smaller): the quick check",
    ),
    sa.Column("records", sa.BigInteger, nullable=False, comment="records read from it"),
    sa.Column(
        "earliest_ts_us",
        sa.BigInteger,
        comment="earliest usable timestamp of its records, microseconds since the epoch (UTC)",
    ),
    sa.Column(
        "latest_ts_us",
        sa.BigInteger,
        comment="latest usable timestamp of its records, microseconds since the epoch (UTC)",
    ),
    sa.Column(
        "records_without_timestamp",
        sa.BigInteger,
        nullable=False,
        comment="records with no usable timestamp (a file holding any is read by every run)",
    ),
    sa.Column("indexed_at", UtcDateTime, nullable=False, comment="when a run last read it"),
    sa.Column("run_id", sa.String(64), nullable=False, comment="the run that last read it"),
    comment=(
        "Index of the request-log files read (SPEC 4.1): a run skips a file the index "
        "shows unchanged whose records all lie outside the cycle's read window. Deleting "
        "rows makes the next run read those files again."
    ),
)

stg_maintenance_windows = sa.Table(
    "stg_maintenance_windows",
    metadata,
    _cycle(),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("window_end", UtcDateTime, nullable=False),
    sa.Column("window_start_us", sa.BigInteger, nullable=False),
    sa.Column("window_end_us", sa.BigInteger, nullable=False),
    sa.Column("source_url", sa.Text),
    comment="Maintenance windows expanded to concrete UTC intervals over the read window.",
)

stg_evidence_sources = sa.Table(
    "stg_evidence_sources",
    metadata,
    _cycle(),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("area", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("accessed_on", sa.Date, nullable=False),
    comment="evidence_sources.yaml as read for the cycle's run, in file order.",
)

stg_known_source_lists = sa.Table(
    "stg_known_source_lists",
    metadata,
    _cycle(),
    sa.Column("api_key_ids_configured", sa.Boolean, nullable=False),
    sa.Column("source_cidrs_configured", sa.Boolean, nullable=False),
    comment="Which known_sources.yaml lists are configured for the cycle's run (one row).",
)

stg_known_sources = sa.Table(
    "stg_known_sources",
    metadata,
    _cycle(),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("api_key_id", sa.Text),
    sa.Column("network", sa.Text),
    sa.Column("ip_from", sa.String(32)),
    sa.Column("ip_to", sa.String(32)),
    sa.Index("ix_stg_known_sources_key", "cycle_id", "api_key_id"),
    comment=(
        "known_sources.yaml entries: an API key id (redacted as records are) or a network "
        "as its first and last address key (see source_ip_key)."
    ),
)

stg_budgets = sa.Table(
    "stg_budgets",
    metadata,
    _cycle(),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("workload_tag", sa.Text, nullable=False),
    sa.Column("budget_usd", Money, nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    comment="budgets.yaml budgets (SPEC 2.8) as read for the cycle's run, in file order.",
)

stg_change_requests = sa.Table(
    "stg_change_requests",
    metadata,
    _cycle(),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("workload_tag", sa.Text, nullable=False),
    sa.Column("review_cycle_id", sa.String(10), nullable=False),
    sa.Column("requested_budget_usd", Money, nullable=False),
    sa.Column("requested_by", sa.Text, nullable=False),
    comment=(
        "budgets.yaml change requests (SPEC 2.8) as read for the cycle's run, in file "
        "order; review_cycle_id is the cycle whose review decides the request."
    ),
)

stg_billed_usage = sa.Table(
    "stg_billed_usage",
    metadata,
    _cycle(),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("source_line", sa.Integer, nullable=False),
    sa.Column("usage_date", sa.Date, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("cost_usd", Money, nullable=False),
    sa.Column("prompt_tokens", sa.BigInteger),
    sa.Column("completion_tokens", sa.BigInteger),
    sa.Column("requests", sa.BigInteger),
    sa.Index("ix_stg_billed_usage_key", "cycle_id", "source_file", "source_line", unique=True),
    comment=(
        "The provider's billed usage (SPEC 2.9) dated in the cycle: one row per CSV row, "
        "keyed by file and line; a token or request cell left empty (or a column the "
        "file lacks) is null."
    ),
)

int_allocation_decisions = sa.Table(
    "int_allocation_decisions",
    metadata,
    _cycle(),
    sa.Column("allocation_key", sa.String(64), nullable=False),
    sa.Column("allocation_rule_id", sa.Text),
    sa.Column("owner_tag", sa.Text),
    sa.Column("workload_tag", sa.Text, nullable=False),
    sa.Column("environment", sa.Text),
    sa.Column("request_class", sa.Text),
    sa.Index("ix_int_allocation_decisions_key", "cycle_id", "allocation_key"),
    comment="Allocation rules applied to each distinct first-attempt attribute set.",
)

# ------------------------------------------------------------- pricing (append-only)

pricing_snapshots = sa.Table(
    "pricing_snapshots",
    metadata,
    sa.Column("snapshot_id", sa.String(64), primary_key=True),
    sa.Column("source_url", sa.Text, nullable=False),
    sa.Column("configured_url", sa.Text, nullable=False),
    sa.Column("pricing_format", sa.String(16), nullable=False),
    sa.Column("currency", sa.String(8), nullable=False),
    sa.Column("accessed_at", UtcDateTime, nullable=False),
    sa.Column("accessed_on", sa.Date, nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("model_count", sa.Integer, nullable=False),
    comment="Immutable pricing-source snapshots, keyed by the SHA-256 of the fetched bytes.",
)


def _price_column(key: str) -> sa.Column:
    # Missing stays missing (NULL), apart from 0: SPEC 4.4's defaults are applied by the
    # cost SQL, not here. The model's input and output prices are always given.
    return sa.Column(key, Price, nullable=key not in REQUIRED_PRICE_KEYS)


pricing_snapshot_prices = sa.Table(
    "pricing_snapshot_prices",
    metadata,
    sa.Column("snapshot_id", sa.String(64), primary_key=True),
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("service_tier", sa.Text, primary_key=True),
    sa.Column("min_prompt_tokens", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("max_prompt_tokens", sa.BigInteger),
    sa.Column("above_prompt_tokens", sa.BigInteger),
    *[_price_column(key) for key in PRICE_KEYS],
    comment=(
        "Resolved prices of each snapshot, one row per (model, service tier, long-context "
        "band): the model's keys replaced by the tier's, then by the long_context entry "
        "above_prompt_tokens (null: none) that applies to prompt_tokens in "
        "[min_prompt_tokens, max_prompt_tokens] (null max: no upper bound). USD per 1M "
        "tokens / per request; a null price is missing (SPEC 4.4 defaults apply)."
    ),
)

pricing_fetches = sa.Table(
    "pricing_fetches",
    metadata,
    sa.Column("fetched_at", UtcDateTime, nullable=False),
    sa.Column("configured_url", sa.Text, nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Column("snapshot_id", sa.String(64)),
    sa.Column("new_snapshot", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Index("ix_pricing_fetches_fetched_at", "fetched_at"),
    comment="Every pricing fetch, successful or not (a failed fetch keeps the last snapshot).",
)

# ------------------------------------------------------------- SQL model outputs

int_classified_records = sa.Table(
    "int_classified_records",
    metadata,
    _cycle(index=False),
    sa.Column("read_seq", sa.BigInteger, nullable=False),
    sa.Column("disposition", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64)),
    sa.Index("ix_int_classified_records_seq", "cycle_id", "read_seq"),
    comment=(
        "Where each record read lands before grouping (SPEC 4.1): exact_duplicate, "
        "quarantined, other_cycle, or in_window (a valid attempt of the read window)."
    ),
)

int_grouped_attempts = sa.Table(
    "int_grouped_attempts",
    metadata,
    _cycle(index=False),
    sa.Column("read_seq", sa.BigInteger, nullable=False),
    sa.Column("attempt_id", sa.Text, nullable=False),
    sa.Column("logical_request_id", sa.Text, nullable=False),
    sa.Column("grouping_path", sa.String(16), nullable=False),
    sa.Column("attempt_index", sa.Integer, nullable=False),
    sa.Column("ts_us", sa.BigInteger, nullable=False),
    sa.Column("request_start_us", sa.BigInteger, nullable=False),
    sa.Column("first_read_seq", sa.BigInteger, nullable=False),
    sa.Index("ix_int_grouped_attempts_seq", "cycle_id", "read_seq"),
    comment="Attempts of the cycle's logical requests (SPEC 4.2), with their order.",
)

int_retry_causes = sa.Table(
    "int_retry_causes",
    metadata,
    _cycle(index=False),
    sa.Column("read_seq", sa.BigInteger, nullable=False),
    sa.Column("attempt_id", sa.Text, nullable=False),
    sa.Column("is_retry", sa.Boolean, nullable=False),
    sa.Column("is_orphan_retry", sa.Boolean, nullable=False),
    sa.Column("retry_cause", sa.String(32)),
    sa.Index("ix_int_retry_causes_seq", "cycle_id", "read_seq"),
    comment="Retry cause of every retry (SPEC 4.3), read off the attempt before it.",
)

int_cycle_pricing = sa.Table(
    "int_cycle_pricing",
    metadata,
    _cycle(),
    sa.Column("review_date", sa.Date, nullable=False),
    sa.Column("pricing_snapshot_id", sa.String(64)),
    sa.Column("pricing_source_url", sa.Text),
    sa.Column("pricing_accessed_at", UtcDateTime),
    sa.Column("pricing_age_days", sa.Integer),
    comment="The pricing snapshot that applies to the cycle's review (SPEC 4.4).",
)

request_attempts = sa.Table(
    "request_attempts",
    metadata,
    _cycle(),
    sa.Column("attempt_id", sa.Text, nullable=False),
    sa.Column("logical_request_id", sa.Text, nullable=False),
    sa.Column("grouping_path", sa.String(16), nullable=False),
    sa.Column("attempt_index", sa.Integer, nullable=False),
    sa.Column("is_retry", sa.Boolean, nullable=False),
    sa.Column("is_orphan_retry", sa.Boolean, nullable=False),
    sa.Column("retry_cause", sa.String(32)),
    *record_columns(rename={"environment": "attempt_environment"}, skip=("attempt_id",)),
    sa.Column("allocation_rule_id", sa.Text),
    sa.Column("owner_tag", sa.Text),
    sa.Column("workload_tag", sa.Text, nullable=False),
    sa.Column("environment", sa.Text),
    sa.Column("request_class", sa.Text),
    sa.Column("pricing_snapshot_id", sa.String(64)),
    sa.Column("above_prompt_tokens", sa.BigInteger),
    sa.Column("cost_usd", Money),
    sa.Column("cost_unknown_reason", sa.String(32)),
    sa.Column("cache_savings_usd", Money),
    sa.Index("ux_request_attempts_attempt_id", "attempt_id", unique=True),
    sa.Index("ix_request_attempts_cycle_workload", "cycle_id", "workload_tag", "request_class"),
    sa.Index("ix_request_attempts_logical_request", "cycle_id", "logical_request_id"),
    comment=(
        "One row per staged attempt: grouping, retry cause, allocation and cost. The price "
        "row that priced it is (pricing_snapshot_id, model, service_tier, "
        "above_prompt_tokens) of pricing_snapshot_prices; cost_unknown_reason says why "
        "cost_usd is null."
    ),
    info=PUBLISHED,
)

quarantined_records = sa.Table(
    "quarantined_records",
    metadata,
    _cycle(),
    sa.Column("read_seq", sa.BigInteger, nullable=False),
    sa.Column("source_name", sa.Text, nullable=False),
    sa.Column("source_line", sa.Integer),
    sa.Column("source_page", sa.Integer),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("attempt_id", sa.Text),
    sa.Column("timestamp", UtcDateTime),
    sa.Column("raw_redacted", sa.Text, nullable=False),
    sa.Index("ux_quarantined_records_cycle_seq", "cycle_id", "read_seq", unique=True),
    comment="Defective records of the cycle (SPEC 4.1), redacted, content removed, <= 4 KiB.",
    info=PUBLISHED,
)

extraction_runs = sa.Table(
    "extraction_runs",
    metadata,
    _cycle(),
    *_extract_run_columns(),
    sa.Column("attempts_staged", sa.BigInteger, nullable=False),
    sa.Column("records_quarantined", sa.BigInteger, nullable=False),
    sa.Column("exact_duplicates", sa.BigInteger, nullable=False),
    sa.Column("other_cycle_records", sa.BigInteger, nullable=False),
    sa.Column("redacted_values", sa.BigInteger, nullable=False),
    sa.Index("ux_extraction_runs_cycle", "cycle_id", unique=True),
    comment="Per cycle and run: where every record read went (SPEC 4.1 reconciliation).",
    info=PUBLISHED,
)

review_packets = sa.Table(
    "review_packets",
    metadata,
    _cycle(),
    sa.Column("cycle_start", UtcDateTime, nullable=False),
    sa.Column("cycle_end", UtcDateTime, nullable=False),
    sa.Column("review_date", sa.Date, nullable=False),
    sa.Column("workload_tag", sa.Text, nullable=False),
    sa.Column("request_class", sa.Text),
    sa.Column("owner_tag", sa.Text),
    sa.Column("environment", sa.Text),
    sa.Column("logical_requests", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.BigInteger, nullable=False),
    sa.Column("first_attempts", sa.BigInteger, nullable=False),
    sa.Column("retry_attempts", sa.BigInteger, nullable=False),
    *[sa.Column(c.packet_column, sa.BigInteger, nullable=False) for c in PACKET_CAUSE_ORDER],
    sa.Column("orphan_retries", sa.BigInteger, nullable=False),
    sa.Column("retry_share", Share),
    sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
    sa.Column("completion_tokens", sa.BigInteger, nullable=False),
    sa.Column("retry_tokens", sa.BigInteger, nullable=False),
    *[
        sa.Column(k.packet_column, sa.BigInteger, nullable=False)
        for k in CHARGE_KINDS
        if k.packet_column
    ],
    sa.Column("gateway_retries", sa.BigInteger, nullable=False),
    sa.Column("est_cost_usd", Money),
    sa.Column("retry_cost_usd", Money),
    sa.Column("retry_cost_share", Share),
    sa.Column("unit_metric", sa.String(32), nullable=False),
    sa.Column("unit_cost", Money),
    sa.Column("cache_savings_usd", Money),
    sa.Column("pricing_snapshot_id", sa.String(64)),
    sa.Column("pricing_source_url", sa.Text),
    sa.Column("pricing_accessed_at", UtcDateTime),
    sa.Column("source_urls", JsonText, nullable=False),
    sa.Column("allocation_rule_ids", JsonText, nullable=False),
    *[
        sa.Column(r.packet_column, sa.Boolean, nullable=False)
        for r in REQUIREMENTS
        if r.packet_column
    ],
    sa.Column("result", sa.String(4), nullable=False),
    sa.Column("failed_requirements", JsonText, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Index("ux_review_packets_grain", "cycle_id", "workload_tag", "request_class", unique=True),
    comment="One evidence packet per (cycle, workload, request class) with pass/fail.",
    info=PUBLISHED,
)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=nullable)


focus_charges = sa.Table(
    "focus_charges",
    metadata,
    _cycle(),
    sa.Column("workload_tag", sa.Text, nullable=False),
    sa.Column("request_class", sa.Text),
    sa.Column("model", sa.Text, nullable=False),
    *[sa.Column(name, Money) for name in FOCUS.cost_columns],
    sa.Column("BillingCurrency", sa.String(3), nullable=False),
    _text("BillingAccountId"),
    _text("BillingAccountName"),
    sa.Column("BillingPeriodStart", UtcDateTime, nullable=False),
    sa.Column("BillingPeriodEnd", UtcDateTime, nullable=False),
    sa.Column("ChargePeriodStart", UtcDateTime, nullable=False),
    sa.Column("ChargePeriodEnd", UtcDateTime, nullable=False),
    sa.Column("ChargeCategory", sa.String(16), nullable=False),
    sa.Column("ChargeClass", sa.String(16)),
    _text("ChargeDescription"),
    sa.Column("ChargeFrequency", sa.String(16), nullable=False),
    sa.Column("PricingCategory", sa.String(16), nullable=False),
    sa.Column("PricingQuantity", Quantity, nullable=False),
    sa.Column("PricingUnit", sa.String(16), nullable=False),
    sa.Column("ConsumedQuantity", Quantity, nullable=False),
    sa.Column("ConsumedUnit", sa.String(16), nullable=False),
    *[sa.Column(name, Money) for name in FOCUS.unit_price_columns],
    _text("ServiceCategory"),
    _text("ServiceSubcategory"),
    *[_text(name) for name in FOCUS.provider_columns],
    _text("SkuId"),
    _text("SkuPriceId", nullable=True),
    sa.Column("SkuPriceDetails", JsonText, nullable=False),
    _text("ResourceId"),
    _text("ResourceName"),
    _text("ResourceType"),
    _text("SubAccountId", nullable=True),
    _text("SubAccountName", nullable=True),
    _text("RegionId", nullable=True),
    _text("RegionName", nullable=True),
    sa.Column("Tags", JsonText, nullable=False),
    _text("AllocatedMethodId"),
    sa.Column("AllocatedMethodDetails", JsonText, nullable=False),
    _text("AllocatedResourceId"),
    _text("AllocatedResourceName"),
    sa.Column("AllocatedTags", JsonText, nullable=False),
    sa.Column("x_ChargeKind", sa.String(16), nullable=False),
    sa.Column("x_ServiceTier", sa.Text, nullable=False),
    sa.Column("x_AbovePromptTokens", sa.BigInteger),
    sa.Column("x_RetryQuantity", Quantity, nullable=False),
    sa.Column("x_RetryCost", Money),
    sa.Column("x_PricingSnapshotId", sa.String(64)),
    sa.Column("x_PricingSourceUrl", sa.Text),
    sa.Column("x_AllocationRuleIds", JsonText, nullable=False),
    sa.Column("x_PacketResult", sa.String(4), nullable=False),
    sa.Column("x_CostIsEstimate", sa.Boolean, nullable=False),
    sa.Index(
        "ux_focus_charges_grain",
        "cycle_id",
        "workload_tag",
        "request_class",
        "model",
        "x_ServiceTier",
        "x_AbovePromptTokens",
        "x_PricingSnapshotId",
        "x_ChargeKind",
        unique=True,
    ),
    comment=(
        "The cycle's estimated charges as FinOps FOCUS 1.3 rows (1.2 columns kept): one per "
        "(workload, request class, model, service tier, long-context entry, snapshot, "
        "charge kind) with a non-zero quantity; costs are estimates."
    ),
    info=PUBLISHED,
)


budget_reviews = sa.Table(
    "budget_reviews",
    metadata,
    _cycle(),
    sa.Column("review_date", sa.Date, nullable=False),
    sa.Column("workload_tag", sa.Text, nullable=False),
    sa.Column("owner_tag", sa.Text),
    sa.Column("packets", sa.BigInteger, nullable=False),
    sa.Column("packets_passed", sa.BigInteger, nullable=False),
    sa.Column("est_cost_usd", Money),
    sa.Column("retry_cost_usd", Money),
    sa.Column("previous_est_cost_usd", Money),
    sa.Column("previous_retry_cost_usd", Money),
    sa.Column("cost_change_usd", Money),
    sa.Column("retry_cost_change_usd", Money),
    sa.Column("budget_usd", Money),
    sa.Column("budget_variance_usd", Money),
    sa.Column("budget_used_share", Share),
    sa.Column("requested_budget_usd", Money),
    sa.Column("requested_by", sa.Text),
    sa.Column("decision", sa.String(32), nullable=False),
    sa.Column("pause_reasons", JsonText, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Index("ux_budget_reviews_grain", "cycle_id", "workload_tag", unique=True),
    comment=(
        "One budget decision per (cycle, workload): its packets, costs against the "
        "previous cycle and the budget, and whether its change request is paused."
    ),
    info=PUBLISHED,
)

billing_reconciliation = sa.Table(
    "billing_reconciliation",
    metadata,
    _cycle(),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("estimated_cost_usd", Money),
    sa.Column("billed_cost_usd", Money),
    sa.Column("estimated_tokens", sa.BigInteger, nullable=False),
    sa.Column("billed_tokens", sa.BigInteger),
    sa.Column("difference_usd", Money),
    sa.Column("difference_share", Share),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Index("ux_billing_reconciliation_grain", "cycle_id", "model", unique=True),
    comment="Per (cycle, model): the estimate against the provider's billed usage.",
    info=PUBLISHED,
)


# ------------------------------------------------------------- publication

cycle_leases = sa.Table(
    "cycle_leases",
    metadata,
    sa.Column("cycle_id", sa.String(10), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("holder_host", sa.Text, nullable=False),
    sa.Column("holder_pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Column("heartbeat_at", UtcDateTime, nullable=False),
    comment=(
        "The run building each cycle right now (one row per cycle in progress): two runs "
        "of a cycle never interleave. Released when the run publishes the cycle."
    ),
)

cycle_builds = sa.Table(
    "cycle_builds",
    metadata,
    sa.Column("cycle_id", sa.String(10), primary_key=True),
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("built_at", UtcDateTime, nullable=False),
    comment="The latest build of each published table of a cycle, awaiting publication.",
)

cycle_publications = sa.Table(
    "cycle_publications",
    metadata,
    _cycle(),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("published_at", UtcDateTime, nullable=False),
    sa.Column("table_rows", JsonText, nullable=False),
    comment="Every publication of a cycle: which run replaced its rows, when, and how many.",
)


def is_published(table: sa.Table) -> bool:
    """A table analysts read, replaced per cycle by publication (not stg_/int_)."""
    return bool(table.info.get("published"))


def _document_columns() -> None:
    """Column comments of the published tables from ``column_docs`` (declared once there):
    PostgreSQL stores them (COMMENT ON COLUMN), SQLite ignores them."""
    for table in metadata.tables.values():
        if is_published(table):
            for column in table.columns:
                column.comment = column_doc(table.name, column.name)


_document_columns()


BUILD_RUN_ID = "build_run_id"


def _build_twin(source: sa.Table) -> sa.Table:
    return sa.Table(
        f"_build_{source.name}",
        metadata,
        sa.Column(BUILD_RUN_ID, sa.String(64), nullable=False),
        *[sa.Column(c.name, c.type, nullable=c.nullable) for c in source.columns],
        sa.Index(f"ix__build_{source.name}_cycle", "cycle_id", BUILD_RUN_ID),
        comment=(
            f"Rows of {source.name} built by a run that has not published them yet "
            "(kept for inspection when a blocking check stopped the run)."
        ),
    )


PUBLISHED_TABLES = tuple(t for t in list(metadata.tables.values()) if is_published(t))
BUILD_TABLES = {t.name: _build_twin(t) for t in PUBLISHED_TABLES}


def build_table(name: str) -> sa.Table:
    """The ``_build_<name>`` twin of a published table: its columns and the build's run."""
    return BUILD_TABLES[name]


#: How long a SQLite ledger connection waits for another one's lock (the driver's busy
#: timeout) before it fails with "database is locked".
SQLITE_LOCK_WAIT_S = 60.0


def _enter_wal(cursor, wait_s: float = SQLITE_LOCK_WAIT_S) -> None:
    """Put the database in WAL mode, waiting for other connections like a busy timeout.

    SQLite answers this pragma with "database is locked" at once, without its busy
    handler, in the moments when another process opens, converts or closes the same
    file (the last connection to close holds an exclusive lock while it removes the
    WAL): so four first runs on a new ledger failed now and then. The retries wait up to
    the busy timeout, as every other statement does.
    """
    deadline = time.monotonic() + wait_s
    delay = 0.001
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() == "wal":
                return
            reason = "SQLite kept the database out of WAL mode"
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            reason = str(exc)
        if time.monotonic() >= deadline:
            raise sqlite3.OperationalError(
                f"{reason}: could not put the ledger in WAL mode within {wait_s:g} s"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _sqlite_wal(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    _enter_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Many SQLite builds (Debian's among them) default to secure_delete=ON: every page
    # freed is overwritten with zeros, so emptying a cycle's staging at publication
    # wrote each freed page to the WAL again (about 10 GB at 5M attempts). FAST zeroes
    # deleted content only in pages written anyway. The ledger never holds a secret, a
    # prompt or a response (SPEC 2.5), so stale bytes in free pages reveal nothing the
    # live tables do not (docs/performance.md).
    cursor.execute("PRAGMA secure_delete=FAST")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # SQLAlchemy's recipe for real SQLite transactions: the driver is put in autocommit
    # mode (isolation_level=None) and every SQLAlchemy transaction starts with BEGIN, so
    # reads and writes of one transaction see one snapshot and DDL is transactional.
    # A connection with execution option sqlite_begin="IMMEDIATE" takes the write lock
    # at BEGIN (waiting up to the busy timeout) instead of at its first write.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


#: The SQLite function behind the ``has_secret()`` SQL macro (``sql_templates.py``):
#: 1 when any of its text arguments holds a SPEC 2.5 secret, else 0. It is the
#: extractor's own linear-time matcher of ``contract.SECRET_PATTERNS``, not a
#: ``REGEXP`` through Python's backtracking ``re``, which needs quadratic time for the
#: JWT pattern on hostile text (minutes for one 1 MiB value).
SQLITE_HAS_SECRET = "tokenreview_has_secret"


def _any_secret(*values: object) -> int:
    texts = [v for v in values if isinstance(v, str)]
    # Most rows hold no pattern's first literal in any value: one prefilter over the
    # row's values joined (a literal in a value is in the join), then the matcher only
    # on rows that may hold a secret. Called once per row of a checked table, this was
    # most of the no-secret check's time.
    if not texts or not may_hold_secret("\n".join(texts)):
        return 0
    return int(any(has_secret(v) for v in texts))


def _sqlite_functions(dbapi_connection, _record) -> None:
    dbapi_connection.create_function(SQLITE_HAS_SECRET, -1, _any_secret, deterministic=True)


@cache
def engine_for(url: str) -> Engine:
    """One engine per URL. SQLite waits for locks instead of failing at once, and every
    SQLite connection has the ``SQLITE_HAS_SECRET`` function the blocking checks use."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": SQLITE_LOCK_WAIT_S, "isolation_level": None},
            poolclass=NullPool,
        )
        sa.event.listen(engine, "connect", _sqlite_functions)
        if ":memory:" not in url:
            # WAL: analysts can read the ledger while a cycle is being written.
            sa.event.listen(engine, "connect", _sqlite_wal)
        sa.event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    return engine


def analyze(conn, table_name: str) -> None:
    """PostgreSQL: refresh the planner's statistics of a table just rewritten, so the
    next model's joins are planned on its real size (autovacuum would come too late).
    SQLite plans without them (its tables here are read by index or in full)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'ANALYZE "{table_name}"')


def delete_cycle_rows(conn, table: sa.Table, cycle_id: str) -> None:
    """Delete a cycle's rows of a table whose indexes lead with ``cycle_id``.

    On SQLite, when the table holds no other cycle's rows (its smallest and largest
    ``cycle_id``, two index lookups), it is emptied with an unqualified ``DELETE``, which
    SQLite runs as a truncate (pages freed, no row or index entry visited): pruning a
    million-record cycle takes a fraction of a second instead of most of publication.
    SQLite has one writer, so no other run can add rows between the lookup and the
    delete. PostgreSQL always deletes by cycle: ``TRUNCATE`` would take rows another
    cycle's run inserted but has not committed yet, which the lookup cannot see.
    """
    column = table.c.cycle_id
    if conn.dialect.name == "sqlite":
        low = conn.execute(sa.select(sa.func.min(column))).scalar()
        high = conn.execute(sa.select(sa.func.max(column))).scalar()
        if low is None or low == high == cycle_id:
            conn.execute(sa.delete(table))
            return
    conn.execute(sa.delete(table).where(column == cycle_id))


def dialect_insert(conn, table: sa.Table):
    """``INSERT`` in the connection's own dialect, which has ``ON CONFLICT`` (both
    backends): ``.on_conflict_do_nothing()`` / ``.on_conflict_do_update(...)``."""
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[conn.dialect.name]
    return dialect.insert(table)


def write_connection(engine: Engine):
    """A connection whose transactions take the database's write lock at once (SQLite
    BEGIN IMMEDIATE); on PostgreSQL a plain connection."""
    conn = engine.connect()
    return (
        conn.execution_options(sqlite_begin="IMMEDIATE") if conn.dialect.name == "sqlite" else conn
    )


class LedgerSchemaError(RuntimeError):
    """The ledger's schema is not the one this version of tokenreview uses."""


_checked: set[str] = set()


def ensure_schema(engine: Engine) -> None:
    """Make sure the ledger is at this version's schema revision, once per engine.

    A brand-new ledger is created at the head revision (one transaction, under a lock:
    two first runs at once create it once); a ledger at an older revision, or a 0.1.0
    one, is refused with ``LedgerSchemaError`` naming ``tokenreview db upgrade``. The
    revisions are Alembic migrations (``ledger_migrations.py``).
    """
    from tokenreview_pipeline import ledger_migrations

    engine = getattr(engine, "engine", engine)  # a FencedLedger wraps an engine
    key = engine.url.render_as_string(hide_password=True)
    if key in _checked:
        return
    ledger_migrations.ensure_current(engine)
    _checked.add(key)


def redact_url(url: str) -> str:
    """A database URL safe to print: the password is masked."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is printed without credentials
        return url.split("@")[-1]
