-- severity: warn
-- Change requests paused until their evidence is complete: a finding for the
-- requesters and owners before the review meeting, reported at WARN with each paused
-- workload, its owner and requester, its pause_reasons and its budget variance.
SELECT workload_tag, owner_tag, requested_by, decision, pause_reasons, budget_variance_usd
FROM {{ this }}
WHERE cycle_id = :cycle_id AND decision = {{ budget_decision.paused | sql_string }}
ORDER BY {{ code_point('workload_tag') }}
