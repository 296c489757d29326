"""Shared fixtures: a ledger database on each backend, and scenario builders.

PostgreSQL tests read ``TOKENREVIEW_TEST_DATABASE_URL`` (``.ci/run`` sets it).
Each test gets its own schema there, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

PG_ENV = "TOKENREVIEW_TEST_DATABASE_URL"
#: The most test workers ``-n auto`` (pyproject's addopts) starts: each runs Dagster
#: runs and their subprocesses against one PostgreSQL server, whose 100 connections a
#: worker per core of a large machine would exhaust.
MAX_TEST_WORKERS = 4
# Set by .ci/run: there a PostgreSQL test that cannot reach its database fails, never skips.
REQUIRE_PG_ENV = "TOKENREVIEW_REQUIRE_POSTGRES"


def _skip_or_fail(reason: str):
    if os.environ.get(REQUIRE_PG_ENV):
        pytest.fail(f"{reason} ({REQUIRE_PG_ENV} is set: PostgreSQL tests may not skip)")
    pytest.skip(reason)


def pytest_xdist_auto_num_workers(config) -> int:
    """Workers for ``-n auto``: one per core, at most ``MAX_TEST_WORKERS``;
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` overrides it (``-n 0`` runs in one process)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    return max(1, min(os.cpu_count() or 1, MAX_TEST_WORKERS))


def _pg_url() -> str | None:
    return os.environ.get(PG_ENV)


@pytest.fixture(scope="session")
def pg_admin_engine():
    url = _pg_url()
    if not url:
        _skip_or_fail(
            f"PostgreSQL tests skipped: set {PG_ENV} (e.g. "
            "postgresql+psycopg2://postgres@127.0.0.1:5432/test); .ci/run sets it"
        )
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        _skip_or_fail(f"PostgreSQL tests skipped: cannot connect to {PG_ENV}: {exc.orig}")
    return engine


def _pg_schema_url(admin, base_url: str):
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def _ledger_url(request, folder):
    """A fresh, empty ledger on the backend of ``request.param`` (SQLite in ``folder``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{folder / 'ledger.db'}"
        return
    admin = request.getfixturevalue("pg_admin_engine")
    schema, url = _pg_schema_url(admin, _pg_url())
    yield url
    from tokenreview_pipeline import ledger

    ledger.engine_for(url).dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty ledger database URL on each backend."""
    yield from _ledger_url(request, tmp_path)


@pytest.fixture(params=["postgresql"])
def pg_db_url(request, tmp_path):
    """A fresh, empty PostgreSQL ledger URL, for tests of what only PostgreSQL has."""
    yield from _ledger_url(request, tmp_path)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_db_url(request, tmp_path_factory):
    """Like ``db_url``, but one ledger shared by the tests of a module, per backend."""
    yield from _ledger_url(request, tmp_path_factory.mktemp("ledger"))
