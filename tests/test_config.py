"""Config loading (SPEC 3): defaults, relative paths, overrides, errors naming key and file."""

import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from scenario import CYCLE, attempt, ts, write_scenario
from yaml_bombs import list_bomb, mapping_bomb, merge_bomb

from tokenreview_pipeline.cli import main
from tokenreview_pipeline.config import (
    CADENCES,
    DATABASE_URL_ENV,
    DEFAULT_FIRST_CYCLE,
    LOG_FORMATS,
    LOG_SOURCE_KINDS,
    UNIT_METRICS,
    DatabaseLogSource,
    FilesLogSource,
    HttpLogSource,
    MappedFields,
    Thresholds,
    load_config,
    load_review_inputs,
    split_dotted_path,
)
from tokenreview_pipeline.errors import ConfigError
from tokenreview_pipeline.extract.records import FIELD_NAMES, REQUIRED_FIELDS
from tokenreview_pipeline.schema import error_location_and_message, key_path

MINIMAL = {
    "request_logs": {"kind": "files", "path": "logs"},
    "allocation_rules": "rules.yaml",
    "pricing": {"url": "pricing.json"},
}


def write(tmp_path: Path, data: dict, name: str = "tokenreview.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_defaults_and_relative_paths(tmp_path, monkeypatch):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.cadence == "weekly"
    assert cfg.provider_name == "CometAPI"
    assert cfg.unit_metric == "cost_per_1k_tokens"
    assert cfg.pricing.format == "tokenreview" and cfg.pricing.max_age_days == 30
    t = cfg.thresholds
    assert (t.min_sample_size, t.max_unknown_retry_share, t.max_source_age_days) == (1, 0.0, 90)
    assert (t.client_timeout_ms, t.fingerprint_window_s, t.retry_span_s) == (60000, 300, 3600)
    assert isinstance(cfg.request_logs, FilesLogSource)
    assert cfg.request_logs.path == tmp_path.resolve() / "logs"
    assert cfg.allocation_rules == tmp_path.resolve() / "rules.yaml"
    assert cfg.known_sources is None
    # a relative SQLite file is relative to the config file, like every other path
    assert cfg.database_url == f"sqlite:///{tmp_path.resolve() / 'tokenreview.db'}"


def test_database_url_precedence(tmp_path, monkeypatch):
    path = write(tmp_path, {**MINIMAL, "database_url": "sqlite:////tmp/from-config.db"})
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    assert load_config(path).database_url == "sqlite:////tmp/from-config.db"
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql+psycopg2://u@h/env")
    assert load_config(path).database_url == "postgresql+psycopg2://u@h/env"
    flag = "postgresql+psycopg2://u@h/flag"
    assert load_config(path, database_url=flag).database_url == flag


def test_http_source(tmp_path):
    data = {
        **MINIMAL,
        "request_logs": {
            "kind": "http",
            "url": "http://127.0.0.1:8080/logs",
            "token_env": "LOGS_TOKEN",
            "max_tries": 3,
        },
    }
    source = load_config(write(tmp_path, data)).request_logs
    assert isinstance(source, HttpLogSource)
    assert (source.url, source.token_env, source.max_tries) == (
        "http://127.0.0.1:8080/logs",
        "LOGS_TOKEN",
        3,
    )


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"cadance": "weekly"}, "cadance"),
        ({"cadence": "hourly"}, "cadence"),
        ({"thresholds": {"retry_spam_s": 5}}, "thresholds.retry_spam_s"),
        ({"thresholds": {"min_sample_size": -1}}, "thresholds.min_sample_size"),
        ({"thresholds": {"max_unknown_retry_share": 2}}, "thresholds.max_unknown_retry_share"),
        ({"pricing": {"url": "p.json", "format": "csv"}}, "pricing.format"),
        ({"pricing": {"format": "litellm"}}, "pricing.url"),
        ({"unit_metric": "cost_per_token"}, "unit_metric"),
        ({"request_logs": {"kind": "ftp"}}, "request_logs.kind"),
        ({"request_logs": {"kind": "files"}}, "request_logs.path"),
        ({"request_logs": {"kind": "http", "url": "ftp://x"}}, "request_logs.url"),
        ({"first_cycle": "soon"}, "first_cycle"),
    ],
)
def test_errors_name_key_and_file(tmp_path, patch, key):
    path = write(tmp_path, {**MINIMAL, **patch})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key
    assert str(path.resolve()) in str(err.value)


