"""What happens to an attempt: outcome kinds, their mixes, and how clients retry them.

Every status and error kind the pipeline classifies occurs. Clients retry like the common
SDKs: exponential backoff, ``Retry-After`` on 429, a timeout at the config's
``client_timeout_ms``.
"""

from __future__ import annotations

import math
import random

from tokenreview_pipeline.config import Thresholds
from tokenreview_pipeline.sample.draws import weight_table

# The thresholds the generated config sets (the config defaults); the traffic is shaped
# around them (timeouts at client_timeout_ms, re-enqueues beyond fingerprint_window_s).
THRESHOLDS = Thresholds()

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

BASE_MIX = weight_table(
    (
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
)
MAINTENANCE_MIX = weight_table(
    (
        ("ok", 0.75),
        ("overloaded", 0.11),
        ("bad_gateway", 0.07),
        ("gw_timeout", 0.03),
        ("conn_error", 0.01),
        ("rate_limit", 0.03),
    )
)
AFTER_429_MIX = weight_table((("ok", 0.62), ("rate_limit", 0.35), ("overloaded", 0.03)))

# Retried with probability 0.93; the other kinds with RETRY_PROB.
RETRIABLE = frozenset(
    {
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
)
RETRY_PROB = {
    "invalid": 0.08,
    "auth": 0.12,
    "quota": 0.6,
    "redirect": 0.7,
    "info": 0.7,
    "null": 0.7,
    "ok": 0.0,
}
# Failures on which the provider still reports the prompt's tokens (sometimes).
REPORTS_PROMPT_ON_FAILURE = frozenset(
    {
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
)


def latency(rng: random.Random, kind: str, endpoint: str) -> float | None:
    """The attempt's ``latency_ms`` for an outcome (None: nothing measured)."""
    client_timeout_ms = THRESHOLDS.client_timeout_ms
    if kind == "ok":
        if endpoint == "/v1/embeddings":
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
        return round(client_timeout_ms + rng.uniform(0, 250), 1)
    if kind == "connect_timeout":
        return round(10_000 + rng.uniform(0, 60), 1)
    if kind == "conn_error":
        return round(rng.uniform(3, 3000), 1)
    if kind == "slow_null":
        return round(client_timeout_ms + rng.uniform(0, 60_000), 1)
    return None  # "null": nothing measured


def retry_delay(rng: random.Random, kind: str, k: int, latency_ms: float | None) -> int:
    """Milliseconds from attempt ``k`` (0-based) to the next: the wait, then the backoff."""
    waited = int(latency_ms) if latency_ms is not None else rng.randrange(1000, 5000)
    if kind in ("rate_limit", "quota"):
        backoff = rng.randrange(1000, 20_000)  # Retry-After
    elif kind == "ok":
        backoff = rng.randrange(500, 5000)
    elif kind in ("invalid", "auth", "redirect", "info", "null"):
        backoff = rng.randrange(100, 3000)
    else:
        backoff = int(min(8000, 500 * 2**k) * (1 - 0.25 * rng.random()))
    return waited + backoff + 1
