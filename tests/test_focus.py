"""FOCUS 1.2 export (SPEC 5): one row per (workload, class, model, charge kind)."""

import json
from decimal import Decimal

from scenario import attempt, rows, run, ts, write_scenario


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
    charges = {(r["model"], r["charge_kind"]): r for r in rows(db_url, "focus_charges")}
    assert set(charges) == {
        (m, k) for m in ("gpt-4o", "mystery-model") for k in ("input", "output", "request")
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
    for row in charges.values():
        assert row["BilledCost"] == row["EffectiveCost"] == row["ListCost"] == row["ContractedCost"]
        assert row["ChargeCategory"] == "Usage" and row["BillingCurrency"] == "USD"
        assert row["ServiceCategory"] == "AI and Machine Learning"
        assert row["ProviderName"] == row["ServiceName"] == "CometAPI"
        assert bool(row["x_CostIsEstimate"]) is True
        assert set(json.loads(row["Tags"])) == {
            "owner_tag",
            "workload_tag",
            "environment",
            "request_class",
        }
    assert charges[("mystery-model", "input")]["BilledCost"] is None

    packet = next(p for p in rows(db_url, "review_packets") if p["workload_tag"] == "search-web")
    priced_total = sum(
        Decimal(str(r["BilledCost"])) for (m, _), r in charges.items() if m == "gpt-4o"
    )
    assert packet["est_cost_usd"] is None  # mystery-model is in the same packet, unpriced
    assert priced_total == Decimal("0.012")
    assert json.loads(inp["x_AllocationRuleIds"]) == ["search"]
    assert inp["x_PacketResult"] == packet["result"]
