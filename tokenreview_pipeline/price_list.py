"""A parsed price list (SPEC 2.3) and how it resolves into price bands.

A model has its own price keys (``PriceSet``), optional ``tiers`` (service tier name ->
the keys that replace the model's, and the tier's own ``long_context``) and a
``long_context`` list for the standard tier. An attempt's prices are resolved in SPEC
order: the model's keys, replaced by its tier's, replaced by the long-context entry with
the highest ``above_prompt_tokens`` its ``prompt_tokens`` exceed (a key the entry omits
keeps the tier's value). SPEC 4.4's defaults (a missing ``cache_write_per_1m`` is the
input price, ...) are *not* applied here: a key that stays missing is ``None``, so the
ledger keeps "missing" apart from 0 and the cost SQL applies the defaults in one place
(``sql_templates.attempt_cost``).

``ModelPrice.bands()`` materializes that resolution: one ``PriceBand`` per (service tier,
long-context band) with the range of ``prompt_tokens`` it covers. Those are the rows of
``pricing_snapshot_prices``; pricing an attempt is then one equi-join plus a range test.
A tier without a ``long_context`` of its own has a single band covering every prompt
size (the model's entries do not apply inside it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from decimal import Decimal

from tokenreview_pipeline.contract import PRICE_KEYS, STANDARD_TIER


@dataclass(frozen=True)
class PriceSet:
    """The price keys given at one level (model, tier or long-context entry); ``None``
    where the document does not give the key."""

    input_per_1m: Decimal | None = None
    output_per_1m: Decimal | None = None
    per_request: Decimal | None = None
    cached_input_per_1m: Decimal | None = None
    cache_write_per_1m: Decimal | None = None
    reasoning_per_1m: Decimal | None = None

    def over(self, base: PriceSet) -> PriceSet:
        """``base`` with every key this set gives replaced by this set's value."""
        given = {k: v for k, v in self.items() if v is not None}
        return replace(base, **given)

    def items(self) -> Iterator[tuple[str, Decimal | None]]:
        for key in PRICE_KEYS:
            yield key, getattr(self, key)

    def given(self) -> dict[str, Decimal]:
        return {k: v for k, v in self.items() if v is not None}


if tuple(f.name for f in fields(PriceSet)) != PRICE_KEYS:  # pragma: no cover - declaration
    raise RuntimeError("PriceSet's fields must be contract.PRICE_KEYS, in order")


@dataclass(frozen=True)
class LongContextEntry:
    """``{above_prompt_tokens: N, price keys}``: applies when ``prompt_tokens > N``."""

    above_prompt_tokens: int
    prices: PriceSet


@dataclass(frozen=True)
class TierPrice:
    prices: PriceSet
    long_context: tuple[LongContextEntry, ...] = ()


@dataclass(frozen=True)
class PriceBand:
    """One resolved row of ``pricing_snapshot_prices``: the prices of ``model`` in
    ``service_tier`` for ``min_prompt_tokens <= prompt_tokens <= max_prompt_tokens``
    (``None``: no upper bound); ``above_prompt_tokens`` is the long-context entry that
    applies in the band, ``None`` for the band below every entry."""

    model: str
    service_tier: str
    min_prompt_tokens: int
    max_prompt_tokens: int | None
    above_prompt_tokens: int | None
    prices: PriceSet


def _bands(
    model: str, tier: str, prices: PriceSet, entries: tuple[LongContextEntry, ...]
) -> list[PriceBand]:
    ordered = sorted(entries, key=lambda e: e.above_prompt_tokens)
    first_limit = ordered[0].above_prompt_tokens if ordered else None
    bands = [PriceBand(model, tier, 0, first_limit, None, prices)]
    for i, entry in enumerate(ordered):
        upper = ordered[i + 1].above_prompt_tokens if i + 1 < len(ordered) else None
        bands.append(
            PriceBand(
                model,
                tier,
                entry.above_prompt_tokens + 1,
                upper,
                entry.above_prompt_tokens,
                entry.prices.over(prices),
            )
        )
    return bands


@dataclass(frozen=True)
class ModelPrice:
    """A model's prices as the document gives them (keys not yet resolved)."""

    model: str
    prices: PriceSet
    long_context: tuple[LongContextEntry, ...] = ()
    tiers: tuple[tuple[str, TierPrice], ...] = ()

    def tier(self, name: str) -> TierPrice | None:
        return dict(self.tiers).get(name)

    def bands(self) -> list[PriceBand]:
        """Every (tier, band) of the model, the standard tier first, then the tiers in
        document order, each band in threshold order."""
        out = _bands(self.model, STANDARD_TIER, self.prices, self.long_context)
        for name, tier in self.tiers:
            out.extend(_bands(self.model, name, tier.prices.over(self.prices), tier.long_context))
        return out
