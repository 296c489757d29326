-- severity: error
-- No secret (SPEC 2.5: contract.SECRET_PATTERNS, anywhere in a value, not right after
-- an ASCII letter or digit) in any text column, and no content field
-- (contract.CONTENT_FIELDS) as a tag key. The extractor redacts and drops them; this is
-- the safety net. An attempt_id that itself holds a secret is not shown.
-- LIKE is case-insensitive on SQLite, which can only add false alarms, never hide one.
SELECT
    CASE WHEN {{ has_secret('attempt_id') }} THEN '(withheld: holds a secret)'
         ELSE attempt_id END AS attempt_id
FROM {{ this }}
WHERE cycle_id = :cycle_id
  AND (
       {{ has_secret(*text_columns('request_attempts')) }}
{% for field in content_fields %}
    OR tags LIKE {{ ('%"' ~ field ~ '":%') | sql_string }}
{% endfor %}
  )
