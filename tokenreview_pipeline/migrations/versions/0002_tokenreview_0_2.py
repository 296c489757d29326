# ruff: noqa: E501 - generated table definitions keep their comments on one line
"""From the 0.1.0 ledger to this version's: token classes, service tiers, long-context
prices, FOCUS 1.3 columns, budgets, billing, one-transaction publication, keys,
indexes and column comments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Published rows are kept, every one. Columns this version adds to them get the value
the 0.1.0 run implied, never a guess:

* ``request_attempts`` / ``review_packets``: cached, cache-write and reasoning tokens and
  gateway retries 0 (0.1.0 did not read them: SPEC 2.1's default for an absent count),
  ``service_tier`` ``standard``, ``cache_savings_usd`` 0 where the cost is known (no
  cached token was priced), ``above_prompt_tokens`` and ``cost_unknown_reason`` null.
* ``pricing_snapshot_prices``: each 0.1.0 price is the ``standard`` tier's single band
  (``min_prompt_tokens`` 0, no upper bound, no long-context entry); the primary key
  becomes (snapshot, model, service tier, band).
* ``focus_charges``: ``charge_kind`` is renamed ``x_ChargeKind``; the provider, allocation
  and SKU-detail columns are derived from the row's own columns as SPEC 5 defines them
  (``x_ServiceTier`` ``standard``). ``SkuId``, ``SkuPriceId`` and ``ChargeDescription``
  keep the spelling 0.1.0 published; re-running a cycle rebuilds it in this version's.

Staging, intermediate and build tables are rebuilt by every run; tables this version
adds start empty.
"""

from __future__ import annotations

import json
import warnings

import sqlalchemy as sa
from alembic import op

from tokenreview_pipeline.ledger import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STANDARD_TIER = "standard"
ALLOCATION_METHOD = "tokenreview-allocation-rules"
# The SKU details of 0.1.0's three charge kinds (SPEC 5, FOCUS export).
_KIND_DETAILS = {
    "input": {"TokenDirection": "Input", "TokenCacheAction": "Uncached"},
    "output": {"TokenDirection": "Output"},
    "request": {},
}
PRICE_KEY = ("snapshot_id", "model", "service_tier", "min_prompt_tokens")


def _execute(sql: str, **params) -> None:
    op.get_bind().execute(sa.text(sql), params)


def _backfill_tokens(table: str) -> None:
    for column in (
        "cached_prompt_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "gateway_retries",
    ):
        _execute(f"UPDATE {table} SET {column} = 0 WHERE {column} IS NULL")


def _backfill_request_attempts() -> None:
    _backfill_tokens("request_attempts")
    _execute(
        "UPDATE request_attempts SET service_tier = :t WHERE service_tier IS NULL", t=STANDARD_TIER
    )
    _execute("UPDATE request_attempts SET cache_savings_usd = 0 WHERE cost_usd IS NOT NULL")


def _backfill_review_packets() -> None:
    _backfill_tokens("review_packets")
    _execute("UPDATE review_packets SET cache_savings_usd = 0 WHERE est_cost_usd IS NOT NULL")


def _backfill_pricing_snapshot_prices() -> None:
    _execute(
        "UPDATE pricing_snapshot_prices SET service_tier = :t, min_prompt_tokens = 0 "
        "WHERE service_tier IS NULL",
        t=STANDARD_TIER,
    )


def _new_primary_key(batch_op) -> None:
    if op.get_bind().dialect.name != "sqlite":  # SQLite: the batch copy has no old key
        batch_op.drop_constraint("pricing_snapshot_prices_pkey", type_="primary")
    batch_op.create_primary_key("pricing_snapshot_prices_pkey", list(PRICE_KEY))


def _backfill_focus_charges() -> None:
    _execute(
        'UPDATE focus_charges SET "ServiceProviderName" = "ProviderName", '
        '"HostProviderName" = "ProviderName", "AllocatedMethodId" = :method, '
        '"AllocatedMethodDetails" = \'{"rule_ids":\' || "x_AllocationRuleIds" || \'}\', '
        '"AllocatedResourceId" = "ResourceId", "AllocatedResourceName" = "ResourceId", '
        '"AllocatedTags" = "Tags", "x_ServiceTier" = :tier',
        method=ALLOCATION_METHOD,
        tier=STANDARD_TIER,
    )
    pairs = (
        op.get_bind()
        .execute(sa.text('SELECT DISTINCT model, "x_ChargeKind" FROM focus_charges'))
        .all()
    )
    for model, kind in pairs:
        details = {**_KIND_DETAILS.get(kind, {}), "ServiceTier": STANDARD_TIER, "ModelId": model}
        _execute(
            'UPDATE focus_charges SET "SkuPriceDetails" = :d WHERE model = :m AND "x_ChargeKind" = :k',
            d=json.dumps(details, ensure_ascii=False, separators=(",", ":")),
            m=model,
            k=kind,
        )


