-- Grouping attempts into logical requests (SPEC 4.2), over the read window.
-- Path request_id: one logical request per request_id.
-- Path fingerprint: per (api_key_id, model, endpoint, prompt_fingerprint) in time
--   order, an attempt joins the previous attempt's request when it starts at most
--   fingerprint_window_s after it, the previous attempt was not 2xx, and its own
--   client_retry_count is not 0 (absent is not 0); otherwise it starts a new one.
-- Path single: any other attempt is a logical request on its own.
-- Within a request: order by timestamp, client_retry_count (absent = 0), attempt_id.
-- Only requests whose earliest attempt lies in [cycle_start, cycle_end) are kept.
WITH attempts AS (
    SELECT
        s.read_seq,
        s.attempt_id,
        s.ts_us,
        s.request_id,
        s.prompt_fingerprint,
        s.api_key_id,
        s.model,
        s.endpoint,
        s.status_code,
        s.client_retry_count,
        COALESCE(s.client_retry_count, 0) AS retry_order
    FROM {{ ref('stg_source_records') }} AS s
    JOIN {{ ref('int_classified_records') }} AS c
        ON c.cycle_id = s.cycle_id AND c.read_seq = s.read_seq
    WHERE s.cycle_id = :cycle_id AND c.disposition = 'in_window'
),
fingerprint_steps AS (
    SELECT
        read_seq,
        attempt_id,
        ts_us,
        retry_order,
        api_key_id,
        model,
        endpoint,
        prompt_fingerprint,
        CASE
            WHEN LAG(ts_us) OVER chain IS NOT NULL
                 AND ts_us - LAG(ts_us) OVER chain <= :fingerprint_window_us
                 AND COALESCE(LAG(status_code) OVER chain, 0) NOT BETWEEN 200 AND 299
                 AND (client_retry_count IS NULL OR client_retry_count <> 0)
                THEN 0
            ELSE 1
        END AS starts_request
    FROM attempts
    WHERE request_id IS NULL AND prompt_fingerprint IS NOT NULL
    WINDOW chain AS (
        PARTITION BY api_key_id, model, endpoint, prompt_fingerprint
        ORDER BY ts_us, retry_order, attempt_id
    )
),
fingerprint_chains AS (
    SELECT
        read_seq,
        attempt_id,
        ts_us,
        retry_order,
        api_key_id,
        model,
        endpoint,
        prompt_fingerprint,
        SUM(starts_request) OVER (
            PARTITION BY api_key_id, model, endpoint, prompt_fingerprint
            ORDER BY ts_us, retry_order, attempt_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS chain_no
    FROM fingerprint_steps
),
assigned AS (
    SELECT read_seq, attempt_id, ts_us, retry_order,
           'rid:' || request_id AS logical_request_id, 'request_id' AS grouping_path
    FROM attempts
    WHERE request_id IS NOT NULL
    UNION ALL
    SELECT read_seq, attempt_id, ts_us, retry_order,
           'fp:' || FIRST_VALUE(attempt_id) OVER (
               PARTITION BY api_key_id, model, endpoint, prompt_fingerprint, chain_no
               ORDER BY ts_us, retry_order, attempt_id
           ) AS logical_request_id,
           'fingerprint' AS grouping_path
    FROM fingerprint_chains
    UNION ALL
    SELECT read_seq, attempt_id, ts_us, retry_order,
           'att:' || attempt_id AS logical_request_id, 'single' AS grouping_path
    FROM attempts
    WHERE request_id IS NULL AND prompt_fingerprint IS NULL
),
ordered AS (
    SELECT
        read_seq,
        attempt_id,
        logical_request_id,
        grouping_path,
        ts_us,
        ROW_NUMBER() OVER (
            PARTITION BY logical_request_id ORDER BY ts_us, retry_order, attempt_id
        ) - 1 AS attempt_index,
        MIN(ts_us) OVER (PARTITION BY logical_request_id) AS request_start_us
    FROM assigned
)
SELECT
    :cycle_id AS cycle_id,
    read_seq,
    attempt_id,
    logical_request_id,
    grouping_path,
    attempt_index,
    ts_us,
    request_start_us
FROM ordered
WHERE request_start_us >= :cycle_start_us AND request_start_us < :cycle_end_us
