-- severity: warn
-- returns: status
-- The pricing snapshot that applies at the review date (the one int_cycle_pricing
-- chose) exists and is at most pricing.max_age_days old. last_fetch_error is the
-- error of the latest fetch when it failed (the last snapshot is kept meanwhile).
SELECT
    CASE WHEN c.pricing_snapshot_id IS NOT NULL
              AND c.pricing_age_days <= :pricing_max_age_days
         THEN 1 ELSE 0 END AS passed,
    COALESCE(c.pricing_snapshot_id, '') AS snapshot_id,
    c.pricing_accessed_at AS accessed_at,
    COALESCE(c.pricing_age_days, -1) AS age_days,
    :pricing_max_age_days AS max_age_days,
    COALESCE((SELECT latest.error
              FROM (SELECT f.succeeded, f.error
                    FROM {{ ref('pricing_fetches') }} AS f
                    ORDER BY f.fetched_at DESC
                    LIMIT 1) AS latest
              WHERE NOT latest.succeeded), '') AS last_fetch_error
FROM {{ this }} AS c
WHERE c.cycle_id = :cycle_id
