-- One row per staged attempt: the attempt's own fields (redacted, no content),
-- its logical request and position, retry cause, the allocation decided on the
-- request's first attempt (SPEC 2.2), and its cost (SPEC 4.4). service_tier is
-- normalized (standard for absent, empty, default, auto). The attempt is priced by
-- the pricing_snapshot_prices row of its model and tier whose band holds its
-- prompt_tokens (above_prompt_tokens records the long-context entry, null: none);
-- cost_usd is the 4.4 formula of sql_templates.attempt_cost, null when a price it
-- needs is unknown, and cost_unknown_reason says which.
SELECT
    g.cycle_id,
    g.attempt_id,
    g.logical_request_id,
    g.grouping_path,
    g.attempt_index,
    r.is_retry,
    r.is_orphan_retry,
    r.retry_cause,
{% for field in record_fields if field.name != 'attempt_id' %}
{% if field.name == 'environment' %}
    s.environment AS attempt_environment,
{% elif field.name == 'service_tier' %}
    {{ normalized_tier('s.service_tier') }} AS service_tier,
{% else %}
    s."{{ field.name }}",
{% endif %}
{% endfor %}
    d.allocation_rule_id,
    d.owner_tag,
    d.workload_tag,
    d.environment,
    d.request_class,
    p.pricing_snapshot_id,
    pr.above_prompt_tokens,
    {{ attempt_cost('s.', 'pr.') }} AS cost_usd,
    CASE
        WHEN p.pricing_snapshot_id IS NULL THEN {{ no_snapshot.name | sql_string }}
        WHEN pr.input_per_1m IS NULL AND NOT EXISTS (
            SELECT 1 FROM {{ ref('pricing_snapshot_prices') }} AS m
            WHERE m.snapshot_id = p.pricing_snapshot_id AND m.model = s.model
        ) THEN {{ model_not_priced.name | sql_string }}
        WHEN pr.input_per_1m IS NULL THEN {{ tier_not_priced.name | sql_string }}
{% for kind in charge_kinds if kind.may_be_unpriced %}
        WHEN {{ unpriced_charge(kind, 's.', 'pr.') }} THEN {{ kind.unpriced.name | sql_string }}
{% endfor %}
    END AS cost_unknown_reason,
    {{ cache_savings('s.', 'pr.') }} AS cache_savings_usd
FROM {{ ref('int_grouped_attempts') }} AS g
JOIN {{ ref('stg_source_records') }} AS s
    ON s.cycle_id = g.cycle_id AND s.read_seq = g.read_seq
JOIN {{ ref('int_retry_causes') }} AS r
    ON r.cycle_id = g.cycle_id AND r.read_seq = g.read_seq
JOIN {{ ref('stg_source_records') }} AS f
    ON f.cycle_id = g.cycle_id AND f.read_seq = g.first_read_seq
LEFT JOIN {{ ref('int_allocation_decisions') }} AS d
    ON d.cycle_id = g.cycle_id AND d.allocation_key = f.allocation_key
JOIN {{ ref('int_cycle_pricing') }} AS p
    ON p.cycle_id = g.cycle_id
LEFT JOIN {{ ref('pricing_snapshot_prices') }} AS pr
    ON pr.snapshot_id = p.pricing_snapshot_id
   AND pr.model = s.model
   AND pr.service_tier = {{ normalized_tier('s.service_tier') }}
   AND s.prompt_tokens >= pr.min_prompt_tokens
   AND (pr.max_prompt_tokens IS NULL OR s.prompt_tokens <= pr.max_prompt_tokens)
WHERE g.cycle_id = :cycle_id
