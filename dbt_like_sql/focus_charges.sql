-- The cycle's estimated charges as FinOps FOCUS 1.2 rows: one per (cycle,
-- workload_tag, request_class, model, charge kind input / output / request).
-- Costs are estimates from the pricing snapshot (x_CostIsEstimate is always
-- true); BilledCost = EffectiveCost = ListCost = ContractedCost = the estimate.
-- Tokens are priced per 1M tokens, the request charge per successful (2xx)
-- attempt. A model missing from the snapshot has null costs and prices.
WITH usage AS (
    SELECT
        a.workload_tag,
        a.request_class,
        a.model,
        a.pricing_snapshot_id,
        MAX(a.owner_tag) AS owner_tag,
        CASE WHEN COUNT(DISTINCT a.owner_tag) = 1
                  AND SUM(CASE WHEN a.owner_tag IS NULL THEN 1 ELSE 0 END) = 0
             THEN MAX(a.owner_tag) END AS single_owner,
        CASE WHEN COUNT(DISTINCT a.environment) = 1
                  AND SUM(CASE WHEN a.environment IS NULL THEN 1 ELSE 0 END) = 0
             THEN MAX(a.environment) END AS single_environment,
        SUM(a.prompt_tokens) AS prompt_tokens,
        SUM(a.completion_tokens) AS completion_tokens,
        SUM(CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END) AS successes,
        SUM(CASE WHEN a.is_retry THEN a.prompt_tokens ELSE 0 END) AS retry_prompt_tokens,
        SUM(CASE WHEN a.is_retry THEN a.completion_tokens ELSE 0 END)
            AS retry_completion_tokens,
        SUM(CASE WHEN a.is_retry AND a.status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END)
            AS retry_successes
    FROM {{ ref('request_attempts') }} AS a
    WHERE a.cycle_id = :cycle_id
    GROUP BY a.workload_tag, a.request_class, a.model, a.pricing_snapshot_id
),
priced AS (
    SELECT
        u.*,
        pr.input_per_1m,
        pr.output_per_1m,
        pr.per_request,
        p.pricing_source_url,
        p.allocation_rule_ids,
        p.result AS packet_result
    FROM usage AS u
    JOIN {{ ref('review_packets') }} AS p
        ON p.cycle_id = :cycle_id AND p.workload_tag = u.workload_tag
       AND (p.request_class = u.request_class
            OR (p.request_class IS NULL AND u.request_class IS NULL))
    LEFT JOIN {{ ref('pricing_snapshot_prices') }} AS pr
        ON pr.snapshot_id = u.pricing_snapshot_id AND pr.model = u.model
),
charges AS (
    SELECT priced.*, 'input' AS charge_kind,
           prompt_tokens * 1.0 AS consumed, 'Tokens' AS consumed_unit,
           prompt_tokens / 1e6 AS pricing_quantity, '1M Tokens' AS pricing_unit,
           input_per_1m AS unit_price,
           prompt_tokens * input_per_1m / 1e6 AS cost,
           retry_prompt_tokens * 1.0 AS retry_quantity,
           retry_prompt_tokens * input_per_1m / 1e6 AS retry_cost
    FROM priced
    UNION ALL
    SELECT priced.*, 'output',
           completion_tokens * 1.0, 'Tokens',
           completion_tokens / 1e6, '1M Tokens',
           output_per_1m,
           completion_tokens * output_per_1m / 1e6,
           retry_completion_tokens * 1.0,
           retry_completion_tokens * output_per_1m / 1e6
    FROM priced
    UNION ALL
    SELECT priced.*, 'request',
           successes * 1.0, 'Requests',
           successes * 1.0, 'Requests',
           per_request,
           successes * per_request,
           retry_successes * 1.0,
           retry_successes * per_request
    FROM priced
)
SELECT
    :cycle_id AS cycle_id,
    workload_tag,
    request_class,
    model,
    charge_kind,
    cost AS "BilledCost",
    cost AS "EffectiveCost",
    cost AS "ListCost",
    cost AS "ContractedCost",
    'USD' AS "BillingCurrency",
    :provider_name AS "BillingAccountId",
    :provider_name AS "BillingAccountName",
    :cycle_start AS "BillingPeriodStart",
    :cycle_end AS "BillingPeriodEnd",
    :cycle_start AS "ChargePeriodStart",
    :cycle_end AS "ChargePeriodEnd",
    'Usage' AS "ChargeCategory",
    CAST(NULL AS TEXT) AS "ChargeClass",
    model || ' ' || charge_kind || ' charge for workload ' || workload_tag
        AS "ChargeDescription",
    'Usage-Based' AS "ChargeFrequency",
    'Standard' AS "PricingCategory",
    pricing_quantity AS "PricingQuantity",
    pricing_unit AS "PricingUnit",
    consumed AS "ConsumedQuantity",
    consumed_unit AS "ConsumedUnit",
    unit_price AS "ListUnitPrice",
    unit_price AS "ContractedUnitPrice",
    'AI and Machine Learning' AS "ServiceCategory",
    'Generative AI' AS "ServiceSubcategory",
    :provider_name AS "ServiceName",
    :provider_name AS "ProviderName",
    :provider_name AS "PublisherName",
    :provider_name AS "InvoiceIssuerName",
    model AS "SkuId",
    model || ':' || charge_kind AS "SkuPriceId",
    workload_tag || '/' || COALESCE(request_class, '') AS "ResourceId",
    workload_tag AS "ResourceName",
    'LLM workload' AS "ResourceType",
    single_owner AS "SubAccountId",
    single_owner AS "SubAccountName",
    CAST(NULL AS TEXT) AS "RegionId",
    CAST(NULL AS TEXT) AS "RegionName",
    '{"owner_tag":'
        || CASE WHEN single_owner IS NULL THEN 'null'
                ELSE {{ json_string('single_owner') }} END
        || ',"workload_tag":' || {{ json_string('workload_tag') }}
        || ',"environment":'
        || CASE WHEN single_environment IS NULL THEN 'null'
                ELSE {{ json_string('single_environment') }} END
        || ',"request_class":'
        || CASE WHEN request_class IS NULL THEN 'null'
                ELSE {{ json_string('request_class') }} END
        || '}' AS "Tags",
    retry_quantity AS "x_RetryQuantity",
    retry_cost AS "x_RetryCost",
    pricing_snapshot_id AS "x_PricingSnapshotId",
    pricing_source_url AS "x_PricingSourceUrl",
    allocation_rule_ids AS "x_AllocationRuleIds",
    packet_result AS "x_PacketResult",
    TRUE AS "x_CostIsEstimate"
FROM charges
