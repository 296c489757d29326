-- The estimate reconciled with the provider's own usage records (SPEC 5 "Billing
-- reconciliation"), only when `billing` is configured: one row per (cycle, model) with
-- attempts in the cycle's request_attempts or billed rows dated in the cycle
-- (stg_billed_usage holds exactly those). Sums are null when there is nothing to sum
-- (or, for the estimate, when any attempt's cost is unknown); billed tokens are known
-- only when every billed row has both token cells. Status: not_billed (no billed rows),
-- not_estimated (billed, estimate unknown), matched (the difference's share of the
-- bill is at most thresholds.max_billing_gap_share, or both sums are 0), else gap.
WITH estimated AS (
    SELECT
        model,
        CASE WHEN COUNT(*) = COUNT(cost_usd) THEN SUM(cost_usd) END AS cost_usd,
        SUM(prompt_tokens + completion_tokens) AS tokens
    FROM {{ ref('request_attempts') }}
    WHERE cycle_id = :cycle_id
    GROUP BY model
),
billed AS (
    SELECT
        model,
        SUM(cost_usd) AS cost_usd,
        CASE WHEN COUNT(prompt_tokens) = COUNT(*) AND COUNT(completion_tokens) = COUNT(*)
             THEN SUM(prompt_tokens + completion_tokens) END AS tokens
    FROM {{ ref('stg_billed_usage') }}
    WHERE cycle_id = :cycle_id
    GROUP BY model
),
models AS (
    SELECT model FROM estimated
    UNION
    SELECT model FROM billed
),
compared AS (
    SELECT
        m.model,
        e.cost_usd AS estimated_cost_usd,
        b.cost_usd AS billed_cost_usd,
        COALESCE(e.tokens, 0) AS estimated_tokens,
        b.tokens AS billed_tokens,
        b.cost_usd - e.cost_usd AS difference_usd,
        CASE WHEN b.cost_usd <> 0 THEN (b.cost_usd - e.cost_usd) / b.cost_usd END
            AS difference_share
    FROM models AS m
    LEFT JOIN estimated AS e ON e.model = m.model
    LEFT JOIN billed AS b ON b.model = m.model
)
SELECT
    :cycle_id AS cycle_id,
    c.model,
    c.estimated_cost_usd,
    c.billed_cost_usd,
    c.estimated_tokens,
    c.billed_tokens,
    c.difference_usd,
    c.difference_share,
    CASE
        WHEN c.billed_cost_usd IS NULL THEN {{ billing_status.not_billed | sql_string }}
        WHEN c.estimated_cost_usd IS NULL THEN {{ billing_status.not_estimated | sql_string }}
        WHEN (c.billed_cost_usd = 0 AND c.estimated_cost_usd = 0)
             OR {{ share_at_most('ABS(c.difference_share)', ':max_billing_gap_share') }}
            THEN {{ billing_status.matched | sql_string }}
        ELSE {{ billing_status.gap | sql_string }}
    END AS status
FROM compared AS c
WHERE :billing_configured
