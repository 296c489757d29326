-- Where each record read by the cycle's run lands (SPEC 4.1), before grouping.
-- exact_duplicate: its parsed object equals one read before (first read is kept).
-- quarantined: a defect (or a later record reusing an attempt_id with other
--   content), timestamped in this cycle or with no usable timestamp.
-- other_cycle: a defective record timestamped in another cycle, or a valid
--   attempt outside the read window.
-- in_window: a valid attempt of the read window; grouping decides whether its
--   logical request belongs to this cycle.
WITH records AS (
    SELECT
        read_seq,
        defect,
        attempt_id,
        ts_us,
        CASE
            WHEN content_sha256 IS NULL THEN 1
            ELSE ROW_NUMBER() OVER (PARTITION BY content_sha256 ORDER BY read_seq)
        END AS content_copy
    FROM {{ ref('stg_source_records') }}
    WHERE cycle_id = :cycle_id
),
kept AS (
    SELECT
        read_seq,
        defect,
        ts_us,
        content_copy,
        CASE
            WHEN content_copy = 1 AND defect IS NULL
                THEN ROW_NUMBER() OVER (
                    PARTITION BY CASE WHEN content_copy = 1 AND defect IS NULL
                                      THEN attempt_id END
                    ORDER BY read_seq)
        END AS id_copy
    FROM records
),
reasoned AS (
    SELECT
        read_seq,
        ts_us,
        content_copy,
        CASE
            WHEN defect IS NOT NULL THEN defect
            WHEN id_copy > 1 THEN 'duplicate_attempt_id'
        END AS reason
    FROM kept
)
SELECT
    :cycle_id AS cycle_id,
    read_seq,
    CASE
        WHEN content_copy > 1 THEN 'exact_duplicate'
        WHEN reason IS NOT NULL
             AND (ts_us IS NULL OR (ts_us >= :cycle_start_us AND ts_us < :cycle_end_us))
            THEN 'quarantined'
        WHEN reason IS NOT NULL THEN 'other_cycle'
        WHEN ts_us >= :read_start_us AND ts_us < :read_end_us THEN 'in_window'
        ELSE 'other_cycle'
    END AS disposition,
    CASE WHEN content_copy > 1 THEN NULL ELSE reason END AS reason
FROM reasoned
