"""Value conversions the input formats share: times to ISO 8601 UTC, digit strings."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

from tokenreview_pipeline.extract.records import InvalidTimestamp
from tokenreview_pipeline.isotime import parse_datetime

__all__ = ["digits_to_int", "epoch_to_iso", "iso_utc", "parse_naive_utc"]

_UTC = timezone.utc  # noqa: UP017 - datetime.UTC is Python 3.11+
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_DIGITS = re.compile(r"[0-9]{1,30}")
_SIGNED_DIGITS = re.compile(r"-?[0-9]{1,30}")


def iso_utc(moment: datetime) -> str:
    """ISO 8601 with an offset; a naive ``moment`` is UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment.isoformat()


def parse_naive_utc(value: str) -> datetime | None:
    """An ISO 8601 text as an aware datetime, UTC when it has no offset; None if unparsable.

    ``Z`` is accepted (and, for Python 3.10, rewritten as ``+00:00`` first)."""
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment


def digits_to_int(value: object, *, signed: bool = False) -> object:
    """A string of decimal digits as an int (headers are strings); any other value as is."""
    pattern = _SIGNED_DIGITS if signed else _DIGITS
    if isinstance(value, str) and pattern.fullmatch(value):
        return int(value)
    return value


def epoch_to_iso(value: object, per_second: int) -> str | InvalidTimestamp:
    """An epoch count (``per_second`` units a second; a number or a digit string) as ISO
    8601 UTC, or ``InvalidTimestamp`` for anything else (and for out-of-range values)."""
    number = digits_to_int(value)
    if isinstance(number, bool) or not isinstance(number, int | float):
        return InvalidTimestamp(_shown(value))
    if isinstance(number, float) and not math.isfinite(number):
        return InvalidTimestamp(_shown(value))
    try:
        if isinstance(number, int):
            micros = number * 1_000_000 // per_second
        else:
            micros = round(number * 1_000_000 / per_second)
        return (_EPOCH + timedelta(microseconds=micros)).isoformat()
    except (OverflowError, ValueError):
        return InvalidTimestamp(_shown(value))


def _shown(value: object) -> str:
    return repr(value)[:64] or "?"
