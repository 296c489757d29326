"""Deterministic generator of realistic, synthetic LLM API request logs and configs.

``generate_sample(outdir, seed=7, attempts=2000, cycle_start=date(2026, 11, 16))`` writes a
complete, self-contained tokenreview project (SPEC sections 2 and 3) into ``outdir``::

    OUTDIR/
      tokenreview.yaml          config (SPEC 3): request_logs {kind: files, path: request_logs},
                                database_url sqlite:///tokenreview.db, pricing.json, thresholds...
      allocation_rules.yaml     rules (SPEC 2.2); one team (labs) matches no rule -> unallocated;
                                workload shared-summarizer is reachable by two owners
      pricing.json              tokenreview format, per-1M prices for 7 models; gemini-2.5-pro
                                (a rarely used trial model) is deliberately NOT priced
      maintenance_windows.yaml  one absolute window inside the main cycle and one recurring daily
                                window in Asia/Shanghai that crosses local midnight
      known_sources.yaml        api_key_ids and source_cidrs (IPv4 and IPv6)
      evidence_sources.yaml     the four sources of SPEC 2.4, accessed 3 days before the cycle
      request_logs/
        edge-YYYY-MM-DD.jsonl.gz     an edge gateway (share ``gzip_share``): "+08:00" timestamps,
                                     ASCII-escaped JSON, float latencies; one file per UTC day
        gateway-YYYY-MM-DD.jsonl     the main gateway (the rest): "Z" timestamps, compact JSON,
                                     nulls written out; one file per UTC day
        legacy-proxy-export.csv      a legacy proxy (share ``csv_share``): header row, ``tags`` as
                                     a JSON object in one column, empty cell = absent, no content

Each attempt is routed to a file at random, so the attempts of one logical request are often
spread over several files. Within each file records are in timestamp order.

Traffic: about 13 workloads of 6 teams (search, support, data-platform, growth, labs, CI evals)
over ``/v1/chat/completions``, ``/v1/embeddings`` and ``/v1/responses``, with a diurnal and weekly
rhythm, spread over the main cycle plus a margin of the previous and the next cycle (weekly: one
day each side). Logical requests are keyed by ``request_id`` (about 15%), by an explicit
``prompt_fingerprint`` (35%), by content (``messages`` / ``input`` / ``prompt``, which the
extractor fingerprints; 40%) or by nothing (singletons). Clients retry like the common SDKs
(exponential backoff, ``Retry-After`` on 429, ``client_retry_count`` 0, 1, 2...). Every status and
error kind the pipeline classifies occurs (2xx, 1xx, 3xx, 400, 401, 408, 409, 429 rate_limit,
429 insufficient_quota, 500, 502, 503, 504, 524, no response with timeout / read_timeout /
connect_timeout / connection_error, no response with latency >= client_timeout_ms or without any
latency), plus orphan retries, retries just beyond ``fingerprint_window_s``, retries from another
key or from a source outside the CIDRs, attempts inside the maintenance windows followed by
retries, and logical requests that cross the cycle boundaries. A fixed set of scripted requests
guarantees each of these at least once, whatever the seed and size.

Secrets that the pipeline must redact appear in the raw input: an ``api_key_id`` of the form
``sk-`` + 40 characters, tag values ``Bearer <token>`` and a JWT; and inside content fields
(``headers.authorization``), which are simply dropped. Prompts are bland synthetic text.

With ``bad_records=True`` a few defective lines are added (see ``BAD_RECORD_KINDS``); the
``GeneratedSample.bad_records`` mapping counts them by kind.

Determinism: only ``random.Random(seed)`` is used and no wall clock; the same arguments give
byte-identical files (gzip headers carry no name and mtime 0). Memory is O(1) per record: the
generator streams, holding only the retries still pending (a heap ordered by timestamp).
Existing ``edge-*.jsonl.gz``, ``gateway-*.jsonl`` and ``legacy-proxy-export.csv`` files in
``OUTDIR/request_logs`` are removed first, so re-generating into a folder leaves no stale shards.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import csv
import gzip
import hashlib
import heapq
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from tokenreview_pipeline.extract.records import FIELD_NAMES

__all__ = [
    "BAD_RECORD_KINDS",
    "GeneratedSample",
    "generate_sample",
    "main_generate",
]

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

CLIENT_TIMEOUT_MS = 60_000
FINGERPRINT_WINDOW_S = 300
RETRY_SPAN_S = 3_600

PRICING_SOURCE_URL = "https://apidoc.cometapi.com/pricing/about-pricing"
STATUS_URL = "https://status.cometapi.example/incidents"

# Output formats (file kinds).
JSONL, GZ, CSVF, BAD = 0, 1, 2, 3

CSV_COLUMNS = FIELD_NAMES  # the SPEC 2.1 fields, in the table's order

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
    "exact_duplicate_line",  # exact duplicate: the previous line again, byte for byte
    "exact_duplicate_reformatted",  # exact duplicate: same object, other key order and spacing
    "duplicate_attempt_id",  # duplicate_attempt_id (same id, other content)
    "crlf_line",  # a valid record whose line ends in CR LF
    "invalid_encoding",  # invalid_encoding (a Latin-1 byte)
    "csv_invalid_type",  # invalid_type:client_retry_count in the CSV ("two")
    "blank_line",  # not a record
)

# ---------------------------------------------------------------------------------------------
# Static world: models, keys, networks, workloads.

# model -> (input per 1M, output per 1M, per_request or None)
PRICES: dict[str, tuple[float, float, float | None]] = {
    "gpt-4o": (2.50, 10.00, 0.0),
    "gpt-4o-mini": (0.15, 0.60, 0.0),
    "gpt-4.1-mini": (0.40, 1.60, 0.0),
    "claude-3-5-haiku-20241022": (0.80, 4.00, 0.0),
    "claude-sonnet-4-20250514": (3.00, 15.00, 0.0),
    "text-embedding-3-small": (0.02, 0.0, None),
    "deepseek-chat": (0.27, 1.10, 0.0),
}
UNPRICED_MODEL = "gemini-2.5-pro"

KNOWN_KEYS = (
    "key_search_prod_01",
    "key_search_prod_02",
    "key_search_stg_01",
    "key_support_01",
    "key_support_02",
    "key_platform_batch_01",
    "key_platform_batch_02",
    "key_growth_01",
)
# Not in known_sources.yaml: key_labs_01, key_ci_runner and the leaked sk- key.
SOURCE_CIDRS = ("10.20.0.0/16", "10.42.0.0/16", "2001:db8:42::/48")

# Host pools (inside the CIDRs unless noted); a request keeps its host across retries.
KEY_HOSTS: dict[str, tuple[str, ...]] = {
    "key_search_prod_01": ("10.20.1.11", "10.20.1.12", "10.20.1.13", "10.20.1.14"),
    "key_search_prod_02": ("2001:db8:42:10::21", "2001:db8:42:10::22", "10.20.2.21"),
    "key_search_stg_01": ("10.20.30.5", "10.20.30.6"),
    "key_support_01": ("10.42.3.31", "10.42.3.32", "10.42.3.33"),
    "key_support_02": ("10.42.4.41", "2001:db8:42:20::41"),
    "key_platform_batch_01": ("10.20.200.7", "10.20.200.8"),
    "key_platform_batch_02": ("10.20.200.9",),
    "key_growth_01": ("10.42.9.15",),
    "SK": ("203.0.113.45",),  # a laptop outside the office networks
    "key_labs_01": ("198.51.100.23", "2001:db8:ff00:5::23"),  # outside the CIDRs
    "key_ci_runner": ("10.20.77.3", "10.20.77.4"),
}
# Failover / NAT egress addresses outside every configured CIDR (IPv4 and IPv6).
OUTSIDE_HOSTS = ("192.0.2.77", "198.51.100.201", "2001:db8:ff00:99::7", "2001:db8:43::1")

USER_AGENTS = (
    "OpenAI/Python 1.54.4",
    "OpenAI/Python 1.51.2",
    "openai-node/4.73.0",
    "Anthropic/Python 0.39.0",
    "langchain-openai/0.2.9",
)

TOPICS = (
    "shipping times",
    "return policy",
    "warranty coverage",
    "gift cards",
    "store opening hours",
    "café opening hours",
    "Zürich office parking",
    "東京 delivery windows",
    "naïve Bayes baselines",
    "invoice formats",
    "password reset emails",
    "loyalty points",
)
ITEMS = (
    "blue ceramic mug",
    "trail running shoes",
    "usb-c charger",
    "oak desk lamp",
    "wool scarf",
    "garden hose",
    "noise cancelling headphones",
    "cast iron pan",
)


@dataclass(frozen=True, slots=True)
class _Profile:
    name: str
    tags: dict[str, str] | None
    endpoints: tuple[str, ...]
    models: tuple[tuple[str, float], ...]
    envs: tuple[tuple[str | None, float], ...]
    keys: dict[str | None, tuple[str, ...]]  # by environment
    weight_day: float
    weight_night: float
    prompt_median: int
    completion_median: int
    content: str  # messages | input | prompt
    text: str  # a format string with {n}, {topic}, {item}
    request_class_share: float = 0.0  # share of requests tagged request_class
    request_class: str = ""
    secret_tag_share: float = 0.0


PROFILES: tuple[_Profile, ...] = (
    _Profile(
        name="search-query-rewrite",
        tags={"team": "search", "project": "web-search", "workload": "query-rewrite"},
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o-mini", 1.0),),
        envs=(("production", 0.85), ("staging", 0.15)),
        keys={
            "production": ("key_search_prod_01", "key_search_prod_02"),
            "staging": ("key_search_stg_01",),
        },
        weight_day=22,
        weight_night=8,
        prompt_median=420,
        completion_median=60,
        content="messages",
        text="Rewrite the shopper query '{item} {n}' for the product index; reply with the query.",
    ),
    _Profile(
        name="search-answer",
        tags={"team": "search", "project": "web-search", "workload": "answer-synthesis"},
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o", 0.9), ("gpt-4o-mini", 0.1)),
        envs=(("production", 0.8), ("staging", 0.2)),
        keys={
            "production": ("key_search_prod_01", "key_search_prod_02"),
            "staging": ("key_search_stg_01",),
        },
        weight_day=14,
        weight_night=5,
        prompt_median=2800,
        completion_median=380,
        content="messages",
        text="Answer the question about {topic} using the retrieved passages of doc set {n}.",
    ),
    _Profile(
        name="search-shopping",
        tags={"team": "search", "project": "shopping-search", "workload": "ranking-explain"},
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o-mini", 1.0),),
        envs=(("production", 0.9), ("staging", 0.1)),
        keys={"production": ("key_search_prod_02",), "staging": ("key_search_stg_01",)},
        weight_day=8,
        weight_night=3,
        prompt_median=900,
        completion_median=120,
        content="messages",
        text="Explain in one sentence why '{item}' ranks first for listing {n}.",
    ),
    _Profile(
        name="search-summarizer",
        tags={"team": "search", "project": "shopping-search", "workload": "summarizer"},
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o-mini", 1.0),),
        envs=(("production", 1.0),),
        keys={"production": ("key_search_prod_02",)},
        weight_day=4,
        weight_night=1,
        prompt_median=1500,
        completion_median=150,
        content="messages",
        text="Summarize the review thread {n} about the {item} in three bullet points.",
    ),
    _Profile(
        name="support-triage",
        tags={"team": "support", "project": "helpdesk", "workload": "ticket-triage"},
        endpoints=("/v1/chat/completions",),
        models=(("claude-3-5-haiku-20241022", 1.0),),
        envs=(("production", 0.9), ("staging", 0.1)),
        keys={
            "production": ("key_support_01", "key_support_02"),
            "staging": ("key_support_02",),
        },
        weight_day=12,
        weight_night=6,
        prompt_median=650,
        completion_median=40,
        content="messages",
        text="Classify support ticket #{n}: the customer asks about {topic}.",
    ),
    _Profile(
        name="support-reply",
        tags={"team": "support", "project": "helpdesk", "workload": "reply-draft"},
        endpoints=("/v1/chat/completions",),
        models=(("claude-sonnet-4-20250514", 1.0),),
        envs=(("production", 0.92), ("staging", 0.08)),
        keys={"production": ("key_support_01",), "staging": ("key_support_02",)},
        weight_day=8,
        weight_night=2,
        prompt_median=1800,
        completion_median=320,
        content="messages",
        text="Draft a polite reply to ticket #{n} about {topic}.",
        request_class_share=0.7,
        request_class="agent-assist",
    ),
    # a model trial in staging; its model is not in the pricing snapshot
    _Profile(
        name="support-trial",
        tags={"team": "support", "project": "helpdesk", "workload": "reply-draft"},
        endpoints=("/v1/chat/completions",),
        models=((UNPRICED_MODEL, 1.0),),
        envs=(("staging", 1.0),),
        keys={"staging": ("key_support_02",)},
        weight_day=0.5,
        weight_night=0.1,
        prompt_median=1800,
        completion_median=300,
        content="messages",
        text="Draft a polite reply to ticket #{n} about {topic}.",
    ),
    _Profile(
        name="support-summarizer",
        tags={"team": "support", "project": "helpdesk", "workload": "summarizer"},
        endpoints=("/v1/chat/completions",),
        models=(("claude-3-5-haiku-20241022", 1.0),),
        envs=(("production", 1.0),),
        keys={"production": ("key_support_01", "key_support_02")},
        weight_day=4,
        weight_night=1,
        prompt_median=1400,
        completion_median=140,
        content="messages",
        text="Summarize the conversation of ticket #{n} in three bullet points.",
    ),
    _Profile(
        name="platform-embeddings",
        tags={"team": "data-platform", "project": "doc-index", "workload": "embed-docs"},
        endpoints=("/v1/embeddings",),
        models=(("text-embedding-3-small", 1.0),),
        envs=((None, 0.6), ("production", 0.4)),
        keys={
            None: ("key_platform_batch_01", "key_platform_batch_02"),
            "production": ("key_platform_batch_01",),
        },
        weight_day=5,
        weight_night=24,
        prompt_median=1600,
        completion_median=0,
        content="input",
        text="Document chunk {n}: {topic} overview for the help centre.",
        secret_tag_share=0.01,
    ),
    _Profile(
        name="growth-copy",
        tags={"team": "growth", "project": "email-campaigns", "workload": "copy-variants"},
        endpoints=("/v1/responses",),
        models=(("gpt-4.1-mini", 1.0),),
        envs=(("production", 0.97), (None, 0.03)),
        keys={"production": ("key_growth_01", "key_growth_01", "SK"), None: ("key_growth_01",)},
        weight_day=6,
        weight_night=2,
        prompt_median=700,
        completion_median=220,
        content="input",
        text="Write three subject lines for newsletter variant {n} about {topic}.",
        request_class_share=0.2,
        request_class="bulk",
        secret_tag_share=0.03,
    ),
    # no rule matches team labs -> unallocated
    _Profile(
        name="labs-agents",
        tags={"team": "labs", "project": "agent-prototypes", "workload": "planner"},
        endpoints=("/v1/responses", "/v1/chat/completions"),
        models=(("deepseek-chat", 0.7), ("gpt-4o", 0.3)),
        envs=(("staging", 0.7), (None, 0.3)),
        keys={"staging": ("key_labs_01",), None: ("key_labs_01",)},
        weight_day=4,
        weight_night=2,
        prompt_median=2200,
        completion_median=500,
        content="prompt",
        text="Plan the steps to reconcile {topic} records (trial {n}).",
    ),
    # CI evals: allocated by api_key_id, mostly untagged
    _Profile(
        name="ci-evals",
        tags=None,
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o-mini", 0.5), ("claude-3-5-haiku-20241022", 0.3), ("deepseek-chat", 0.2)),
        envs=((None, 0.8), ("staging", 0.2)),
        keys={None: ("key_ci_runner",), "staging": ("key_ci_runner",)},
        weight_day=2,
        weight_night=5,
        prompt_median=900,
        completion_median=200,
        content="messages",
        text="Eval case {n}: answer the fixture question about {topic}.",
    ),
    # an old service sending no tags -> unallocated
    _Profile(
        name="legacy-untagged",
        tags=None,
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o-mini", 1.0),),
        envs=(("production", 1.0),),
        keys={"production": ("key_search_prod_01",)},
        weight_day=1,
        weight_night=0.5,
        prompt_median=500,
        completion_median=80,
        content="messages",
        text="Translate the product title '{item}' (sku {n}) to plain English.",
    ),
)
_PROFILE_BY_NAME = {p.name: p for p in PROFILES}

# Outcome kind -> (status_code, error_type). Status None: no HTTP response arrived.
OUTCOMES: dict[str, tuple[int | None, str | None]] = {
    "ok": (200, None),
    "rate_limit": (429, "rate_limit"),
    "quota": (429, "insufficient_quota"),
    "server": (500, "server_error"),
    "bad_gateway": (502, "server_error"),
    "overloaded": (503, "overloaded"),
    "gw_timeout": (504, None),
    "cf_timeout": (524, None),
    "req_timeout": (408, None),
    "conflict": (409, None),
    "invalid": (400, "invalid_request"),
    "auth": (401, "authentication_error"),
    "timeout": (None, "timeout"),
    "read_timeout": (None, "read_timeout"),
    "connect_timeout": (None, "connect_timeout"),
    "conn_error": (None, "connection_error"),
    "slow_null": (None, None),  # no response, latency >= client_timeout_ms
    "null": (None, None),  # no response, no latency
    "redirect": (307, None),
    "info": (100, None),
}

_BASE_MIX = (
    ("ok", 0.9305),
    ("rate_limit", 0.024),
    ("quota", 0.0015),
    ("server", 0.006),
    ("bad_gateway", 0.004),
    ("overloaded", 0.006),
    ("gw_timeout", 0.003),
    ("cf_timeout", 0.0012),
    ("req_timeout", 0.0012),
    ("conflict", 0.0012),
    ("invalid", 0.006),
    ("auth", 0.001),
    ("timeout", 0.0035),
    ("read_timeout", 0.002),
    ("connect_timeout", 0.001),
    ("conn_error", 0.0012),
    ("slow_null", 0.001),
    ("null", 0.0003),
    ("redirect", 0.0003),
    ("info", 0.0002),
)
_MAINT_MIX = (
    ("ok", 0.75),
    ("overloaded", 0.11),
    ("bad_gateway", 0.07),
    ("gw_timeout", 0.03),
    ("conn_error", 0.01),
    ("rate_limit", 0.03),
)
_AFTER_429_MIX = (("ok", 0.62), ("rate_limit", 0.35), ("overloaded", 0.03))


def _cum(pairs: Sequence[tuple[object, float]]) -> tuple[list[object], list[float]]:
    values, cum, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


def _pick(rng: random.Random, table: tuple[list[object], list[float]]) -> object:
    values, cum = table
    return values[bisect.bisect_right(cum, rng.random() * cum[-1])]


_BASE_T = _cum(_BASE_MIX)
_MAINT_T = _cum(_MAINT_MIX)
_AFTER_429_T = _cum(_AFTER_429_MIX)
_PROFILE_DAY_T = _cum([(p, p.weight_day) for p in PROFILES])
_PROFILE_NIGHT_T = _cum([(p, p.weight_night) for p in PROFILES])

_RETRIABLE = {
    "rate_limit",
    "server",
    "bad_gateway",
    "overloaded",
    "gw_timeout",
    "cf_timeout",
    "req_timeout",
    "conflict",
    "timeout",
    "read_timeout",
    "connect_timeout",
    "conn_error",
    "slow_null",
}
_RETRY_PROB = {"invalid": 0.08, "auth": 0.12, "quota": 0.6, "redirect": 0.7, "info": 0.7}
_RETRY_PROB.update({"null": 0.7, "ok": 0.0})
_REPORTS_PROMPT_ON_FAILURE = {
    "server",
    "bad_gateway",
    "overloaded",
    "gw_timeout",
    "cf_timeout",
    "timeout",
    "read_timeout",
    "slow_null",
    "invalid",
}

# ---------------------------------------------------------------------------------------------
# Public API


@dataclass
class GeneratedSample:
    """What ``generate_sample`` wrote."""

    outdir: Path
    config_path: Path
    attempts_written: int  # records written: non-blank JSONL lines + CSV data rows
    files: list[Path]  # config files, then request log files in sorted order
    cycle_ids: list[str]  # previous, main and next cycle (the main one is cycle_ids[1])
    bad_records: dict[str, int] = field(default_factory=dict)  # kind -> lines written
    records_by_file: dict[str, int] = field(default_factory=dict)  # log file name -> records


def generate_sample(
    outdir: str | Path,
    *,
    seed: int = 7,
    attempts: int = 2000,
    cycle_start: date = date(2026, 11, 16),
    cadence: str = "weekly",
    csv_share: float = 0.1,
    gzip_share: float = 0.3,
    bad_records: bool = True,
) -> GeneratedSample:
    """Write a synthetic tokenreview project (configs and request logs) into ``outdir``.

    ``attempts`` is the number of records written (defective lines included, blank lines and
    the CSV header excluded); it is met exactly, except in degenerate cases (fewer attempts
    than defective lines, or ``csv_share=1``) where one extra record may be written;
    ``attempts_written`` is always the exact count. ``cycle_start`` must be a
    cycle start for ``cadence`` (weekly: a Monday; monthly: the 1st). ``csv_share`` and
    ``gzip_share`` are the shares of attempts routed to the CSV file and to the gzip shards.
    See the module docstring for the layout.
    """
    if cadence not in ("daily", "weekly", "monthly"):
        raise ValueError(f"cadence must be daily, weekly or monthly, not {cadence!r}")
    if not isinstance(attempts, int) or attempts < 1:
        raise ValueError(f"attempts must be a positive integer, not {attempts!r}")
    if not (0.0 <= csv_share <= 1.0 and 0.0 <= gzip_share <= 1.0 and csv_share + gzip_share <= 1):
        raise ValueError("csv_share and gzip_share must be in [0, 1] and sum to at most 1")
    if isinstance(cycle_start, datetime):
        cycle_start = cycle_start.date()
    _check_cycle_start(cycle_start, cadence)

    out = Path(outdir)
    logs = out / "request_logs"
    logs.mkdir(parents=True, exist_ok=True)
    for pattern in ("edge-*.jsonl.gz", "gateway-*.jsonl", "legacy-proxy-export.csv"):
        for stale in logs.glob(pattern):
            stale.unlink()

    gen = _Generator(
        out,
        seed=seed,
        attempts=attempts,
        cycle_start=cycle_start,
        cadence=cadence,
        csv_share=csv_share,
        gzip_share=gzip_share,
        bad_records=bad_records,
    )
    config_files = gen.write_configs()
    log_files = gen.write_logs()
    return GeneratedSample(
        outdir=out,
        config_path=out / "tokenreview.yaml",
        attempts_written=gen.records_written,
        files=config_files + log_files,
        cycle_ids=[d.isoformat() for d in gen.cycle_starts],
        bad_records=dict(gen.bad_written),
        records_by_file=dict(sorted(gen.records_by_file.items())),
    )


def main_generate(argv: Sequence[str] | None = None) -> int:
    """``tokenreview generate OUTDIR [--seed S] [--attempts N] [--cycle YYYY-MM-DD] ...``"""
    parser = argparse.ArgumentParser(
        prog="tokenreview generate",
        description="Write synthetic request logs and configs (deterministic for a seed).",
    )
    add_generate_arguments(parser)
    args = parser.parse_args(argv)
    return run_generate(args)


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``generate`` arguments to a (sub)parser; ``run_generate`` consumes them."""
    parser.add_argument("outdir", help="folder to write (created if missing)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--attempts", type=int, default=2000, help="records to write")
    parser.add_argument(
        "--cycle", type=date.fromisoformat, default=date(2026, 11, 16), help="YYYY-MM-DD"
    )
    parser.add_argument("--cadence", choices=("daily", "weekly", "monthly"), default="weekly")
    parser.add_argument("--csv-share", type=float, default=0.1)
    parser.add_argument("--gzip-share", type=float, default=0.3)
    parser.add_argument("--no-bad-records", action="store_true", help="write no defective lines")


