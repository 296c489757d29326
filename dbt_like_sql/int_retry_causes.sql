-- Retry cause of every retry (SPEC 4.3). For retry k with p = attempt k-1 and f = the
-- first attempt, each condition is a 0/1 flag below; the cause is the first cause of
-- contract.RETRY_CAUSES whose flag is 1, else the fallback cause. An orphan retry (the
-- earliest attempt reports client_retry_count > 0, so its own first attempt is missing
-- from the log) is a retry with the fallback cause.
-- Known sources (stg_known_sources) are compared here: a list that is not configured
-- is not checked; a configured list that is empty matches nothing.
WITH attempts AS (
    SELECT
        g.read_seq,
        g.attempt_id,
        g.attempt_index,
        s.client_retry_count,
        s.api_key_id,
        s.source_ip_key,
        FIRST_VALUE(s.api_key_id) OVER req AS first_api_key_id,
        LAG(s.ts_us) OVER req AS prev_ts_us,
        LAG(s.status_code) OVER req AS prev_status,
        LAG(s.error_type) OVER req AS prev_error_type,
        LAG(s.latency_ms) OVER req AS prev_latency_ms
    FROM {{ ref('int_grouped_attempts') }} AS g
    JOIN {{ ref('stg_source_records') }} AS s
        ON s.cycle_id = g.cycle_id AND s.read_seq = g.read_seq
    WHERE g.cycle_id = :cycle_id
    WINDOW req AS (PARTITION BY g.logical_request_id ORDER BY g.attempt_index)
),
lists AS (
    SELECT
        COALESCE(MAX(CASE WHEN api_key_ids_configured THEN 1 ELSE 0 END), 0) AS keys_listed,
        COALESCE(MAX(CASE WHEN source_cidrs_configured THEN 1 ELSE 0 END), 0)
            AS networks_listed
    FROM {{ ref('stg_known_source_lists') }}
    WHERE cycle_id = :cycle_id
),
flagged AS (
    SELECT
        a.*,
        CASE WHEN a.attempt_index = 0 AND COALESCE(a.client_retry_count, 0) > 0
             THEN 1 ELSE 0 END AS orphan,
        CASE WHEN a.attempt_index > 0 AND (
                a.api_key_id <> a.first_api_key_id
                OR (l.keys_listed = 1 AND NOT EXISTS (
                    SELECT 1 FROM {{ ref('stg_known_sources') }} AS k
                    WHERE k.cycle_id = :cycle_id AND k.api_key_id = a.api_key_id))
                OR (l.networks_listed = 1 AND (a.source_ip_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM {{ ref('stg_known_sources') }} AS k
                    WHERE k.cycle_id = :cycle_id
                      AND a.source_ip_key BETWEEN k.ip_from AND k.ip_to))))
             THEN 1 ELSE 0 END AS source_unfamiliar,
        CASE WHEN EXISTS (
            SELECT 1 FROM {{ ref('stg_maintenance_windows') }} AS m
            WHERE m.cycle_id = :cycle_id
              AND a.prev_ts_us >= m.window_start_us AND a.prev_ts_us < m.window_end_us
        ) THEN 1 ELSE 0 END AS prev_in_maintenance,
        CASE WHEN a.prev_status IN (408, 504, 524)
                  OR a.prev_error_type IN ('timeout', 'read_timeout', 'connect_timeout')
                  OR (a.prev_status IS NULL AND a.prev_latency_ms >= :client_timeout_ms)
             THEN 1 ELSE 0 END AS prev_timed_out,
        CASE WHEN ((a.prev_status IN (409, 429)
                    OR (a.prev_status BETWEEN 500 AND 599 AND a.prev_status <> 504))
                   AND COALESCE(a.prev_error_type, '') <> 'insufficient_quota')
                  OR a.prev_error_type IN ('rate_limit', 'server_error', 'overloaded')
             THEN 1 ELSE 0 END AS prev_platform_error,
        CASE WHEN a.prev_status BETWEEN 200 AND 299
                  OR a.prev_status BETWEEN 400 AND 499
                  OR a.prev_error_type = 'insufficient_quota'
             THEN 1 ELSE 0 END AS prev_client_error
    FROM attempts AS a
    CROSS JOIN lists AS l
)
SELECT
    :cycle_id AS cycle_id,
    read_seq,
    attempt_id,
    CASE WHEN attempt_index > 0 OR orphan = 1 THEN TRUE ELSE FALSE END AS is_retry,
    CASE WHEN orphan = 1 THEN TRUE ELSE FALSE END AS is_orphan_retry,
    CASE
        WHEN attempt_index = 0 AND orphan = 0 THEN NULL
        WHEN orphan = 1 THEN {{ unknown_cause.name | sql_string }}
{% for cause in retry_causes if cause.flag %}
        WHEN {{ cause.flag }} = 1 THEN {{ cause.name | sql_string }}
{% endfor %}
        ELSE {{ unknown_cause.name | sql_string }}
    END AS retry_cause
FROM flagged
