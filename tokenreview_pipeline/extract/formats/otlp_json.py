"""``format: otlp_json``: OpenTelemetry traces as OTLP/JSON lines (the Collector's file
exporter): one ``ExportTraceServiceRequest`` object, ``{"resourceSpans": [...]}``, per
line of ``*.jsonl`` / ``*.jsonl.gz``, read with the GenAI semantic conventions.

An inference span is a span whose ``gen_ai.operation.name`` is one of
``INFERENCE_OPERATIONS`` (agent and tool spans are not requests). When it has HTTP
client child spans in the same line (same ``traceId``, ``parentSpanId`` = its
``spanId``, with ``http.request.method``), each child is an attempt; else the span
itself is one. SPEC 2.7:

- ``attempt_id`` <- ``<traceId>:<spanId>`` of the attempt's span
- ``request_id`` <- ``<traceId>:<spanId>`` of the inference span when it has HTTP children; else
  absent
- ``timestamp`` <- the attempt span's ``startTimeUnixNano`` (UTC)
- ``latency_ms`` <- ``(endTimeUnixNano - startTimeUnixNano) / 1e6`` (no end: absent)
- ``client_retry_count`` <- the child's ``http.request.resend_count`` (absent = 0); absent for a
  span without children
- ``status_code`` <- the attempt span's ``http.response.status_code``; else, for an inference span
  without children, 200 unless ``status.code`` is 2 (error), then null
- ``error_type`` <- the attempt span's ``error.type``
- ``model`` <- ``gen_ai.response.model``, else ``gen_ai.request.model``
- ``endpoint`` <- the child's ``url.path``; else ``openai.api.type`` (``chat_completions``,
  ``responses``); else by operation: ``embeddings`` -> ``/v1/embeddings``, ``chat`` with
  ``gen_ai.provider.name`` ``anthropic`` -> ``/v1/messages``, ``chat`` -> ``/v1/chat/completions``,
  other -> ``/<operation>``
- ``api_key_id`` <- ``tokenreview.api_key_id`` (attempt span, inference span, then resource), else
  the resource's ``service.name``
- ``source_ip`` <- ``client.address`` (attempt span, inference span, then resource)
- ``environment`` <- resource ``deployment.environment.name``, else ``deployment.environment``
- token fields <- on the attempt that started last (ties: the later in span order):
  ``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``,
  ``gen_ai.usage.cache_read.input_tokens``, ``gen_ai.usage.cache_creation.input_tokens``,
  ``gen_ai.usage.reasoning.output_tokens`` of the inference span
- ``service_tier`` <- ``openai.response.service_tier``, else ``openai.request.service_tier``
- ``prompt_fingerprint`` <- SHA-256 of the canonical JSON of ``gen_ai.input.messages`` (parsed when
  a JSON string)
- ``tags`` <- the string attributes of the resource, then of the inference span (the span's win),
  whose key starts with none of ``UNTAGGED_PREFIXES``; plus ``service`` = ``service.name``

Attribute values are ``stringValue``, ``intValue`` (a number or a decimal string),
``doubleValue``, ``boolValue`` (and ``arrayValue`` / ``kvlistValue``, read for the
fingerprint only); an attribute of another kind than its field's is
``invalid_type:<field>``. ``*UnixNano`` is a number or a decimal string: a missing start
is ``missing_field:timestamp``, any other value ``invalid_timestamp``.

Content fields (``CONTENT_ATTRIBUTES``, and every span event): dropped before anything
is kept. A line may reach 64 MiB (a Collector batch) before ``record_too_large``; one
line's parsed object is held at a time, never the file. A line that is not JSON is one
``malformed_json`` record; a JSON value that is not an object with a ``resourceSpans``
list is one ``not_an_object`` record. The records of a line are in the order of their
attempt spans (resource, scope, then span order).

Decisions where the SPEC is silent:

* The source record of an attempt (its content hash decides exact duplicates, its
  sanitized form is the raw text) is ``{"span": attempt span, "inference_span": ...
  (for an HTTP child), "resource": resource}``: the span with what it is read with.
  A re-exported batch is dropped as exact duplicates.
* Content attributes are also dropped under their legacy indexed names
  (``gen_ai.prompt.0.content``: a key that starts with a content name and a dot), and
  a string attribute whose dotted key has a segment named like a 2.1 content field
  (``input.value``, ``llm.output_messages.0.message.content``: other conventions'
  content) is never a tag and is dropped from the raw text too.
* ``service`` = ``service.name`` wins over an attribute named ``service``.
* Elements of ``resourceSpans``, ``scopeSpans`` or ``spans`` that are not objects, and
  attributes that are not ``{key, value}`` objects, are skipped: they are not requests.
* ``status.code`` 2 is also accepted as ``"STATUS_CODE_ERROR"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tokenreview_pipeline.contract import CONTENT_FIELDS
from tokenreview_pipeline.extract.records import (
    WRONG_TYPE,
    ExtractedRecord,
    InvalidTimestamp,
    parse_source_text,
    prompt_fingerprint,
)

from .base import InputFormat, Where
from .values import epoch_to_iso

__all__ = [
    "CONTENT_ATTRIBUTES",
    "INFERENCE_OPERATIONS",
    "OtlpJsonFormat",
    "UNTAGGED_PREFIXES",
]

INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
CONTENT_ATTRIBUTES = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.prompt",
    "gen_ai.completion",
)
UNTAGGED_PREFIXES = (
    "gen_ai.",
    "http.",
    "url.",
    "server.",
    "client.",
    "error.",
    "openai.",
    "network.",
    "telemetry.",
    "otel.",
    "process.",
    "os.",
    "host.",
    "deployment.",
    "service.",
    "tokenreview.",
)
#: 2.1 token field -> the inference span's attribute.
TOKEN_ATTRIBUTES = {
    "prompt_tokens": "gen_ai.usage.input_tokens",
    "completion_tokens": "gen_ai.usage.output_tokens",
    "cached_prompt_tokens": "gen_ai.usage.cache_read.input_tokens",
    "cache_write_tokens": "gen_ai.usage.cache_creation.input_tokens",
    "reasoning_tokens": "gen_ai.usage.reasoning.output_tokens",
}
_API_TYPES = {"chat_completions": "/v1/chat/completions", "responses": "/v1/responses"}
_NANOS_PER_SECOND = 1_000_000_000
_INT_TEXT = re.compile(r"-?[0-9]{1,20}")
_CONTENT_NAMES = frozenset(CONTENT_FIELDS)
_ERROR_STATUS = (2, "STATUS_CODE_ERROR")
_MAX_LINE_BYTES = 64 * 1024 * 1024


def _is_content_attribute(key: str) -> bool:
    return any(key == name or key.startswith(name + ".") for name in CONTENT_ATTRIBUTES)


def _content_like(key: str) -> bool:
    return any(part.lower() in _CONTENT_NAMES for part in key.split("."))


# ----------------------------------------------------------------- attributes


def _attributes(holder: object) -> dict[str, dict]:
    """``{key: AnyValue}`` of an object's ``attributes`` list (the first of a key wins)."""
    out: dict[str, dict] = {}
    items = holder.get("attributes") if isinstance(holder, dict) else None
    if not isinstance(items, list):
        return out
    for item in items:
        if isinstance(item, dict):
            key, value = item.get("key"), item.get("value")
            if isinstance(key, str) and isinstance(value, dict) and key not in out:
                out[key] = value
    return out


