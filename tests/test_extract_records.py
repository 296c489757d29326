"""Record-level extraction: SPEC 2.1, 2.5 and the per-record reasons of 4.1."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest

from tokenreview_pipeline.contract import TOKEN_FIELDS
from tokenreview_pipeline.extract.records import (
    CONTENT_FIELDS,
    MAX_RAW_BYTES,
    MAX_RECORD_BYTES,
    ExtractedRecord,
    has_secret,
    prompt_fingerprint,
    record_from_csv_row,
    record_from_line,
    record_from_object,
    redact_value,
)

SK = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"
BEARER = "Bearer abc123.def456"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def base(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "attempt_id": "att-1",
        "timestamp": "2026-11-18T02:00:00Z",
        "api_key_id": "key_a1",
        "model": "gpt-4o-mini",
        "endpoint": "/v1/chat/completions",
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not _DROP}


_DROP = object()


def line(obj: object) -> ExtractedRecord:
    return record_from_line(
        json.dumps(obj, ensure_ascii=False).encode("utf-8"), source_name="a.jsonl", source_line=7
    )


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def redacted(value: str) -> str:
    return "redacted_" + sha(value)[:12]


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------------ valid record


def test_full_valid_record_is_normalized() -> None:
    obj = {
        "attempt_id": "att-1",
        "timestamp": "2026-11-18T07:30:00.250+05:30",
        "request_id": "req-9",
        "client_retry_count": 2,
        "api_key_id": "key_a1",
        "source_ip": "2001:0db8:0000:0000:0000:0000:0000:0001",
        "model": "gpt-4o-mini",
        "endpoint": "/v1/chat/completions",
        "status_code": 429,
        "error_type": "rate_limit",
        "latency_ms": 1200,
        "prompt_tokens": 10,
        "completion_tokens": 3,
        "environment": "production",
        "tags": {"team": "search", "project": "risk-assessment-pipeline-v2"},
        "prompt_fingerprint": "fp-1",
        "unknown_field": {"nested": 1},
    }
    rec = line(obj)
    assert rec.defect is None
    assert rec.source_name == "a.jsonl" and rec.source_line == 7 and rec.source_page is None
    assert rec.redacted_values == 0
    expected_ts = datetime(2026, 11, 18, 2, 0, 0, 250000, tzinfo=timezone.utc)
    assert rec.fields == {
        "attempt_id": "att-1",
        "timestamp": expected_ts,
        "request_id": "req-9",
        "client_retry_count": 2,
        "api_key_id": "key_a1",
        "source_ip": "2001:db8::1",
        "model": "gpt-4o-mini",
        "endpoint": "/v1/chat/completions",
        "status_code": 429,
        "error_type": "rate_limit",
        "latency_ms": 1200.0,
        "prompt_tokens": 10,
        "completion_tokens": 3,
        "environment": "production",
        "tags": {"team": "search", "project": "risk-assessment-pipeline-v2"},
        "prompt_fingerprint": "fp-1",
        "cached_prompt_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "service_tier": None,
        "gateway_retries": 0,
    }
    assert isinstance(rec.fields["latency_ms"], float)
    assert rec.ts_us == int(expected_ts.timestamp()) * 1_000_000 + 250_000
    assert list(rec.fields) == [
        "attempt_id",
        "timestamp",
        "request_id",
        "client_retry_count",
        "api_key_id",
        "source_ip",
        "model",
        "endpoint",
        "status_code",
        "error_type",
        "latency_ms",
        "prompt_tokens",
        "completion_tokens",
        "environment",
        "tags",
        "prompt_fingerprint",
        "cached_prompt_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "service_tier",
        "gateway_retries",
    ]
    assert "unknown_field" not in rec.fields


def test_minimal_record_defaults() -> None:
    rec = line(base())
    assert rec.defect is None
    f = rec.fields
    assert f is not None
    assert f["prompt_tokens"] == 0 and f["completion_tokens"] == 0
    assert f["tags"] == {}
    for name in (
        "request_id",
        "client_retry_count",
        "source_ip",
        "status_code",
        "error_type",
        "latency_ms",
        "environment",
        "prompt_fingerprint",
    ):
        assert f[name] is None


def test_null_optional_fields_are_absent() -> None:
    rec = line(
        base(
            request_id=None,
            client_retry_count=None,
            status_code=None,
            latency_ms=None,
            tags=None,
            prompt_tokens=None,
            prompt_fingerprint=None,
        )
    )
    assert rec.defect is None
    assert rec.fields is not None
    assert rec.fields["tags"] == {} and rec.fields["prompt_tokens"] == 0
    assert rec.fields["status_code"] is None


def test_content_sha256_is_canonical_json_of_parsed_object_before_redaction() -> None:
    text = '{"model":"m","api_key_id":"' + SK + '","timestamp":"2026-11-18T02:00:00Z",'
    text += '"attempt_id":"a","endpoint":"/e","prompt":"héllo"}'
    rec = record_from_line(text.encode(), source_name="f", source_line=1)
    canonical = (
        '{"api_key_id":"' + SK + '","attempt_id":"a","endpoint":"/e","model":"m",'
        '"prompt":"héllo","timestamp":"2026-11-18T02:00:00Z"}'
    )
    assert rec.content_sha256 == sha(canonical)
    # whitespace and key order do not change the hash
    other = json.dumps(json.loads(text), indent=2).encode()
    assert record_from_line(other, source_name="f", source_line=1).content_sha256 == sha(canonical)


def test_trailing_cr_and_bom_are_ignored() -> None:
    raw = json.dumps(base()).encode()
    assert record_from_line(raw + b"\r", source_name="f", source_line=1).defect is None
    assert record_from_line(b"\xef\xbb\xbf" + raw, source_name="f", source_line=1).defect is None


# ------------------------------------------------------------ quarantine reasons


def test_record_too_large() -> None:
    obj = base(note="x" * MAX_RECORD_BYTES)
    rec = line(obj)
    assert rec.defect == "record_too_large"
    assert rec.fields is None and rec.content_sha256 is None
    assert len(rec.raw_redacted.encode()) <= MAX_RAW_BYTES
    # exactly 1 MiB is fine (it is then malformed here, but not too large)
    exact = b"[" + b" " * (MAX_RECORD_BYTES - 2) + b"]"
    assert record_from_line(exact, source_name="f", source_line=1).defect == "not_an_object"
    assert record_from_line(exact + b"\r", source_name="f", source_line=1).defect == (
        "not_an_object"
    )
    assert record_from_line(exact + b" ", source_name="f", source_line=1).defect == (
        "record_too_large"
    )


def test_invalid_encoding() -> None:
    raw = b'{"attempt_id":"a\xff","timestamp":"2026-11-18T02:00:00Z"}'
    rec = record_from_line(raw, source_name="f", source_line=1)
    assert rec.defect == "invalid_encoding"
    assert rec.content_sha256 is None and rec.fields is None
    # the timestamp is still usable to place the record in a cycle
    assert rec.ts_us == int(datetime(2026, 11, 18, 2, tzinfo=timezone.utc).timestamp()) * 1_000_000
    assert "\ufffd" in rec.raw_redacted


def test_lone_surrogate_is_kept_and_replaced_when_stored() -> None:
    raw = json.dumps(base(model="gpt\ud800", tags={"k\udfff": "v\ud800x"})).encode()
    assert b"\\ud800" in raw  # written as a JSON escape, as a client would
    rec = record_from_line(raw, source_name="f", source_line=1)
    assert rec.defect is None and rec.fields is not None
    assert rec.fields["model"] == "gpt\ufffd"
    assert rec.fields["tags"] == {"k\ufffd": "v\ufffdx"}
    # the content hash is over the parsed object before replacement
    assert (
        rec.content_sha256
        == hashlib.sha256(canonical(json.loads(raw)).encode("utf-8", "surrogatepass")).hexdigest()
    )
    assert (
        rec.content_sha256
        != line(base(model="gpt\ufffd", tags={"k\ufffd": "v\ufffdx"})).content_sha256
    )
    bad = record_from_line(b'{"attempt_id":"\\ud800","model":5}', source_name="f", source_line=1)
    assert bad.defect == "missing_field:timestamp"
    assert bad.defective_attempt_id == "\ufffd"
    bad.raw_redacted.encode("utf-8")  # storable
    assert "\ufffd" in bad.raw_redacted


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"not json",
        b'{"a":1,}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": 1e400}',  # outside a double: would read as infinity
        b"",
        b"[" * 100_000,
    ],
)
def test_malformed_json(raw: bytes) -> None:
    rec = record_from_line(raw, source_name="f", source_line=1)
    assert rec.defect == "malformed_json"
    assert rec.content_sha256 is None and rec.ts_us is None


@pytest.mark.parametrize("raw", [b"[1,2]", b'"text"', b"12", b"null", b"true"])
def test_not_an_object(raw: bytes) -> None:
    rec = record_from_line(raw, source_name="f", source_line=1)
    assert rec.defect == "not_an_object"
    assert rec.content_sha256 == sha(raw.decode())


@pytest.mark.parametrize("name", ["attempt_id", "timestamp", "api_key_id", "model", "endpoint"])
@pytest.mark.parametrize("how", ["absent", "null", "empty"])
def test_missing_field(name: str, how: str) -> None:
    value = {"absent": _DROP, "null": None, "empty": ""}[how]
    assert line(base(**{name: value})).defect == f"missing_field:{name}"


def test_missing_fields_reported_in_table_order() -> None:
    obj = {"model": "m"}
    assert line(obj).defect == "missing_field:attempt_id"
    obj = {"attempt_id": "a", "model": "m"}
    assert line(obj).defect == "missing_field:timestamp"
    # missing beats invalid_type of an earlier field
    assert line(base(attempt_id=5, endpoint=None)).defect == "missing_field:endpoint"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("attempt_id", 12),
        ("attempt_id", ["a"]),
        ("timestamp", 12345),
        ("timestamp", {"t": 1}),
        ("request_id", 5),
        ("client_retry_count", True),
        ("client_retry_count", 1.0),
        ("client_retry_count", "1"),
        ("client_retry_count", -1),
        ("api_key_id", 7),
        ("source_ip", "999.1.1.1"),
        ("source_ip", "10.0.0.1 "),
        ("source_ip", 167772161),
        ("model", {"name": "m"}),
        ("endpoint", False),
        ("status_code", "200"),
        ("status_code", 200.0),
        ("status_code", True),
        ("status_code", 2**64),
        ("error_type", 500),
        ("latency_ms", True),
        ("latency_ms", "5"),
        ("latency_ms", -0.5),
        ("latency_ms", 10**400),
        ("prompt_tokens", 12.0),
        ("prompt_tokens", "12"),
        ("prompt_tokens", True),
        ("completion_tokens", 1.5),
        ("completion_tokens", [3]),
        ("environment", 1),
        ("tags", ["team"]),
        ("tags", {"team": 1}),
        ("tags", {"team": None}),
        ("tags", "team=search"),
        ("prompt_fingerprint", 99),
    ],
)
def test_invalid_type(name: str, value: object) -> None:
    rec = line(base(**{name: value}))
    assert rec.defect == f"invalid_type:{name}"
    assert rec.fields is None


def test_invalid_type_in_table_order_and_before_timestamp_checks() -> None:
    obj = base(tags=[1], status_code="x", timestamp="not a time")
    assert line(obj).defect == "invalid_type:status_code"
    assert line(base(tags=[1], timestamp="not a time")).defect == "invalid_type:tags"


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-18T25:00Z", "0"])
def test_invalid_timestamp(value: str) -> None:
    rec = line(base(timestamp=value))
    assert rec.defect == "invalid_timestamp"
    assert rec.ts_us is None


@pytest.mark.parametrize("value", ["2026-11-18T02:00:00", "2026-11-18", "2026-11-18 02:00"])
def test_timestamp_without_timezone(value: str) -> None:
    rec = line(base(timestamp=value))
    assert rec.defect == "timestamp_without_timezone"
    assert rec.ts_us is None


def test_timestamp_defects_come_before_negative_tokens() -> None:
    assert line(base(prompt_tokens=-1, timestamp="x")).defect == "invalid_timestamp"


def test_ts_us_kept_for_defective_records() -> None:
    rec = line({"timestamp": "2026-11-18T03:00:00+01:00", "model": 5})
    assert rec.defect == "missing_field:attempt_id"
    assert rec.ts_us == int(datetime(2026, 11, 18, 2, tzinfo=timezone.utc).timestamp()) * 1_000_000
    assert line(base(prompt_tokens=-1)).ts_us is not None


def test_accepted_timestamp_forms() -> None:
    for value in ("2026-11-18T02:00:00Z", "2026-11-18T02:00:00+00:00", "2026-11-18T03:00+01:00"):
        rec = line(base(timestamp=value))
        assert rec.defect is None
        assert rec.fields is not None
        assert rec.fields["timestamp"] == datetime(2026, 11, 18, 2, tzinfo=timezone.utc)
        assert rec.fields["timestamp"].tzinfo is timezone.utc


def test_source_ip_ipv4_kept() -> None:
    rec = line(base(source_ip="10.20.0.5"))
    assert rec.fields is not None and rec.fields["source_ip"] == "10.20.0.5"


def test_never_duplicate_attempt_id_here() -> None:
    a = line(base())
    b = line(base(model="other"))
    assert a.defect is None and b.defect is None


# ------------------------------------------------- new token fields, tier, gateway


def test_new_fields_are_read() -> None:
    rec = line(
        base(
            prompt_tokens=100,
            completion_tokens=40,
            cached_prompt_tokens=60,
            cache_write_tokens=40,
            reasoning_tokens=40,
            service_tier="Priority",  # exact, case-sensitive: not normalized here
            gateway_retries=3,
        )
    )
    assert rec.defect is None and rec.fields is not None
    assert {k: rec.fields[k] for k in ("cached_prompt_tokens", "cache_write_tokens")} == {
        "cached_prompt_tokens": 60,
        "cache_write_tokens": 40,
    }
    assert rec.fields["reasoning_tokens"] == 40 and rec.fields["gateway_retries"] == 3
    assert rec.fields["service_tier"] == "Priority"
    assert line(base(service_tier=" default ")).fields["service_tier"] == " default "  # type: ignore[index]
    assert line(base(service_tier="")).fields["service_tier"] is None  # type: ignore[index]


@pytest.mark.parametrize(
    "name", ["cached_prompt_tokens", "cache_write_tokens", "reasoning_tokens", "gateway_retries"]
)
@pytest.mark.parametrize("value", [True, 12.0, "12", 1.5, [1], {"n": 1}])
def test_new_int_fields_invalid_type(name: str, value: object) -> None:
    assert line(base(**{name: value})).defect == f"invalid_type:{name}"


@pytest.mark.parametrize("value", [5, True, ["batch"]])
def test_service_tier_must_be_a_string(value: object) -> None:
    assert line(base(service_tier=value)).defect == "invalid_type:service_tier"


def test_negative_gateway_retries_is_invalid_type() -> None:
    assert line(base(gateway_retries=-1)).defect == "invalid_type:gateway_retries"
    assert from_csv(csv_row(gateway_retries="-1")).defect == "invalid_type:gateway_retries"


@pytest.mark.parametrize("name", TOKEN_FIELDS)
def test_negative_tokens_over_all_five_fields(name: str) -> None:
    assert line(base(**{name: -1})).defect == "negative_tokens"
    assert from_csv(csv_row(**{name: "-1"})).defect == "negative_tokens"


@pytest.mark.parametrize(
    ("counts", "defect"),
    [
        ({"prompt_tokens": 10, "cached_prompt_tokens": 6, "cache_write_tokens": 4}, None),
        ({"prompt_tokens": 10, "cached_prompt_tokens": 6, "cache_write_tokens": 5}, "inconsistent"),
        ({"prompt_tokens": 10, "cached_prompt_tokens": 11}, "inconsistent"),
        ({"cache_write_tokens": 1}, "inconsistent"),  # absent prompt_tokens = 0
        ({"completion_tokens": 5, "reasoning_tokens": 5}, None),
        ({"completion_tokens": 5, "reasoning_tokens": 6}, "inconsistent"),
        ({"reasoning_tokens": 1}, "inconsistent"),
        ({"prompt_tokens": 0, "cached_prompt_tokens": 0, "reasoning_tokens": 0}, None),
        # negative_tokens comes first
        ({"prompt_tokens": -1, "cached_prompt_tokens": 5}, "negative_tokens"),
        ({"cached_prompt_tokens": -1, "reasoning_tokens": 9}, "negative_tokens"),
    ],
)
def test_inconsistent_tokens(counts: dict, defect: str | None) -> None:
    want = "inconsistent_tokens" if defect == "inconsistent" else defect
    assert line(base(**counts)).defect == want
    assert from_csv(csv_row(**{k: str(v) for k, v in counts.items()})).defect == want


def test_token_defects_come_after_types_and_timestamps() -> None:
    assert line(base(cached_prompt_tokens=5, timestamp="x")).defect == "invalid_timestamp"
    assert line(base(cached_prompt_tokens=5, gateway_retries=True)).defect == (
        "invalid_type:gateway_retries"
    )
    assert line(base(reasoning_tokens=-1, timestamp="2026-11-18T02:00:00")).defect == (
        "timestamp_without_timezone"
    )


# ---------------------------------------------------------------- SPEC 2.5 bounds

INT32_FIELDS = ("client_retry_count", "status_code", "gateway_retries")


@pytest.mark.parametrize("name", INT32_FIELDS)
def test_int32_bounds(name: str) -> None:
    assert line(base(**{name: 2**31 - 1})).defect is None
    assert line(base(**{name: 2**31})).defect == f"invalid_type:{name}"
    assert line(base(**{name: 2**63})).defect == f"invalid_type:{name}"
    assert from_csv(csv_row(**{name: str(2**31 - 1)})).defect is None
    assert from_csv(csv_row(**{name: str(2**31)})).defect == f"invalid_type:{name}"
    assert from_csv(csv_row(**{name: "0" * 40 + "7"})).defect is None  # leading zeros


def test_negative_status_code_bound() -> None:
    assert line(base(status_code=-(2**31) + 1)).defect is None
    assert line(base(status_code=-(2**31))).defect == "invalid_type:status_code"


@pytest.mark.parametrize("name", TOKEN_FIELDS)
def test_token_bounds(name: str) -> None:
    # the parts need a whole at least as large
    whole = {"prompt_tokens": 2**40 - 1, "completion_tokens": 2**40 - 1}
    assert line(base(**{**whole, name: 2**40 - 1})).defect is None
    assert line(base(**{**whole, name: 2**40})).defect == f"invalid_type:{name}"
    # out of bound in absolute value comes before negative_tokens
    assert line(base(**{name: -(2**40)})).defect == f"invalid_type:{name}"
    assert line(base(**{name: -(2**40) + 1})).defect == "negative_tokens"
    assert from_csv(csv_row(**{name: str(2**40)})).defect == f"invalid_type:{name}"


def test_huge_digit_strings_are_out_of_bound_not_a_crash() -> None:
    digits = "9" * 100_000  # int() of this would take long; beyond Python's 4,300 digits
    assert from_csv(csv_row(prompt_tokens=digits)).defect == "invalid_type:prompt_tokens"
    assert from_csv(csv_row(status_code="-" + digits)).defect == "invalid_type:status_code"
    # as a JSON literal, Python refuses to read it: not JSON it can process
    raw = json.dumps(base()).encode()[:-1] + b', "prompt_tokens": ' + digits.encode() + b"}"
    assert record_from_line(raw, source_name="f", source_line=1).defect == "malformed_json"


BOUNDED_STRINGS = (
    "attempt_id",
    "request_id",
    "api_key_id",
    "model",
    "endpoint",
    "environment",
    "service_tier",
    "prompt_fingerprint",
)


@pytest.mark.parametrize("name", BOUNDED_STRINGS)
def test_string_bounds(name: str) -> None:
    assert line(base(**{name: "é" * 512})).defect is None
    assert line(base(**{name: "\U0001f600" * 512})).defect is None  # characters, not bytes
    assert line(base(**{name: "x" * 513})).defect == f"invalid_type:{name}"
    assert from_csv(csv_row(**{name: "x" * 513})).defect == f"invalid_type:{name}"


def test_string_bound_is_on_the_value_as_read_before_redaction() -> None:
    # 512 characters holding tiny JWTs: each becomes 21 characters once redacted
    value = ("eyJ.a.b " * 64)[:512]
    rec = line(base(attempt_id=value))
    assert rec.defect is None and rec.fields is not None
    assert len(rec.fields["attempt_id"]) > 512  # type: ignore[arg-type]
    assert not has_secret(rec.fields["attempt_id"])  # type: ignore[arg-type]
    assert line(base(attempt_id="eyJ.a.b" + "x" * 506)).defect == "invalid_type:attempt_id"


def test_unbounded_strings_stay_unbounded() -> None:
    rec = line(base(error_type="e" * 10_000))
    assert rec.defect is None and rec.fields is not None
    assert rec.fields["error_type"] == "e" * 10_000


def test_tag_bounds() -> None:
    assert line(base(tags={f"k{i}": "v" for i in range(64)})).defect is None
    assert line(base(tags={f"k{i}": "v" for i in range(65)})).defect == "invalid_type:tags"
    assert line(base(tags={"k" * 512: "v" * 512})).defect is None
    assert line(base(tags={"k" * 513: "v"})).defect == "invalid_type:tags"
    assert line(base(tags={"k": "v" * 513})).defect == "invalid_type:tags"
    many = json.dumps({f"k{i}": "v" for i in range(65)})
    assert from_csv(csv_row(tags=many)).defect == "invalid_type:tags"


def test_csv_tags_cell_nested_deeper_than_an_object() -> None:
    assert from_csv(csv_row(tags='{"a": "[{x}]"}')).fields["tags"] == {"a": "[{x}]"}  # type: ignore[index]
    assert from_csv(csv_row(tags='{"a": {"b": "c"}}')).defect == "invalid_type:tags"
    assert from_csv(csv_row(tags="[" * 200_000)).defect == "invalid_type:tags"


def test_nesting_bound() -> None:
    def nested(depth: int) -> bytes:
        # depth levels: the record object itself, then depth - 1 nested lists
        inner = "[" * (depth - 1) + "]" * (depth - 1)
        return json.dumps(base()).encode()[:-1] + b', "deep": ' + inner.encode() + b"}"

    assert record_from_line(nested(512), source_name="f", source_line=1).defect is None
    assert record_from_line(nested(513), source_name="f", source_line=1).defect == (
        "malformed_json"
    )
    # brackets inside strings are not nesting
    text = json.dumps(base(note="[" * 5000 + "{" * 5000))
    assert record_from_line(text.encode(), source_name="f", source_line=1).defect is None
    # a million levels: malformed_json, quickly, without recursion
    rec = record_from_line(b"[" * 1_000_000, source_name="f", source_line=1)
    assert rec.defect == "malformed_json"


def test_nesting_bound_of_an_http_record() -> None:
    obj: object = base()
    for _ in range(511):
        obj = [obj]
    rec = record_from_object(obj, raw_text="[...]", source_name="u", source_line=1, source_page=1)
    assert rec.defect == "not_an_object"
    rec = record_from_object(
        [obj],
        raw_text='[{"attempt_id": "sk-' + "x" * 30 + '"}]',
        source_name="u",
        source_line=1,
        source_page=1,
    )
    assert rec.defect == "malformed_json"
    assert rec.raw_redacted == '[{"attempt_id": "' + redacted("sk-" + "x" * 30) + '"}]'


@pytest.mark.parametrize("value", ["fe80::1%eth0", "fe80::1%" + "a" * 100, "fe80::1%\x00"])
def test_source_ip_with_a_zone_index_is_invalid(value: str) -> None:
    assert line(base(source_ip=value)).defect == "invalid_type:source_ip"


# --------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    "value",
    [
        SK,
        BEARER,
        JWT,
        "  " + SK + " ",
        "my sk-" + "a" * 30,  # inside a longer value
        "Bearer of bad news",  # "Bearer of" matches the SPEC pattern exactly
        "auth=Bearer xyz",
        "token=" + SK,
        "sk-" + "a" * 20,  # exactly 20 characters after sk-
    ],
)
def test_has_secret(value: str) -> None:
    assert has_secret(value)
    new, changed = redact_value(value)
    assert changed and not has_secret(new)


@pytest.mark.parametrize(
    "value",
    [
        "risk-assessment-pipeline-v2",  # sk- right after a letter
        "task-abcdefghijklmnopqrstuvwxyz",
        "sk-short",
        "sk-" + "a" * 19,
        "Bearer",
        "Bearer ",
        "bearer xyz",  # case-sensitive
        "BEARER xyz",
        "Bearer\txyz",
        "xBearer xyz",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJa.b",
        "keyJa.b.c",
        "key_a1",
        "SK-" + "a" * 30,
    ],
)
def test_not_a_secret(value: str) -> None:
    assert not has_secret(value)
    assert redact_value(value) == (value, False)


def test_redact_value_form() -> None:
    assert redact_value(SK) == ("redacted_" + hashlib.sha256(SK.encode()).hexdigest()[:12], True)


def test_secret_inside_a_value_is_replaced_in_place_whole_match() -> None:
    assert redact_value(f"auth=Bearer {SK} rest") == (f"auth={redacted('Bearer ' + SK)} rest", True)
    assert redact_value(f"a {SK}, b {JWT}.") == (f"a {redacted(SK)}, b {redacted(JWT)}.", True)
    # leftmost first, never overlapping: the Bearer match swallows the JWT after it
    assert redact_value(f"Bearer {JWT}") == (redacted(f"Bearer {JWT}"), True)
    # the JWT's third segment stops at a dot; what follows stays
    assert redact_value("eyJa.b.c.d") == (redacted("eyJa.b.c") + ".d", True)


def test_redaction_repeats_until_no_secret_is_left() -> None:
    # Replacing the JWT joins "sk-abcdefghij_" and the replacement into an sk- secret.
    value = "sk-abcdefghij_eyJa.b.c"
    once = "sk-abcdefghij_" + redacted("eyJa.b.c")
    assert has_secret(once)
    assert redact_value(value) == (redacted(once), True)


def test_nul_is_replaced_and_does_not_count() -> None:
    assert redact_value("gpt\x004o") == ("gpt\ufffd4o", False)
    rec = line(base(model="gpt\x00", api_key_id="key\x00", tags={"t\x00": "v\x00"}))
    assert rec.defect is None and rec.fields is not None
    assert rec.fields["model"] == "gpt\ufffd" and rec.fields["api_key_id"] == "key\ufffd"
    assert rec.fields["tags"] == {"t\ufffd": "v\ufffd"}
    assert rec.redacted_values == 0
    assert "\x00" not in rec.raw_redacted


@pytest.mark.parametrize("secret", [SK, BEARER, JWT])
def test_api_key_id_and_tag_values_redacted(secret: str) -> None:
    rec = line(base(api_key_id=secret, tags={"team": secret, "project": "risk-assessment-x"}))
    assert rec.defect is None and rec.fields is not None
    assert rec.fields["api_key_id"] == redacted(secret)
    assert rec.fields["tags"] == {"team": redacted(secret), "project": "risk-assessment-x"}
    assert rec.redacted_values == 2
    assert secret not in rec.raw_redacted
    assert redacted(secret) in rec.raw_redacted


def test_redacted_values_counts_api_key_id_and_tag_values_once_each() -> None:
    rec = line(
        base(
            api_key_id=f"{SK} and {JWT}",  # two secrets, one value: counts once
            tags={"a": f"token={SK}", "b": "plain", SK: "key-only", "c": "x\x00"},
            model=f"m-{BEARER}",  # other fields are redacted but do not count
            error_type=f"401: {BEARER}",
        )
    )
    assert rec.defect is None and rec.fields is not None
    assert rec.redacted_values == 2
    assert rec.fields["api_key_id"] == f"{redacted(SK)} and {redacted(JWT)}"
    assert rec.fields["tags"] == {
        "a": "token=" + redacted(SK),
        "b": "plain",
        redacted(SK): "key-only",
        "c": "x\ufffd",
    }
    assert rec.fields["model"] == "m-" + redacted(BEARER)
    assert rec.fields["error_type"] == "401: " + redacted(BEARER)


def test_every_stored_string_field_redacted() -> None:
    names = [
        "attempt_id",
        "request_id",
        "model",
        "endpoint",
        "error_type",
        "environment",
        "prompt_fingerprint",
        "service_tier",
    ]
    rec = line(base(**{n: f"{n}:{SK}" for n in names}, tags={f"k {SK}": "v"}))
    assert rec.fields is not None
    for n in names:
        assert rec.fields[n] == f"{n}:{redacted(SK)}"
    assert rec.fields["tags"] == {f"k {redacted(SK)}": "v"}
    assert rec.redacted_values == 0  # only api_key_id and tag values count
    assert SK not in rec.raw_redacted


def test_content_hash_is_before_redaction() -> None:
    a = line(base(api_key_id=SK))
    b = line(base(api_key_id=redacted(SK)))
    assert a.fields == b.fields
    assert a.content_sha256 != b.content_sha256


def test_secrets_in_unknown_fields_redacted_in_raw() -> None:
    unknown = {"note": f"used {SK} and {JWT} here", "other": BEARER, "deep": [{"x": SK}]}
    rec = line(base(**unknown))
    assert rec.defect is None
    assert rec.redacted_values == 0  # only api_key_id and tag values count
    # A valid record's raw text is its normalized fields: unknown fields are not kept.
    assert json.loads(rec.raw_redacted) == json.loads(line(base()).raw_redacted)
    # A defective record keeps its unknown fields, with secrets redacted in free text.
    bad = line(base(prompt_tokens=-1, **unknown))
    assert bad.defect == "negative_tokens"
    for secret in (SK, JWT, BEARER):
        assert secret not in bad.raw_redacted
    assert "used redacted_" in bad.raw_redacted


def test_secrets_redacted_in_defective_records() -> None:
    rec = line(base(api_key_id=SK, model=5, tags={"a": SK, "b": 1}))
    assert rec.defect == "invalid_type:model"
    assert SK not in rec.raw_redacted
    assert rec.redacted_values == 2  # its api_key_id and tag value, as for a valid record
    bad = f'{{"api_key_id": "{SK}", "auth": "{BEARER}", "t": "x={JWT}" oops'.encode()
    rec = record_from_line(bad, source_name="f", source_line=1)
    assert rec.defect == "malformed_json"
    for secret in (SK, BEARER, JWT):
        assert secret not in rec.raw_redacted
    assert rec.raw_redacted == (
        f'{{"api_key_id": "{redacted(SK)}", "auth": "{redacted(BEARER)}", '
        f'"t": "x={redacted(JWT)}" oops'
    )
    assert rec.redacted_values == 0  # text that did not parse has no values to count
    assert (
        "risk-assessment-pipeline-v2-abcdefghij"
        in record_from_line(
            b'{"x":"risk-assessment-pipeline-v2-abcdefghij" oops', source_name="f", source_line=1
        ).raw_redacted
    )


def test_escaped_secret_in_malformed_line_is_redacted() -> None:
    secret = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"
    escaped = secret.replace("o", "\\u006F").replace("-", "\\u002d")
    raw = (
        '{"attempt_id": "a", "note": "' + escaped + '", "auth": "\\u0042earer tok",'
        ' "t": "\\n' + JWT + '", "ok": "caf\\u00e9 \\\\u0073k-' + "x" * 25 + '" oops'
    )
    rec = record_from_line(raw.encode(), source_name="f", source_line=1)
    assert rec.defect == "malformed_json"
    assert rec.raw_redacted == (
        '{"attempt_id": "a", "note": "'
        + redacted(secret)
        + '", "auth": "'
        + redacted("Bearer tok")
        + '", "t": "\\n'
        + redacted(JWT)
        # an escaped backslash is not an escape of "s": that text is not a secret
        + '", "ok": "caf\\u00e9 \\\\u0073k-'
        + "x" * 25
        + '" oops'
    )


def test_escaped_content_key_in_malformed_line_is_removed() -> None:
    raw = b'{"attempt_id": "a", "pr\\u006fmpt": "PROMPT-TEXT", "Messag\\u0065s": ["M"], "x": 1'
    rec = record_from_line(raw, source_name="f", source_line=1)
    assert rec.defect == "malformed_json"
    assert rec.raw_redacted == '{"attempt_id": "a", \u2026"x": 1'  # one mark for the cut


def test_cut_content_never_joins_into_a_new_content_key() -> None:
    raw = b'{"pro"prompt": 1,mpt": "P", "a": 2'
    rec = record_from_line(raw, source_name="f", source_line=1)
    assert rec.raw_redacted == '{"pro\u2026mpt": "P", "a": 2'
    assert '"prompt":' not in rec.raw_redacted


def test_tags_named_like_content_fields_are_dropped() -> None:
    rec = line(base(tags={"prompt": "P", "Authorization": BEARER, "team": "search"}))
    assert rec.fields is not None and rec.fields["tags"] == {"team": "search"}
    assert rec.redacted_values == 0


# -------------------------------------------------------------- content fields

CONTENT = {
    "prompt": "PROMPT-TEXT",
    "messages": [{"role": "user", "content": "MESSAGE-TEXT"}],
    "input": "INPUT-TEXT",
    "response": {"text": "RESPONSE-TEXT"},
    "output": ["OUTPUT-TEXT"],
    "choices": [{"message": {"content": "CHOICE-TEXT"}}],
    "content": "CONTENT-TEXT",
    "completion": "COMPLETION-TEXT",
    "authorization": "Bearer AUTH-TOKEN-1234",
    "headers": {"Authorization": "Bearer HEADER-TOKEN", "x": "HEADER-TEXT"},
    "api_key": "APIKEY-TEXT",
}


def test_content_fields_never_kept() -> None:
    assert set(CONTENT) == set(CONTENT_FIELDS)
    rec = line(base(**CONTENT))
    assert rec.defect is None and rec.fields is not None
    assert not set(CONTENT) & set(rec.fields)
    for marker in ("TEXT", "TOKEN"):
        assert marker not in rec.raw_redacted
        assert marker not in json.dumps(rec.fields, default=str)
    for key in CONTENT:
        assert f'"{key}"' not in rec.raw_redacted


def test_content_fields_dropped_from_defective_and_nested_raw() -> None:
    rec = line(base(model=1, extra={"messages": ["NESTED-TEXT"]}, **CONTENT))
    assert rec.defect == "invalid_type:model"
    assert "TEXT" not in rec.raw_redacted and "TOKEN" not in rec.raw_redacted
    rec = line([{"prompt": "LIST-TEXT"}])
    assert rec.defect == "not_an_object" and "LIST-TEXT" not in rec.raw_redacted


@pytest.mark.parametrize(
    "raw",
    [
        b'{"attempt_id":"a","prompt":"PROMPT, with } and \\" quote","model":"m" oops',
        b'{"attempt_id":"a","messages":[{"content":"MSG ] }"}],"model":"m" oops',
        b'{"attempt_id":"a","response":{"t":"RESP"},"model":"m",,}',
        b'{"attempt_id":"a","completion":"UNTERMINATED',
        b'{"attempt_id":"a","choices":[{"x":"UNTERMINATED',
        b"{'attempt_id': 'a', 'prompt': 'PYTHON-REPR', 'model': 'm'}",
        b'{"attempt_id":"a","Authorization":"Bearer XYZ","api_key":12345 oops',
    ],
)
def test_content_removed_from_unparsed_text(raw: bytes) -> None:
    rec = record_from_line(raw, source_name="f", source_line=1)
    assert rec.defect == "malformed_json"
    for marker in ("PROMPT", "MSG", "RESP", "UNTERMINATED", "PYTHON-REPR", "XYZ", "12345"):
        assert marker not in rec.raw_redacted
    assert "attempt_id" in rec.raw_redacted


def test_too_large_raw_has_no_content_or_secret() -> None:
    raw = (
        b'{"attempt_id":"a","api_key_id":"'
        + SK.encode()
        + b'","prompt":"'
        + b"P" * (MAX_RECORD_BYTES + 10)
        + b'"}'
    )
    rec = record_from_line(raw, source_name="f", source_line=1)
    assert rec.defect == "record_too_large"
    assert "PPP" not in rec.raw_redacted and SK not in rec.raw_redacted
    assert rec.raw_redacted.startswith('{"attempt_id":"a"')


def test_raw_truncated_to_4096_bytes_without_splitting_characters() -> None:
    rec = line(base(model=5, note="é" * 5000))
    data = rec.raw_redacted.encode("utf-8")
    assert len(data) <= MAX_RAW_BYTES
    assert len(data) >= MAX_RAW_BYTES - 1
    assert not rec.raw_redacted.endswith("\ufffd")
    rec = record_from_line(("€" * 3000 + " oops").encode(), source_name="f", source_line=1)
    assert rec.defect == "malformed_json"
    assert len(rec.raw_redacted.encode()) <= MAX_RAW_BYTES
    assert set(rec.raw_redacted) == {"€"}


# ------------------------------------------------------------------ fingerprint


MESSAGES = [{"role": "user", "content": "Grüße, 世界"}]
MESSAGES_CANONICAL = '[{"content":"Grüße, 世界","role":"user"}]'


def test_prompt_fingerprint_function() -> None:
    assert prompt_fingerprint(MESSAGES) == sha(MESSAGES_CANONICAL)
    assert prompt_fingerprint("hello") == sha('"hello"')
    assert prompt_fingerprint({"b": 1, "a": [1.5, None]}) == sha('{"a":[1.5,null],"b":1}')


def test_fingerprint_from_messages_first() -> None:
    rec = line(base(input="i", prompt="p", messages=MESSAGES))
    assert rec.fields is not None
    assert rec.fields["prompt_fingerprint"] == sha(MESSAGES_CANONICAL)


def test_fingerprint_from_prompt_then_input() -> None:
    rec = line(base(input="i", prompt="Say “hi”"))
    assert rec.fields is not None and rec.fields["prompt_fingerprint"] == sha('"Say “hi”"')
    rec = line(base(input={"z": 1, "a": "b"}, messages=None))
    assert rec.fields is not None and rec.fields["prompt_fingerprint"] == sha('{"a":"b","z":1}')


def test_given_fingerprint_wins() -> None:
    rec = line(base(messages=MESSAGES, prompt_fingerprint="given"))
    assert rec.fields is not None and rec.fields["prompt_fingerprint"] == "given"
    rec = line(base(messages=MESSAGES, prompt_fingerprint=None))
    assert rec.fields is not None
    assert rec.fields["prompt_fingerprint"] == sha(MESSAGES_CANONICAL)


def test_no_prompt_no_fingerprint() -> None:
    rec = line(base())
    assert rec.fields is not None and rec.fields["prompt_fingerprint"] is None


# -------------------------------------------------------------------------- CSV


def csv_row(**cells: str) -> dict[str, str]:
    row = {
        "attempt_id": "att-1",
        "timestamp": "2026-11-18T02:00:00Z",
        "request_id": "",
        "client_retry_count": "",
        "api_key_id": "key_a1",
        "source_ip": "",
        "model": "gpt-4o-mini",
        "endpoint": "/v1/chat/completions",
        "status_code": "",
        "error_type": "",
        "latency_ms": "",
        "prompt_tokens": "",
        "completion_tokens": "",
        "environment": "",
        "tags": "",
        "prompt_fingerprint": "",
    }
    row.update(cells)
    return row


def from_csv(row: dict[str, str]) -> ExtractedRecord:
    return record_from_csv_row(
        row, raw_text=",".join(row.values()), source_name="c.csv", source_line=3
    )


def test_csv_conversion() -> None:
    rec = from_csv(
        csv_row(
            client_retry_count="1",
            status_code="503",
            latency_ms="12.5",
            prompt_tokens="12",
            completion_tokens="0",
            tags='{"team": "search", "workload": "' + SK + '"}',
            source_ip="10.0.0.1",
            environment="prod",
        )
    )
    assert rec.defect is None and rec.fields is not None
    assert rec.source_name == "c.csv" and rec.source_line == 3 and rec.source_page is None
    f = rec.fields
    assert f["client_retry_count"] == 1 and f["status_code"] == 503
    assert f["latency_ms"] == 12.5 and f["prompt_tokens"] == 12 and f["completion_tokens"] == 0
    assert f["tags"] == {"team": "search", "workload": redacted(SK)}
    assert f["request_id"] is None and f["error_type"] is None
    assert f["timestamp"] == datetime(2026, 11, 18, 2, tzinfo=timezone.utc)
    assert rec.redacted_values == 1
    assert SK not in rec.raw_redacted


def test_csv_content_hash_over_non_empty_cells() -> None:
    row = csv_row(prompt_tokens="12")
    rec = from_csv(row)
    cells = {k: v for k, v in row.items() if v != ""}
    expected = json.dumps(cells, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert rec.content_sha256 == sha(expected)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("client_retry_count", "1.0"),
        ("client_retry_count", "-1"),
        ("client_retry_count", "abc"),
        ("status_code", "200.0"),
        ("status_code", " 200"),
        ("latency_ms", "abc"),
        ("latency_ms", "-1"),
        ("latency_ms", "nan"),
        ("latency_ms", "inf"),
        ("prompt_tokens", "12.0"),
        ("prompt_tokens", "1_000"),
        ("completion_tokens", "abc"),
        ("tags", "team=search"),
        ("tags", '{"team": 1}'),
        ("tags", "[]"),
        ("source_ip", "host.example"),
    ],
)
def test_csv_invalid_type(name: str, value: str) -> None:
    assert from_csv(csv_row(**{name: value})).defect == f"invalid_type:{name}"


def test_csv_empty_cell_is_absent() -> None:
    assert from_csv(csv_row(model="")).defect == "missing_field:model"
    assert from_csv(csv_row(prompt_tokens="-4")).defect == "negative_tokens"
    assert from_csv(csv_row(timestamp="2026-11-18T02:00:00")).defect == (
        "timestamp_without_timezone"
    )


def test_csv_content_columns_dropped_and_fingerprinted() -> None:
    rec = from_csv(csv_row(prompt="Hello there", response="RESPONSE-TEXT"))
    assert rec.fields is not None
    assert rec.fields["prompt_fingerprint"] == sha('"Hello there"')
    assert "Hello" not in rec.raw_redacted and "RESPONSE" not in rec.raw_redacted


# ---------------------------------------------------------------- from object


def test_record_from_object() -> None:
    obj = base(messages=MESSAGES)
    rec = record_from_object(
        obj, raw_text=json.dumps(obj), source_name="http://h/logs", source_line=2, source_page=3
    )
    assert rec.defect is None
    assert (rec.source_name, rec.source_line, rec.source_page) == ("http://h/logs", 2, 3)
    assert rec.content_sha256 == line(obj).content_sha256
    assert rec.fields == line(obj).fields


def test_record_from_object_defects() -> None:
    def rec(obj: object) -> ExtractedRecord:
        return record_from_object(
            obj, raw_text=json.dumps(obj), source_name="u", source_line=1, source_page=1
        )

    assert rec(float("nan")).defect == "malformed_json"
    assert rec(base(latency_ms=float("nan"))).defect == "malformed_json"
    assert rec("x").defect == "not_an_object"
    assert rec(base(note="x" * MAX_RECORD_BYTES)).defect == "record_too_large"


# ------------------------------------------------- fields built only when asked


def _fresh(obj: object) -> ExtractedRecord:
    return line(obj)


@pytest.mark.parametrize(
    "obj",
    [
        base(attempt_id=f"att-{SK}", tags={"team": SK}, prompt="hello"),
        base(attempt_id="att-2", input_tokens=-1),  # defective: negative_tokens
        base(attempt_id=f"x {BEARER}", timestamp="not a time"),  # defective, redacted id
        ["not", "an", "object"],
    ],
    ids=["valid", "negative_tokens", "invalid_timestamp", "not_an_object"],
)
def test_attempt_id_asked_first_is_the_one_stored_with_the_fields(obj: object) -> None:
    early = _fresh(obj).attempt_id  # before anything else is built
    rec = _fresh(obj)
    assert rec.fields is None or rec.fields["attempt_id"] == early
    expected = rec.fields["attempt_id"] if rec.fields else rec.defective_attempt_id
    assert early == expected
    assert SK not in str(early) and "abc123" not in str(early)


def test_a_record_is_the_same_whatever_is_asked_first() -> None:
    obj = base(attempt_id=f"att-{SK}", api_key_id=SK, tags={"team": SK}, messages=[{"a": 1}])
    by_raw, by_fields, by_count = _fresh(obj), _fresh(obj), _fresh(obj)
    assert by_raw.raw_redacted and by_fields.fields and by_count.redacted_values == 2
    assert by_raw == by_fields == by_count
    assert by_raw.fields == by_count.fields and by_raw.raw_redacted == by_fields.raw_redacted


def test_staging_outside_the_read_window_builds_no_fields(monkeypatch) -> None:
    from tokenreview_pipeline.cycles import parse_cycle
    from tokenreview_pipeline.extract import load
    from tokenreview_pipeline.extract import records as records_module

    built: list[str] = []
    real = records_module._build_fields

    def counting(values, obj):
        built.append(values["attempt_id"])
        return real(values, obj)

    monkeypatch.setattr(records_module, "_build_fields", counting)
    window = load.StagingWindow.for_cycle(parse_cycle("2026-11-16", "weekly"), 3600)
    outside = base(
        attempt_id=f"old-{SK}", api_key_id=SK, timestamp="2026-10-01T00:00:00Z", prompt="p"
    )
    inside = base(attempt_id="new", timestamp="2026-11-18T00:00:00Z", prompt="p")

    lazy_row = load.staging_row(0, _fresh(outside), window)
    assert built == []  # only parsed, hashed and validated
    assert lazy_row["attempt_id"] == redacted(SK).join(["old-", ""])
    assert lazy_row["defect"] is None and lazy_row["ts_us"] is not None
    assert lazy_row["raw_redacted"] is None and lazy_row["model"] is None

    eager = _fresh(outside)
    assert eager.fields is not None  # built first: the row stored is the same
    assert load.staging_row(0, eager, window) == {**lazy_row, "redacted_values": 0}
    assert eager.redacted_values == 1 and lazy_row["redacted_values"] == 0

    in_row = load.staging_row(1, _fresh(inside), window)
    assert built[-1] == "new" and in_row["model"] == "gpt-4o-mini"
    assert in_row["prompt_fingerprint"] == prompt_fingerprint("p")
