"""Property tests of record extraction (SPEC 2.1, 2.5, 4.1): raw bytes, JSON shapes,
CSV cells and every field's types, boundary values included.

Invariants: extraction never raises; a record is valid or has exactly one defect, and
that defect is the first of SPEC 4.1's order (an oracle computes it from how each field
was generated); nothing stored holds a secret (Python's ``re`` with the SPEC patterns,
on the stored text as written and with its JSON escapes decoded), a NUL, a lone
surrogate or a content field name as a key; raw text is at most 4 KiB.

Hypothesis runs derandomized and without an example database, so CI is repeatable.
"""

from __future__ import annotations

import json
import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_scan import SECRET_RE, problems_of

from tokenreview_pipeline import contract
from tokenreview_pipeline.contract import RecordField
from tokenreview_pipeline.extract.records import (
    MAX_RAW_BYTES,
    ExtractedRecord,
    record_from_csv_row,
    record_from_line,
    record_from_object,
)


def fuzz(max_examples: int):
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


SK = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
SECRETS = [SK, "Bearer abc.def", JWT, "sk-" + "_" * 20]
REASONS = {r.value for r in contract.Reason} - {"duplicate_attempt_id"}
CONTENT = frozenset(contract.CONTENT_FIELDS)
_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})|\\([\"\\/bfnrt])")
_SIMPLE = dict(zip('"\\/bfnrt', '"\\/\b\f\n\r\t', strict=True))


def decoded(text: str) -> str:
    """JSON escapes decoded (an independent decoder: surrogate halves stay halves)."""
    return _ESCAPE_RE.sub(lambda m: chr(int(m[1], 16)) if m[1] else _SIMPLE[m[2]], text)


# ------------------------------------------------------------------ strategies

# Text rich in what matters: pattern pieces, NUL, surrogates, escapes, quotes.
PIECES = st.sampled_from(
    [*SECRETS, "sk-", "Bearer ", "eyJ", ".", "-", "_", "risk-", "\x00", "\ud800", "\udfff",
     "\\u006F", '"', "\\", " ", "é", "\U0001f600", "prompt", '"prompt":', "a", "Z", "9"]
)  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(PIECES | st.text(string.ascii_letters + "-_.", max_size=8), max_size=8).map("".join),
)
CHARS = st.sampled_from(["x", "é", "\U0001f600", "\x00", "\ud800"])
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
NOT_A_STRING = st.one_of(
    st.integers(-5, 5), st.booleans(), FLOATS, st.lists(st.integers(), max_size=2), st.just({})
)
NOT_AN_INT = st.one_of(
    st.sampled_from([True, False, 12.0, -0.0, "12", "", 1.5, [1], {"n": 1}]), st.text(max_size=3)
)
GOOD_TS = ["2026-11-18T02:00:00Z", "2026-11-18T07:30:00.5+05:30", "2026-11-17T23:00-03:00"]
BAD_TS = ["yesterday", "2026-13-01T00:00:00Z", "2026-11-18T25:00Z"]
NAIVE_TS = ["2026-11-18T02:00:00", "2026-11-18"]


def at_bound(limit: int) -> st.SearchStrategy[str]:
    return CHARS.flatmap(lambda c: st.sampled_from([c * limit, "sk-" + c * (limit - 3)]))


def over_bound(limit: int) -> st.SearchStrategy[str]:
    return CHARS.map(lambda c: c * (limit + 1))


def labels_of(field: RecordField) -> list[str]:
    """How a value of ``field`` may be judged: ``absent``, ``valid``, ``invalid``
    (invalid_type), ``bad_ts``, ``naive_ts``, ``negative``. Repetition weighs the draw:
    mostly valid, so records often get as far as the token checks."""
    out = ["valid"] * 20 + ["absent"] * (1 if field.required else 3) + ["invalid"]
    if field.name in contract.TOKEN_FIELDS:
        out.append("negative")
    if field.kind == "timestamp":
        out += ["bad_ts", "naive_ts"]
    return out


