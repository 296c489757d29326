-- severity: warn
-- Models whose estimate does not match the provider's bill (status other than
-- matched): reported at WARN with each model, its status and the difference.
SELECT
    model, status, estimated_cost_usd, billed_cost_usd, difference_usd, difference_share
FROM {{ this }}
WHERE cycle_id = :cycle_id AND status <> {{ billing_status.matched | sql_string }}
ORDER BY {{ code_point('model') }}
