"""Load and validate ``tokenreview.yaml`` (SPEC section 3).

One pydantic model per block of SPEC 3 (with the input formats of 2.7, budgets 2.8 and
billing 2.9): every key is known here with its default and its bounds. Unknown keys
are errors (a typo must not be silently ignored), ints are ints (``3.5`` or ``1e20`` is
not a number of seconds), and every error names the file and the key
(:mod:`tokenreview_pipeline.schema`). Paths are resolved relative to the config file.
The database URL comes from, in order: an explicit override (``--database-url``), the
environment variable ``TOKENREVIEW_DATABASE_URL``, the config's ``database_url``.

:func:`load_review_inputs` loads every rule file the config names, so a run refuses a
bad configuration before it reads any data.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationInfo,
    create_model,
    model_validator,
)

from tokenreview_pipeline.allocation import AllocationRule, load_allocation_rules
from tokenreview_pipeline.budgets import BudgetPlan, load_budgets
from tokenreview_pipeline.contract import FIELD_NAMES, REQUIRED_FIELDS
from tokenreview_pipeline.cycles import CycleError, parse_cycle
from tokenreview_pipeline.errors import ConfigError, clipped, describe, load_yaml_file, shown
from tokenreview_pipeline.maintenance import Window, load_maintenance_windows
from tokenreview_pipeline.schema import (
    FileModel,
    HttpUrl,
    IsoDate,
    NonEmptyStr,
    Share,
    invalid,
    non_empty_str,
    null_as,
    one_of,
    validate_document,
)
from tokenreview_pipeline.sources import (
    EvidenceSource,
    KnownSources,
    load_evidence_sources,
    load_known_sources,
)

__all__ = [
    "CADENCES",
    "CONFIG_PATH_ENV",
    "DATABASE_URL_ENV",
    "DEFAULT_FIRST_CYCLE",
    "LOG_FORMATS",
    "LOG_SOURCE_KINDS",
    "PRICING_FORMATS",
    "TIMESTAMP_FORMATS",
    "UNIT_METRICS",
    "USAGE_STYLES",
    "BillingConfig",
    "DatabaseLogSource",
    "FilesLogSource",
    "HttpLogSource",
    "LogSource",
    "MappedFields",
    "MappedUsage",
    "PricingConfig",
    "ReviewInputs",
    "Thresholds",
    "TokenreviewConfig",
    "default_config_path",
    "load_config",
    "load_review_inputs",
    "resolve_database_url",
    "split_dotted_path",
]

DATABASE_URL_ENV = "TOKENREVIEW_DATABASE_URL"
CONFIG_PATH_ENV = "TOKENREVIEW_CONFIG"

Cadence = Literal["daily", "weekly", "monthly"]
UnitMetric = Literal["cost_per_1k_tokens", "cost_per_successful_request"]
PricingFormat = Literal["tokenreview", "litellm"]
LogFormat = Literal["tokenreview", "litellm_spendlogs", "mapped", "otlp_json"]
TimestampFormat = Literal["iso", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns"]
UsageStyle = Literal["openai_chat", "openai_responses", "anthropic"]

CADENCES: tuple[str, ...] = get_args(Cadence)
UNIT_METRICS: tuple[str, ...] = get_args(UnitMetric)
PRICING_FORMATS: tuple[str, ...] = get_args(PricingFormat)
LOG_FORMATS: tuple[str, ...] = get_args(LogFormat)
TIMESTAMP_FORMATS: tuple[str, ...] = get_args(TimestampFormat)
USAGE_STYLES: tuple[str, ...] = get_args(UsageStyle)

# Project decision (the SPEC is silent): cycles are Dagster partitions, which need a
# first partition. 2024-01-01 is a Monday, so it is a valid start for every cadence.
DEFAULT_FIRST_CYCLE = date(2024, 1, 1)
# Earlier first cycles would only make Dagster list decades of empty partitions.
EARLIEST_FIRST_CYCLE = date(2000, 1, 1)

_MAX_PATH_CHARS = 1024


# ------------------------------------------------------------------- field types


def _config_path(value: object, info: ValidationInfo) -> Path:
    """A local path; relative to the config file's folder (``base_dir`` in the context)."""
    text = non_empty_str(os.fspath(value) if isinstance(value, Path) else value)
    if "\x00" in text:
        raise invalid("a path cannot contain a NUL character")
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # ~user that does not exist, or no home directory
        raise invalid(f"cannot expand '~' in {shown(text)}") from None
    base = (info.context or {}).get("base_dir")
    return path if path.is_absolute() or base is None else Path(base) / path


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


