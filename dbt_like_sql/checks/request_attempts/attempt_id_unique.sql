-- severity: error
-- attempt_id is unique across request_attempts: within the cycle's build, and
-- against every other cycle already published.
SELECT b.attempt_id, COUNT(*) AS copies
FROM {{ this }} AS b
WHERE b.cycle_id = :cycle_id
GROUP BY b.attempt_id
HAVING COUNT(*) > 1
UNION ALL
SELECT b.attempt_id, 2 AS copies
FROM {{ this }} AS b
JOIN {{ published('request_attempts') }} AS other
    ON other.attempt_id = b.attempt_id AND other.cycle_id <> b.cycle_id
WHERE b.cycle_id = :cycle_id