def test_missing_required_and_missing_file(tmp_path):
    data = dict(MINIMAL)
    del data["allocation_rules"]
    with pytest.raises(ConfigError, match="allocation_rules: required"):
        load_config(write(tmp_path, data))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")


def test_duplicate_yaml_key_is_an_error(tmp_path):
    path = tmp_path / "tokenreview.yaml"
    path.write_text(
        "cadence: weekly\ncadence: daily\nallocation_rules: r.yaml\n"
        "request_logs: {kind: files, path: logs}\npricing: {url: p.json}\n"
    )
    with pytest.raises(ConfigError, match="duplicate key"):
        load_config(path)


# ---------------------------------------------------------------- SPEC 3 keys

SPEC_3_EXAMPLE = """\
cadence: weekly                 # daily | weekly | monthly
provider_name: CometAPI         # the API provider, for exports
database_url: sqlite:///tokenreview.db
request_logs: {kind: files, path: data/request_logs}
allocation_rules: allocation_rules.yaml
pricing: {url: pricing.json, format: tokenreview, max_age_days: 30}
maintenance_windows: maintenance_windows.yaml
known_sources: known_sources.yaml          # optional
evidence_sources: evidence_sources.yaml
thresholds:
  min_sample_size: 1
  max_unknown_retry_share: 0.0
  max_source_age_days: 90
  client_timeout_ms: 60000
  fingerprint_window_s: 300
  retry_span_s: 3600
  max_billing_gap_share: 0.05
unit_metric: cost_per_1k_tokens            # or cost_per_successful_request
budgets: budgets.yaml                      # optional (2.8)
billing: {path: billing}                   # optional (2.9)
"""


def test_spec_3_example_every_key(tmp_path, monkeypatch):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    path = tmp_path / "tokenreview.yaml"
    path.write_text(SPEC_3_EXAMPLE)
    cfg = load_config(path)
    base = tmp_path.resolve()
    assert (cfg.path, cfg.base_dir) == (base / "tokenreview.yaml", base)
    assert cfg.request_logs == FilesLogSource(path=base / "data" / "request_logs")
    assert cfg.request_logs.format == "tokenreview"
    assert (cfg.maintenance_windows, cfg.known_sources, cfg.evidence_sources) == (
        base / "maintenance_windows.yaml",
        base / "known_sources.yaml",
        base / "evidence_sources.yaml",
    )
    assert cfg.thresholds.max_billing_gap_share == 0.05
    assert cfg.budgets == base / "budgets.yaml"
    assert cfg.billing is not None and cfg.billing.path == base / "billing"
    assert cfg.first_cycle == DEFAULT_FIRST_CYCLE


def test_new_keys_default_and_absolute_paths_stay(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.thresholds.max_billing_gap_share == 0.05
    assert (cfg.budgets, cfg.billing, cfg.maintenance_windows) == (None, None, None)
    absolute = load_config(write(tmp_path, {**MINIMAL, "budgets": "/srv/tr/budgets.yaml"}))
    assert absolute.budgets == Path("/srv/tr/budgets.yaml")


def test_null_blocks_mean_defaults(tmp_path):
    cfg = load_config(write(tmp_path, {**MINIMAL, "thresholds": None}))
    assert cfg.thresholds == Thresholds()
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, {**MINIMAL, "pricing": None}))
    assert (err.value.key, err.value.message) == ("pricing.url", "required")


def test_vocabularies_are_the_literals():
    assert CADENCES == ("daily", "weekly", "monthly")
    assert UNIT_METRICS == ("cost_per_1k_tokens", "cost_per_successful_request")
    assert LOG_FORMATS == ("tokenreview", "litellm_spendlogs", "mapped", "otlp_json")
    assert LOG_SOURCE_KINDS == ("files", "http", "database")


# ------------------------------------------------------- request_logs kind x format

MAPPED_FIELDS = {
    "attempt_id": "id",
    "timestamp": "ts",
    "api_key_id": "auth.key_id",
    "model": "request.body.model",
    "endpoint": "request.path",
}
KINDS = {
    "files": {"kind": "files", "path": "logs"},
    "http": {"kind": "http", "url": "http://127.0.0.1:8080/logs", "token_env": "LOGS_TOKEN"},
    "database": {"kind": "database", "url_env": "LITELLM_DB_URL"},
}
ACCEPTED = [
    (kind, fmt)
    for kind in ("files", "http")
    for fmt in ("tokenreview", "litellm_spendlogs", "mapped", "otlp_json")
] + [("database", "litellm_spendlogs")]
REJECTED = [("database", fmt) for fmt in ("tokenreview", "mapped", "otlp_json")]