def run_generate(args: argparse.Namespace) -> int:
    try:
        result = generate_sample(
            args.outdir,
            seed=args.seed,
            attempts=args.attempts,
            cycle_start=args.cycle,
            cadence=args.cadence,
            csv_share=args.csv_share,
            gzip_share=args.gzip_share,
            bad_records=not args.no_bad_records,
        )
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    print(
        f"wrote {result.attempts_written} records in {len(result.files)} files to "
        f"{result.outdir} (config {result.config_path.name}; cycles {', '.join(result.cycle_ids)})"
    )
    return 0


# ---------------------------------------------------------------------------------------------
# Cycles and time helpers


def _check_cycle_start(d: date, cadence: str) -> None:
    if cadence == "weekly" and d.weekday() != 0:
        back = d - timedelta(days=d.weekday())
        fwd = back + timedelta(days=7)
        nearest = back if d.weekday() <= 3 else fwd
        raise ValueError(
            f"cycle_start {d} is not a weekly cycle start (a Monday); nearest is {nearest}"
        )
    if cadence == "monthly" and d.day != 1:
        first = d.replace(day=1)
        nxt = _add_months(first, 1)
        nearest = first if (d - first) <= (nxt - d) else nxt
        raise ValueError(
            f"cycle_start {d} is not a monthly cycle start (the 1st); nearest is {nearest}"
        )


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def _cycle_bounds(start: date, cadence: str) -> tuple[date, date, date]:
    """(previous start, this start, next start)."""
    if cadence == "daily":
        return start - timedelta(days=1), start, start + timedelta(days=1)
    if cadence == "weekly":
        return start - timedelta(days=7), start, start + timedelta(days=7)
    return _add_months(start, -1), start, _add_months(start, 1)


