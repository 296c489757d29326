-- One review packet per (cycle, workload_tag, request_class) with at least one
-- attempt in the cycle (SPEC 5): counts, retry causes, tokens by class, gateway
-- retries, estimated cost, what prompt caching saved,
-- unit cost, the pricing snapshot used, the evidence source URLs, and the ten
-- evidence requirements in the SPEC's order (declared in contract.REQUIREMENTS). A packet passes when all hold;
-- notes carry one line per failed requirement saying what is missing and who
-- must supply it (the packet's owner, or the pipeline operator when the owner
-- is unknown or the fix is in the pipeline's configuration).
-- metadata: packet_table
WITH attempts AS (
    SELECT
        a.*,
        MAX(a.attempt_index) OVER (PARTITION BY a.logical_request_id) AS last_index
    FROM {{ ref('request_attempts') }} AS a
    WHERE a.cycle_id = :cycle_id
),
pricing AS (
    SELECT pricing_snapshot_id, pricing_source_url, pricing_accessed_at, pricing_age_days
    FROM {{ ref('int_cycle_pricing') }}
    WHERE cycle_id = :cycle_id
),
evidence AS (
    SELECT
        {{ json_array_agg('url', 'position') }} AS urls_json,
        COUNT(*) AS sources,
        SUM(CASE WHEN {{ days_between(':review_date', 'accessed_on') }} > :max_source_age_days
                 THEN 1 ELSE 0 END) AS stale_sources
    FROM (
        SELECT url, position, accessed_on
        FROM {{ ref('stg_evidence_sources') }}
        WHERE cycle_id = :cycle_id
        ORDER BY position
    ) AS ordered_sources
),
rule_ids AS (
    SELECT
        workload_tag,
        request_class,
        {{ json_array_agg('allocation_rule_id', 'allocation_rule_id') }} AS allocation_rule_ids
    FROM (
        SELECT DISTINCT workload_tag, request_class, allocation_rule_id
        FROM attempts
        ORDER BY workload_tag, request_class, allocation_rule_id
    ) AS distinct_rules
    GROUP BY workload_tag, request_class
),
packets AS (
    SELECT
        workload_tag,
        request_class,
        COUNT(DISTINCT owner_tag) AS owner_count,
        SUM(CASE WHEN owner_tag IS NULL THEN 1 ELSE 0 END) AS attempts_without_owner,
        MAX(owner_tag) AS any_owner,
        COUNT(DISTINCT environment) AS environment_count,
        SUM(CASE WHEN environment IS NULL THEN 1 ELSE 0 END) AS attempts_without_environment,
        MAX(environment) AS any_environment,
        COUNT(DISTINCT logical_request_id) AS logical_requests,
        COUNT(*) AS attempts,
        SUM(CASE WHEN is_retry THEN 0 ELSE 1 END) AS first_attempts,
        SUM(CASE WHEN is_retry THEN 1 ELSE 0 END) AS retry_attempts,
{% for cause in packet_causes %}
        SUM(CASE WHEN retry_cause = {{ cause.name | sql_string }} THEN 1 ELSE 0 END)
            AS {{ cause.packet_column }},
{% endfor %}
        SUM(CASE WHEN is_orphan_retry THEN 1 ELSE 0 END) AS orphan_retries,
        SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens,
        SUM(CASE WHEN is_retry THEN prompt_tokens + completion_tokens ELSE 0 END)
            AS retry_tokens,
{% for kind in charge_kinds if kind.packet_column %}
        SUM({{ kind.packet_column }}) AS {{ kind.packet_column }},
{% endfor %}
        SUM(gateway_retries) AS gateway_retries,
        SUM(cache_savings_usd) AS cache_savings_sum,
        SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced_attempts,
        SUM(cost_usd) AS cost_sum,
        SUM(CASE WHEN is_retry THEN cost_usd ELSE 0 END) AS retry_cost_sum,
        COUNT(DISTINCT CASE WHEN attempt_index = last_index
                             AND status_code BETWEEN 200 AND 299
                            THEN logical_request_id END) AS successful_requests,
        COUNT(DISTINCT CASE WHEN allocation_rule_id IS NULL
                            THEN logical_request_id END) AS unmatched_requests
    FROM attempts
    GROUP BY workload_tag, request_class
),
measured AS (
    SELECT
        p.*,
        CASE WHEN p.owner_count = 1 AND p.attempts_without_owner = 0
             THEN p.any_owner END AS owner_tag,
        CASE WHEN p.environment_count = 1 AND p.attempts_without_environment = 0
             THEN p.any_environment END AS environment,
        CASE WHEN p.unpriced_attempts = 0 THEN p.cost_sum END AS est_cost_usd,
        CASE WHEN p.unpriced_attempts = 0 THEN p.retry_cost_sum END AS retry_cost_usd,
        CASE WHEN p.unpriced_attempts = 0 THEN p.cache_savings_sum END AS cache_savings_usd
    FROM packets AS p
),
-- What the snapshot does not price, per packet: "<model>, <tier> tier: <why>" for each
-- distinct reason (request_attempts.cost_unknown_reason), in code point order.
unpriced AS (
    SELECT
        workload_tag,
        request_class,
        {{ text_agg('what', "'; '", code_point('what')) }} AS unpriced_prices
    FROM (
        SELECT DISTINCT
            workload_tag,
            request_class,
            model || ', ' || service_tier || ' tier: ' || CASE cost_unknown_reason
{% for reason in unpriced_reasons %}
                WHEN {{ reason.name | sql_string }} THEN {{ reason.words | sql_string }}
{% endfor %}
            END AS what
        FROM attempts
        WHERE cost_usd IS NULL
        ORDER BY workload_tag, request_class, what
    ) AS unpriced_rows
    GROUP BY workload_tag, request_class
),
costed AS (
    SELECT
        m.*,
        CASE WHEN m.est_cost_usd <> 0 THEN m.retry_cost_usd / m.est_cost_usd END
            AS retry_cost_share,
        CASE
            WHEN :unit_metric = 'cost_per_1k_tokens'
                 AND m.prompt_tokens + m.completion_tokens > 0
                THEN m.est_cost_usd * 1000 / (m.prompt_tokens + m.completion_tokens)
            WHEN :unit_metric = 'cost_per_successful_request' AND m.successful_requests > 0
                THEN m.est_cost_usd / m.successful_requests
        END AS unit_cost,
        CASE WHEN m.owner_tag IS NOT NULL THEN 'owner ' || m.owner_tag
             ELSE 'the pipeline operator (owner unknown)' END AS supplier
    FROM measured AS m
),
-- Every measure a requirement's condition or note reads (contract.REQUIREMENTS).
measures AS (
    SELECT
        c.*,
        pr.pricing_snapshot_id,
        pr.pricing_source_url,
        pr.pricing_accessed_at,
        pr.pricing_age_days,
        ev.urls_json AS evidence_urls_json,
        ev.sources AS evidence_sources,
        COALESCE(ev.stale_sources, 0) AS stale_evidence_sources,
        u.unpriced_prices
    FROM costed AS c
    CROSS JOIN pricing AS pr
    CROSS JOIN evidence AS ev
    LEFT JOIN unpriced AS u
        ON u.workload_tag = c.workload_tag
       AND (u.request_class = c.request_class
            OR (u.request_class IS NULL AND c.request_class IS NULL))
),
-- ok_<requirement>: 1 when the requirement holds.
requirements AS (
    SELECT
        m.*,
{% for r in requirements %}
        CASE WHEN {{ r.holds }} THEN 1 ELSE 0 END AS ok_{{ r.name }}{{ "," if not loop.last }}
{% endfor %}
    FROM measures AS m
),
-- The failed requirements (a JSON list body) and their note lines, in SPEC order.
failures AS (
    SELECT
        r.*,
{% for r in requirements %}
        {{ "|| " if not loop.first }}CASE WHEN ok_{{ r.name }} = 0
            THEN {{ (',"' ~ r.name ~ '"') | sql_string }} ELSE '' END
{% endfor %}
            AS failed_list,
{% for r in requirements %}
        {{ "|| " if not loop.first }}CASE WHEN ok_{{ r.name }} = 0
            THEN {{ r | note_sql }} || {{ newline() }} ELSE '' END
{% endfor %}
            AS notes_list
    FROM requirements AS r
)
SELECT
    :cycle_id AS cycle_id,
    :cycle_start AS cycle_start,
    :cycle_end AS cycle_end,
    :review_date AS review_date,
    f.workload_tag,
    f.request_class,
    f.owner_tag,
    f.environment,
    f.logical_requests,
    f.attempts,
    f.first_attempts,
    f.retry_attempts,
{% for cause in packet_causes %}
    f.{{ cause.packet_column }},
{% endfor %}
    f.orphan_retries,
    f.retry_attempts * 1.0 / f.attempts AS retry_share,
    f.prompt_tokens,
    f.completion_tokens,
    f.retry_tokens,
{% for kind in charge_kinds if kind.packet_column %}
    f.{{ kind.packet_column }},
{% endfor %}
    f.gateway_retries,
    f.est_cost_usd,
    f.retry_cost_usd,
    f.retry_cost_share,
    :unit_metric AS unit_metric,
    f.unit_cost,
    f.cache_savings_usd,
    f.pricing_snapshot_id,
    f.pricing_source_url,
    f.pricing_accessed_at,
    CASE
        WHEN f.pricing_snapshot_id IS NULL THEN f.evidence_urls_json
        WHEN f.evidence_sources = 0 THEN '[' || {{ json_string('f.pricing_source_url') }} || ']'
        ELSE '[' || {{ json_string('f.pricing_source_url') }} || ','
             || substr(f.evidence_urls_json, 2)
    END AS source_urls,
    ri.allocation_rule_ids,
{% for r in requirements if r.packet_column %}
    CASE WHEN f.ok_{{ r.name }} = 1 THEN TRUE ELSE FALSE END AS {{ r.packet_column }},
{% endfor %}
    CASE WHEN f.failed_list = '' THEN 'pass' ELSE 'fail' END AS result,
    '[' || substr(f.failed_list, 2) || ']' AS failed_requirements,
    CASE WHEN f.notes_list = '' THEN ''
         ELSE substr(f.notes_list, 1, length(f.notes_list) - 1) END AS notes
FROM failures AS f
JOIN rule_ids AS ri
    ON ri.workload_tag = f.workload_tag
   AND (ri.request_class = f.request_class
        OR (ri.request_class IS NULL AND f.request_class IS NULL))
