-- severity: error
-- Quarantined raw text keeps no secret and no content field, and stays <= 4 KiB.
SELECT read_seq, source_name, source_line, reason
FROM {{ this }}
WHERE cycle_id = :cycle_id
  AND (
       raw_redacted LIKE '%"sk-____________________%'
    OR raw_redacted LIKE '% sk-____________________%'
    OR raw_redacted LIKE 'sk-____________________%'
    OR raw_redacted LIKE '%"Bearer %'
    OR raw_redacted LIKE '%"eyJ%.%.%"%'
    OR raw_redacted LIKE '%"messages":%' OR raw_redacted LIKE '%"prompt":%'
    OR raw_redacted LIKE '%"input":%' OR raw_redacted LIKE '%"response":%'
    OR raw_redacted LIKE '%"output":%' OR raw_redacted LIKE '%"choices":%'
    OR raw_redacted LIKE '%"content":%' OR raw_redacted LIKE '%"completion":%'
    OR raw_redacted LIKE '%"authorization":%' OR raw_redacted LIKE '%"headers":%'
    OR raw_redacted LIKE '%"api_key":%'
    OR length(raw_redacted) > 4096
  )