def int_range(field: RecordField) -> tuple[int, int]:
    limit = field.abs_limit or 2**63
    signed = field.kind == "int" and field.name not in contract.TOKEN_FIELDS
    return (-limit + 1 if signed else 0), limit - 1


def json_value(field: RecordField, label: str) -> st.SearchStrategy:
    """A JSON value of ``field`` that the SPEC judges ``label``."""
    if label == "absent":
        empty = [None, ...] + ([""] if field.kind in ("str", "timestamp", "ip") else [])
        return st.sampled_from(empty)
    if label == "negative":
        return st.integers(-(2**40) + 1, -1)
    if field.kind == "timestamp":
        by = {"valid": GOOD_TS, "bad_ts": BAD_TS, "naive_ts": NAIVE_TS}
        return st.sampled_from(by[label]) if label in by else NOT_A_STRING
    if field.kind == "ip":
        if label == "valid":
            return st.sampled_from(["10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1"])
        return st.sampled_from(["999.1.1.1", "fe80::1%eth0", "10.0.0.1 ", 167772161])
    if field.kind in ("int", "nonneg_int"):
        low, high = int_range(field)
        if label == "valid":
            return st.integers(low, high) | st.sampled_from([low, high])
        limit = field.abs_limit or 2**63
        out = [limit, -limit, 2**64] + ([-1] if field.kind == "nonneg_int" else [])
        return NOT_AN_INT | st.sampled_from(out)
    if field.kind == "nonneg_number":
        if label == "valid":
            return st.integers(0, 10**6) | st.floats(0, 1e300)
        return st.sampled_from([True, "5", -0.001, -(10**6), 10**400])
    if field.kind == "tags":
        keys, values = st.text(max_size=8) | PIECES, TEXT
        if label == "valid":
            full = {f"k{i}": "v" * 512 for i in range(64)}
            return st.dictionaries(keys, values, max_size=5) | st.just(full)
        return st.one_of(
            st.sampled_from(
                [{f"k{i}": "v" for i in range(65)}, {"k": "v" * 513}, {"k" * 513: "v"}, ["t"], "t"]
            ),
            st.dictionaries(keys, NOT_A_STRING, min_size=1, max_size=3),
        )
    if label == "valid":
        if field.max_chars is None:
            return TEXT.filter(bool)
        return TEXT.filter(bool) | at_bound(field.max_chars)
    if field.max_chars is None:
        return NOT_A_STRING
    return NOT_A_STRING | over_bound(field.max_chars)


def csv_value(field: RecordField, label: str) -> st.SearchStrategy:
    """A CSV cell of ``field`` that the SPEC judges ``label`` (cells are text)."""
    if label == "absent":
        return st.sampled_from([None, ""])
    if label == "negative":
        return st.integers(-(2**40) + 1, -1).map(str)
    if field.kind in ("int", "nonneg_int"):
        low, high = int_range(field)
        if label == "valid":
            numbers = st.integers(low, high) | st.sampled_from([low, high])
            return st.tuples(numbers, st.sampled_from(["", "+", "000"])).map(
                lambda t: t[1] + str(t[0]) if t[0] >= 0 else str(t[0])
            )
        limit = field.abs_limit or 2**63
        out = ["12.0", "abc", " 1", "1_000", "0x10", str(limit), str(-limit), "9" * 5000]
        return st.sampled_from(out + (["-1"] if field.kind == "nonneg_int" else []))
    if field.kind == "nonneg_number":
        if label == "valid":
            return st.sampled_from(["0", "1.5", "1e3", ".5", "+2", "12."])
        return st.sampled_from(["abc", "-1", "nan", "inf", "1e400", "1,5"])
    if field.kind == "tags":
        if label == "valid":
            return st.dictionaries(st.text(max_size=8), TEXT, max_size=5).map(json.dumps)
        many = json.dumps({f"k{i}": "v" for i in range(65)})
        bad = [many, "team=search", "[]", '{"a": 1}', '{"a": {"b": "c"}}', "[" * 3000, "{"]
        return st.sampled_from(bad)
    if label == "invalid":  # a cell is text: only a bound or an address can be wrong
        if field.kind == "ip":
            return st.sampled_from(["999.1.1.1", "fe80::1%eth0", "10.0.0.1 "])
        return over_bound(field.max_chars)  # type: ignore[arg-type]
    # strings, timestamps and addresses are the same text in a cell
    return json_value(field, label).filter(lambda v: isinstance(v, str) and v != "")


