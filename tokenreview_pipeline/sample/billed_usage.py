"""The generated project's billed usage (SPEC 2.9): the provider's own daily records of
the traffic the sample's logs show, as two CSV exports in ``billing/``.

The provider bills every attempt that got a response by its own price sheet -- the same
numbers as ``pricing.json``: each token class at its price, the attempt's service tier and
long-context band, per-request prices on 2xx only; a tier the sheet does not name is billed
at standard prices -- per UTC day and model. Two exports:

- ``cometapi-usage.csv``: with token columns, every model but the Anthropic ones, plus a
  column the pipeline ignores; ``gpt-4o`` is billed 20% more prompt tokens than the
  gateway logged (the provider counts the tool definitions the log omits: a ``gap``);
  ``deepseek-chat`` goes through another account and is missing (``not_billed``);
  ``gemini-2.5-pro``, which ``pricing.json`` does not price, is billed at the
  provider's trial price (``not_estimated``);
- ``cometapi-anthropic-costs.csv``: costs only (no token columns, so ``billed_tokens``
  is null), the Claude models and ``whisper-1``, billed for transcriptions that never
  pass the gateway (a model billed but not estimated).

Days cover the whole traffic span, so the previous and the next cycle have billed rows
too (reconciled with their own cycles, never with the main one). Amounts are exact
decimals with 10 decimal places.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from tokenreview_pipeline.sample.timeline import DAY_MS, day_str
from tokenreview_pipeline.sample.world import PRICES

__all__ = ["BILLING_FOLDER", "BilledUsage"]

BILLING_FOLDER = "billing"
USAGE_NAME = "cometapi-usage.csv"
COSTS_NAME = "cometapi-anthropic-costs.csv"
_COSTS_MODELS = ("claude-",)
_NOT_BILLED = ("deepseek-chat",)
# Billed prompt tokens of gpt-4o per logged one (tool definitions the log omits).
_GPT4O_PROMPT_FACTOR = Decimal("1.20")
# The provider's trial price of the model pricing.json lacks (input, output per 1M).
_TRIAL_PRICE = (Decimal("1.25"), Decimal("10.00"))
# Transcription minutes billed per day outside the gateway, at 0.006 USD a minute.
_WHISPER_DAILY_USD = Decimal("0.0360")
_PLACES = Decimal("0.0000000001")
_MILLION = Decimal(1_000_000)


class BilledUsage:
    """Per (UTC day, model): requests, prompt and completion tokens, list-price cost."""

    def __init__(self) -> None:
        self._days: dict[tuple[int, str], list] = defaultdict(lambda: [0, 0, 0, Decimal(0)])

    def add(self, rec: dict, ts: int) -> None:
        """One attempt record as written to the log (``ts`` in ms since the epoch)."""
        status = rec.get("status_code")
        if status is None:  # no response: nothing served, nothing billed
            return
        model = rec["model"]
        prompt = int(rec.get("prompt_tokens") or 0)
        completion = int(rec.get("completion_tokens") or 0)
        if model == "gpt-4o":
            prompt = int((prompt * _GPT4O_PROMPT_FACTOR).to_integral_value())
        if model in PRICES:
            prices = _sheet_prices(PRICES[model], rec.get("service_tier"), prompt)
        else:
            prices = {"input_per_1m": _TRIAL_PRICE[0], "output_per_1m": _TRIAL_PRICE[1]}
        cost = _token_cost(prices, rec, prompt, completion)
        per_request = prices.get("per_request") or Decimal(0)
        if 200 <= status < 300:
            cost += per_request
        day = self._days[(ts // DAY_MS, model)]
        day[0] += 1
        day[1] += prompt
        day[2] += completion
        day[3] += cost

    def write(self, out: Path) -> list[Path]:
        """Write the two exports into ``out/billing``; returns their paths."""
        folder = out / BILLING_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        usage = ["date,model,requests,prompt_tokens,completion_tokens,cost_usd,currency"]
        costs = ["date,model,cost_usd,workspace"]
        days = sorted({day for day, _ in self._days})
        for (day, model), (requests, prompt, completion, cost) in sorted(self._days.items()):
            if model in _NOT_BILLED:
                continue
            amount = cost.quantize(_PLACES)
            if model.startswith(_COSTS_MODELS):
                costs.append(f"{day_str(day)},{model},{amount},support")
            else:
                usage.append(
                    f"{day_str(day)},{model},{requests},{prompt},{completion},{amount},USD"
                )
        for day in days:
            costs.append(f"{day_str(day)},whisper-1,{_WHISPER_DAILY_USD},support")
        paths = []
        for name, lines in ((USAGE_NAME, usage), (COSTS_NAME, costs)):
            path = folder / name
            path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
            paths.append(path)
        return paths


def _sheet_prices(entry: dict, tier: str | None, prompt: int) -> dict[str, Decimal]:
    """The provider's prices for one attempt: the model's, its tier's, its band's."""
    base = {k: v for k, v in entry.items() if k not in ("tiers", "long_context")}
    bands = entry.get("long_context", [])
    tier_entry = (entry.get("tiers") or {}).get(tier or "")
    if tier_entry is not None:
        base.update({k: v for k, v in tier_entry.items() if k != "long_context"})
        bands = tier_entry.get("long_context", [])
    over = [b for b in bands if prompt > b["above_prompt_tokens"]]
    if over:
        band = max(over, key=lambda b: b["above_prompt_tokens"])
        base.update({k: v for k, v in band.items() if k != "above_prompt_tokens"})
    return {k: Decimal(str(v)) for k, v in base.items() if v is not None}


def _token_cost(prices: dict[str, Decimal], rec: dict, prompt: int, completion: int) -> Decimal:
    cached = int(rec.get("cached_prompt_tokens") or 0)
    writes = int(rec.get("cache_write_tokens") or 0)
    reasoning = int(rec.get("reasoning_tokens") or 0)
    inp, outp = prices["input_per_1m"], prices["output_per_1m"]
    total = (
        (prompt - cached - writes) * inp
        + cached * prices.get("cached_input_per_1m", inp)
        + writes * prices.get("cache_write_per_1m", inp)
        + (completion - reasoning) * outp
        + reasoning * prices.get("reasoning_per_1m", outp)
    )
    return total / _MILLION