def _ms(d: date) -> int:
    return (d.toordinal() - EPOCH_ORDINAL) * DAY_MS


_DAY_CACHE: dict[int, str] = {}


def _day_str(day: int) -> str:
    s = _DAY_CACHE.get(day)
    if s is None:
        s = date.fromordinal(day + EPOCH_ORDINAL).isoformat()
        _DAY_CACHE[day] = s
    return s


def _fmt_ts(ms: int, style: int) -> str:
    """JSONL: ...sssZ; GZ: local +08:00; CSV: +00:00."""
    if style == GZ:
        ms += 8 * HOUR_MS
    day, rem = divmod(ms, DAY_MS)
    h, rem = divmod(rem, HOUR_MS)
    m, rem = divmod(rem, 60_000)
    s, milli = divmod(rem, 1000)
    suffix = "Z" if style == JSONL else ("+08:00" if style == GZ else "+00:00")
    return f"{_day_str(day)}T{h:02d}:{m:02d}:{s:02d}.{milli:03d}{suffix}"


def _fingerprint(content: object) -> str:
    canon = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Writers


class _ShardWriter:
    """One file per UTC day; days arrive in non-decreasing order."""

    def __init__(self, folder: Path, prefix: str, gz: bool, opened: list[Path]):
        self.folder, self.prefix, self.gz, self.opened = folder, prefix, gz, opened
        self.day: int | None = None
        self.raw = None
        self.fh = None
        self.buf: list[bytes] = []
        self.size = 0
        self.name = ""

    def write(self, day: int, data: bytes) -> str:
        if day != self.day:
            self.close()
            self.day = day
            suffix = ".jsonl.gz" if self.gz else ".jsonl"
            path = self.folder / f"{self.prefix}-{_day_str(day)}{suffix}"
            self.opened.append(path)
            self.name = path.name
            self.raw = open(path, "wb")
            if self.gz:
                self.fh = gzip.GzipFile(
                    filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=6
                )
            else:
                self.fh = self.raw
        self.buf.append(data)
        self.size += len(data)
        if self.size > 262_144:
            self._flush()
        return self.name

    def _flush(self) -> None:
        if self.buf and self.fh is not None:
            self.fh.write(b"".join(self.buf))
        self.buf, self.size = [], 0

    def close(self) -> None:
        if self.fh is None:
            return
        self._flush()
        if self.gz:
            self.fh.close()
        self.raw.close()
        self.fh = self.raw = None


