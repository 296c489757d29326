"""Record-level extraction: validate, redact and fingerprint one request-log record.

Implements SPEC 2.1 (fields), 2.5 (secrets, storable values, bounds) and the
per-record part of 4.1 (quarantine reasons). Pure functions, no I/O. The bounds and
the secret patterns are declared in ``contract.py``; finding and replacing secrets is
``redaction.py``.

Decisions where the SPEC is silent (also listed in the project docs):

* Quarantine reasons are checked in the SPEC 4.1 order and the first one wins.
  ``duplicate_attempt_id`` is never produced here (it is decided later, in SQL).
* ``record_too_large``: a line (or CSV row, or HTTP record serialized as JSON) of more
  than 1 MiB (1,048,576 bytes) without its newline. A trailing CR is not counted.
* A leading UTF-8 byte order mark is ignored.
* ``malformed_json``: text that is not JSON; ``NaN`` / ``Infinity`` (not JSON) and a
  number literal outside the range of a double (``1e400``, which would read as
  infinity); an integer literal of more than 4,300 digits (Python refuses to convert
  it, a guard against quadratic conversion); and a record nested more than 512 levels
  deep (``contract.MAX_NESTING``), measured on the text before it is parsed (strings
  skipped), or on the value for an HTTP record. ``{}`` is one level.
* A NUL character or lone surrogate (``"\\ud800"``) in a string is replaced by U+FFFD
  in what is stored (SPEC 2.5); the record is not defective. The content hash, which
  decides exact duplicates, is taken over the parsed object before any replacement.
* A non-string ``timestamp`` (e.g. ``12345``) is ``invalid_type:timestamp``; a string that
  ``datetime.fromisoformat`` cannot parse is ``invalid_timestamp``; a parseable one
  without an offset is ``timestamp_without_timezone``.
* An empty string in a string field counts as absent, exactly like an empty CSV cell:
  it is ``missing_field`` in a required field and ``None`` in an optional one (so an
  empty ``service_tier`` is stored as NULL; its meaning, ``standard``, is applied in
  SQL with the other spellings). Strings are otherwise kept exactly as read.
* Bounds (SPEC 2.5, on values as read, before redaction): ``status_code``,
  ``client_retry_count`` and ``gateway_retries`` below 2^31 in absolute value, the five
  token fields below 2^40, the id-like strings at most 512 characters (Python
  characters: code points), ``tags`` at most 64 keys with keys and values of at most
  512 characters; beyond that ``invalid_type:<field>``. ``status_code`` may otherwise
  be any integer; ``latency_ms`` must be finite.
* ``source_ip`` must parse with :mod:`ipaddress` and carry no IPv6 zone index
  (``fe80::1%eth0``: the zone names an interface of the logging host, not where a
  request came from, and is free text of any length); it is stored in compressed form.
* CSV cells are text: ints are ``[+-]?[0-9]+`` (``"12"`` ok, ``"12.0"`` / ``" 12"`` not),
  numbers are decimal literals, ``tags`` is a JSON object in one cell (a cell nested
  deeper than that object is ``invalid_type:tags`` without being parsed). The prompt
  fingerprint of a CSV ``messages`` / ``prompt`` / ``input`` cell is taken over the
  cell text (a string).
* Tags whose key is a content field name (compared case-insensitively, like content
  fields anywhere) are dropped, as content fields are.
* Redaction (SPEC 2.5): every secret in every stored string -- every field, every tag
  key and value, the raw text -- is replaced, wherever it is in the value.
  ``redacted_values`` counts the ``api_key_id`` and the tag values in which a secret
  was replaced, once each; for a defective record, those of its parsed object (0 when
  it did not parse).
* ``raw_redacted``: for a record that parsed (a JSON value, or the cells of a CSV row),
  compact JSON of the value in its original key order, with content fields removed at
  every nesting level (key names compared case-insensitively) and every string and key
  made storable and redacted. For text that did not parse, content fields are cut out
  best-effort (``"prompt": <value>`` up to the end of its value, or to the end of the
  text when the value is unterminated; a key written with escapes, ``"pr\\u006fmpt"``,
  is recognized), then the text is made storable and redacted with its JSON escapes
  decoded. Always at most 4096 UTF-8 bytes, cut after redaction (a prefix of a text
  without secrets has none).
* ``ts_us`` is set whenever a parsed object is available and its ``timestamp`` is an
  ISO 8601 string with an offset; a line that is not valid UTF-8 is decoded with
  replacement characters for this purpose only (its ``content_sha256`` stays None).
  Too-large and malformed lines have ``ts_us = None`` (a too-large HTTP record, which
  did parse, keeps its ``ts_us`` and ``content_sha256``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import accumulate

from tokenreview_pipeline import contract
from tokenreview_pipeline.contract import Reason, RecordField
from tokenreview_pipeline.isotime import parse_datetime

from .redaction import has_secret, redact_text, redact_value

__all__ = [
    "CONTENT_FIELDS",
    "FIELD_NAMES",
    "MAX_RAW_BYTES",
    "MAX_RECORD_BYTES",
    "REQUIRED_FIELDS",
    "WRONG_TYPE",
    "ExtractedRecord",
    "InvalidTimestamp",
    "canonical_json",
    "has_secret",
    "prompt_fingerprint",
    "record_from_csv_defect",
    "record_from_csv_row",
    "record_from_line",
    "record_from_mapped",
    "record_from_object",
    "parse_source_text",
    "record_withheld",
    "source_content_hash",
    "source_raw_text",
    "redact_text",
    "redact_value",
]

MAX_RECORD_BYTES = contract.MAX_RECORD_BYTES
MAX_RAW_BYTES = contract.MAX_RAW_BYTES
# How much of a too-large line is looked at to build its raw_redacted.
_TOO_LARGE_PREFIX_BYTES = 64 * 1024

CONTENT_FIELDS = frozenset(contract.CONTENT_FIELDS)
_PROMPT_SOURCES = contract.PROMPT_SOURCES

FIELD_NAMES = contract.FIELD_NAMES
REQUIRED_FIELDS = contract.REQUIRED_FIELDS
_STRINGY_KINDS = frozenset({"str", "timestamp", "ip"})
# Fields kept in `fields` as strings: made storable and redacted.
_STRING_FIELDS = tuple(f.name for f in contract.RECORD_FIELDS if f.kind in ("str", "ip"))
_TIMESTAMP_FIELDS = tuple(f.name for f in contract.RECORD_FIELDS if f.kind == "timestamp")
_TAG_FIELDS = tuple(f.name for f in contract.RECORD_FIELDS if f.kind == "tags")
_FIELD_DEFAULTS = tuple((f.name, f.default) for f in contract.RECORD_FIELDS)

_INT64_LIMIT = 2**63
_INT64_DIGITS = len(str(_INT64_LIMIT))
_UTC = timezone.utc  # noqa: UP017 - datetime.UTC is Python 3.11+
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_ONE_US = timedelta(microseconds=1)
_BOM = "\ufeff"

_CSV_INT_RE = re.compile(r"[+-]?[0-9]+")
_CSV_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


#: What a record is: compared by ``==`` and shown by ``repr``.
_PUBLIC = (
    "source_name",
    "source_line",
    "source_page",
    "defect",
    "content_sha256",
    "ts_us",
    "fields",
    "redacted_values",
    "raw_redacted",
    "defective_attempt_id",
)


class ExtractedRecord:
    """One record read from a source, valid (``defect is None``) or defective.

    What only some records need is worked out on first use and then kept: a valid
    record's normalized, redacted ``fields`` (its prompt fingerprint included), every
    record's ``raw_redacted`` and ``redacted_values``. Staging asks for them only for a
    record that may concern the cycle (``load.staging_row``), so a record timestamped
    outside the read window costs its parse, content hash and validation, not its
    redaction and serialization (docs/performance.md). A record's values do not depend
    on when they are asked for.
    """

    __slots__ = (
        "source_name",
        "source_line",
        "source_page",
        "defect",
        "content_sha256",
        "ts_us",
        "defective_attempt_id",
        "_fields",
        "_redacted",
        "_raw",
        "_pending",
    )

    def __init__(
        self,
        *,
        source_name: str,
        source_line: int | None,
        source_page: int | None,
        defect: str | None,
        content_sha256: str | None,
        ts_us: int | None,
        fields: dict[str, object] | None,
        redacted_values: int,
        raw_redacted: str,
        defective_attempt_id: str | None = None,
    ) -> None:
        self.source_name = source_name
        self.source_line = source_line
        self.source_page = source_page
        self.defect = defect
        self.content_sha256 = content_sha256
        self.ts_us = ts_us
        # A defective record's attempt_id when it is readable (a string), storable,
        # redacted and cut to 256 characters, so analysts can find the attempt; else None.
        self.defective_attempt_id = defective_attempt_id
        self._fields = fields
        self._redacted = redacted_values
        self._raw = raw_redacted
        self._pending: tuple[dict | None, object, str | None] | None = None

    @classmethod
    def deferred(
        cls,
        *,
        values: dict[str, object] | None,
        source_value: object,
        raw_redacted: str | None = None,
        **identity: object,
    ) -> ExtractedRecord:
        """A record whose fields (``values``: its validated values, valid records only),
        raw text (from ``source_value`` unless ``raw_redacted`` is given) and redaction
        count are built when first asked for; ``identity``: the other ``__init__``
        arguments (source, defect, content hash, ``ts_us``, ``defective_attempt_id``)."""
        record = cls(fields=None, redacted_values=0, raw_redacted="", **identity)  # type: ignore[arg-type]
        record._pending = (values, source_value, raw_redacted)
        return record

    def _complete(self) -> None:
        values, source_value, raw = self._pending  # type: ignore[misc]
        if values is not None:
            fields, redacted = _build_fields(values, source_value)  # type: ignore[arg-type]
            raw_text = _raw_from_fields(fields) if raw is None else raw
        else:
            fields, redacted = None, _secrets_counted(source_value)
            raw_text = _raw_from_value(source_value) if raw is None else raw
        self._fields, self._redacted, self._raw = fields, redacted, raw_text
        self._pending = None

    @property
    def fields(self) -> dict[str, object] | None:
        """A valid record's SPEC 2.1 fields, normalized and redacted; None if defective."""
        if self._pending is not None:
            self._complete()
        return self._fields

    @property
    def redacted_values(self) -> int:
        if self._pending is not None:
            self._complete()
        return self._redacted

    @property
    def raw_redacted(self) -> str:
        if self._pending is not None:
            self._complete()
        return self._raw

    @property
    def attempt_id(self) -> str | None:
        """The attempt_id as stored: a valid record's (redacted), else
        ``defective_attempt_id``. Never builds the other fields."""
        if self._pending is not None:
            values = self._pending[0]
            if values is None:
                return self.defective_attempt_id
            attempt_id = values.get("attempt_id")
            return redact_value(attempt_id)[0] if isinstance(attempt_id, str) else attempt_id  # type: ignore[return-value]
        if self._fields is None:
            return self.defective_attempt_id
        return self._fields.get("attempt_id")  # type: ignore[return-value]

    def _state(self) -> tuple:
        return tuple(getattr(self, name) for name in _PUBLIC)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExtractedRecord):
            return NotImplemented
        return self._state() == other._state()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(_PUBLIC, self._state(), strict=True))
        return f"ExtractedRecord({shown})"


