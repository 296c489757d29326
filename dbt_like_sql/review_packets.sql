-- One review packet per (cycle, workload_tag, request_class) with at least one
-- attempt in the cycle (SPEC 5): counts, retry causes, tokens, estimated cost,
-- unit cost, the pricing snapshot used, the evidence source URLs, and the ten
-- evidence requirements in the SPEC's order. A packet passes when all hold;
-- notes carry one line per failed requirement saying what is missing and who
-- must supply it (the packet's owner, or the pipeline operator when the owner
-- is unknown or the fix is in the pipeline's configuration).
WITH attempts AS (
    SELECT
        a.*,
        MAX(a.attempt_index) OVER (PARTITION BY a.logical_request_id) AS last_index
    FROM {{ ref('request_attempts') }} AS a
    WHERE a.cycle_id = :cycle_id
),
pricing AS (
    SELECT pricing_snapshot_id, pricing_source_url, pricing_accessed_at, pricing_age_days
    FROM {{ ref('int_cycle_pricing') }}
    WHERE cycle_id = :cycle_id
),
evidence AS (
    SELECT
        {{ json_array_agg('url', 'position') }} AS urls_json,
        COUNT(*) AS sources,
        SUM(CASE WHEN {{ days_between(':review_date', 'accessed_on') }} > :max_source_age_days
                 THEN 1 ELSE 0 END) AS stale_sources
    FROM (
        SELECT url, position, accessed_on
        FROM {{ ref('stg_evidence_sources') }}
        WHERE cycle_id = :cycle_id
        ORDER BY position
    ) AS ordered_sources
),
rule_ids AS (
    SELECT
        workload_tag,
        request_class,
        {{ json_array_agg('allocation_rule_id', 'allocation_rule_id') }} AS allocation_rule_ids
    FROM (
        SELECT DISTINCT workload_tag, request_class, allocation_rule_id
        FROM attempts
        ORDER BY workload_tag, request_class, allocation_rule_id
    ) AS distinct_rules
    GROUP BY workload_tag, request_class
),
packets AS (
    SELECT
        workload_tag,
        request_class,
        COUNT(DISTINCT owner_tag) AS owner_count,
        SUM(CASE WHEN owner_tag IS NULL THEN 1 ELSE 0 END) AS attempts_without_owner,
        MAX(owner_tag) AS any_owner,
        COUNT(DISTINCT environment) AS environment_count,
        SUM(CASE WHEN environment IS NULL THEN 1 ELSE 0 END) AS attempts_without_environment,
        MAX(environment) AS any_environment,
        COUNT(DISTINCT logical_request_id) AS logical_requests,
        COUNT(*) AS attempts,
        SUM(CASE WHEN is_retry THEN 0 ELSE 1 END) AS first_attempts,
        SUM(CASE WHEN is_retry THEN 1 ELSE 0 END) AS retry_attempts,
        SUM(CASE WHEN retry_cause = 'client_handling' THEN 1 ELSE 0 END)
            AS retries_client_handling,
        SUM(CASE WHEN retry_cause = 'platform_response' THEN 1 ELSE 0 END)
            AS retries_platform_response,
        SUM(CASE WHEN retry_cause = 'timeout' THEN 1 ELSE 0 END) AS retries_timeout,
        SUM(CASE WHEN retry_cause = 'scheduled_maintenance' THEN 1 ELSE 0 END)
            AS retries_scheduled_maintenance,
        SUM(CASE WHEN retry_cause = 'unfamiliar_request_source' THEN 1 ELSE 0 END)
            AS retries_unfamiliar_request_source,
        SUM(CASE WHEN retry_cause = 'unknown' THEN 1 ELSE 0 END) AS retries_unknown,
        SUM(CASE WHEN is_orphan_retry THEN 1 ELSE 0 END) AS orphan_retries,
        SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens,
        SUM(CASE WHEN is_retry THEN prompt_tokens + completion_tokens ELSE 0 END)
            AS retry_tokens,
        SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced_attempts,
        SUM(cost_usd) AS cost_sum,
        SUM(CASE WHEN is_retry THEN cost_usd ELSE 0 END) AS retry_cost_sum,
        COUNT(DISTINCT CASE WHEN attempt_index = last_index
                             AND status_code BETWEEN 200 AND 299
                            THEN logical_request_id END) AS successful_requests,
        COUNT(DISTINCT CASE WHEN allocation_rule_id IS NULL
                            THEN logical_request_id END) AS unmatched_requests
    FROM attempts
    GROUP BY workload_tag, request_class
),
measured AS (
    SELECT
        p.*,
        CASE WHEN p.owner_count = 1 AND p.attempts_without_owner = 0
             THEN p.any_owner END AS owner_tag,
        CASE WHEN p.environment_count = 1 AND p.attempts_without_environment = 0
             THEN p.any_environment END AS environment,
        CASE WHEN p.unpriced_attempts = 0 THEN p.cost_sum END AS est_cost_usd,
        CASE WHEN p.unpriced_attempts = 0 THEN p.retry_cost_sum END AS retry_cost_usd
    FROM packets AS p
),
costed AS (
    SELECT
        m.*,
        CASE WHEN m.est_cost_usd <> 0 THEN m.retry_cost_usd / m.est_cost_usd END
            AS retry_cost_share,
        CASE
            WHEN :unit_metric = 'cost_per_1k_tokens'
                 AND m.prompt_tokens + m.completion_tokens > 0
                THEN m.est_cost_usd * 1000 / (m.prompt_tokens + m.completion_tokens)
            WHEN :unit_metric = 'cost_per_successful_request' AND m.successful_requests > 0
                THEN m.est_cost_usd / m.successful_requests
        END AS unit_cost,
        CASE WHEN m.owner_tag IS NOT NULL THEN 'owner ' || m.owner_tag
             ELSE 'the pipeline operator (owner unknown)' END AS supplier
    FROM measured AS m
),
requirements AS (
    SELECT
        c.*,
        pr.pricing_snapshot_id,
        pr.pricing_source_url,
        pr.pricing_accessed_at,
        pr.pricing_age_days,
        ev.urls_json AS evidence_urls_json,
        ev.sources AS evidence_sources,
        COALESCE(ev.stale_sources, 0) AS stale_evidence_sources,
        CASE WHEN c.first_attempts >= :min_sample_size THEN 1 ELSE 0 END
            AS ok_request_sample_present,
        CASE WHEN c.owner_tag IS NOT NULL THEN 1 ELSE 0 END AS ok_owner_identified,
        CASE WHEN c.workload_tag <> 'unallocated' THEN 1 ELSE 0 END AS ok_workload_tagged,
        CASE WHEN c.request_class IS NOT NULL AND c.request_class <> '' THEN 1 ELSE 0 END
            AS ok_request_class_recorded,
        CASE WHEN c.orphan_retries = 0 THEN 1 ELSE 0 END AS ok_retry_count_recorded,
        CASE WHEN c.retry_attempts = 0
                  OR c.retries_unknown * 1.0 / c.retry_attempts <= :max_unknown_retry_share
             THEN 1 ELSE 0 END AS ok_retry_cause_known,
        CASE WHEN pr.pricing_snapshot_id IS NOT NULL
                  AND pr.pricing_age_days <= :pricing_max_age_days
                  AND c.unpriced_attempts = 0
             THEN 1 ELSE 0 END AS ok_pricing_source_checked,
        CASE WHEN c.unmatched_requests = 0 THEN 1 ELSE 0 END AS ok_allocation_rule_checked,
        CASE WHEN pr.pricing_source_url IS NOT NULL AND pr.pricing_source_url <> ''
                  AND COALESCE(ev.stale_sources, 0) = 0
             THEN 1 ELSE 0 END AS ok_source_urls_recorded,
        CASE WHEN c.unit_cost IS NOT NULL THEN 1 ELSE 0 END AS ok_unit_metric_defined
    FROM costed AS c
    CROSS JOIN pricing AS pr
    CROSS JOIN evidence AS ev
),
failures AS (
    SELECT
        r.*,
        CASE WHEN r.ok_request_sample_present = 0 THEN ',"request_sample_present"' ELSE '' END
        || CASE WHEN r.ok_owner_identified = 0 THEN ',"owner_identified"' ELSE '' END
        || CASE WHEN r.ok_workload_tagged = 0 THEN ',"workload_tagged"' ELSE '' END
        || CASE WHEN r.ok_request_class_recorded = 0 THEN ',"request_class_recorded"' ELSE '' END
        || CASE WHEN r.ok_retry_count_recorded = 0 THEN ',"retry_count_recorded"' ELSE '' END
        || CASE WHEN r.ok_retry_cause_known = 0 THEN ',"retry_cause_known"' ELSE '' END
        || CASE WHEN r.ok_pricing_source_checked = 0 THEN ',"pricing_source_checked"' ELSE '' END
        || CASE WHEN r.ok_allocation_rule_checked = 0 THEN ',"allocation_rule_checked"' ELSE '' END
        || CASE WHEN r.ok_source_urls_recorded = 0 THEN ',"source_urls_recorded"' ELSE '' END
        || CASE WHEN r.ok_unit_metric_defined = 0 THEN ',"unit_metric_defined"' ELSE '' END
            AS failed_list,
        CASE WHEN r.ok_request_sample_present = 0 THEN
            'request_sample_present: ' || CAST(r.first_attempts AS TEXT)
            || ' first attempt(s) recorded, at least ' || CAST(:min_sample_size AS TEXT)
            || ' required; ' || r.supplier
            || ' must supply request logs that include the first attempts.' || {{ newline() }} ELSE '' END
        || CASE WHEN r.ok_owner_identified = 0 THEN
            'owner_identified: '
            || CASE WHEN r.owner_count = 0 THEN 'no owner_tag is assigned'
                    WHEN r.owner_count > 1 THEN CAST(r.owner_count AS TEXT)
                         || ' different owner_tags share this workload'
                    ELSE 'some requests have no owner_tag' END
            || '; the pipeline operator must fix allocation_rules so exactly one owner'
            || ' is assigned.' || {{ newline() }} ELSE '' END
        || CASE WHEN r.ok_workload_tagged = 0 THEN
            'workload_tagged: ' || CAST(r.logical_requests AS TEXT)
            || ' logical request(s) are unallocated; the pipeline operator must add an'
            || ' allocation rule that assigns their workload_tag.' || {{ newline() }} ELSE '' END
        || CASE WHEN r.ok_request_class_recorded = 0 THEN
            'request_class_recorded: no request class; ' || r.supplier
            || ' must send tags.request_class or have an allocation rule assign one.'
            || {{ newline() }} ELSE '' END
        || CASE WHEN r.ok_retry_count_recorded = 0 THEN
            'retry_count_recorded: ' || CAST(r.orphan_retries AS TEXT)
            || ' orphan retr(ies) whose first attempt is missing from the log; '
            || r.supplier || ' must supply the missing first attempts.' || {{ newline() }} ELSE '' END
        || CASE WHEN r.ok_retry_cause_known = 0 THEN
            'retry_cause_known: ' || CAST(r.retries_unknown AS TEXT) || ' of '
            || CAST(r.retry_attempts AS TEXT) || ' retries have an unknown cause (allowed share '
            || CAST(:max_unknown_retry_share AS TEXT) || '); ' || r.supplier
            || ' must supply status codes, error types or first attempts for them.'
            || {{ newline() }} ELSE '' END
        || CASE WHEN r.ok_pricing_source_checked = 0 THEN
            'pricing_source_checked: '
            || CASE WHEN r.pricing_snapshot_id IS NULL
                    THEN 'no pricing snapshot was taken on or before the review date'
                    WHEN r.pricing_age_days > :pricing_max_age_days
                    THEN 'the pricing snapshot is ' || CAST(r.pricing_age_days AS TEXT)
                         || ' days old (max ' || CAST(:pricing_max_age_days AS TEXT) || ')'
                    ELSE CAST(r.unpriced_attempts AS TEXT)
                         || ' attempt(s) use a model the snapshot does not price' END
            || '; the pipeline operator must refresh pricing.url so it prices every model.'
            || {{ newline() }} ELSE '' END
        || CASE WHEN r.ok_allocation_rule_checked = 0 THEN
            'allocation_rule_checked: ' || CAST(r.unmatched_requests AS TEXT)
            || ' logical request(s) matched no allocation rule; the pipeline operator must'
            || ' add a rule for them.' || {{ newline() }} ELSE '' END
        || CASE WHEN r.ok_source_urls_recorded = 0 THEN
            'source_urls_recorded: '
            || CASE WHEN r.pricing_source_url IS NULL OR r.pricing_source_url = ''
                    THEN 'the pricing source URL is unknown'
                    ELSE CAST(r.stale_evidence_sources AS TEXT)
                         || ' evidence source(s) were accessed more than '
                         || CAST(:max_source_age_days AS TEXT) || ' days before review' END
            || '; the pipeline operator must re-check the sources and update'
            || ' evidence_sources.yaml / pricing.url.' || {{ newline() }} ELSE '' END
        || CASE WHEN r.ok_unit_metric_defined = 0 THEN
            'unit_metric_defined: ' || :unit_metric || ' is undefined ('
            || CASE WHEN r.est_cost_usd IS NULL THEN 'the estimated cost is unknown'
                    ELSE 'its denominator is zero' END
            || '); ' || r.supplier || ' must supply priced, successful traffic.'
            || {{ newline() }} ELSE '' END
            AS notes_list
    FROM requirements AS r
)
SELECT
    :cycle_id AS cycle_id,
    :cycle_start AS cycle_start,
    :cycle_end AS cycle_end,
    :review_date AS review_date,
    f.workload_tag,
    f.request_class,
    f.owner_tag,
    f.environment,
    f.logical_requests,
    f.attempts,
    f.first_attempts,
    f.retry_attempts,
    f.retries_client_handling,
    f.retries_platform_response,
    f.retries_timeout,
    f.retries_scheduled_maintenance,
    f.retries_unfamiliar_request_source,
    f.retries_unknown,
    f.orphan_retries,
    f.retry_attempts * 1.0 / f.attempts AS retry_share,
    f.prompt_tokens,
    f.completion_tokens,
    f.retry_tokens,
    f.est_cost_usd,
    f.retry_cost_usd,
    f.retry_cost_share,
    :unit_metric AS unit_metric,
    f.unit_cost,
    f.pricing_snapshot_id,
    f.pricing_source_url,
    f.pricing_accessed_at,
    CASE
        WHEN f.pricing_snapshot_id IS NULL THEN f.evidence_urls_json
        WHEN f.evidence_sources = 0 THEN '[' || {{ json_string('f.pricing_source_url') }} || ']'
        ELSE '[' || {{ json_string('f.pricing_source_url') }} || ','
             || substr(f.evidence_urls_json, 2)
    END AS source_urls,
    ri.allocation_rule_ids,
    CASE WHEN f.ok_request_sample_present = 1 THEN TRUE ELSE FALSE END
        AS first_attempt_recorded,
    CASE WHEN f.ok_retry_count_recorded = 1 THEN TRUE ELSE FALSE END AS retry_count_recorded,
    CASE WHEN f.ok_pricing_source_checked = 1 THEN TRUE ELSE FALSE END
        AS pricing_source_checked,
    CASE WHEN f.ok_allocation_rule_checked = 1 THEN TRUE ELSE FALSE END
        AS allocation_rule_checked,
    CASE WHEN f.failed_list = '' THEN 'pass' ELSE 'fail' END AS result,
    '[' || substr(f.failed_list, 2) || ']' AS failed_requirements,
    CASE WHEN f.notes_list = '' THEN ''
         ELSE substr(f.notes_list, 1, length(f.notes_list) - 1) END AS notes
FROM failures AS f
JOIN rule_ids AS ri
    ON ri.workload_tag = f.workload_tag
   AND (ri.request_class = f.request_class
        OR (ri.request_class IS NULL AND f.request_class IS NULL))
