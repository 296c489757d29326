-- severity: error
-- No secret (a value starting like sk-..., Bearer ..., a JWT) in any text column, and no
-- content field (contract.CONTENT_FIELDS) smuggled into tags. LIKE is case-insensitive
-- on SQLite, which can only add false alarms, never hide a secret.
SELECT attempt_id
FROM {{ this }}
WHERE cycle_id = :cycle_id
  AND (
{% for pattern in secret_patterns %}
       {{ "OR " if not loop.first }}api_key_id LIKE {{ pattern | sql_string }}
    OR attempt_id LIKE {{ pattern | sql_string }}
    OR COALESCE(request_id, '') LIKE {{ pattern | sql_string }}
    OR COALESCE(attempt_environment, '') LIKE {{ pattern | sql_string }}
    OR model LIKE {{ pattern | sql_string }}
    OR endpoint LIKE {{ pattern | sql_string }}
    OR tags LIKE {{ ('%"' ~ pattern) | sql_string }}
{% endfor %}
{% for field in content_fields %}
    OR tags LIKE {{ ('%"' ~ field ~ '"%') | sql_string }}
{% endfor %}
  )
