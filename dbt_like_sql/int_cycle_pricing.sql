-- The pricing snapshot that prices the cycle's review (SPEC 4.4): the newest
-- snapshot whose accessed_at is on or before the end of review_date. One row per
-- cycle; the snapshot columns are null when no snapshot applies.
WITH chosen AS (
    SELECT snapshot_id, source_url, accessed_at, accessed_on
    FROM {{ ref('pricing_snapshots') }}
    WHERE accessed_at < :review_date_end
    ORDER BY accessed_at DESC, snapshot_id
    LIMIT 1
)
SELECT
    :cycle_id AS cycle_id,
    :review_date AS review_date,
    c.snapshot_id AS pricing_snapshot_id,
    c.source_url AS pricing_source_url,
    c.accessed_at AS pricing_accessed_at,
    {{ days_between(':review_date', 'c.accessed_on') }} AS pricing_age_days
FROM (SELECT 1 AS one) AS run
LEFT JOIN chosen AS c ON 1 = 1
