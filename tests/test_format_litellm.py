"""``litellm_spendlogs`` (SPEC 2.7): every mapping row, content fields, defects, duplicates."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from ledger_scan import problems_of

from tokenreview_pipeline.extract.formats.litellm_spendlogs import (
    CALL_TYPE_ENDPOINTS,
    CONTENT_PATHS,
    ERROR_CLASSES,
    LiteLLMSpendLogsFormat,
)
from tokenreview_pipeline.extract.redaction import redacted_form

FMT = LiteLLMSpendLogsFormat()
KEY_HASH = "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
CONTENT = "content-text-3b1c"


def row(**changes) -> dict:
    base = {
        "request_id": "chatcmpl-1",
        "call_type": "acompletion",
        "api_key": KEY_HASH,
        "spend": 0.00042,
        "total_tokens": 150,
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "startTime": "2026-11-16T10:00:00.000",
        "endTime": "2026-11-16T10:00:01.500",
        "model": "gpt-4o-mini",
        "metadata": {
            "spend_logs_metadata": {
                "request_id": "client-req-1",
                "client_retry_count": 1,
                "environment": "production",
                "prompt_fingerprint": "fp-1",
                "team": "search",
                "cost_center": 42,
            },
            "attempted_retries": 2,
            "user_api_key_alias": "search-key",
            "user_api_key_team_alias": "search-team",
            "requester_ip_address": "10.0.0.9",
            "usage_object": {
                "prompt_tokens_details": {"cached_tokens": 30, "cache_creation_tokens": 10},
                "completion_tokens_details": {"reasoning_tokens": 20},
            },
        },
        "request_tags": ["project:web", "beta", "url:https://x:1"],
        "team_id": "team-uuid",
        "end_user": "customer-9",
        "requester_ip_address": "203.0.113.7",
        "status": "success",
    }
    base.update(changes)
    return base


def md(**changes) -> dict:
    metadata = dict(row()["metadata"])
    metadata.update(changes)
    return metadata


def read(value: object):
    text = value if isinstance(value, str) else json.dumps(value)
    (record,) = FMT.line_records(text.encode(), source_name="spend.jsonl", source_line=3)
    return record


def fields(value: object) -> dict:
    record = read(value)
    assert record.defect is None, record.defect
    return record.fields


def test_every_mapping_row():
    got = fields(row())
    assert got["attempt_id"] == "chatcmpl-1"
    assert got["timestamp"] == datetime(2026, 11, 16, 10, tzinfo=timezone.utc)  # naive = UTC
    assert (got["request_id"], got["client_retry_count"]) == ("client-req-1", 1)
    assert (got["environment"], got["prompt_fingerprint"]) == ("production", "fp-1")
    assert got["gateway_retries"] == 2
    assert got["api_key_id"] == KEY_HASH
    assert got["source_ip"] == "203.0.113.7"
    assert (got["model"], got["prompt_tokens"], got["completion_tokens"]) == (
        "gpt-4o-mini",
        100,
        50,
    )
    assert got["endpoint"] == "/v1/chat/completions"
    assert (got["status_code"], got["error_type"], got["latency_ms"]) == (200, None, 1500.0)
    assert (got["cached_prompt_tokens"], got["cache_write_tokens"]) == (30, 10)
    assert got["reasoning_tokens"] == 20
    assert got["tags"] == {
        "project": "web",
        "beta": "true",
        "url": "https://x:1",  # split at the first colon
        "team": "search",  # slm strings that are not mapped fields; not cost_center (an int)
        "litellm_team": "search-team",
        "litellm_key_alias": "search-key",
        "litellm_end_user": "customer-9",
    }
    assert got["service_tier"] is None


def test_json_columns_as_json_strings_map_the_same():
    as_strings = row(
        metadata=json.dumps(row()["metadata"]), request_tags=json.dumps(row()["request_tags"])
    )
    assert fields(as_strings) == fields(row())


@pytest.mark.parametrize(
    ("call_type", "endpoint"), [*CALL_TYPE_ENDPOINTS.items(), ("arerank", "/litellm/arerank")]
)
def test_endpoint_from_call_type(call_type, endpoint):
    assert fields(row(call_type=call_type))["endpoint"] == endpoint


def test_call_type_table_is_the_spec_one():
    assert set(CALL_TYPE_ENDPOINTS.values()) == {
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/embeddings",
        "/v1/responses",
        "/v1/messages",
    }


def failure(error_class: object, code: object = "429") -> dict:
    info = {"error_class": error_class, "error_code": code, "error_message": CONTENT}
    return row(status="failure", metadata=md(error_information=info))


@pytest.mark.parametrize(
    ("error_class", "error_type"), [*ERROR_CLASSES.items(), ("QuotaError", "QuotaError")]
)
def test_error_type_from_error_class(error_class, error_type):
    assert fields(failure(error_class))["error_type"] == error_type


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        ("success", "429", 200),
        (None, None, 200),
        ("failure", "429", 429),
        ("failure", 503, 503),
        ("failure", "", None),
        ("failure", "timeout", None),
        ("failure", None, None),
    ],
)
def test_status_code(status, code, expected):
    value = failure("RateLimitError", code) if status == "failure" else row(status=status)
    assert fields(value)["status_code"] == expected


def test_a_failure_has_no_latency_and_a_success_no_error_type():
    got = fields(failure("Timeout", "408"))
    assert (got["latency_ms"], got["error_type"]) == (None, "timeout")
    success = row(metadata=md(error_information={"error_class": "RateLimitError"}))
    assert fields(success)["error_type"] is None


def test_fallbacks():
    got = fields(row(requester_ip_address="", metadata=md(user_api_key_team_alias=None)))
    assert got["source_ip"] == "10.0.0.9"
    assert got["tags"]["litellm_team"] == "team-uuid"
    usage = {"prompt_tokens_details": {}, "completion_tokens_details": {}}
    extra = {"cache_read_input_tokens": 7, "cache_creation_input_tokens": 3}
    got = fields(row(metadata=md(usage_object=usage, additional_usage_values=extra)))
    assert (got["cached_prompt_tokens"], got["cache_write_tokens"]) == (7, 3)
    bare = fields(row(metadata=None, request_tags=None, end_user=None, team_id=None))
    assert bare["tags"] == {} and bare["request_id"] is None and bare["gateway_retries"] == 0


def test_an_earlier_tag_is_not_overwritten():
    slm = {"litellm_team": "from-slm", "project": "from-slm"}
    got = fields(row(metadata=md(spend_logs_metadata=slm)))
    assert got["tags"]["project"] == "web" and got["tags"]["litellm_team"] == "from-slm"


def test_fingerprint_is_never_derived_from_messages():
    slm = {"request_id": "r"}
    got = fields(
        row(metadata=md(spend_logs_metadata=slm), messages=[{"role": "user", "content": "x"}])
    )
    assert got["prompt_fingerprint"] is None


def content_row(metadata_as_string: bool) -> dict:
    metadata = md(
        proxy_server_request={"body": CONTENT},
        error_information={"traceback": CONTENT, "error_message": CONTENT, "error_class": "X"},
        guardrail_information={"text": CONTENT},
        vector_store_request_metadata=[CONTENT],
        mcp_tool_call_metadata={"arguments": CONTENT},
    )
    return row(
        metadata=json.dumps(metadata) if metadata_as_string else metadata,
        messages=[{"role": "user", "content": CONTENT}],
        response={"choices": [CONTENT]},
        proxy_server_request={"body": CONTENT},
        startTime="not a time",  # quarantined, so its raw text is kept
    )


@pytest.mark.parametrize("metadata_as_string", [False, True])
def test_every_content_field_is_dropped_from_the_raw_text(metadata_as_string):
    record = read(content_row(metadata_as_string))
    assert record.defect == "invalid_timestamp"
    assert CONTENT not in record.raw_redacted
    assert problems_of(record.raw_redacted, keyed=True) == []
    kept = json.loads(record.raw_redacted)
    assert kept["request_id"] == "chatcmpl-1" and kept["metadata"]["attempted_retries"] == 2
    assert len(CONTENT_PATHS) == 9


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (row(request_id=None), "missing_field:attempt_id"),
        (row(startTime=None), "missing_field:timestamp"),
        (row(api_key=""), "missing_field:api_key_id"),
        (row(model=""), "missing_field:model"),
        (row(call_type=""), "missing_field:endpoint"),
        (row(request_id=7), "invalid_type:attempt_id"),
        (row(startTime=1763287200), "invalid_type:timestamp"),
        (row(metadata="{not json"), "invalid_type:request_id"),
        (row(metadata=[1]), "invalid_type:request_id"),
        (row(metadata=md(spend_logs_metadata="x")), "invalid_type:request_id"),
        (
            row(metadata=md(spend_logs_metadata={"client_retry_count": "1"})),
            "invalid_type:client_retry_count",
        ),
        (row(call_type=5), "invalid_type:endpoint"),
        (row(status="pending"), "invalid_type:status_code"),
        (row(endTime="later"), "invalid_type:latency_ms"),
        (row(endTime="2026-11-16T09:00:00"), "invalid_type:latency_ms"),  # negative
        (row(prompt_tokens="100"), "invalid_type:prompt_tokens"),
        (row(request_tags="project:web"), "invalid_type:tags"),
        (row(request_tags=[1]), "invalid_type:tags"),
        (
            row(metadata=md(usage_object={"prompt_tokens_details": {"cached_tokens": 1.5}})),
            "invalid_type:cached_prompt_tokens",
        ),
        (row(metadata=md(attempted_retries=-1)), "invalid_type:gateway_retries"),
        (row(startTime="yesterday"), "invalid_timestamp"),
        (row(completion_tokens=-1), "negative_tokens"),
        (row(prompt_tokens=10), "inconsistent_tokens"),
        ([row()], "not_an_object"),
        ('{"request_id": "cut', "malformed_json"),
    ],
)
def test_defective_rows(value, reason):
    record = read(value)
    assert record.defect == reason
    assert record.fields is None


def test_an_offset_is_kept_and_a_line_over_1_mib_is_too_large():
    assert fields(row(startTime="2026-11-16T18:00:00+08:00"))["timestamp"] == datetime(
        2026, 11, 16, 10, tzinfo=timezone.utc
    )
    big = json.dumps(row(response={"x": "y" * (1024 * 1024)}))
    record = read(big)
    assert record.defect == "record_too_large" and "y" * 100 not in record.raw_redacted


def test_not_utf8_is_invalid_encoding_and_keeps_no_hash():
    text = json.dumps(row(model="gpt-\udcff"), ensure_ascii=False).encode(
        "utf-8", "surrogateescape"
    )
    (record,) = FMT.line_records(text, source_name="s", source_line=1)
    assert record.defect == "invalid_encoding" and record.content_sha256 is None


def test_duplicates_compare_the_source_row():
    first, again = read(row()), read(row())
    assert first.content_sha256 == again.content_sha256  # an exact duplicate
    # A column tokenreview does not read still makes it another record with the same id:
    # duplicate_attempt_id, not a silently dropped copy.
    other = read(row(spend=0.9))
    assert other.content_sha256 != first.content_sha256
    assert other.fields["attempt_id"] == first.fields["attempt_id"]
    assert fields(row(spend=0.9)) == fields(row())


def test_secrets_in_mapped_strings_are_redacted():
    secret = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"
    record = read(
        row(api_key=secret, request_tags=[f"token:{secret}"], end_user=f"Bearer {secret}")
    )
    assert record.fields["api_key_id"] == redacted_form(secret)
    assert record.fields["tags"]["token"] == redacted_form(secret)
    assert record.redacted_values == 3
    assert secret not in record.raw_redacted
