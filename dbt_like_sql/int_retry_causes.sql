-- Retry causes (SPEC 4.3). For retry k with p = attempt k-1 and f = the first
-- attempt, the first rule that holds, in this order:
--   unfamiliar_request_source > scheduled_maintenance > timeout >
--   platform_response > client_handling > unknown.
-- An orphan retry (the earliest attempt reports client_retry_count > 0, so its
-- own first attempt is missing from the log) is a retry with cause unknown.
WITH attempts AS (
    SELECT
        g.read_seq,
        g.attempt_id,
        g.attempt_index,
        s.client_retry_count,
        s.api_key_id,
        s.api_key_known,
        s.source_ip_known,
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
flagged AS (
    SELECT
        a.*,
        CASE WHEN a.attempt_index = 0 AND COALESCE(a.client_retry_count, 0) > 0
             THEN 1 ELSE 0 END AS orphan,
        CASE WHEN EXISTS (
            SELECT 1 FROM {{ ref('stg_maintenance_windows') }} AS m
            WHERE m.cycle_id = :cycle_id
              AND a.prev_ts_us >= m.window_start_us AND a.prev_ts_us < m.window_end_us
        ) THEN 1 ELSE 0 END AS prev_in_maintenance
    FROM attempts AS a
)
SELECT
    :cycle_id AS cycle_id,
    read_seq,
    attempt_id,
    CASE WHEN attempt_index > 0 OR orphan = 1 THEN TRUE ELSE FALSE END AS is_retry,
    CASE WHEN orphan = 1 THEN TRUE ELSE FALSE END AS is_orphan_retry,
    CASE
        WHEN attempt_index = 0 AND orphan = 0 THEN NULL
        WHEN orphan = 1 THEN 'unknown'
        WHEN api_key_id <> first_api_key_id
             OR api_key_known = FALSE
             OR source_ip_known = FALSE
            THEN 'unfamiliar_request_source'
        WHEN prev_in_maintenance = 1 THEN 'scheduled_maintenance'
        WHEN prev_status IN (408, 504, 524)
             OR prev_error_type IN ('timeout', 'read_timeout', 'connect_timeout')
             OR (prev_status IS NULL AND prev_latency_ms >= :client_timeout_ms)
            THEN 'timeout'
        WHEN ((prev_status IN (409, 429)
               OR (prev_status BETWEEN 500 AND 599 AND prev_status <> 504))
              AND COALESCE(prev_error_type, '') <> 'insufficient_quota')
             OR prev_error_type IN ('rate_limit', 'server_error', 'overloaded')
            THEN 'platform_response'
        WHEN prev_status BETWEEN 200 AND 299
             OR prev_status BETWEEN 400 AND 499
             OR prev_error_type = 'insufficient_quota'
            THEN 'client_handling'
        ELSE 'unknown'
    END AS retry_cause
FROM flagged
