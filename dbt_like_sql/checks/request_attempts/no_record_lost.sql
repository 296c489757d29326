-- severity: error
-- No record lost (SPEC 4.1): the records the extractor read equal the rows it
-- staged, and records_read = attempts_staged + records_quarantined +
-- exact_duplicates + other_cycle_records, where attempts_staged is counted in the
-- built table and other_cycle_records independently of it.
WITH counts AS (
    SELECT
        (SELECT MAX(records_read) FROM {{ ref('stg_extract_runs') }}
         WHERE cycle_id = :cycle_id) AS records_read,
        (SELECT COUNT(*) FROM {{ ref('stg_source_records') }}
         WHERE cycle_id = :cycle_id) AS records_landed,
        (SELECT COUNT(*) FROM {{ this }} WHERE cycle_id = :cycle_id) AS attempts_staged,
        (SELECT COUNT(*) FROM {{ ref('int_classified_records') }}
         WHERE cycle_id = :cycle_id AND disposition = 'quarantined') AS records_quarantined,
        (SELECT COUNT(*) FROM {{ ref('int_classified_records') }}
         WHERE cycle_id = :cycle_id AND disposition = 'exact_duplicate') AS exact_duplicates,
        (SELECT COUNT(*) FROM {{ ref('int_classified_records') }} AS c
         WHERE c.cycle_id = :cycle_id
           AND (c.disposition = 'other_cycle'
                OR (c.disposition = 'in_window'
                    AND NOT EXISTS (SELECT 1 FROM {{ ref('int_grouped_attempts') }} AS g
                                    WHERE g.cycle_id = c.cycle_id
                                      AND g.read_seq = c.read_seq)))) AS other_cycle_records
)
SELECT *
FROM counts
WHERE records_read IS NULL
   OR records_read <> records_landed
   OR records_read <> attempts_staged + records_quarantined + exact_duplicates
                      + other_cycle_records