def _is_content_key(key: str) -> bool:
    return key.lower() in CONTENT_FIELDS


# ------------------------------------------------------------------ canonical JSON


# The encoders and the decoder are built once: ``json.dumps`` / ``json.loads`` with any
# option build a new one for every call, a measurable share of extracting a million
# records (docs/performance.md). ``Encoder(**options).encode`` is what ``dumps`` runs.
_canonical_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
_fingerprint_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False
).encode
_compact_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def canonical_json(value: object) -> str:
    """SPEC canonical JSON: sorted keys, separators ``,`` ``:``, non-ASCII kept."""
    return _canonical_encode(value)


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def prompt_fingerprint(value: object) -> str:
    """SHA-256 hex of the canonical JSON of ``value`` (SPEC 2.1)."""
    return _sha256_text(_fingerprint_encode(value))


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


def _loads(text: str) -> object:
    return _decode(text)


# ---------------------------------------------------------------------- nesting

_STRING_LITERAL_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")
_OPENING = frozenset("[{")


def _text_depth(text: str, limit: int) -> int:
    """How deep the JSON text nests (strings skipped), exact for valid JSON; the count
    of opening brackets when that is at most ``limit`` (then the depth is too)."""
    openings = text.count("[") + text.count("{")
    if openings <= limit:
        return openings
    brackets = _NOT_BRACKET_RE.sub("", _STRING_LITERAL_RE.sub("", text))
    return max(0, max(accumulate(1 if c in _OPENING else -1 for c in brackets), default=0))