def logs(kind: str, fmt: str | None = None, **extra) -> dict:
    source = dict(KINDS[kind])
    if fmt is not None:
        source["format"] = fmt
    if fmt == "mapped" and "fields" not in extra:
        source["fields"] = MAPPED_FIELDS
    return {**MINIMAL, "request_logs": {**source, **extra}}


@pytest.mark.parametrize(("kind", "fmt"), ACCEPTED)
def test_kind_and_format_accepted(tmp_path, kind, fmt):
    source = load_config(write(tmp_path, logs(kind, fmt))).request_logs
    expected_type = {
        "files": FilesLogSource,
        "http": HttpLogSource,
        "database": DatabaseLogSource,
    }[kind]
    assert isinstance(source, expected_type)
    assert (source.kind, source.format) == (kind, fmt)


@pytest.mark.parametrize(("kind", "fmt"), [*REJECTED, ("database", None)])
def test_database_kind_reads_only_litellm_spendlogs(tmp_path, kind, fmt):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, logs(kind, fmt)))
    assert err.value.key == "request_logs.format"
    assert "litellm_spendlogs" in err.value.message


def test_database_source(tmp_path):
    source = load_config(write(tmp_path, logs("database", "litellm_spendlogs"))).request_logs
    assert isinstance(source, DatabaseLogSource) and source.url_env == "LITELLM_DB_URL"


@pytest.mark.parametrize(
    "key", ["timestamp_format", "usage", "fingerprint", "fields", "tags", "tags_from"]
)
@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("files", None),
        ("http", "otlp_json"),
        ("files", "litellm_spendlogs"),
        ("database", "litellm_spendlogs"),
    ],
)
def test_mapped_keys_only_with_format_mapped(tmp_path, key, kind, fmt):
    value = {
        "timestamp_format": "epoch_ms",
        "usage": {"path": "usage", "style": "openai_chat"},
        "fingerprint": "request.body.messages",
        "fields": MAPPED_FIELDS,
        "tags": {"team": "meta.team"},
        "tags_from": "meta.labels",
    }[key]
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, logs(kind, fmt, **{key: value})))
    assert err.value.key == f"request_logs.{key}"
    assert "only with format: mapped" in err.value.message


def test_mapped_format_spec_example(tmp_path):
    spec_fields = {
        **MAPPED_FIELDS,
        "request_id": "request.headers.idempotency-key",
        "client_retry_count": "request.headers.x-stainless-retry-count",
        "status_code": "response.status",
        "latency_ms": "duration_ms",
    }
    data = logs(
        "files",
        "mapped",
        fields=spec_fields,
        timestamp_format="epoch_ms",
        usage={"path": "response.body.usage", "style": "anthropic"},
        fingerprint="request.body.messages",
        tags={"team": "meta.team", "project": "meta.project"},
        tags_from=r"meta.labels\.v1",
    )
    source = load_config(write(tmp_path, data)).request_logs
    assert source.timestamp_format == "epoch_ms"
    assert (source.usage.path, source.usage.style) == (("response", "body", "usage"), "anthropic")
    assert source.fingerprint == ("request", "body", "messages")
    assert source.tags == {"team": ("meta", "team"), "project": ("meta", "project")}
    assert source.tags_from == ("meta", "labels.v1")
    paths = source.fields.paths()
    assert paths["request_id"] == ("request", "headers", "idempotency-key")
    assert set(paths) == set(spec_fields)
    # defaults of the mapped options
    plain = load_config(write(tmp_path, logs("files", "mapped"))).request_logs
    assert (plain.timestamp_format, plain.usage, plain.tags, plain.tags_from) == (
        "iso",
        None,
        {},
        None,
    )


@pytest.mark.parametrize("missing", REQUIRED_FIELDS)
def test_mapped_required_fields(tmp_path, missing):
    fields = {k: v for k, v in MAPPED_FIELDS.items() if k != missing}
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, logs("files", "mapped", fields=fields)))
    assert (err.value.key, err.value.message) == (f"request_logs.fields.{missing}", "required")