def _string(value: dict | None) -> object:
    if value is None:
        return None
    text = value.get("stringValue", WRONG_TYPE)
    return text if isinstance(text, str) else (None if text is None else WRONG_TYPE)


def _int(value: dict | None) -> object:
    if value is None:
        return None
    number = value.get("intValue", WRONG_TYPE)
    if isinstance(number, str) and _INT_TEXT.fullmatch(number):
        return int(number)
    if isinstance(number, int) and not isinstance(number, bool):
        return number
    return None if number is None else WRONG_TYPE


def _plain(value: object) -> object:
    """An AnyValue as a plain JSON value (for the prompt fingerprint)."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        number = value["intValue"]
        return int(number) if isinstance(number, str) and _INT_TEXT.fullmatch(number) else number
    for key in ("doubleValue", "boolValue", "bytesValue"):
        if key in value:
            return value[key]
    if "arrayValue" in value:
        array = value["arrayValue"]
        items = array.get("values", []) if isinstance(array, dict) else []
        return [_plain(item) for item in items] if isinstance(items, list) else items
    if "kvlistValue" in value:
        kvlist = value["kvlistValue"]
        items = kvlist.get("values", []) if isinstance(kvlist, dict) else []
        if not isinstance(items, list):
            return items
        return {
            item.get("key"): _plain(item.get("value"))
            for item in items
            if isinstance(item, dict) and isinstance(item.get("key"), str)
        }
    return None


def _first(*values: object) -> object:
    for value in values:
        if value is not None:
            return value
    return None


# ---------------------------------------------------------------------- spans


@dataclass
class _Span:
    index: int  # span order in the line
    span: dict
    resource: dict
    attrs: dict[str, dict]
    resource_attrs: dict[str, dict]

    @property
    def key(self) -> tuple[object, object]:
        return _hashable(self.span.get("traceId")), _hashable(self.span.get("spanId"))

    @property
    def ident(self) -> object:
        trace_id, span_id = self.key
        if trace_id is None or span_id is None:
            return None
        if not isinstance(trace_id, str) or not isinstance(span_id, str):
            return WRONG_TYPE
        if not trace_id or not span_id:
            return None
        return f"{trace_id}:{span_id}"

    def start_nanos(self) -> object:
        return _nanos(self.span.get("startTimeUnixNano"))


def _hashable(value: object) -> object:
    """An id as a dict key (ids that are objects or lists match nothing)."""
    return value if isinstance(value, str | int | float | bool) or value is None else id(value)


def _nanos(value: object) -> object:
    """An int, None (absent) or ``WRONG_TYPE`` (any other value)."""
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 30:
        return int(value)
    if isinstance(value, bool):
        return WRONG_TYPE
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return WRONG_TYPE


def _spans(request: dict) -> list[_Span]:
    spans: list[_Span] = []
    for resource_spans in request["resourceSpans"]:
        if not isinstance(resource_spans, dict):
            continue
        resource = resource_spans.get("resource")
        resource = resource if isinstance(resource, dict) else {}
        resource_attrs = _attributes(resource)
        scopes = resource_spans.get("scopeSpans")
        for scope in scopes if isinstance(scopes, list) else ():
            items = scope.get("spans") if isinstance(scope, dict) else None
            for span in items if isinstance(items, list) else ():
                if isinstance(span, dict):
                    spans.append(
                        _Span(len(spans), span, resource, _attributes(span), resource_attrs)
                    )
    return spans


def _operation(span: _Span) -> str | None:
    name = _string(span.attrs.get("gen_ai.operation.name"))
    return name if isinstance(name, str) and name in INFERENCE_OPERATIONS else None


def _kept_span(span: dict) -> dict:
    kept = {k: v for k, v in span.items() if k != "events"}
    items = kept.get("attributes")
    if isinstance(items, list):
        kept["attributes"] = [
            item
            for item in items
            if not (
                isinstance(item, dict)
                and isinstance(item.get("key"), str)
                and (_is_content_attribute(item["key"]) or _content_like(item["key"]))
            )
        ]
    return kept


# -------------------------------------------------------------------- mapping


def _endpoint(attempt: _Span, inference: _Span, operation: str) -> object:
    if attempt is not inference:
        path = _string(attempt.attrs.get("url.path"))
        if path is not None:
            return path
    api_type = _string(inference.attrs.get("openai.api.type"))
    if isinstance(api_type, str) and api_type in _API_TYPES:
        return _API_TYPES[api_type]
    if operation == "embeddings":
        return "/v1/embeddings"
    if operation == "chat":
        provider = _string(inference.attrs.get("gen_ai.provider.name"))
        return "/v1/messages" if provider == "anthropic" else "/v1/chat/completions"
    return f"/{operation}"


def _fingerprint(inference: _Span) -> object:
    value = inference.attrs.get("gen_ai.input.messages")
    if value is None:
        return None
    messages = _plain(value)
    if isinstance(messages, str):
        parsed, loaded = parse_source_text(messages)
        if parsed:
            messages = loaded
    try:
        return prompt_fingerprint(messages)
    except (TypeError, ValueError):
        return WRONG_TYPE


def _tags(inference: _Span) -> dict[str, object]:
    tags: dict[str, object] = {}
    for attrs in (inference.resource_attrs, inference.attrs):
        for key, value in attrs.items():
            text = value.get("stringValue")
            if (
                isinstance(text, str)
                and not key.startswith(UNTAGGED_PREFIXES)
                and not _content_like(key)
            ):
                tags[key] = text
    service = _string(inference.resource_attrs.get("service.name"))
    if isinstance(service, str):
        tags["service"] = service
    return tags


def _status_code(attempt: _Span, inference: _Span) -> object:
    code = _int(attempt.attrs.get("http.response.status_code"))
    if code is not None or attempt is not inference:
        return code
    status = attempt.span.get("status")
    status_code = status.get("code") if isinstance(status, dict) else None
    return None if status_code in _ERROR_STATUS else 200


def _timing(attempt: _Span) -> tuple[object, object]:
    """(timestamp, latency_ms) of an attempt span."""
    start = attempt.start_nanos()
    if start is None:
        return None, None
    if start is WRONG_TYPE:
        raw = attempt.span.get("startTimeUnixNano")
        return InvalidTimestamp(repr(raw)[:64]), None
    timestamp = epoch_to_iso(start, _NANOS_PER_SECOND)
    end = _nanos(attempt.span.get("endTimeUnixNano"))
    if end is None or isinstance(timestamp, InvalidTimestamp):
        return timestamp, None
    if end is WRONG_TYPE:
        return timestamp, WRONG_TYPE
    return timestamp, (end - start) / 1e6  # type: ignore[operator]


def _map(attempt: _Span, inference: _Span, operation: str, carries_tokens: bool) -> dict:
    child = attempt is not inference
    attrs, inf, res = attempt.attrs, inference.attrs, inference.resource_attrs
    timestamp, latency = _timing(attempt)
    resend = _int(attrs.get("http.request.resend_count")) if child else None
    record: dict[str, object] = {
        "attempt_id": attempt.ident,
        "timestamp": timestamp,
        "request_id": inference.ident if child else None,
        "client_retry_count": (0 if resend is None else resend) if child else None,
        "api_key_id": _first(
            _string(attrs.get("tokenreview.api_key_id")),
            _string(inf.get("tokenreview.api_key_id")) if child else None,
            _string(res.get("tokenreview.api_key_id")),
            _string(res.get("service.name")),
        ),
        "source_ip": _first(
            _string(attrs.get("client.address")),
            _string(inf.get("client.address")) if child else None,
            _string(res.get("client.address")),
        ),
        "model": _first(
            _string(inf.get("gen_ai.response.model")), _string(inf.get("gen_ai.request.model"))
        ),
        "endpoint": _endpoint(attempt, inference, operation),
        "status_code": _status_code(attempt, inference),
        "error_type": _string(attrs.get("error.type")),
        "latency_ms": latency,
        "environment": _first(
            _string(res.get("deployment.environment.name")),
            _string(res.get("deployment.environment")),
        ),
        "tags": _tags(inference),
        "prompt_fingerprint": _fingerprint(inference),
        "service_tier": _first(
            _string(inf.get("openai.response.service_tier")),
            _string(inf.get("openai.request.service_tier")),
        ),
    }
    if carries_tokens:
        for field, attribute in TOKEN_ATTRIBUTES.items():
            record[field] = _int(inf.get(attribute))
    return record


def _source(attempt: _Span, inference: _Span) -> dict:
    source: dict[str, object] = {"span": attempt.span}
    if attempt is not inference:
        source["inference_span"] = inference.span
    source["resource"] = attempt.resource
    return source


def _kept(attempt: _Span, inference: _Span) -> dict:
    kept: dict[str, object] = {"span": _kept_span(attempt.span)}
    if attempt is not inference:
        kept["inference_span"] = _kept_span(inference.span)
    kept["resource"] = _kept_span(attempt.resource)
    return kept


def _start_order(span: _Span) -> tuple[int, int | float, int]:
    start = span.start_nanos()
    return (1, start, span.index) if isinstance(start, int) else (0, 0, span.index)


class OtlpJsonFormat(InputFormat):
    name = "otlp_json"
    max_record_bytes = _MAX_LINE_BYTES

    @classmethod
    def from_source(cls, source: object) -> OtlpJsonFormat:
        return cls()

    def is_source_object(self, value: object) -> bool:
        return isinstance(value, dict) and isinstance(value.get("resourceSpans"), list)

    def object_records(
        self, obj: dict, *, forced_defect: str | None, where: Where
    ) -> Iterator[ExtractedRecord]:
        spans = _spans(obj)
        operations = {span.index: _operation(span) for span in spans}
        inference: dict[tuple[object, object], tuple[_Span, str]] = {}
        for span in spans:
            operation = operations[span.index]
            if operation is not None:
                inference.setdefault(span.key, (span, operation))
        children: dict[tuple[object, object], list[_Span]] = {}
        parent_of: dict[int, tuple[object, object]] = {}
        for span in spans:
            parent = (_hashable(span.span.get("traceId")), _hashable(span.span.get("parentSpanId")))
            if parent in inference and "http.request.method" in span.attrs:
                children.setdefault(parent, []).append(span)
                parent_of[span.index] = parent
        last_started = {key: max(kids, key=_start_order).index for key, kids in children.items()}
        for span in spans:
            if span.index in parent_of:
                key = parent_of[span.index]
                parent, operation = inference[key]
                carries = last_started[key] == span.index
                yield self._record(span, parent, operation, carries, forced_defect, where)
            elif operations[span.index] is not None and span.key not in children:
                operation = operations[span.index]
                yield self._record(span, span, operation, True, forced_defect, where)  # type: ignore[arg-type]

    def _record(
        self,
        attempt: _Span,
        inference: _Span,
        operation: str,
        carries_tokens: bool,
        forced_defect: str | None,
        where: Where,
    ) -> ExtractedRecord:
        return self.mapped_record(
            _map(attempt, inference, operation, carries_tokens),
            source=_source(attempt, inference),
            kept=_kept(attempt, inference),
            forced_defect=forced_defect,
            where=where,
        )
