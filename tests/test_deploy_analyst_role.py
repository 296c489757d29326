"""deploy/analyst_role.sql: a member of tokenreview_analyst reads the published tables and
can neither write, nor change the schema, nor read a run's unpublished rows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tokenreview_pipeline import ledger

ROLE_SQL = Path(__file__).parents[1] / "deploy" / "analyst_role.sql"
READABLE_EXTRA = {"pricing_snapshots", "pricing_snapshot_prices", "pricing_fetches"}
READABLE_EXTRA |= {"cycle_publications"}


def _readable_in_file() -> set[str]:
    array = re.search(r"readable text\[\] := ARRAY\[(.*?)\];", ROLE_SQL.read_text(), re.S)
    return set(re.findall(r"'([a-z_]+)'", array.group(1)))


def test_the_role_file_names_every_published_table_and_nothing_unpublished():
    published = {t.name for t in ledger.PUBLISHED_TABLES}
    assert _readable_in_file() == published | READABLE_EXTRA
    assert all(name in ledger.metadata.tables for name in _readable_in_file())


def _apply_role_file(url: str, schema: str) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    parts = sa.engine.make_url(url)
    env = {**os.environ, "PGOPTIONS": f"-csearch_path={schema}"}
    subprocess.run(
        [
            psql,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-h",
            parts.host or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            "-d",
            parts.database,
            "-f",
            str(ROLE_SQL),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def analyst_url(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("roles are PostgreSQL's")
    url = sa.engine.make_url(db_url)
    schema = url.query["options"].split("search_path=")[1]
    engine = ledger.engine_for(db_url)
    ledger.ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            ledger.billing_reconciliation.insert(),
            {"cycle_id": "2026-11-16", "model": "m", "estimated_tokens": 1, "status": "matched"},
        )
    _apply_role_file(db_url, schema)
    _apply_role_file(db_url, schema)  # re-running it (after an upgrade) is safe
    member = f"prod_analyst_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{member}" LOGIN IN ROLE tokenreview_analyst'))
    yield url.set(username=member).render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP ROLE "{member}"'))


WRITES = [
    "INSERT INTO billing_reconciliation (cycle_id, model, estimated_tokens, status) "
    "VALUES ('2026-11-23', 'm', 1, 'gap')",
    "UPDATE billing_reconciliation SET status = 'gap'",
    "DELETE FROM billing_reconciliation",
    "TRUNCATE review_packets",
    "DELETE FROM request_attempts",
    "CREATE TABLE analyst_table (x int)",
    "DROP TABLE review_packets",
    "ALTER TABLE review_packets ADD COLUMN x int",
    "SELECT * FROM stg_source_records",
    "SELECT * FROM _build_review_packets",
    "DELETE FROM cycle_leases",
]


def test_an_analyst_reads_every_published_table(analyst_url):
    engine = sa.create_engine(analyst_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        for name in sorted(_readable_in_file()):
            conn.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar()
        rows = conn.execute(sa.text("SELECT model, status FROM billing_reconciliation")).all()
    assert rows == [("m", "matched")]


@pytest.mark.parametrize("statement", WRITES, ids=lambda s: " ".join(s.split()[:3]))
def test_an_analyst_cannot_write_or_change_the_schema(analyst_url, statement):
    engine = sa.create_engine(analyst_url, poolclass=sa.pool.NullPool)
    with pytest.raises(sa.exc.ProgrammingError) as refused:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert refused.value.orig.pgcode == "42501"  # insufficient_privilege
