"""Logical requests and their attempt records.

A logical request is keyed by ``request_id`` (about 15%), by an explicit
``prompt_fingerprint`` (35%), by content (``messages`` / ``input`` / ``prompt``, which the
extractor fingerprints; 40%) or by nothing (singletons). Its attempts share the model,
endpoint, environment, key, host and content, and count ``client_retry_count`` 0, 1, 2...
Secrets the pipeline must redact ride along: the leaked ``sk-`` key, ``Bearer`` and JWT tag
values, and an ``authorization`` header inside a content field. A request keeps its service
tier across retries; each successful attempt reports its token classes (``usage``), and a
few report retries their gateway made inside them (``gateway_retries``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from tokenreview_pipeline.extract.records import prompt_fingerprint
from tokenreview_pipeline.sample.draws import (
    add_secret_tag,
    api_secret_key,
    attempt_id,
    lognormal_int,
    pick,
    pick_weighted,
    uuid4,
)
from tokenreview_pipeline.sample.outcomes import (
    AFTER_429_MIX,
    BASE_MIX,
    MAINTENANCE_MIX,
    OUTCOMES,
    REPORTS_PROMPT_ON_FAILURE,
    RETRIABLE,
    RETRY_PROB,
    THRESHOLDS,
    latency,
    retry_delay,
)
from tokenreview_pipeline.sample.profiles import PROFILE_DAY_TABLE, PROFILE_NIGHT_TABLE, Profile
from tokenreview_pipeline.sample.timeline import DAY_MS, HOUR_MS, Timeline
from tokenreview_pipeline.sample.usage import token_classes
from tokenreview_pipeline.sample.world import (
    ITEMS,
    KEY_HOSTS,
    LEAKED_KEY,
    OUTSIDE_HOSTS,
    TOPICS,
    USER_AGENTS,
)
from tokenreview_pipeline.sample.writers import CSVF, GZ, JSONL

# An attempt record queued for writing: (timestamp ms, file format, record).
Queued = tuple[int, int, dict]

_SYSTEM_MESSAGE = {"role": "system", "content": "You are a concise assistant."}
# A long prompt: over the 200k-token long-context threshold of SPEC 2.3's example.
LONG_PROMPT_TOKENS = (200_001, 262_000)
GATEWAY_RETRY_SHARE = 0.02  # successful attempts a gateway retried inside


@dataclass(slots=True)
class Request:
    """One logical request's shared state."""

    profile: Profile
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
    service_tier: str | None  # None: the records carry no service_tier


def _fit(classes: dict[str, int], prompt: int, completion: int) -> dict[str, int]:
    """Fixed token classes, cut to what the attempt's totals hold (SPEC 4.1)."""
    cached = min(classes.get("cached_prompt_tokens", 0), prompt)
    fitted = {
        "cached_prompt_tokens": cached,
        "cache_write_tokens": min(classes.get("cache_write_tokens", 0), prompt - cached),
        "reasoning_tokens": min(classes.get("reasoning_tokens", 0), completion),
    }
    return {k: v for k, v in fitted.items() if v > 0}