def _too_deep(text: str) -> bool:
    return _text_depth(text, contract.MAX_NESTING) > contract.MAX_NESTING


def _value_too_deep(value: object) -> bool:
    """True when a parsed value nests more than ``MAX_NESTING`` levels (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > contract.MAX_NESTING:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# ---------------------------------------------------------------- raw_redacted


def _truncate(text: str) -> str:
    data = text.encode("utf-8", "replace")
    if len(data) <= MAX_RAW_BYTES:
        return text
    return data[:MAX_RAW_BYTES].decode("utf-8", "ignore")


def _clean(value: str) -> str:
    return redact_value(value)[0]


def _sanitize(value: object) -> object:
    """A copy without content fields (any depth), every key and string made storable
    and redacted. Iterative, so depth never meets Python's recursion limit."""

    def copy_of(item: object) -> object:
        if isinstance(item, str):
            return _clean(item)
        if isinstance(item, dict):
            out: dict = {}
            pending.append((item, out))
            return out
        if isinstance(item, list):
            items: list = []
            pending.append((item, items))
            return items
        return item

    pending: list[tuple[object, object]] = []
    root = copy_of(value)
    while pending:
        source, target = pending.pop()
        if isinstance(source, dict):
            for key, item in source.items():
                key_text = str(key)
                if not _is_content_key(key_text):
                    target[_clean(key_text)] = copy_of(item)  # type: ignore[index]
        else:
            target.extend(copy_of(item) for item in source)  # type: ignore[attr-defined]
    return root