def test_mapped_fields_are_the_2_1_names(tmp_path):
    assert set(MappedFields.model_fields) == set(FIELD_NAMES) - {"tags"}


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        (
            {"fields": {**MAPPED_FIELDS, "prompt": "body.prompt"}},
            "request_logs.fields.prompt",
            "unknown 2.1 field",
        ),
        ({"fields": {**MAPPED_FIELDS, "tags": "meta"}}, "request_logs.fields.tags", "tags_from"),
        (
            {"fields": {**MAPPED_FIELDS, "model": "a..b"}},
            "request_logs.fields.model",
            "dotted path",
        ),
        ({"fields": {**MAPPED_FIELDS, "model": ".a"}}, "request_logs.fields.model", "dotted path"),
        ({"fields": {**MAPPED_FIELDS, "model": 5}}, "request_logs.fields.model", "got an integer"),
        ({"fields": ["id"]}, "request_logs.fields", "expected a mapping, got a list"),
        ({"fields": None}, "request_logs.fields", "required with format: mapped"),
        ({"timestamp_format": "epoch_min"}, "request_logs.timestamp_format", "'epoch_ms'"),
        ({"usage": {"path": "u"}}, "request_logs.usage.style", "required"),
        ({"usage": {"path": "u", "style": "gemini"}}, "request_logs.usage.style", "'anthropic'"),
        (
            {"usage": {"path": "u", "style": "anthropic", "x": 1}},
            "request_logs.usage.x",
            "unknown key",
        ),
        ({"tags": {"team": ""}}, "request_logs.tags.team", "dotted path"),
        ({"tags": {"": "a"}}, "request_logs.tags.''", "invalid key: expected a non-empty"),
        ({"tags_from": ["a"]}, "request_logs.tags_from", "got a list"),
    ],
)
def test_mapped_option_errors(tmp_path, extra, key, fragment):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, logs("files", "mapped", **extra)))
    assert err.value.key == key
    assert fragment in err.value.message


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("id", ("id",)),
        ("request.headers.idempotency-key", ("request", "headers", "idempotency-key")),
        (r"meta.k8s\.io/name", ("meta", "k8s.io/name")),
        (r"a\\.b", ("a\\", "b")),
        (r"a\b", ("a\\b",)),
    ],
)
def test_split_dotted_path(text, keys):
    assert split_dotted_path(text) == keys


@pytest.mark.parametrize("text", ["", ".", "a.", ".a", "a..b", "a\\."])
def test_split_dotted_path_rejects_empty_keys(text):
    if text == "a\\.":
        assert split_dotted_path(text) == ("a.",)  # an escaped dot is not a separator
        return
    with pytest.raises(ValueError):
        split_dotted_path(text)


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ({"kind": "http"}, "request_logs.url"),
        ({"kind": "http", "url": "http://h/x", "path": "logs"}, "request_logs.path"),
        ({"kind": "files", "path": "logs", "url": "http://h/x"}, "request_logs.url"),
        ({"kind": "database"}, "request_logs.url_env"),
        (
            {"kind": "database", "url_env": "X", "format": "litellm_spendlogs", "url": "x"},
            "request_logs.url",
        ),
        ({"kind": "http", "url": "http://h/x", "max_tries": 0}, "request_logs.max_tries"),
        ({"kind": "http", "url": "http://h/x", "max_tries": 101}, "request_logs.max_tries"),
        ({"kind": "http", "url": "http://h/x", "max_tries": 2.0}, "request_logs.max_tries"),
        ({"kind": "http", "url": "http://h/x", "timeout_s": 0}, "request_logs.timeout_s"),
        ({"kind": "http", "url": "http://h/x", "timeout_s": 3601}, "request_logs.timeout_s"),
        ({"kind": "http", "url": "http://h/x", "timeout_s": "30"}, "request_logs.timeout_s"),
        ({"kind": "http", "url": "http://h/x", "token_env": "2FA"}, "request_logs.token_env"),
        ({"kind": "files", "path": ""}, "request_logs.path"),
        ({"kind": "files", "path": "lo\x00gs"}, "request_logs.path"),
        ({"kind": 5}, "request_logs.kind"),
        ("files", "request_logs"),
    ],
)
def test_request_logs_errors(tmp_path, source, key):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, {**MINIMAL, "request_logs": source}))
    assert err.value.key == key


def test_http_source_defaults_and_float_timeout(tmp_path):
    data = {**MINIMAL, "request_logs": {"kind": "http", "url": " https://h/x ", "timeout_s": 5}}
    source = load_config(write(tmp_path, data)).request_logs
    assert (source.url, source.token_env, source.max_tries) == ("https://h/x", None, 5)
    assert source.timeout_s == 5.0 and isinstance(source.timeout_s, float)


