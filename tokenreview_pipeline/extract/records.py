"""Record-level extraction: validate, redact and fingerprint one request-log record.

Implements SPEC 2.1 (fields), 2.5 (secrets) and the per-record part of 4.1
(quarantine reasons). Pure functions, no I/O.

Decisions where the SPEC is silent (also listed in the project docs):

* Quarantine reasons are checked in the SPEC 4.1 order and the first one wins.
  ``duplicate_attempt_id`` is never produced here (it is decided later, in SQL).
* ``record_too_large``: a line (or CSV row, or HTTP record serialized as JSON) of more
  than 1 MiB (1,048,576 bytes) without its newline. A trailing CR is not counted.
* A leading UTF-8 byte order mark is ignored.
* JSON ``NaN`` / ``Infinity`` are not JSON: ``malformed_json``. A text nested too deeply
  to process (Python recursion limit) is also ``malformed_json``.
* JSON strings that decode to lone UTF-16 surrogates (``"\\ud800"``) cannot be stored as
  text: ``invalid_encoding``.
* A non-string ``timestamp`` (e.g. ``12345``) is ``invalid_type:timestamp``; a string that
  ``datetime.fromisoformat`` cannot parse is ``invalid_timestamp``; a parseable one
  without an offset is ``timestamp_without_timezone``.
* An empty string in a string field (``attempt_id``, ``timestamp``, ``request_id``,
  ``api_key_id``, ``source_ip``, ``model``, ``endpoint``, ``error_type``,
  ``environment``, ``prompt_fingerprint``) counts as absent, exactly like an empty CSV
  cell: it is ``missing_field`` in a required field and ``None`` in an optional one.
* Integers must fit in a signed 64-bit column, otherwise ``invalid_type``.
  ``latency_ms`` must be finite. ``status_code`` is any such integer.
* ``source_ip`` must parse with :mod:`ipaddress`; it is stored in its compressed form.
* CSV cells are text: ints are ``[+-]?[0-9]+`` (``"12"`` ok, ``"12.0"`` / ``" 12"`` not),
  numbers are decimal literals, ``tags`` is a JSON object. The prompt fingerprint of a
  CSV ``messages`` / ``prompt`` / ``input`` cell is taken over the cell text (a string).
* Redaction: besides ``api_key_id`` and tag values (SPEC 2.5), every string kept in
  ``fields`` and every tag key is checked, so no stored column can hold a secret. A
  value is a secret when its whole value (surrounding whitespace ignored) looks like
  one. ``redacted_values`` counts, for a valid record, the values replaced in
  ``fields``; for a defective record (``fields is None``), the values or tokens
  replaced in ``raw_redacted``.
* ``raw_redacted``: for a record that parsed (a JSON value, or the cells of a CSV row),
  compact JSON of the value in its original key order, with content fields removed at
  every nesting level (key names compared case-insensitively), every whole-value secret
  redacted and secret-looking tokens inside other strings redacted. For text that did
  not parse, content fields are cut out best-effort (``"prompt": <value>`` up to the end
  of its value, or to the end of the text when the value is unterminated), then
  secret-looking tokens are redacted. Always at most 4096 UTF-8 bytes.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tokenreview_pipeline import contract
from tokenreview_pipeline.contract import Reason

__all__ = [
    "CONTENT_FIELDS",
    "FIELD_NAMES",
    "MAX_RAW_BYTES",
    "MAX_RECORD_BYTES",
    "REQUIRED_FIELDS",
    "ExtractedRecord",
    "canonical_json",
    "looks_like_secret",
    "record_from_csv_defect",
    "prompt_fingerprint",
    "record_from_csv_row",
    "record_from_line",
    "record_from_object",
    "redact_text",
    "redact_value",
]

MAX_RECORD_BYTES = 1024 * 1024
MAX_RAW_BYTES = 4096
# How much of a too-large line is looked at to build its raw_redacted.
_TOO_LARGE_PREFIX_BYTES = 64 * 1024

CONTENT_FIELDS = frozenset(contract.CONTENT_FIELDS)
_PROMPT_SOURCES = contract.PROMPT_SOURCES

# (name, kind, required) in SPEC 2.1 table order.
_FIELDS: tuple[tuple[str, str, bool], ...] = tuple(
    (f.name, f.kind, f.required) for f in contract.RECORD_FIELDS
)
FIELD_NAMES = contract.FIELD_NAMES
REQUIRED_FIELDS = contract.REQUIRED_FIELDS
_STRINGY_KINDS = frozenset({"str", "timestamp", "ip"})
# String fields kept in `fields` that are checked for secrets.
_REDACTED_STRING_FIELDS = tuple(f.name for f in contract.RECORD_FIELDS if f.kind in ("str", "ip"))

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_BOM = "\ufeff"

_CSV_INT_RE = re.compile(r"[+-]?[0-9]+")
_CSV_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True, slots=True)
class ExtractedRecord:
    """One record read from a source, valid (``defect is None``) or defective."""

    source_name: str
    source_line: int | None
    source_page: int | None
    defect: str | None
    content_sha256: str | None
    ts_us: int | None
    fields: dict[str, object] | None
    redacted_values: int
    raw_redacted: str
    # A defective record's attempt_id when it is readable (a string), redacted and
    # cut to 256 characters, so analysts can find the attempt; None otherwise.
    defective_attempt_id: str | None = None


# --------------------------------------------------------------------------- secrets

_JWT = r"eyJ[A-Za-z0-9_-]+=*\.[A-Za-z0-9_-]+=*\.[A-Za-z0-9_-]*=*"
_WHOLE_SECRET_RE = re.compile(rf"sk-\S{{20,}}|(?i:bearer)[ \t]+\S+|{_JWT}")
# Inside free text a token ends at whitespace, quotes, separators and brackets, and
# must not continue a word (so "risk-assessment-..." is not an "sk-" token).
_TOKEN_CHAR = r"""[^\s"'`,;<>(){}\[\]\\]"""
_NOT_AFTER_WORD = r"(?<![A-Za-z0-9_-])"
_TEXT_SECRET_RE = re.compile(
    rf"{_NOT_AFTER_WORD}sk-{_TOKEN_CHAR}{{20,}}"
    rf"|{_NOT_AFTER_WORD}(?i:bearer)[ \t]+{_TOKEN_CHAR}+"
    rf"|{_NOT_AFTER_WORD}{_JWT}"
)


# Cheap pre-filter: every secret form contains one of these.
_MAYBE_SECRET_RE = re.compile(r"sk-|eyJ|[Bb][Ee][Aa][Rr][Ee][Rr]")


def looks_like_secret(value: str) -> bool:
    """True when the whole value (surrounding whitespace ignored) looks like a secret.

    ``sk-`` followed by 20+ non-space characters, ``Bearer <token>``, or a JWT
    ``eyJ<b64url>.<b64url>.<b64url>``. A substring does not count.
    """
    if not isinstance(value, str) or _MAYBE_SECRET_RE.search(value) is None:
        return False
    return _WHOLE_SECRET_RE.fullmatch(value.strip()) is not None


def _redacted_form(value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return "redacted_" + digest[:12]


def redact_value(value: str) -> tuple[str, bool]:
    """Return (``redacted_`` + 12 hex of sha256(value), True) for a secret, else (value, False)."""
    if looks_like_secret(value):
        return _redacted_form(value), True
    return value, False


def redact_text(text: str) -> tuple[str, int]:
    """Replace every secret-looking token inside free text; return (text, replacements)."""
    return _TEXT_SECRET_RE.subn(lambda m: _redacted_form(m.group(0)), text)


def _redact_string(value: str) -> tuple[str, int]:
    if _MAYBE_SECRET_RE.search(value) is None:
        return value, 0
    if looks_like_secret(value):
        return _redacted_form(value), 1
    return redact_text(value)


# ------------------------------------------------------------------ canonical JSON


def canonical_json(value: object) -> str:
    """SPEC canonical JSON: sorted keys, separators ``,`` ``:``, non-ASCII kept."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def prompt_fingerprint(value: object) -> str:
    """SHA-256 hex of the canonical JSON of ``value`` (SPEC 2.1)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _sha256_text(text)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str) -> object:
    return json.loads(text, parse_constant=_reject_constant)


# ---------------------------------------------------------------- raw_redacted


def _truncate(text: str) -> str:
    data = text.encode("utf-8", "replace")
    if len(data) <= MAX_RAW_BYTES:
        return data.decode("utf-8", "replace")
    return data[:MAX_RAW_BYTES].decode("utf-8", "ignore")


def _sanitize(value: object) -> tuple[object, int]:
    """Drop content fields (any depth) and redact secrets in keys and strings."""
    if isinstance(value, str):
        return _redact_string(value)
    if isinstance(value, dict):
        out: dict[str, object] = {}
        count = 0
        for key, item in value.items():
            key_text = str(key)
            if key_text.lower() in CONTENT_FIELDS:
                continue
            new_key, n_key = _redact_string(key_text)
            new_item, n_item = _sanitize(item)
            out[new_key] = new_item
            count += n_key + n_item
        return out, count
    if isinstance(value, list):
        items = []
        count = 0
        for item in value:
            new_item, n_item = _sanitize(item)
            items.append(new_item)
            count += n_item
        return items, count
    return value, 0


def _raw_from_fields(fields: dict[str, object]) -> str:
    present = {
        k: (v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v)
        for k, v in fields.items()
        if v is not None and v != {}
    }
    return _truncate(json.dumps(present, ensure_ascii=False, separators=(",", ":")))


def _raw_from_value(value: object) -> tuple[str, int]:
    sanitized, count = _sanitize(value)
    text = json.dumps(sanitized, ensure_ascii=False, separators=(",", ":"))
    return _truncate(text), count


_CONTENT_KEY_ALTERNATION = "|".join(sorted(CONTENT_FIELDS))
_CONTENT_KEY_RE = re.compile(
    r"""(["'])(?:""" + _CONTENT_KEY_ALTERNATION + r""")\1\s*:\s*""", re.IGNORECASE
)
_STRING_RE = {
    '"': re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL),
    "'": re.compile(r"'[^'\\]*(?:\\.[^'\\]*)*'", re.DOTALL),
}
_NEST_TOKEN_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_SCALAR_RE = re.compile(r"[^,}\]\s]*")
_TRAILING_COMMA_RE = re.compile(r"\s*,?")
_TOKEN_DELIMITERS = frozenset(" \t\r\n\x0b\x0c\"',:{}[]")


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
    """Best-effort removal of ``"<content field>": <value>`` from unparsed text."""
    pieces = []
    pos = 0
    while True:
        m = _CONTENT_KEY_RE.search(text, pos)
        if m is None:
            break
        end = _end_of_value(text, m.end())
        end = _TRAILING_COMMA_RE.match(text, end).end()
        pieces.append(text[pos : m.start()])
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _raw_from_text(text: str, *, cut: bool = False) -> tuple[str, int]:
    if text.startswith(_BOM):
        text = text[1:]
    text = _strip_content_text(text)
    if cut:
        # The text is a prefix: drop a trailing partial token (it could be part of a secret).
        end = len(text)
        while end > 0 and text[end - 1] not in _TOKEN_DELIMITERS:
            end -= 1
        text = text[:end]
    text, count = redact_text(text)
    return _truncate(text), count


