"""FOCUS 1.3 export (SPEC 5 "FOCUS export"): one row per (workload, request class, model,
service tier, long-context entry, snapshot, charge kind) with a non-zero quantity, and
the invariants that tie it to the packets, for any valid token split."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from cost_oracle import expected_cost
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from price_docs import spec_model
from scenario import CYCLE, REVIEW_DATE, attempt, rows, run, run_unpublished, ts, write_scenario

from tokenreview_pipeline import ledger
from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.contract import FOCUS
from tokenreview_pipeline.cycles import parse_cycle
from tokenreview_pipeline.defs.run_params import cycle_params
from tokenreview_pipeline.pricing import parse_pricing
from tokenreview_pipeline.sql_models import discover_models, run_model

EPS = Decimal("0.000001")


def test_focus_rows_reconcile_with_packets(tmp_path, db_url):
    cfg = write_scenario(
        tmp_path,
        [
            # gpt-4o: 2.5 / 10 per 1M tokens, 0.001 per successful request
            attempt(
                "f1",
                ts(1),
                model="gpt-4o",
                prompt_tokens=1000,
                completion_tokens=200,
                prompt_fingerprint="fp-f",
                client_retry_count=0,
                status_code=503,
            ),
            attempt(
                "f2",
                ts(2),
                model="gpt-4o",
                prompt_tokens=1000,
                completion_tokens=400,
                prompt_fingerprint="fp-f",
                client_retry_count=1,
                status_code=200,
            ),
            attempt("m1", ts(3), model="mystery-model", prompt_tokens=10, completion_tokens=0),
        ],
    )
    run(cfg, db_url)
    charges = {(r["model"], r["x_ChargeKind"]): r for r in rows(db_url, "focus_charges")}
    # rows with a non-zero quantity only: the mystery model has input tokens and a 2xx
    assert set(charges) == {
        ("gpt-4o", "input"),
        ("gpt-4o", "output"),
        ("gpt-4o", "request"),
        ("mystery-model", "input"),
        ("mystery-model", "request"),
    }

    inp, out, req = (charges[("gpt-4o", k)] for k in ("input", "output", "request"))
    assert Decimal(str(inp["BilledCost"])) == Decimal("0.005")  # 2000 tokens * 2.5 / 1e6
    assert Decimal(str(out["BilledCost"])) == Decimal("0.006")  # 600 tokens * 10 / 1e6
    assert Decimal(str(req["BilledCost"])) == Decimal("0.001")  # one 2xx attempt
    assert float(inp["PricingQuantity"]) == 0.002 and inp["PricingUnit"] == "1M Tokens"
    assert float(inp["ConsumedQuantity"]) == 2000 and inp["ConsumedUnit"] == "Tokens"
    assert float(inp["x_RetryQuantity"]) == 1000
    assert abs(float(out["x_RetryCost"]) - 0.004) < 1e-9
    assert req["PricingUnit"] == "Requests" and float(req["PricingQuantity"]) == 1
    assert (inp["SkuId"], out["SkuId"], req["SkuId"]) == (
        "gpt-4o/input",
        "gpt-4o/output",
        "gpt-4o/request",
    )
    assert inp["ChargeDescription"] == "gpt-4o uncached input tokens"
    for row in charges.values():
        assert row["BilledCost"] == row["EffectiveCost"] == row["ListCost"] == row["ContractedCost"]
        assert row["ChargeCategory"] == "Usage" and row["BillingCurrency"] == "USD"
        assert row["ChargeClass"] is None
        assert row["ServiceCategory"] == "AI and Machine Learning"
        for column in (*FOCUS.provider_columns, "BillingAccountId", "BillingAccountName"):
            assert row[column] == "CometAPI", column
        assert row["x_ServiceTier"] == "standard" and row["x_AbovePromptTokens"] is None
        assert bool(row["x_CostIsEstimate"]) is True
        assert json.loads(row["Tags"]) == {
            "owner_tag": "team-search",
            "workload_tag": "search-web",
            "environment": "production",
            "request_class": "production:/v1/chat/completions",
        }
    mystery = charges[("mystery-model", "input")]
    assert mystery["BilledCost"] is None and mystery["ListUnitPrice"] is None
    assert float(mystery["ConsumedQuantity"]) == 10  # the quantity stays

    packet = next(p for p in rows(db_url, "review_packets") if p["workload_tag"] == "search-web")
    priced_total = sum(
        Decimal(str(r["BilledCost"])) for (m, _), r in charges.items() if m == "gpt-4o"
    )
    assert packet["est_cost_usd"] is None  # mystery-model is in the same packet, unpriced
    assert priced_total == Decimal("0.012")
    assert json.loads(inp["x_AllocationRuleIds"]) == ["search"]
    assert inp["x_PacketResult"] == packet["result"]


# ------------------------------------------------------------------ property

PRICING = {
    "models": [
        spec_model("gpt-4o-mini", per_request=0.0001),
        spec_model(
            "claude-sonnet-4-5",
            reasoning_per_1m=16,
            long_context=[
                {"above_prompt_tokens": 200000, "input_per_1m": 6.0, "output_per_1m": 22.5},
                {"above_prompt_tokens": 300000, "cached_input_per_1m": 0.9},
            ],
            tiers={
                "batch": {
                    "input_per_1m": 1.5,
                    "long_context": [{"above_prompt_tokens": 100000, "output_per_1m": 9}],
                }
            },
        ),
        {"model": "no-cache", "input_per_1m": 1, "output_per_1m": 2},
    ]
}
MODELS = ("gpt-4o-mini", "claude-sonnet-4-5", "no-cache", "not-priced")
TIERS = (None, "", "default", "auto", "batch", "priority", "flex")
# six attempts in three packets
SLOTS = [(f"p{i}", ("alpha", "beta", "gamma")[i % 3]) for i in range(6)]


@dataclass
class Split:
    model: str
    tier: str | None
    status: int | None
    prompt: int
    cached: int
    write: int
    completion: int
    reasoning: int


@st.composite
def splits(draw) -> Split:
    """A valid token split of SPEC 4.1: classes are parts of their totals, never over."""
    prompt = draw(st.one_of(st.integers(0, 3000), st.integers(199_990, 300_010)))
    cached = draw(st.integers(0, prompt))
    write = draw(st.integers(0, prompt - cached))
    completion = draw(st.integers(0, 5000))
    reasoning = draw(st.integers(0, completion))
    return Split(
        draw(st.sampled_from(MODELS)),
        draw(st.sampled_from(TIERS)),
        draw(st.sampled_from((200, 201, 429, 500, None))),
        prompt,
        cached,
        write,
        completion,
        reasoning,
    )


@pytest.fixture
def base_cycle(tmp_path, db_url):
    """One cycle of six attempts through the pipeline up to its publication (which would
    prune the staging); the property then rewrites their token split in the staged
    records and rebuilds the cost models with the pipeline's own runner."""
    records = [
        attempt(name, ts(i), request_id=name, tags={"team": "search", "project": project})
        for i, (name, project) in enumerate(SLOTS)
    ]
    cfg = write_scenario(tmp_path, records, pricing=PRICING)
    run_unpublished(cfg, db_url)
    config = load_config(cfg, database_url=db_url)
    params = cycle_params(parse_cycle(CYCLE, config.cadence), config, REVIEW_DATE, "property")
    snapshot = parse_pricing(
        (tmp_path / "pricing.json").read_bytes(),
        fmt="tokenreview",
        configured_url="pricing.json",
        accessed_at=datetime.now(timezone.utc),
    )
    return db_url, params, snapshot


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(splits(), min_size=len(SLOTS), max_size=len(SLOTS)))
def test_focus_rows_sum_to_the_packets_for_any_split(base_cycle, drawn):
    db_url, params, snapshot = base_cycle
    engine = ledger.engine_for(db_url)
    staged = ledger.stg_source_records
    with engine.begin() as conn:
        for (name, _), split in zip(SLOTS, drawn, strict=True):
            conn.execute(
                sa.update(staged)
                .where(staged.c.cycle_id == CYCLE, staged.c.attempt_id == name)
                .values(
                    model=split.model,
                    service_tier=split.tier,
                    status_code=split.status,
                    prompt_tokens=split.prompt,
                    cached_prompt_tokens=split.cached,
                    cache_write_tokens=split.write,
                    completion_tokens=split.completion,
                    reasoning_tokens=split.reasoning,
                )
            )
    models = discover_models()
    for name in ("request_attempts", "review_packets", "focus_charges"):
        built = run_model(engine, models[name], params)
        failed = [o.check.name for o in built.checks if not o.passed]
        assert not built.blocked, (name, failed, [o.sample for o in built.checks])

    attempts = {a["attempt_id"]: a for a in rows(db_url, "_build_request_attempts")}
    for (name, _), split in zip(SLOTS, drawn, strict=True):
        expected = expected_cost(
            snapshot,
            split.model,
            split.tier,
            split.status,
            split.prompt,
            split.completion,
            split.cached,
            split.write,
            split.reasoning,
        )
        got = attempts[name]["cost_usd"]
        assert (got is None) == (expected is None), (name, split, got)
        if expected is not None:
            assert abs(Decimal(str(got)) - expected) <= EPS, (name, split, got, expected)

    charges = rows(db_url, "_build_focus_charges")
    for p in rows(db_url, "_build_review_packets"):
        mine = [r for r in charges if r["workload_tag"] == p["workload_tag"]]
        by_kind: dict[str, float] = {}
        for r in mine:
            by_kind[r["x_ChargeKind"]] = by_kind.get(r["x_ChargeKind"], 0) + float(
                r["ConsumedQuantity"]
            )
        assert (
            sum(by_kind.get(k, 0) for k in ("input", "cached_input", "cache_write"))
            == (p["prompt_tokens"])
        )
        assert sum(by_kind.get(k, 0) for k in ("output", "reasoning")) == p["completion_tokens"]
        assert by_kind.get("cached_input", 0) == p["cached_prompt_tokens"]
        assert by_kind.get("cache_write", 0) == p["cache_write_tokens"]
        assert by_kind.get("reasoning", 0) == p["reasoning_tokens"]
        if p["est_cost_usd"] is not None:
            total = sum(Decimal(str(r["ListCost"])) for r in mine)
            assert abs(total - Decimal(str(p["est_cost_usd"]))) <= EPS
        else:
            assert p["pricing_source_checked"] is False
        for r in mine:
            if r["ListCost"] is not None:
                product = Decimal(str(r["PricingQuantity"])) * Decimal(str(r["ListUnitPrice"]))
                assert abs(product - Decimal(str(r["ListCost"]))) <= EPS
