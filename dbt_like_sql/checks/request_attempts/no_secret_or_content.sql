-- severity: error
-- No secret (sk-..., Bearer ..., a JWT) in any text column, and no content field
-- (prompt, messages, ...) smuggled into tags. LIKE is case-insensitive on SQLite,
-- which can only add false alarms, never hide a secret.
SELECT attempt_id
FROM {{ this }}
WHERE cycle_id = :cycle_id
  AND (
       api_key_id LIKE 'sk-%' OR api_key_id LIKE 'Bearer %' OR api_key_id LIKE 'eyJ%.%.%'
    OR attempt_id LIKE 'sk-%' OR attempt_id LIKE 'Bearer %' OR attempt_id LIKE 'eyJ%.%.%'
    OR COALESCE(request_id, '') LIKE 'sk-%' OR COALESCE(request_id, '') LIKE 'Bearer %'
    OR COALESCE(request_id, '') LIKE 'eyJ%.%.%'
    OR tags LIKE '%"sk-%' OR tags LIKE '%"Bearer %' OR tags LIKE '%"eyJ%.%.%'
    OR COALESCE(attempt_environment, '') LIKE 'sk-%'
    OR COALESCE(attempt_environment, '') LIKE 'Bearer %'
    OR model LIKE 'sk-%' OR endpoint LIKE 'sk-%'
    OR tags LIKE '%"messages"%' OR tags LIKE '%"prompt"%' OR tags LIKE '%"response"%'
    OR tags LIKE '%"completion"%' OR tags LIKE '%"authorization"%'
  )
