"""Load and validate ``tokenreview.yaml`` (SPEC section 3).

Every key of the SPEC is known here with its default. Unknown keys are errors
(a typo must not be silently ignored), and every error names the file and the
key. Paths are resolved relative to the config file. The database URL comes
from, in order: an explicit override (``--database-url``), the environment
variable ``TOKENREVIEW_DATABASE_URL``, the config's ``database_url``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tokenreview_pipeline.errors import ConfigError, load_yaml_file

DATABASE_URL_ENV = "TOKENREVIEW_DATABASE_URL"
CONFIG_PATH_ENV = "TOKENREVIEW_CONFIG"

CADENCES = ("daily", "weekly", "monthly")
UNIT_METRICS = ("cost_per_1k_tokens", "cost_per_successful_request")
PRICING_FORMATS = ("tokenreview", "litellm")

# Project decision (the SPEC is silent): cycles are Dagster partitions, which need a
# first partition. 2024-01-01 is a Monday, so it is a valid start for every cadence.
DEFAULT_FIRST_CYCLE = date(2024, 1, 1)


@dataclass(frozen=True)
class FilesLogSource:
    path: Path
    kind: str = "files"


@dataclass(frozen=True)
class HttpLogSource:
    url: str
    token_env: str | None
    max_tries: int = 5
    timeout_s: float = 30.0
    kind: str = "http"


@dataclass(frozen=True)
class PricingConfig:
    url: str  # as written in the config (used as the snapshot's source_url fallback)
    format: str = "tokenreview"
    max_age_days: int = 30


@dataclass(frozen=True)
class Thresholds:
    min_sample_size: int = 1
    max_unknown_retry_share: float = 0.0
    max_source_age_days: int = 90
    client_timeout_ms: int = 60000
    fingerprint_window_s: int = 300
    retry_span_s: int = 3600


@dataclass(frozen=True)
class TokenreviewConfig:
    path: Path
    cadence: str
    provider_name: str
    database_url: str
    request_logs: FilesLogSource | HttpLogSource
    allocation_rules: Path
    pricing: PricingConfig
    maintenance_windows: Path | None
    known_sources: Path | None
    evidence_sources: Path | None
    thresholds: Thresholds = field(default_factory=Thresholds)
    unit_metric: str = "cost_per_1k_tokens"
    first_cycle: date = DEFAULT_FIRST_CYCLE

    @property
    def base_dir(self) -> Path:
        return self.path.parent


_TOP_KEYS = {
    "cadence",
    "provider_name",
    "database_url",
    "request_logs",
    "allocation_rules",
    "pricing",
    "maintenance_windows",
    "known_sources",
    "evidence_sources",
    "thresholds",
    "unit_metric",
    "first_cycle",
}


class _Reader:
    """Small helper that reads typed values and raises ConfigError naming the key."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.path, key, message)

    def mapping(self, value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(map(str, value)) - allowed)
        if unknown:
            prefix = f"{key}." if key else ""
            raise self.fail(
                f"{prefix}{unknown[0]}",
                f"unknown key (expected one of: {', '.join(sorted(allowed))})",
            )
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected a non-empty string")
        return value

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def integer(self, value: Any, key: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"expected an integer >= {minimum}, got {value!r}")
        return value

    def number(self, value: Any, key: str, minimum: float = 0.0) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.fail(key, f"expected a number >= {minimum}, got {value!r}")
        return float(value)

    def local_path(self, value: Any, key: str) -> Path:
        text = self.string(value, key)
        path = Path(text).expanduser()
        return path if path.is_absolute() else (self.path.parent / path)


def resolve_database_url(config_url: str, override: str | None = None) -> str:
    """``--database-url`` wins over ``TOKENREVIEW_DATABASE_URL`` wins over the config."""
    return override or os.environ.get(DATABASE_URL_ENV) or config_url


