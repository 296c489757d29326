"""``format: litellm_spendlogs``: rows of LiteLLM proxy's ``LiteLLM_SpendLogs`` table.

Read from files of JSON lines (one row object per line; the JSON columns ``metadata``,
``request_tags``, ``messages``, ``response``, ``proxy_server_request`` as objects or as
JSON strings) or from the table itself (``kind: database``, ``litellm_database.py``).
One row is one proxy request's final outcome, so one attempt (SPEC 2.7):

- ``attempt_id`` <- ``request_id``
- ``timestamp`` <- ``startTime``; without an offset it is UTC
- ``request_id`` <- ``slm.request_id``
- ``client_retry_count`` <- ``slm.client_retry_count``
- ``environment`` <- ``slm.environment``
- ``prompt_fingerprint`` <- ``slm.prompt_fingerprint`` (never derived from ``messages``)
- ``gateway_retries`` <- ``md.attempted_retries``
- ``api_key_id`` <- ``api_key`` (the key's hash; ``""`` is absent)
- ``source_ip`` <- ``requester_ip_address``, else ``md.requester_ip_address``
- ``model``, ``prompt_tokens``, ``completion_tokens`` <- the columns
- ``endpoint`` <- ``call_type`` through ``CALL_TYPE_ENDPOINTS``, other -> ``/litellm/<call_type>``
- ``status_code`` <- ``status`` ``success`` or null -> 200; ``failure`` ->
  ``md.error_information.error_code`` when all digits, else null
- ``error_type`` <- ``md.error_information.error_class`` through ``ERROR_CLASSES`` (other: as
  written); null on success
- ``latency_ms`` <- ``endTime - startTime`` in ms on success; absent for a failure
- ``cached_prompt_tokens`` <- ``md.usage_object.prompt_tokens_details.cached_tokens``, else
  ``md.additional_usage_values.cache_read_input_tokens``
- ``cache_write_tokens`` <- ``md.usage_object.prompt_tokens_details.cache_creation_tokens``, else
  ``md.additional_usage_values.cache_creation_input_tokens``
- ``reasoning_tokens`` <- ``md.usage_object.completion_tokens_details.reasoning_tokens``
- ``tags`` <- ``request_tags`` (``k:v`` -> ``k`` = ``v``, split at the first colon; no colon ->
  itself = ``true``), then the other string values of ``slm``, then ``litellm_team``
  (``md.user_api_key_team_alias``, else ``team_id``), ``litellm_key_alias``
  (``md.user_api_key_alias``), ``litellm_end_user`` (``end_user``) when not empty; an earlier key is
  not overwritten

Content fields (``CONTENT_PATHS``, dropped before anything is kept): ``messages``,
``response``, ``proxy_server_request``, ``md.proxy_server_request``,
``md.error_information.traceback``, ``md.error_information.error_message``,
``md.guardrail_information``, ``md.vector_store_request_metadata``,
``md.mcp_tool_call_metadata`` -- and, as everywhere, any key named like a 2.1 content
field, at any depth.

Decisions where the SPEC is silent: a JSON column that is a string but not JSON, or a
JSON value of the wrong shape (``metadata`` not an object, ``request_tags`` not an array
of strings), makes every field read from it ``invalid_type`` (the first in 2.1 order is
the reason); a ``status`` other than ``success``, ``failure`` or null is
``invalid_type:status_code``; ``endTime`` that is not a time is
``invalid_type:latency_ms``; integer values are JSON integers (``"12"`` is not one).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from tokenreview_pipeline.extract.records import (
    WRONG_TYPE,
    ExtractedRecord,
    InvalidTimestamp,
    parse_source_text,
)

from .base import MISSING, InputFormat, Where
from .values import iso_utc, parse_naive_utc

__all__ = [
    "CALL_TYPE_ENDPOINTS",
    "CONTENT_PATHS",
    "ERROR_CLASSES",
    "JSON_COLUMNS",
    "LiteLLMSpendLogsFormat",
]

#: Columns LiteLLM stores as JSON (a file may hold them as objects or as JSON strings).
JSON_COLUMNS = ("metadata", "request_tags", "messages", "response", "proxy_server_request")

CONTENT_PATHS: tuple[tuple[str, ...], ...] = (
    ("messages",),
    ("response",),
    ("proxy_server_request",),
    ("metadata", "proxy_server_request"),
    ("metadata", "error_information", "traceback"),
    ("metadata", "error_information", "error_message"),
    ("metadata", "guardrail_information"),
    ("metadata", "vector_store_request_metadata"),
    ("metadata", "mcp_tool_call_metadata"),
)

CALL_TYPE_ENDPOINTS = {
    "completion": "/v1/chat/completions",
    "acompletion": "/v1/chat/completions",
    "text_completion": "/v1/completions",
    "atext_completion": "/v1/completions",
    "embedding": "/v1/embeddings",
    "aembedding": "/v1/embeddings",
    "responses": "/v1/responses",
    "aresponses": "/v1/responses",
    "anthropic_messages": "/v1/messages",
}

ERROR_CLASSES = {
    "RateLimitError": "rate_limit",
    "Timeout": "timeout",
    "APITimeoutError": "timeout",
    "APIConnectionError": "connection_error",
    "InternalServerError": "server_error",
    "ServiceUnavailableError": "server_error",
    "BadRequestError": "invalid_request",
    "ContextWindowExceededError": "invalid_request",
    "ContentPolicyViolationError": "invalid_request",
    "AuthenticationError": "auth_error",
    "PermissionDeniedError": "auth_error",
    "NotFoundError": "not_found",
}

#: The ``slm`` keys mapped to 2.1 fields (its other string values become tags).
_SLM_FIELDS = ("request_id", "client_retry_count", "environment", "prompt_fingerprint")
_MAX_ERROR_CODE_DIGITS = 18
_ONE_MS = timedelta(milliseconds=1)


def _as_object(value: object) -> Any:
    """A JSON object column or sub-object: ``{}`` when absent, parsed when a JSON string,
    ``WRONG_TYPE`` when it is anything else."""
    if value is None or value is MISSING:
        return {}
    if isinstance(value, str):
        parsed, value = parse_source_text(value) if value.strip() else (True, {})
        if parsed and value is None:
            return {}
    if isinstance(value, dict):
        return value
    return WRONG_TYPE


def _sub(obj: Any, key: str) -> Any:
    return WRONG_TYPE if obj is WRONG_TYPE else _as_object(obj.get(key))


def _value(obj: Any, key: str) -> object:
    return WRONG_TYPE if obj is WRONG_TYPE else obj.get(key)


def _first(*values: object) -> object:
    """The first value that is not null, empty or absent."""
    for value in values:
        if value is not None and value != "":
            return value
    return None


def _time(value: object) -> datetime | InvalidTimestamp | object:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # noqa: UP017
    if not isinstance(value, str):
        return WRONG_TYPE
    moment = parse_naive_utc(value)
    return InvalidTimestamp(value[:64] or "?") if moment is None else moment


def _status_code(status: object, error: Any) -> object:
    if status is None or status == "success":
        return 200
    if status != "failure":
        return WRONG_TYPE
    code = _value(error, "error_code")
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    if isinstance(code, str) and code.isascii() and code.isdigit():
        return int(code) if len(code) <= _MAX_ERROR_CODE_DIGITS else WRONG_TYPE
    return None


def _error_type(status: object, error: Any) -> object:
    if status != "failure":
        return None
    error_class = _value(error, "error_class")
    if isinstance(error_class, str):
        return ERROR_CLASSES.get(error_class, error_class)
    return error_class


def _tags(row: dict, md: Any, slm: Any) -> object:
    tags: dict[str, object] = {}
    request_tags = row.get("request_tags")
    if isinstance(request_tags, str):
        parsed, request_tags = (
            parse_source_text(request_tags) if request_tags.strip() else (True, [])
        )
        if not parsed:
            return WRONG_TYPE
    if request_tags is not None:
        if not isinstance(request_tags, list) or not all(isinstance(t, str) for t in request_tags):
            return WRONG_TYPE
        for tag in request_tags:
            key, sep, value = tag.partition(":")
            tags.setdefault(key if sep else tag, value if sep else "true")
    if slm is WRONG_TYPE:
        return WRONG_TYPE
    for key, value in slm.items():
        if key not in _SLM_FIELDS and isinstance(value, str):
            tags.setdefault(key, value)
    if md is WRONG_TYPE:
        return WRONG_TYPE
    for key, value in (
        ("litellm_team", _first(md.get("user_api_key_team_alias"), row.get("team_id"))),
        ("litellm_key_alias", _first(md.get("user_api_key_alias"))),
        ("litellm_end_user", _first(row.get("end_user"))),
    ):
        if value is not None:
            tags.setdefault(key, value)
    return tags


def map_row(row: dict) -> dict[str, object]:
    """The 2.1 record of one ``LiteLLM_SpendLogs`` row (values as read; ``WRONG_TYPE``
    where the row holds something the field cannot take)."""
    md = _as_object(row.get("metadata"))
    slm = _sub(md, "spend_logs_metadata")
    error = _sub(md, "error_information")
    usage = _sub(md, "usage_object")
    prompt_details = _sub(usage, "prompt_tokens_details")
    completion_details = _sub(usage, "completion_tokens_details")
    extra_usage = _sub(md, "additional_usage_values")
    status = row.get("status")
    start, end = _time(row.get("startTime")), _time(row.get("endTime"))

    call_type = row.get("call_type")
    if isinstance(call_type, str) and call_type:
        endpoint: object = CALL_TYPE_ENDPOINTS.get(call_type, f"/litellm/{call_type}")
    else:
        endpoint = call_type if call_type in (None, "") else WRONG_TYPE

    latency: object = None
    if status in (None, "success") and isinstance(start, datetime) and end is not None:
        latency = (end - start) / _ONE_MS if isinstance(end, datetime) else WRONG_TYPE

    return {
        "attempt_id": row.get("request_id"),
        "timestamp": iso_utc(start) if isinstance(start, datetime) else start,
        "request_id": _value(slm, "request_id"),
        "client_retry_count": _value(slm, "client_retry_count"),
        "api_key_id": row.get("api_key"),
        "source_ip": _first(row.get("requester_ip_address"), _value(md, "requester_ip_address")),
        "model": row.get("model"),
        "endpoint": endpoint,
        "status_code": _status_code(status, error),
        "error_type": _error_type(status, error),
        "latency_ms": latency,
        "prompt_tokens": row.get("prompt_tokens"),
        "completion_tokens": row.get("completion_tokens"),
        "environment": _value(slm, "environment"),
        "tags": _tags(row, md, slm),
        "prompt_fingerprint": _value(slm, "prompt_fingerprint"),
        "cached_prompt_tokens": _first(
            _value(prompt_details, "cached_tokens"),
            _value(extra_usage, "cache_read_input_tokens"),
        ),
        "cache_write_tokens": _first(
            _value(prompt_details, "cache_creation_tokens"),
            _value(extra_usage, "cache_creation_input_tokens"),
        ),
        "reasoning_tokens": _value(completion_details, "reasoning_tokens"),
        "gateway_retries": _value(md, "attempted_retries"),
    }


def kept_row(row: dict) -> dict:
    """The row without its content fields (JSON-string columns parsed, so their content
    is removed too): what a quarantined row keeps as raw text."""
    kept = dict(row)
    for column in JSON_COLUMNS:
        value = kept.get(column)
        if isinstance(value, str) and value.strip():
            parsed, loaded = parse_source_text(value)
            if parsed:
                kept[column] = loaded
    for path in CONTENT_PATHS:
        _drop(kept, path)
    return kept


def _drop(obj: dict, path: tuple[str, ...]) -> None:
    *parents, last = path
    for key in parents:
        child = obj.get(key)
        if not isinstance(child, dict):
            return
        child = dict(child)  # copy on the way down: the source object stays as parsed
        obj[key] = child
        obj = child
    obj.pop(last, None)


class LiteLLMSpendLogsFormat(InputFormat):
    name = "litellm_spendlogs"

    @classmethod
    def from_source(cls, source: object) -> LiteLLMSpendLogsFormat:
        return cls()

    def object_records(
        self, obj: dict, *, forced_defect: str | None, where: Where
    ) -> Iterator[ExtractedRecord]:
        yield self.mapped_record(
            map_row(obj),
            source=obj,
            kept=kept_row(obj),
            forced_defect=forced_defect,
            where=where,
        )

    def database_records(
        self, url: str, start: datetime, end: datetime
    ) -> Iterator[ExtractedRecord]:
        from .litellm_database import iter_spendlogs_rows, spendlogs_location

        name = spendlogs_location(url)
        for page, line, row in iter_spendlogs_rows(url, start, end):
            where: Where = {"source_name": name, "source_line": line, "source_page": page}
            yield from self.value_records(row, forced_defect=None, where=where)
