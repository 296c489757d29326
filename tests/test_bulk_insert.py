"""Bulk inserts (bulk_insert.py) store exactly what ``table.insert()`` stores: on SQLite
(executemany), on PostgreSQL through psycopg2's COPY and through psycopg 3's COPY."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from conftest import _pg_schema_url, _pg_url
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenreview_pipeline import ledger
from tokenreview_pipeline.bulk_insert import copy_lines, copy_text, insert_rows

UTC = timezone.utc
HOSTILE_TEXT = [
    None,
    "",
    "\\",
    "\\N",
    "a\tb",
    "line\nbreak",
    "cr\rlf\r\n",
    "quote \" and ' and ,",
    "astral \U0001f600 and \ufffd",
    "x" * 100_000,
    '{"k": "v\\u00e9"}',
]

# Any text a database stores: no lone surrogate (no UTF-8 form, refused by every driver)
# and no NUL (PostgreSQL's text cannot hold it).
STORABLE_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
)


def _tables(metadata: sa.MetaData, name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("short", sa.String(64)),
        sa.Column("big", sa.BigInteger),
        sa.Column("real", sa.Float),
        sa.Column("flag", sa.Boolean),
        sa.Column("at", ledger.UtcDateTime),
    )


def _rows() -> list[dict]:
    rows = []
    numbers = [0, -1, 2**63 - 1, -(2**63), 2**40]
    reals = [0.0, 0.1, 1e-7, 1e300, -2.5, 123456789.123456789, float("inf"), -1e-300]
    at = datetime(2026, 11, 16, 8, 0, 0, 123456, tzinfo=UTC)
    for i, text in enumerate(HOSTILE_TEXT):
        rows.append(
            {
                "n": i,
                "text": text,
                "short": None if text is None else text[:64],
                "big": numbers[i % len(numbers)],
                "real": reals[i % len(reals)],
                "flag": [True, False, None][i % 3],
                "at": None if i == 3 else at + timedelta(days=i, microseconds=i),
            }
        )
    rows.append({"n": 99})  # every other column missing: NULL
    return rows


@pytest.fixture(params=["sqlite", "psycopg2", "psycopg"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        yield ledger.engine_for(f"sqlite:///{tmp_path / 'ledger.db'}")
        return
    # a fresh PostgreSQL schema, through each driver
    admin = request.getfixturevalue("pg_admin_engine")
    schema, url = _pg_schema_url(admin, _pg_url())
    engine = sa.create_engine(sa.engine.make_url(url).set(drivername=f"postgresql+{request.param}"))
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def _read(conn, table: sa.Table) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.n))]


def _raw(conn, table: sa.Table) -> list[tuple]:
    # As stored, without SQLAlchemy's result processing (SQLite's timestamp text).
    return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY n")]


def test_bulk_rows_are_stored_as_inserted_rows(engine):
    metadata = sa.MetaData()
    by_insert, by_bulk = _tables(metadata, "by_insert"), _tables(metadata, "by_bulk")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            by_insert.insert(), [{k: r.get(k) for k in by_insert.c.keys()} for r in _rows()]
        )
        insert_rows(conn, by_bulk, _rows())
    with engine.connect() as conn:
        assert _read(conn, by_bulk) == _read(conn, by_insert)
        assert _raw(conn, by_bulk) == _raw(conn, by_insert)
        assert len(_read(conn, by_bulk)) == len(_rows())


def test_a_failed_transaction_keeps_no_bulk_row(engine):
    metadata = sa.MetaData()
    table = _tables(metadata, "rolled_back")
    metadata.create_all(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        insert_rows(conn, table, _rows())
        assert len(_read(conn, table)) == len(_rows())  # visible inside
        raise RuntimeError("the run stops")
    with engine.connect() as conn:
        assert _read(conn, table) == []


def test_an_unknown_key_is_refused(engine):
    metadata = sa.MetaData()
    table = _tables(metadata, "refusing")
    metadata.create_all(engine)
    with pytest.raises(sa.exc.CompileError, match="not_a_column"), engine.begin() as conn:
        insert_rows(conn, table, [{"n": 1, "not_a_column": 2}])


def test_a_database_error_is_sqlalchemys(engine):
    metadata = sa.MetaData()
    table = _tables(metadata, "not_null")
    metadata.create_all(engine)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        insert_rows(conn, table, [{"n": None}])


def test_the_staging_table_through_the_bulk_path(engine):
    from tokenreview_pipeline.cycles import parse_cycle
    from tokenreview_pipeline.extract.load import StagingWindow, staging_row
    from tokenreview_pipeline.extract.records import record_from_line

    ledger.ensure_schema(engine)
    table = ledger.stg_source_records
    window = StagingWindow.for_cycle(parse_cycle("2026-11-16", "weekly"), 3600)
    lines = [
        b'{"attempt_id":"a1","timestamp":"2026-11-16T08:00:00Z","api_key_id":"k\\tey",'
        b'"model":"m","endpoint":"/v1/chat","status_code":200,"prompt_tokens":10,'
        b'"completion_tokens":5,"total_tokens":15,"latency_ms":12.5,"tags":{"t":"a\\\\b"}}',
        b'{"attempt_id": "broken\\n',
        b"\xff\xfe not utf-8",
    ]
    rows = [
        staging_row(i, record_from_line(line, source_name="log.jsonl", source_line=i + 1), window)
        for i, line in enumerate(lines)
    ]
    with engine.begin() as conn:
        conn.execute(sa.delete(table))
        conn.execute(table.insert(), [{**r, "cycle_id": "2026-11-09"} for r in rows])
        insert_rows(conn, table, rows)
    with engine.connect() as conn:
        stored = {
            cycle: [
                r[1:]
                for r in conn.execute(
                    sa.select(table).where(table.c.cycle_id == cycle).order_by(table.c.read_seq)
                )
            ]
            for cycle in ("2026-11-09", "2026-11-16")
        }
    assert stored["2026-11-16"] == stored["2026-11-09"]
    assert len(stored["2026-11-16"]) == 3
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.cycle_id.in_(["2026-11-09", "2026-11-16"])))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(STORABLE_TEXT, max_size=8))
def test_any_text_survives_the_copy_format(engine, texts):
    metadata = sa.MetaData()
    table = sa.Table("texts", metadata, sa.Column("n", sa.Integer), sa.Column("t", sa.Text))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(table))
        insert_rows(conn, table, [{"n": i, "t": t} for i, t in enumerate(texts)])
        got = [r[0] for r in conn.execute(sa.select(table.c.t).order_by(table.c.n))]
    assert got == texts
    assert copy_lines([(t,) for t in texts]).count("\n") == len(texts)


@pytest.mark.parametrize("engine", ["psycopg2", "psycopg"], indirect=True)
def test_a_lost_connection_is_flagged_for_a_retry(engine):
    """As an INSERT's: the step retries (step_errors.py) when the COPY's connection died
    (terminated with pg_terminate_backend: PostgreSQL only)."""
    metadata = sa.MetaData()
    table = _tables(metadata, "lost")
    metadata.create_all(engine)
    admin = sa.create_engine(_pg_url(), poolclass=sa.pool.NullPool)
    with pytest.raises(sa.exc.DBAPIError) as raised, engine.begin() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with admin.begin() as kill:
            kill.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        insert_rows(conn, table, _rows())
    admin.dispose()
    assert raised.value.connection_invalidated
    with engine.connect() as conn:
        assert _read(conn, table) == []


def test_other_values_and_tables_take_the_insert_path(engine):
    metadata = sa.MetaData()
    kinds = sa.Table("kinds", metadata, sa.Column("n", sa.Integer), sa.Column("span", sa.Interval))
    defaults = sa.Table(
        "defaults",
        metadata,
        sa.Column("n", sa.Integer),
        sa.Column("label", sa.Text, server_default="none"),
    )
    metadata.create_all(engine)
    rows = [{"n": 1, "span": timedelta(days=2, microseconds=3)}, {"n": 2, "span": None}]
    with engine.begin() as conn:
        insert_rows(conn, kinds, rows)  # psycopg2: no COPY text for a timedelta
        insert_rows(conn, defaults, [{"n": 1}])  # the server default applies
    with engine.connect() as conn:
        assert _read(conn, kinds) == [tuple(r.values()) for r in rows]
        assert _read(conn, defaults) == [(1, "none")]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))))
def test_copy_text_is_undone_by_the_copy_format_rules(text):
    # PostgreSQL's reading of a text-format field (the escapes copy_text writes).
    escaped = copy_text(text)
    assert not any(c in escaped for c in "\t\n\r")
    unescaped = re.sub(
        r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m[1], m[1]), escaped
    )
    assert unescaped == text
