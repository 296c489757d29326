-- One budget decision per (cycle, workload) for every workload that has a packet in
-- the cycle, a budget in force at the cycle start, or a change request for the cycle
-- (SPEC 5 "Budget reviews"): its packets, its estimated and retry cost against the
-- previous cycle's published packets and against the budget that applies (the entry
-- with the latest `from` on or before the cycle start), and the decision on its change
-- request: paused while the workload has no packet or one of its packets fails one of
-- the review practice's stop rules (contract.PAUSE_REQUIREMENTS), else ready for
-- review. A ready decision is not an approval. Notes: one line per pause reason, made
-- of the failing packets' own notes (what is missing, who must supply it), each after
-- its request class; a workload with no packet asks the change request's requester.
-- metadata: budget_table
{% macro sum_unless_null(column) -%}
CASE WHEN COUNT(*) = COUNT({{ column }}) THEN SUM({{ column }}) END
{%- endmacro %}
{% macro listed(r) -%}
{{ text_position('p.failed_requirements', ('"' ~ r.name ~ '"') | sql_string) }} > 0
{%- endmacro %}
{% macro note_start(r) -%}
{{ text_position('p.note_lines', newline() ~ ' || ' ~ ((r.name ~ ': ') | sql_string)) }}
{%- endmacro %}
WITH packets AS (
    SELECT
        workload_tag,
        request_class,
        owner_tag,
        result,
        est_cost_usd,
        retry_cost_usd,
        failed_requirements,
        {{ newline() }} || notes || {{ newline() }} AS note_lines
    FROM {{ ref('review_packets') }}
    WHERE cycle_id = :cycle_id
),
-- rest_<r>: the packet's notes from its line for pause requirement r on.
packet_note_rests AS (
    SELECT
        p.*,
{% for r in pause_requirements %}
        CASE WHEN {{ note_start(r) }} > 0
             THEN substr(p.note_lines, {{ note_start(r) }} + {{ (r.name ~ ': ') | length + 1 }})
        END AS rest_{{ r.name }}{{ "," if not loop.last }}
{% endfor %}
    FROM packets AS p
),
-- fails_<r>: 1 when the packet fails pause requirement r; note_<r>: its note for r,
-- after its request class.
packet_pauses AS (
    SELECT
        p.workload_tag,
        COALESCE(p.request_class, '') AS class_order,
        p.owner_tag,
        p.result,
        p.est_cost_usd,
        p.retry_cost_usd,
{% for r in pause_requirements %}
        CASE WHEN {{ listed(r) }} THEN 1 ELSE 0 END AS fails_{{ r.name }},
        CASE WHEN {{ listed(r) }}
             THEN 'request class ' || COALESCE(NULLIF(p.request_class, ''), '(none)') || ': '
                  || COALESCE(substr(p.rest_{{ r.name }}, 1,
                         {{ text_position('p.rest_' ~ r.name, newline()) }} - 1), '')
        END AS note_{{ r.name }}{{ "," if not loop.last }}
{% endfor %}
    FROM packet_note_rests AS p
),
workload_packets AS (
    SELECT
        workload_tag,
        COUNT(*) AS packets,
        SUM(CASE WHEN result = 'pass' THEN 1 ELSE 0 END) AS packets_passed,
        COUNT(DISTINCT owner_tag) AS owner_count,
        SUM(CASE WHEN owner_tag IS NULL THEN 1 ELSE 0 END) AS packets_without_owner,
        MAX(owner_tag) AS any_owner,
        {{ sum_unless_null('est_cost_usd') }} AS est_cost_usd,
        {{ sum_unless_null('retry_cost_usd') }} AS retry_cost_usd,
{% for r in pause_requirements %}
        MAX(fails_{{ r.name }}) AS fails_{{ r.name }},
        {{ text_agg('note_' ~ r.name, "' '", code_point('class_order')) }}
            AS notes_{{ r.name }}{{ "," if not loop.last }}
{% endfor %}
    FROM (
        SELECT * FROM packet_pauses ORDER BY workload_tag, {{ code_point('class_order') }}
    ) AS ordered_packets
    GROUP BY workload_tag
),
previous AS (
    SELECT
        workload_tag,
        {{ sum_unless_null('est_cost_usd') }} AS previous_est_cost_usd,
        {{ sum_unless_null('retry_cost_usd') }} AS previous_retry_cost_usd
    FROM {{ published('review_packets') }}
    WHERE cycle_id = :previous_cycle_id
    GROUP BY workload_tag
),
budget AS (
    SELECT b.workload_tag, b.budget_usd
    FROM {{ ref('stg_budgets') }} AS b
    WHERE b.cycle_id = :cycle_id
      AND b.effective_from <= :cycle_date
      AND NOT EXISTS (
          SELECT 1
          FROM {{ ref('stg_budgets') }} AS later
          WHERE later.cycle_id = b.cycle_id
            AND later.workload_tag = b.workload_tag
            AND later.effective_from <= :cycle_date
            AND later.effective_from > b.effective_from
      )
),
request AS (
    SELECT workload_tag, requested_budget_usd, requested_by
    FROM {{ ref('stg_change_requests') }}
    WHERE cycle_id = :cycle_id AND review_cycle_id = :cycle_id
),
workloads AS (
    SELECT workload_tag FROM workload_packets
    UNION
    SELECT workload_tag FROM budget
    UNION
    SELECT workload_tag FROM request
),
reviews AS (
    SELECT
        w.workload_tag,
        CASE WHEN wp.owner_count = 1 AND wp.packets_without_owner = 0
             THEN wp.any_owner END AS owner_tag,
        COALESCE(wp.packets, 0) AS packets,
        COALESCE(wp.packets_passed, 0) AS packets_passed,
        wp.est_cost_usd,
        wp.retry_cost_usd,
        pv.previous_est_cost_usd,
        pv.previous_retry_cost_usd,
        b.budget_usd,
        rq.requested_budget_usd,
        rq.requested_by,
        CASE
            WHEN rq.workload_tag IS NULL THEN {{ budget_decision.no_change_requested | sql_string }}
            WHEN wp.workload_tag IS NULL
{% for r in pause_requirements %}
                 OR wp.fails_{{ r.name }} = 1
{% endfor %}
                THEN {{ budget_decision.paused | sql_string }}
            ELSE {{ budget_decision.ready_for_review | sql_string }}
        END AS decision,
{% for r in pause_requirements %}
        wp.fails_{{ r.name }},
        wp.notes_{{ r.name }},
{% endfor %}
        -- What the no-packet note reads (contract.NO_PACKET_PAUSE's note): no first
        -- attempt, and the requester is asked, as there is no packet owner.
        0 AS first_attempts,
        {{ (requester ~ ' ') | sql_string }} || rq.requested_by AS supplier
    FROM workloads AS w
    LEFT JOIN workload_packets AS wp ON wp.workload_tag = w.workload_tag
    LEFT JOIN previous AS pv ON pv.workload_tag = w.workload_tag
    LEFT JOIN budget AS b ON b.workload_tag = w.workload_tag
    LEFT JOIN request AS rq ON rq.workload_tag = w.workload_tag
),
-- The pause reasons (a JSON list body) and their note lines, in SPEC order.
pauses AS (
    SELECT
        r.*,
{% for p in pause_requirements %}
        {{ "|| " if not loop.first }}CASE WHEN r.fails_{{ p.name }} = 1
            THEN {{ (',"' ~ p.name ~ '"') | sql_string }} ELSE '' END
{% endfor %}
            AS reasons_list,
{% for p in pause_requirements %}
        {{ "|| " if not loop.first }}CASE WHEN r.fails_{{ p.name }} = 1
            THEN {{ (p.name ~ ': ') | sql_string }} || r.notes_{{ p.name }} || {{ newline() }}
            ELSE '' END
{% endfor %}
            AS notes_list
    FROM reviews AS r
)
SELECT
    :cycle_id AS cycle_id,
    :review_date AS review_date,
    p.workload_tag,
    p.owner_tag,
    p.packets,
    p.packets_passed,
    p.est_cost_usd,
    p.retry_cost_usd,
    p.previous_est_cost_usd,
    p.previous_retry_cost_usd,
    p.est_cost_usd - p.previous_est_cost_usd AS cost_change_usd,
    p.retry_cost_usd - p.previous_retry_cost_usd AS retry_cost_change_usd,
    p.budget_usd,
    p.est_cost_usd - p.budget_usd AS budget_variance_usd,
    CASE WHEN p.budget_usd <> 0 THEN p.est_cost_usd / p.budget_usd END AS budget_used_share,
    p.requested_budget_usd,
    p.requested_by,
    p.decision,
    CASE
        WHEN p.decision <> {{ budget_decision.paused | sql_string }} THEN '[]'
        WHEN p.packets = 0 THEN {{ ('["' ~ no_packet_pause.name ~ '"]') | sql_string }}
        ELSE '[' || substr(p.reasons_list, 2) || ']'
    END AS pause_reasons,
    CASE
        WHEN p.decision <> {{ budget_decision.paused | sql_string }} THEN ''
        WHEN p.packets = 0 THEN {{ no_packet_pause | note_sql }}
        ELSE substr(p.notes_list, 1, length(p.notes_list) - 1)
    END AS notes
FROM pauses AS p
