"""Pricing sources (SPEC 2.3): fetch a price document and turn it into a snapshot.

``fetch_pricing_bytes`` gets the raw bytes (``http(s)://`` with httpx, ``file://``,
or a path relative to the config's folder); ``parse_pricing`` validates them into
an immutable :class:`PricingSnapshot` whose ``snapshot_id`` is the SHA-256 of the
raw bytes, so fetching identical bytes again yields the identical snapshot.

Prices are :class:`~decimal.Decimal` throughout: JSON numbers are parsed with
``parse_float=Decimal`` so ``1.5e-07`` per token is exactly ``0.15`` per 1M.

Every failure raises :class:`PricingFetchError` (a document that cannot be fetched)
or :class:`PricingFormatError` (fetched, but not a valid price document; it is both
a ``PricingFetchError`` and a ``ValueError``), so callers that keep the last
snapshot on failure catch ``PricingFetchError`` alone. Messages never contain URL
credentials or query strings.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from tokenreview_pipeline.contract import (
    PRICE_KEYS,
    REQUIRED_PRICE_KEYS,
    STANDARD_TIER,
    STANDARD_TIER_ALIASES,
)
from tokenreview_pipeline.http_fetch import FetchLimitError, bounded_get
from tokenreview_pipeline.price_list import (
    LongContextEntry,
    ModelPrice,
    PriceBand,
    PriceSet,
    TierPrice,
)
from tokenreview_pipeline.urls import safe_url

__all__ = [
    "PRICING_FORMATS",
    "LongContextEntry",
    "ModelPrice",
    "PriceBand",
    "PriceSet",
    "PricingFetchError",
    "PricingFormatError",
    "PricingSnapshot",
    "TierPrice",
    "fetch_pricing_bytes",
    "parse_pricing",
    "safe_url",
]

PRICING_FORMATS = ("tokenreview", "litellm")
#: Defaults of ``pricing.timeout_s`` (the whole fetch) and ``pricing.max_bytes``.
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_CURRENCY = "USD"
LITELLM_SKIP_KEYS = frozenset({"sample_spec"})

_TOKENREVIEW_TOP_KEYS = ("source_url", "currency", "models")
_TIERED_KEYS = (*PRICE_KEYS, "long_context")
_TOKENREVIEW_MODEL_KEYS = ("model", *_TIERED_KEYS, "tiers")
_LONG_CONTEXT_KEYS = ("above_prompt_tokens", *PRICE_KEYS)
# A threshold is stored as a 64-bit integer (token counts stay below 2^40, SPEC 2.5).
_MAX_THRESHOLD = 2**62

# Enough precision that scaling a JSON number never rounds.
_EXACT = decimal.Context(prec=200, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


class PricingFetchError(RuntimeError):
    """The pricing source could not be fetched or read."""


class PricingFormatError(PricingFetchError, ValueError):
    """The pricing document was fetched but is not a valid price document."""


@dataclass(frozen=True)
class PricingSnapshot:
    snapshot_id: str
    content_sha256: str
    source_url: str
    currency: str
    accessed_at: datetime
    prices: tuple[ModelPrice, ...]

    @property
    def model_count(self) -> int:
        return len(self.prices)

    def price_for(self, model: str) -> ModelPrice | None:
        """The price of ``model`` (exact name), or ``None`` if the snapshot lacks it."""
        for price in self.prices:
            if price.model == model:
                return price
        return None

    def bands(self) -> list[PriceBand]:
        """The rows of ``pricing_snapshot_prices``: every model's resolved bands."""
        return [band for price in self.prices for band in price.bands()]


# ------------------------------------------------------------------------ fetching


def _redact_message(message: str, url: str) -> str:
    shown = safe_url(url)
    return message.replace(url, shown) if url else message


