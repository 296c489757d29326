"""Price documents the cost tests share: the SPEC 2.3 example, and variants of its models."""

from __future__ import annotations

import copy

# The SPEC 2.3 example document, as the SPEC writes it.
SPEC_EXAMPLE_PRICING = {
    "source_url": "https://example.com/pricing",
    "currency": "USD",
    "models": [
        {
            "model": "gpt-4o-mini",
            "input_per_1m": 0.15,
            "output_per_1m": 0.60,
            "per_request": 0.0,
            "cached_input_per_1m": 0.075,
            "tiers": {
                "batch": {
                    "input_per_1m": 0.075,
                    "output_per_1m": 0.30,
                    "cached_input_per_1m": 0.0375,
                },
                "priority": {"input_per_1m": 0.25, "output_per_1m": 1.00},
            },
        },
        {
            "model": "claude-sonnet-4-5",
            "input_per_1m": 3.0,
            "output_per_1m": 15.0,
            "cached_input_per_1m": 0.30,
            "cache_write_per_1m": 3.75,
            "long_context": [
                {
                    "above_prompt_tokens": 200000,
                    "input_per_1m": 6.0,
                    "output_per_1m": 22.5,
                    "cached_input_per_1m": 0.60,
                    "cache_write_per_1m": 7.50,
                }
            ],
        },
    ],
}


def spec_model(name: str, **changes: object) -> dict:
    """A copy of the SPEC example's entry for ``name`` with ``changes`` applied."""
    (entry,) = (m for m in SPEC_EXAMPLE_PRICING["models"] if m["model"] == name)
    return {**copy.deepcopy(entry), **changes}
