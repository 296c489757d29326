-- severity: error
-- The FOCUS rows reconcile with the packets (SPEC 5 "FOCUS export"): per packet, the
-- token rows' ConsumedQuantity sum to prompt_tokens (input kinds) and
-- completion_tokens (output kinds), and each of cached input, cache writes and
-- reasoning alone to its packet column, so no token is counted in two rows; the
-- request rows count the 2xx attempts; ListCost sums to est_cost_usd (at 1e-6) with
-- no unknown row when the estimate is known; and every row belongs to a packet.
WITH charged AS (
    SELECT
        workload_tag,
        request_class,
{% for kind in charge_kinds %}
        SUM(CASE WHEN "x_ChargeKind" = {{ kind.name | sql_string }}
                 THEN "ConsumedQuantity" ELSE 0 END) AS q_{{ kind.name }},
{% endfor %}
        SUM("ListCost") AS list_cost,
        SUM(CASE WHEN "ListCost" IS NULL THEN 1 ELSE 0 END) AS unknown_rows
    FROM {{ this }}
    WHERE cycle_id = :cycle_id
    GROUP BY workload_tag, request_class
),
requests AS (
    SELECT
        a.workload_tag,
        a.request_class,
        SUM({{ charge_quantity(request_kind, 'a.') }}) AS requests
    FROM {{ ref('request_attempts') }} AS a
    WHERE a.cycle_id = :cycle_id
    GROUP BY a.workload_tag, a.request_class
),
packets AS (
    SELECT
        p.workload_tag,
        p.request_class,
        p.prompt_tokens,
        p.completion_tokens,
{% for kind in charge_kinds if kind.packet_column %}
        p.{{ kind.packet_column }},
{% endfor %}
        p.est_cost_usd,
        COALESCE(r.requests, 0) AS requests
    FROM {{ ref('review_packets') }} AS p
    LEFT JOIN requests AS r
        ON r.workload_tag = p.workload_tag
       AND (r.request_class = p.request_class
            OR (r.request_class IS NULL AND p.request_class IS NULL))
    WHERE p.cycle_id = :cycle_id
),
compared AS (
    SELECT
        p.workload_tag,
        p.request_class,
{% for total in split_token_fields %}
        p.{{ total }},
        0
{% for kind in charge_kinds if kind.part_of == total %}
            + COALESCE(c.q_{{ kind.name }}, 0)
{% endfor %}
            AS {{ total }}_quantity,
{% endfor %}
        CASE WHEN 1 = 0
{% for kind in charge_kinds if kind.packet_column %}
             OR COALESCE(c.q_{{ kind.name }}, 0) <> p.{{ kind.packet_column }}
{% endfor %}
             THEN 1 ELSE 0 END AS class_mismatch,
        p.requests,
        COALESCE(c.q_{{ request_kind.name }}, 0) AS request_quantity,
        p.est_cost_usd,
        c.list_cost,
        COALESCE(c.unknown_rows, 0) AS unknown_rows
    FROM packets AS p
    LEFT JOIN charged AS c
        ON c.workload_tag = p.workload_tag
       AND (c.request_class = p.request_class
            OR (c.request_class IS NULL AND p.request_class IS NULL))
)
SELECT
    workload_tag,
    request_class,
{% for total in split_token_fields %}
    {{ total }},
    {{ total }}_quantity,
{% endfor %}
    class_mismatch, requests, request_quantity, est_cost_usd, list_cost, unknown_rows,
    0 AS orphan_rows
FROM compared
WHERE class_mismatch = 1
{% for total in split_token_fields %}
   OR {{ total }}_quantity <> {{ total }}
{% endfor %}
   OR request_quantity <> requests
   OR (est_cost_usd IS NOT NULL
       AND (unknown_rows > 0 OR ABS(COALESCE(list_cost, 0) - est_cost_usd) > 0.000001))
UNION ALL
SELECT
    c.workload_tag,
    c.request_class,
{% for total in split_token_fields %}
    NULL,
    NULL,
{% endfor %}
    NULL, NULL, NULL, NULL, c.list_cost, c.unknown_rows, 1
FROM charged AS c
WHERE NOT EXISTS (
    SELECT 1 FROM packets AS p
    WHERE p.workload_tag = c.workload_tag
      AND (p.request_class = c.request_class
           OR (p.request_class IS NULL AND c.request_class IS NULL))
)