def load_config(path: str | os.PathLike, *, database_url: str | None = None) -> TokenreviewConfig:
    path = Path(path).resolve()
    raw = load_yaml_file(path)
    r = _Reader(path)
    top = r.mapping(raw, "", _TOP_KEYS)

    cadence = r.choice(top.get("cadence", "weekly"), "cadence", CADENCES)
    provider = r.string(top.get("provider_name", "CometAPI"), "provider_name")
    db_url = r.string(top.get("database_url", "sqlite:///tokenreview.db"), "database_url")
    db_url = _absolute_sqlite_url(resolve_database_url(db_url, database_url), path.parent)

    logs = r.mapping(
        top.get("request_logs"),
        "request_logs",
        {"kind", "path", "url", "token_env", "max_tries", "timeout_s"},
    )
    kind = r.choice(logs.get("kind", "files"), "request_logs.kind", ("files", "http"))
    if kind == "files":
        extra = sorted(set(logs) - {"kind", "path"})
        if extra:
            raise r.fail(f"request_logs.{extra[0]}", "not allowed for kind: files")
        if "path" not in logs:
            raise r.fail("request_logs.path", "required for kind: files")
        request_logs: FilesLogSource | HttpLogSource = FilesLogSource(
            r.local_path(logs["path"], "request_logs.path")
        )
    else:
        if "path" in logs:
            raise r.fail("request_logs.path", "not allowed for kind: http")
        url = r.string(logs.get("url"), "request_logs.url")
        if not url.startswith(("http://", "https://")):
            raise r.fail("request_logs.url", "expected an http:// or https:// URL")
        token_env = logs.get("token_env")
        if token_env is not None:
            token_env = r.string(token_env, "request_logs.token_env")
        request_logs = HttpLogSource(
            url=url,
            token_env=token_env,
            max_tries=r.integer(logs.get("max_tries", 5), "request_logs.max_tries", 1),
            timeout_s=r.number(logs.get("timeout_s", 30.0), "request_logs.timeout_s", 0.001),
        )

    if "allocation_rules" not in top:
        raise r.fail("allocation_rules", "required")
    pricing_raw = r.mapping(top.get("pricing"), "pricing", {"url", "format", "max_age_days"})
    if "url" not in pricing_raw:
        raise r.fail("pricing.url", "required")
    pricing = PricingConfig(
        url=r.string(pricing_raw["url"], "pricing.url"),
        format=r.choice(
            pricing_raw.get("format", "tokenreview"), "pricing.format", PRICING_FORMATS
        ),
        max_age_days=r.integer(pricing_raw.get("max_age_days", 30), "pricing.max_age_days"),
    )

    th_raw = r.mapping(top.get("thresholds"), "thresholds", set(Thresholds.__dataclass_fields__))
    d = Thresholds()
    thresholds = Thresholds(
        min_sample_size=r.integer(
            th_raw.get("min_sample_size", d.min_sample_size), "thresholds.min_sample_size"
        ),
        max_unknown_retry_share=r.number(
            th_raw.get("max_unknown_retry_share", d.max_unknown_retry_share),
            "thresholds.max_unknown_retry_share",
        ),
        max_source_age_days=r.integer(
            th_raw.get("max_source_age_days", d.max_source_age_days),
            "thresholds.max_source_age_days",
        ),
        client_timeout_ms=r.integer(
            th_raw.get("client_timeout_ms", d.client_timeout_ms), "thresholds.client_timeout_ms"
        ),
        fingerprint_window_s=r.integer(
            th_raw.get("fingerprint_window_s", d.fingerprint_window_s),
            "thresholds.fingerprint_window_s",
        ),
        retry_span_s=r.integer(
            th_raw.get("retry_span_s", d.retry_span_s), "thresholds.retry_span_s"
        ),
    )
    if thresholds.max_unknown_retry_share > 1:
        raise r.fail("thresholds.max_unknown_retry_share", "expected a share between 0 and 1")

    first_cycle = top.get("first_cycle", DEFAULT_FIRST_CYCLE)
    if isinstance(first_cycle, str):
        try:
            first_cycle = date.fromisoformat(first_cycle)
        except ValueError:
            raise r.fail("first_cycle", "expected a date YYYY-MM-DD") from None
    if not isinstance(first_cycle, date):
        raise r.fail("first_cycle", "expected a date YYYY-MM-DD")

    def optional_path(key: str) -> Path | None:
        value = top.get(key)
        return None if value is None else r.local_path(value, key)

    return TokenreviewConfig(
        path=path,
        cadence=cadence,
        provider_name=provider,
        database_url=db_url,
        request_logs=request_logs,
        allocation_rules=r.local_path(top["allocation_rules"], "allocation_rules"),
        pricing=pricing,
        maintenance_windows=optional_path("maintenance_windows"),
        known_sources=optional_path("known_sources"),
        evidence_sources=optional_path("evidence_sources"),
        thresholds=thresholds,
        unit_metric=r.choice(
            top.get("unit_metric", "cost_per_1k_tokens"), "unit_metric", UNIT_METRICS
        ),
        first_cycle=first_cycle,
    )


def _absolute_sqlite_url(url: str, base_dir: Path) -> str:
    """A relative SQLite file path is relative to the config file, like every other path."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            if rest and not rest.startswith("/") and not rest.startswith(":memory:"):
                return prefix + str((base_dir / rest).resolve())
    return url


def default_config_path() -> Path:
    """The config ``dagster dev`` loads: ``$TOKENREVIEW_CONFIG``, else ``./tokenreview.yaml``,
    else the bundled sample so a fresh clone opens a working code location."""
    env = os.environ.get(CONFIG_PATH_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / "tokenreview.yaml"
    if local.is_file():
        return local
    return Path(__file__).parent / "sample" / "tokenreview.yaml"
