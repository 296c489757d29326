"""Costs through the pipeline on both backends (SPEC 2.3, 4.4, 5): every token class,
service tier and long-context band, their combinations, what is unknown rather than
guessed, the packets' token-class sums and notes, and the FOCUS rows of each; then the
real LiteLLM excerpt priced end to end.

Each case is one attempt in its own workload (so its own packet). Expected costs are
worked out by hand from the SPEC in the comments.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from cost_oracle import expected_cost
from price_docs import spec_model
from scenario import attempt, rows, run, ts, write_scenario

from tokenreview_pipeline.pricing import parse_pricing
from tokenreview_pipeline.sample import UNPRICED_MODEL, UNPRICED_TIER

EPS = Decimal("0.000001")
FIXTURE = Path(__file__).parent / "fixtures" / "litellm_model_prices_excerpt.json"
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "tokenreview_pipeline" / "sample"

PRICING = {
    "source_url": "https://example.com/pricing",
    "models": [
        spec_model("gpt-4o-mini"),
        spec_model(
            "claude-sonnet-4-5",
            tiers={
                # a tier with a long_context of its own (cache prices from the tier)
                "batch": {
                    "input_per_1m": 1.5,
                    "output_per_1m": 7.5,
                    "cached_input_per_1m": 0.15,
                    "cache_write_per_1m": 1.875,
                    "long_context": [
                        {"above_prompt_tokens": 200000, "input_per_1m": 3.0, "output_per_1m": 11.25}
                    ],
                },
                # a tier without: one band, the model's long_context does not apply
                "priority": {"input_per_1m": 5.1, "output_per_1m": 25.5},
            },
        ),
        {
            "model": "o4-mini",
            "input_per_1m": 1.1,
            "output_per_1m": 4.4,
            "per_request": 0.0001,
            "cached_input_per_1m": 0.275,
            "tiers": {
                "flex": {"input_per_1m": 0.55, "output_per_1m": 2.2, "cached_input_per_1m": 0.1375}
            },
        },
        {"model": "plain-model", "input_per_1m": 1, "output_per_1m": 2},
    ],
}


def case(name, model, prompt, completion, *, tier=..., status=200, **classes):
    return attempt(
        name,
        ts(len(name)),
        request_id=name,
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        status_code=status,
        service_tier=tier,
        tags={"team": "search", "project": name},
        **classes,
    )


MINI = {"cached_prompt_tokens": 1024}
CASES = [
    # (976*0.15 + 1024*0.075 + 300*0.6) / 1e6; per_request 0
    (case("mini-std", "gpt-4o-mini", 2000, 300, **MINI), "standard", None, "0.0004032"),
    (case("mini-default", "gpt-4o-mini", 2000, 300, tier="default", **MINI), "standard", None,
     "0.0004032"),
    (case("mini-auto", "gpt-4o-mini", 2000, 300, tier="auto", **MINI), "standard", None,
     "0.0004032"),
    # batch x cached: (976*0.075 + 1024*0.0375 + 300*0.3) / 1e6
    (case("mini-batch", "gpt-4o-mini", 2000, 300, tier="batch", **MINI), "batch", None,
     "0.0002016"),
    # priority names no cached price: the model's 0.075
    (case("mini-priority", "gpt-4o-mini", 2000, 300, tier="priority", **MINI), "priority", None,
     "0.0006208"),
    # a tier the model's tiers do not name (exact, case-sensitive): unknown
    (case("mini-flex", "gpt-4o-mini", 2000, 300, tier="flex"), "flex", None, None),
    (case("mini-Batch", "gpt-4o-mini", 2000, 300, tier="Batch"), "Batch", None, None),
    # at the threshold N: the base band (200000*3 + 1000*15) / 1e6
    (case("claude-at-n", "claude-sonnet-4-5", 200000, 1000), "standard", None, "0.615"),
    # N + 1: the whole request at the entry's prices (200001*6 + 1000*22.5) / 1e6
    (case("claude-at-n1", "claude-sonnet-4-5", 200001, 1000), "standard", 200000, "1.222506"),
    # batch's own entry; its omitted keys keep batch's cache prices:
    # (50001*3 + 100000*0.15 + 50000*1.875 + 1000*11.25) / 1e6
    (case("claude-batch-long", "claude-sonnet-4-5", 200001, 1000, tier="batch",
          cached_prompt_tokens=100000, cache_write_tokens=50000), "batch", 200000, "0.270003"),
    # batch below its threshold: (1000*1.5 + 100*7.5) / 1e6
    (case("claude-batch-short", "claude-sonnet-4-5", 1000, 100, tier="batch"), "batch", None,
     "0.00225"),
    # priority has no long_context: (250000*5.1 + 1000*25.5) / 1e6
    (case("claude-priority-long", "claude-sonnet-4-5", 250000, 1000, tier="priority"),
     "priority", None, "1.3005"),
    # every class above 200k: 50000*6 + 200000*0.6 + 50000*7.5 + 3000*22.5 + 1000*22.5
    # (missing reasoning price: output's) = 885000 / 1e6
    (case("claude-all", "claude-sonnet-4-5", 300000, 4000, cached_prompt_tokens=200000,
          cache_write_tokens=50000, reasoning_tokens=1000, gateway_retries=2), "standard",
     200000, "0.885"),
    # reasoning at the output price, plus per_request on 2xx:
    # (500*1.1 + 500*4.4 + 1500*4.4) / 1e6 + 0.0001
    (case("o4-reasoning", "o4-mini", 500, 2000, reasoning_tokens=1500), "standard", None,
     "0.00945"),
    # flex with cached and reasoning tokens, not 2xx:
    # (244*0.55 + 256*0.1375 + 500*2.2 + 1500*2.2) / 1e6
    (case("o4-flex", "o4-mini", 500, 2000, tier="flex", status=500, cached_prompt_tokens=256,
          reasoning_tokens=1500), "flex", None, "0.0045694"),
    # no cached price: unknown with cached tokens, priced without
    (case("plain-cached", "plain-model", 100, 10, cached_prompt_tokens=10), "standard", None,
     None),
    (case("plain-uncached", "plain-model", 100, 10), "standard", None, "0.00012"),
    (case("mystery", "mystery-model", 100, 10), "standard", None, None),
]  # fmt: skip
REASONS = {
    "mini-flex": "tier_not_priced",
    "mini-Batch": "tier_not_priced",
    "plain-cached": "cached_input_not_priced",
    "mystery": "model_not_priced",
}


def near(value, expected: str) -> bool:
    return value is not None and abs(Decimal(str(value)) - Decimal(expected)) <= EPS


@pytest.fixture
def costs_run(tmp_path, db_url):
    cfg = write_scenario(tmp_path, [c[0] for c in CASES], pricing=PRICING)
    result = run(cfg, db_url)
    return db_url, result


def test_every_class_tier_and_band_is_priced_by_the_spec(costs_run):
    db_url, result = costs_run
    attempts = {a["attempt_id"]: a for a in rows(db_url, "request_attempts")}
    exact = db_url.startswith("postgresql")
    for record, tier, above, cost in CASES:
        a = attempts[record["attempt_id"]]
        name = record["attempt_id"]
        assert a["service_tier"] == tier, name
        assert a["above_prompt_tokens"] == above, name
        if cost is None:
            assert a["cost_usd"] is None, name
            assert a["cost_unknown_reason"] == REASONS[name], name
        else:
            assert a["cost_unknown_reason"] is None, name
            assert near(a["cost_usd"], cost), (name, a["cost_usd"], cost)
            if exact:
                assert a["cost_usd"] == Decimal(cost), name
    assert attempts["claude-all"]["gateway_retries"] == 2
    # what caching saved: cached tokens at the input price minus their cost
    assert near(attempts["claude-all"]["cache_savings_usd"], "1.08")  # 200000*(6-0.6)/1e6
    assert near(attempts["mini-batch"]["cache_savings_usd"], "0.0000384")  # 1024*0.0375/1e6
    assert attempts["mini-flex"]["cache_savings_usd"] is None

    failing = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failing == ["evidence_requirements_met"]  # the unpriced packets: a WARN finding


def test_packets_sum_the_classes_and_name_what_is_unpriced(costs_run):
    db_url, _ = costs_run
    packets = {p["workload_tag"]: p for p in rows(db_url, "review_packets")}
    everything = packets["search-claude-all"]
    assert (
        everything["prompt_tokens"],
        everything["cached_prompt_tokens"],
        everything["cache_write_tokens"],
        everything["completion_tokens"],
        everything["reasoning_tokens"],
        everything["gateway_retries"],
    ) == (300000, 200000, 50000, 4000, 1000, 2)
    assert near(everything["est_cost_usd"], "0.885")
    assert near(everything["cache_savings_usd"], "1.08")
    assert everything["pricing_source_checked"] is True

    for name, what in {
        "mini-flex": "gpt-4o-mini, flex tier: the model's tiers do not name this service tier",
        "mini-Batch": "gpt-4o-mini, Batch tier: the model's tiers do not name",
        "plain-cached": "plain-model, standard tier: cached input tokens have no "
        "cached_input_per_1m",
        "mystery": "mystery-model, standard tier: the model is not in the snapshot",
    }.items():
        p = packets[f"search-{name}"]
        assert p["est_cost_usd"] is None and p["cache_savings_usd"] is None
        assert p["pricing_source_checked"] is False
        assert json.loads(p["failed_requirements"]) == [
            "pricing_source_checked",
            "unit_metric_defined",
        ]
        note = p["notes"].splitlines()[0]
        assert note.startswith("pricing_source_checked: 1 attempt(s) are not priced"), note
        assert what in note and "the pipeline operator must supply" in note, note


def test_focus_rows_per_class_tier_and_band(costs_run):
    db_url, _ = costs_run
    charges = rows(db_url, "focus_charges")
    by_sku = {(r["workload_tag"], r["SkuId"]): r for r in charges}

    # the long band: every class its own row, SkuId with the entry's threshold
    skus = sorted(sku for (w, sku) in by_sku if w == "search-claude-all")
    assert skus == sorted(
        f"claude-sonnet-4-5/{kind}/above_200000"
        for kind in ("input", "cached_input", "cache_write", "output", "reasoning", "request")
    )
    cached = by_sku[("search-claude-all", "claude-sonnet-4-5/cached_input/above_200000")]
    assert float(cached["ConsumedQuantity"]) == 200000 and cached["ConsumedUnit"] == "Tokens"
    assert float(cached["PricingQuantity"]) == 0.2 and cached["PricingUnit"] == "1M Tokens"
    assert near(cached["ListUnitPrice"], "0.6") and near(cached["ListCost"], "0.12")
    assert json.loads(cached["SkuPriceDetails"]) == {
        "TokenDirection": "Input",
        "TokenCacheAction": "Read",
        "ServiceTier": "standard",
        "ModelId": "claude-sonnet-4-5",
    }
    assert cached["ChargeDescription"] == (
        "claude-sonnet-4-5 cached input tokens, prompts over 200000 tokens"
    )
    assert cached["x_AbovePromptTokens"] == 200000
    reasoning = by_sku[("search-claude-all", "claude-sonnet-4-5/reasoning/above_200000")]
    assert near(reasoning["ListUnitPrice"], "22.5")  # missing reasoning price: output's
    assert json.loads(reasoning["SkuPriceDetails"]) == {
        "TokenDirection": "Output",
        "ServiceTier": "standard",
        "ModelId": "claude-sonnet-4-5",
    }

    # tier in the SkuId only when not standard; a tier's own band
    batch = by_sku[("search-claude-batch-long", "claude-sonnet-4-5/cache_write/batch/above_200000")]
    assert near(batch["ListUnitPrice"], "1.875") and batch["x_ServiceTier"] == "batch"
    assert batch["ChargeDescription"] == (
        "claude-sonnet-4-5 cache write tokens, batch tier, prompts over 200000 tokens"
    )
    assert ("search-claude-priority-long", "claude-sonnet-4-5/input/priority") in by_sku
    assert ("search-mini-std", "gpt-4o-mini/cached_input") in by_sku
    assert ("search-mini-default", "gpt-4o-mini/input") in by_sku  # normalized to standard
    request = by_sku[("search-mini-std", "gpt-4o-mini/request")]
    # a request row wherever there are 2xx attempts, at 0 with no per_request price
    assert float(request["ConsumedQuantity"]) == 1 and request["PricingUnit"] == "Requests"
    assert near(request["ListCost"], "0") and "TokenDirection" not in request["SkuPriceDetails"]
    assert ("search-o4-flex", "o4-mini/request/flex") not in by_sku  # a 500: no request row

    # unknown cost: null costs and unit prices, quantities kept
    flex = by_sku[("search-mini-flex", "gpt-4o-mini/input/flex")]
    assert flex["ListCost"] is None and flex["ListUnitPrice"] is None
    assert flex["BilledCost"] is None and float(flex["ConsumedQuantity"]) == 2000

    snapshot = rows(db_url, "pricing_snapshots", cycle=None)[0]["snapshot_id"]
    for r in charges:
        assert r["SkuPriceId"] == f"{snapshot[:16]}:{r['SkuId']}"
        assert r["x_PricingSnapshotId"] == snapshot
        assert r["AllocatedMethodId"] == "tokenreview-allocation-rules"
        assert json.loads(r["AllocatedMethodDetails"]) == {"rule_ids": ["search"]}
        assert r["AllocatedResourceId"] == f"{r['workload_tag']}/{r['request_class']}"
        assert r["AllocatedTags"] == r["Tags"]
        assert list(json.loads(r["Tags"])) == [
            "owner_tag",
            "workload_tag",
            "environment",
            "request_class",
        ]
        for column in ("ServiceProviderName", "HostProviderName", "ProviderName"):
            assert r[column] == "CometAPI"
        assert float(r["ConsumedQuantity"]) != 0  # only rows with a quantity

    # per packet: rows sum to the packet's tokens and estimate
    packets = {p["workload_tag"]: p for p in rows(db_url, "review_packets")}
    for workload, p in packets.items():
        mine = [r for r in charges if r["workload_tag"] == workload]
        tokens = sum(float(r["ConsumedQuantity"]) for r in mine if r["ConsumedUnit"] == "Tokens")
        assert tokens == p["prompt_tokens"] + p["completion_tokens"], workload
        if p["est_cost_usd"] is not None:
            total = sum(Decimal(str(r["ListCost"])) for r in mine)
            assert abs(total - Decimal(str(p["est_cost_usd"]))) <= EPS, workload


def test_litellm_excerpt_priced_end_to_end(tmp_path, db_url):
    records = [
        # batch above 200k: batch has no long_context of its own -> the batch band
        # (250000*1 + 1000*6) / 1e6
        case("g-batch", "gemini/gemini-3-pro-preview", 250000, 1000, tier="batch"),
        # priority above 200k: its own entry (250000*7.2 + 1000*32.4) / 1e6
        case("g-priority", "gemini/gemini-3-pro-preview", 250000, 1000, tier="priority"),
        # cache writes above 200k: (100001*6 + 50000*0.6 + 50000*7.5 + 2000*22.5) / 1e6
        case("anthropic", "claude-sonnet-4-5", 200001, 2000, cached_prompt_tokens=50000,
             cache_write_tokens=50000),
        # priority cached: (1000*0.25 + 1000*0.125 + 100*1) / 1e6
        case("oai", "gpt-4o-mini", 2000, 100, tier="priority", cached_prompt_tokens=1000),
        # flex with reasoning: (1000*0.125 + 100*0.75 + 400*1.5) / 1e6
        case("flash", "gemini/gemini-3.1-flash-lite", 1000, 500, tier="flex",
             reasoning_tokens=400),
    ]  # fmt: skip
    expected = {
        "g-batch": ("batch", None, "0.256"),
        "g-priority": ("priority", 200000, "1.8324"),
        "anthropic": ("standard", 200000, "1.050006"),
        "oai": ("priority", None, "0.000475"),
        "flash": ("flex", None, "0.0008"),
    }
    cfg = write_scenario(
        tmp_path,
        records,
        pricing={},
        extra_config={"pricing": {"url": "litellm.json", "format": "litellm", "max_age_days": 30}},
    )
    shutil.copy(FIXTURE, tmp_path / "litellm.json")
    result = run(cfg, db_url)
    attempts = {a["attempt_id"]: a for a in rows(db_url, "request_attempts")}
    for name, (tier, above, cost) in expected.items():
        a = attempts[name]
        assert (a["service_tier"], a["above_prompt_tokens"]) == (tier, above), name
        assert near(a["cost_usd"], cost), (name, a["cost_usd"])
    assert all(p["result"] == "pass" for p in rows(db_url, "review_packets"))
    assert all(e.passed for e in result.get_asset_check_evaluations())


def test_bundled_sample_prices_every_attempt_by_the_spec(tmp_path, db_url):
    """The bundled sample's logs hold every class, tier and band: each attempt is priced
    as SPEC 4.4 says (checked against an independent Python oracle), only the unpriced
    model and tier are unknown, and the FOCUS rows reconcile (the blocking checks pass)."""
    sample = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, sample, ignore=shutil.ignore_patterns("*.py", ".*", "__pycache__"))
    result = run(sample / "tokenreview.yaml", db_url)
    failing = {
        e.check_name: e.severity.value for e in result.get_asset_check_evaluations() if not e.passed
    }
    # findings only (packets, budgets, the bill), no data fault
    assert "evidence_requirements_met" in failing and set(failing.values()) == {"WARN"}
    snapshot = parse_pricing(
        (sample / "pricing.json").read_bytes(),
        fmt="tokenreview",
        configured_url="pricing.json",
        accessed_at=datetime.now(timezone.utc),
    )
    attempts = rows(db_url, "request_attempts")
    seen = {"tiers": set(), "bands": set(), "classes": set()}
    for a in attempts:
        expected = expected_cost(
            snapshot,
            a["model"],
            a["service_tier"],
            a["status_code"],
            a["prompt_tokens"],
            a["completion_tokens"],
            a["cached_prompt_tokens"],
            a["cache_write_tokens"],
            a["reasoning_tokens"],
        )
        if expected is None:
            assert a["cost_usd"] is None, a["attempt_id"]
            assert a["model"] == UNPRICED_MODEL or a["service_tier"] == UNPRICED_TIER
        else:
            assert near(a["cost_usd"], str(expected)), a["attempt_id"]
        seen["tiers"].add(a["service_tier"])
        seen["bands"].add((a["service_tier"], a["above_prompt_tokens"]))
        for name in ("cached_prompt_tokens", "cache_write_tokens", "reasoning_tokens"):
            if a[name]:
                seen["classes"].add(name)
    assert seen["tiers"] >= {"standard", "batch", "flex", "priority", UNPRICED_TIER}
    assert {("standard", 200000), ("batch", 200000)} <= seen["bands"]
    assert len(seen["classes"]) == 3

    packets = rows(db_url, "review_packets")
    notes = [p["notes"] for p in packets if not p["pricing_source_checked"]]
    assert any(f"{UNPRICED_MODEL}, standard tier: the model is not in" in n for n in notes)
    assert any(f", {UNPRICED_TIER} tier: the model's tiers do not name" in n for n in notes)
    skus = {r["SkuId"] for r in rows(db_url, "focus_charges")}
    assert "claude-sonnet-4-20250514/cache_write/batch/above_200000" in skus
    assert "o4-mini/reasoning/flex" in skus
    assert "gpt-4o-mini/cached_input/priority" in skus