class _CsvWriter:
    def __init__(self, path: Path, opened: list[Path]):
        self.path, self.opened = path, opened
        self.fh = None
        self.writer = None

    def writerow(self, row: Sequence[str]) -> str:
        if self.fh is None:
            self.opened.append(self.path)
            self.fh = open(self.path, "w", encoding="utf-8", newline="")
            self.writer = csv.writer(self.fh, lineterminator="\r\n")
            self.writer.writerow(CSV_COLUMNS)
        self.writer.writerow(row)
        return self.path.name

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


# ---------------------------------------------------------------------------------------------
# The generator


@dataclass(slots=True)
class _Ctx:
    """Per logical request state."""

    profile: _Profile
    model: str
    endpoint: str
    env: str | None
    key: str
    ip: str | None
    mode: str  # rid | fp | content | none
    rid: str | None
    content_field: str | None
    content: object
    fp: str | None
    count_present: bool
    tags: dict[str, str] | None
    user_agent: str | None
    prompt_tokens: int


class _Generator:
    def __init__(
        self,
        out: Path,
        *,
        seed: int,
        attempts: int,
        cycle_start: date,
        cadence: str,
        csv_share: float,
        gzip_share: float,
        bad_records: bool,
    ):
        self.out = out
        self.rng = random.Random(seed)
        self.attempts = attempts
        self.cadence = cadence
        self.csv_share, self.gzip_share = csv_share, gzip_share
        self.bad_enabled = bad_records
        prev_start, start, next_start = _cycle_bounds(cycle_start, cadence)
        self.cycle_starts = [prev_start, start, next_start]
        self.S, self.E = _ms(start), _ms(next_start)
        self.cycle_days = (next_start - start).days
        margin = {"daily": 3 * HOUR_MS, "weekly": DAY_MS, "monthly": 2 * DAY_MS}[cadence]
        self.span = (self.S - margin, self.E + margin)
        # Maintenance: an absolute window inside the main cycle; a recurring daily window
        # 23:30-00:30 Asia/Shanghai (UTC+8, no DST), i.e. 15:30-16:30 UTC.
        ws = self.S + (self.cycle_days * 24 * 3 // 10) * HOUR_MS
        if cadence != "daily":
            ws = self.S + 2 * DAY_MS + 2 * HOUR_MS
        self.maint_abs = (ws, ws + (HOUR_MS if cadence == "daily" else 2 * HOUR_MS))
        self.sk_key = "sk-" + "".join(
            self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            for _ in range(40)
        )
        self.records_written = 0
        self.bad_written: dict[str, int] = {}
        self.records_by_file: dict[str, int] = {}
        self.seq = 0
        self.heap: list[tuple[int, int, int, object]] = []
        self.last_json: tuple[dict, str] | None = None  # (record, line): last good JSON line
        self.crlf_pending = False

    # -- configs -------------------------------------------------------------------------

    def write_configs(self) -> list[Path]:
        out, start = self.out, self.cycle_starts[1]
        accessed = (start - timedelta(days=3)).isoformat()
        files = {
            "tokenreview.yaml": self._config_yaml(),
            "allocation_rules.yaml": _RULES_YAML,
            "pricing.json": self._pricing_json(),
            "maintenance_windows.yaml": self._windows_yaml(),
            "known_sources.yaml": self._known_sources_yaml(),
            "evidence_sources.yaml": _evidence_yaml(accessed),
        }
        paths = []
        for name, text in files.items():
            path = out / name
            path.write_text(text, encoding="utf-8", newline="\n")
            paths.append(path)
        return paths

    def _config_yaml(self) -> str:
        return f"""\
# tokenreview config for a synthetic sample (tokenreview_pipeline.generate).
# Paths are relative to this file.
cadence: {self.cadence}
provider_name: CometAPI
database_url: sqlite:///tokenreview.db
request_logs: {{kind: files, path: request_logs}}
allocation_rules: allocation_rules.yaml
pricing: {{url: pricing.json, format: tokenreview, max_age_days: 30}}
maintenance_windows: maintenance_windows.yaml
known_sources: known_sources.yaml
evidence_sources: evidence_sources.yaml
thresholds:
  min_sample_size: 1
  max_unknown_retry_share: 0.0
  max_source_age_days: 90
  client_timeout_ms: {CLIENT_TIMEOUT_MS}
  fingerprint_window_s: {FINGERPRINT_WINDOW_S}
  retry_span_s: {RETRY_SPAN_S}
unit_metric: cost_per_1k_tokens
"""

    def _pricing_json(self) -> str:
        models = []
        for model, (inp, outp, per_request) in PRICES.items():
            entry: dict[str, object] = {"model": model, "input_per_1m": inp, "output_per_1m": outp}
            if per_request is not None:
                entry["per_request"] = per_request
            models.append(entry)
        doc = {"source_url": PRICING_SOURCE_URL, "currency": "USD", "models": models}
        return json.dumps(doc, indent=2) + "\n"

    def _windows_yaml(self) -> str:
        a, b = (_fmt_ts(x, JSONL).replace(".000Z", "Z") for x in self.maint_abs)
        return f"""\
# Maintenance windows (SPEC 2.4). A window covers [start, end).
windows:
  - {{start: "{a}", end: "{b}", source_url: "{STATUS_URL}/database-upgrade"}}
  - recurring: daily
    start_time: "23:30"
    end_time: "00:30"
    timezone: Asia/Shanghai
    source_url: "{STATUS_URL}/nightly-failover-drill"
"""

    def _known_sources_yaml(self) -> str:
        keys = "\n".join(f"  - {k}" for k in KNOWN_KEYS)
        cidrs = "\n".join(f'  - "{c}"' for c in SOURCE_CIDRS)
        return (
            "# Request sources the platform team knows (SPEC 2.4).\n"
            f"api_key_ids:\n{keys}\nsource_cidrs:\n{cidrs}\n"
        )

    # -- logs ------------------------------------------------------------------------------

    def write_logs(self) -> list[Path]:
        folder = self.out / "request_logs"
        opened: list[Path] = []
        self.writers = {
            JSONL: _ShardWriter(folder, "gateway", False, opened),
            GZ: _ShardWriter(folder, "edge", True, opened),
        }
        self.csv = _CsvWriter(folder / "legacy-proxy-export.csv", opened)
        try:
            self._stream()
        finally:
            for w in self.writers.values():
                w.close()
            self.csv.close()
        return sorted(set(opened))

    def _stream(self) -> None:
        rng = self.rng
        budget = self.attempts
        # Defective lines: scheduled at fixed points of the main cycle.
        bad_kinds = []
        if self.bad_enabled:
            for kind in BAD_RECORD_KINDS:
                if kind == "csv_invalid_type" and self.csv_share <= 0:
                    continue
                if kind == "exact_duplicate_reformatted" and self.gzip_share <= 0:
                    continue
                bad_kinds.append(kind)
        n_bad_records = sum(1 for k in bad_kinds if k != "blank_line")
        if n_bad_records > budget:
            bad_kinds = bad_kinds[:budget]
            n_bad_records = sum(1 for k in bad_kinds if k != "blank_line")
        budget -= n_bad_records
        length = self.E - self.S
        for i, kind in enumerate(bad_kinds):
            if kind == "other_cycle_negative_tokens":
                ts = self.S - 6 * HOUR_MS - 1234
            else:
                ts = self.S + length * (i + 1) // (len(bad_kinds) + 1) + 4321
            self._push(ts, BAD, kind)

        # Scripted requests guarantee coverage; they take what they need from the budget.
        scripts = []
        for script in self._scripts():
            n = script["n_written"]
            if n <= budget:
                scripts.append(script)
                budget -= n
        scripts.sort(key=lambda s: s["t0"])
        si = 0

        # Random traffic: request i starts at T((consumed + u) / budget), so the stream ends
        # at the end of the span exactly when the budget is spent.
        inv = self._time_inverse()
        total = budget
        consumed = 0
        while consumed < total:
            t0 = inv((consumed + rng.random()) / total)
            while si < len(scripts) and scripts[si]["t0"] <= t0:
                self._emit_script(scripts[si])
                si += 1
            self._drain(t0)
            consumed += max(1, self._random_request(t0, total - consumed))
        while si < len(scripts):
            self._emit_script(scripts[si])
            si += 1
        self._drain(None)

    def _time_inverse(self):
        """Inverse CDF over the span with a diurnal and weekly rhythm, lighter margins."""
        lo, hi = self.span
        starts, cum, total = [], [], 0.0
        t = lo
        while t < hi:
            day, rem = divmod(t, DAY_MS)
            hour = rem // HOUR_MS
            weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
            w = 0.3 + math.exp(-(((hour - 13) / 4.5) ** 2))
            if weekday >= 5:
                w *= 0.45
            if t < self.S or t >= self.E:
                w *= 0.5
            width = min(HOUR_MS, hi - t)
            total += w * width / HOUR_MS
            starts.append((t, width, w * width / HOUR_MS))
            cum.append(total)
            t += width

        def inverse(x: float) -> int:
            target = x * total
            i = min(bisect.bisect_right(cum, target), len(cum) - 1)
            t_start, width, mass = starts[i]
            before = cum[i] - mass
            frac = (target - before) / mass if mass > 0 else 0.0
            return t_start + min(width - 1, max(0, int(frac * width)))

        return inverse

    def _push(self, ts: int, fmt: int, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (ts, self.seq, fmt, payload))

    def _drain(self, until: int | None) -> None:
        heap = self.heap
        while heap and (until is None or heap[0][0] <= until):
            ts, _, fmt, payload = heapq.heappop(heap)
            if fmt == BAD:
                self._write_bad(payload, ts)
            else:
                self._write(fmt, payload, ts)

    # -- requests ----------------------------------------------------------------------------

    def _fmt(self) -> int:
        r = self.rng.random()
        if r < self.csv_share:
            return CSVF
        if r < self.csv_share + self.gzip_share:
            return GZ
        return JSONL

    def _script_fmt(self, fmt: int | None) -> int | None:
        """A scripted format applies only when that format is in use."""
        if (fmt == CSVF and self.csv_share <= 0) or (fmt == GZ and self.gzip_share <= 0):
            return None
        return fmt

    def _in_maintenance(self, ts: int) -> bool:
        if self.maint_abs[0] <= ts < self.maint_abs[1]:
            return True
        tod = (ts + 8 * HOUR_MS) % DAY_MS  # Asia/Shanghai wall clock
        return tod >= 23 * HOUR_MS + 30 * 60_000 or tod < 30 * 60_000

    def _new_ctx(self, t0: int, profile: _Profile | None = None, mode: str | None = None) -> _Ctx:
        rng = self.rng
        if profile is None:
            hour = (t0 % DAY_MS) // HOUR_MS
            profile = _pick(rng, _PROFILE_NIGHT_T if hour < 6 else _PROFILE_DAY_T)
        model = _pick_weighted(rng, profile.models)
        endpoint = rng.choice(profile.endpoints)
        env = _pick_weighted(rng, profile.envs)
        key = rng.choice(profile.keys[env])
        hosts = KEY_HOSTS[key]
        if key == "SK":
            key = self.sk_key
        ip = None if rng.random() < 0.02 else rng.choice(hosts)
        if mode is None:
            r = rng.random()
            mode = "rid" if r < 0.15 else "fp" if r < 0.5 else "content" if r < 0.94 else "none"
        rid = _uuid(rng) if mode == "rid" else None
        text = profile.text.format(
            n=rng.randrange(1, 1_000_000), topic=rng.choice(TOPICS), item=rng.choice(ITEMS)
        )
        if profile.content == "messages":
            content_field = "messages"
            content: object = [{"role": "user", "content": text}]
            if rng.random() < 0.5:
                content = [{"role": "system", "content": "You are a concise assistant."}, *content]
        elif profile.content == "input":
            content_field = "input"
            content = text if rng.random() < 0.7 else [text, f"{text} (part 2)"]
        else:
            content_field = "prompt"
            content = text
        fp = _fingerprint(content) if mode == "fp" else None  # content mode: computed lazily
        if mode == "rid" or mode == "none":
            # Content still travels on some of these records (dropped by the extractor).
            if rng.random() < 0.5:
                content_field = None
        elif mode == "fp":
            content_field = None
        count_present = rng.random() < {"rid": 0.7, "fp": 0.95, "content": 0.95}.get(mode, 0.3)
        tags = None
        if profile.tags is not None:
            tags = dict(profile.tags)
            if profile.request_class_share and rng.random() < profile.request_class_share:
                tags["request_class"] = profile.request_class
            if profile.secret_tag_share and rng.random() < profile.secret_tag_share:
                self._add_secret_tag(tags)
        elif profile.name == "ci-evals" and rng.random() < 0.3:
            tags = {"suite": "risk-assessment-pipeline-v2"}
        user_agent = rng.choice(USER_AGENTS) if rng.random() < 0.25 else None
        prompt_tokens = _lognormal_int(rng, profile.prompt_median, 0.6, 1, 120_000)
        return _Ctx(
            profile,
            model,
            endpoint,
            env,
            key,
            ip,
            mode,
            rid,
            content_field,
            content,
            fp,
            count_present,
            tags,
            user_agent,
            prompt_tokens,
        )

    def _add_secret_tag(self, tags: dict[str, str]) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            tags["upstream_auth"] = "Bearer " + _token(rng, 32)
        else:
            tags["session"] = _jwt(rng)

    def _random_request(self, t0: int, budget_left: int) -> int:
        rng = self.rng
        ctx = self._new_ctx(t0)
        max_retries = _pick_weighted(rng, ((2, 0.6), (3, 0.25), (5, 0.1), (0, 0.05)))
        kinds: list[str] = []
        delays: list[int] = []
        latencies: list[float | None] = []
        t = t0
        while True:
            k = len(kinds)
            if self._in_maintenance(t):
                kind = _pick(rng, _MAINT_T)
            elif k and kinds[-1] == "rate_limit":
                kind = _pick(rng, _AFTER_429_T)
            else:
                kind = _pick(rng, _BASE_T)
            kinds.append(kind)
            latency = self._latency(kind, ctx)
            latencies.append(latency)
            if k >= max_retries:
                break
            if kind == "ok":
                if not (ctx.mode == "rid" and rng.random() < 0.004):
                    break
            elif kind not in _RETRIABLE and rng.random() >= _RETRY_PROB[kind]:
                break
            elif kind in _RETRIABLE and rng.random() >= 0.93:
                break
            delay = self._retry_delay(kind, k, latency)
            if rng.random() < 0.015:  # a queue worker re-enqueues much later
                delay += FINGERPRINT_WINDOW_S * 1000 + rng.randrange(10_000, 600_000)
            delays.append(delay)
            t += delay
        counts = list(range(len(kinds)))
        drop_first = len(kinds) >= 2 and rng.random() < 0.03  # first attempt lost in shipping
        key_switch = ctx.mode == "rid" and len(kinds) >= 2 and rng.random() < 0.02
        ip_outside = len(kinds) >= 2 and rng.random() < 0.015
        return self._emit(
            ctx,
            t0,
            kinds,
            delays,
            counts,
            budget_left,
            drop=1 if drop_first else 0,
            key_switch_at=1 if key_switch else None,
            ip_outside_at=len(kinds) - 1 if ip_outside else None,
            latencies=latencies,
        )

    def _latency(self, kind: str, ctx: _Ctx) -> float | None:
        rng = self.rng
        if kind == "ok":
            if ctx.endpoint == "/v1/embeddings":
                return round(80 + rng.lognormvariate(math.log(180), 0.5), 1)
            per_token = rng.uniform(8, 22)
            return round(250 + rng.lognormvariate(math.log(300), 0.5) + 90 * per_token, 1)
        if kind in ("rate_limit", "quota", "invalid", "auth", "conflict", "redirect", "info"):
            return round(rng.uniform(8, 400), 1)
        if kind in ("server", "overloaded"):
            return round(rng.uniform(120, 5000), 1)
        if kind == "bad_gateway":
            return round(rng.uniform(40, 30_000), 1)
        if kind == "gw_timeout":
            return round(60_000 + rng.uniform(0, 600), 1)
        if kind == "cf_timeout":
            return round(100_000 + rng.uniform(0, 500), 1)
        if kind == "req_timeout":
            return round(rng.uniform(30_000, 59_000), 1)
        if kind in ("timeout", "read_timeout"):
            return round(CLIENT_TIMEOUT_MS + rng.uniform(0, 250), 1)
        if kind == "connect_timeout":
            return round(10_000 + rng.uniform(0, 60), 1)
        if kind == "conn_error":
            return round(rng.uniform(3, 3000), 1)
        if kind == "slow_null":
            return round(CLIENT_TIMEOUT_MS + rng.uniform(0, 60_000), 1)
        return None  # "null": nothing measured

    def _retry_delay(self, kind: str, k: int, latency: float | None) -> int:
        rng = self.rng
        waited = int(latency) if latency is not None else rng.randrange(1000, 5000)
        if kind in ("rate_limit", "quota"):
            backoff = rng.randrange(1000, 20_000)  # Retry-After
        elif kind == "ok":
            backoff = rng.randrange(500, 5000)
        elif kind in ("invalid", "auth", "redirect", "info", "null"):
            backoff = rng.randrange(100, 3000)
        else:
            backoff = int(min(8000, 500 * 2**k) * (1 - 0.25 * rng.random()))
        return waited + backoff + 1

    def _emit(
        self,
        ctx: _Ctx,
        t0: int,
        kinds: Sequence[str],
        delays: Sequence[int],
        counts: Sequence[int],
        budget_left: int,
        *,
        drop: int = 0,
        key_switch_at: int | None = None,
        ip_outside_at: int | None = None,
        fmt: int | None = None,
        mixed_fp: bool = False,
        latencies: Sequence[float | None] | None = None,
        outside_ip: str | None = None,
        header_secret: bool = False,
    ) -> int:
        """Build the request's attempt records and queue them; returns the number queued."""
        rng = self.rng
        t = t0
        written = 0
        key, ip = ctx.key, ctx.ip
        for k, kind in enumerate(kinds):
            if k:
                t += delays[k - 1]
            latency = latencies[k] if latencies is not None else self._latency(kind, ctx)
            if k == key_switch_at:
                others = [x for x in ctx.profile.keys[ctx.env] if x != ctx.key and x != "SK"]
                if others:
                    key = others[0]
                    ip = rng.choice(KEY_HOSTS[key])
            if k == ip_outside_at:
                ip = outside_ip or rng.choice(OUTSIDE_HOSTS)
            if k < drop:
                continue
            if written >= budget_left:
                break
            status, error_type = OUTCOMES[kind]
            rec: dict[str, object] = {"attempt_id": _attempt_id(rng), "timestamp": None}
            if ctx.rid:
                rec["request_id"] = ctx.rid
            if ctx.count_present:
                rec["client_retry_count"] = counts[k]
            rec["api_key_id"] = key
            if ip is not None:
                rec["source_ip"] = ip
            rec["model"] = ctx.model
            rec["endpoint"] = ctx.endpoint
            rec["status_code"] = status
            if error_type is not None:
                rec["error_type"] = error_type
            if latency is not None:
                rec["latency_ms"] = latency
            if kind == "ok":
                rec["prompt_tokens"] = ctx.prompt_tokens
                if ctx.endpoint != "/v1/embeddings":
                    rec["completion_tokens"] = _lognormal_int(
                        rng, ctx.profile.completion_median, 0.7, 1, 16_000
                    )
                elif rng.random() < 0.5:
                    rec["completion_tokens"] = 0
            elif kind in _REPORTS_PROMPT_ON_FAILURE and rng.random() < 0.35:
                rec["prompt_tokens"] = ctx.prompt_tokens
                rec["completion_tokens"] = 0
            if ctx.env is not None:
                rec["environment"] = ctx.env
            if ctx.tags is not None:
                rec["tags"] = ctx.tags
            explicit_fp = ctx.mode == "fp" or (mixed_fp and k > 0)
            if explicit_fp:
                if ctx.fp is None:
                    ctx.fp = _fingerprint(ctx.content)
                rec["prompt_fingerprint"] = ctx.fp
            elif ctx.content_field is not None:
                rec[ctx.content_field] = ctx.content
                if kind == "ok" and rng.random() < 0.15:
                    rec["choices"] = [{"message": {"role": "assistant", "content": "Done."}}]
                if header_secret or rng.random() < 0.004:
                    rec["headers"] = {"authorization": "Bearer " + self.sk_key}
            if ctx.user_agent is not None:
                rec["user_agent"] = ctx.user_agent
            self._push(t, fmt if fmt is not None else self._fmt(), rec)
            written += 1
        return written

    # -- scripted coverage -------------------------------------------------------------------

    def _scripts(self) -> list[dict]:
        """Deterministic requests that guarantee every case at least once."""
        S, E = self.S, self.E
        ndays = min(5, self.cycle_days)
        W = FINGERPRINT_WINDOW_S * 1000
        specs: list[dict] = []

        def add(name, profile, mode, kinds, *, t0=None, **opts):
            specs.append(
                {"name": name, "profile": profile, "mode": mode, "kinds": kinds, "t0": t0, **opts}
            )

        q, a = "search-query-rewrite", "search-answer"
        add("csv-first", q, "fp", ["ok"], fmt=CSVF)
        add("csv-untagged", "legacy-untagged", "none", ["ok"], fmt=CSVF)
        add("csv-retry", a, "fp", ["rate_limit", "ok"], fmt=CSVF)
        add("gz-retry", q, "content", ["server", "ok"], fmt=GZ)
        add("retry-other-key", q, "rid", ["server", "ok"], key_switch_at=1, env="production")
        add("retry-after-success", "support-triage", "rid", ["ok", "ok"])
        add("invalid-then-retry", a, "fp", ["invalid", "ok"])
        add("auth-then-retry", q, "rid", ["auth", "ok"])
        add("408", "support-triage", "fp", ["req_timeout", "ok"])
        add("409", q, "content", ["conflict", "ok"])
        add("quota", "growth-copy", "rid", ["quota", "quota"], env="production")
        add("500", a, "content", ["server", "ok"])
        add("502", "support-reply", "fp", ["bad_gateway", "ok"])
        add("503", q, "content", ["overloaded", "ok"])
        add("504", a, "fp", ["gw_timeout", "ok"])
        add("524", "search-shopping", "content", ["cf_timeout", "ok"])
        add("timeout", a, "fp", ["timeout", "ok"])
        add("read-timeout", "support-reply", "content", ["read_timeout", "ok"])
        add("connect-timeout", q, "fp", ["connect_timeout", "ok"])
        add("connection-error", "support-triage", "content", ["conn_error", "ok"])
        add("null-slow", a, "fp", ["slow_null", "ok"])
        add("null-nothing", q, "fp", ["null", "ok"])
        add("3xx", "search-shopping", "fp", ["redirect", "ok"])
        add("1xx", q, "rid", ["info", "ok"])
        add("three-attempts", a, "content", ["overloaded", "rate_limit", "ok"])
        add("orphan-fp", q, "fp", ["server", "ok"], drop=1)
        add("orphan-rid", a, "rid", ["rate_limit", "rate_limit", "ok"], drop=2)
        add("beyond-window", q, "fp", ["rate_limit", "ok"], delays=[W + 25_000])
        add("mixed-fingerprint", a, "content", ["overloaded", "ok"], mixed_fp=True)
        add("resend-after-success", q, "fp", ["ok", "ok"], counts=[0, 0], delays=[60_000])
        add("singleton", "legacy-untagged", "none", ["ok"])
        add("singleton-retry", "legacy-untagged", "none", ["server", "ok"], count_present=True)
        add(
            "ipv6-outside-retry",
            q,
            "fp",
            ["rate_limit", "ok"],
            ip_outside=1,
            outside_ip=OUTSIDE_HOSTS[2],
        )
        add("no-ip-retry", "support-triage", "fp", ["server", "ok"], no_ip=True)
        add("unknown-key-retry", "labs-agents", "content", ["rate_limit", "ok"])
        add(
            "sk-key",
            "growth-copy",
            "content",
            ["overloaded", "ok"],
            sk=True,
            env="production",
            fmt=JSONL,
        )
        add("bearer-tag", "growth-copy", "rid", ["ok"], secret="bearer", env="production", fmt=GZ)
        add("jwt-tag", "platform-embeddings", "content", ["ok"], secret="jwt", fmt=JSONL)
        add("content-secret", "support-triage", "content", ["ok"], header_secret=True, fmt=JSONL)
        add("unpriced-model", "support-trial", "fp", ["ok"])
        add("unpriced-retry", "support-trial", "fp", ["rate_limit", "ok"])
        add("absent-count-join", a, "fp", ["server", "server", "ok"], count_present=False)
        add("summarizer-support", "support-summarizer", "fp", ["ok"])
        add("summarizer-search", "search-summarizer", "fp", ["ok"])
        add(
            "risk-lookalike",
            "ci-evals",
            "fp",
            ["ok"],
            tags={"suite": "risk-assessment-pipeline-v2"},
        )
        add("embeddings-timeout", "platform-embeddings", "rid", ["read_timeout", "ok"])
        # Fixed slots on business hours of the first weekdays, away from the windows.
        for i, spec in enumerate(specs):
            spec["t0"] = S + (i % ndays) * DAY_MS + 10 * HOUR_MS + (i // ndays) * 5 * 60_000
        m0 = self.maint_abs[0]
        # Attempts inside the maintenance windows, then retries.
        add(
            "maint-abs",
            "support-triage",
            "fp",
            ["overloaded", "overloaded", "ok"],
            t0=m0 + 1_200_000,
        )
        add("maint-abs-2", q, "rid", ["bad_gateway", "ok"], t0=m0 + 2_400_000)
        rec_day = S + (1 if self.cycle_days > 1 else 0) * DAY_MS
        add(
            "maint-recurring",
            a,
            "content",
            ["bad_gateway", "ok"],
            t0=rec_day + 15 * HOUR_MS + 2_400_000,
        )
        # Requests crossing the cycle boundaries.
        add("cross-end-fp", q, "fp", ["rate_limit", "ok"], t0=E - 100_000, delays=[130_000])
        add("cross-end-rid", a, "rid", ["gw_timeout", "ok"], t0=E - 30_000)
        add(
            "cross-end-timeouts", "support-reply", "fp", ["timeout", "timeout", "ok"], t0=E - 50_000
        )
        add("cross-start", q, "fp", ["overloaded", "ok"], t0=S - 80_000, delays=[85_000])
        for spec in specs:
            spec["n_written"] = len(spec["kinds"]) - spec.get("drop", 0)
        return specs

    def _emit_script(self, spec: dict) -> None:
        rng = self.rng
        profile = _PROFILE_BY_NAME[spec["profile"]]
        ctx = self._new_ctx(spec["t0"], profile, spec["mode"])
        if "env" in spec and spec["env"] != ctx.env:
            ctx.env = spec["env"]
            ctx.key = profile.keys[ctx.env][0]
            ctx.ip = KEY_HOSTS[ctx.key][0]
        if spec.get("sk"):
            ctx.key, ctx.ip = self.sk_key, KEY_HOSTS["SK"][0]
        elif ctx.key == self.sk_key:
            ctx.key, ctx.ip = "key_growth_01", KEY_HOSTS["key_growth_01"][0]
        if ctx.ip is None and not spec.get("no_ip"):
            ctx.ip = KEY_HOSTS[ctx.key][0] if ctx.key in KEY_HOSTS else None
        if spec.get("no_ip"):
            ctx.ip = None
        if "count_present" in spec:
            ctx.count_present = spec["count_present"]
        elif spec["mode"] != "none":
            ctx.count_present = True
        if spec["mode"] == "content" and ctx.content_field is None:
            ctx.content_field = {"messages": "messages"}.get(profile.content, profile.content)
        if "tags" in spec:
            ctx.tags = spec["tags"]
        if spec.get("secret") and ctx.tags is not None:
            ctx.tags = dict(ctx.tags)
            if spec["secret"] == "bearer":
                ctx.tags["upstream_auth"] = "Bearer " + _token(rng, 32)
            else:
                ctx.tags["session"] = _jwt(rng)
        kinds = spec["kinds"]
        latencies = [self._latency(kind, ctx) for kind in kinds]
        delays = spec.get("delays") or [
            self._retry_delay(kind, k, latencies[k]) for k, kind in enumerate(kinds[:-1])
        ]
        written = self._emit(
            ctx,
            spec["t0"],
            kinds,
            delays,
            spec.get("counts") or list(range(len(kinds))),
            len(kinds),
            drop=spec.get("drop", 0),
            key_switch_at=spec.get("key_switch_at"),
            ip_outside_at=spec.get("ip_outside"),
            fmt=self._script_fmt(spec.get("fmt")),
            mixed_fp=spec.get("mixed_fp", False),
            latencies=latencies,
            outside_ip=spec.get("outside_ip"),
            header_secret=spec.get("header_secret", False),
        )
        if written != spec["n_written"]:  # pragma: no cover - internal consistency
            raise RuntimeError(f"script {spec['name']} wrote {written} attempts")

    # -- writing ---------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        self.records_written += 1
        self.records_by_file[name] = self.records_by_file.get(name, 0) + 1

    def _write(self, fmt: int, rec: dict, ts: int) -> None:
        day = ts // DAY_MS
        if fmt == CSVF:
            rec["timestamp"] = _fmt_ts(ts, CSVF)
            fp = rec.get("prompt_fingerprint")
            if fp is None:
                for name in ("messages", "input", "prompt"):
                    if name in rec:
                        fp = _fingerprint(rec[name])
                        break
            row = [_csv_cell(rec.get(c)) for c in CSV_COLUMNS[:-1]] + [fp or ""]
            self._count(self.csv.writerow(row))
            return
        rec["timestamp"] = _fmt_ts(ts, fmt)
        if fmt == GZ:
            if rec.get("status_code") is None:
                rec.pop("status_code", None)  # the edge gateway omits nulls
            line = json.dumps(rec, ensure_ascii=True)
        else:
            lat = rec.get("latency_ms")
            if lat is not None:
                rec["latency_ms"] = int(lat)
            line = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
        self.last_json = (rec, line)
        end = "\n"
        if self.crlf_pending and fmt == JSONL:
            end, self.crlf_pending = "\r\n", False
        self._count(self.writers[fmt].write(day, (line + end).encode("utf-8")))

    def _write_bad(self, kind: str, ts: int) -> None:
        rng = self.rng
        day = ts // DAY_MS
        gw = self.writers[JSONL]
        self.bad_written[kind] = self.bad_written.get(kind, 0) + 1
        if kind == "blank_line":
            gw.write(day, b"\n")
            return
        if kind == "csv_invalid_type":
            base = self._bad_base(ts, CSVF)
            row = [_csv_cell(base.get(c)) for c in CSV_COLUMNS]
            row[CSV_COLUMNS.index("client_retry_count")] = "two"
            self._count(self.csv.writerow(row))
            return
        if kind in ("exact_duplicate_line", "exact_duplicate_reformatted", "duplicate_attempt_id"):
            if self.last_json is None:  # nothing written yet: write an original first
                self._write(JSONL, self._bad_base(ts, JSONL), ts)
            orig, orig_line = self.last_json
            if kind == "exact_duplicate_line":
                line = orig_line  # byte for byte
                self._count(gw.write(day, (line + "\n").encode("utf-8")))
            elif kind == "exact_duplicate_reformatted":
                reordered = dict(reversed(list(orig.items())))
                line = json.dumps(reordered, ensure_ascii=True, indent=None)
                self._count(self.writers[GZ].write(day, (line + "\n").encode("utf-8")))
            else:
                other = dict(orig)
                other["latency_ms"] = int(orig.get("latency_ms") or 0) + 1500
                other["status_code"] = 502
                other["error_type"] = "server_error"
                line = json.dumps(other, ensure_ascii=False, separators=(",", ":"))
                self._count(gw.write(day, (line + "\n").encode("utf-8")))
            return
        if kind == "crlf_line":
            self.crlf_pending = True
            self._write(JSONL, self._bad_base(ts, JSONL), ts)
            return
        rec = self._bad_base(ts, JSONL)
        data: bytes
        if kind == "malformed_json":
            text = json.dumps(rec, separators=(",", ":"))
            data = text[: len(text) * 2 // 3].encode()  # truncated mid-record
        elif kind == "not_an_object":
            data = json.dumps([rec["attempt_id"], rec["timestamp"], rec["model"]]).encode()
        elif kind == "invalid_encoding":
            text = json.dumps(rec, separators=(",", ":"), ensure_ascii=True)
            # A Latin-1 encoded tag value ("café"): not valid UTF-8.
            data = text.encode().replace(b'"ticket-triage"', b'"ticket-triage","note":"caf\xe9"')
        else:
            if kind == "missing_field_timestamp":
                del rec["timestamp"]
            elif kind == "missing_field_api_key_id_null":
                rec["api_key_id"] = None
            elif kind == "missing_field_model":
                del rec["model"]
            elif kind == "invalid_type_retry_count_string":
                rec["client_retry_count"] = "1"
            elif kind == "invalid_type_retry_count_bool":
                rec["client_retry_count"] = True
            elif kind == "invalid_type_retry_count_float":
                rec["client_retry_count"] = 12.0
            elif kind == "invalid_type_status_code_string":
                rec["status_code"] = "503"
            elif kind == "invalid_type_latency_negative":
                rec["latency_ms"] = -5
            elif kind == "invalid_type_tag_value":
                rec["tags"] = {"team": "search", "project": "web-search", "priority": 3}
            elif kind == "invalid_timestamp":
                rec["timestamp"] = f"{_day_str(day)[:8]}31T25:61:00Z"
            elif kind == "timestamp_without_timezone":
                rec["timestamp"] = _fmt_ts(ts, JSONL)[:-1]
            elif kind in ("negative_tokens", "other_cycle_negative_tokens"):
                rec["completion_tokens"] = -rng.randrange(1, 500)
            data = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._count(gw.write(day, data + b"\n"))

    def _bad_base(self, ts: int, style: int) -> dict:
        """A plausible record to damage (a support-triage success)."""
        rng = self.rng
        return {
            "attempt_id": _attempt_id(rng),
            "timestamp": _fmt_ts(ts, style),
            "request_id": _uuid(rng),
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
            "prompt_fingerprint": _fingerprint(
                [{"role": "system", "content": "You are a concise assistant."}]
            ),
        }


# ---------------------------------------------------------------------------------------------
# Small helpers


def _pick_weighted(rng: random.Random, pairs: Sequence[tuple[object, float]]):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


def _lognormal_int(rng: random.Random, median: int, sigma: float, lo: int, hi: int) -> int:
    if median <= 0:
        return 0
    return max(lo, min(hi, int(rng.lognormvariate(math.log(median), sigma))))


def _attempt_id(rng: random.Random) -> str:
    return f"att_{rng.getrandbits(64):016x}"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


_TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _token(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_TOKEN_CHARS) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(rng: random.Random) -> str:
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = _b64url(
        json.dumps({"sub": f"svc-batch-{rng.randrange(100)}", "iat": 1795000000}).encode()
    )
    return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"


_RULES_YAML = """\
# Allocation rules for the synthetic sample (SPEC 2.2). Lower priority is tried first; the
# first matching rule wins. Team "labs" matches no rule (-> unallocated), and workload
# shared-summarizer is reachable by two owners (team-support and team-search).
rules:
  - id: platform-embeddings
    priority: 10
    match:
      endpoint: "/v1/embeddings"
      api_key_id: [key_platform_batch_01, key_platform_batch_02]
    assign:
      owner_tag: team-data-platform
      workload_tag: "embeddings-{tags.project}"
      request_class: batch-embedding
  - id: summarizer-support
    priority: 20
    match:
      tags: {workload: summarizer}
      api_key_id: [key_support_01, key_support_02]
    assign:
      owner_tag: team-support
      workload_tag: shared-summarizer
  - id: summarizer-search
    priority: 20
    match:
      tags: {team: search, workload: summarizer}
    assign:
      owner_tag: team-search
      workload_tag: shared-summarizer
  - id: search-production
    priority: 30
    match:
      tags: {team: search}
      environment: production
      endpoint: "/v1/chat/*"
    assign:
      owner_tag: team-search
      workload_tag: "search-{tags.project}"
      request_class: production-interactive
  - id: search-staging
    priority: 40
    match:
      tags: {team: search}
      environment: staging
    assign:
      owner_tag: team-search
      workload_tag: "search-{tags.project}"
  - id: support-claude
    priority: 50
    match:
      tags: {team: support}
      model: "claude-*"
    assign:
      owner_tag: team-support
      workload_tag: "support-{tags.workload}"
  - id: support-model-trials
    priority: 60
    match:
      tags: {team: support}
    assign:
      owner_tag: team-support
      workload_tag: "support-{tags.workload}"
      request_class: "{environment}-model-trial"
  - id: growth-responses
    priority: 70
    match:
      tags: {team: growth}
      endpoint: "/v1/responses"
    assign:
      owner_tag: team-growth
      workload_tag: "growth-{tags.project}"
      request_class: "{environment}:campaign"
  - id: ci-evals
    priority: 80
    match:
      api_key_id: [key_ci_runner]
    assign:
      owner_tag: team-ml-eval
      workload_tag: "evals-{model}"
      environment: ci
      request_class: offline-eval
"""

EVIDENCE_SOURCES = (
    ("pricing", "https://apidoc.cometapi.com/pricing/about-pricing"),
    ("support", "https://apidoc.cometapi.com/support/help-center"),
    ("allocation", "https://www.finops.org/framework/capabilities/allocation/"),
    ("unit_metric", "https://www.finops.org/framework/capabilities/unit-economics/"),
)


def _evidence_yaml(accessed: str) -> str:
    lines = ["# Evidence sources cited by every review packet (SPEC 2.4).", "sources:"]
    for area, url in EVIDENCE_SOURCES:
        lines.append(f'  - {{area: {area}, url: "{url}", accessed_on: "{accessed}"}}')
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main_generate())