def test_secrets_and_urls_never_echoed(tmp_path):
    token = "sk-proj-" + "A1b2C3d4" * 4
    cases = [
        ({"kind": "http", "url": "http://h/x", "token_env": token}, "request_logs.token_env"),
        (
            {"kind": "database", "url_env": token, "format": "litellm_spendlogs"},
            "request_logs.url_env",
        ),
        ({"kind": "http", "url": f"ftp://user:{token}@h/x"}, "request_logs.url"),
    ]
    for source, key in cases:
        with pytest.raises(ConfigError) as err:
            load_config(write(tmp_path, {**MINIMAL, "request_logs": source}))
        assert err.value.key == key
        assert token not in str(err.value) and "user:" not in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, {**MINIMAL, "cadence": token}))
    assert token not in str(err.value) and "redacted_" in err.value.message


# ----------------------------------------------------------- bounds, ints, floats


@pytest.mark.parametrize(
    ("thresholds", "key", "fragment"),
    [
        ({"retry_span_s": 1e20}, "retry_span_s", "expected an integer, got 1e+20"),
        ({"retry_span_s": 3.5}, "retry_span_s", "expected an integer, got 3.5"),
        ({"retry_span_s": 3600.0}, "retry_span_s", "expected an integer"),
        ({"retry_span_s": "3600"}, "retry_span_s", "expected an integer, got '3600'"),
        ({"retry_span_s": True}, "retry_span_s", "expected an integer, got a boolean"),
        ({"retry_span_s": 10**40}, "retry_span_s", "<= 604800, got a huge integer"),
        ({"retry_span_s": 604_801}, "retry_span_s", "<= 604800"),
        ({"retry_span_s": -1}, "retry_span_s", ">= 0"),
        ({"fingerprint_window_s": 86_401}, "fingerprint_window_s", "<= 86400"),
        ({"client_timeout_ms": 0}, "client_timeout_ms", ">= 1"),
        ({"client_timeout_ms": 3_600_001}, "client_timeout_ms", "<= 3600000"),
        ({"min_sample_size": 1.5}, "min_sample_size", "expected an integer"),
        ({"min_sample_size": 10**9 + 1}, "min_sample_size", "<= 1000000000"),
        ({"max_source_age_days": 3651}, "max_source_age_days", "<= 3650"),
        ({"max_unknown_retry_share": -0.1}, "max_unknown_retry_share", ">= 0.0"),
        ({"max_unknown_retry_share": "0.1"}, "max_unknown_retry_share", "expected a number"),
        ({"max_billing_gap_share": 1.01}, "max_billing_gap_share", "<= 1.0"),
        ({"max_billing_gap_share": float("nan")}, "max_billing_gap_share", "finite"),
        ({"max_billing_gap_share": float("inf")}, "max_billing_gap_share", "finite"),
    ],
)
def test_threshold_bounds_and_types(tmp_path, thresholds, key, fragment):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, {**MINIMAL, "thresholds": thresholds}))
    assert err.value.key == f"thresholds.{key}"
    assert fragment in err.value.message


def test_bounds_are_inclusive_and_shares_take_ints(tmp_path):
    edges = {
        "min_sample_size": 0,
        "max_unknown_retry_share": 1,
        "max_source_age_days": 3650,
        "client_timeout_ms": 3_600_000,
        "fingerprint_window_s": 0,
        "retry_span_s": 604_800,
        "max_billing_gap_share": 0,
    }
    t = load_config(write(tmp_path, {**MINIMAL, "thresholds": edges})).thresholds
    assert t.retry_span_s == 604_800 and t.max_unknown_retry_share == 1.0
    assert isinstance(t.max_unknown_retry_share, float) and isinstance(t.retry_span_s, int)


