"""Bulk inserts of row dicts into a table: PostgreSQL ``COPY``, SQLite ``executemany``.

``conn.execute(table.insert(), rows)`` compiles and processes every row dict through
SQLAlchemy, and on PostgreSQL sends the rows as multi-row ``INSERT`` statements the
server parses and plans one by one: about 6k rows/s for the staging table. ``COPY ...
FROM STDIN`` streams the rows in one statement the server reads without parsing SQL,
an order of magnitude faster, and is as transactional as an ``INSERT``: it runs on the
connection's DBAPI connection, inside its transaction, so a failed run rolls it back.

``insert_rows`` stores exactly what ``table.insert()`` stores. Each value first goes
through its column type's bind processor for the connection's dialect (what SQLAlchemy
does: ``UtcDateTime`` turns into UTC, or ISO text on SQLite; a boolean into 0/1 on
SQLite), then:

- PostgreSQL with psycopg2: rendered in ``COPY``'s text format (``copy_field``): NULL
  as ``\\N``; backslash, tab, newline and carriage return escaped; booleans ``t``/``f``;
  numbers as Python prints them (``repr``, which round-trips a float); datetimes in ISO
  8601 with their offset. A batch holding a value of another type is inserted with
  ``table.insert()`` instead.
- PostgreSQL with psycopg 3: ``Copy.write_row``, which adapts and escapes as psycopg
  adapts query parameters.
- SQLite: one INSERT compiled once with positional parameters and the DBAPI cursor's
  ``executemany`` over tuples (through ``exec_driver_sql``), skipping the per-row dict
  compilation.
- any other backend or driver, a table with column defaults (``COPY`` and the tuples
  give every column a value) or a schema translate map: ``table.insert()``.

Driver errors are raised as SQLAlchemy's (``sa.exc.DBAPIError`` subclasses, a lost
connection invalidated and flagged ``connection_invalidated``), as an ``INSERT``'s are.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa

#: A row as the DBAPI receives it: the column values in the table's order, processed.
BoundRow = tuple

NULL = "\\N"


def copy_text(value: str) -> str:
    """``value`` escaped for a field of ``COPY``'s text format (tab-delimited)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _decimal(value: Decimal) -> str:
    return "NaN" if value.is_nan() else str(value)


def _bool(value: bool) -> str:
    return "t" if value else "f"


# Subclasses (an enum.StrEnum, an IntEnum) are rendered as their base type's value,
# as the drivers adapt them; checked in order: bool before int, datetime before date.
_RENDERERS: tuple[tuple[type, Callable[[object], str]], ...] = (
    (str, lambda v: copy_text(str.__str__(v))),
    (bool, _bool),
    (int, int.__repr__),
    (float, _float),
    (Decimal, _decimal),
    (datetime, datetime.isoformat),
    (date, date.isoformat),
    (time, time.isoformat),
)
_RENDER_BY_TYPE: dict[type, Callable[[object], str]] = {**dict(_RENDERERS), str: copy_text}


def copy_field(value: object) -> str:
    """One processed value as a field of ``COPY``'s text format; ``TypeError`` for a
    type it does not render."""
    if value is None:
        return NULL
    render = _RENDER_BY_TYPE.get(type(value))
    if render is None:
        render = next((r for t, r in _RENDERERS if isinstance(value, t)), None)
        if render is None:
            raise TypeError(f"no COPY text rendering for {type(value).__name__}")
    return render(value)


def copy_lines(rows: Sequence[BoundRow]) -> str:
    """Processed rows as ``COPY ... FROM STDIN`` text-format data."""
    return "".join("\t".join(map(copy_field, row)) + "\n" for row in rows)


def bound_rows(
    rows: Sequence[dict], columns: Sequence[sa.Column], dialect: sa.Dialect
) -> list[BoundRow]:
    """Each row's values in the order of ``columns`` (a missing key: None), through the
    columns' bind processors for ``dialect``, as SQLAlchemy binds them."""
    keys = [c.key for c in columns]
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    raw = [tuple(map(row.get, keys)) for row in rows]
    if not any(processors):
        return raw
    converted = [
        [value if proc is None else proc(value) for value in values]
        for proc, values in zip(processors, zip(*raw, strict=True), strict=True)
    ]
    return list(zip(*converted, strict=True))


def _fast_path(conn: sa.Connection, table: sa.Table) -> str | None:
    """``copy_psycopg2``, ``copy_psycopg`` or ``executemany``; None: ``table.insert()``."""
    if conn.get_execution_options().get("schema_translate_map"):
        return None
    if any(c.default is not None or c.server_default is not None for c in table.columns):
        return None
    if table.autoincrement_column is not None:
        return None
    dialect = conn.dialect
    if dialect.name == "postgresql" and dialect.driver in ("psycopg2", "psycopg"):
        return f"copy_{dialect.driver}"
    if dialect.name == "sqlite":
        return "executemany"
    return None


def _check_keys(rows: Sequence[dict], table: sa.Table) -> None:
    unknown = set().union(*rows) - set(table.columns.keys())
    if unknown:
        raise sa.exc.CompileError(
            f"Unconsumed column names: {', '.join(sorted(map(str, unknown)))} "
            f"(not columns of {table.name})"
        )


@contextlib.contextmanager
def _sqlalchemy_errors(conn: sa.Connection, statement: str) -> Iterator[None]:
    """Driver errors of a raw DBAPI call raised as SQLAlchemy raises them: wrapped in
    ``sa.exc.DBAPIError`` subclasses, a lost connection invalidated."""
    dialect = conn.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as exc:
        lost = dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
        if lost:
            conn.invalidate(exc)
        raise sa.exc.DBAPIError.instance(
            statement, None, exc, dbapi_error, connection_invalidated=lost, dialect=dialect
        ) from exc


def _copy_statement(conn: sa.Connection, table: sa.Table) -> str:
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(preparer.quote(c.name) for c in table.columns)
    return f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"


def insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts keyed by column key, a missing key storing NULL) into
    ``table`` in ``conn``'s transaction (begun if none is), as ``table.insert()`` would."""
    if not rows:
        return
    path = _fast_path(conn, table)
    if path is None:
        conn.execute(table.insert(), rows)
        return
    _check_keys(rows, table)
    if not conn.in_transaction():
        conn.begin()  # as SQLAlchemy's autobegin: conn.commit() commits the rows
    columns = list(table.columns)
    values = bound_rows(rows, columns, conn.dialect)
    if path == "executemany":
        keys = [c.key for c in columns]
        compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
        assert compiled.positional and list(compiled.positiontup or ()) == keys
        conn.exec_driver_sql(compiled.string, values)
        return
    statement = _copy_statement(conn, table)
    if path == "copy_psycopg2":
        try:
            data = copy_lines(values)
        except TypeError:  # a value of a type copy_field does not render
            keys = [c.key for c in columns]
            conn.execute(table.insert(), [{k: row.get(k) for k in keys} for row in rows])
            return
        with _sqlalchemy_errors(conn, statement):
            with conn.connection.dbapi_connection.cursor() as cursor:
                cursor.copy_expert(statement, io.StringIO(data), size=1 << 20)
        return
    with _sqlalchemy_errors(conn, statement):
        with conn.connection.dbapi_connection.cursor() as cursor:
            with cursor.copy(statement) as copy:
                for row in values:
                    copy.write_row(row)