def _by_label(value_of, csv: bool) -> dict[str, tuple[st.SearchStrategy, dict]]:
    """Per field: a strategy of its label, and the value strategy of each label (built
    once: strategies built per draw would cost more than the test)."""
    out = {}
    for field in contract.RECORD_FIELDS:
        choices = labels_of(field)
        if csv and field.kind in ("str", "timestamp") and not field.max_chars:
            choices = [c for c in choices if c != "invalid"]  # any cell is a string
        values = {c: value_of(field, c) for c in set(choices)}
        out[field.name] = (st.sampled_from(choices), values)
    return out


_EXTRA_NAMES = st.lists(st.sampled_from([*sorted(CONTENT), "Prompt", "note", "x"]), max_size=3)
_EXTRA = {
    False: TEXT | st.lists(TEXT, max_size=2) | st.dictionaries(TEXT, TEXT, max_size=2),
    True: TEXT.filter(bool),
}


@st.composite
def labelled(draw, fields: dict, csv: bool) -> tuple[dict, dict[str, str]]:
    """A record built field by field, with each field's label; plus content fields and
    unknown fields holding secrets, NULs and escapes."""
    record: dict = {}
    labels: dict[str, str] = {}
    for name, (label_strategy, values) in fields.items():
        label = labels[name] = draw(label_strategy)
        value = draw(values[label])
        if value is not ... and value is not None:
            record[name] = value
    for name in draw(_EXTRA_NAMES):
        record[name] = draw(_EXTRA[csv])
    return record, labels


JSON_RECORDS = labelled(_by_label(json_value, csv=False), csv=False)
CSV_RECORDS = labelled(_by_label(csv_value, csv=True), csv=True)


def expected_defect(labels: dict[str, str], tokens: dict[str, int]) -> str | None:
    """SPEC 4.1's first defect, from each field's label (tokens: the valid counts)."""
    fields = contract.RECORD_FIELDS
    for f in fields:
        if f.required and labels[f.name] == "absent":
            return contract.missing_field(f.name)
    for f in fields:
        if labels[f.name] == "invalid":
            return contract.invalid_type(f.name)
    if labels["timestamp"] in ("bad_ts", "naive_ts"):
        return {"bad_ts": "invalid_timestamp", "naive_ts": "timestamp_without_timezone"}[
            labels["timestamp"]
        ]
    if "negative" in (labels[n] for n in contract.TOKEN_FIELDS):
        return "negative_tokens"
    for whole, parts in contract.TOKEN_PARTS:
        if sum(tokens.get(p, 0) for p in parts) > tokens.get(whole, 0):
            return "inconsistent_tokens"
    return None


def tokens_of(record: dict, labels: dict[str, str]) -> dict[str, int]:
    """The valid token counts (absent ones are 0)."""
    return {n: int(record[n]) for n in contract.TOKEN_FIELDS if labels[n] == "valid"}


# ------------------------------------------------------------------ invariants


def assert_invariants(rec: ExtractedRecord) -> None:
    assert isinstance(rec, ExtractedRecord)
    assert (rec.defect is None) == (rec.fields is not None)
    assert rec.defect is None or rec.defect.split(":")[0] in REASONS
    assert len(rec.raw_redacted.encode("utf-8")) <= MAX_RAW_BYTES
    assert rec.redacted_values >= 0
    stored = [(rec.raw_redacted, True), (rec.source_name, False)]
    if rec.defective_attempt_id is not None:
        assert rec.fields is None
        stored.append((rec.defective_attempt_id, False))
    for value in (rec.fields or {}).values():
        if isinstance(value, str):
            stored.append((value, False))
        elif isinstance(value, dict):
            stored += [(text, False) for item in value.items() for text in item]
            assert not {k.lower() for k in value} & CONTENT
    for text, keyed in stored:
        assert problems_of(text, keyed=keyed) == [], text
        assert SECRET_RE.search(decoded(text)) is None, text
    if rec.fields is not None:
        for f in contract.RECORD_FIELDS:
            value = rec.fields[f.name]
            if f.abs_limit is not None and value is not None:
                assert abs(value) < f.abs_limit  # type: ignore[arg-type]


