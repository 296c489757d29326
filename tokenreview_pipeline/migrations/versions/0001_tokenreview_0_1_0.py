# ruff: noqa: E501 - generated table definitions keep their comments on one line
"""The ledger schema of tokenreview 0.1.0 (the baseline: ledgers created before Alembic).

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Frozen: the tables as tokenreview 0.1.0 created them with ``metadata.create_all``. A
0.1.0 ledger has no ``alembic_version`` table; ``tokenreview db upgrade`` recognizes its
shape and stamps it at this revision before upgrading it (``ledger_migrations``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tokenreview_pipeline.ledger import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: The tables of 0.1.0 (an unversioned ledger holding them is a 0.1.0 ledger).
TABLES = (
    "extraction_runs",
    "focus_charges",
    "int_classified_records",
    "int_cycle_pricing",
    "int_grouped_attempts",
    "int_retry_causes",
    "pricing_fetches",
    "pricing_snapshot_prices",
    "pricing_snapshots",
    "quarantined_records",
    "request_attempts",
    "review_packets",
    "stg_allocation_decisions",
    "stg_evidence_sources",
    "stg_extract_runs",
    "stg_maintenance_windows",
    "stg_source_records",
)


def upgrade() -> None:
    op.create_table(
        "extraction_runs",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("extracted_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_location", sa.Text(), nullable=False),
        sa.Column("records_read", sa.BigInteger(), nullable=False),
        sa.Column("attempts_staged", sa.BigInteger(), nullable=False),
        sa.Column("records_quarantined", sa.BigInteger(), nullable=False),
        sa.Column("exact_duplicates", sa.BigInteger(), nullable=False),
        sa.Column("other_cycle_records", sa.BigInteger(), nullable=False),
        sa.Column("redacted_values", sa.BigInteger(), nullable=False),
        comment="Per cycle and run: where every record read went (SPEC 4.1 reconciliation).",
    )
    op.create_index(
        op.f("ix_extraction_runs_cycle_id"), "extraction_runs", ["cycle_id"], unique=False
    )
    op.create_table(
        "focus_charges",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column("request_class", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("charge_kind", sa.String(length=8), nullable=False),
        sa.Column(
            "BilledCost",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "EffectiveCost",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "ListCost",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "ContractedCost",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("BillingCurrency", sa.String(length=3), nullable=False),
        sa.Column("BillingAccountId", sa.Text(), nullable=False),
        sa.Column("BillingAccountName", sa.Text(), nullable=False),
        sa.Column("BillingPeriodStart", UtcDateTime(timezone=True), nullable=False),
        sa.Column("BillingPeriodEnd", UtcDateTime(timezone=True), nullable=False),
        sa.Column("ChargePeriodStart", UtcDateTime(timezone=True), nullable=False),
        sa.Column("ChargePeriodEnd", UtcDateTime(timezone=True), nullable=False),
        sa.Column("ChargeCategory", sa.String(length=16), nullable=False),
        sa.Column("ChargeClass", sa.String(length=16), nullable=True),
        sa.Column("ChargeDescription", sa.Text(), nullable=False),
        sa.Column("ChargeFrequency", sa.String(length=16), nullable=False),
        sa.Column("PricingCategory", sa.String(length=16), nullable=False),
        sa.Column(
            "PricingQuantity",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("PricingUnit", sa.String(length=16), nullable=False),
        sa.Column(
            "ConsumedQuantity",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("ConsumedUnit", sa.String(length=16), nullable=False),
        sa.Column(
            "ListUnitPrice",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "ContractedUnitPrice",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("ServiceCategory", sa.Text(), nullable=False),
        sa.Column("ServiceSubcategory", sa.Text(), nullable=False),
        sa.Column("ServiceName", sa.Text(), nullable=False),
        sa.Column("ProviderName", sa.Text(), nullable=False),
        sa.Column("PublisherName", sa.Text(), nullable=False),
        sa.Column("InvoiceIssuerName", sa.Text(), nullable=False),
        sa.Column("SkuId", sa.Text(), nullable=False),
        sa.Column("SkuPriceId", sa.Text(), nullable=False),
        sa.Column("ResourceId", sa.Text(), nullable=False),
        sa.Column("ResourceName", sa.Text(), nullable=False),
        sa.Column("ResourceType", sa.Text(), nullable=False),
        sa.Column("SubAccountId", sa.Text(), nullable=True),
        sa.Column("SubAccountName", sa.Text(), nullable=True),
        sa.Column("RegionId", sa.Text(), nullable=True),
        sa.Column("RegionName", sa.Text(), nullable=True),
        sa.Column("Tags", sa.Text(), nullable=False),
        sa.Column(
            "x_RetryQuantity",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "x_RetryCost",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("x_PricingSnapshotId", sa.String(length=64), nullable=True),
        sa.Column("x_PricingSourceUrl", sa.Text(), nullable=True),
        sa.Column("x_AllocationRuleIds", sa.Text(), nullable=False),
        sa.Column("x_PacketResult", sa.String(length=4), nullable=False),
        sa.Column("x_CostIsEstimate", sa.Boolean(), nullable=False),
        comment="The cycle's estimated charges as FinOps FOCUS 1.2 rows (costs are estimates).",
    )
    op.create_index(op.f("ix_focus_charges_cycle_id"), "focus_charges", ["cycle_id"], unique=False)
    op.create_table(
        "int_classified_records",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("read_seq", sa.BigInteger(), nullable=False),
        sa.Column("disposition", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        comment="Where each record read lands before grouping (SPEC 4.1): exact_duplicate, quarantined, other_cycle, or in_window (a valid attempt of the read window).",
    )
    op.create_index(
        op.f("ix_int_classified_records_cycle_id"),
        "int_classified_records",
        ["cycle_id"],
        unique=False,
    )
    op.create_index(
        "ix_int_classified_records_seq",
        "int_classified_records",
        ["cycle_id", "read_seq"],
        unique=False,
    )
    op.create_table(
        "int_cycle_pricing",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("pricing_snapshot_id", sa.String(length=64), nullable=True),
        sa.Column("pricing_source_url", sa.Text(), nullable=True),
        sa.Column("pricing_accessed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("pricing_age_days", sa.Integer(), nullable=True),
        comment="The pricing snapshot that applies to the cycle's review (SPEC 4.4).",
    )
    op.create_index(
        op.f("ix_int_cycle_pricing_cycle_id"), "int_cycle_pricing", ["cycle_id"], unique=False
    )
    op.create_table(
        "int_grouped_attempts",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("read_seq", sa.BigInteger(), nullable=False),
        sa.Column("attempt_id", sa.Text(), nullable=False),
        sa.Column("logical_request_id", sa.Text(), nullable=False),
        sa.Column("grouping_path", sa.String(length=16), nullable=False),
        sa.Column("attempt_index", sa.Integer(), nullable=False),
        sa.Column("ts_us", sa.BigInteger(), nullable=False),
        sa.Column("request_start_us", sa.BigInteger(), nullable=False),
        sa.Column("first_read_seq", sa.BigInteger(), nullable=False),
        comment="Attempts of the cycle's logical requests (SPEC 4.2), with their order.",
    )
    op.create_index(
        op.f("ix_int_grouped_attempts_cycle_id"), "int_grouped_attempts", ["cycle_id"], unique=False
    )
    op.create_index(
        "ix_int_grouped_attempts_seq",
        "int_grouped_attempts",
        ["cycle_id", "read_seq"],
        unique=False,
    )
    op.create_table(
        "int_retry_causes",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("read_seq", sa.BigInteger(), nullable=False),
        sa.Column("attempt_id", sa.Text(), nullable=False),
        sa.Column("is_retry", sa.Boolean(), nullable=False),
        sa.Column("is_orphan_retry", sa.Boolean(), nullable=False),
        sa.Column("retry_cause", sa.String(length=32), nullable=True),
        comment="Retry cause of every retry (SPEC 4.3), read off the attempt before it.",
    )
    op.create_index(
        op.f("ix_int_retry_causes_cycle_id"), "int_retry_causes", ["cycle_id"], unique=False
    )
    op.create_index(
        "ix_int_retry_causes_seq", "int_retry_causes", ["cycle_id", "read_seq"], unique=False
    )
    op.create_table(
        "pricing_fetches",
        sa.Column("fetched_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("configured_url", sa.Text(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("snapshot_id", sa.String(length=64), nullable=True),
        sa.Column("new_snapshot", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        comment="Every pricing fetch, successful or not (a failed fetch keeps the last snapshot).",
    )
    op.create_table(
        "pricing_snapshot_prices",
        sa.Column("snapshot_id", sa.String(length=64), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("input_per_1m", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("output_per_1m", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("per_request", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", "model"),
        comment="Per-model prices of each snapshot (USD per 1M tokens, USD per request).",
    )
    op.create_table(
        "pricing_snapshots",
        sa.Column("snapshot_id", sa.String(length=64), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("configured_url", sa.Text(), nullable=False),
        sa.Column("pricing_format", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("accessed_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("accessed_on", sa.Date(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("model_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id"),
        comment="Immutable pricing-source snapshots, keyed by the SHA-256 of the fetched bytes.",
    )
    op.create_table(
        "quarantined_records",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("read_seq", sa.BigInteger(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("source_page", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("attempt_id", sa.Text(), nullable=True),
        sa.Column("timestamp", UtcDateTime(timezone=True), nullable=True),
        sa.Column("raw_redacted", sa.Text(), nullable=False),
        comment="Defective records of the cycle (SPEC 4.1), redacted, content removed, <= 4 KiB.",
    )
    op.create_index(
        op.f("ix_quarantined_records_cycle_id"), "quarantined_records", ["cycle_id"], unique=False
    )
    op.create_table(
        "request_attempts",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("attempt_id", sa.Text(), nullable=False),
        sa.Column("logical_request_id", sa.Text(), nullable=False),
        sa.Column("grouping_path", sa.String(length=16), nullable=False),
        sa.Column("attempt_index", sa.Integer(), nullable=False),
        sa.Column("is_retry", sa.Boolean(), nullable=False),
        sa.Column("is_orphan_retry", sa.Boolean(), nullable=False),
        sa.Column("retry_cause", sa.String(length=32), nullable=True),
        sa.Column("timestamp", UtcDateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("client_retry_count", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Text(), nullable=False),
        sa.Column("source_ip", sa.String(length=45), nullable=True),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error_type", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("attempt_environment", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("prompt_fingerprint", sa.Text(), nullable=True),
        sa.Column("allocation_rule_id", sa.Text(), nullable=True),
        sa.Column("owner_tag", sa.Text(), nullable=True),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("request_class", sa.Text(), nullable=True),
        sa.Column("pricing_snapshot_id", sa.String(length=64), nullable=True),
        sa.Column(
            "cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        comment="One row per staged attempt: grouping, retry cause, allocation and cost.",
    )
    op.create_index(
        "ix_request_attempts_attempt_id", "request_attempts", ["attempt_id"], unique=False
    )
    op.create_index(
        op.f("ix_request_attempts_cycle_id"), "request_attempts", ["cycle_id"], unique=False
    )
    op.create_table(
        "review_packets",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("cycle_start", UtcDateTime(timezone=True), nullable=False),
        sa.Column("cycle_end", UtcDateTime(timezone=True), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column("request_class", sa.Text(), nullable=True),
        sa.Column("owner_tag", sa.Text(), nullable=True),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("logical_requests", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.Column("first_attempts", sa.BigInteger(), nullable=False),
        sa.Column("retry_attempts", sa.BigInteger(), nullable=False),
        sa.Column("retries_client_handling", sa.BigInteger(), nullable=False),
        sa.Column("retries_platform_response", sa.BigInteger(), nullable=False),
        sa.Column("retries_timeout", sa.BigInteger(), nullable=False),
        sa.Column("retries_scheduled_maintenance", sa.BigInteger(), nullable=False),
        sa.Column("retries_unfamiliar_request_source", sa.BigInteger(), nullable=False),
        sa.Column("retries_unknown", sa.BigInteger(), nullable=False),
        sa.Column("orphan_retries", sa.BigInteger(), nullable=False),
        sa.Column(
            "retry_share",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("retry_tokens", sa.BigInteger(), nullable=False),
        sa.Column(
            "est_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "retry_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "retry_cost_share",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("unit_metric", sa.String(length=32), nullable=False),
        sa.Column(
            "unit_cost",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("pricing_snapshot_id", sa.String(length=64), nullable=True),
        sa.Column("pricing_source_url", sa.Text(), nullable=True),
        sa.Column("pricing_accessed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("source_urls", sa.Text(), nullable=False),
        sa.Column("allocation_rule_ids", sa.Text(), nullable=False),
        sa.Column("first_attempt_recorded", sa.Boolean(), nullable=False),
        sa.Column("retry_count_recorded", sa.Boolean(), nullable=False),
        sa.Column("pricing_source_checked", sa.Boolean(), nullable=False),
        sa.Column("allocation_rule_checked", sa.Boolean(), nullable=False),
        sa.Column("result", sa.String(length=4), nullable=False),
        sa.Column("failed_requirements", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        comment="One evidence packet per (cycle, workload, request class) with pass/fail.",
    )
    op.create_index(
        op.f("ix_review_packets_cycle_id"), "review_packets", ["cycle_id"], unique=False
    )
    op.create_table(
        "stg_allocation_decisions",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("allocation_key", sa.String(length=64), nullable=False),
        sa.Column("allocation_rule_id", sa.Text(), nullable=True),
        sa.Column("owner_tag", sa.Text(), nullable=True),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("request_class", sa.Text(), nullable=True),
        comment="Allocation rules applied to each distinct first-attempt attribute set.",
    )
    op.create_index(
        op.f("ix_stg_allocation_decisions_cycle_id"),
        "stg_allocation_decisions",
        ["cycle_id"],
        unique=False,
    )
    op.create_index(
        "ix_stg_allocation_decisions_key",
        "stg_allocation_decisions",
        ["cycle_id", "allocation_key"],
        unique=False,
    )
    op.create_table(
        "stg_evidence_sources",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("accessed_on", sa.Date(), nullable=False),
        comment="evidence_sources.yaml as read for the cycle's run, in file order.",
    )
    op.create_index(
        op.f("ix_stg_evidence_sources_cycle_id"), "stg_evidence_sources", ["cycle_id"], unique=False
    )
    op.create_table(
        "stg_extract_runs",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("extracted_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_location", sa.Text(), nullable=False),
        sa.Column("records_read", sa.BigInteger(), nullable=False),
        comment="One row per extraction run: what the Python extractor counted as read.",
    )
    op.create_index(
        op.f("ix_stg_extract_runs_cycle_id"), "stg_extract_runs", ["cycle_id"], unique=False
    )
    op.create_table(
        "stg_maintenance_windows",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("window_start", UtcDateTime(timezone=True), nullable=False),
        sa.Column("window_end", UtcDateTime(timezone=True), nullable=False),
        sa.Column("window_start_us", sa.BigInteger(), nullable=False),
        sa.Column("window_end_us", sa.BigInteger(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        comment="Maintenance windows expanded to concrete UTC intervals over the read window.",
    )
    op.create_index(
        op.f("ix_stg_maintenance_windows_cycle_id"),
        "stg_maintenance_windows",
        ["cycle_id"],
        unique=False,
    )
    op.create_table(
        "stg_source_records",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("read_seq", sa.BigInteger(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("source_page", sa.Integer(), nullable=True),
        sa.Column("defect", sa.String(length=64), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("ts_us", sa.BigInteger(), nullable=True),
        sa.Column("attempt_id", sa.Text(), nullable=True),
        sa.Column("timestamp", UtcDateTime(timezone=True), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("client_retry_count", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Text(), nullable=True),
        sa.Column("source_ip", sa.String(length=45), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("endpoint", sa.Text(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error_type", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=True),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=True),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("prompt_fingerprint", sa.Text(), nullable=True),
        sa.Column("api_key_known", sa.Boolean(), nullable=True),
        sa.Column("source_ip_known", sa.Boolean(), nullable=True),
        sa.Column("allocation_key", sa.String(length=64), nullable=True),
        sa.Column("redacted_values", sa.Integer(), nullable=False),
        sa.Column("raw_redacted", sa.Text(), nullable=True),
        comment="Every record read by a cycle's run, validated and redacted; no content fields.",
    )
    op.create_index(
        op.f("ix_stg_source_records_cycle_id"), "stg_source_records", ["cycle_id"], unique=False
    )
    op.create_index(
        "ix_stg_source_records_cycle_seq",
        "stg_source_records",
        ["cycle_id", "read_seq"],
        unique=True,
    )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