# ------------------------------------------------------------------- timestamps


def _parse_timestamp(value: str) -> tuple[str | None, datetime | None, int | None]:
    """Return (defect, utc datetime, ts_us)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return Reason.INVALID_TIMESTAMP, None, None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return Reason.TIMESTAMP_WITHOUT_TIMEZONE, None, None
    try:
        utc = parsed.astimezone(UTC)
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


def _as_int(value: object, csv: bool) -> object:
    if csv:
        if not isinstance(value, str) or not _CSV_INT_RE.fullmatch(value):
            return _INVALID
        number = int(value)
    else:
        if type(value) is not int:
            return _INVALID
        number = value
    if not _INT64_MIN <= number <= _INT64_MAX:
        return _INVALID
    return number


def _as_nonneg_number(value: object, csv: bool) -> object:
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


def _as_tags(value: object, csv: bool) -> object:
    if csv:
        if not isinstance(value, str):
            return _INVALID
        try:
            value = _loads(value)
        except (ValueError, RecursionError):
            return _INVALID
    if not isinstance(value, dict):
        return _INVALID
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return _INVALID
    return dict(value)


def _as_ip(value: object, csv: bool) -> object:
    if not isinstance(value, str):
        return _INVALID
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return _INVALID


def _as_str(value: object, csv: bool) -> object:
    return value if isinstance(value, str) else _INVALID


def _as_nonneg_int(value: object, csv: bool) -> object:
    number = _as_int(value, csv)
    if number is _INVALID or number < 0:  # type: ignore[operator]
        return _INVALID
    return number


_CONVERTERS: dict[str, Callable[[object, bool], object]] = {
    "str": _as_str,
    "timestamp": _as_str,
    "ip": _as_ip,
    "int": _as_int,
    "nonneg_int": _as_nonneg_int,
    "nonneg_number": _as_nonneg_number,
    "tags": _as_tags,
}


def _validate(obj: dict, csv: bool) -> tuple[str | None, dict[str, object] | None]:
    """Return (defect, converted values of present SPEC fields)."""
    present: dict[str, object] = {}
    for name, kind, _ in _FIELDS:
        value = obj.get(name)
        if value is None or (value == "" and kind in _STRINGY_KINDS):
            continue
        present[name] = value
    for name in REQUIRED_FIELDS:
        if name not in present:
            return contract.missing_field(name), None
    values: dict[str, object] = {}
    for name, kind, _ in _FIELDS:
        if name in present:
            converted = _CONVERTERS[kind](present[name], csv)
            if converted is _INVALID:
                return contract.invalid_type(name), None
            values[name] = converted
    defect, utc, _ = _parse_timestamp(values["timestamp"])  # type: ignore[arg-type]
    if defect is not None:
        return defect, None
    values["timestamp"] = utc
    for name in contract.TOKEN_FIELDS:
        if values.get(name, 0) < 0:  # type: ignore[operator]
            return Reason.NEGATIVE_TOKENS, None
    return None, values


def _build_fields(values: dict[str, object], obj: dict) -> tuple[dict[str, object], int]:
    if "prompt_fingerprint" not in values:
        for source in _PROMPT_SOURCES:
            if obj.get(source) is not None:  # null = absent (empty CSV cells are pre-filtered)
                values["prompt_fingerprint"] = prompt_fingerprint(obj[source])
                break
    redacted = 0
    for name in _REDACTED_STRING_FIELDS:
        value = values.get(name)
        if isinstance(value, str):
            new_value, changed = redact_value(value)
            if changed:
                values[name] = new_value
                redacted += 1
    tags: dict[str, str] = {}
    for key, value in values.get("tags", {}).items():  # type: ignore[union-attr]
        new_key, key_changed = redact_value(key)
        new_value, value_changed = redact_value(value)
        redacted += key_changed + value_changed
        tags[new_key] = new_value
    fields = {f.name: values.get(f.name, f.default) for f in contract.RECORD_FIELDS}
    fields["tags"] = tags
    return fields, redacted


# ---------------------------------------------------------------------- builders


def _text_record(
    defect: str,
    text: str,
    *,
    source_name: str,
    source_line: int | None,
    source_page: int | None,
    cut: bool = False,
) -> ExtractedRecord:
    raw, count = _raw_from_text(text, cut=cut)
    return ExtractedRecord(
        source_name=source_name,
        source_line=source_line,
        source_page=source_page,
        defect=defect,
        content_sha256=None,
        ts_us=None,
        fields=None,
        redacted_values=count,
        raw_redacted=raw,
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
    fields = None
    redacted = 0
    if defect is None and not isinstance(value, dict):
        defect = Reason.NOT_AN_OBJECT
    if defect is None:
        defect, values = _validate(value, csv)  # type: ignore[arg-type]
        if defect is None:
            fields, redacted = _build_fields(values, value)  # type: ignore[arg-type]
    if fields is not None:
        # A valid record is only quarantined later as a duplicate_attempt_id; its
        # normalized fields are already redacted and content-free, and far cheaper
        # to serialize than sanitizing the raw object again.
        raw, raw_count = _raw_from_fields(fields), 0
    else:
        raw, raw_count = _raw_from_value(value)
    return ExtractedRecord(
        source_name=source_name,
        source_line=source_line,
        source_page=source_page,
        defect=defect,
        content_sha256=content_sha256,
        ts_us=ts_us,
        fields=fields,
        redacted_values=redacted if fields is not None else raw_count,
        raw_redacted=raw,
        defective_attempt_id=_readable_attempt_id(value) if fields is None else None,
    )


def _readable_attempt_id(value: object) -> str | None:
    attempt_id = value.get("attempt_id") if isinstance(value, dict) else None
    if not isinstance(attempt_id, str) or not attempt_id:
        return None
    return redact_value(attempt_id)[0][:256]


def _content_hash(value: object) -> tuple[str | None, str | None]:
    """Return (content_sha256, defect) for a parsed value."""
    try:
        text = canonical_json(value)
    except ValueError:  # NaN / Infinity (possible for objects not parsed by us)
        return None, Reason.MALFORMED_JSON
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return _sha256_text(text), Reason.INVALID_ENCODING
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
    fallback for ``raw_redacted`` when the value cannot be processed structurally.
    """
    where = {"source_name": source_name, "source_line": source_line, "source_page": source_page}
    try:
        too_large = (
            len(raw_text) > MAX_RECORD_BYTES
            and len(raw_text.encode("utf-8", "surrogatepass")) > MAX_RECORD_BYTES
        )
        sha, defect = _content_hash(obj)
        if too_large:
            defect = Reason.RECORD_TOO_LARGE
        return _from_value(obj, csv=False, forced_defect=defect, content_sha256=sha, **where)
    except RecursionError:
        return _text_record(Reason.MALFORMED_JSON, raw_text, **where)


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
        try:
            salvaged = _loads(text)
            return _from_value(
                salvaged,
                csv=False,
                forced_defect=Reason.INVALID_ENCODING,
                content_sha256=None,
                **where,
            )
        except (ValueError, RecursionError):
            return _text_record(Reason.INVALID_ENCODING, text, **where)
    try:
        obj = _loads(text)
    except (ValueError, RecursionError):
        return _text_record(Reason.MALFORMED_JSON, text, **where)
    try:
        sha, defect = _content_hash(obj)
        return _from_value(obj, csv=False, forced_defect=defect, content_sha256=sha, **where)
    except RecursionError:
        return _text_record(Reason.MALFORMED_JSON, text, **where)


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
