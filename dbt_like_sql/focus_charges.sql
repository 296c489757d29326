-- The cycle's estimated charges as FinOps FOCUS 1.3 rows (every FOCUS 1.2 column kept):
-- one per (workload_tag, request_class, model, service tier, long-context entry or
-- none, pricing snapshot, charge kind) with a non-zero quantity. The charge kinds
-- (contract.CHARGE_KINDS) split each attempt's tokens without overlap: uncached
-- input, cached input, cache writes, non-reasoning output, reasoning; and its
-- request when 2xx. A row's quantity is the sum over the group's attempts, its unit
-- price the group's price row (SPEC 4.4 defaults applied), its cost quantity x unit
-- price by the same macro as request_attempts.cost_usd, so a packet's rows sum to its
-- est_cost_usd. A group holding an attempt of unknown cost has null costs and unit
-- prices (its quantities stay). BilledCost = EffectiveCost = ListCost = ContractedCost
-- = the estimate (x_CostIsEstimate is always true).
WITH usage AS (
    SELECT
        a.workload_tag,
        a.request_class,
        a.model,
        a.service_tier,
        a.above_prompt_tokens,
        a.pricing_snapshot_id,
{% for kind in charge_kinds %}
        SUM({{ charge_quantity(kind, 'a.') }}) AS q_{{ kind.name }},
        SUM(CASE WHEN a.is_retry THEN {{ charge_quantity(kind, 'a.') }} ELSE 0 END)
            AS rq_{{ kind.name }},
{% endfor %}
        SUM(CASE WHEN a.cost_usd IS NULL THEN 1 ELSE 0 END) AS unknown_attempts
    FROM {{ ref('request_attempts') }} AS a
    WHERE a.cycle_id = :cycle_id
    GROUP BY a.workload_tag, a.request_class, a.model, a.service_tier,
             a.above_prompt_tokens, a.pricing_snapshot_id
),
priced AS (
    SELECT
        u.*,
{% for key in price_keys %}
        pr.{{ key }},
{% endfor %}
        p.owner_tag,
        p.environment,
        p.pricing_source_url,
        p.allocation_rule_ids,
        p.result AS packet_result
    FROM usage AS u
    JOIN {{ ref('review_packets') }} AS p
        ON p.cycle_id = :cycle_id AND p.workload_tag = u.workload_tag
       AND (p.request_class = u.request_class
            OR (p.request_class IS NULL AND u.request_class IS NULL))
    LEFT JOIN {{ ref('pricing_snapshot_prices') }} AS pr
        ON pr.snapshot_id = u.pricing_snapshot_id
       AND pr.model = u.model
       AND pr.service_tier = u.service_tier
       AND (pr.above_prompt_tokens = u.above_prompt_tokens
            OR (pr.above_prompt_tokens IS NULL AND u.above_prompt_tokens IS NULL))
),
charges AS (
{% for kind in charge_kinds %}
    SELECT
        priced.*,
        {{ kind.name | sql_string }} AS charge_kind,
        {{ kind.words | sql_string }} AS charge_words,
        {{ kind.pricing_unit | sql_string }} AS pricing_unit,
        {{ kind.consumed_unit | sql_string }} AS consumed_unit,
        {{ kind.per }} AS per_unit,
        '{'
{% if kind.token_direction %}
            || '"TokenDirection":' || {{ kind.token_direction | tojson | sql_string }} || ','
{% endif %}
{% if kind.token_cache_action %}
            || '"TokenCacheAction":' || {{ kind.token_cache_action | tojson | sql_string }} || ','
{% endif %}
            || '"ServiceTier":' || {{ json_string('service_tier') }}
            || ',"ModelId":' || {{ json_string('model') }} || '}' AS sku_price_details,
        q_{{ kind.name }} AS consumed,
        rq_{{ kind.name }} AS retry_consumed,
        CASE WHEN unknown_attempts = 0 THEN {{ charge_price(kind, '') }} END AS unit_price,
        CASE WHEN unknown_attempts = 0
             THEN {{ charge_cost(kind, 'q_' ~ kind.name, '') }} END AS cost,
        CASE WHEN unknown_attempts = 0
             THEN {{ charge_cost(kind, 'rq_' ~ kind.name, '') }} END AS retry_cost
    FROM priced
    WHERE q_{{ kind.name }} <> 0
{% if not loop.last %}
    UNION ALL
{% endif %}
{% endfor %}
),
described AS (
    SELECT
        c.*,
        c.model || '/' || c.charge_kind
            || CASE WHEN c.service_tier <> {{ standard_tier | sql_string }}
                    THEN '/' || c.service_tier ELSE '' END
            || CASE WHEN c.above_prompt_tokens IS NOT NULL
                    THEN '/above_' || CAST(c.above_prompt_tokens AS TEXT) ELSE '' END
            AS sku_id,
        '{'
{% for key in focus.tag_keys %}
            || {{ (('' if loop.first else ',') ~ '"' ~ key ~ '":') | sql_string }}
            || CASE WHEN c.{{ key }} IS NULL THEN 'null' ELSE {{ json_string('c.' ~ key) }} END
{% endfor %}
            || '}' AS tags,
        c.workload_tag || '/' || COALESCE(c.request_class, '') AS resource_id
    FROM charges AS c
)
SELECT
    :cycle_id AS cycle_id,
    workload_tag,
    request_class,
    model,
{% for column in focus.cost_columns %}
    cost AS "{{ column }}",
{% endfor %}
    'USD' AS "BillingCurrency",
    :provider_name AS "BillingAccountId",
    :provider_name AS "BillingAccountName",
    :cycle_start AS "BillingPeriodStart",
    :cycle_end AS "BillingPeriodEnd",
    :cycle_start AS "ChargePeriodStart",
    :cycle_end AS "ChargePeriodEnd",
    {{ focus.charge_category | sql_string }} AS "ChargeCategory",
    CAST(NULL AS TEXT) AS "ChargeClass",
    model || ' ' || charge_words
        || CASE WHEN service_tier <> {{ standard_tier | sql_string }}
                THEN ', ' || service_tier || ' tier' ELSE '' END
        || CASE WHEN above_prompt_tokens IS NOT NULL
                THEN ', prompts over ' || CAST(above_prompt_tokens AS TEXT) || ' tokens'
                ELSE '' END
        AS "ChargeDescription",
    'Usage-Based' AS "ChargeFrequency",
    'Standard' AS "PricingCategory",
    consumed * 1.0 / per_unit AS "PricingQuantity",
    pricing_unit AS "PricingUnit",
    consumed AS "ConsumedQuantity",
    consumed_unit AS "ConsumedUnit",
{% for column in focus.unit_price_columns %}
    unit_price AS "{{ column }}",
{% endfor %}
    {{ focus.service_category | sql_string }} AS "ServiceCategory",
    'Generative AI' AS "ServiceSubcategory",
{% for column in focus.provider_columns %}
    :provider_name AS "{{ column }}",
{% endfor %}
    sku_id AS "SkuId",
    substr(pricing_snapshot_id, 1, 16) || ':' || sku_id AS "SkuPriceId",
    sku_price_details AS "SkuPriceDetails",
    resource_id AS "ResourceId",
    workload_tag AS "ResourceName",
    'LLM workload' AS "ResourceType",
    owner_tag AS "SubAccountId",
    owner_tag AS "SubAccountName",
    CAST(NULL AS TEXT) AS "RegionId",
    CAST(NULL AS TEXT) AS "RegionName",
    tags AS "Tags",
    {{ focus.allocation_method | sql_string }} AS "AllocatedMethodId",
    '{"rule_ids":' || allocation_rule_ids || '}' AS "AllocatedMethodDetails",
    resource_id AS "AllocatedResourceId",
    resource_id AS "AllocatedResourceName",
    tags AS "AllocatedTags",
    charge_kind AS "x_ChargeKind",
    service_tier AS "x_ServiceTier",
    above_prompt_tokens AS "x_AbovePromptTokens",
    retry_consumed AS "x_RetryQuantity",
    retry_cost AS "x_RetryCost",
    pricing_snapshot_id AS "x_PricingSnapshotId",
    pricing_source_url AS "x_PricingSourceUrl",
    allocation_rule_ids AS "x_AllocationRuleIds",
    packet_result AS "x_PacketResult",
    TRUE AS "x_CostIsEstimate"
FROM described