class RequestBuilder:
    """Draws requests and their attempts from the generator's one ``random.Random``."""

    def __init__(
        self, rng: random.Random, timeline: Timeline, *, csv_share: float, gzip_share: float
    ):
        self.rng = rng
        self.timeline = timeline
        self.csv_share, self.gzip_share = csv_share, gzip_share
        self.leaked_key = api_secret_key(rng)  # the sample's first draw

    def choose_format(self) -> int:
        r = self.rng.random()
        if r < self.csv_share:
            return CSVF
        if r < self.csv_share + self.gzip_share:
            return GZ
        return JSONL

    def format_in_use(self, fmt: int | None) -> int | None:
        """A scripted format applies only when that format is in use."""
        if (fmt == CSVF and self.csv_share <= 0) or (fmt == GZ and self.gzip_share <= 0):
            return None
        return fmt

    def new_request(self, t0: int, profile: Profile | None = None, mode: str | None = None):
        rng = self.rng
        if profile is None:
            hour = (t0 % DAY_MS) // HOUR_MS
            profile = pick(rng, PROFILE_NIGHT_TABLE if hour < 6 else PROFILE_DAY_TABLE)
        model = pick_weighted(rng, profile.models)
        endpoint = rng.choice(profile.endpoints)
        env = pick_weighted(rng, profile.envs)
        key = rng.choice(profile.keys[env])
        hosts = KEY_HOSTS[key]
        if key == LEAKED_KEY:
            key = self.leaked_key
        ip = None if rng.random() < 0.02 else rng.choice(hosts)
        if mode is None:
            r = rng.random()
            mode = "rid" if r < 0.15 else "fp" if r < 0.5 else "content" if r < 0.94 else "none"
        rid = uuid4(rng) if mode == "rid" else None
        text = profile.text.format(
            n=rng.randrange(1, 1_000_000), topic=rng.choice(TOPICS), item=rng.choice(ITEMS)
        )
        if profile.content == "messages":
            content_field = "messages"
            content: object = [{"role": "user", "content": text}]
            if rng.random() < 0.5:
                content = [_SYSTEM_MESSAGE, *content]
        elif profile.content == "input":
            content_field = "input"
            content = text if rng.random() < 0.7 else [text, f"{text} (part 2)"]
        else:
            content_field = "prompt"
            content = text
        fp = prompt_fingerprint(content) if mode == "fp" else None  # content: computed lazily
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
                add_secret_tag(rng, tags)
        elif profile.name == "ci-evals" and rng.random() < 0.3:
            tags = {"suite": "risk-assessment-pipeline-v2"}
        user_agent = rng.choice(USER_AGENTS) if rng.random() < 0.25 else None
        service_tier = pick_weighted(rng, profile.tier_mix(model))
        if profile.long_prompt_share and rng.random() < profile.long_prompt_share:
            prompt_tokens = rng.randrange(*LONG_PROMPT_TOKENS)
        else:
            prompt_tokens = lognormal_int(rng, profile.prompt_median, 0.6, 1, 120_000)
        return Request(
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
            service_tier,
        )

    def random_request(self, t0: int, budget_left: int) -> list[Queued]:
        """A request starting at ``t0`` retried like the common SDKs; at most
        ``budget_left`` attempts."""
        rng = self.rng
        req = self.new_request(t0)
        max_retries = pick_weighted(rng, ((2, 0.6), (3, 0.25), (5, 0.1), (0, 0.05)))
        kinds: list[str] = []
        delays: list[int] = []
        latencies: list[float | None] = []
        t = t0
        while True:
            k = len(kinds)
            if self.timeline.in_maintenance(t):
                kind = pick(rng, MAINTENANCE_MIX)
            elif k and kinds[-1] == "rate_limit":
                kind = pick(rng, AFTER_429_MIX)
            else:
                kind = pick(rng, BASE_MIX)
            kinds.append(kind)
            lat = latency(rng, kind, req.endpoint)
            latencies.append(lat)
            if k >= max_retries:
                break
            if kind == "ok":
                if not (req.mode == "rid" and rng.random() < 0.004):
                    break
            elif kind not in RETRIABLE and rng.random() >= RETRY_PROB[kind]:
                break
            elif kind in RETRIABLE and rng.random() >= 0.93:
                break
            delay = retry_delay(rng, kind, k, lat)
            if rng.random() < 0.015:  # a queue worker re-enqueues much later
                delay += THRESHOLDS.fingerprint_window_s * 1000 + rng.randrange(10_000, 600_000)
            delays.append(delay)
            t += delay
        drop_first = len(kinds) >= 2 and rng.random() < 0.03  # first attempt lost in shipping
        key_switch = req.mode == "rid" and len(kinds) >= 2 and rng.random() < 0.02
        ip_outside = len(kinds) >= 2 and rng.random() < 0.015
        return self.attempts(
            req,
            t0,
            kinds,
            delays,
            list(range(len(kinds))),
            latencies,
            budget_left,
            drop=1 if drop_first else 0,
            key_switch_at=1 if key_switch else None,
            ip_outside_at=len(kinds) - 1 if ip_outside else None,
        )

    def attempts(
        self,
        req: Request,
        t0: int,
        kinds: Sequence[str],
        delays: Sequence[int],
        counts: Sequence[int],
        latencies: Sequence[float | None],
        budget_left: int,
        *,
        drop: int = 0,
        key_switch_at: int | None = None,
        ip_outside_at: int | None = None,
        fmt: int | None = None,
        mixed_fp: bool = False,
        outside_ip: str | None = None,
        header_secret: bool = False,
        classes: dict[str, int] | None = None,
    ) -> list[Queued]:
        """The request's attempt records: attempt ``k`` has outcome ``kinds[k]``, follows
        attempt ``k - 1`` by ``delays[k - 1]`` and reports ``counts[k]``. The first ``drop``
        are lost (orphan retries); at most ``budget_left`` are returned. ``classes`` fixes
        the token classes of successful attempts (else they are drawn)."""
        rng = self.rng
        t = t0
        queued: list[Queued] = []
        key, ip = req.key, req.ip
        for k, kind in enumerate(kinds):
            if k:
                t += delays[k - 1]
            if k == key_switch_at:
                others = [x for x in req.profile.keys[req.env] if x not in (req.key, LEAKED_KEY)]
                if others:
                    key = others[0]
                    ip = rng.choice(KEY_HOSTS[key])
            if k == ip_outside_at:
                ip = outside_ip or rng.choice(OUTSIDE_HOSTS)
            if k < drop:
                continue
            if len(queued) >= budget_left:
                break
            status, error_type = OUTCOMES[kind]
            rec: dict[str, object] = {"attempt_id": attempt_id(rng), "timestamp": None}
            if req.rid:
                rec["request_id"] = req.rid
            if req.count_present:
                rec["client_retry_count"] = counts[k]
            rec["api_key_id"] = key
            if ip is not None:
                rec["source_ip"] = ip
            rec["model"] = req.model
            rec["endpoint"] = req.endpoint
            rec["status_code"] = status
            if error_type is not None:
                rec["error_type"] = error_type
            if latencies[k] is not None:
                rec["latency_ms"] = latencies[k]
            usage: dict[str, int] = {}
            if kind == "ok":
                rec["prompt_tokens"] = req.prompt_tokens
                if req.endpoint != "/v1/embeddings":
                    rec["completion_tokens"] = lognormal_int(
                        rng, req.profile.completion_median, 0.7, 1, 16_000
                    )
                elif rng.random() < 0.5:
                    rec["completion_tokens"] = 0
                completion = rec.get("completion_tokens", 0)
                if classes is not None:
                    usage = _fit(classes, req.prompt_tokens, completion)
                else:
                    usage = token_classes(rng, req.model, req.prompt_tokens, completion)
                if rng.random() < GATEWAY_RETRY_SHARE:
                    usage["gateway_retries"] = rng.choice((1, 1, 2))
            elif kind in REPORTS_PROMPT_ON_FAILURE and rng.random() < 0.35:
                rec["prompt_tokens"] = req.prompt_tokens
                rec["completion_tokens"] = 0
            if req.env is not None:
                rec["environment"] = req.env
            if req.tags is not None:
                rec["tags"] = req.tags
            if req.mode == "fp" or (mixed_fp and k > 0):  # an explicit fingerprint
                if req.fp is None:
                    req.fp = prompt_fingerprint(req.content)
                rec["prompt_fingerprint"] = req.fp
            elif req.content_field is not None:
                rec[req.content_field] = req.content
                if kind == "ok" and rng.random() < 0.15:
                    rec["choices"] = [{"message": {"role": "assistant", "content": "Done."}}]
                if header_secret or rng.random() < 0.004:
                    rec["headers"] = {"authorization": "Bearer " + self.leaked_key}
            rec.update(usage)
            if req.service_tier is not None:
                rec["service_tier"] = req.service_tier
            if req.user_agent is not None:
                rec["user_agent"] = req.user_agent
            queued.append((t, fmt if fmt is not None else self.choose_format(), rec))
        return queued
