"""Read LiteLLM's ``LiteLLM_SpendLogs`` table itself (``request_logs: {kind: database}``).

SPEC 2.7: the rows whose ``startTime`` lies in the read window of 4.2, in pages ordered
by (``startTime``, ``request_id``), never written to.

* Keyset pagination: each page is ``WHERE ("startTime", request_id) > (last row's)``
  with ``LIMIT``, served by LiteLLM's own index on (``startTime``, ``request_id``). At
  most one page of rows is held (``PAGE_ROWS``), whatever the size of the table.
* Read-only: each page is read in its own short transaction, which is declared read
  only (PostgreSQL ``SET TRANSACTION READ ONLY``; SQLite ``PRAGMA query_only``) and
  rolled back; nothing here ever issues a write. Short transactions keep no snapshot
  open on LiteLLM's production database for the length of a run; the keyset order makes
  the pages exact for rows already committed when the run reads them.
* ``startTime`` is ``TIMESTAMP(3)`` without time zone, holding UTC: the window is
  compared as naive UTC datetimes.
* A database that cannot be reached, or that has no ``LiteLLM_SpendLogs`` table, raises
  :class:`SpendLogsDatabaseError` naming the URL without its password (nor user, query
  or fragment) before any record is read (:func:`check_spendlogs_table`).
* A row becomes a JSON-shaped object before it is mapped, so it is mapped, hashed and
  kept exactly as the same row exported to a JSON lines file: times as ISO 8601 text
  without offset (as LiteLLM stores them), JSON columns as parsed, other values as is.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from tokenreview_pipeline.extract.records import redact_value
from tokenreview_pipeline.urls import safe_url

__all__ = [
    "PAGE_ROWS",
    "TABLE",
    "SpendLogsDatabaseError",
    "check_spendlogs_table",
    "iter_spendlogs_rows",
    "row_object",
    "spendlogs_location",
]

TABLE = "LiteLLM_SpendLogs"
PAGE_ROWS = 1000
_UTC = timezone.utc  # noqa: UP017 - datetime.UTC is Python 3.11+


class SpendLogsDatabaseError(RuntimeError):
    """The table cannot be read (the message names the URL without credentials)."""


def spendlogs_location(url: str) -> str:
    """Where the rows come from, as stored and shown: URL without credentials, redacted."""
    return f"{_shown_url(url)} table {TABLE}"


def _engine(url: str) -> sa.Engine:
    try:
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError) as exc:
        raise SpendLogsDatabaseError(
            f"request_logs.url_env: not a usable database URL: {_shown_url(url)} "
            f"({type(exc).__name__})"
        ) from None


def _shown_url(url: str) -> str:
    """The URL as shown: scheme, host, port and path only; nothing of a text that is not
    a URL (it could be the password alone, pasted into the variable by mistake)."""
    if "://" not in url:
        return "<not a URL>"
    return redact_value(safe_url(url))[0]


def _failure(url: str, exc: BaseException, doing: str) -> SpendLogsDatabaseError:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = detail[0] if detail else type(exc).__name__
    try:
        password = sa.engine.make_url(url).password
    except (sa.exc.ArgumentError, ValueError):
        password = None
    if password:
        text = text.replace(str(password), "***")
    return SpendLogsDatabaseError(
        f"cannot {doing} {TABLE} at {_shown_url(url)}: {redact_value(text[:300])[0]}"
    )


def _read_only(conn: sa.Connection) -> None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif dialect == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")


def check_spendlogs_table(url: str) -> None:
    """Connect and check the table is there; raises ``SpendLogsDatabaseError``."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            _read_only(conn)
            if not sa.inspect(conn).has_table(TABLE):
                raise SpendLogsDatabaseError(
                    f"no table {TABLE} at {_shown_url(url)} (is this LiteLLM's database, "
                    "and its schema on the search path?)"
                )
            conn.rollback()
    except sa.exc.SQLAlchemyError as exc:
        raise _failure(url, exc, "read") from None
    finally:
        engine.dispose()


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(_UTC).replace(tzinfo=None)


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return _naive_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # NaN spend is not JSON; no mapped column is a float
    if isinstance(value, bytes | memoryview):
        return None
    return value


def row_object(row: sa.RowMapping) -> dict:
    """One table row as the JSON object a JSON lines export of it would hold."""
    return {str(key): _json_value(value) for key, value in row.items()}


def iter_spendlogs_rows(
    url: str, start: datetime, end: datetime, *, page_rows: int = PAGE_ROWS
) -> Iterator[tuple[int, int, dict]]:
    """Yield (page, row number in its page, row object) for ``start <= startTime < end``,
    in (``startTime``, ``request_id``) order, one page in memory at a time."""
    if page_rows < 1:
        raise ValueError(f"page_rows must be >= 1, got {page_rows}")
    table = sa.table(TABLE, sa.column("startTime"), sa.column("request_id"))
    start_time, request_id = table.c.startTime, table.c.request_id
    window = sa.and_(start_time >= _naive_utc(start), start_time < _naive_utc(end))
    base = (
        sa.select(sa.literal_column("*"))
        .select_from(table)
        .order_by(start_time, request_id)
        .limit(page_rows)
    )
    engine = _engine(url)
    last: tuple[datetime, str] | None = None
    page = 0
    try:
        while True:
            query = base.where(window)
            if last is not None:
                query = query.where(sa.tuple_(start_time, request_id) > sa.tuple_(*last))
            try:
                with engine.connect() as conn:
                    _read_only(conn)
                    rows = conn.execute(query).mappings().all()
                    conn.rollback()
            except sa.exc.SQLAlchemyError as exc:
                raise _failure(url, exc, f"read page {page + 1} of") from None
            if not rows:
                return
            page += 1
            for number, row in enumerate(rows, start=1):
                yield page, number, row_object(row)
            if len(rows) < page_rows:
                return
            last = (rows[-1]["startTime"], rows[-1]["request_id"])
    finally:
        engine.dispose()