def _fetch_http(url: str, timeout_s: float, max_bytes: int) -> bytes:
    shown = safe_url(url)
    try:
        with httpx.Client(follow_redirects=True) as client:
            response = bounded_get(client, url, deadline_s=timeout_s, max_bytes=max_bytes)
    except FetchLimitError as exc:  # the total deadline or the size cap (not per read)
        raise PricingFetchError(f"pricing fetch from {shown} stopped: {exc}") from None
    except httpx.TimeoutException as exc:
        raise PricingFetchError(
            f"pricing fetch from {shown} timed out after {timeout_s:g}s ({type(exc).__name__})"
        ) from None
    except httpx.HTTPError as exc:
        detail = _redact_message(str(exc), url) or type(exc).__name__
        raise PricingFetchError(
            f"pricing fetch from {shown} failed: {type(exc).__name__}: {detail}"
        ) from None
    except ValueError as exc:  # e.g. an invalid URL
        raise PricingFetchError(f"pricing fetch from {shown} failed: invalid URL") from exc
    if response.status_code >= 400:
        raise PricingFetchError(
            f"pricing fetch from {shown} failed: HTTP {response.status_code} "
            f"{response.reason_phrase}".rstrip()
        )
    return response.content


def _read_file(path: Path, shown: str, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as f:
            raw = f.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise PricingFetchError(
                f"pricing file {shown} is over the size cap of {max_bytes:,} bytes "
                "(pricing.max_bytes)"
            )
        return raw
    except FileNotFoundError:
        raise PricingFetchError(f"pricing file not found: {shown}") from None
    except IsADirectoryError:
        raise PricingFetchError(f"pricing path is a directory: {shown}") from None
    except OSError as exc:
        raise PricingFetchError(
            f"cannot read pricing file {shown}: {exc.strerror or type(exc).__name__}"
        ) from None


def fetch_pricing_bytes(
    url: str,
    *,
    base_dir: Path,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes:
    """The raw bytes of the pricing document at ``url``, at most ``max_bytes`` of them.

    ``http://``/``https://``: GET with httpx through ``http_fetch.bounded_get``
    (``timeout_s`` is the whole fetch's deadline, not a per-read timeout; redirects
    followed, 4xx/5xx is an error; proxy environment variables are honoured).
    ``file://``: a local file (``file:///abs/path``; a relative ``file:`` URL is not
    supported). Anything
    without a scheme is a filesystem path, relative paths resolved against
    ``base_dir`` (the config file's folder).
    """
    if not isinstance(url, str) or not url.strip():
        raise PricingFetchError("pricing url is empty")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise PricingFetchError("pricing url is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return _fetch_http(url, timeout_s, max_bytes)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise PricingFetchError(
                f"file URL with a remote host is not supported: {safe_url(url)}"
            )
        path = Path(url2pathname(parts.path))
        if not path.is_absolute():
            raise PricingFetchError(f"file URL must hold an absolute path: {safe_url(url)}")
        return _read_file(path, str(path), max_bytes)
    if scheme and len(scheme) > 1:  # one letter: a Windows drive, i.e. a path
        raise PricingFetchError(
            f"unsupported pricing url scheme {scheme!r} (use http, https, file or a path)"
        )
    path = Path(url).expanduser()
    if not path.is_absolute():
        path = Path(base_dir) / path
    return _read_file(path, str(path), max_bytes)


# ------------------------------------------------------------------------- parsing


def _reject_constant(name: str) -> object:
    raise PricingFormatError(f"invalid JSON number {name} (NaN/Infinity are not prices)")


class _JSONObject(dict):
    """A parsed JSON object that remembers keys it saw more than once."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, object]]) -> _JSONObject:
    obj = _JSONObject()
    duplicates: list[str] = []
    for key, value in pairs:
        if key in obj:
            duplicates.append(key)
        obj[key] = value
    if duplicates:
        obj.duplicates = tuple(duplicates)
    return obj


def _first_duplicate(value: object, where: str) -> str | None:
    """The path of the first repeated key anywhere in ``value``, if any."""
    if isinstance(value, _JSONObject):
        if value.duplicates:
            return f"{where}.{value.duplicates[0]}" if where else value.duplicates[0]
        for key, child in value.items():
            found = _first_duplicate(child, f"{where}.{key}" if where else key)
            if found:
                return found
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found = _first_duplicate(child, f"{where}[{i}]")
            if found:
                return found
    return None


def _load_json(raw: bytes) -> object:
    try:
        return json.loads(
            raw,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_object_pairs,
        )
    except PricingFormatError:
        raise
    except UnicodeDecodeError as exc:
        raise PricingFormatError(
            f"pricing document is not valid UTF-8/16/32: {exc.reason}"
        ) from None
    except json.JSONDecodeError as exc:
        raise PricingFormatError(
            f"pricing document is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise PricingFormatError("pricing document is nested too deeply") from None


def _as_price(value: object, where: str) -> Decimal:
    """A JSON number as an exact, finite, non-negative Decimal."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise PricingFormatError(f"{where}: expected a non-negative number")
    number = Decimal(value)
    if not number.is_finite() or number < 0:
        raise PricingFormatError(f"{where}: expected a non-negative number")
    return number


def _canonical(number: Decimal) -> Decimal:
    """Same value, plain form: no trailing zeros, no positive exponent (``1E+1`` -> ``10``)."""
    if number == 0:
        return Decimal(0)
    number = number.normalize(_EXACT)
    if number.as_tuple().exponent > 0:  # type: ignore[operator]
        number = number.quantize(Decimal(1), context=_EXACT)
    return number


def _per_million(per_token: Decimal) -> Decimal:
    return _canonical(per_token.scaleb(6, _EXACT))


def _nonempty_str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PricingFormatError(f"{where}: expected a non-empty string")
    return value


def _check_unique(prices: list[ModelPrice], where: list[str]) -> None:
    first: dict[str, str] = {}
    for price, loc in zip(prices, where, strict=True):
        if price.model in first:
            raise PricingFormatError(
                f"{loc}: duplicate model {price.model!r} (first at {first[price.model]})"
            )
        first[price.model] = loc


def _check_tier_name(name: str, where: str) -> None:
    if name == STANDARD_TIER or name in STANDARD_TIER_ALIASES:
        raise PricingFormatError(
            f"{where}: {name!r} is the standard tier, which the model's own keys price; "
            "tiers name the other service tiers"
        )


# ------------------------------------------------------------ tokenreview format


def _check_keys(obj: dict, allowed: tuple[str, ...], where: str) -> None:
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        raise PricingFormatError(
            f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(allowed)})"
        )


