"""The sample's traffic in the other input formats (SPEC 2.7), for demos and tests.

``write_format_samples(native_dir, out_dir)`` reads the request log of a generated
tokenreview sample (``native_dir/request_logs``, read by the ``tokenreview`` format,
so what it holds is redacted and content-free) and writes the same attempts as

- ``litellm_spendlogs``: LiteLLM proxy ``LiteLLM_SpendLogs`` rows, one per attempt (the
  client passes its idempotency key and retry count as ``spend_logs_metadata``, the
  proxy's own retries are ``attempted_retries``), ``metadata`` as a JSON string and
  ``request_tags`` as an array, naive UTC times, as LiteLLM exports them;
- ``mapped``: an API gateway's access log (epoch-millisecond times, headers as
  strings, an OpenAI-style usage object), read by the field map in its config;
- ``otlp_json``: OpenTelemetry GenAI traces as the Collector's file exporter writes
  them, one line per hour of traffic: per logical request (the attempts sharing a
  ``request_id``, or one attempt) an inference span with one HTTP client child span
  per attempt; embeddings calls as inference spans without children,

into ``out_dir/<format>/request_logs/*.jsonl.gz`` (one file per UTC day, in timestamp
order; gzip without name and mtime 0), each with its ``tokenreview.yaml`` that points
at the native sample's rule files. A few defective source records of each format are
added (``FORMAT_DEFECTS``). Deterministic: the same native sample gives byte-identical
files.

What a format cannot carry is lost on the way, exactly as it would be in production;
``carried_records(format, records)`` gives the 2.1 records the format's file holds, so
a test can write them in tokenreview's own format and compare the packets of both:
LiteLLM has no ``service_tier`` and no latency of a failure; OpenTelemetry groups the
attempts of a logical request under one inference span (so ``request_id`` is that
span), carries the usage on the last attempt only, has no status for an inference span
without HTTP children other than 200 or none, and names each attempt
``<traceId>:<spanId>``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from tokenreview_pipeline.extract.files import iter_folder_records
from tokenreview_pipeline.isotime import parse_datetime

__all__ = [
    "FORMAT_DEFECTS",
    "FORMAT_NAMES",
    "carried_records",
    "native_records",
    "write_format_samples",
]

FORMAT_NAMES = ("litellm_spendlogs", "mapped", "otlp_json")
_UTC = timezone.utc  # noqa: UP017 - datetime.UTC is Python 3.11+
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_SERVICE = "sample-llm-client"


def native_records(folder: str | Path) -> list[dict]:
    """The valid records of a tokenreview request-log folder, in read order, as 2.1
    JSON objects (``timestamp`` as ISO 8601 UTC, absent fields left out)."""
    out = []
    for record in iter_folder_records(folder):
        if record.fields is None:
            continue
        fields = dict(record.fields)
        fields["timestamp"] = fields["timestamp"].isoformat().replace("+00:00", "Z")
        out.append({k: v for k, v in fields.items() if v is not None and v != {}})
    return out


def _ms(record: dict) -> int:
    moment = parse_datetime(record["timestamp"].replace("Z", "+00:00"))
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _naive(ms: int) -> str:
    return (
        (_EPOCH + timedelta(milliseconds=ms))
        .replace(tzinfo=None)
        .isoformat(timespec="milliseconds")
    )


def _hex(text: str, chars: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:chars]


# ------------------------------------------------------------------- LiteLLM

_CALL_TYPES = {
    "/v1/chat/completions": "acompletion",
    "/v1/completions": "atext_completion",
    "/v1/embeddings": "aembedding",
    "/v1/responses": "aresponses",
    "/v1/messages": "anthropic_messages",
}
_ERROR_CLASSES = {
    "rate_limit": "RateLimitError",
    "timeout": "Timeout",
    "connection_error": "APIConnectionError",
    "server_error": "InternalServerError",
    "invalid_request": "BadRequestError",
}
_SLM_FIELDS = ("request_id", "client_retry_count", "environment", "prompt_fingerprint")


def _proxy_retries(record: dict) -> int:
    """LiteLLM's own retries (``attempted_retries``) of a request that succeeded: one in
    about 25 after an upstream 429 or 5xx the proxy hid (the native sample has none)."""
    if record.get("status_code") != 200:
        return record.get("gateway_retries", 0)
    return record.get("gateway_retries", 0) + (int(_hex(record["attempt_id"], 8), 16) % 25 == 0)


def _litellm(record: dict) -> tuple[dict, dict]:
    start = _ms(record)
    ok = record.get("status_code") == 200
    gateway_retries = _proxy_retries(record)
    latency = round(record["latency_ms"]) if ok and "latency_ms" in record else 0
    slm = {name: record[name] for name in _SLM_FIELDS if name in record}
    metadata: dict = {
        "spend_logs_metadata": slm,
        "user_api_key_alias": None,
        "user_api_key_team_alias": None,
        "attempted_retries": gateway_retries,
        "usage_object": {
            "prompt_tokens_details": {
                "cached_tokens": record.get("cached_prompt_tokens", 0),
                "cache_creation_tokens": record.get("cache_write_tokens", 0),
            },
            "completion_tokens_details": {"reasoning_tokens": record.get("reasoning_tokens", 0)},
        },
    }
    if not ok:
        error_type = record.get("error_type")
        status = record.get("status_code")
        metadata["error_information"] = {
            "error_code": "" if status is None else str(status),
            "error_class": _ERROR_CLASSES.get(error_type, error_type or ""),
            "error_message": "upstream error (synthetic)",
            "traceback": "Traceback (most recent call last): ... (synthetic)",
        }
    prompt, completion = record.get("prompt_tokens", 0), record.get("completion_tokens", 0)
    row = {
        "request_id": record["attempt_id"],
        "call_type": _CALL_TYPES[record["endpoint"]],
        "api_key": record["api_key_id"],
        "spend": 0.0,
        "total_tokens": prompt + completion,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "startTime": _naive(start),
        "endTime": _naive(start + latency),
        "completionStartTime": None,
        "model": record["model"],
        "model_id": "",
        "model_group": record["model"],
        "custom_llm_provider": "openai",
        "api_base": "https://api.cometapi.com/v1",
        "user": "",
        "metadata": json.dumps(metadata, separators=(",", ":")),
        "cache_hit": "False",
        "cache_key": "",
        "request_tags": [f"{k}:{v}" for k, v in sorted(record.get("tags", {}).items())],
        "team_id": None,
        "end_user": "",
        "requester_ip_address": record.get("source_ip", ""),
        "messages": {},
        "response": {},
        "session_id": None,
        "status": "success" if ok else "failure",
        "proxy_server_request": {},
    }
    carried = {k: v for k, v in record.items() if k != "service_tier"}
    carried["gateway_retries"] = gateway_retries
    if ok:
        carried.pop("error_type", None)
        if "latency_ms" in record:
            carried["latency_ms"] = float(latency)
    else:
        carried.pop("latency_ms", None)
    return row, carried


# -------------------------------------------------------------------- mapped

MAPPED_OPTIONS = {
    "format": "mapped",
    "timestamp_format": "epoch_ms",
    "usage": {"path": "response.usage", "style": "openai_chat"},
    "fields": {
        "attempt_id": "id",
        "timestamp": "ts",
        "request_id": "request.headers.idempotency-key",
        "client_retry_count": "request.headers.x-stainless-retry-count",
        "api_key_id": "auth.key_id",
        "source_ip": "client.ip",
        "model": "request.body.model",
        "endpoint": "request.path",
        "status_code": "response.status",
        "error_type": "response.error",
        "latency_ms": "duration_ms",
        "environment": "deployment.env",
        "prompt_fingerprint": "request.body_sha256",
        "service_tier": "request.body.service_tier",
        "gateway_retries": "upstream.retries",
    },
    "tags_from": "meta",
}


def _mapped(record: dict) -> tuple[dict, dict]:
    headers = {"user-agent": "OpenAI/Python 1.99.0"}
    if "request_id" in record:
        headers["idempotency-key"] = record["request_id"]
    if "client_retry_count" in record:
        headers["x-stainless-retry-count"] = str(record["client_retry_count"])
    body = {"model": record["model"]}
    if "service_tier" in record:
        body["service_tier"] = record["service_tier"]
    usage = {
        "prompt_tokens": record.get("prompt_tokens", 0),
        "completion_tokens": record.get("completion_tokens", 0),
        "prompt_tokens_details": {
            "cached_tokens": record.get("cached_prompt_tokens", 0),
            "cache_write_tokens": record.get("cache_write_tokens", 0),
        },
        "completion_tokens_details": {"reasoning_tokens": record.get("reasoning_tokens", 0)},
    }
    line = {
        "id": record["attempt_id"],
        "ts": _ms(record),
        "request": {"path": record["endpoint"], "headers": headers, "body": body},
        "auth": {"key_id": record["api_key_id"]},
        "client": {"ip": record.get("source_ip")},
        "response": {
            "status": record.get("status_code"),
            "error": record.get("error_type"),
            "usage": usage,
        },
        "duration_ms": record.get("latency_ms"),
        "deployment": {"env": record.get("environment")},
        "upstream": {"retries": record.get("gateway_retries", 0)},
        "meta": record.get("tags", {}),
    }
    if "prompt_fingerprint" in record:
        line["request"]["body_sha256"] = record["prompt_fingerprint"]  # type: ignore[index]
    return line, dict(record)


# --------------------------------------------------------------------- OTLP


def _string(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def _int(key: str, value: int) -> dict:
    return {"key": key, "value": {"intValue": str(value)}}


@dataclass
class _Trace:
    key: str
    attempts: list[tuple[int, dict]] = field(default_factory=list)  # (read order, record)


def _span_times(record: dict) -> tuple[int, int | None]:
    start = _ms(record) * 1_000_000
    latency = record.get("latency_ms")
    return start, None if latency is None else start + round(latency * 1_000_000)


def _otlp_trace(trace: _Trace) -> list[tuple[int, dict, dict | None]]:
    """The spans of one logical request, each with the carried record of its attempt
    (None for an inference span with HTTP children), in span order."""
    trace_id = _hex("trace:" + trace.key, 32)
    attempts = trace.attempts
    last = max(range(len(attempts)), key=lambda i: (_ms(attempts[i][1]), i))
    final = attempts[last][1]
    first = attempts[0][1]
    embeddings = first["endpoint"] == "/v1/embeddings" and len(attempts) == 1
    operation = "embeddings" if embeddings else "chat"
    inference_id = _hex("inference:" + trace.key, 16)
    start, _ = _span_times(first)
    ends = [_span_times(r)[1] or _span_times(r)[0] for _, r in attempts]
    attrs = [
        _string("gen_ai.operation.name", operation),
        _string("gen_ai.provider.name", "openai"),
        _string("gen_ai.request.model", first["model"]),
    ]
    if first["endpoint"] == "/v1/responses":
        attrs.append(_string("openai.api.type", "responses"))
    if "service_tier" in final:
        attrs.append(_string("openai.request.service_tier", final["service_tier"]))
    attrs.extend(_int(attr, final.get(name, 0)) for name, attr in _TOKEN_ATTRIBUTES.items())
    attrs.extend(_string(k, v) for k, v in sorted(first.get("tags", {}).items()))
    inference = {
        "traceId": trace_id,
        "spanId": inference_id,
        "parentSpanId": "",
        "name": f"{operation} {first['model']}",
        "kind": 3,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(max(ends)),
        "attributes": attrs,
        "status": {},
    }
    common = {"model": first["model"], "tags": {**first.get("tags", {}), "service": _SERVICE}}
    for name in ("service_tier",):
        if name in final:
            common[name] = final[name]
    if "environment" in first:
        common["environment"] = first["environment"]
    tokens = {name: final[name] for name in _TOKEN_ATTRIBUTES if name in final}
    if embeddings:
        seq, record = attempts[0]
        ok = record.get("status_code") == 200
        inference["attributes"] = attrs + _attempt_attributes(record)
        if not ok:
            inference["status"] = {"code": 2, "message": "error (synthetic)"}
        span_start, span_end = _span_times(record)
        if span_end is None:
            del inference["endTimeUnixNano"]
        carried = _carried_span(
            record, trace_id, inference_id, common, tokens, span_start, span_end
        )
        carried.update(status_code=200 if ok else None, endpoint="/v1/embeddings")
        return [(seq, inference, {k: v for k, v in carried.items() if v is not None})]
    spans: list[tuple[int, dict, dict | None]] = [(attempts[0][0], inference, None)]
    seen: list[tuple[dict, dict]] = []  # (record, carried) of the attempts before
    for index, (seq, record) in enumerate(attempts):
        span_id = _hex("attempt:" + record["attempt_id"] + ":" + trace.key, 16)
        span_start, span_end = _span_times(record)
        child_attrs = [
            _string("http.request.method", "POST"),
            _string("url.path", record["endpoint"]),
            _string("server.address", "api.cometapi.com"),
        ]
        if "client_retry_count" in record:
            child_attrs.append(_int("http.request.resend_count", record["client_retry_count"]))
        if "status_code" in record:
            child_attrs.append(_int("http.response.status_code", record["status_code"]))
        child_attrs.extend(_attempt_attributes(record))
        child = {
            "traceId": trace_id,
            "spanId": span_id,
            "parentSpanId": inference_id,
            "name": "POST",
            "kind": 3,
            "startTimeUnixNano": str(span_start),
            "attributes": child_attrs,
        }
        if span_end is not None:
            child["endTimeUnixNano"] = str(span_end)
        earlier = next((c for r, c in seen if r == record), None)
        if earlier is not None:
            # The same span again: an exact duplicate, whatever the usage says.
            carried = dict(earlier)
        else:
            carried = _carried_span(
                record,
                trace_id,
                span_id,
                common,
                tokens if index == last else {},
                span_start,
                span_end,
            )
            carried["request_id"] = f"{trace_id}:{inference_id}"
            carried["client_retry_count"] = record.get("client_retry_count", 0)
            if "status_code" in record:
                carried["status_code"] = record["status_code"]
            carried["endpoint"] = record["endpoint"]
        seen.append((record, carried))
        spans.append((seq, child, carried))
    return spans


_TOKEN_ATTRIBUTES = {
    "prompt_tokens": "gen_ai.usage.input_tokens",
    "completion_tokens": "gen_ai.usage.output_tokens",
    "cached_prompt_tokens": "gen_ai.usage.cache_read.input_tokens",
    "cache_write_tokens": "gen_ai.usage.cache_creation.input_tokens",
    "reasoning_tokens": "gen_ai.usage.reasoning.output_tokens",
}


def _attempt_attributes(record: dict) -> list[dict]:
    attrs = [_string("tokenreview.api_key_id", record["api_key_id"])]
    if "source_ip" in record:
        attrs.append(_string("client.address", record["source_ip"]))
    if "error_type" in record:
        attrs.append(_string("error.type", record["error_type"]))
    return attrs


def _carried_span(
    record: dict,
    trace_id: str,
    span_id: str,
    common: dict,
    tokens: dict,
    start: int,
    end: int | None,
) -> dict:
    carried = {
        "attempt_id": f"{trace_id}:{span_id}",
        "timestamp": (_EPOCH + timedelta(microseconds=start // 1000)).isoformat(),
        "api_key_id": record["api_key_id"],
        **common,
        **tokens,
    }
    for name in ("source_ip", "error_type"):
        if name in record:
            carried[name] = record[name]
    if end is not None:
        carried["latency_ms"] = (end - start) / 1e6
    return carried


def _otlp(records: list[dict]) -> tuple[list[tuple[int, dict]], list[dict]]:
    """(hour in ms, ExportTraceServiceRequest) lines and the carried records, in the
    order the ``otlp_json`` format reads them."""
    traces: dict[str, _Trace] = {}
    for seq, record in enumerate(records):
        key = record.get("request_id") or f"attempt:{record['attempt_id']}"
        traces.setdefault(key, _Trace(key)).attempts.append((seq, record))
    by_hour: dict[int, dict[str, list[tuple[int, dict, dict | None]]]] = {}
    for trace in traces.values():
        first = trace.attempts[0][1]
        hour = _ms(first) // 3_600_000 * 3_600_000
        environment = first.get("environment", "")
        by_hour.setdefault(hour, {}).setdefault(environment, []).extend(_otlp_trace(trace))
    lines: list[tuple[int, dict]] = []
    carried: list[dict] = []
    for hour in sorted(by_hour):
        resource_spans = []
        for environment, spans in sorted(by_hour[hour].items()):
            attributes = [_string("service.name", _SERVICE)]
            if environment:
                attributes.append(_string("deployment.environment.name", environment))
            spans.sort(key=lambda item: item[0])  # stable: a parent before its children
            carried.extend(c for _, _, c in spans if c is not None)
            resource_spans.append(
                {
                    "resource": {"attributes": attributes},
                    "scopeSpans": [{"scope": {"name": _SCOPE}, "spans": [s for _, s, _ in spans]}],
                }
            )
        lines.append((hour, {"resourceSpans": resource_spans}))
    return lines, carried


_SCOPE = "opentelemetry.instrumentation.openai_v2"


# ------------------------------------------------------------------ writing


@dataclass(frozen=True)
class _Converted:
    lines: list[tuple[int, object]]  # (time in ms, source record or raw text), read order
    carried: list[dict]  # the 2.1 records the format carries, in read order


def _per_record(convert: Callable[[dict], tuple[dict, dict]], records: list[dict]) -> _Converted:
    order = sorted(range(len(records)), key=lambda i: (_ms(records[i]), i))
    pairs = [(_ms(records[i]), *convert(records[i])) for i in order]
    return _Converted([(ms, line) for ms, line, _ in pairs], [c for _, _, c in pairs])


def _convert(name: str, records: list[dict]) -> _Converted:
    if name == "litellm_spendlogs":
        return _per_record(_litellm, records)
    if name == "mapped":
        return _per_record(_mapped, records)
    if name == "otlp_json":
        lines, carried = _otlp(records)
        return _Converted(list(lines), carried)
    raise ValueError(f"unknown input format {name!r}; expected one of {', '.join(FORMAT_NAMES)}")


def carried_records(name: str, records: list[dict]) -> list[dict]:
    """The 2.1 records the format's sample file of ``records`` holds, in its read order
    (what the format carries of each attempt; the defective lines not included)."""
    return _convert(name, records).carried


def _defect_ms(records: Iterable[dict]) -> int:
    times = sorted(_ms(r) for r in records)
    return times[len(times) // 2] if times else 0


def _litellm_defects(ms: int) -> list[object]:
    good = {
        "request_id": "defect-row",
        "call_type": "acompletion",
        "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
        "startTime": _naive(ms),
        "endTime": _naive(ms + 900),
        "model": "gpt-4o-mini",
        "prompt_tokens": 10,
        "completion_tokens": 2,
        "status": "success",
    }
    return [
        {**good, "request_id": None},  # missing_field:attempt_id
        {
            **good,
            "request_id": "defect-metadata",
            "metadata": "{not json",
        },  # invalid_type:request_id
        {**good, "request_id": "defect-time", "startTime": "yesterday"},  # invalid_timestamp
        '{"request_id": "defect-cut", "call_type": "acomp',  # malformed_json
    ]


def _mapped_defects(ms: int) -> list[object]:
    good = {
        "id": "defect-line",
        "ts": ms,
        "request": {"path": "/v1/chat/completions", "body": {"model": "gpt-4o-mini"}},
        "auth": {"key_id": "key_defect"},
        "response": {"status": 200},
    }
    return [
        {**good, "id": "defect-ts", "ts": "soon"},  # invalid_timestamp
        {
            **good,
            "id": "defect-model",
            "request": {"path": "/v1/chat/completions"},
        },  # missing model
        {**good, "id": "defect-tags", "meta": ["team:search"]},  # invalid_type:tags
        "gateway restarted at " + _naive(ms),  # malformed_json
    ]


def _otlp_defects(ms: int) -> list[object]:
    def line(span_attrs: list[dict], start: object) -> dict:
        span = {
            "traceId": _hex(f"defect:{start}", 32),
            "spanId": _hex(f"defect-span:{start}", 16),
            "parentSpanId": "",
            "name": "chat gpt-4o-mini",
            "startTimeUnixNano": start,
            "attributes": [
                _string("gen_ai.operation.name", "chat"),
                _string("gen_ai.request.model", "gpt-4o-mini"),
                *span_attrs,
            ],
        }
        resource = {"attributes": [_string("service.name", _SERVICE)]}
        return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}

    nanos = str(ms * 1_000_000)
    return [
        line([], "soon"),  # invalid_timestamp
        line([_string("gen_ai.usage.input_tokens", "12")], nanos),  # invalid_type:prompt_tokens
        [],  # not_an_object
        '{"resourceSpans": [',  # malformed_json
    ]


#: format -> the defective source records its sample adds (one of each reason shown).
FORMAT_DEFECTS: dict[str, Callable[[int], list[object]]] = {
    "litellm_spendlogs": _litellm_defects,
    "mapped": _mapped_defects,
    "otlp_json": _otlp_defects,
}
_FILE_PREFIX = {"litellm_spendlogs": "spendlogs", "mapped": "gateway-access", "otlp_json": "traces"}


def _line_bytes(item: object) -> bytes:
    text = item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _write_gzip(path: Path, lines: list[bytes]) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as f:
        for line in lines:
            f.write(line)
    path.write_bytes(buffer.getvalue())


def _config(name: str, native_dir: Path, out: Path) -> str:
    native = yaml.safe_load((native_dir / "tokenreview.yaml").read_text(encoding="utf-8"))
    relative = os.path.relpath(native_dir.resolve(), out.resolve())
    request_logs: dict = {"kind": "files", "path": "request_logs"}
    if name == "mapped":
        request_logs.update(MAPPED_OPTIONS)
    else:
        request_logs["format"] = name
    config: dict = {}
    for key, value in native.items():
        if key == "request_logs":
            config[key] = request_logs
        elif key in (
            "allocation_rules",
            "maintenance_windows",
            "known_sources",
            "evidence_sources",
            "budgets",
        ):
            config[key] = f"{relative}/{value}"
        elif key in ("pricing", "billing"):
            field = "url" if key == "pricing" else "path"
            config[key] = {**value, field: f"{relative}/{value[field]}"}
        else:
            config[key] = value
    header = (
        f"# tokenreview config for the synthetic sample in format {name} (SPEC 2.7), written\n"
        "# by tokenreview_pipeline.sample.input_formats. Only request_logs differs from the\n"
        "# native sample's config; the rule files are the native sample's.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, default_flow_style=False, width=100)


def write_format_samples(
    native_dir: str | Path, out_dir: str | Path, formats: Iterable[str] = FORMAT_NAMES
) -> dict[str, Path]:
    """Write the native sample's traffic in each format; returns format -> config path."""
    native_dir, out_dir = Path(native_dir), Path(out_dir)
    records = native_records(native_dir / "request_logs")
    defect_ms = _defect_ms(records)
    configs = {}
    for name in formats:
        converted = _convert(name, records)
        lines = list(converted.lines) + [(defect_ms, d) for d in FORMAT_DEFECTS[name](defect_ms)]
        lines.sort(key=lambda item: item[0])  # stable: a day's defects after its records
        out = out_dir / name
        folder = out / "request_logs"
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.jsonl.gz"):
            stale.unlink()
        by_day: dict[str, list[bytes]] = {}
        for ms, item in lines:
            day = _naive(ms)[:10]
            by_day.setdefault(day, []).append(_line_bytes(item))
        for day, day_lines in by_day.items():
            _write_gzip(folder / f"{_FILE_PREFIX[name]}-{day}.jsonl.gz", day_lines)
        config_path = out / "tokenreview.yaml"
        config_path.write_text(_config(name, native_dir, out), encoding="utf-8")
        configs[name] = config_path
    return configs
