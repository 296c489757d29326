-- Defective records of the cycle (SPEC 4.1): those timestamped in the cycle and
-- those with no usable timestamp. Each keeps its source (file and line, or page),
-- the reason, and the redacted raw text without content fields (at most 4 KiB).
-- metadata: quarantine_reasons
SELECT
    s.cycle_id,
    s.read_seq,
    s.source_name,
    s.source_line,
    s.source_page,
    c.reason,
    s.attempt_id,
    s."timestamp",
    s.raw_redacted
FROM {{ ref('int_classified_records') }} AS c
JOIN {{ ref('stg_source_records') }} AS s
    ON s.cycle_id = c.cycle_id AND s.read_seq = c.read_seq
WHERE c.cycle_id = :cycle_id AND c.disposition = 'quarantined'
