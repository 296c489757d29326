-- severity: error
-- Packet totals reconcile with request_attempts: attempts, logical requests,
-- first and retry attempts, retries by cause, tokens of every class, gateway
-- retries, and cost (at 1e-6).
WITH packet_totals AS (
    SELECT
        COALESCE(SUM(attempts), 0) AS attempts,
        COALESCE(SUM(logical_requests), 0) AS logical_requests,
        COALESCE(SUM(first_attempts), 0) AS first_attempts,
        COALESCE(SUM(retry_attempts), 0) AS retry_attempts,
        COALESCE(SUM(
{% for cause in packet_causes %}
            {{ "+ " if not loop.first }}{{ cause.packet_column }}
{% endfor %}
        ), 0) AS retries_by_cause,
        COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
        COALESCE(SUM(completion_tokens), 0) AS completion_tokens,
{% for kind in charge_kinds if kind.packet_column %}
        COALESCE(SUM({{ kind.packet_column }}), 0) AS {{ kind.packet_column }},
{% endfor %}
        COALESCE(SUM(gateway_retries), 0) AS gateway_retries,
        COALESCE(SUM(est_cost_usd), 0) AS known_cost,
        SUM(CASE WHEN first_attempts + retry_attempts <> attempts THEN 1 ELSE 0 END)
            AS inconsistent_packets
    FROM {{ this }}
    WHERE cycle_id = :cycle_id
),
attempt_totals AS (
    SELECT
        COUNT(*) AS attempts,
        COUNT(DISTINCT logical_request_id) AS logical_requests,
        SUM(CASE WHEN is_retry THEN 0 ELSE 1 END) AS first_attempts,
        SUM(CASE WHEN is_retry THEN 1 ELSE 0 END) AS retry_attempts,
        COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
        COALESCE(SUM(completion_tokens), 0) AS completion_tokens,
{% for kind in charge_kinds if kind.packet_column %}
        COALESCE(SUM({{ kind.packet_column }}), 0) AS {{ kind.packet_column }},
{% endfor %}
        COALESCE(SUM(gateway_retries), 0) AS gateway_retries
    FROM {{ ref('request_attempts') }}
    WHERE cycle_id = :cycle_id
),
priced_attempt_cost AS (
    SELECT COALESCE(SUM(a.cost_usd), 0) AS known_cost
    FROM {{ ref('request_attempts') }} AS a
    JOIN {{ this }} AS p
        ON p.cycle_id = a.cycle_id AND p.workload_tag = a.workload_tag
       AND (p.request_class = a.request_class
            OR (p.request_class IS NULL AND a.request_class IS NULL))
    WHERE a.cycle_id = :cycle_id AND p.est_cost_usd IS NOT NULL
)
SELECT
    p.attempts AS packet_attempts, a.attempts AS ledger_attempts,
    p.logical_requests AS packet_logical_requests, a.logical_requests AS ledger_logical_requests,
    p.prompt_tokens AS packet_prompt_tokens, a.prompt_tokens AS ledger_prompt_tokens,
    p.known_cost AS packet_cost, c.known_cost AS ledger_cost,
    p.inconsistent_packets
FROM packet_totals AS p
CROSS JOIN attempt_totals AS a
CROSS JOIN priced_attempt_cost AS c
WHERE p.attempts <> a.attempts
   OR p.logical_requests <> a.logical_requests
   OR p.first_attempts <> COALESCE(a.first_attempts, 0)
   OR p.retry_attempts <> COALESCE(a.retry_attempts, 0)
   OR p.retries_by_cause <> p.retry_attempts
   OR p.prompt_tokens <> a.prompt_tokens
   OR p.completion_tokens <> a.completion_tokens
{% for kind in charge_kinds if kind.packet_column %}
   OR p.{{ kind.packet_column }} <> a.{{ kind.packet_column }}
{% endfor %}
   OR p.gateway_retries <> a.gateway_retries
   OR ABS(p.known_cost - c.known_cost) > 0.000001
   OR p.inconsistent_packets > 0