def has_raw_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


# ----------------------------------------------------------------------- tests


@fuzz(250)
@given(JSON_RECORDS, st.booleans())
def test_json_record_first_defect_follows_spec_order(case, ascii_only) -> None:
    record, labels = case
    text = json.dumps(record, ensure_ascii=ascii_only)
    rec = record_from_line(text.encode("utf-8", "surrogatepass"), source_name="f", source_line=1)
    assert_invariants(rec)
    if has_raw_surrogate(text):  # written raw, a surrogate is not UTF-8
        assert rec.defect == "invalid_encoding"
        return
    assert rec.defect == expected_defect(labels, tokens_of(record, labels))
    # the same record from an HTTP page (parsed, as the page is: "\\ud800\\udfff" is one
    # character once read)
    parsed = json.loads(text)
    http = record_from_object(
        parsed, raw_text=json.dumps(parsed), source_name="u", source_line=1, source_page=1
    )
    assert_invariants(http)
    assert (http.defect, http.fields, http.content_sha256) == (
        rec.defect,
        rec.fields,
        rec.content_sha256,
    )


@fuzz(300)
@given(CSV_RECORDS)
def test_csv_row_first_defect_follows_spec_order(case) -> None:
    cells, labels = case
    raw = ",".join(cells.values())
    rec = record_from_csv_row(cells, raw_text=raw, source_name="c", source_line=2)
    assert_invariants(rec)
    assert rec.defect == expected_defect(labels, tokens_of(cells, labels))


@fuzz(500)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(PIECES | st.text(max_size=5), max_size=30).map(
            lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(
                    st.sampled_from([*contract.FIELD_NAMES, *CONTENT, "Prompt", "x"]) | TEXT,
                    children,
                    max_size=6,
                )
            ),
            max_leaves=15,
        ).map(lambda v: json.dumps(v).encode()),
        # a JSON text cut anywhere: malformed, escapes and all
        st.tuples(st.dictionaries(TEXT, TEXT, max_size=4), st.integers(0, 200)).map(
            lambda t: json.dumps(t[0]).encode()[: t[1]]
        ),
        # nesting around the bound, brackets in strings or not
        st.tuples(st.integers(500, 520), st.sampled_from(["[", '{"a":', '"['])).map(
            lambda t: (t[1] * t[0]).encode()
        ),
    )
)
def test_raw_bytes_never_raise_and_store_nothing_forbidden(raw: bytes) -> None:
    assert_invariants(record_from_line(raw, source_name="f", source_line=1))


@fuzz(200)
@given(
    st.dictionaries(
        st.sampled_from([*contract.FIELD_NAMES, "prompt", "Messages", "other", SK]),
        TEXT | st.sampled_from(["12", "12.0", "-1", "9" * 30, str(2**31), "{}", '{"a":"b"}']),
    )
)
def test_csv_rows_never_raise(row: dict[str, str]) -> None:
    rec = record_from_csv_row(row, raw_text=",".join(row.values()), source_name="c", source_line=2)
    assert_invariants(rec)


@fuzz(200)
@given(st.sampled_from(SECRETS), st.lists(st.booleans(), min_size=40, max_size=40), TEXT, TEXT)
def test_escaped_secret_in_malformed_line_is_redacted(secret, escape, before, after) -> None:
    spelled = "".join(f"\\u{ord(c):04X}" if e else c for c, e in zip(secret, escape, strict=False))
    text = '{"attempt_id": "a", "x": ' + json.dumps(before)[:-1] + " " + spelled + " " + after
    rec = record_from_line(text.encode("utf-8", "surrogatepass"), source_name="f", source_line=1)
    assert rec.defect in ("malformed_json", "invalid_encoding")
    assert_invariants(rec)
