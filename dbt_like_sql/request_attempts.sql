-- One row per staged attempt: the attempt's own fields (redacted, no content),
-- its logical request and position, retry cause, the allocation decided on the
-- request's first attempt (SPEC 2.2), and its cost (SPEC 4.4):
-- prompt_tokens * input_per_1m / 1e6 + completion_tokens * output_per_1m / 1e6
-- + per_request when the status is 2xx; null when the model is not priced.
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
    s."{{ field.name }}"{{ " AS attempt_environment" if field.name == "environment" }},
{% endfor %}
    d.allocation_rule_id,
    d.owner_tag,
    d.workload_tag,
    d.environment,
    d.request_class,
    p.pricing_snapshot_id,
    CASE
        WHEN pr.model IS NULL THEN NULL
        ELSE s.prompt_tokens * pr.input_per_1m / 1e6
             + s.completion_tokens * pr.output_per_1m / 1e6
             + CASE WHEN s.status_code BETWEEN 200 AND 299 THEN pr.per_request ELSE 0 END
    END AS cost_usd
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
    ON pr.snapshot_id = p.pricing_snapshot_id AND pr.model = s.model
WHERE g.cycle_id = :cycle_id