def _raw_from_fields(fields: dict[str, object]) -> str:
    present = {k: v for k, v in fields.items() if v is not None}
    for name in _TIMESTAMP_FIELDS:
        moment = present.get(name)
        if isinstance(moment, datetime):
            present[name] = moment.isoformat().replace("+00:00", "Z")
    for name in _TAG_FIELDS:
        if present.get(name) == {}:
            del present[name]
    return _truncate(_compact_encode(present))


def _raw_from_value(value: object) -> str:
    return _truncate(_compact_encode(_sanitize(value)))


# A quoted key (up to the longest content field name in characters, each possibly a
# \uXXXX escape) followed by a colon: a candidate content field in text that did not parse.
_KEY_UNITS = max(len(name) for name in CONTENT_FIELDS)
_KEY_CANDIDATE_RE = re.compile(
    r"""(["'])((?:(?!\1)[^\\\n]|\\u[0-9a-fA-F]{4}|\\/){1,""" + str(_KEY_UNITS) + r"""})\1\s*:\s*"""
)
_KEY_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})|\\/")
_STRING_RE = {
    '"': _STRING_LITERAL_RE,
    "'": re.compile(r"'[^'\\]*(?:\\.[^'\\]*)*'", re.DOTALL),
}
_NEST_TOKEN_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_SCALAR_RE = re.compile(r"[^,}\]\s]*")
_TRAILING_COMMA_RE = re.compile(r"\s*,?\s*")
_CUT_MARK = "\u2026"
_TOKEN_DELIMITERS = frozenset(" \t\r\n\x0b\x0c\"',:{}[]")


def _decoded_key(units: str) -> str:
    return _KEY_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else "/", units)


def _end_of_value(text: str, i: int) -> int:
    """Index just past the JSON-ish value starting at ``i`` (len(text) if unterminated)."""
    n = len(text)
    if i >= n:
        return n
    c = text[i]
    if c in _STRING_RE:
        m = _STRING_RE[c].match(text, i)
        return m.end() if m else n
    if c in "[{":
        depth = 0
        for m in _NEST_TOKEN_RE.finditer(text, i):
            tok = m.group(0)
            if tok[0] == '"':
                if len(tok) < 2 or not tok.endswith('"'):
                    return n
                continue
            depth += 1 if tok in "[{" else -1
            if depth == 0:
                return m.end()
        return n
    m = _SCALAR_RE.match(text, i)
    return m.end() if m else n


def _strip_content_text(text: str) -> str:
    """Best-effort removal of ``"<content field>": <value>`` from unparsed text.

    Each cut is marked with ``…`` (consecutive cuts share one), so what surrounds a cut
    can never join into a new content key (``"pro"prompt": 1,mpt":``).
    """
    pieces: list[str] = []
    pos = 0
    search_from = 0
    while True:
        m = _KEY_CANDIDATE_RE.search(text, search_from)
        if m is None:
            break
        if not _is_content_key(_decoded_key(m.group(2))):
            search_from = m.start() + 1  # candidates may overlap: try each quote
            continue
        end = _end_of_value(text, m.end())
        end = _TRAILING_COMMA_RE.match(text, end).end()  # type: ignore[union-attr]
        if m.start() > pos or not pieces:
            pieces.append(text[pos : m.start()])
        pos = search_from = end
    if not pieces:
        return text
    pieces.append(text[pos:])
    return _CUT_MARK.join(pieces)