def _env_var_name(value: object) -> str:
    # The value is never shown: a token pasted here by mistake must not reach a log.
    if not isinstance(value, str):
        raise invalid(f"expected the name of an environment variable, got {describe(value)}")
    if not _ENV_NAME.fullmatch(value):
        raise invalid(
            "expected the name of an environment variable (letters, digits and _, not "
            "starting with a digit); the secret itself belongs in that variable"
        )
    return value


def split_dotted_path(text: str) -> tuple[str, ...]:
    """``request.headers.x-id`` -> ``("request", "headers", "x-id")`` (SPEC 2.7).

    ``\\.`` is a dot inside a key and ``\\\\`` a backslash; any other backslash is
    itself. Raises ``ValueError`` for an empty key (``a..b``, a leading or trailing dot).
    """
    keys: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] in (".", "\\"):
            current.append(text[i + 1])
            i += 2
            continue
        if char == ".":
            keys.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    keys.append("".join(current))
    if "" in keys:
        raise ValueError(f"empty key in dotted path {shown(text)}")
    return tuple(keys)


def _dotted_path(value: object) -> tuple[str, ...]:
    if isinstance(value, tuple) and value and all(isinstance(k, str) and k for k in value):
        return value  # already split (a model built in Python)
    if not isinstance(value, str):
        raise invalid(f"expected a dotted path string, got {describe(value)}")
    try:
        keys = split_dotted_path(value) if len(value) <= _MAX_PATH_CHARS else ()
    except ValueError:
        keys = ()
    if not keys:
        raise invalid(
            f"expected a dotted path such as request.body.model, got {shown(value)} "
            f"(no empty key, at most {_MAX_PATH_CHARS} characters; a dot inside a key "
            "is written \\.)"
        )
    return keys


ConfigPath = Annotated[Path, PlainValidator(_config_path)]
EnvVarName = Annotated[str, PlainValidator(_env_var_name)]
DottedPath = Annotated[tuple[str, ...], PlainValidator(_dotted_path)]
"""A dotted path into a source record, stored as its keys."""


# ------------------------------------------------------------ request_logs (2.7)


class MappedUsage(FileModel):
    """``usage`` of the ``mapped`` format: where the usage object is, and its shape."""

    path: DottedPath
    style: UsageStyle


class _FieldMap(FileModel):
    key_kind: ClassVar[str] = "2.1 field (tags are mapped by tags / tags_from)"

    def paths(self) -> dict[str, tuple[str, ...]]:
        """The mapped 2.1 fields, ``{field: keys of its path}``."""
        return {name: keys for name, keys in self if keys is not None}


# The 2.1 field names are declared once, in extract/records.py; the required ones must
# be mapped. `tags` has its own keys (a tag -> path map, and tags_from).
MappedFields = create_model(
    "MappedFields",
    __base__=_FieldMap,
    __doc__="``fields`` of the ``mapped`` format: 2.1 field name -> dotted path.",
    **{
        name: (DottedPath, ...) if name in REQUIRED_FIELDS else (DottedPath | None, None)
        for name in FIELD_NAMES
        if name != "tags"
    },
)

_MAPPED_KEYS = ("timestamp_format", "usage", "fingerprint", "fields", "tags", "tags_from")


class _LogSource(FileModel):
    """What every ``request_logs`` kind takes: the input format and its options."""

    # The formats a kind can read (SPEC 2.7: the database kind is LiteLLM's table).
    formats: ClassVar[tuple[str, ...]] = LOG_FORMATS

    kind: str
    format: LogFormat = "tokenreview"
    # `mapped` only:
    timestamp_format: TimestampFormat = "iso"
    usage: MappedUsage | None = None
    fingerprint: DottedPath | None = None
    fields: MappedFields | None = None  # type: ignore[valid-type]
    tags: Annotated[dict[NonEmptyStr, DottedPath], null_as({})] = Field(default_factory=dict)
    tags_from: DottedPath | None = None

    @model_validator(mode="after")
    def _format_options(self) -> _LogSource:
        if self.format not in self.formats:
            got = shown(self.format) if "format" in self.model_fields_set else "none (tokenreview)"
            raise invalid(
                f"kind {self.kind} reads only format {', '.join(self.formats)}, got {got}",
                "format",
            )
        if self.format != "mapped":
            for key in _MAPPED_KEYS:
                if key in self.model_fields_set:
                    raise invalid(f"allowed only with format: mapped, not {self.format}", key)
        elif self.fields is None:
            raise invalid("required with format: mapped", "fields")
        return self


