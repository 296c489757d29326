-- severity: warn
-- Workloads whose estimated cost exceeds the budget that applies (by more than 1e-6
-- USD, the precision costs are compared at): reported at WARN with each workload, its
-- decision, pause_reasons, budget and variance.
SELECT
    workload_tag, decision, pause_reasons, est_cost_usd, budget_usd, budget_variance_usd,
    budget_used_share
FROM {{ this }}
WHERE cycle_id = :cycle_id AND budget_variance_usd > 0.000001
ORDER BY {{ code_point('workload_tag') }}
