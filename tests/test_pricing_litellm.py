"""The LiteLLM key mapping of SPEC 2.3 on a real excerpt of LiteLLM's public price map
(``tests/fixtures/litellm_model_prices_excerpt.json``: entries of
``model_prices_and_context_window.json`` as published, ``sample_spec`` included)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from tokenreview_pipeline.pricing import parse_pricing

FIXTURE = Path(__file__).parent / "fixtures" / "litellm_model_prices_excerpt.json"
NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def snapshot():
    return parse_pricing(
        FIXTURE.read_bytes(), fmt="litellm", configured_url="litellm.json", accessed_at=NOW
    )


def band_table(snapshot, model: str) -> list[tuple]:
    """(tier, min, max, above, {price key: per-1M price}) for each band of ``model``."""
    price = snapshot.price_for(model)
    assert price is not None, model
    return [
        (b.service_tier, b.min_prompt_tokens, b.max_prompt_tokens, b.above_prompt_tokens,
         {k: str(v) for k, v in b.prices.given().items()})
        for b in price.bands()
    ]  # fmt: skip


def test_skipped_entries(snapshot):
    # sample_spec is documentation; the image model has no per-token price
    assert [p.model for p in snapshot.prices] == [
        "claude-4-sonnet-20250514",
        "claude-sonnet-4-5",
        "gemini/gemini-2.5-pro",
        "gemini/gemini-3-pro-preview",
        "gemini/gemini-3.1-flash-lite",
        "gpt-4o-mini",
        "text-embedding-3-small",
    ]
    assert snapshot.model_count == 7


def test_openai_cache_batch_and_priority(snapshot):
    # cache_read_input_token_cost_priority, *_batches, *_priority; no batch cache price,
    # so batch keeps the model's cached price (a tier's omitted keys are the model's)
    assert band_table(snapshot, "gpt-4o-mini") == [
        ("standard", 0, None, None,
         {"input_per_1m": "0.15", "output_per_1m": "0.6", "cached_input_per_1m": "0.075"}),
        ("batch", 0, None, None,
         {"input_per_1m": "0.075", "output_per_1m": "0.3", "cached_input_per_1m": "0.075"}),
        ("priority", 0, None, None,
         {"input_per_1m": "0.25", "output_per_1m": "1", "cached_input_per_1m": "0.125"}),
    ]  # fmt: skip
    assert band_table(snapshot, "text-embedding-3-small") == [
        ("standard", 0, None, None, {"input_per_1m": "0.02", "output_per_1m": "0"}),
        ("batch", 0, None, None, {"input_per_1m": "0.01", "output_per_1m": "0"}),
    ]


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "claude-4-sonnet-20250514"])
def test_anthropic_cache_writes_and_above_200k(snapshot, model):
    # cache_creation_input_token_cost_above_1hr* (1-hour writes) are not used
    assert band_table(snapshot, model) == [
        ("standard", 0, 200000, None,
         {"input_per_1m": "3", "output_per_1m": "15", "cached_input_per_1m": "0.3",
          "cache_write_per_1m": "3.75"}),
        ("standard", 200001, None, 200000,
         {"input_per_1m": "6", "output_per_1m": "22.5", "cached_input_per_1m": "0.6",
          "cache_write_per_1m": "7.5"}),
    ]  # fmt: skip


def test_gemini_tier_with_and_without_its_own_long_context(snapshot):
    # batch has no _above_200k_tokens_batches keys: one band, the model's long_context
    # does not apply inside it; priority has its own (..._above_200k_tokens_priority)
    assert band_table(snapshot, "gemini/gemini-3-pro-preview") == [
        ("standard", 0, 200000, None,
         {"input_per_1m": "2", "output_per_1m": "12", "cached_input_per_1m": "0.2"}),
        ("standard", 200001, None, 200000,
         {"input_per_1m": "4", "output_per_1m": "18", "cached_input_per_1m": "0.4"}),
        ("batch", 0, None, None,
         {"input_per_1m": "1", "output_per_1m": "6", "cached_input_per_1m": "0.2"}),
        ("priority", 0, 200000, None,
         {"input_per_1m": "3.6", "output_per_1m": "21.6", "cached_input_per_1m": "0.36"}),
        ("priority", 200001, None, 200000,
         {"input_per_1m": "7.2", "output_per_1m": "32.4", "cached_input_per_1m": "0.72"}),
    ]  # fmt: skip


def test_gemini_priority_long_context_keeps_the_tiers_cached_price(snapshot):
    # gemini-2.5-pro's priority long-context entry gives no cache price: the band keeps
    # the priority tier's (= the model's 0.125), not the standard entry's 0.25
    assert band_table(snapshot, "gemini/gemini-2.5-pro") == [
        ("standard", 0, 200000, None,
         {"input_per_1m": "1.25", "output_per_1m": "10", "cached_input_per_1m": "0.125"}),
        ("standard", 200001, None, 200000,
         {"input_per_1m": "2.5", "output_per_1m": "15", "cached_input_per_1m": "0.25"}),
        ("priority", 0, 200000, None,
         {"input_per_1m": "1.25", "output_per_1m": "10", "cached_input_per_1m": "0.125"}),
        ("priority", 200001, None, 200000,
         {"input_per_1m": "2.5", "output_per_1m": "15", "cached_input_per_1m": "0.125"}),
    ]  # fmt: skip


def test_gemini_flex_and_reasoning_price(snapshot):
    reasoning = {"reasoning_per_1m": "1.5"}
    assert band_table(snapshot, "gemini/gemini-3.1-flash-lite") == [
        ("standard", 0, None, None,
         {"input_per_1m": "0.25", "output_per_1m": "1.5", "cached_input_per_1m": "0.025",
          **reasoning}),
        ("batch", 0, None, None,
         {"input_per_1m": "0.125", "output_per_1m": "0.75", "cached_input_per_1m": "0.025",
          **reasoning}),
        ("flex", 0, None, None,
         {"input_per_1m": "0.125", "output_per_1m": "0.75", "cached_input_per_1m": "0.0125",
          **reasoning}),
        ("priority", 0, None, None,
         {"input_per_1m": "0.45", "output_per_1m": "2.7", "cached_input_per_1m": "0.045",
          **reasoning}),
    ]  # fmt: skip


def test_per_token_prices_scale_exactly(snapshot):
    flash = snapshot.price_for("gemini/gemini-3.1-flash-lite")
    # 1.25e-08 per token is exactly 0.0125 per 1M, with no binary rounding
    assert flash.tier("flex").prices.cached_input_per_1m == Decimal("0.0125")
    assert snapshot.price_for("gpt-4o-mini").prices.per_request is None
