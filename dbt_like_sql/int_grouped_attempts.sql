-- Grouping attempts into logical requests (SPEC 4.2), over the read window.
-- Path request_id: one logical request per request_id.
-- Path fingerprint: per (api_key_id, model, endpoint, prompt_fingerprint) in time
--   order, an attempt joins the previous attempt's request when it starts at most
--   fingerprint_window_s after it, the previous attempt was not 2xx, and its own
--   client_retry_count is not 0 (absent is not 0); otherwise it starts a new one.
-- Path single: any other attempt is a logical request on its own.
-- Within a request: order by timestamp, client_retry_count (absent = 0), attempt_id.
-- Only requests whose earliest attempt lies in [cycle_start, cycle_end) are kept.
--
-- Boundary ownership: the grouping runs twice, partitioned by view_name. 'own' is
-- this cycle's read window; 'next' is the part the next cycle's run reads
-- (from cycle_end - retry_span_s). An attempt after cycle_end is kept only when
-- the next cycle's view also puts its request before cycle_end, so a request
-- longer than retry_span_s is never claimed by two cycles, whatever order the
-- cycles are run in.
WITH window_attempts AS (
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
attempts AS (
    SELECT 'own' AS view_name, w.* FROM window_attempts AS w
    UNION ALL
    SELECT 'next' AS view_name, w.* FROM window_attempts AS w
    WHERE w.ts_us >= :cycle_end_us - :retry_span_us
),
fingerprint_steps AS (
    SELECT
        view_name,
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
        PARTITION BY view_name, api_key_id, model, endpoint, prompt_fingerprint
        ORDER BY ts_us, retry_order, attempt_id
    )
),
fingerprint_chains AS (
    SELECT
        view_name,
        read_seq,
        attempt_id,
        ts_us,
        retry_order,
        api_key_id,
        model,
        endpoint,
        prompt_fingerprint,
        SUM(starts_request) OVER (
            PARTITION BY view_name, api_key_id, model, endpoint, prompt_fingerprint
            ORDER BY ts_us, retry_order, attempt_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS chain_no
    FROM fingerprint_steps
),
assigned AS (
    SELECT view_name, read_seq, attempt_id, ts_us, retry_order,
           'rid:' || request_id AS logical_request_id, 'request_id' AS grouping_path
    FROM attempts
    WHERE request_id IS NOT NULL
    UNION ALL
    SELECT view_name, read_seq, attempt_id, ts_us, retry_order,
           'fp:' || FIRST_VALUE(attempt_id) OVER (
               PARTITION BY view_name, api_key_id, model, endpoint, prompt_fingerprint,
                            chain_no
               ORDER BY ts_us, retry_order, attempt_id
           ) AS logical_request_id,
           'fingerprint' AS grouping_path
    FROM fingerprint_chains
    UNION ALL
    SELECT view_name, read_seq, attempt_id, ts_us, retry_order,
           'att:' || attempt_id AS logical_request_id, 'single' AS grouping_path
    FROM attempts
    WHERE request_id IS NULL AND prompt_fingerprint IS NULL
),
ordered AS (
    SELECT
        view_name,
        read_seq,
        attempt_id,
        logical_request_id,
        grouping_path,
        ts_us,
        ROW_NUMBER() OVER request_order - 1 AS attempt_index,
        MIN(ts_us) OVER (PARTITION BY view_name, logical_request_id) AS request_start_us,
        FIRST_VALUE(read_seq) OVER request_order AS first_read_seq
    FROM assigned
    WINDOW request_order AS (
        PARTITION BY view_name, logical_request_id ORDER BY ts_us, retry_order, attempt_id
    )
)
SELECT
    :cycle_id AS cycle_id,
    o.read_seq,
    o.attempt_id,
    o.logical_request_id,
    o.grouping_path,
    o.attempt_index,
    o.ts_us,
    o.request_start_us,
    o.first_read_seq
FROM ordered AS o
WHERE o.view_name = 'own'
  AND o.request_start_us >= :cycle_start_us
  AND o.request_start_us < :cycle_end_us
  AND (o.ts_us < :cycle_end_us
       OR o.read_seq IN (SELECT n.read_seq FROM ordered AS n
                         WHERE n.view_name = 'next'
                           AND n.request_start_us < :cycle_end_us))
