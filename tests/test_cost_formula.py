"""The SPEC 4.4 cost formula as the pipeline computes it: ``sql_templates.attempt_cost``
(and ``cache_savings``) rendered and evaluated on each backend, for every token class,
the 4.4 defaults of missing prices, and the cases where the cost is unknown.

Expected values are worked out by hand from the SPEC. Tier and long-context resolution
(which price row an attempt gets) is tested through the pipeline in
``test_costs_pipeline.py``; here the price row is given.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tokenreview_pipeline import ledger
from tokenreview_pipeline.contract import PRICE_KEYS, TOKEN_FIELDS
from tokenreview_pipeline.sql_models import bind, render

TEMPLATE = """
SELECT {{ attempt_cost('a.', 'p.') }} AS cost, {{ cache_savings('a.', 'p.') }} AS saved
FROM (SELECT
{% for field in token_fields %}
        CAST(:{{ field }} AS BIGINT) AS {{ field }},
{% endfor %}
        CAST(:status_code AS INTEGER) AS status_code) AS a
LEFT JOIN (SELECT
{% for key in price_keys %}
        CAST(:{{ key }} AS NUMERIC(38, 18)) AS {{ key }}{{ "," if not loop.last }}
{% endfor %}
    ) AS p ON :priced = 1
"""

# input 2, output 8, cached input 0.5, cache writes 2.5, reasoning 10 (USD per 1M tokens),
# 0.001 per successful request.
FULL = {
    "input_per_1m": "2",
    "output_per_1m": "8",
    "per_request": "0.001",
    "cached_input_per_1m": "0.5",
    "cache_write_per_1m": "2.5",
    "reasoning_per_1m": "10",
}
BASIC = {"input_per_1m": "2", "output_per_1m": "8"}


def tokens(prompt=0, completion=0, cached=0, write=0, reasoning=0) -> dict:
    return dict(zip(TOKEN_FIELDS, (prompt, completion, cached, write, reasoning), strict=True))


CASES = {
    # name: (tokens, status, prices or None for no price row, cost, caching saved)
    "uncached input and output, 2xx": (
        tokens(1000, 500),
        200,
        FULL,
        "0.007",  # 1000*2/1e6 + 500*8/1e6 + 0.001
        "0",
    ),
    "cached input at its price": (
        tokens(1000, cached=600),
        500,  # not 2xx: no per-request price
        FULL,
        "0.0011",  # 400*2/1e6 + 600*0.5/1e6
        "0.0009",  # 600*(2-0.5)/1e6
    ),
    "cache writes at their price": (tokens(1000, write=1000), 429, FULL, "0.0025", "0"),
    "missing cache_write_per_1m is the input price": (
        tokens(1000, write=250),
        429,
        BASIC,
        "0.002",
        "0",
    ),
    "reasoning at its price": (
        tokens(0, 1000, reasoning=400),
        None,  # no response: no per-request price
        FULL,
        "0.0088",  # 600*8/1e6 + 400*10/1e6
        "0",
    ),
    "missing reasoning_per_1m is the output price": (
        tokens(0, 1000, reasoning=400),
        408,
        BASIC,
        "0.008",
        "0",
    ),
    "missing per_request is 0": (tokens(1000), 204, BASIC, "0.002", "0"),
    "per_request on 299, not on 300": (tokens(), 299, FULL, "0.001", "0"),
    "no per_request on 3xx": (tokens(), 300, FULL, "0", "0"),
    "every class at once": (
        tokens(10000, 3000, cached=6000, write=1000, reasoning=2000),
        200,
        FULL,
        # 3000*2 + 6000*0.5 + 1000*2.5 + 1000*8 + 2000*10 = 39500 per 1e6, + 0.001
        "0.0405",
        "0.009",  # 6000*1.5/1e6
    ),
    "missing cached price, no cached tokens: priced": (tokens(100, 10), 200, BASIC, "0.00028", "0"),
    "missing cached price with cached tokens: unknown": (
        tokens(100, 10, cached=1),
        200,
        BASIC,
        None,
        None,
    ),
    "no price row (model, tier or snapshot missing): unknown": (
        tokens(100, 10),
        200,
        None,
        None,
        None,
    ),
    "one token is never rounded": (
        tokens(1),
        500,
        {**BASIC, "input_per_1m": "0.15"},
        "1.5E-7",
        "0",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_attempt_cost(db_url, case):
    counts, status, prices, cost, saved = CASES[case]
    engine = ledger.engine_for(db_url)
    sql = render(TEMPLATE, engine.dialect.name)
    params = {
        **counts,
        "status_code": status,
        **{
            k: None if prices is None or k not in prices else Decimal(prices[k]) for k in PRICE_KEYS
        },
        "priced": 0 if prices is None else 1,
    }
    with engine.connect() as conn:
        row = conn.execute(bind(sql, params)).one()
    for got, want in ((row.cost, cost), (row.saved, saved)):
        if want is None:
            assert got is None
        elif engine.dialect.name == "postgresql":
            assert Decimal(got) == Decimal(want)  # NUMERIC: exact
        else:
            assert abs(Decimal(str(got)) - Decimal(want)) <= Decimal("1e-15")
