"""``mapped`` (SPEC 2.7): dotted paths, coercion, usage styles, tags, fingerprint, times."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from ledger_scan import problems_of

from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.extract.formats import input_format
from tokenreview_pipeline.extract.formats.mapped import USAGE_STYLES, MappedFormat
from tokenreview_pipeline.extract.records import prompt_fingerprint

FIELDS = {
    "attempt_id": "id",
    "timestamp": "ts",
    "request_id": "request.headers.idempotency-key",
    "client_retry_count": "request.headers.x-stainless-retry-count",
    "api_key_id": "auth.key\\.id",
    "model": "request.body.model",
    "endpoint": "request.path",
    "status_code": "response.status",
    "latency_ms": "duration_ms",
}


def fmt(tmp_path, **options) -> MappedFormat:
    """The format as a config file configures it (so paths go through the config)."""
    request_logs = {"kind": "files", "path": "logs", "format": "mapped", "fields": FIELDS}
    request_logs.update(options)
    (tmp_path / "logs").mkdir(exist_ok=True)
    (tmp_path / "rules.yaml").write_text("rules: []\n")
    config = {
        "request_logs": request_logs,
        "allocation_rules": "rules.yaml",
        "pricing": {"url": "pricing.json"},
    }
    (tmp_path / "tokenreview.yaml").write_text(json.dumps(config))
    return input_format(load_config(tmp_path / "tokenreview.yaml").request_logs)


def line(**changes) -> dict:
    base = {
        "id": "gw-1",
        "ts": "2026-11-16T10:00:00Z",
        "request": {
            "path": "/v1/messages",
            "headers": {"idempotency-key": "idem-1", "x-stainless-retry-count": "2"},
            "body": {"model": "claude-sonnet-4", "messages": [{"role": "user", "content": "hi"}]},
        },
        "auth": {"key.id": "key_a1"},
        "response": {
            "status": "429",
            "body": {
                "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 3}
            },
        },
        "duration_ms": 812.5,
        "meta": {"team": "search", "project": "web"},
    }
    base.update(changes)
    return base


def read(f: MappedFormat, value: object):
    text = value if isinstance(value, str) else json.dumps(value)
    (record,) = f.line_records(text.encode(), source_name="gw.jsonl", source_line=1)
    return record


def test_every_mapped_field_with_escaped_dots_and_header_strings(tmp_path):
    record = read(fmt(tmp_path), line())
    assert record.defect is None
    got = record.fields
    assert (got["attempt_id"], got["request_id"], got["api_key_id"]) == ("gw-1", "idem-1", "key_a1")
    assert got["timestamp"] == datetime(2026, 11, 16, 10, tzinfo=timezone.utc)
    assert (got["client_retry_count"], got["status_code"]) == (2, 429)  # digit strings
    assert (got["model"], got["endpoint"], got["latency_ms"]) == (
        "claude-sonnet-4",
        "/v1/messages",
        812.5,
    )
    assert got["tags"] == {} and got["prompt_tokens"] == 0


USAGES = {
    "openai_chat": {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "prompt_tokens_details": {"cached_tokens": 30, "cache_write_tokens": 10},
        "completion_tokens_details": {"reasoning_tokens": 20},
    },
    "openai_responses": {
        "input_tokens": 100,
        "output_tokens": 50,
        "input_tokens_details": {"cached_tokens": 30, "cache_write_tokens": 10},
        "output_tokens_details": {"reasoning_tokens": 20},
    },
    "anthropic": {
        "input_tokens": 60,  # excludes both cache parts
        "cache_read_input_tokens": 30,
        "cache_creation_input_tokens": 10,
        "output_tokens": 50,
        "output_tokens_details": {"thinking_tokens": 20},
    },
}


@pytest.mark.parametrize("style", sorted(USAGE_STYLES))
def test_usage_styles(tmp_path, style):
    f = fmt(tmp_path, usage={"path": "response.usage", "style": style})
    got = read(f, line(response={"status": 200, "usage": USAGES[style]})).fields
    assert [got[k] for k in ("prompt_tokens", "cached_prompt_tokens", "cache_write_tokens")] == [
        100,
        30,
        10,
    ]
    assert [got[k] for k in ("completion_tokens", "reasoning_tokens")] == [50, 20]


def test_anthropic_adds_what_is_present_and_a_field_wins_over_usage(tmp_path):
    f = fmt(tmp_path, usage={"path": "response.body.usage", "style": "anthropic"})
    got = read(f, line()).fields
    assert (got["prompt_tokens"], got["cached_prompt_tokens"], got["cache_write_tokens"]) == (
        15,
        5,
        0,
    )
    got = read(f, line(response={"status": 200, "body": {"usage": {"output_tokens": 3}}})).fields
    assert (got["prompt_tokens"], got["completion_tokens"]) == (0, 3)  # no part: absent
    f = fmt(
        tmp_path,
        usage={"path": "response.body.usage", "style": "anthropic"},
        fields={**FIELDS, "prompt_tokens": "billing.in"},
    )
    assert read(f, line(billing={"in": 99})).fields["prompt_tokens"] == 99
    assert read(f, line()).fields["prompt_tokens"] == 15  # the mapped path is absent


@pytest.mark.parametrize(
    ("usage", "reason"),
    [
        ({"input_tokens": "ten"}, "invalid_type:prompt_tokens"),
        ({"input_tokens": 10, "cache_read_input_tokens": 1.5}, "invalid_type:prompt_tokens"),
        ({"input_tokens": 10, "output_tokens": True}, "invalid_type:completion_tokens"),
        (
            {"output_tokens": 5, "output_tokens_details": {"thinking_tokens": "x"}},
            "invalid_type:reasoning_tokens",
        ),
        (7, "invalid_type:prompt_tokens"),
    ],
)
def test_usage_parts_of_the_wrong_type(tmp_path, usage, reason):
    f = fmt(tmp_path, usage={"path": "response.usage", "style": "anthropic"})
    assert read(f, line(response={"status": 200, "usage": usage})).defect == reason


def test_tags_and_tags_from(tmp_path):
    f = fmt(tmp_path, tags_from="meta", tags={"team": "owner.team", "region": "edge.region"})
    got = read(f, line(owner={"team": "ops"})).fields
    assert got["tags"] == {"team": "ops", "project": "web"}  # tags wins over tags_from
    assert read(f, line(meta="team=search")).defect == "invalid_type:tags"
    assert read(f, line(meta={"n": 1})).defect == "invalid_type:tags"
    assert read(f, line(edge={"region": 5})).defect == "invalid_type:tags"


def test_fingerprint_and_a_mapped_fingerprint_wins(tmp_path):
    f = fmt(tmp_path, fingerprint="request.body.messages")
    messages = line()["request"]["body"]["messages"]
    assert read(f, line()).fields["prompt_fingerprint"] == prompt_fingerprint(messages)
    f = fmt(
        tmp_path, fingerprint="request.body.messages", fields={**FIELDS, "prompt_fingerprint": "fp"}
    )
    assert read(f, line(fp="given")).fields["prompt_fingerprint"] == "given"


@pytest.mark.parametrize(
    ("timestamp_format", "value", "expected"),
    [
        ("epoch_s", 1763287200, datetime(2025, 11, 16, 10, tzinfo=timezone.utc)),
        ("epoch_s", "1763287200", datetime(2025, 11, 16, 10, tzinfo=timezone.utc)),
        ("epoch_s", 1763287200.25, datetime(2025, 11, 16, 10, 0, 0, 250000, tzinfo=timezone.utc)),
        ("epoch_ms", 1763287200123, datetime(2025, 11, 16, 10, 0, 0, 123000, tzinfo=timezone.utc)),
        (
            "epoch_us",
            "1763287200123456",
            datetime(2025, 11, 16, 10, 0, 0, 123456, tzinfo=timezone.utc),
        ),
        (
            "epoch_ns",
            1763287200123456789,
            datetime(2025, 11, 16, 10, 0, 0, 123456, tzinfo=timezone.utc),
        ),
    ],
)
def test_timestamp_formats(tmp_path, timestamp_format, value, expected):
    f = fmt(tmp_path, timestamp_format=timestamp_format)
    assert read(f, line(ts=value)).fields["timestamp"] == expected


@pytest.mark.parametrize("value", ["2026-11-16T10:00:00Z", "soon", True, [1], "1e9", 10**40])
def test_epoch_formats_take_numbers_only(tmp_path, value):
    assert (
        read(fmt(tmp_path, timestamp_format="epoch_ms"), line(ts=value)).defect
        == "invalid_timestamp"
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": None}, "missing_field:attempt_id"),
        ({"auth": {}}, "missing_field:api_key_id"),
        ({"auth": "key_a1"}, "missing_field:api_key_id"),  # a path through a non-object
        ({"id": 5}, "invalid_type:attempt_id"),
        ({"ts": 5}, "invalid_type:timestamp"),
        ({"ts": "2026-11-16T10:00:00"}, "timestamp_without_timezone"),
        ({"ts": "Monday"}, "invalid_timestamp"),
        ({"duration_ms": "812"}, "invalid_type:latency_ms"),  # only int fields convert
        (
            {
                "request": {
                    "path": "/v1",
                    "headers": {"x-stainless-retry-count": "-1"},
                    "body": {"model": "m"},
                }
            },
            "invalid_type:client_retry_count",
        ),
        ({"response": {"status": "12.0"}}, "invalid_type:status_code"),
    ],
)
def test_defective_lines(tmp_path, changes, reason):
    assert read(fmt(tmp_path), line(**changes)).defect == reason


def test_not_an_object_and_not_json(tmp_path):
    f = fmt(tmp_path)
    assert read(f, [line()]).defect == "not_an_object"
    record = read(f, '{"id": "x", "request": {"body": {"messages": ["secret prompt"')
    assert record.defect == "malformed_json" and "secret prompt" not in record.raw_redacted


def test_the_raw_text_is_the_mapped_record(tmp_path):
    f = fmt(tmp_path, tags_from="meta", fingerprint="request.body.messages")
    record = read(f, line(ts="Monday"))
    assert record.defect == "invalid_timestamp"
    kept = json.loads(record.raw_redacted)
    assert (
        kept["timestamp"] == "Monday"
        and kept["status_code"] == 429
        and kept["tags"]["team"] == "search"
    )
    assert "hi" not in record.raw_redacted and problems_of(record.raw_redacted, keyed=True) == []
    assert set(kept) <= set(FIELDS) | {
        "tags",
        "prompt_fingerprint",
        "prompt_tokens",
        "completion_tokens",
    }


def test_duplicates_compare_the_source_line(tmp_path):
    f = fmt(tmp_path)
    first = read(f, line())
    assert read(f, line()).content_sha256 == first.content_sha256
    # Unmapped source values differ: the same attempt_id with other content.
    other = read(f, line(unmapped="x"))
    assert other.content_sha256 != first.content_sha256 and other.fields == first.fields


def test_content_tags_and_secrets(tmp_path):
    secret = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"
    f = fmt(tmp_path, tags_from="meta")
    record = read(
        f, line(meta={"messages": "a prompt", "token": f"x={secret}"}, auth={"key.id": secret})
    )
    assert "messages" not in record.fields["tags"]
    assert secret not in json.dumps(record.fields, default=str) and record.redacted_values == 2