def _raw_from_text(text: str, *, cut: bool = False) -> str:
    if text.startswith(_BOM):
        text = text[1:]
    text = _strip_content_text(text)
    if cut:
        # The text is a prefix: drop a trailing partial token (it could be part of a secret).
        end = len(text)
        while end > 0 and text[end - 1] not in _TOKEN_DELIMITERS:
            end -= 1
        text = text[:end]
    return _truncate(redact_text(text)[0])


# ------------------------------------------------------------------- timestamps


class InvalidTimestamp(str):
    """A timestamp an input format read but could not convert (an epoch that is not a
    number, nanoseconds out of range): ``invalid_timestamp`` whatever its text."""


def _parse_timestamp(value: str) -> tuple[str | None, datetime | None, int | None]:
    """Return (defect, utc datetime, ts_us)."""
    if isinstance(value, InvalidTimestamp):
        return Reason.INVALID_TIMESTAMP, None, None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return Reason.INVALID_TIMESTAMP, None, None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return Reason.TIMESTAMP_WITHOUT_TIMEZONE, None, None
    try:
        utc = parsed.astimezone(_UTC)
        ts_us = (utc - _EPOCH) // _ONE_US
    except (OverflowError, ValueError):
        return Reason.INVALID_TIMESTAMP, None, None
    return None, utc, ts_us


def _ts_us_of(obj: dict) -> int | None:
    value = obj.get("timestamp")
    if not isinstance(value, str) or not value:
        return None
    return _parse_timestamp(value)[2]


# ------------------------------------------------------------------- validation

_INVALID = object()


def _as_int(value: object, csv: bool, field: RecordField) -> object:
    if csv:
        if not isinstance(value, str) or not _CSV_INT_RE.fullmatch(value):
            return _INVALID
        if len(value.lstrip("+-").lstrip("0")) > _INT64_DIGITS:
            return _INVALID  # out of any bound, and never converted (no quadratic int())
        number = int(value)
    else:
        if type(value) is not int:
            return _INVALID
        number = value
    if abs(number) >= (field.abs_limit or _INT64_LIMIT):
        return _INVALID
    return number


def _as_nonneg_int(value: object, csv: bool, field: RecordField) -> object:
    number = _as_int(value, csv, field)
    if number is _INVALID or number < 0:  # type: ignore[operator]
        return _INVALID
    return number


def _as_nonneg_number(value: object, csv: bool, field: RecordField) -> object:
    if csv:
        if not isinstance(value, str) or not _CSV_NUMBER_RE.fullmatch(value):
            return _INVALID
    elif isinstance(value, bool) or not isinstance(value, int | float):
        return _INVALID
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return _INVALID
    if not math.isfinite(number) or number < 0:
        return _INVALID
    return number + 0.0  # -0.0 -> 0.0


def _as_tags(value: object, csv: bool, field: RecordField) -> object:
    if csv:
        # A tags cell nested deeper than one object cannot be a valid one: not parsed.
        if not isinstance(value, str) or _text_depth(value, 1) > 1:
            return _INVALID
        try:
            value = _loads(value)
        except ValueError:
            return _INVALID
    if not isinstance(value, dict) or len(value) > contract.MAX_TAGS:
        return _INVALID
    for key, item in value.items():
        if not isinstance(item, str):
            return _INVALID
        if len(key) > contract.MAX_TAG_CHARS or len(item) > contract.MAX_TAG_CHARS:
            return _INVALID
    return dict(value)


@lru_cache(maxsize=65536)
def _normalized_ip(value: str) -> str | None:
    # Cached: a log holds few distinct source addresses, each parsed once.
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _as_ip(value: object, csv: bool, field: RecordField) -> object:
    if not isinstance(value, str) or "%" in value:
        return _INVALID
    normalized = _normalized_ip(value)
    return _INVALID if normalized is None else normalized


def _as_str(value: object, csv: bool, field: RecordField) -> object:
    if not isinstance(value, str):
        return _INVALID
    if field.max_chars is not None and len(value) > field.max_chars:
        return _INVALID
    return value


_CONVERTERS: dict[str, Callable[[object, bool, RecordField], object]] = {
    "str": _as_str,
    "timestamp": _as_str,
    "ip": _as_ip,
    "int": _as_int,
    "nonneg_int": _as_nonneg_int,
    "nonneg_number": _as_nonneg_number,
    "tags": _as_tags,
}


def _token_defect(values: dict[str, object]) -> str | None:
    """``negative_tokens``, then ``inconsistent_tokens`` (absent counts are 0)."""
    tokens = {name: values.get(name, 0) for name in contract.TOKEN_FIELDS}
    if any(count < 0 for count in tokens.values()):  # type: ignore[operator]
        return Reason.NEGATIVE_TOKENS
    for whole, parts in contract.TOKEN_PARTS:
        if sum(tokens[p] for p in parts) > tokens[whole]:  # type: ignore[misc]
            return Reason.INCONSISTENT_TOKENS
    return None