class FilesLogSource(_LogSource):
    """``{kind: files, path}``: a folder of log files (SPEC 2.1)."""

    kind: Literal["files"] = "files"
    path: ConfigPath


class HttpLogSource(_LogSource):
    """``{kind: http, url, token_env, max_tries, timeout_s}``: the export API (SPEC 2.6)."""

    kind: Literal["http"] = "http"
    url: HttpUrl
    token_env: EnvVarName | None = None
    max_tries: int = Field(5, ge=1, le=100)
    # the total deadline of one page's fetch (not per network read)
    timeout_s: float = Field(30.0, gt=0.0, le=3600.0)
    max_page_bytes: int = Field(256 * 1024 * 1024, ge=1024, le=4 * 1024**3)


class DatabaseLogSource(_LogSource):
    """``{kind: database, url_env, format: litellm_spendlogs}``: LiteLLM's
    ``LiteLLM_SpendLogs`` table, at the SQLAlchemy URL held by the variable ``url_env``."""

    formats: ClassVar[tuple[str, ...]] = ("litellm_spendlogs",)

    kind: Literal["database"] = "database"
    url_env: EnvVarName


LogSource = FilesLogSource | HttpLogSource | DatabaseLogSource
_LOG_SOURCES: dict[str, type[_LogSource]] = {
    "files": FilesLogSource,
    "http": HttpLogSource,
    "database": DatabaseLogSource,
}
LOG_SOURCE_KINDS = tuple(_LOG_SOURCES)


def _log_source_model(raw: dict[Any, Any]) -> type[_LogSource]:
    kind = raw.get("kind", "files")
    model = _LOG_SOURCES.get(kind) if isinstance(kind, str) else None
    if model is None:
        expected = ", ".join(repr(k) for k in LOG_SOURCE_KINDS)
        raise invalid(f"expected one of {expected}, got {shown(kind)}", "kind")
    return model


# ------------------------------------------------------------------ other blocks


class PricingConfig(FileModel):
    null_is_empty: ClassVar[bool] = True

    url: NonEmptyStr  # as written: the snapshot's source_url fallback (SPEC 2.3)
    format: PricingFormat = "tokenreview"
    max_age_days: int = Field(30, ge=0, le=3650)
    # the total deadline of the fetch (not per network read) and its size cap
    timeout_s: float = Field(30.0, gt=0.0, le=3600.0)
    max_bytes: int = Field(64 * 1024 * 1024, ge=1024, le=1024**3)


class Thresholds(FileModel):
    null_is_empty: ClassVar[bool] = True

    min_sample_size: int = Field(1, ge=0, le=1_000_000_000)
    max_unknown_retry_share: Share = 0.0
    max_source_age_days: int = Field(90, ge=0, le=3650)
    client_timeout_ms: int = Field(60_000, ge=1, le=3_600_000)
    fingerprint_window_s: int = Field(300, ge=0, le=86_400)
    retry_span_s: int = Field(3600, ge=0, le=604_800)
    max_billing_gap_share: Share = 0.05


class BillingConfig(FileModel):
    """``billing: {path}``: a folder of the provider's usage CSV files (SPEC 2.9)."""

    path: ConfigPath


class AlertsConfig(FileModel):
    """``alerts: {webhook_url_env, ui_base_url, timeout_s, max_tries}`` (ours, README): after
    a cycle's run, a Slack-compatible JSON summary is POSTed to the webhook whose URL is
    in the environment variable ``webhook_url_env`` (the URL carries a secret: never in
    the file, never logged). ``ui_base_url`` is the Dagster UI the message links to."""

    webhook_url_env: EnvVarName
    ui_base_url: HttpUrl | None = None
    timeout_s: float = Field(10.0, gt=0, le=300)
    max_tries: int = Field(3, ge=1, le=10)


