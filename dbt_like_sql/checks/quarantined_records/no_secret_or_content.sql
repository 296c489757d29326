-- severity: error
-- Quarantined raw text keeps no secret (a token starting like sk-..., Bearer ..., a JWT)
-- and no content field (contract.CONTENT_FIELDS), and stays <= 4 KiB.
SELECT read_seq, source_name, source_line, reason
FROM {{ this }}
WHERE cycle_id = :cycle_id
  AND (
       raw_redacted LIKE '%"sk-____________________%'
    OR raw_redacted LIKE '% sk-____________________%'
    OR raw_redacted LIKE 'sk-____________________%'
    OR raw_redacted LIKE '%"Bearer %'
    OR raw_redacted LIKE '%"eyJ%.%.%"%'
{% for field in content_fields %}
    OR raw_redacted LIKE {{ ('%"' ~ field ~ '":%') | sql_string }}
{% endfor %}
    OR length(raw_redacted) > 4096
  )
