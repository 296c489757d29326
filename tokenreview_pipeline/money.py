"""Amounts of USD read from configuration and billing files: exact decimals, bounded.

Costs in the ledger are NUMERIC(38, 18) on PostgreSQL, so an amount read is at least
0, below 10^15 and has at most 18 decimal places; within those bounds it is stored
exactly (SQLite stores REAL, as for every cost).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["MAX_USD", "MAX_USD_PLACES", "parse_usd"]

#: Amounts are below this (a NUMERIC(38, 18) column holds 20 integer digits).
MAX_USD = Decimal(10) ** 15
#: Decimal places an amount may have: the ledger's NUMERIC(38, 18) scale.
MAX_USD_PLACES = 18


def parse_usd(text: str) -> Decimal:
    """A decimal amount of USD as text (``"12.5"``, ``"0.000001"``, ``"1e-7"``), exactly.

    Surrounding whitespace is ignored. Raises ``ValueError`` saying what is wrong: not
    a decimal number, not finite, negative, too large, or too many decimal places.
    """
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError("not a decimal number") from None
    if not value.is_finite():
        raise ValueError("not a finite number")
    if value < 0:
        raise ValueError("a negative number")
    if value >= MAX_USD:
        raise ValueError(f"not below {MAX_USD:,.0f}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_USD_PLACES:
        raise ValueError(f"more than {MAX_USD_PLACES} decimal places")
    return value + 0  # -0 is 0