#: Each SPEC field's validation, in SPEC order, looked up once instead of per record:
#: (name, whether "" is absent, converter, field).
_FIELD_CHECKS = tuple(
    (f.name, f.kind in _STRINGY_KINDS, _CONVERTERS[f.kind], f) for f in contract.RECORD_FIELDS
)


def _validate(obj: dict, csv: bool) -> tuple[str | None, dict[str, object] | None]:
    """Return (defect, converted values of present SPEC fields)."""
    present: dict[str, tuple[object, Callable, RecordField]] = {}
    for name, stringy, convert, f in _FIELD_CHECKS:
        value = obj.get(name)
        if value is None or (stringy and value == ""):
            continue
        present[name] = (value, convert, f)
    for name in REQUIRED_FIELDS:
        if name not in present:
            return contract.missing_field(name), None
    values: dict[str, object] = {}
    for name, (value, convert, f) in present.items():
        converted = convert(value, csv, f)
        if converted is _INVALID:
            return contract.invalid_type(name), None
        values[name] = converted
    defect, utc, _ = _parse_timestamp(values["timestamp"])  # type: ignore[arg-type]
    if defect is not None:
        return defect, None
    values["timestamp"] = utc
    defect = _token_defect(values)
    if defect is not None:
        return defect, None
    return None, values


def _build_fields(values: dict[str, object], obj: dict) -> tuple[dict[str, object], int]:
    if "prompt_fingerprint" not in values:
        for source in _PROMPT_SOURCES:
            if obj.get(source) is not None:  # null = absent (empty CSV cells are pre-filtered)
                values["prompt_fingerprint"] = prompt_fingerprint(obj[source])
                break
    redacted = 0
    for name in _STRING_FIELDS:
        value = values.get(name)
        if isinstance(value, str):
            values[name], changed = redact_value(value)
            if changed and name == "api_key_id":
                redacted += 1
    tags: dict[str, str] = {}
    for key, value in values.get("tags", {}).items():  # type: ignore[union-attr]
        if _is_content_key(key):
            continue
        new_value, changed = redact_value(value)
        redacted += changed
        tags[redact_value(key)[0]] = new_value
    fields = {name: values.get(name, default) for name, default in _FIELD_DEFAULTS}
    fields["tags"] = tags
    return fields, redacted


def _secrets_counted(value: object) -> int:
    """``redacted_values`` of a defective record: its ``api_key_id`` and tag values
    (those that are strings) in which a secret was replaced."""
    if not isinstance(value, dict):
        return 0
    candidates = [value.get("api_key_id")]
    tags = value.get("tags")
    if isinstance(tags, dict):
        candidates.extend(tags.values())
    return sum(1 for item in candidates if isinstance(item, str) and has_secret(item))


# ---------------------------------------------------------------------- builders


def _text_record(
    defect: str,
    text: str,
    *,
    source_name: str,
    source_line: int | None,
    source_page: int | None,
    cut: bool = False,
    raw: str | None = None,
) -> ExtractedRecord:
    """A defective record known only as text; ``raw`` replaces the sanitized text."""
    return ExtractedRecord(
        source_name=source_name,
        source_line=source_line,
        source_page=source_page,
        defect=defect,
        content_sha256=None,
        ts_us=None,
        fields=None,
        redacted_values=0,
        raw_redacted=_raw_from_text(text, cut=cut) if raw is None else raw,
    )


def _too_large(
    prefix: bytes, *, source_name: str, source_line: int | None, source_page: int | None
) -> ExtractedRecord:
    text = prefix[:_TOO_LARGE_PREFIX_BYTES].decode("utf-8", "replace")
    return _text_record(
        Reason.RECORD_TOO_LARGE,
        text,
        source_name=source_name,
        source_line=source_line,
        source_page=source_page,
        cut=True,
    )