def _price_key_step() -> None:
    with op.batch_alter_table("pricing_snapshot_prices", schema=None) as batch_op:
        batch_op.alter_column("service_tier", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("min_prompt_tokens", existing_type=sa.BigInteger(), nullable=False)
        _new_primary_key(batch_op)


def upgrade() -> None:
    op.create_table(
        "_build_billing_reconciliation",
        sa.Column("build_run_id", sa.String(length=64), nullable=False),
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column(
            "estimated_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "billed_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("estimated_tokens", sa.BigInteger(), nullable=False),
        sa.Column("billed_tokens", sa.BigInteger(), nullable=True),
        sa.Column(
            "difference_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "difference_share",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        comment="Rows of billing_reconciliation built by a run that has not published them yet (kept for inspection when a blocking check stopped the run).",
    )
    with op.batch_alter_table("_build_billing_reconciliation", schema=None) as batch_op:
        batch_op.create_index(
            "ix__build_billing_reconciliation_cycle", ["cycle_id", "build_run_id"], unique=False
        )

    op.create_table(
        "_build_budget_reviews",
        sa.Column("build_run_id", sa.String(length=64), nullable=False),
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column("owner_tag", sa.Text(), nullable=True),
        sa.Column("packets", sa.BigInteger(), nullable=False),
        sa.Column("packets_passed", sa.BigInteger(), nullable=False),
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
            "previous_est_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "previous_retry_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "cost_change_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "retry_cost_change_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "budget_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "budget_variance_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "budget_used_share",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "requested_budget_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("requested_by", sa.Text(), nullable=True),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("pause_reasons", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        comment="Rows of budget_reviews built by a run that has not published them yet (kept for inspection when a blocking check stopped the run).",
    )
    with op.batch_alter_table("_build_budget_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix__build_budget_reviews_cycle", ["cycle_id", "build_run_id"], unique=False
        )

    op.create_table(
        "_build_extraction_runs",
        sa.Column("build_run_id", sa.String(length=64), nullable=False),
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
        comment="Rows of extraction_runs built by a run that has not published them yet (kept for inspection when a blocking check stopped the run).",
    )
    with op.batch_alter_table("_build_extraction_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix__build_extraction_runs_cycle", ["cycle_id", "build_run_id"], unique=False
        )

    op.create_table(
        "_build_focus_charges",
        sa.Column("build_run_id", sa.String(length=64), nullable=False),
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column("request_class", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=False),
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
        sa.Column(
            "BillingPeriodStart",
            UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "BillingPeriodEnd",
            UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "ChargePeriodStart",
            UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "ChargePeriodEnd",
            UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("ChargeCategory", sa.String(length=16), nullable=False),
        sa.Column("ChargeClass", sa.String(length=16), nullable=True),
        sa.Column("ChargeDescription", sa.Text(), nullable=False),
        sa.Column("ChargeFrequency", sa.String(length=16), nullable=False),
        sa.Column("PricingCategory", sa.String(length=16), nullable=False),
        sa.Column(
            "PricingQuantity",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=False,
        ),
        sa.Column("PricingUnit", sa.String(length=16), nullable=False),
        sa.Column(
            "ConsumedQuantity",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=False,
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
        sa.Column("ServiceProviderName", sa.Text(), nullable=False),
        sa.Column("HostProviderName", sa.Text(), nullable=False),
        sa.Column("ProviderName", sa.Text(), nullable=False),
        sa.Column("PublisherName", sa.Text(), nullable=False),
        sa.Column("InvoiceIssuerName", sa.Text(), nullable=False),
        sa.Column("SkuId", sa.Text(), nullable=False),
        sa.Column("SkuPriceId", sa.Text(), nullable=True),
        sa.Column("SkuPriceDetails", sa.Text(), nullable=False),
        sa.Column("ResourceId", sa.Text(), nullable=False),
        sa.Column("ResourceName", sa.Text(), nullable=False),
        sa.Column("ResourceType", sa.Text(), nullable=False),
        sa.Column("SubAccountId", sa.Text(), nullable=True),
        sa.Column("SubAccountName", sa.Text(), nullable=True),
        sa.Column("RegionId", sa.Text(), nullable=True),
        sa.Column("RegionName", sa.Text(), nullable=True),
        sa.Column("Tags", sa.Text(), nullable=False),
        sa.Column("AllocatedMethodId", sa.Text(), nullable=False),
        sa.Column("AllocatedMethodDetails", sa.Text(), nullable=False),
        sa.Column("AllocatedResourceId", sa.Text(), nullable=False),
        sa.Column("AllocatedResourceName", sa.Text(), nullable=False),
        sa.Column("AllocatedTags", sa.Text(), nullable=False),
        sa.Column("x_ChargeKind", sa.String(length=16), nullable=False),
        sa.Column("x_ServiceTier", sa.Text(), nullable=False),
        sa.Column("x_AbovePromptTokens", sa.BigInteger(), nullable=True),
        sa.Column(
            "x_RetryQuantity",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=False,
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
        comment="Rows of focus_charges built by a run that has not published them yet (kept for inspection when a blocking check stopped the run).",
    )
    with op.batch_alter_table("_build_focus_charges", schema=None) as batch_op:
        batch_op.create_index(
            "ix__build_focus_charges_cycle", ["cycle_id", "build_run_id"], unique=False
        )

    op.create_table(
        "_build_quarantined_records",
        sa.Column("build_run_id", sa.String(length=64), nullable=False),
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("read_seq", sa.BigInteger(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("source_page", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("attempt_id", sa.Text(), nullable=True),
        sa.Column("timestamp", UtcDateTime(timezone=True), nullable=True),
        sa.Column("raw_redacted", sa.Text(), nullable=False),
        comment="Rows of quarantined_records built by a run that has not published them yet (kept for inspection when a blocking check stopped the run).",
    )
    with op.batch_alter_table("_build_quarantined_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix__build_quarantined_records_cycle", ["cycle_id", "build_run_id"], unique=False
        )

    op.create_table(
        "_build_request_attempts",
        sa.Column("build_run_id", sa.String(length=64), nullable=False),
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
        sa.Column("cached_prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("service_tier", sa.Text(), nullable=True),
        sa.Column("gateway_retries", sa.Integer(), nullable=False),
        sa.Column("allocation_rule_id", sa.Text(), nullable=True),
        sa.Column("owner_tag", sa.Text(), nullable=True),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("request_class", sa.Text(), nullable=True),
        sa.Column("pricing_snapshot_id", sa.String(length=64), nullable=True),
        sa.Column("above_prompt_tokens", sa.BigInteger(), nullable=True),
        sa.Column(
            "cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("cost_unknown_reason", sa.String(length=32), nullable=True),
        sa.Column(
            "cache_savings_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        comment="Rows of request_attempts built by a run that has not published them yet (kept for inspection when a blocking check stopped the run).",
    )
    with op.batch_alter_table("_build_request_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix__build_request_attempts_cycle", ["cycle_id", "build_run_id"], unique=False
        )

    op.create_table(
        "_build_review_packets",
        sa.Column("build_run_id", sa.String(length=64), nullable=False),
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
        sa.Column("cached_prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("gateway_retries", sa.BigInteger(), nullable=False),
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
        sa.Column(
            "cache_savings_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
        ),
        sa.Column("pricing_snapshot_id", sa.String(length=64), nullable=True),
        sa.Column("pricing_source_url", sa.Text(), nullable=True),
        sa.Column(
            "pricing_accessed_at",
            UtcDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("source_urls", sa.Text(), nullable=False),
        sa.Column("allocation_rule_ids", sa.Text(), nullable=False),
        sa.Column("first_attempt_recorded", sa.Boolean(), nullable=False),
        sa.Column("retry_count_recorded", sa.Boolean(), nullable=False),
        sa.Column("pricing_source_checked", sa.Boolean(), nullable=False),
        sa.Column("allocation_rule_checked", sa.Boolean(), nullable=False),
        sa.Column("result", sa.String(length=4), nullable=False),
        sa.Column("failed_requirements", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        comment="Rows of review_packets built by a run that has not published them yet (kept for inspection when a blocking check stopped the run).",
    )
    with op.batch_alter_table("_build_review_packets", schema=None) as batch_op:
        batch_op.create_index(
            "ix__build_review_packets_cycle", ["cycle_id", "build_run_id"], unique=False
        )

    op.create_table(
        "billing_reconciliation",
        sa.Column(
            "cycle_id",
            sa.String(length=10),
            nullable=False,
            comment="The review cycle: its first day (YYYY-MM-DD, UTC), the Dagster partition key.",
        ),
        sa.Column("model", sa.Text(), nullable=False, comment="The model estimated or billed."),
        sa.Column(
            "estimated_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="Sum of the cycle's request_attempts.cost_usd of the model; null when any is null or there are none.",
        ),
        sa.Column(
            "billed_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="Sum of the billed rows' cost_usd dated in the cycle; null when there are none.",
        ),
        sa.Column(
            "estimated_tokens",
            sa.BigInteger(),
            nullable=False,
            comment="Prompt + completion tokens of the cycle's attempts of the model (0 when none).",
        ),
        sa.Column(
            "billed_tokens",
            sa.BigInteger(),
            nullable=True,
            comment="Prompt + completion tokens billed; null unless every billed row has both token cells.",
        ),
        sa.Column(
            "difference_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="billed_cost_usd - estimated_cost_usd.",
        ),
        sa.Column(
            "difference_share",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="difference_usd / billed_cost_usd (null when either is null or billed is 0).",
        ),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="not_billed, not_estimated, matched (within thresholds.max_billing_gap_share, or both 0) or gap.",
        ),
        comment="Per (cycle, model): the estimate against the provider's billed usage.",
        info={"published": True},
    )
    with op.batch_alter_table("billing_reconciliation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_reconciliation_cycle_id"), ["cycle_id"], unique=False
        )
        batch_op.create_index("ux_billing_reconciliation_grain", ["cycle_id", "model"], unique=True)

    op.create_table(
        "budget_reviews",
        sa.Column(
            "cycle_id",
            sa.String(length=10),
            nullable=False,
            comment="The review cycle: its first day (YYYY-MM-DD, UTC), the Dagster partition key.",
        ),
        sa.Column("review_date", sa.Date(), nullable=False, comment="The review's date."),
        sa.Column("workload_tag", sa.Text(), nullable=False, comment="The workload reviewed."),
        sa.Column(
            "owner_tag",
            sa.Text(),
            nullable=True,
            comment="The packets' owner_tag when every packet has the same non-null one.",
        ),
        sa.Column(
            "packets",
            sa.BigInteger(),
            nullable=False,
            comment="The workload's packets in the cycle.",
        ),
        sa.Column(
            "packets_passed", sa.BigInteger(), nullable=False, comment="Those with result = pass."
        ),
        sa.Column(
            "est_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="Sum of its packets' estimated cost; null when any is null or it has no packets.",
        ),
        sa.Column(
            "retry_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="Sum of its packets' retry cost; null when any is null or it has no packets.",
        ),
        sa.Column(
            "previous_est_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="The same sum in the cycle one cadence earlier; null when the ledger has none.",
        ),
        sa.Column(
            "previous_retry_cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="The same sum in the cycle one cadence earlier; null when the ledger has none.",
        ),
        sa.Column(
            "cost_change_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="est_cost_usd - previous_est_cost_usd.",
        ),
        sa.Column(
            "retry_cost_change_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="retry_cost_usd - previous_retry_cost_usd.",
        ),
        sa.Column(
            "budget_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="The budget that applies (budgets.yaml), else null.",
        ),
        sa.Column(
            "budget_variance_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="est_cost_usd - budget_usd.",
        ),
        sa.Column(
            "budget_used_share",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="est_cost_usd / budget_usd.",
        ),
        sa.Column(
            "requested_budget_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=True,
            comment="The change request for this cycle, else null.",
        ),
        sa.Column("requested_by", sa.Text(), nullable=True, comment="Who requested the change."),
        sa.Column(
            "decision",
            sa.String(length=32),
            nullable=False,
            comment="no_change_requested, paused or ready_for_review.",
        ),
        sa.Column(
            "pause_reasons",
            sa.Text(),
            nullable=False,
            comment="JSON array of the pause requirements that fail, in SPEC order.",
        ),
        sa.Column(
            "notes",
            sa.Text(),
            nullable=False,
            comment="One line per pause reason: what is missing and who must supply it.",
        ),
        comment="One budget decision per (cycle, workload): its packets, costs against the previous cycle and the budget, and whether its change request is paused.",
        info={"published": True},
    )
    with op.batch_alter_table("budget_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_budget_reviews_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index("ux_budget_reviews_grain", ["cycle_id", "workload_tag"], unique=True)

    op.create_table(
        "cycle_builds",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("built_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "model"),
        comment="The latest build of each published table of a cycle, awaiting publication.",
    )
    op.create_table(
        "cycle_leases",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("holder_host", sa.Text(), nullable=False),
        sa.Column("holder_pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id"),
        comment="The run building each cycle right now (one row per cycle in progress): two runs of a cycle never interleave. Released when the run publishes the cycle.",
    )
    op.create_table(
        "cycle_publications",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("published_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("table_rows", sa.Text(), nullable=False),
        comment="Every publication of a cycle: which run replaced its rows, when, and how many.",
    )
    with op.batch_alter_table("cycle_publications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cycle_publications_cycle_id"), ["cycle_id"], unique=False
        )

    op.create_table(
        "int_allocation_decisions",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("allocation_key", sa.String(length=64), nullable=False),
        sa.Column("allocation_rule_id", sa.Text(), nullable=True),
        sa.Column("owner_tag", sa.Text(), nullable=True),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("request_class", sa.Text(), nullable=True),
        comment="Allocation rules applied to each distinct first-attempt attribute set.",
    )
    with op.batch_alter_table("int_allocation_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_int_allocation_decisions_cycle_id"), ["cycle_id"], unique=False
        )
        batch_op.create_index(
            "ix_int_allocation_decisions_key", ["cycle_id", "allocation_key"], unique=False
        )

    op.create_table(
        "stg_billed_usage",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("usage_date", sa.Date(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column(
            "cost_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=False,
        ),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=True),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=True),
        sa.Column("requests", sa.BigInteger(), nullable=True),
        comment="The provider's billed usage (SPEC 2.9) dated in the cycle: one row per CSV row, keyed by file and line; a token or request cell left empty (or a column the file lacks) is null.",
    )
    with op.batch_alter_table("stg_billed_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stg_billed_usage_cycle_id"), ["cycle_id"], unique=False
        )
        batch_op.create_index(
            "ix_stg_billed_usage_key", ["cycle_id", "source_file", "source_line"], unique=True
        )

    op.create_table(
        "stg_budgets",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column(
            "budget_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=False,
        ),
        sa.Column("effective_from", sa.Date(), nullable=False),
        comment="budgets.yaml budgets (SPEC 2.8) as read for the cycle's run, in file order.",
    )
    with op.batch_alter_table("stg_budgets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stg_budgets_cycle_id"), ["cycle_id"], unique=False)

    op.create_table(
        "stg_change_requests",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("workload_tag", sa.Text(), nullable=False),
        sa.Column("review_cycle_id", sa.String(length=10), nullable=False),
        sa.Column(
            "requested_budget_usd",
            sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
            nullable=False,
        ),
        sa.Column("requested_by", sa.Text(), nullable=False),
        comment="budgets.yaml change requests (SPEC 2.8) as read for the cycle's run, in file order; review_cycle_id is the cycle whose review decides the request.",
    )
    with op.batch_alter_table("stg_change_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stg_change_requests_cycle_id"), ["cycle_id"], unique=False
        )

    op.create_table(
        "stg_known_source_lists",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("api_key_ids_configured", sa.Boolean(), nullable=False),
        sa.Column("source_cidrs_configured", sa.Boolean(), nullable=False),
        comment="Which known_sources.yaml lists are configured for the cycle's run (one row).",
    )
    with op.batch_alter_table("stg_known_source_lists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stg_known_source_lists_cycle_id"), ["cycle_id"], unique=False
        )

    op.create_table(
        "stg_known_sources",
        sa.Column("cycle_id", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Text(), nullable=True),
        sa.Column("network", sa.Text(), nullable=True),
        sa.Column("ip_from", sa.String(length=32), nullable=True),
        sa.Column("ip_to", sa.String(length=32), nullable=True),
        comment="known_sources.yaml entries: an API key id (redacted as records are) or a network as its first and last address key (see source_ip_key).",
    )
    with op.batch_alter_table("stg_known_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stg_known_sources_cycle_id"), ["cycle_id"], unique=False
        )
        batch_op.create_index("ix_stg_known_sources_key", ["cycle_id", "api_key_id"], unique=False)

    with op.batch_alter_table("stg_allocation_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stg_allocation_decisions_cycle_id"))
        batch_op.drop_index(batch_op.f("ix_stg_allocation_decisions_key"))

    op.drop_table("stg_allocation_decisions")
    with op.batch_alter_table("extraction_runs", schema=None) as batch_op:
        batch_op.alter_column(
            "cycle_id",
            existing_type=sa.VARCHAR(length=10),
            comment="The review cycle: its first day (YYYY-MM-DD, UTC), the Dagster partition key.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "run_id",
            existing_type=sa.VARCHAR(length=64),
            comment="The Dagster run that extracted the cycle (its latest run).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "extracted_at",
            existing_type=UtcDateTime(timezone=True),
            comment="When the extraction ran (UTC).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "source_kind",
            existing_type=sa.VARCHAR(length=16),
            comment="The request-log source: files or http.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "source_location",
            existing_type=sa.TEXT(),
            comment="Where it was read from (folder or URL, without credentials).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "records_read",
            existing_type=sa.BIGINT(),
            comment="Records read: attempts_staged + records_quarantined + exact_duplicates + other_cycle_records.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "attempts_staged",
            existing_type=sa.BIGINT(),
            comment="Valid attempts of logical requests that belong to the cycle.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "records_quarantined",
            existing_type=sa.BIGINT(),
            comment="Defective records that belong to the cycle (timestamped in it, or with no usable timestamp).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "exact_duplicates",
            existing_type=sa.BIGINT(),
            comment="Records identical to one read before, dropped.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "other_cycle_records",
            existing_type=sa.BIGINT(),
            comment="Everything else read: valid records outside the read window or of another cycle's logical requests, defective records of another cycle.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "redacted_values",
            existing_type=sa.BIGINT(),
            comment="Values replaced because they looked like secrets (SPEC 2.5).",
            existing_nullable=False,
        )
        batch_op.create_index("ux_extraction_runs_cycle", ["cycle_id"], unique=True)

    with op.batch_alter_table("focus_charges", schema=None) as batch_op:
        batch_op.alter_column(
            "charge_kind",
            new_column_name="x_ChargeKind",
            existing_type=sa.String(length=8),
            type_=sa.String(length=16),
            existing_nullable=False,
            comment="input, cached_input, cache_write, output, reasoning or request.",
        )
        batch_op.add_column(
            sa.Column(
                "ServiceProviderName",
                sa.Text(),
                nullable=True,
                comment="The provider_name of the config.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "HostProviderName",
                sa.Text(),
                nullable=True,
                comment="The provider_name of the config.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "SkuPriceDetails",
                sa.Text(),
                nullable=True,
                comment="JSON: TokenDirection, TokenCacheAction, ServiceTier, ModelId.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "AllocatedMethodId",
                sa.Text(),
                nullable=True,
                comment="tokenreview-allocation-rules.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "AllocatedMethodDetails",
                sa.Text(),
                nullable=True,
                comment='JSON object {"rule_ids": [...]}, sorted.',
            )
        )
        batch_op.add_column(
            sa.Column(
                "AllocatedResourceId",
                sa.Text(),
                nullable=True,
                comment="<workload_tag>/<request_class>.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "AllocatedResourceName",
                sa.Text(),
                nullable=True,
                comment="The workload and request class the charge is allocated to.",
            )
        )
        batch_op.add_column(
            sa.Column("AllocatedTags", sa.Text(), nullable=True, comment="The same as Tags.")
        )
        batch_op.add_column(
            sa.Column(
                "x_ServiceTier", sa.Text(), nullable=True, comment="The service tier, normalized."
            )
        )
        batch_op.add_column(
            sa.Column(
                "x_AbovePromptTokens",
                sa.BigInteger(),
                nullable=True,
                comment="The long-context entry applied (its above_prompt_tokens), null for none.",
            )
        )
        batch_op.alter_column(
            "cycle_id",
            existing_type=sa.VARCHAR(length=10),
            comment="The review cycle: its first day (YYYY-MM-DD, UTC), the Dagster partition key.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "workload_tag",
            existing_type=sa.TEXT(),
            comment="The workload charged.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "request_class",
            existing_type=sa.TEXT(),
            comment="The request class charged.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "model", existing_type=sa.TEXT(), comment="The model charged.", existing_nullable=False
        )
        batch_op.alter_column(
            "BilledCost",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="The estimated cost (FOCUS: billed cost; an estimate here).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "EffectiveCost",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="The estimated cost (FOCUS: effective cost; an estimate here).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "ListCost",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="The estimated cost at list price: PricingQuantity * ListUnitPrice.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "ContractedCost",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="The estimated cost (FOCUS: contracted cost; an estimate here).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "BillingCurrency",
            existing_type=sa.VARCHAR(length=3),
            comment="USD.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "BillingAccountId",
            existing_type=sa.TEXT(),
            comment="The provider_name of the config.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "BillingAccountName",
            existing_type=sa.TEXT(),
            comment="The provider_name of the config.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "BillingPeriodStart",
            existing_type=UtcDateTime(timezone=True),
            comment="The cycle's start (UTC).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "BillingPeriodEnd",
            existing_type=UtcDateTime(timezone=True),
            comment="The cycle's end (UTC, exclusive).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ChargePeriodStart",
            existing_type=UtcDateTime(timezone=True),
            comment="The cycle's start (UTC).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ChargePeriodEnd",
            existing_type=UtcDateTime(timezone=True),
            comment="The cycle's end (UTC, exclusive).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ChargeCategory",
            existing_type=sa.VARCHAR(length=16),
            comment="Usage.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ChargeClass",
            existing_type=sa.VARCHAR(length=16),
            comment="Null (no corrections).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "ChargeDescription",
            existing_type=sa.TEXT(),
            comment="The charge in words, e.g. gpt-4o-mini cached input tokens.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ChargeFrequency",
            existing_type=sa.VARCHAR(length=16),
            comment="Usage-Based.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "PricingCategory",
            existing_type=sa.VARCHAR(length=16),
            comment="Standard.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "PricingQuantity",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            nullable=False,
            comment="The quantity in PricingUnit (1M Tokens or Requests).",
        )
        batch_op.alter_column(
            "PricingUnit",
            existing_type=sa.VARCHAR(length=16),
            comment="1M Tokens or Requests.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ConsumedQuantity",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            nullable=False,
            comment="The quantity in ConsumedUnit (Tokens or Requests).",
        )
        batch_op.alter_column(
            "ConsumedUnit",
            existing_type=sa.VARCHAR(length=16),
            comment="Tokens or Requests.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ListUnitPrice",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="The price per PricingUnit from the pricing snapshot.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "ContractedUnitPrice",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="The price per PricingUnit from the pricing snapshot.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "ServiceCategory",
            existing_type=sa.TEXT(),
            comment="AI and Machine Learning.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ServiceSubcategory",
            existing_type=sa.TEXT(),
            comment="The FOCUS service subcategory of LLM API usage.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ServiceName",
            existing_type=sa.TEXT(),
            comment="The provider_name of the config.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ProviderName",
            existing_type=sa.TEXT(),
            comment="The provider_name of the config.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "PublisherName",
            existing_type=sa.TEXT(),
            comment="The provider_name of the config.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "InvoiceIssuerName",
            existing_type=sa.TEXT(),
            comment="The provider_name of the config.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "SkuId",
            existing_type=sa.TEXT(),
            comment="<model>/<charge kind>[/<tier>][/above_<N>].",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "SkuPriceId",
            existing_type=sa.TEXT(),
            nullable=True,
            comment="The snapshot id's first 16 hex characters, ':', the SkuId.",
        )
        batch_op.alter_column(
            "ResourceId",
            existing_type=sa.TEXT(),
            comment="The workload and request class charged.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ResourceName",
            existing_type=sa.TEXT(),
            comment="The workload and request class charged.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ResourceType",
            existing_type=sa.TEXT(),
            comment="The kind of resource charged.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "SubAccountId",
            existing_type=sa.TEXT(),
            comment="The owner_tag, when known.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "SubAccountName",
            existing_type=sa.TEXT(),
            comment="The owner_tag, when known.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "RegionId",
            existing_type=sa.TEXT(),
            comment="Null (not known from the request log).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "RegionName",
            existing_type=sa.TEXT(),
            comment="Null (not known from the request log).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "Tags",
            existing_type=sa.TEXT(),
            comment="JSON object with exactly owner_tag, workload_tag, environment, request_class.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "x_RetryQuantity",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            nullable=False,
            comment="The same quantity, of retry attempts only.",
        )
        batch_op.alter_column(
            "x_RetryCost",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="The estimated cost of the retry attempts.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "x_PricingSnapshotId",
            existing_type=sa.VARCHAR(length=64),
            comment="The pricing snapshot used.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "x_PricingSourceUrl",
            existing_type=sa.TEXT(),
            comment="Where that snapshot's prices were published.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "x_AllocationRuleIds",
            existing_type=sa.TEXT(),
            comment="JSON array of the allocation rules that matched, sorted.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "x_PacketResult",
            existing_type=sa.VARCHAR(length=4),
            comment="The result (pass/fail) of the packet the charge belongs to.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "x_CostIsEstimate",
            existing_type=sa.BOOLEAN(),
            comment="Always true: costs are estimates from the request log.",
            existing_nullable=False,
        )
        batch_op.create_table_comment(
            "The cycle's estimated charges as FinOps FOCUS 1.3 rows (1.2 columns kept): one per (workload, request class, model, service tier, long-context entry, snapshot, charge kind) with a non-zero quantity; costs are estimates.",
            existing_comment="The cycle's estimated charges as FinOps FOCUS 1.2 rows (costs are estimates).",
        )
    _backfill_focus_charges()
    with op.batch_alter_table("focus_charges", schema=None) as batch_op:
        batch_op.alter_column("ServiceProviderName", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("HostProviderName", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("SkuPriceDetails", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("AllocatedMethodId", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("AllocatedMethodDetails", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("AllocatedResourceId", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("AllocatedResourceName", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("AllocatedTags", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("x_ServiceTier", existing_type=sa.Text(), nullable=False)
        batch_op.create_index(
            "ux_focus_charges_grain",
            [
                "cycle_id",
                "workload_tag",
                "request_class",
                "model",
                "x_ServiceTier",
                "x_AbovePromptTokens",
                "x_PricingSnapshotId",
                "x_ChargeKind",
            ],
            unique=True,
        )

    with op.batch_alter_table("pricing_fetches", schema=None) as batch_op:
        batch_op.create_index("ix_pricing_fetches_fetched_at", ["fetched_at"], unique=False)

    with op.batch_alter_table("pricing_snapshot_prices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service_tier", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("min_prompt_tokens", sa.BigInteger(), autoincrement=False, nullable=True)
        )
        batch_op.add_column(sa.Column("max_prompt_tokens", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("above_prompt_tokens", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("cached_input_per_1m", sa.Numeric(precision=38, scale=18), nullable=True)
        )
        batch_op.add_column(
            sa.Column("cache_write_per_1m", sa.Numeric(precision=38, scale=18), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reasoning_per_1m", sa.Numeric(precision=38, scale=18), nullable=True)
        )
        batch_op.alter_column(
            "per_request", existing_type=sa.NUMERIC(precision=38, scale=18), nullable=True
        )
        batch_op.create_table_comment(
            "Resolved prices of each snapshot, one row per (model, service tier, long-context band): the model's keys replaced by the tier's, then by the long_context entry above_prompt_tokens (null: none) that applies to prompt_tokens in [min_prompt_tokens, max_prompt_tokens] (null max: no upper bound). USD per 1M tokens / per request; a null price is missing (SPEC 4.4 defaults apply).",
            existing_comment="Per-model prices of each snapshot (USD per 1M tokens, USD per request).",
        )
    _backfill_pricing_snapshot_prices()
    with warnings.catch_warnings():
        # SQLite's batch copy reports the key it replaces (the point of this step)
        warnings.filterwarnings("ignore", "Table '_alembic_tmp_pricing_snapshot_prices'")
        _price_key_step()

    with op.batch_alter_table("quarantined_records", schema=None) as batch_op:
        batch_op.alter_column(
            "cycle_id",
            existing_type=sa.VARCHAR(length=10),
            comment="The review cycle: its first day (YYYY-MM-DD, UTC), the Dagster partition key.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "read_seq",
            existing_type=sa.BIGINT(),
            comment="The record's position in the run's read order.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "source_name",
            existing_type=sa.TEXT(),
            comment="The file (or HTTP source) the record came from.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "source_line",
            existing_type=sa.INTEGER(),
            comment="Its line in the file (1-based), when read from a file.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "source_page",
            existing_type=sa.INTEGER(),
            comment="Its page, when read from the HTTP log export.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "reason",
            existing_type=sa.VARCHAR(length=64),
            comment="The first defect found (SPEC 4.1), e.g. malformed_json or missing_field:model.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "attempt_id",
            existing_type=sa.TEXT(),
            comment="The record's attempt_id, when it could be read.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "timestamp",
            existing_type=UtcDateTime(timezone=True),
            comment="The record's timestamp, when it could be read.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "raw_redacted",
            existing_type=sa.TEXT(),
            comment="The raw record, secrets redacted and content fields removed, at most 4 KiB.",
            existing_nullable=False,
        )
        batch_op.create_index(
            "ux_quarantined_records_cycle_seq", ["cycle_id", "read_seq"], unique=True
        )

    with op.batch_alter_table("request_attempts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cached_prompt_tokens",
                sa.BigInteger(),
                nullable=True,
                comment="Input tokens read from the provider's prompt cache.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "cache_write_tokens",
                sa.BigInteger(),
                nullable=True,
                comment="Input tokens written to the provider's prompt cache.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "reasoning_tokens",
                sa.BigInteger(),
                nullable=True,
                comment="Output tokens spent on reasoning.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "service_tier",
                sa.Text(),
                nullable=True,
                comment="The service tier, normalized (standard for absent, default, auto).",
            )
        )
        batch_op.add_column(
            sa.Column(
                "gateway_retries",
                sa.Integer(),
                nullable=True,
                comment="Retries a gateway made inside this one attempt.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "above_prompt_tokens",
                sa.BigInteger(),
                nullable=True,
                comment="The long-context band that priced the attempt (its threshold N: prompt_tokens exceeded N), null for none; with pricing_snapshot_id, model and service_tier it names the pricing_snapshot_prices row.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "cost_unknown_reason",
                sa.String(length=32),
                nullable=True,
                comment="Why cost_usd is null: no_snapshot, model_not_priced, tier_not_priced or cached_input_not_priced; null when priced.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "cache_savings_usd",
                sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
                nullable=True,
                comment="What prompt caching saved: cached tokens at the uncached input price minus what they cost; null when the cost is unknown.",
            )
        )
        batch_op.alter_column(
            "cycle_id",
            existing_type=sa.VARCHAR(length=10),
            comment="The review cycle: its first day (YYYY-MM-DD, UTC), the Dagster partition key.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "attempt_id",
            existing_type=sa.TEXT(),
            comment="The attempt's id, unique across request_attempts (SPEC 4.1).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "logical_request_id",
            existing_type=sa.TEXT(),
            comment="The logical request (first attempt and its retries) the attempt belongs to.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "grouping_path",
            existing_type=sa.VARCHAR(length=16),
            comment="How it was grouped (SPEC 4.2): request_id, fingerprint or single.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "attempt_index",
            existing_type=sa.INTEGER(),
            comment="Its position in the logical request; 0 is the first attempt.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "is_retry",
            existing_type=sa.BOOLEAN(),
            comment="Whether the attempt is a retry (every attempt after the first).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "is_orphan_retry",
            existing_type=sa.BOOLEAN(),
            comment="A retry whose first attempt is missing from the log.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retry_cause",
            existing_type=sa.VARCHAR(length=32),
            comment="Why the retry was needed (SPEC 4.3), read off the attempt before it; null for a first attempt.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "timestamp",
            existing_type=UtcDateTime(timezone=True),
            comment="When the attempt started (UTC).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "request_id",
            existing_type=sa.TEXT(),
            comment="The client's id of the logical request, when it sends one.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "client_retry_count",
            existing_type=sa.INTEGER(),
            comment="The client's own count of earlier tries of this request.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "api_key_id",
            existing_type=sa.TEXT(),
            comment="The API key's id (never the key), redacted if it looked like a secret.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "source_ip",
            existing_type=sa.VARCHAR(length=45),
            comment="The client address the attempt came from.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "model",
            existing_type=sa.TEXT(),
            comment="The model the attempt called.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "endpoint",
            existing_type=sa.TEXT(),
            comment="The API endpoint called, e.g. /v1/chat/completions.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "status_code",
            existing_type=sa.INTEGER(),
            comment="The HTTP status returned; null when no response arrived.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "error_type",
            existing_type=sa.TEXT(),
            comment="The provider's error type, when the attempt failed.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "latency_ms",
            existing_type=sa.DOUBLE_PRECISION(precision=53),
            comment="Time to the response, in milliseconds.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "prompt_tokens",
            existing_type=sa.BIGINT(),
            comment="Input tokens (cached and cache-write tokens are parts of them).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "completion_tokens",
            existing_type=sa.BIGINT(),
            comment="Output tokens (reasoning tokens are a part of them).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "attempt_environment",
            existing_type=sa.TEXT(),
            comment="The environment the record itself names (environment is the allocated one).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "tags",
            existing_type=sa.TEXT(),
            comment="The record's tags (JSON object of string to string), content fields removed.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "prompt_fingerprint",
            existing_type=sa.TEXT(),
            comment="A hash identifying the prompt, used to group attempts without request_id (SPEC 4.2).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "allocation_rule_id",
            existing_type=sa.TEXT(),
            comment="The allocation rule that matched the logical request; null when none did.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "owner_tag",
            existing_type=sa.TEXT(),
            comment="The team that owns the spend (allocation).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "workload_tag",
            existing_type=sa.TEXT(),
            comment="What the spend is allocated to; unallocated when no rule matched.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "environment",
            existing_type=sa.TEXT(),
            comment="The environment allocation assigned (production, staging, ...).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "request_class",
            existing_type=sa.TEXT(),
            comment="The kind of request within the workload (allocation or tags.request_class).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "pricing_snapshot_id",
            existing_type=sa.VARCHAR(length=64),
            comment="The pricing snapshot the cost was computed with.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "cost_usd",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="The attempt's estimated cost in USD; null when its model, tier or token classes are not priced.",
            existing_nullable=True,
        )
        batch_op.drop_index(batch_op.f("ix_request_attempts_attempt_id"))
        batch_op.create_index(
            "ix_request_attempts_cycle_workload",
            ["cycle_id", "workload_tag", "request_class"],
            unique=False,
        )
        batch_op.create_index(
            "ix_request_attempts_logical_request", ["cycle_id", "logical_request_id"], unique=False
        )
        batch_op.create_index("ux_request_attempts_attempt_id", ["attempt_id"], unique=True)
        batch_op.create_table_comment(
            "One row per staged attempt: grouping, retry cause, allocation and cost. The price row that priced it is (pricing_snapshot_id, model, service_tier, above_prompt_tokens) of pricing_snapshot_prices; cost_unknown_reason says why cost_usd is null.",
            existing_comment="One row per staged attempt: grouping, retry cause, allocation and cost.",
        )
    _backfill_request_attempts()
    with op.batch_alter_table("request_attempts", schema=None) as batch_op:
        batch_op.alter_column("cached_prompt_tokens", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("cache_write_tokens", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("reasoning_tokens", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("gateway_retries", existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table("review_packets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cached_prompt_tokens",
                sa.BigInteger(),
                nullable=True,
                comment="Cached input tokens, summed over the packet's attempts.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "cache_write_tokens",
                sa.BigInteger(),
                nullable=True,
                comment="Cache-write input tokens, summed over the packet's attempts.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "reasoning_tokens",
                sa.BigInteger(),
                nullable=True,
                comment="Reasoning output tokens, summed over the packet's attempts.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "gateway_retries",
                sa.BigInteger(),
                nullable=True,
                comment="Gateway retries, summed over the packet's attempts.",
            )
        )
        batch_op.add_column(
            sa.Column(
                "cache_savings_usd",
                sa.Numeric(precision=38, scale=18).with_variant(sa.Float(), "sqlite"),
                nullable=True,
                comment="Sum of the attempts' cache savings (cached tokens at the input price minus what they cost); null when any attempt's cost is unknown.",
            )
        )
        batch_op.alter_column(
            "cycle_id",
            existing_type=sa.VARCHAR(length=10),
            comment="The review cycle: its first day (YYYY-MM-DD, UTC), the Dagster partition key.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "cycle_start",
            existing_type=UtcDateTime(timezone=True),
            comment="The cycle's start (inclusive, UTC).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "cycle_end",
            existing_type=UtcDateTime(timezone=True),
            comment="The cycle's end (exclusive, UTC).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "review_date",
            existing_type=sa.DATE(),
            comment="The review's date; defaults to the run's UTC date.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "workload_tag",
            existing_type=sa.TEXT(),
            comment="The workload the packet reviews.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "request_class",
            existing_type=sa.TEXT(),
            comment="The request class the packet reviews.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "owner_tag",
            existing_type=sa.TEXT(),
            comment="The single owner_tag of the packet's logical requests; null if none or several.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "environment",
            existing_type=sa.TEXT(),
            comment="The single environment of the packet's logical requests; null if none or several.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "logical_requests",
            existing_type=sa.BIGINT(),
            comment="Logical requests in the packet (an orphan retry's too).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "attempts",
            existing_type=sa.BIGINT(),
            comment="Attempts: first_attempts + retry_attempts.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "first_attempts",
            existing_type=sa.BIGINT(),
            comment="First attempts of logical requests.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retry_attempts",
            existing_type=sa.BIGINT(),
            comment="Retries: every attempt after the first (orphans included).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retries_client_handling",
            existing_type=sa.BIGINT(),
            comment="Retries whose cause is client_handling: the client retried after a success or a request error it caused (2xx, other 4xx, insufficient quota).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retries_platform_response",
            existing_type=sa.BIGINT(),
            comment="Retries whose cause is platform_response: the platform refused or failed the attempt before it (409, 429, 5xx, rate limits, overload).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retries_timeout",
            existing_type=sa.BIGINT(),
            comment="Retries whose cause is timeout: the attempt before it timed out (408/504/524, a timeout error, or no response after client_timeout_ms).",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retries_scheduled_maintenance",
            existing_type=sa.BIGINT(),
            comment="Retries whose cause is scheduled_maintenance: the attempt before it started inside a maintenance window.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retries_unfamiliar_request_source",
            existing_type=sa.BIGINT(),
            comment="Retries whose cause is unfamiliar_request_source: the retry came from another API key than the first attempt, or from a key or network that known_sources does not list.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retries_unknown",
            existing_type=sa.BIGINT(),
            comment="Retries whose cause is unknown: nothing in the log explains the retry.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "orphan_retries",
            existing_type=sa.BIGINT(),
            comment="Retries whose first attempt is missing from the log.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retry_share",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="retry_attempts / attempts.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "prompt_tokens",
            existing_type=sa.BIGINT(),
            comment="Input tokens of all attempts.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "completion_tokens",
            existing_type=sa.BIGINT(),
            comment="Output tokens of all attempts.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retry_tokens",
            existing_type=sa.BIGINT(),
            comment="Tokens (input and output) of retry attempts, orphans included.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "est_cost_usd",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="Estimated cost in USD; null when any attempt's cost is unknown.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "retry_cost_usd",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="Estimated cost of the retries; null when any cost is unknown.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "retry_cost_share",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="retry_cost_usd / est_cost_usd; null when unknown or zero.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "unit_metric",
            existing_type=sa.VARCHAR(length=32),
            comment="The unit cost's metric: cost_per_1k_tokens or cost_per_successful_request.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "unit_cost",
            existing_type=sa.NUMERIC(precision=38, scale=18),
            comment="est_cost_usd per unit_metric; null when the cost is unknown or the denominator is zero.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "pricing_snapshot_id",
            existing_type=sa.VARCHAR(length=64),
            comment="The pricing snapshot used (SHA-256 of the fetched bytes).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "pricing_source_url",
            existing_type=sa.TEXT(),
            comment="Where that snapshot's prices were published.",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "pricing_accessed_at",
            existing_type=UtcDateTime(timezone=True),
            comment="When that snapshot was fetched (UTC).",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "source_urls",
            existing_type=sa.TEXT(),
            comment="JSON array: the pricing source URL, then the evidence sources' URLs in file order.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "allocation_rule_ids",
            existing_type=sa.TEXT(),
            comment="JSON array of the allocation rules that matched, sorted.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "first_attempt_recorded",
            existing_type=sa.BOOLEAN(),
            comment="Whether the evidence requirement request_sample_present holds for the packet.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "retry_count_recorded",
            existing_type=sa.BOOLEAN(),
            comment="Whether the evidence requirement retry_count_recorded holds for the packet.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "pricing_source_checked",
            existing_type=sa.BOOLEAN(),
            comment="Whether the evidence requirement pricing_source_checked holds for the packet.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "allocation_rule_checked",
            existing_type=sa.BOOLEAN(),
            comment="Whether the evidence requirement allocation_rule_checked holds for the packet.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "result",
            existing_type=sa.VARCHAR(length=4),
            comment="pass when every evidence requirement holds, else fail.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "failed_requirements",
            existing_type=sa.TEXT(),
            comment="JSON array of the evidence requirements that fail, in the SPEC's order.",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "notes",
            existing_type=sa.TEXT(),
            comment="One line per failed requirement: what is missing and who must supply it.",
            existing_nullable=False,
        )
        batch_op.create_index(
            "ux_review_packets_grain", ["cycle_id", "workload_tag", "request_class"], unique=True
        )
    _backfill_review_packets()
    with op.batch_alter_table("review_packets", schema=None) as batch_op:
        batch_op.alter_column("cached_prompt_tokens", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("cache_write_tokens", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("reasoning_tokens", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("gateway_retries", existing_type=sa.BigInteger(), nullable=False)

    with op.batch_alter_table("stg_source_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cached_prompt_tokens", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("cache_write_tokens", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("reasoning_tokens", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("service_tier", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("gateway_retries", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("source_ip_key", sa.String(length=32), nullable=True))
        batch_op.drop_column("source_ip_known")
        batch_op.drop_column("api_key_known")


def downgrade() -> None:
    raise NotImplementedError("a ledger is upgraded, never downgraded: restore the backup")
