"""Defective lines (``bad_records=True``): one for each quarantine reason of SPEC 4.1 except
``record_too_large``, exact duplicates, a blank line and a CRLF line.

Each kind is written once, at a fixed point of the main cycle (``other_cycle_negative_tokens``
in the previous cycle), by damaging a plausible support-triage success.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from tokenreview_pipeline.extract.records import prompt_fingerprint
from tokenreview_pipeline.sample.draws import attempt_id, uuid4
from tokenreview_pipeline.sample.timeline import DAY_MS, HOUR_MS, day_str
from tokenreview_pipeline.sample.writers import (
    CSV_COLUMNS,
    CSVF,
    GZ,
    JSONL,
    LogFiles,
    csv_cell,
    format_timestamp,
)

# Kinds of defective lines written when bad_records=True, in write order. Each is one line
# (one record read) except "blank_line". The comment is the SPEC 4.1 outcome.
BAD_RECORD_KINDS = (
    "other_cycle_negative_tokens",  # negative_tokens, timestamped in the previous cycle
    "malformed_json",  # malformed_json
    "not_an_object",  # not_an_object (a JSON array)
    "missing_field_timestamp",  # missing_field:timestamp
    "missing_field_api_key_id_null",  # missing_field:api_key_id (null)
    "missing_field_model",  # missing_field:model
    "invalid_type_retry_count_string",  # invalid_type:client_retry_count ("1")
    "invalid_type_retry_count_bool",  # invalid_type:client_retry_count (true)
    "invalid_type_retry_count_float",  # invalid_type:client_retry_count (12.0)
    "invalid_type_status_code_string",  # invalid_type:status_code ("503")
    "invalid_type_latency_negative",  # invalid_type:latency_ms (-5)
    "invalid_type_tag_value",  # invalid_type:tags (a tag value that is a number)
    "invalid_timestamp",  # invalid_timestamp
    "timestamp_without_timezone",  # timestamp_without_timezone
    "negative_tokens",  # negative_tokens
    "negative_class_tokens",  # negative_tokens (a negative cached_prompt_tokens)
    "inconsistent_tokens",  # inconsistent_tokens (cached + cache writes > prompt_tokens)
    "exact_duplicate_line",  # exact duplicate: the previous line again, byte for byte
    "exact_duplicate_reformatted",  # exact duplicate: same object, other key order and spacing
    "duplicate_attempt_id",  # duplicate_attempt_id (same id, other content)
    "crlf_line",  # a valid record whose line ends in CR LF
    "invalid_encoding",  # invalid_encoding (a Latin-1 byte)
    "csv_invalid_type",  # invalid_type:client_retry_count in the CSV ("two")
    "blank_line",  # not a record
)
# Kinds that need a format in use: the CSV export, the gzip shards.
_NEEDS_CSV = "csv_invalid_type"
_NEEDS_GZIP = "exact_duplicate_reformatted"

_OTHER_CYCLE_OFFSET_MS = -6 * HOUR_MS - 1234
_SLOT_OFFSET_MS = 4321


def planned_defects(
    budget: int, start_ms: int, end_ms: int, *, csv_share: float, gzip_share: float
) -> list[tuple[int, str]]:
    """(timestamp, kind) of the defective lines to write, at most ``budget`` records."""
    kinds = [
        kind
        for kind in BAD_RECORD_KINDS
        if not (kind == _NEEDS_CSV and csv_share <= 0)
        and not (kind == _NEEDS_GZIP and gzip_share <= 0)
    ]
    if records_in(kinds) > budget:
        kinds = kinds[:budget]
    length = end_ms - start_ms
    planned = []
    for i, kind in enumerate(kinds):
        if kind == "other_cycle_negative_tokens":
            ts = start_ms + _OTHER_CYCLE_OFFSET_MS
        else:
            ts = start_ms + length * (i + 1) // (len(kinds) + 1) + _SLOT_OFFSET_MS
        planned.append((ts, kind))
    return planned


def records_in(kinds: list[str]) -> int:
    """Records the defective lines of ``kinds`` count for (a blank line is none)."""
    return sum(1 for kind in kinds if kind != "blank_line")


def _base_record(rng: random.Random, ts: int, fmt: int) -> dict:
    """A plausible record to damage (a support-triage success)."""
    return {
        "attempt_id": attempt_id(rng),
        "timestamp": format_timestamp(ts, fmt),
        "request_id": uuid4(rng),
        "client_retry_count": 0,
        "api_key_id": "key_support_01",
        "source_ip": "10.42.3.31",
        "model": "claude-3-5-haiku-20241022",
        "endpoint": "/v1/chat/completions",
        "status_code": 200,
        "error_type": None,
        "latency_ms": rng.randrange(300, 2000),
        "prompt_tokens": rng.randrange(200, 900),
        "completion_tokens": rng.randrange(10, 80),
        "environment": "production",
        "tags": {"team": "support", "project": "helpdesk", "workload": "ticket-triage"},
        "prompt_fingerprint": prompt_fingerprint(
            [{"role": "system", "content": "You are a concise assistant."}]
        ),
    }


def _compact(rec: object) -> bytes:
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _set(key: str, value: object) -> Callable[[random.Random, dict, int], None]:
    def damage(rng: random.Random, rec: dict, ts: int) -> None:
        rec[key] = value

    return damage


def _delete(key: str) -> Callable[[random.Random, dict, int], None]:
    def damage(rng: random.Random, rec: dict, ts: int) -> None:
        del rec[key]

    return damage


def _negative_tokens(rng: random.Random, rec: dict, ts: int) -> None:
    rec["completion_tokens"] = -rng.randrange(1, 500)


def _inconsistent_tokens(rng: random.Random, rec: dict, ts: int) -> None:
    rec["cached_prompt_tokens"] = rec["prompt_tokens"] - rng.randrange(0, 100)
    rec["cache_write_tokens"] = rng.randrange(101, 400)


# Kind -> how a base record is damaged (then written as one compact gateway line).
_FIELD_DAMAGE: dict[str, Callable[[random.Random, dict, int], None]] = {
    "other_cycle_negative_tokens": _negative_tokens,
    "missing_field_timestamp": _delete("timestamp"),
    "missing_field_api_key_id_null": _set("api_key_id", None),
    "missing_field_model": _delete("model"),
    "invalid_type_retry_count_string": _set("client_retry_count", "1"),
    "invalid_type_retry_count_bool": _set("client_retry_count", True),
    "invalid_type_retry_count_float": _set("client_retry_count", 12.0),
    "invalid_type_status_code_string": _set("status_code", "503"),
    "invalid_type_latency_negative": _set("latency_ms", -5),
    "invalid_type_tag_value": _set(
        "tags", {"team": "search", "project": "web-search", "priority": 3}
    ),
    "invalid_timestamp": lambda rng, rec, ts: rec.update(
        timestamp=f"{day_str(ts // DAY_MS)[:8]}31T25:61:00Z"
    ),
    "timestamp_without_timezone": lambda rng, rec, ts: rec.update(
        timestamp=format_timestamp(ts, JSONL)[:-1]
    ),
    "negative_tokens": _negative_tokens,
    "negative_class_tokens": _set("cached_prompt_tokens", -128),
    "inconsistent_tokens": _inconsistent_tokens,
}


def write_defect(logs: LogFiles, rng: random.Random, kind: str, ts: int) -> None:
    """Write the defective line(s) of ``kind`` at ``ts``."""
    if kind == "blank_line":
        logs.write_blank_line(ts)
    elif kind == "csv_invalid_type":
        base = _base_record(rng, ts, CSVF)
        row = [csv_cell(base.get(c)) for c in CSV_COLUMNS]
        row[CSV_COLUMNS.index("client_retry_count")] = "two"
        logs.write_csv_row(row)
    elif kind in ("exact_duplicate_line", "exact_duplicate_reformatted", "duplicate_attempt_id"):
        _write_duplicate(logs, rng, kind, ts)
    elif kind == "crlf_line":
        logs.crlf_pending = True
        logs.write_record(JSONL, _base_record(rng, ts, JSONL), ts)
    else:
        logs.write_line(JSONL, ts, _damaged_line(rng, kind, ts) + b"\n")


def _write_duplicate(logs: LogFiles, rng: random.Random, kind: str, ts: int) -> None:
    if logs.last_json is None:  # nothing written yet: write an original first
        logs.write_record(JSONL, _base_record(rng, ts, JSONL), ts)
    orig, orig_line = logs.last_json
    if kind == "exact_duplicate_line":
        logs.write_line(JSONL, ts, (orig_line + "\n").encode("utf-8"))  # byte for byte
    elif kind == "exact_duplicate_reformatted":
        reordered = dict(reversed(list(orig.items())))
        line = json.dumps(reordered, ensure_ascii=True, indent=None)
        logs.write_line(GZ, ts, (line + "\n").encode("utf-8"))
    else:
        other = dict(orig)
        other["latency_ms"] = int(orig.get("latency_ms") or 0) + 1500
        other["status_code"] = 502
        other["error_type"] = "server_error"
        logs.write_line(JSONL, ts, _compact(other) + b"\n")


def _damaged_line(rng: random.Random, kind: str, ts: int) -> bytes:
    rec = _base_record(rng, ts, JSONL)
    if kind == "malformed_json":
        text = json.dumps(rec, separators=(",", ":"))
        return text[: len(text) * 2 // 3].encode()  # truncated mid-record
    if kind == "not_an_object":
        return json.dumps([rec["attempt_id"], rec["timestamp"], rec["model"]]).encode()
    if kind == "invalid_encoding":
        text = json.dumps(rec, separators=(",", ":"), ensure_ascii=True)
        # A Latin-1 encoded tag value ("café"): not valid UTF-8.
        return text.encode().replace(b'"ticket-triage"', b'"ticket-triage","note":"caf\xe9"')
    _FIELD_DAMAGE[kind](rng, rec, ts)
    return _compact(rec)
