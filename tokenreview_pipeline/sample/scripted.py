"""Scripted requests: a fixed set that guarantees every case at least once, whatever the
seed and size.

Every retry cause and status of SPEC 4.3, orphan retries, retries just beyond
``fingerprint_window_s``, retries from another key or from outside the known networks,
each secret the pipeline redacts, the unpriced model and the unpriced service tier, both
owners of the shared summarizer, attempts inside both maintenance windows followed by
retries, requests that cross the main cycle's start and end, and the costs of SPEC 4.4:
cached reads and cache writes, reasoning, batch / flex / priority tiers, and prompts at and
over the 200k long-context threshold (standard and batch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tokenreview_pipeline.sample.attempts import Queued, RequestBuilder
from tokenreview_pipeline.sample.draws import add_secret_tag
from tokenreview_pipeline.sample.outcomes import THRESHOLDS, latency, retry_delay
from tokenreview_pipeline.sample.profiles import PROFILE_BY_NAME
from tokenreview_pipeline.sample.timeline import DAY_MS, HOUR_MS, MINUTE_MS, Timeline
from tokenreview_pipeline.sample.world import KEY_HOSTS, LEAKED_KEY, OUTSIDE_HOSTS, UNPRICED_TIER
from tokenreview_pipeline.sample.writers import CSVF, GZ, JSONL


@dataclass(frozen=True)
class Script:
    name: str
    profile: str
    mode: str  # rid | fp | content | none
    kinds: tuple[str, ...]  # the attempts' outcomes
    t0: int = 0  # the first attempt (ms); set by ``scripts_for``
    fmt: int | None = None  # the file format of every attempt (None: drawn)
    env: str | None = None  # an environment to force (None: as drawn)
    drop: int = 0  # first attempts lost (orphan retries)
    delays: tuple[int, ...] | None = None  # ms between attempts (None: client backoff)
    counts: tuple[int, ...] | None = None  # client_retry_count values (None: 0, 1, 2...)
    count_present: bool | None = None  # None: present unless mode is "none"
    key_switch_at: int | None = None  # the attempt retried with another key
    ip_outside_at: int | None = None  # the attempt sent from outside the known networks
    outside_ip: str | None = None
    no_ip: bool = False
    leaked_key: bool = False  # sent with the leaked sk- key
    secret_tag: str | None = None  # "bearer" | "jwt"
    header_secret: bool = False  # an authorization header inside the content
    tags: dict[str, str] | None = None  # tags to force
    mixed_fp: bool = False  # retries carry the first attempt's fingerprint explicitly
    model: str | None = None  # a model to force (None: as drawn)
    prompt_tokens: int | None = None  # a prompt size to force
    service_tier: str | None = None  # a service tier to force (None: as drawn)
    classes: tuple[tuple[str, int], ...] | None = None  # token classes of successes

    @property
    def n_written(self) -> int:
        return len(self.kinds) - self.drop


_Q, _A = "search-query-rewrite", "search-answer"
_WINDOW_MS = THRESHOLDS.fingerprint_window_s * 1000

# Placed on business hours of the first weekdays of the main cycle, away from the windows.
_SLOTTED = (
    Script("csv-first", _Q, "fp", ("ok",), fmt=CSVF),
    Script("csv-untagged", "legacy-untagged", "none", ("ok",), fmt=CSVF),
    Script("csv-retry", _A, "fp", ("rate_limit", "ok"), fmt=CSVF),
    Script("gz-retry", _Q, "content", ("server", "ok"), fmt=GZ),
    Script("retry-other-key", _Q, "rid", ("server", "ok"), key_switch_at=1, env="production"),
    Script("retry-after-success", "support-triage", "rid", ("ok", "ok")),
    Script("invalid-then-retry", _A, "fp", ("invalid", "ok")),
    Script("auth-then-retry", _Q, "rid", ("auth", "ok")),
    Script("408", "support-triage", "fp", ("req_timeout", "ok")),
    Script("409", _Q, "content", ("conflict", "ok")),
    Script("quota", "growth-copy", "rid", ("quota", "quota"), env="production"),
    Script("500", _A, "content", ("server", "ok")),
    Script("502", "support-reply", "fp", ("bad_gateway", "ok")),
    Script("503", _Q, "content", ("overloaded", "ok")),
    Script("504", _A, "fp", ("gw_timeout", "ok")),
    Script("524", "search-shopping", "content", ("cf_timeout", "ok")),
    Script("timeout", _A, "fp", ("timeout", "ok")),
    Script("read-timeout", "support-reply", "content", ("read_timeout", "ok")),
    Script("connect-timeout", _Q, "fp", ("connect_timeout", "ok")),
    Script("connection-error", "support-triage", "content", ("conn_error", "ok")),
    Script("null-slow", _A, "fp", ("slow_null", "ok")),
    Script("null-nothing", _Q, "fp", ("null", "ok")),
    Script("3xx", "search-shopping", "fp", ("redirect", "ok")),
    Script("1xx", _Q, "rid", ("info", "ok")),
    Script("three-attempts", _A, "content", ("overloaded", "rate_limit", "ok")),
    Script("orphan-fp", _Q, "fp", ("server", "ok"), drop=1),
    Script("orphan-rid", _A, "rid", ("rate_limit", "rate_limit", "ok"), drop=2),
    Script("beyond-window", _Q, "fp", ("rate_limit", "ok"), delays=(_WINDOW_MS + 25_000,)),
    Script("mixed-fingerprint", _A, "content", ("overloaded", "ok"), mixed_fp=True),
    Script("resend-after-success", _Q, "fp", ("ok", "ok"), counts=(0, 0), delays=(60_000,)),
    Script("singleton", "legacy-untagged", "none", ("ok",)),
    Script("singleton-retry", "legacy-untagged", "none", ("server", "ok"), count_present=True),
    Script(
        "ipv6-outside-retry",
        _Q,
        "fp",
        ("rate_limit", "ok"),
        ip_outside_at=1,
        outside_ip=OUTSIDE_HOSTS[2],
    ),
    Script("no-ip-retry", "support-triage", "fp", ("server", "ok"), no_ip=True),
    Script("unknown-key-retry", "labs-agents", "content", ("rate_limit", "ok")),
    Script(
        "sk-key",
        "growth-copy",
        "content",
        ("overloaded", "ok"),
        leaked_key=True,
        env="production",
        fmt=JSONL,
    ),
    Script(
        "bearer-tag", "growth-copy", "rid", ("ok",), secret_tag="bearer", env="production", fmt=GZ
    ),
    Script("jwt-tag", "platform-embeddings", "content", ("ok",), secret_tag="jwt", fmt=JSONL),
    Script("content-secret", "support-triage", "content", ("ok",), header_secret=True, fmt=JSONL),
    Script("unpriced-model", "support-trial", "fp", ("ok",)),
    Script("unpriced-retry", "support-trial", "fp", ("rate_limit", "ok")),
    Script("absent-count-join", _A, "fp", ("server", "server", "ok"), count_present=False),
    Script("summarizer-support", "support-summarizer", "fp", ("ok",)),
    Script("summarizer-search", "search-summarizer", "fp", ("ok",)),
    Script(
        "risk-lookalike",
        "ci-evals",
        "fp",
        ("ok",),
        tags={"suite": "risk-assessment-pipeline-v2"},
    ),
    Script("embeddings-timeout", "platform-embeddings", "rid", ("read_timeout", "ok")),
    # SPEC 4.4 costs: the long-context band at and over its threshold, in two tiers
    Script("prompt-at-threshold", "support-reply", "fp", ("ok",), prompt_tokens=200_000),
    Script(
        "long-prompt-cached",
        "support-reply",
        "fp",
        ("ok",),
        prompt_tokens=231_400,
        classes=(("cached_prompt_tokens", 180_000), ("cache_write_tokens", 40_000)),
    ),
    Script(
        "long-prompt-batch",
        "support-reply",
        "rid",
        ("rate_limit", "ok"),
        prompt_tokens=204_800,
        service_tier="batch",
        classes=(("cache_write_tokens", 150_000), ("reasoning_tokens", 200)),
    ),
    Script(
        "batch-cached",
        "growth-copy",
        "rid",
        ("ok",),
        env="production",
        prompt_tokens=3_000,
        service_tier="batch",
        classes=(("cached_prompt_tokens", 2_048),),
    ),
    Script(
        "priority-cached",
        _Q,
        "fp",
        ("ok",),
        prompt_tokens=1_600,
        service_tier="priority",
        classes=(("cached_prompt_tokens", 1_024),),
    ),
    Script(
        "flex-reasoning",
        "ci-evals",
        "fp",
        ("server", "ok"),
        model="o4-mini",
        service_tier="flex",
        classes=(("reasoning_tokens", 700),),
    ),
    Script("default-tier", _A, "fp", ("ok",), service_tier="default"),
    Script("unpriced-tier", "search-shopping", "fp", ("ok",), service_tier=UNPRICED_TIER),
)


def scripts_for(timeline: Timeline) -> list[Script]:
    """Every script with its start time on ``timeline``."""
    start, end = timeline.start_ms, timeline.end_ms
    ndays = min(5, timeline.cycle_days)
    scripts = [
        replace(s, t0=start + (i % ndays) * DAY_MS + 10 * HOUR_MS + (i // ndays) * 5 * MINUTE_MS)
        for i, s in enumerate(_SLOTTED)
    ]
    m0 = timeline.maintenance[0]
    recurring_day = start + (DAY_MS if timeline.cycle_days > 1 else 0)
    scripts += [
        # Attempts inside the maintenance windows, then retries.
        Script(
            "maint-abs",
            "support-triage",
            "fp",
            ("overloaded", "overloaded", "ok"),
            t0=m0 + 1_200_000,
        ),
        Script("maint-abs-2", _Q, "rid", ("bad_gateway", "ok"), t0=m0 + 2_400_000),
        Script(
            "maint-recurring",
            _A,
            "content",
            ("bad_gateway", "ok"),
            t0=recurring_day + 15 * HOUR_MS + 2_400_000,
        ),
        # Requests crossing the cycle boundaries.
        Script("cross-end-fp", _Q, "fp", ("rate_limit", "ok"), t0=end - 100_000, delays=(130_000,)),
        Script("cross-end-rid", _A, "rid", ("gw_timeout", "ok"), t0=end - 30_000),
        Script(
            "cross-end-timeouts",
            "support-reply",
            "fp",
            ("timeout", "timeout", "ok"),
            t0=end - 50_000,
        ),
        Script("cross-start", _Q, "fp", ("overloaded", "ok"), t0=start - 80_000, delays=(85_000,)),
    ]
    return scripts


def script_attempts(builder: RequestBuilder, script: Script) -> list[Queued]:
    """The attempt records of one script (all of them: scripts are budgeted whole)."""
    rng = builder.rng
    profile = PROFILE_BY_NAME[script.profile]
    req = builder.new_request(script.t0, profile, script.mode)
    if script.env is not None and script.env != req.env:
        req.env = script.env
        req.key = profile.keys[req.env][0]
        req.ip = KEY_HOSTS[req.key][0]
    if script.leaked_key:
        req.key, req.ip = builder.leaked_key, KEY_HOSTS[LEAKED_KEY][0]
    elif req.key == builder.leaked_key:  # the leaked key only where scripted
        req.key, req.ip = "key_growth_01", KEY_HOSTS["key_growth_01"][0]
    if script.no_ip:
        req.ip = None
    elif req.ip is None:
        req.ip = KEY_HOSTS[req.key][0] if req.key in KEY_HOSTS else None
    if script.count_present is not None:
        req.count_present = script.count_present
    elif script.mode != "none":
        req.count_present = True
    if script.model is not None:
        req.model = script.model
    if script.prompt_tokens is not None:
        req.prompt_tokens = script.prompt_tokens
    if script.service_tier is not None:
        req.service_tier = script.service_tier
    if script.tags is not None:
        req.tags = dict(script.tags)
    if script.secret_tag and req.tags is not None:
        req.tags = dict(req.tags)
        add_secret_tag(rng, req.tags, script.secret_tag)
    kinds = script.kinds
    latencies = [latency(rng, kind, req.endpoint) for kind in kinds]
    delays = script.delays or [
        retry_delay(rng, kind, k, latencies[k]) for k, kind in enumerate(kinds[:-1])
    ]
    queued = builder.attempts(
        req,
        script.t0,
        kinds,
        delays,
        script.counts or range(len(kinds)),
        latencies,
        len(kinds),
        drop=script.drop,
        key_switch_at=script.key_switch_at,
        ip_outside_at=script.ip_outside_at,
        fmt=builder.format_in_use(script.fmt),
        mixed_fp=script.mixed_fp,
        outside_ip=script.outside_ip,
        header_secret=script.header_secret,
        classes=None if script.classes is None else dict(script.classes),
    )
    if len(queued) != script.n_written:  # pragma: no cover - internal consistency
        raise RuntimeError(f"script {script.name} wrote {len(queued)} attempts")
    return queued
