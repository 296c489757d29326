"""What every column of every published table means (SPEC 2.1, 4.1, 5), declared once.

The Dagster column schema of each asset shows these descriptions
(``defs/metadata.column_schema``); the same text is meant to become the database's
column comments. A published table (``ledger.PUBLISHED_TABLES``) must document every
column (``tests/test_column_docs.py``); descriptions of tables other branches declare
(``budget_reviews``, ``billing_reconciliation``) are here too, from the SPEC.

Retry-cause and requirement columns take their meaning from ``contract.py``.
"""

from __future__ import annotations

from tokenreview_pipeline.contract import PACKET_CAUSE_ORDER, REQUIREMENTS

_CYCLE = "The review cycle: its first day (YYYY-MM-DD, UTC), the Dagster partition key."

#: SPEC 2.1 request-log fields as stored on an attempt.
RECORD_FIELD_DOCS = {
    "attempt_id": "The attempt's id, unique across request_attempts (SPEC 4.1).",
    "timestamp": "When the attempt started (UTC).",
    "request_id": "The client's id of the logical request, when it sends one.",
    "client_retry_count": "The client's own count of earlier tries of this request.",
    "api_key_id": "The API key's id (never the key), redacted if it looked like a secret.",
    "source_ip": "The client address the attempt came from.",
    "model": "The model the attempt called.",
    "endpoint": "The API endpoint called, e.g. /v1/chat/completions.",
    "status_code": "The HTTP status returned; null when no response arrived.",
    "error_type": "The provider's error type, when the attempt failed.",
    "latency_ms": "Time to the response, in milliseconds.",
    "prompt_tokens": "Input tokens (cached and cache-write tokens are parts of them).",
    "completion_tokens": "Output tokens (reasoning tokens are a part of them).",
    "attempt_environment": "The environment the record itself names (environment is the "
    "allocated one).",
    "environment": "The environment allocation assigned (production, staging, ...).",
    "tags": "The record's tags (JSON object of string to string), content fields removed.",
    "prompt_fingerprint": "A hash identifying the prompt, used to group attempts without "
    "request_id (SPEC 4.2).",
    "cached_prompt_tokens": "Input tokens read from the provider's prompt cache.",
    "cache_write_tokens": "Input tokens written to the provider's prompt cache.",
    "reasoning_tokens": "Output tokens spent on reasoning.",
    "service_tier": "The service tier, normalized (standard for absent, default, auto).",
    "gateway_retries": "Retries a gateway made inside this one attempt.",
}

_CAUSE_DOCS = {
    c.packet_column: f"Retries whose cause is {c.name}: {c.meaning}." for c in PACKET_CAUSE_ORDER
}
_REQUIREMENT_DOCS = {
    r.packet_column: f"Whether the evidence requirement {r.name} holds for the packet."
    for r in REQUIREMENTS
    if r.packet_column
}

