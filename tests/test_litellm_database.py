"""``request_logs: {kind: database, format: litellm_spendlogs}`` against a real PostgreSQL
``LiteLLM_SpendLogs`` table created with LiteLLM's own DDL (tests/fixtures), rows
inserted as LiteLLM writes them (JSONB columns, naive UTC timestamps). Each test has its
own PostgreSQL schema."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from scenario import CYCLE, absolute_config_paths, rows, run, same_values

from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.cycles import parse_cycle
from tokenreview_pipeline.extract.formats.litellm_database import (
    TABLE,
    iter_spendlogs_rows,
)
from tokenreview_pipeline.extract.formats.litellm_spendlogs import (
    JSON_COLUMNS,
    LiteLLMSpendLogsFormat,
)
from tokenreview_pipeline.extract.request_log import RequestLogError, open_request_log
from tokenreview_pipeline.sample import generate_sample
from tokenreview_pipeline.sample.input_formats import write_format_samples

DDL = Path(__file__).parent / "fixtures" / "litellm_spendlogs.sql"
URL_ENV = "LITELLM_DATABASE_URL"


def _statements() -> list[str]:
    text = "\n".join(line for line in DDL.read_text().splitlines() if not line.startswith("--"))
    return [s.strip() for s in text.split(";\n") if s.strip()]


@pytest.fixture
def litellm_url(pg_admin_engine):
    """A schema holding LiteLLM's table (created by its DDL); yields the URL."""
    schema = f"litellm_{uuid.uuid4().hex[:10]}"
    with pg_admin_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = pg_admin_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    engine = sa.create_engine(url_text, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for statement in _statements():
            conn.exec_driver_sql(statement)
    yield url_text
    engine.dispose()
    with pg_admin_engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def insert(url: str, row_objects: list[dict]) -> None:
    """Insert rows as LiteLLM's proxy writes them: JSON columns as JSONB, times naive UTC."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for obj in row_objects:
            values = {}
            for key, value in obj.items():
                if key in JSON_COLUMNS:
                    value = value if isinstance(value, str) else json.dumps(value)
                elif key in ("startTime", "endTime", "completionStartTime") and value:
                    value = datetime.fromisoformat(value)
                values[key] = value
            columns = ", ".join(f'"{k}"' for k in values)
            params = ", ".join(
                f"CAST(:{k} AS JSONB)" if k in JSON_COLUMNS else f":{k}" for k in values
            )
            conn.execute(sa.text(f'INSERT INTO "{TABLE}" ({columns}) VALUES ({params})'), values)
    engine.dispose()


def row(request_id: str, start: datetime, **changes) -> dict:
    base = {
        "request_id": request_id,
        "call_type": "acompletion",
        "api_key": "hashed-key",
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "startTime": start.replace(tzinfo=None).isoformat(),
        "endTime": (start + timedelta(milliseconds=400)).replace(tzinfo=None).isoformat(),
        "model": "gpt-4o-mini",
        "metadata": {"spend_logs_metadata": {"request_id": f"client-{request_id}"}},
        "request_tags": ["team:search"],
        "messages": {"secret": "a prompt"},
        "status": "success",
    }
    base.update(changes)
    return base


def test_rows_of_the_read_window_in_pages_ordered_by_start_time_and_request_id(litellm_url):
    start = datetime(2026, 11, 16, tzinfo=timezone.utc)
    inserted = [
        row("r-before", start - timedelta(hours=2)),  # outside [start - 1h, end + 1h)
        row("r-b", start),
        row("r-a", start),  # same startTime: request_id decides
        row("r-late", start + timedelta(days=7, minutes=59)),
        row("r-after", start + timedelta(days=7, hours=1)),
        *[row(f"r-{n}", start + timedelta(hours=n)) for n in range(1, 6)],
    ]
    insert(litellm_url, inserted)
    window = (start - timedelta(hours=1), start + timedelta(days=7, hours=1))
    read = list(iter_spendlogs_rows(litellm_url, *window, page_rows=2))
    ids = [obj["request_id"] for _, _, obj in read]
    assert ids == ["r-a", "r-b", "r-1", "r-2", "r-3", "r-4", "r-5", "r-late"]
    assert [page for page, _, _ in read] == [1, 1, 2, 2, 3, 3, 4, 4]
    obj = read[0][2]
    assert obj["startTime"] == "2026-11-16T00:00:00" and obj["metadata"]["spend_logs_metadata"]


def test_open_request_log_reads_the_table_read_only(
    litellm_url, pg_admin_engine, monkeypatch, tmp_path
):
    start = datetime(2026, 11, 16, 9, tzinfo=timezone.utc)
    insert(litellm_url, [row("r-1", start), row("r-2", start + timedelta(minutes=1))])
    # A role that may only SELECT the table: reading needs nothing more.
    role = f"tr_reader_{uuid.uuid4().hex[:8]}"
    schema = sa.engine.make_url(litellm_url).query["options"].split("=", 1)[1]
    with pg_admin_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        conn.execute(sa.text(f'GRANT SELECT ON "{schema}"."{TABLE}" TO "{role}"'))
    try:
        reader_url = sa.engine.make_url(litellm_url).set(username=role, password="s3cret-pw")
        monkeypatch.setenv(URL_ENV, reader_url.render_as_string(hide_password=False))
        config = load_config(
            _config(
                tmp_path, {"kind": "database", "url_env": URL_ENV, "format": "litellm_spendlogs"}
            )
        )
        log = open_request_log(config, parse_cycle(CYCLE, "weekly"))
        records = list(log.records)
        assert [r.fields["attempt_id"] for r in records] == ["r-1", "r-2"]
        assert records[0].source_page == 1 and records[1].source_line == 2
        assert (
            log.kind == "database" and "s3cret-pw" not in log.location and role not in log.location
        )
        assert "a prompt" not in records[0].raw_redacted
    finally:
        with pg_admin_engine.begin() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))


def _config(root: Path, request_logs: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "rules.yaml").write_text("rules: []\n")
    config = {
        "request_logs": request_logs,
        "allocation_rules": "rules.yaml",
        "pricing": {"url": "p.json"},
    }
    path = root / "tokenreview.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("url", "shown", "problem"),
    [
        (
            "postgresql+psycopg2://litellm:hunter2-secret@127.0.0.1:1/litellm?sslmode=disable",
            "postgresql+psycopg2://127.0.0.1:1/litellm",
            "cannot read",
        ),
        ("not a url at all hunter2-secret", None, "not a usable database URL"),
    ],
)
def test_a_database_that_is_down_is_a_clear_error(url, shown, problem, monkeypatch, tmp_path):
    monkeypatch.setenv(URL_ENV, url)
    config = load_config(
        _config(tmp_path, {"kind": "database", "url_env": URL_ENV, "format": "litellm_spendlogs"})
    )
    with pytest.raises(RequestLogError) as info:
        open_request_log(config, parse_cycle(CYCLE, "weekly"))
    message = str(info.value)
    assert problem in message and URL_ENV in message
    assert "hunter2-secret" not in message and "litellm:hunter" not in message
    if shown:
        assert shown in message


def test_a_missing_table_is_a_clear_error(pg_admin_engine, monkeypatch, tmp_path):
    schema = f"empty_{uuid.uuid4().hex[:10]}"
    with pg_admin_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = pg_admin_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
        monkeypatch.setenv(URL_ENV, url.render_as_string(hide_password=False))
        config = load_config(
            _config(
                tmp_path, {"kind": "database", "url_env": URL_ENV, "format": "litellm_spendlogs"}
            )
        )
        with pytest.raises(RequestLogError, match=f"no table {TABLE}"):
            open_request_log(config, parse_cycle(CYCLE, "weekly"))
        monkeypatch.delenv(URL_ENV)
        with pytest.raises(RequestLogError, match=f"url_env names {URL_ENV}, which is not set"):
            open_request_log(config, parse_cycle(CYCLE, "weekly"))
    finally:
        with pg_admin_engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_a_cycle_from_the_table_equals_the_same_rows_from_files(
    litellm_url, db_url, monkeypatch, tmp_path
):
    sample = generate_sample(tmp_path / "native", attempts=300)
    config_path = write_format_samples(sample.outdir, tmp_path / "formats", ["litellm_spendlogs"])[
        "litellm_spendlogs"
    ]
    fmt = LiteLLMSpendLogsFormat()
    valid = []
    for path in sorted((config_path.parent / "request_logs").glob("*.jsonl.gz")):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            (record,) = fmt.line_records(line, source_name=path.name, source_line=0)
            if record.defect is None:
                valid.append(json.loads(line))
    # The proxy's primary key: a re-exported row cannot be in the table twice.
    unique = list({obj["request_id"]: obj for obj in valid}.values())
    insert(litellm_url, unique)
    files_db = f"sqlite:///{tmp_path / 'files.db'}"
    files_root = tmp_path / "files"
    (files_root / "request_logs").mkdir(parents=True)
    (files_root / "request_logs" / "rows.jsonl").write_text(
        "".join(json.dumps(obj) + "\n" for obj in unique)
    )
    config = yaml.safe_load(config_path.read_text())
    absolute_config_paths(config, config_path.parent)
    config["request_logs"] = {
        "kind": "files",
        "path": str(files_root / "request_logs"),
        "format": "litellm_spendlogs",
    }
    (files_root / "tokenreview.yaml").write_text(yaml.safe_dump(config))
    run(files_root / "tokenreview.yaml", files_db)

    config["request_logs"] = {"kind": "database", "url_env": URL_ENV, "format": "litellm_spendlogs"}
    (tmp_path / "db.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv(URL_ENV, litellm_url)
    run(tmp_path / "db.yaml", db_url)

    def packets(url):
        skip = {"pricing_snapshot_id", "pricing_accessed_at"}
        return [
            {k: v for k, v in p.items() if k not in skip}
            for p in rows(url, "review_packets", order_by=["workload_tag", "request_class"])
        ]

    from_table, from_files = packets(db_url), packets(files_db)
    assert from_table and len(from_table) == len(from_files)
    for got, want in zip(from_table, from_files, strict=True):
        assert same_values(got, want) == {}, want["workload_tag"]
    (runs,) = rows(db_url, "extraction_runs")
    assert runs["source_kind"] == "database" and "LiteLLM_SpendLogs" in runs["source_location"]
    assert sum(a["gateway_retries"] for a in rows(db_url, "request_attempts")) > 0
    # never written: the table holds exactly what was inserted
    engine = sa.create_engine(litellm_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text(f'SELECT count(*) FROM "{TABLE}"')).scalar() == len(unique)
    engine.dispose()