@pytest.mark.parametrize(
    ("pricing", "key"),
    [
        ({"url": "p.json", "max_age_days": -1}, "pricing.max_age_days"),
        ({"url": "p.json", "max_age_days": 3651}, "pricing.max_age_days"),
        ({"url": "p.json", "max_age_days": 30.0}, "pricing.max_age_days"),
        ({"url": ""}, "pricing.url"),
        ({"url": "p.json", "refresh": "daily"}, "pricing.refresh"),
    ],
)
def test_pricing_errors(tmp_path, pricing, key):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, {**MINIMAL, "pricing": pricing}))
    assert err.value.key == key


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"budgets": 5}, "budgets"),
        ({"budgets": ""}, "budgets"),
        ({"billing": "billing"}, "billing"),
        ({"billing": {}}, "billing.path"),
        ({"billing": {"path": "b", "format": "csv"}}, "billing.format"),
        ({"first_cycle": "2024-01-03"}, "first_cycle"),  # a Wednesday
        ({"cadence": "monthly", "first_cycle": "2024-01-08"}, "first_cycle"),
        ({"first_cycle": "1999-12-27"}, "first_cycle"),
        ({"first_cycle": "2024-01-01T00:00:00Z"}, "first_cycle"),
        ({"provider_name": "  "}, "provider_name"),
        ({"database_url": None}, "database_url"),
    ],
)
def test_other_key_errors(tmp_path, patch, key):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, {**MINIMAL, **patch}))
    assert err.value.key == key


def test_first_cycle_is_a_cycle_start(tmp_path):
    daily = load_config(
        write(tmp_path, {**MINIMAL, "cadence": "daily", "first_cycle": "2025-03-05"})
    )
    assert daily.first_cycle == date(2025, 3, 5)
    path = tmp_path / "unquoted.yaml"
    path.write_text(write(tmp_path, MINIMAL).read_text() + "first_cycle: 2025-03-03\n")
    assert load_config(path).first_cycle == date(2025, 3, 3)  # a YAML date, a Monday
    with pytest.raises(ConfigError, match="nearest cycle start is 2024-01-01"):
        load_config(write(tmp_path, {**MINIMAL, "first_cycle": "2024-01-03"}))