def _price_set(obj: dict, where: str) -> PriceSet:
    """The price keys of one level; a null or absent key is ``None`` (absent)."""
    return PriceSet(
        **{k: None if obj.get(k) is None else _as_price(obj[k], f"{where}.{k}") for k in PRICE_KEYS}
    )


def _threshold(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_THRESHOLD:
        raise PricingFormatError(f"{where}: expected a non-negative integer (prompt tokens)")
    return value


def _long_context(value: object, where: str) -> tuple[LongContextEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PricingFormatError(
            f"{where}: expected a list of {{above_prompt_tokens, price keys}} objects"
        )
    entries: list[LongContextEntry] = []
    first: dict[int, str] = {}
    for i, item in enumerate(value):
        loc = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise PricingFormatError(f"{loc}: expected an object")
        _check_keys(item, _LONG_CONTEXT_KEYS, loc)
        if item.get("above_prompt_tokens") is None:
            raise PricingFormatError(f"{loc}.above_prompt_tokens: required")
        threshold = _threshold(item["above_prompt_tokens"], f"{loc}.above_prompt_tokens")
        if threshold in first:
            raise PricingFormatError(
                f"{loc}.above_prompt_tokens: {threshold} repeats {first[threshold]}"
            )
        first[threshold] = loc
        entries.append(LongContextEntry(threshold, _price_set(item, loc)))
    return tuple(entries)


def _tiers(value: object, where: str) -> tuple[tuple[str, TierPrice], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PricingFormatError(f"{where}: expected an object of service tier -> price keys")
    tiers = []
    for name, tier in value.items():
        loc = f"{where}.{name}"
        _check_tier_name(name, loc)
        if not isinstance(tier, dict):
            raise PricingFormatError(f"{loc}: expected an object of price keys")
        _check_keys(tier, _TIERED_KEYS, loc)
        entries = _long_context(tier.get("long_context"), f"{loc}.long_context")
        tiers.append((name, TierPrice(_price_set(tier, loc), entries)))
    return tuple(tiers)


def _parse_tokenreview(doc: object) -> tuple[str | None, str, list[ModelPrice]]:
    if not isinstance(doc, dict):
        raise PricingFormatError("pricing document: expected a JSON object with 'models'")
    duplicate = _first_duplicate(doc, "")
    if duplicate:
        raise PricingFormatError(f"{duplicate}: key appears more than once")
    unknown = [k for k in doc if k not in _TOKENREVIEW_TOP_KEYS]
    if unknown:
        raise PricingFormatError(
            f"{unknown[0]}: unknown key (allowed: {', '.join(_TOKENREVIEW_TOP_KEYS)})"
        )
    source_url = doc.get("source_url")
    if source_url is not None:
        source_url = _nonempty_str(source_url, "source_url")
    currency = doc.get("currency")
    currency = DEFAULT_CURRENCY if currency is None else _nonempty_str(currency, "currency")
    models = doc.get("models")
    if not isinstance(models, list) or not models:
        raise PricingFormatError("models: expected a non-empty list")

    prices: list[ModelPrice] = []
    locations: list[str] = []
    for i, entry in enumerate(models):
        loc = f"models[{i}]"
        if not isinstance(entry, dict):
            raise PricingFormatError(f"{loc}: expected an object")
        _check_keys(entry, _TOKENREVIEW_MODEL_KEYS, loc)
        for key in ("model", *REQUIRED_PRICE_KEYS):
            if entry.get(key) is None:
                raise PricingFormatError(f"{loc}.{key}: required")
        prices.append(
            ModelPrice(
                model=_nonempty_str(entry["model"], f"{loc}.model"),
                prices=_price_set(entry, loc),
                long_context=_long_context(entry.get("long_context"), f"{loc}.long_context"),
                tiers=_tiers(entry.get("tiers"), f"{loc}.tiers"),
            )
        )
        locations.append(loc)
    _check_unique(prices, locations)
    return source_url, currency, prices


# ---------------------------------------------------------------- litellm format

#: LiteLLM key -> price key (SPEC 2.3). Each may end in a tier suffix; the first four
#: may also carry ``_above_<N>k_tokens`` (a long-context entry) before that suffix.
LITELLM_PRICE_KEYS = {
    "input_cost_per_token": "input_per_1m",
    "output_cost_per_token": "output_per_1m",
    "cache_read_input_token_cost": "cached_input_per_1m",
    "cache_creation_input_token_cost": "cache_write_per_1m",
    "output_cost_per_reasoning_token": "reasoning_per_1m",
    "input_cost_per_request": "per_request",
}
LITELLM_LONG_CONTEXT_KEYS = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
)
#: LiteLLM key suffix -> service tier, in the order tiers are listed.
LITELLM_TIER_SUFFIXES = {"batches": "batch", "flex": "flex", "priority": "priority"}
_LITELLM_PER_REQUEST = "input_cost_per_request"  # USD per request: not scaled
_LITELLM_KEY = re.compile(
    "(?P<stem>"
    + "|".join(map(re.escape, LITELLM_PRICE_KEYS))
    + ")(?:_above_(?P<thousands>[0-9]+)k_tokens)?(?:_(?P<tier>"
    + "|".join(LITELLM_TIER_SUFFIXES)
    + "))?"
)

# (tier or None for the standard tier, threshold or None) -> price key -> per-1M price
_Levels = dict[tuple[str | None, int | None], dict[str, Decimal]]


def _litellm_levels(entry: dict, loc: str) -> _Levels:
    levels: _Levels = {}
    for key, value in entry.items():
        match = _LITELLM_KEY.fullmatch(key)
        if match is None or value is None:
            continue  # not a price this format maps (audio, images, 1-hour writes...), or null
        stem, thousands, suffix = match.group("stem", "thousands", "tier")
        if thousands is not None and stem not in LITELLM_LONG_CONTEXT_KEYS:
            continue
        price = _as_price(value, f"{loc}.{key}")
        price = _canonical(price) if stem == _LITELLM_PER_REQUEST else _per_million(price)
        tier = LITELLM_TIER_SUFFIXES[suffix] if suffix else None
        threshold = int(thousands) * 1000 if thousands is not None else None
        levels.setdefault((tier, threshold), {})[LITELLM_PRICE_KEYS[stem]] = price
    return levels


def _litellm_entries(levels: _Levels, tier: str | None) -> tuple[LongContextEntry, ...]:
    thresholds = sorted(n for t, n in levels if t == tier and n is not None)
    return tuple(LongContextEntry(n, PriceSet(**levels[(tier, n)])) for n in thresholds)


def _litellm_model(key: str, entry: dict, loc: str) -> ModelPrice | None:
    levels = _litellm_levels(entry, loc)
    own = levels.get((None, None), {})
    if not any(k in own for k in REQUIRED_PRICE_KEYS):
        return None  # not priced per token (images, audio seconds, ...)
    for required in REQUIRED_PRICE_KEYS:
        own.setdefault(required, Decimal(0))  # one of them missing is 0 (SPEC 2.3)
    named = {t for t, _ in levels if t is not None}
    tiers = tuple(
        (tier, TierPrice(PriceSet(**levels.get((tier, None), {})), _litellm_entries(levels, tier)))
        for tier in LITELLM_TIER_SUFFIXES.values()
        if tier in named
    )
    return ModelPrice(
        model=_nonempty_str(key, loc),
        prices=PriceSet(**own),
        long_context=_litellm_entries(levels, None),
        tiers=tiers,
    )


def _parse_litellm(doc: object) -> tuple[str | None, str, list[ModelPrice]]:
    if not isinstance(doc, dict):
        raise PricingFormatError("pricing document: expected a JSON object of model entries")
    # Only repeated model keys matter here; the third-party map's nested metadata
    # is not ours to police (a repeated nested key keeps its last value).
    if isinstance(doc, _JSONObject) and doc.duplicates:
        raise PricingFormatError(
            f"{json.dumps(doc.duplicates[0], ensure_ascii=False)}: duplicate model key"
        )
    prices: list[ModelPrice] = []
    for key, entry in doc.items():
        if key in LITELLM_SKIP_KEYS:
            continue
        loc = json.dumps(key, ensure_ascii=False)
        if not isinstance(entry, dict):
            raise PricingFormatError(f"{loc}: expected an object")
        price = _litellm_model(key, entry, loc)
        if price is not None:
            prices.append(price)
    if not prices:
        raise PricingFormatError(
            "pricing document: no entry has input_cost_per_token or output_cost_per_token"
        )
    return None, DEFAULT_CURRENCY, prices


def parse_pricing(
    raw: bytes, *, fmt: str, configured_url: str, accessed_at: datetime
) -> PricingSnapshot:
    """Validate the raw bytes of a price document into a :class:`PricingSnapshot`.

    ``fmt`` is ``tokenreview`` or ``litellm``. ``source_url`` is the document's own
    ``source_url`` when it has one, else ``configured_url`` exactly as configured.
    ``accessed_at`` must be timezone-aware; it is stored in UTC.
    """
    if fmt not in PRICING_FORMATS:
        raise ValueError(f"unknown pricing format {fmt!r} (expected one of {PRICING_FORMATS})")
    if accessed_at.tzinfo is None or accessed_at.utcoffset() is None:
        raise ValueError("accessed_at must be timezone-aware")
    digest = hashlib.sha256(raw).hexdigest()
    doc = _load_json(raw)
    if fmt == "tokenreview":
        own_url, currency, prices = _parse_tokenreview(doc)
    else:
        own_url, currency, prices = _parse_litellm(doc)
    return PricingSnapshot(
        snapshot_id=digest,
        content_sha256=digest,
        source_url=own_url if own_url is not None else configured_url,
        currency=currency,
        accessed_at=accessed_at.astimezone(timezone.utc),
        prices=tuple(prices),
    )