def _from_value(
    value: object,
    *,
    csv: bool,
    forced_defect: str | None,
    content_sha256: str | None,
    source_name: str,
    source_line: int | None,
    source_page: int | None,
) -> ExtractedRecord:
    """Build the record of a parsed JSON value (or CSV cell dict)."""
    ts_us = _ts_us_of(value) if isinstance(value, dict) else None
    defect = forced_defect
    values = None
    if defect is None and not isinstance(value, dict):
        defect = Reason.NOT_AN_OBJECT
    if defect is None:
        defect, values = _validate(value, csv)  # type: ignore[arg-type]
    # A valid record is only quarantined later as a duplicate_attempt_id: its raw text
    # is its normalized fields (already redacted and content-free, and far cheaper to
    # serialize than sanitizing the raw object again).
    return ExtractedRecord.deferred(
        values=values,
        source_value=value,
        source_name=source_name,
        source_line=source_line,
        source_page=source_page,
        defect=defect,
        content_sha256=content_sha256,
        ts_us=ts_us,
        defective_attempt_id=_readable_attempt_id(value) if values is None else None,
    )


def _readable_attempt_id(value: object) -> str | None:
    attempt_id = value.get("attempt_id") if isinstance(value, dict) else None
    if not isinstance(attempt_id, str) or not attempt_id:
        return None
    # Redacted whole, then cut: a prefix of a text without secrets has none.
    return _clean(attempt_id)[:256]


def _content_hash(value: object) -> tuple[str | None, str | None]:
    """Return (content_sha256, defect) for a parsed value, before any replacement."""
    try:
        text = canonical_json(value)
    except ValueError:  # NaN / infinity (possible for objects not parsed by us)
        return None, Reason.MALFORMED_JSON
    return _sha256_text(text), None


def record_from_object(
    obj: object,
    *,
    raw_text: str,
    source_name: str,
    source_line: int | None,
    source_page: int | None,
) -> ExtractedRecord:
    """Build the record of an already-parsed JSON value (e.g. one item of an HTTP page).

    ``raw_text`` is the record's JSON text; it decides ``record_too_large`` and is the
    raw text kept when the value is nested too deeply to be processed structurally.
    """
    where = {"source_name": source_name, "source_line": source_line, "source_page": source_page}
    too_large = (
        len(raw_text) > MAX_RECORD_BYTES
        and len(raw_text.encode("utf-8", "surrogatepass")) > MAX_RECORD_BYTES
    )
    if _value_too_deep(obj):
        # Not processed structurally: its raw text is the record's text.
        if too_large:
            return _too_large(raw_text.encode("utf-8", "replace"), **where)
        return _text_record(Reason.MALFORMED_JSON, raw_text, **where)
    sha, defect = _content_hash(obj)
    if too_large:
        defect = Reason.RECORD_TOO_LARGE
    return _from_value(obj, csv=False, forced_defect=defect, content_sha256=sha, **where)


def record_from_line(
    raw: bytes,
    *,
    source_name: str,
    source_line: int | None,
    source_page: int | None = None,
) -> ExtractedRecord:
    """Build the record of one JSONL line (bytes, without its newline; a trailing CR is ignored)."""
    where = {"source_name": source_name, "source_line": source_line, "source_page": source_page}
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if len(raw) > MAX_RECORD_BYTES:
        return _too_large(raw, **where)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace")
        salvaged = _parse(text)
        if salvaged is _INVALID:
            return _text_record(Reason.INVALID_ENCODING, text, **where)
        return _from_value(
            salvaged, csv=False, forced_defect=Reason.INVALID_ENCODING, content_sha256=None, **where
        )
    obj = _parse(text)
    if obj is _INVALID:
        return _text_record(Reason.MALFORMED_JSON, text, **where)
    sha, defect = _content_hash(obj)
    return _from_value(obj, csv=False, forced_defect=defect, content_sha256=sha, **where)


def _parse(text: str) -> object:
    """The JSON value of ``text``, or ``_INVALID`` (not JSON, or nested too deeply)."""
    if _too_deep(text):
        return _INVALID
    try:
        return _loads(text)
    except (ValueError, RecursionError):  # RecursionError: unreachable after the depth check
        return _INVALID


def record_from_csv_row(
    row: dict[str, str],
    *,
    raw_text: str,
    source_name: str,
    source_line: int | None,
) -> ExtractedRecord:
    """Build the record of one CSV data row (header name -> cell text).

    Empty cells (and ``None`` cells) are absent. The content hash is taken over the dict
    of non-empty cells. ``raw_text`` (the row as it appears in the file) decides
    ``record_too_large``; ``raw_redacted`` is built from the cells, not from the text.
    """
    where = {"source_name": source_name, "source_line": source_line, "source_page": None}
    if len(raw_text) > MAX_RECORD_BYTES // 4:
        data = raw_text.encode("utf-8", "replace")
        if len(data) > MAX_RECORD_BYTES:
            return _too_large(data, **where)
    cells = {str(k): v for k, v in row.items() if isinstance(v, str) and v != ""}
    sha, defect = _content_hash(cells)
    return _from_value(cells, csv=True, forced_defect=defect, content_sha256=sha, **where)


