"""SPEC 4.4 worked out independently in Python, as the tests' oracle for the SQL formula.

Given a parsed snapshot (its resolved bands, ``price_list.py``), the cost of one attempt:
its model's band for its normalized service tier that holds its prompt_tokens, the 4.4
defaults applied here by hand; None where the SPEC says the cost is unknown.
"""

from __future__ import annotations

from decimal import Decimal

from tokenreview_pipeline.contract import STANDARD_TIER, STANDARD_TIER_ALIASES

MILLION = Decimal(1_000_000)


def expected_cost(
    snapshot,
    model: str,
    service_tier: str | None,
    status_code: int | None,
    prompt: int,
    completion: int,
    cached: int = 0,
    write: int = 0,
    reasoning: int = 0,
) -> Decimal | None:
    tier = STANDARD_TIER if service_tier in (None, *STANDARD_TIER_ALIASES) else service_tier
    price = snapshot.price_for(model)
    bands = [
        b
        for b in (price.bands() if price else [])
        if b.service_tier == tier
        and b.min_prompt_tokens <= prompt
        and (b.max_prompt_tokens is None or prompt <= b.max_prompt_tokens)
    ]
    if not bands:
        return None  # the model, or its tier, is not priced
    (band,) = bands
    p = band.prices
    if cached and p.cached_input_per_1m is None:
        return None  # no discount is guessed
    write_price = p.cache_write_per_1m if p.cache_write_per_1m is not None else p.input_per_1m
    reasoning_price = p.reasoning_per_1m if p.reasoning_per_1m is not None else p.output_per_1m
    cost = (
        (prompt - cached - write) * p.input_per_1m
        + cached * (p.cached_input_per_1m or 0)
        + write * write_price
        + (completion - reasoning) * p.output_per_1m
        + reasoning * reasoning_price
    ) / MILLION
    if status_code is not None and 200 <= status_code <= 299:
        cost += p.per_request or 0
    return cost
