"""Config loading (SPEC 3): defaults, relative paths, overrides, errors naming key and file."""

from pathlib import Path

import pytest
import yaml

from tokenreview_pipeline.config import DATABASE_URL_ENV, FilesLogSource, HttpLogSource, load_config
from tokenreview_pipeline.errors import ConfigError

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