def record_from_csv_defect(
    defect: str,
    *,
    raw_text: str,
    cells: dict[str, str] | None,
    source_name: str,
    source_line: int | None,
) -> ExtractedRecord:
    """A defective CSV row (used by the file reader for encoding / shape errors).

    ``cells`` (header name -> text) is used for ``raw_redacted`` when given, so content
    columns are removed exactly; otherwise the text is sanitized best-effort.
    """
    where = {"source_name": source_name, "source_line": source_line, "source_page": None}
    if defect == Reason.RECORD_TOO_LARGE:
        return _too_large(raw_text.encode("utf-8", "replace"), **where)
    if cells is None:
        return _text_record(defect, raw_text, **where)
    present = {str(k): v for k, v in cells.items() if isinstance(v, str) and v != ""}
    return _from_value(present, csv=True, forced_defect=defect, content_sha256=None, **where)


# ------------------------------------------------- records mapped by an input format
#
# SPEC 2.7: an input format turns a source record (a LiteLLM row, a mapped line, an
# OpenTelemetry span) into a record of 2.1; everything after is the same. These entry
# points validate and redact the 2.1 record exactly as above, while the content hash
# (exact duplicates) and the raw text (quarantine) are the source record's, given by the
# format. Formats live in ``extract/formats/``.


class _WrongType:
    """A value a format found with the wrong type (or could not read): it fails every
    converter above, so the field is ``invalid_type:<field>`` in the SPEC 4.1 order."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "WRONG_TYPE"


WRONG_TYPE = _WrongType()


def source_content_hash(value: object) -> tuple[str | None, str | None]:
    """(content_sha256, defect) of a source record as parsed, before any replacement."""
    return _content_hash(value)


def source_raw_text(value: object) -> str:
    """The stored raw text of a parsed source record whose format-specific content fields
    were already removed: compact JSON without the 2.1 content field names at any depth,
    every key and string storable and redacted, at most 4 KiB."""
    return _raw_from_value(value)


def record_from_mapped(
    mapped: dict[str, object] | None,
    *,
    defect: str | None,
    content_sha256: str | None,
    raw_redacted: str,
    source_name: str,
    source_line: int | None,
    source_page: int | None,
) -> ExtractedRecord:
    """The record of a 2.1 record ``mapped`` by an input format from a source record.

    ``mapped`` holds 2.1 field names only, with values as a JSON record would (a
    ``WRONG_TYPE`` or ``InvalidTimestamp`` value where the source could not be mapped).
    It is validated, bounded and redacted like a ``tokenreview`` JSON record, except
    that no prompt fingerprint is derived from content fields (a format's content never
    reaches ``mapped``). ``defect`` is a reason found before mapping (the source record
    is ``not_an_object``, ``invalid_encoding``...), ``None`` to validate; ``mapped`` may
    be ``None`` only with a defect. ``content_sha256`` and ``raw_redacted`` are the
    source record's (:func:`source_content_hash`, :func:`source_raw_text`).
    """
    if mapped is None and defect is None:
        raise ValueError("a record without a mapped value needs a defect")
    values = None
    if defect is None:
        defect, values = _validate(mapped, False)  # type: ignore[arg-type]
    return ExtractedRecord.deferred(
        # No prompt fingerprint from content fields: the source value given is empty.
        values=values,
        source_value={} if values is not None else mapped,
        raw_redacted=raw_redacted,
        source_name=source_name,
        source_line=source_line,
        source_page=source_page,
        defect=defect,
        content_sha256=content_sha256,
        ts_us=_ts_us_of(mapped) if mapped is not None else None,
        defective_attempt_id=_readable_attempt_id(mapped) if values is None else None,
    )


def parse_source_text(text: str) -> tuple[bool, object]:
    """(True, value) for JSON text nested at most 512 levels deep, else (False, None)."""
    value = _parse(text)
    return (False, None) if value is _INVALID else (True, value)


def record_withheld(
    defect: str,
    note: str,
    *,
    source_name: str,
    source_line: int | None,
    source_page: int | None,
) -> ExtractedRecord:
    """A defective source record whose text is not kept (it did not parse, and the
    format's content cannot be located in it): its raw text is ``note``, redacted."""
    return _text_record(
        defect,
        note,
        source_name=source_name,
        source_line=source_line,
        source_page=source_page,
        raw=_truncate(_clean(note)),
    )
