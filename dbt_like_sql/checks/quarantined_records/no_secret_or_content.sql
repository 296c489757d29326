-- severity: error
-- Quarantined rows keep no secret (SPEC 2.5: contract.SECRET_PATTERNS, anywhere, in any
-- text column, the raw text included) and no content field (contract.CONTENT_FIELDS) as
-- a key of the raw text, which stays <= 4 KiB. A source name that holds a secret is
-- not shown.
SELECT
    read_seq,
    CASE WHEN {{ has_secret('source_name') }} THEN '(withheld: holds a secret)'
         ELSE source_name END AS source_name,
    source_line,
    reason
FROM {{ this }}
WHERE cycle_id = :cycle_id
  AND (
       {{ has_secret(*text_columns('quarantined_records')) }}
{% for field in content_fields %}
    OR raw_redacted LIKE {{ ('%"' ~ field ~ '":%') | sql_string }}
{% endfor %}
    OR length(raw_redacted) > 4096
  )
