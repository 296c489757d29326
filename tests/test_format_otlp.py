"""``otlp_json`` (SPEC 2.7): inference spans with and without HTTP children, attribute
kinds, content attributes and events, defects, line sizes, span order, duplicates."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

import pytest
from ledger_scan import problems_of

from tokenreview_pipeline.extract.formats.otlp_json import (
    CONTENT_ATTRIBUTES,
    OtlpJsonFormat,
)
from tokenreview_pipeline.extract.records import prompt_fingerprint

FMT = OtlpJsonFormat()
T0 = 1_794_823_200_000_000_000  # 2026-11-16T10:00:00Z in ns
TRACE = "5b8efff798038103d269b633813fc60c"
CONTENT = "content-text-91ad"


def s(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def i(key: str, value: int | str) -> dict:
    return {"key": key, "value": {"intValue": value}}


def span(span_id: str, attrs: list[dict], *, parent: str = "", start=T0, end=None, **extra) -> dict:
    out = {
        "traceId": TRACE,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": span_id,
        "kind": 3,
        "startTimeUnixNano": str(start) if isinstance(start, int) else start,
        "attributes": attrs,
    }
    if end is not None:
        out["endTimeUnixNano"] = str(end)
    out.update(extra)
    return out


def chat(span_id: str = "aaaa", *extra: dict, **kwargs) -> dict:
    attrs = [
        s("gen_ai.operation.name", "chat"),
        s("gen_ai.provider.name", "openai"),
        s("gen_ai.request.model", "gpt-4o"),
        s("gen_ai.response.model", "gpt-4o-2024-08-06"),
        i("gen_ai.usage.input_tokens", "100"),
        i("gen_ai.usage.output_tokens", 50),
        i("gen_ai.usage.cache_read.input_tokens", "30"),
        i("gen_ai.usage.cache_creation.input_tokens", 10),
        i("gen_ai.usage.reasoning.output_tokens", 20),
        s("openai.request.service_tier", "auto"),
        s("openai.response.service_tier", "flex"),
        s("gen_ai.input.messages", json.dumps([{"role": "user", "content": "hi"}])),
        s("team", "search"),
        s("project", "web"),
        s("http.route", "/chat"),
        *extra,
    ]
    kwargs.setdefault("end", T0 + 3_000_000_000)
    return span(span_id, attrs, **kwargs)


def http(
    span_id: str, parent: str = "aaaa", *extra: dict, start: int = T0, status: int = 200, **kw
):
    attrs = [
        s("http.request.method", "POST"),
        i("http.response.status_code", str(status)),
        s("url.path", "/v1/chat/completions"),
        *extra,
    ]
    return span(span_id, attrs, parent=parent, start=start, end=start + 250_000_000, **kw)


RESOURCE = {
    "attributes": [
        s("service.name", "checkout-api"),
        s("deployment.environment.name", "production"),
        s("team", "platform"),
        s("cloud.region", "eu-west-1"),
    ]
}


def request(*spans: dict, resource: dict = RESOURCE) -> dict:
    return {
        "resourceSpans": [
            {"resource": resource, "scopeSpans": [{"scope": {}, "spans": list(spans)}]}
        ]
    }


def read(value: object) -> list:
    text = value if isinstance(value, str) else json.dumps(value)
    return list(FMT.line_records(text.encode(), source_name="traces.jsonl", source_line=1))


def test_an_inference_span_without_http_children_is_one_attempt():
    (record,) = read(request(chat()))
    assert record.defect is None
    got = record.fields
    assert got["attempt_id"] == f"{TRACE}:aaaa"
    assert got["request_id"] is None and got["client_retry_count"] is None
    assert got["timestamp"] == datetime(2026, 11, 16, 10, tzinfo=timezone.utc)
    assert got["latency_ms"] == 3000.0
    assert (got["status_code"], got["error_type"]) == (200, None)
    assert got["model"] == "gpt-4o-2024-08-06"  # the response model first
    assert got["endpoint"] == "/v1/chat/completions"
    assert got["api_key_id"] == "checkout-api"  # no tokenreview.api_key_id: service.name
    assert got["environment"] == "production"
    tokens = [
        got[k]
        for k in (
            "prompt_tokens",
            "completion_tokens",
            "cached_prompt_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        )
    ]
    assert tokens == [100, 50, 30, 10, 20]
    assert got["service_tier"] == "flex"
    assert got["prompt_fingerprint"] == prompt_fingerprint([{"role": "user", "content": "hi"}])
    # resource then span strings (the span's win), without the semantic-convention
    # namespaces; plus service.
    assert got["tags"] == {
        "team": "search",
        "project": "web",
        "cloud.region": "eu-west-1",
        "service": "checkout-api",
    }


def test_http_children_are_the_attempts():
    records = read(
        request(
            http(
                "c2",
                "aaaa",
                i("http.request.resend_count", 1),
                s("tokenreview.api_key_id", "key_a1"),
                s("client.address", "203.0.113.7"),
                start=T0 + 1_000_000_000,
            ),
            chat(),
            http("c1", "aaaa", s("error.type", "rate_limit"), status=429),
            span("other", [s("http.request.method", "GET")], parent="zzzz"),  # not a child
        )
    )
    assert [r.fields["attempt_id"] for r in records] == [f"{TRACE}:c2", f"{TRACE}:c1"]  # span order
    second, first = (r.fields for r in records)
    assert {first["request_id"], second["request_id"]} == {f"{TRACE}:aaaa"}
    assert (first["client_retry_count"], second["client_retry_count"]) == (0, 1)
    assert (first["status_code"], first["error_type"]) == (429, "rate_limit")
    assert (second["status_code"], second["error_type"]) == (200, None)
    assert first["latency_ms"] == second["latency_ms"] == 250.0
    assert (second["api_key_id"], second["source_ip"]) == ("key_a1", "203.0.113.7")
    assert first["api_key_id"] == "checkout-api"
    # tokens only on the attempt that started last
    assert (second["prompt_tokens"], first["prompt_tokens"]) == (100, 0)
    assert first["model"] == second["model"] == "gpt-4o-2024-08-06"


def test_tokens_tie_goes_to_the_later_span():
    records = read(request(chat(), http("c1"), http("c2")))
    assert [r.fields["prompt_tokens"] for r in records] == [0, 100]


@pytest.mark.parametrize(
    ("attrs", "operation", "endpoint"),
    [
        ([s("openai.api.type", "chat_completions")], "chat", "/v1/chat/completions"),
        ([s("openai.api.type", "responses")], "chat", "/v1/responses"),
        ([], "embeddings", "/v1/embeddings"),
        ([s("gen_ai.provider.name", "anthropic")], "chat", "/v1/messages"),
        ([], "generate_content", "/generate_content"),
        ([], "text_completion", "/text_completion"),
    ],
)
def test_endpoint_without_a_child(attrs, operation, endpoint):
    base = [s("gen_ai.operation.name", operation), s("gen_ai.request.model", "m"), *attrs]
    (record,) = read(request(span("aaaa", base, end=T0)))
    assert record.fields["endpoint"] == endpoint


def test_agent_and_tool_spans_are_not_requests():
    agent = span("ag", [s("gen_ai.operation.name", "invoke_agent")])
    tool = span("tl", [s("gen_ai.operation.name", "execute_tool")])
    assert read(request(agent, tool)) == []


def test_error_status_without_children_is_null():
    (record,) = read(request(chat(status={"code": 2, "message": "boom"})))
    assert record.fields["status_code"] is None
    (record,) = read(
        request(chat("aaaa", s("error.type", "timeout"), status={"code": "STATUS_CODE_ERROR"}))
    )
    assert (record.fields["status_code"], record.fields["error_type"]) == (None, "timeout")


def test_a_child_without_a_response_has_no_status_and_no_end_no_latency():
    child = span(
        "c1", [s("http.request.method", "POST"), s("error.type", "connect_timeout")], parent="aaaa"
    )
    (record,) = read(request(chat(), child))
    assert (record.fields["status_code"], record.fields["latency_ms"]) == (None, None)
    assert record.fields["endpoint"] == "/v1/chat/completions"  # no url.path: from the parent


def test_fingerprint_of_structured_messages():
    messages = {
        "arrayValue": {
            "values": [
                {"kvlistValue": {"values": [{"key": "role", "value": {"stringValue": "user"}}]}}
            ]
        }
    }
    attrs = [
        s("gen_ai.operation.name", "chat"),
        s("gen_ai.request.model", "m"),
        {"key": "gen_ai.input.messages", "value": messages},
    ]
    (record,) = read(request(span("aaaa", attrs)))
    assert record.fields["prompt_fingerprint"] == prompt_fingerprint([{"role": "user"}])


def content_span() -> dict:
    attrs = [{"key": name, "value": {"stringValue": CONTENT}} for name in CONTENT_ATTRIBUTES]
    attrs += [
        s("gen_ai.prompt.0.content", CONTENT),
        s("input.value", CONTENT),
        s("llm.output_messages.0.message.content", CONTENT),
    ]
    events = [{"name": "gen_ai.choice", "attributes": [s("message", CONTENT)]}]
    return chat("aaaa", *attrs, events=events, startTimeUnixNano="soon")


def test_content_attributes_and_events_are_dropped():
    (record,) = read(request(content_span(), resource={"attributes": [s("service.name", "svc")]}))
    assert record.defect == "invalid_timestamp"  # quarantined: its raw text is kept
    assert CONTENT not in record.raw_redacted
    assert problems_of(record.raw_redacted, keyed=True) == []
    assert "gen_ai.request.model" in record.raw_redacted
    good = dict(content_span(), startTimeUnixNano=str(T0))
    (record,) = read(request(good))
    assert CONTENT not in json.dumps(record.fields, default=str)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"spanId": None}, "missing_field:attempt_id"),
        ({"spanId": 7}, "invalid_type:attempt_id"),
        ({"startTimeUnixNano": None}, "missing_field:timestamp"),
        ({"startTimeUnixNano": "soon"}, "invalid_timestamp"),
        ({"startTimeUnixNano": 1.5}, "invalid_timestamp"),
        ({"startTimeUnixNano": str(10**30)}, "invalid_timestamp"),
        ({"endTimeUnixNano": "later"}, "invalid_type:latency_ms"),
        ({"endTimeUnixNano": str(T0 - 1)}, "invalid_type:latency_ms"),
    ],
)
def test_defective_spans(changes, reason):
    (record,) = read(request(dict(chat(), **changes)))
    assert record.defect == reason


@pytest.mark.parametrize(
    ("attr", "reason"),
    [
        (s("gen_ai.usage.input_tokens", "100"), "invalid_type:prompt_tokens"),
        (
            {"key": "gen_ai.usage.output_tokens", "value": {"doubleValue": 5.0}},
            "invalid_type:completion_tokens",
        ),
        (i("gen_ai.usage.input_tokens", "1e3"), "invalid_type:prompt_tokens"),
        (
            i("gen_ai.request.model", 4),
            "invalid_type:model",
        ),
        ({"key": "error.type", "value": {"boolValue": True}}, "invalid_type:error_type"),
        (i("gen_ai.usage.input_tokens", -5), "negative_tokens"),
    ],
)
def test_attribute_kinds(attr, reason):
    attrs = [attr, s("gen_ai.operation.name", "chat")]
    if attr["key"] != "gen_ai.request.model":
        attrs.append(s("gen_ai.request.model", "m"))
    (record,) = read(request(span("aaaa", attrs)))
    assert record.defect == reason


@pytest.mark.parametrize("value", [[], "x", 5, {"resourceSpans": {}}, {"resource": {}}])
def test_not_an_object_with_resource_spans(value):
    (record,) = read(json.dumps(value))
    assert record.defect == "not_an_object"


def test_a_line_that_is_not_json_is_one_record():
    (record,) = read('{"resourceSpans": [{"scopeSpans": [' + json.dumps(chat()))
    assert record.defect == "malformed_json" and CONTENT not in record.raw_redacted


def test_lines_up_to_64_mib_and_record_too_large_above(tmp_path):
    filler = "x" * (1024 * 1024)
    spans = [chat(f"s{n:04d}", s("note", filler[: 1024 * 1000])) for n in range(3)]
    big = json.dumps(request(*spans))
    assert len(big) > 1024 * 1024
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress((big + "\n").encode()))
    records = list(FMT.folder_records(tmp_path))
    assert [r.defect for r in records] == ["invalid_type:tags"] * 3  # a 1 MB tag value
    over = '{"resourceSpans": [], "pad": "' + "y" * (64 * 1024 * 1024) + '"}'
    (tmp_path / "b.jsonl").write_text(over + "\n" + json.dumps(request(chat())) + "\n")
    records = list(FMT.folder_records(tmp_path))
    assert [r.defect for r in records[3:]] == ["record_too_large", None]
    assert records[3].source_line == 1 and records[4].source_line == 2
    assert len(records[3].raw_redacted) < 200


def test_duplicates_compare_the_span_with_what_it_is_read_with():
    (first,) = read(request(chat()))
    (again,) = read(request(chat()))
    assert first.content_sha256 == again.content_sha256
    moved = dict(RESOURCE, attributes=[*RESOURCE["attributes"], s("host.name", "h2")])
    (other,) = read(request(chat(), resource=moved))
    assert other.content_sha256 != first.content_sha256
    assert other.fields["attempt_id"] == first.fields["attempt_id"]


def test_records_follow_resource_scope_and_span_order():
    line = {
        "resourceSpans": [
            {
                "resource": RESOURCE,
                "scopeSpans": [{"spans": [chat("r1a")]}, {"spans": [chat("r1b")]}],
            },
            {"resource": RESOURCE, "scopeSpans": [{"spans": ["not a span", chat("r2a")]}]},
        ]
    }
    assert [r.fields["attempt_id"].split(":")[1] for r in read(line)] == ["r1a", "r1b", "r2a"]