COLUMN_DOCS: dict[str, dict[str, str]] = {
    "request_attempts": {
        "cycle_id": _CYCLE,
        **RECORD_FIELD_DOCS,
        "logical_request_id": "The logical request (first attempt and its retries) the "
        "attempt belongs to.",
        "grouping_path": "How it was grouped (SPEC 4.2): request_id, fingerprint or single.",
        "attempt_index": "Its position in the logical request; 0 is the first attempt.",
        "is_retry": "Whether the attempt is a retry (every attempt after the first).",
        "is_orphan_retry": "A retry whose first attempt is missing from the log.",
        "retry_cause": "Why the retry was needed (SPEC 4.3), read off the attempt before it; "
        "null for a first attempt.",
        "allocation_rule_id": "The allocation rule that matched the logical request; null "
        "when none did.",
        "owner_tag": "The team that owns the spend (allocation).",
        "workload_tag": "What the spend is allocated to; unallocated when no rule matched.",
        "request_class": "The kind of request within the workload (allocation or "
        "tags.request_class).",
        "pricing_snapshot_id": "The pricing snapshot the cost was computed with.",
        "above_prompt_tokens": "The long-context band that priced the attempt (its "
        "threshold N: prompt_tokens exceeded N), null for none; with pricing_snapshot_id, "
        "model and service_tier it names the pricing_snapshot_prices row.",
        "cost_unknown_reason": "Why cost_usd is null: no_snapshot, model_not_priced, "
        "tier_not_priced or cached_input_not_priced; null when priced.",
        "cache_savings_usd": "What prompt caching saved: cached tokens at the uncached input "
        "price minus what they cost; null when the cost is unknown.",
        "cost_usd": "The attempt's estimated cost in USD; null when its model, tier or "
        "token classes are not priced.",
    },
    "quarantined_records": {
        "cycle_id": _CYCLE,
        "read_seq": "The record's position in the run's read order.",
        "source_name": "The file (or HTTP source) the record came from.",
        "source_line": "Its line in the file (1-based), when read from a file.",
        "source_page": "Its page, when read from the HTTP log export.",
        "reason": "The first defect found (SPEC 4.1), e.g. malformed_json or missing_field:model.",
        "attempt_id": "The record's attempt_id, when it could be read.",
        "timestamp": "The record's timestamp, when it could be read.",
        "raw_redacted": "The raw record, secrets redacted and content fields removed, at "
        "most 4 KiB.",
    },
    "extraction_runs": {
        "cycle_id": _CYCLE,
        "run_id": "The Dagster run that extracted the cycle (its latest run).",
        "extracted_at": "When the extraction ran (UTC).",
        "source_kind": "The request-log source: files or http.",
        "source_location": "Where it was read from (folder or URL, without credentials).",
        "records_read": "Records read: attempts_staged + records_quarantined + "
        "exact_duplicates + other_cycle_records.",
        "attempts_staged": "Valid attempts of logical requests that belong to the cycle.",
        "records_quarantined": "Defective records that belong to the cycle (timestamped in "
        "it, or with no usable timestamp).",
        "exact_duplicates": "Records identical to one read before, dropped.",
        "other_cycle_records": "Everything else read: valid records outside the read window "
        "or of another cycle's logical requests, defective records of another cycle.",
        "redacted_values": "Values replaced because they looked like secrets (SPEC 2.5).",
    },
    "review_packets": {
        "cycle_id": _CYCLE,
        "cycle_start": "The cycle's start (inclusive, UTC).",
        "cycle_end": "The cycle's end (exclusive, UTC).",
        "review_date": "The review's date; defaults to the run's UTC date.",
        "workload_tag": "The workload the packet reviews.",
        "request_class": "The request class the packet reviews.",
        "owner_tag": "The single owner_tag of the packet's logical requests; null if none or "
        "several.",
        "environment": "The single environment of the packet's logical requests; null if "
        "none or several.",
        "logical_requests": "Logical requests in the packet (an orphan retry's too).",
        "attempts": "Attempts: first_attempts + retry_attempts.",
        "first_attempts": "First attempts of logical requests.",
        "retry_attempts": "Retries: every attempt after the first (orphans included).",
        **_CAUSE_DOCS,
        "orphan_retries": "Retries whose first attempt is missing from the log.",
        "retry_share": "retry_attempts / attempts.",
        "prompt_tokens": "Input tokens of all attempts.",
        "completion_tokens": "Output tokens of all attempts.",
        "retry_tokens": "Tokens (input and output) of retry attempts, orphans included.",
        "cached_prompt_tokens": "Cached input tokens, summed over the packet's attempts.",
        "cache_write_tokens": "Cache-write input tokens, summed over the packet's attempts.",
        "reasoning_tokens": "Reasoning output tokens, summed over the packet's attempts.",
        "gateway_retries": "Gateway retries, summed over the packet's attempts.",
        "est_cost_usd": "Estimated cost in USD; null when any attempt's cost is unknown.",
        "cache_savings_usd": "Sum of the attempts' cache savings (cached tokens at the input "
        "price minus what they cost); null when any attempt's cost is unknown.",
        "retry_cost_usd": "Estimated cost of the retries; null when any cost is unknown.",
        "retry_cost_share": "retry_cost_usd / est_cost_usd; null when unknown or zero.",
        "unit_metric": "The unit cost's metric: cost_per_1k_tokens or cost_per_successful_request.",
        "unit_cost": "est_cost_usd per unit_metric; null when the cost is unknown or the "
        "denominator is zero.",
        "pricing_snapshot_id": "The pricing snapshot used (SHA-256 of the fetched bytes).",
        "pricing_source_url": "Where that snapshot's prices were published.",
        "pricing_accessed_at": "When that snapshot was fetched (UTC).",
        "source_urls": "JSON array: the pricing source URL, then the evidence sources' URLs "
        "in file order.",
        "allocation_rule_ids": "JSON array of the allocation rules that matched, sorted.",
        **_REQUIREMENT_DOCS,
        "result": "pass when every evidence requirement holds, else fail.",
        "failed_requirements": "JSON array of the evidence requirements that fail, in the "
        "SPEC's order.",
        "notes": "One line per failed requirement: what is missing and who must supply it.",
    },
    "focus_charges": {
        "cycle_id": _CYCLE,
        "workload_tag": "The workload charged.",
        "request_class": "The request class charged.",
        "model": "The model charged.",
        "x_ChargeKind": "input, cached_input, cache_write, output, reasoning or request.",
        "x_ServiceTier": "The service tier, normalized.",
        "BilledCost": "The estimated cost (FOCUS: billed cost; an estimate here).",
        "EffectiveCost": "The estimated cost (FOCUS: effective cost; an estimate here).",
        "ListCost": "The estimated cost at list price: PricingQuantity * ListUnitPrice.",
        "ContractedCost": "The estimated cost (FOCUS: contracted cost; an estimate here).",
        "BillingCurrency": "USD.",
        "BillingAccountId": "The provider_name of the config.",
        "BillingAccountName": "The provider_name of the config.",
        "BillingPeriodStart": "The cycle's start (UTC).",
        "BillingPeriodEnd": "The cycle's end (UTC, exclusive).",
        "ChargePeriodStart": "The cycle's start (UTC).",
        "ChargePeriodEnd": "The cycle's end (UTC, exclusive).",
        "ChargeCategory": "Usage.",
        "ChargeClass": "Null (no corrections).",
        "ChargeDescription": "The charge in words, e.g. gpt-4o-mini cached input tokens.",
        "ChargeFrequency": "Usage-Based.",
        "PricingCategory": "Standard.",
        "PricingQuantity": "The quantity in PricingUnit (1M Tokens or Requests).",
        "PricingUnit": "1M Tokens or Requests.",
        "ConsumedQuantity": "The quantity in ConsumedUnit (Tokens or Requests).",
        "ConsumedUnit": "Tokens or Requests.",
        "ListUnitPrice": "The price per PricingUnit from the pricing snapshot.",
        "ContractedUnitPrice": "The price per PricingUnit from the pricing snapshot.",
        "ServiceCategory": "AI and Machine Learning.",
        "ServiceSubcategory": "The FOCUS service subcategory of LLM API usage.",
        "ServiceName": "The provider_name of the config.",
        "ServiceProviderName": "The provider_name of the config.",
        "HostProviderName": "The provider_name of the config.",
        "ProviderName": "The provider_name of the config.",
        "PublisherName": "The provider_name of the config.",
        "InvoiceIssuerName": "The provider_name of the config.",
        "SkuId": "<model>/<charge kind>[/<tier>][/above_<N>].",
        "SkuPriceId": "The snapshot id's first 16 hex characters, ':', the SkuId.",
        "SkuPriceDetails": "JSON: TokenDirection, TokenCacheAction, ServiceTier, ModelId.",
        "ResourceId": "The workload and request class charged.",
        "ResourceName": "The workload and request class charged.",
        "ResourceType": "The kind of resource charged.",
        "SubAccountId": "The owner_tag, when known.",
        "SubAccountName": "The owner_tag, when known.",
        "RegionId": "Null (not known from the request log).",
        "RegionName": "Null (not known from the request log).",
        "Tags": "JSON object with exactly owner_tag, workload_tag, environment, request_class.",
        "AllocatedMethodId": "tokenreview-allocation-rules.",
        "AllocatedMethodDetails": 'JSON object {"rule_ids": [...]}, sorted.',
        "AllocatedResourceId": "<workload_tag>/<request_class>.",
        "AllocatedTags": "The same as Tags.",
        "x_RetryQuantity": "The same quantity, of retry attempts only.",
        "x_RetryCost": "The estimated cost of the retry attempts.",
        "x_AbovePromptTokens": "The long-context entry applied (its above_prompt_tokens), "
        "null for none.",
        "AllocatedResourceName": "The workload and request class the charge is allocated to.",
        "x_PricingSnapshotId": "The pricing snapshot used.",
        "x_PricingSourceUrl": "Where that snapshot's prices were published.",
        "x_AllocationRuleIds": "JSON array of the allocation rules that matched, sorted.",
        "x_PacketResult": "The result (pass/fail) of the packet the charge belongs to.",
        "x_CostIsEstimate": "Always true: costs are estimates from the request log.",
    },
    "budget_reviews": {
        "cycle_id": _CYCLE,
        "review_date": "The review's date.",
        "workload_tag": "The workload reviewed.",
        "owner_tag": "The packets' owner_tag when every packet has the same non-null one.",
        "packets": "The workload's packets in the cycle.",
        "packets_passed": "Those with result = pass.",
        "est_cost_usd": "Sum of its packets' estimated cost; null when any is null or it has "
        "no packets.",
        "retry_cost_usd": "Sum of its packets' retry cost; null when any is null or it has "
        "no packets.",
        "previous_est_cost_usd": "The same sum in the cycle one cadence earlier; null when "
        "the ledger has none.",
        "previous_retry_cost_usd": "The same sum in the cycle one cadence earlier; null when "
        "the ledger has none.",
        "cost_change_usd": "est_cost_usd - previous_est_cost_usd.",
        "retry_cost_change_usd": "retry_cost_usd - previous_retry_cost_usd.",
        "budget_usd": "The budget that applies (budgets.yaml), else null.",
        "budget_variance_usd": "est_cost_usd - budget_usd.",
        "budget_used_share": "est_cost_usd / budget_usd.",
        "requested_budget_usd": "The change request for this cycle, else null.",
        "requested_by": "Who requested the change.",
        "decision": "no_change_requested, paused or ready_for_review.",
        "pause_reasons": "JSON array of the pause requirements that fail, in SPEC order.",
        "notes": "One line per pause reason: what is missing and who must supply it.",
    },
    "billing_reconciliation": {
        "cycle_id": _CYCLE,
        "model": "The model estimated or billed.",
        "estimated_cost_usd": "Sum of the cycle's request_attempts.cost_usd of the model; "
        "null when any is null or there are none.",
        "billed_cost_usd": "Sum of the billed rows' cost_usd dated in the cycle; null when "
        "there are none.",
        "estimated_tokens": "Prompt + completion tokens of the cycle's attempts of the "
        "model (0 when none).",
        "billed_tokens": "Prompt + completion tokens billed; null unless every billed row "
        "has both token cells.",
        "difference_usd": "billed_cost_usd - estimated_cost_usd.",
        "difference_share": "difference_usd / billed_cost_usd (null when either is null or "
        "billed is 0).",
        "status": "not_billed, not_estimated, matched (within "
        "thresholds.max_billing_gap_share, or both 0) or gap.",
    },
}


def column_doc(table: str, column: str) -> str | None:
    return COLUMN_DOCS.get(table, {}).get(column)
