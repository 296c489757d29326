-- Where every record read by the cycle's latest run went (SPEC 4.1):
-- records_read = attempts_staged + records_quarantined + exact_duplicates
--                + other_cycle_records.
-- other_cycle_records: defective records timestamped in another cycle, valid
-- records outside the read window, and read-window attempts of logical requests
-- that began in another cycle. redacted_values counts values replaced in staged
-- attempts. One row per cycle, replaced by each run (run_id names the run).
-- metadata: extraction_counts
WITH dispositions AS (
    SELECT
        SUM(CASE WHEN disposition = 'quarantined' THEN 1 ELSE 0 END) AS quarantined,
        SUM(CASE WHEN disposition = 'exact_duplicate' THEN 1 ELSE 0 END) AS duplicates,
        SUM(CASE WHEN disposition = 'other_cycle' THEN 1 ELSE 0 END) AS other_cycle,
        SUM(CASE WHEN disposition = 'in_window' THEN 1 ELSE 0 END) AS in_window
    FROM {{ ref('int_classified_records') }}
    WHERE cycle_id = :cycle_id
),
grouped AS (
    SELECT COUNT(*) AS attempts
    FROM {{ ref('int_grouped_attempts') }}
    WHERE cycle_id = :cycle_id
),
staged AS (
    SELECT
        (SELECT COUNT(*) FROM {{ ref('request_attempts') }} WHERE cycle_id = :cycle_id)
            AS attempts,
        (SELECT COALESCE(SUM(s.redacted_values), 0)
         FROM {{ ref('int_grouped_attempts') }} AS g
         JOIN {{ ref('stg_source_records') }} AS s
             ON s.cycle_id = g.cycle_id AND s.read_seq = g.read_seq
         WHERE g.cycle_id = :cycle_id) AS redacted
)
SELECT
    e.cycle_id,
    e.run_id,
    e.extracted_at,
    e.source_kind,
    e.source_location,
    e.records_read,
    st.attempts AS attempts_staged,
    COALESCE(d.quarantined, 0) AS records_quarantined,
    COALESCE(d.duplicates, 0) AS exact_duplicates,
    COALESCE(d.other_cycle, 0) + COALESCE(d.in_window, 0) - gr.attempts AS other_cycle_records,
    st.redacted AS redacted_values
FROM {{ ref('stg_extract_runs') }} AS e
CROSS JOIN dispositions AS d
CROSS JOIN grouped AS gr
CROSS JOIN staged AS st
WHERE e.cycle_id = :cycle_id