# ---------------------------------------------------------------- hostile YAML


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (f"thresholds: {{retry_span_s: {list_bomb()}}}\n", "thresholds.retry_span_s", "got a list"),
        (f"cadence: {list_bomb()}\n", "cadence", "got a list"),
        (f"provider_name: {mapping_bomb()}\n", "provider_name", "got a mapping"),
        (f"thresholds: {mapping_bomb()}\n", "thresholds.k0", "unknown key"),
        (f"thresholds: {merge_bomb()}\n", "thresholds.k0", "unknown key"),
        (f"billing: {{path: {list_bomb()}}}\n", "billing.path", "got a list"),
    ],
)
def test_yaml_bomb_in_a_value_is_a_short_error(tmp_path, text, key, fragment):
    path = tmp_path / "tokenreview.yaml"
    path.write_text(
        "request_logs: {kind: files, path: logs}\nallocation_rules: r.yaml\n"
        "pricing: {url: p.json}\n" + text
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key
    assert fragment in err.value.message
    assert len(str(err.value)) < len(str(path)) + 300


def test_yaml_bomb_in_mapped_options(tmp_path):
    for extra in ({"fields": "BOMB"}, {"tags": "BOMB"}, {"usage": "BOMB"}):
        text = yaml.safe_dump(logs("files", "mapped", **extra)).replace("BOMB", mapping_bomb())
        path = tmp_path / "tokenreview.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert err.value.key.startswith(f"request_logs.{next(iter(extra))}")
        assert len(err.value.message) < 400  # bounded: at most the list of 2.1 field names


def test_unreadable_numbers_and_nesting_are_file_errors(tmp_path):
    for text, fragment in (
        (f"thresholds: {{retry_span_s: {'9' * 5000}}}\n", "too long"),
        ("thresholds: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ):
        path = tmp_path / "tokenreview.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert (err.value.key, fragment in err.value.message) == ("(file)", True)


def test_merge_keys_keep_yaml_semantics(tmp_path):
    path = tmp_path / "tokenreview.yaml"
    path.write_text(
        "request_logs: {kind: files, path: logs}\nallocation_rules: r.yaml\n"
        "pricing: {url: p.json}\nthresholds:\n"
        "  <<: [{retry_span_s: 60, min_sample_size: 5}, {retry_span_s: 90, client_timeout_ms: 9}]\n"
        "  min_sample_size: 7\n"
    )
    t = load_config(path).thresholds
    # written keys win over merged ones; an earlier merged mapping over a later one
    assert (t.min_sample_size, t.retry_span_s, t.client_timeout_ms) == (7, 60, 9)
    path.write_text("cadence: weekly\n<<: {cadence: daily}\ncadence: daily\n")
    with pytest.raises(ConfigError, match="duplicate key 'cadence'"):
        load_config(path)


def test_long_unknown_key_is_cut(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, {**MINIMAL, "x" * 10_000: 1}))
    assert len(err.value.key) < 80 and err.value.key.endswith("...")


# ------------------------------------------------------------- location mapping


@pytest.mark.parametrize(
    ("loc", "doc", "expected"),
    [
        ((), {}, "(document)"),
        (("thresholds", "retry_span_s"), {}, "thresholds.retry_span_s"),
        (
            ("rules", 2, "assign", "owner_tag"),
            {"rules": [{}, {}, {"id": "search-prod"}]},
            "rules[2] (id=search-prod).assign.owner_tag",
        ),
        (("rules", 0, "id"), {"rules": [{"id": 42}]}, "rules[0].id"),
        (("rules", 0, "id"), {"rules": [{"id": " "}]}, "rules[0].id"),
        (("rules", 5), {"rules": []}, "rules[5]"),
        (("rules", 1, "id"), {}, "rules[1].id"),
        (("windows", 0, "timezone"), {"windows": [{"id": "x"}]}, "windows[0].timezone"),
        (("tags", 5), {"tags": {5: "x"}}, "tags.5"),
        (("a\nb",), {}, "a\\nb"),
    ],
)
def test_key_path(loc, doc, expected):
    assert key_path(loc, doc, {"rules": "id"}) == expected


def test_key_path_cuts_and_redacts_labels():
    secret = "sk-" + "z" * 30
    doc = {"rules": [{"id": secret}, {"id": "r" * 500}]}
    assert key_path(("rules", 0), doc, {"rules": "id"}).startswith("rules[0] (id=redacted_")
    assert len(key_path(("rules", 1), doc, {"rules": "id"})) < 80


def test_error_mapping_of_pydantic_errors():
    doc = {"a": {"b": [1, {"c": 2}]}}
    cases = [
        ({"type": "missing", "loc": ("a", "x")}, ("a.x", "required")),
        (
            {"type": "int_type", "loc": ("a", "b", 0), "input": 2.5},
            ("a.b[0]", "expected an integer, got 2.5"),
        ),
        (
            {"type": "model_type", "loc": (), "input": None},
            ("(document)", "expected a mapping, got null"),
        ),
        (
            {"type": "list_type", "loc": ("a",), "input": "x" * 10**6},
            ("a", "expected a list, got a string"),
        ),
        (
            {"type": "string_type", "loc": ("a", 7, "[key]"), "input": 7},
            ("a.7", "invalid key: expected a string, got an integer"),
        ),
        (
            {"type": "less_than_equal", "loc": ("a",), "input": 11, "ctx": {"le": 10}},
            ("a", "expected a value <= 10, got 11"),
        ),
        (
            {
                "type": "literal_error",
                "loc": ("a",),
                "input": "x" * 1000,
                "ctx": {"expected": "'p' or 'q'"},
            },
            ("a", "expected 'p' or 'q', got '" + "x" * 40 + "...'"),
        ),
        (
            {
                "type": "tokenreview",
                "loc": ("a", "b", 1),
                "ctx": {"message": "must be after start", "at": ("c",)},
            },
            ("a.b[1].c", "must be after start"),
        ),
        (
            {"type": "some_new_type", "loc": ("a",), "msg": "Input should be nice"},
            ("a", "Input should be nice"),
        ),
    ]
    for error, expected in cases:
        assert error_location_and_message(error, doc) == expected


# --------------------------------------------------------- every named file, up front


def project(tmp_path: Path, **patch) -> Path:
    (tmp_path / "logs").mkdir(exist_ok=True)
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {id: r1, assign: {owner_tag: o, workload_tag: '{tags.team}'}}\n"
    )
    (tmp_path / "windows.yaml").write_text(
        'windows:\n  - {recurring: daily, start_time: "01:00", end_time: "02:00", timezone: UTC}\n'
    )
    (tmp_path / "known.yaml").write_text("api_key_ids: [k1]\n")
    (tmp_path / "evidence.yaml").write_text(
        'sources:\n  - {area: pricing, url: "https://example.com/p", accessed_on: "2026-11-20"}\n'
    )
    (tmp_path / "budgets.yaml").write_text("budgets: []\n")
    (tmp_path / "billing").mkdir(exist_ok=True)
    data = {
        **MINIMAL,
        "allocation_rules": "rules.yaml",
        "maintenance_windows": "windows.yaml",
        "known_sources": "known.yaml",
        "evidence_sources": "evidence.yaml",
        "budgets": "budgets.yaml",
        "billing": {"path": "billing"},
        **patch,
    }
    return write(tmp_path, data)


def test_load_review_inputs_loads_every_file(tmp_path):
    inputs = load_review_inputs(load_config(project(tmp_path)))
    assert [r.id for r in inputs.allocation_rules] == ["r1"]
    assert [w.timezone for w in inputs.maintenance_windows] == ["UTC"]
    assert inputs.known_sources.api_key_ids == frozenset({"k1"})
    assert [s.area for s in inputs.evidence_sources] == ["pricing"]
    bare = load_review_inputs(
        load_config(project(tmp_path, maintenance_windows=None, evidence_sources=None))
    )
    assert (bare.maintenance_windows, bare.evidence_sources) == ([], [])


@pytest.mark.parametrize(
    ("patch", "key", "fragment"),
    [
        ({"allocation_rules": "nope.yaml"}, "allocation_rules", "file not found"),
        ({"allocation_rules": "logs"}, "allocation_rules", "not a file"),
        ({"maintenance_windows": "nope.yaml"}, "maintenance_windows", "file not found"),
        ({"evidence_sources": "nope.yaml"}, "evidence_sources", "file not found"),
        ({"budgets": "nope.yaml"}, "budgets", "file not found"),
        ({"billing": {"path": "nope"}}, "billing.path", "folder not found"),
        ({"billing": {"path": "budgets.yaml"}}, "billing.path", "not a folder"),
        (
            {"request_logs": {"kind": "files", "path": "nope"}},
            "request_logs.path",
            "folder not found",
        ),
    ],
)
def test_load_review_inputs_names_the_config_key(tmp_path, patch, key, fragment):
    config = load_config(project(tmp_path, **patch))
    with pytest.raises(ConfigError) as err:
        load_review_inputs(config)
    assert (err.value.file, err.value.key) == (str(config.path), key)
    assert fragment in err.value.message


def test_load_review_inputs_reports_rule_file_errors(tmp_path):
    config = load_config(project(tmp_path))
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {id: r1, assign: {owner_tag: o, workload_tag: '{region}'}}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_review_inputs(config)
    assert err.value.file == str(tmp_path.resolve() / "rules.yaml")
    assert err.value.key == "rules[0] (id=r1).assign.workload_tag"
    (tmp_path / "rules.yaml").write_text("rules: []\n")
    (tmp_path / "windows.yaml").write_text("windows: [{recurring: daily}]\n")
    with pytest.raises(ConfigError, match=r"windows\[0\]\.start_time: required"):
        load_review_inputs(config)


# ------------------------------------------------- the CLI refuses before extraction


def _ledger_tables(db_url: str) -> list[str]:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("command", "break_it", "file_name", "key"),
    [
        ("run", "delete_rules", "tokenreview.yaml", "allocation_rules: file not found"),
        (
            "run",
            "bad_template",
            "allocation_rules.yaml",
            "rules[0] (id=bad).assign.workload_tag: unknown placeholder {region}",
        ),
        ("backfill", "bad_window", "maintenance_windows.yaml", "windows[0].timezone: unknown"),
        ("run", "delete_logs", "tokenreview.yaml", "request_logs.path: folder not found"),
    ],
)
def test_run_and_backfill_exit_2_before_reading_data(
    tmp_path, db_url, capsys, monkeypatch, command, break_it, file_name, key
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    rules = None
    if break_it == "bad_template":
        rules = [{"id": "bad", "assign": {"owner_tag": "o", "workload_tag": "{region}"}}]
    windows = None
    if break_it == "bad_window":
        windows = [
            {"recurring": "daily", "start_time": "01:00", "end_time": "02:00", "timezone": "Mars"}
        ]
    cfg = write_scenario(tmp_path, [attempt("a1", ts(60))], rules=rules, windows=windows)
    if break_it == "delete_rules":
        (tmp_path / "allocation_rules.yaml").unlink()
    if break_it == "delete_logs":
        shutil.rmtree(tmp_path / "request_logs")
    if command == "run":
        argv = ["run", "--config", str(cfg), "--cycle", CYCLE]
    else:
        argv = ["backfill", "--config", str(cfg), "--from", CYCLE, "--to", CYCLE]
    assert main([*argv, "--database-url", db_url]) == 2
    captured = capsys.readouterr()
    assert f"{tmp_path.resolve() / file_name}: {key}" in captured.err
    assert captured.out == ""  # no run summary: nothing started
    assert _ledger_tables(db_url) == []  # the ledger was never touched
    assert not (tmp_path / "home").exists()