class TokenreviewConfig(FileModel):
    """``tokenreview.yaml``. ``path`` is the file read; every path in it is absolute."""

    null_is_empty: ClassVar[bool] = True

    cadence: Cadence = "weekly"
    provider_name: NonEmptyStr = "CometAPI"
    database_url: NonEmptyStr = "sqlite:///tokenreview.db"
    request_logs: Annotated[LogSource, one_of(_log_source_model)]
    allocation_rules: ConfigPath
    pricing: PricingConfig
    maintenance_windows: ConfigPath | None = None
    known_sources: ConfigPath | None = None
    evidence_sources: ConfigPath | None = None
    thresholds: Thresholds = Field(default_factory=Thresholds)
    unit_metric: UnitMetric = "cost_per_1k_tokens"
    budgets: ConfigPath | None = None
    billing: BillingConfig | None = None
    first_cycle: IsoDate = DEFAULT_FIRST_CYCLE  # ours (README): Dagster's first partition
    # ours (README): how long a run waits for another run of the same cycle to finish
    # before it is refused (0: refused at once, naming the running one).
    cycle_lock_wait_s: int = Field(0, ge=0, le=86_400)
    alerts: AlertsConfig | None = None  # ours (README): the cycle alert webhook

    _path: Path = PrivateAttr(default=Path("tokenreview.yaml"))

    @property
    def path(self) -> Path:
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent

    @model_validator(mode="after")
    def _first_cycle_is_a_cycle_start(self) -> TokenreviewConfig:
        if self.first_cycle < EARLIEST_FIRST_CYCLE:
            raise invalid(
                f"expected {EARLIEST_FIRST_CYCLE} or later, got {self.first_cycle}", "first_cycle"
            )
        try:
            parse_cycle(self.first_cycle.isoformat(), self.cadence)
        except CycleError as exc:
            raise invalid(str(exc), "first_cycle") from None
        return self


# ------------------------------------------------------------------------ loading


def resolve_database_url(config_url: str, override: str | None = None) -> str:
    """``--database-url`` wins over ``TOKENREVIEW_DATABASE_URL`` wins over the config."""
    return override or os.environ.get(DATABASE_URL_ENV) or config_url


def load_config(path: str | os.PathLike, *, database_url: str | None = None) -> TokenreviewConfig:
    """Read and validate ``tokenreview.yaml``; raises ``ConfigError`` naming file and key."""
    path = Path(path).resolve()
    config = validate_document(
        TokenreviewConfig, load_yaml_file(path), path, context={"base_dir": path.parent}
    )
    url = _absolute_sqlite_url(resolve_database_url(config.database_url, database_url), path.parent)
    config = config.model_copy(update={"database_url": url})
    config._path = path
    return config


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


# ----------------------------------------------------------------- review inputs


@dataclass(frozen=True)
class ReviewInputs:
    """Every rule file a config names, loaded and validated."""

    allocation_rules: list[AllocationRule]
    maintenance_windows: list[Window]
    known_sources: KnownSources
    evidence_sources: list[EvidenceSource]
    budgets: BudgetPlan = BudgetPlan()


def _require(config: TokenreviewConfig, key: str, path: Path, *, folder: bool = False) -> None:
    what = "folder" if folder else "file"
    try:
        if path.is_dir() if folder else path.is_file():
            return
        problem = f"not a {what}" if path.exists() else f"{what} not found"
    except OSError as exc:
        problem = f"cannot access the {what}: {exc.strerror or type(exc).__name__}"
    raise ConfigError(config.path, key, f"{problem}: {clipped(str(path), 300)}")


def load_review_inputs(config: TokenreviewConfig) -> ReviewInputs:
    """Load every file the config names and check every path it gives, before any data
    is read: a missing file, or a rule file with an error, raises ``ConfigError``.

    The budgets file is validated for the config's cadence (its change requests name
    cycle starts). The billing folder is only checked to exist: its CSV files are data,
    read (and their rows checked) by the billed-usage asset. ``known_sources`` keeps its
    documented meaning: a missing file is "nothing configured".
    """
    if isinstance(config.request_logs, FilesLogSource):
        _require(config, "request_logs.path", config.request_logs.path, folder=True)
    _require(config, "allocation_rules", config.allocation_rules)
    for key in ("maintenance_windows", "evidence_sources", "budgets"):
        path = getattr(config, key)
        if path is not None:
            _require(config, key, path)
    if config.billing is not None:
        _require(config, "billing.path", config.billing.path, folder=True)
    return ReviewInputs(
        allocation_rules=load_allocation_rules(config.allocation_rules),
        maintenance_windows=(
            load_maintenance_windows(config.maintenance_windows)
            if config.maintenance_windows
            else []
        ),
        known_sources=load_known_sources(config.known_sources),
        evidence_sources=(
            load_evidence_sources(config.evidence_sources) if config.evidence_sources else []
        ),
        budgets=load_budgets(config.budgets, config.cadence),
    )
