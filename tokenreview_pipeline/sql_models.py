"""A small dbt-like runner for the SQL models in ``dbt_like_sql/``.

Model files
    Each ``dbt_like_sql/<name>.sql`` is one model: a single ``SELECT`` whose
    output columns are named after the columns of the table ``<name>``
    (declared in ``ledger.py``). Leading ``--`` comment lines are the model's
    description; a line ``-- unique_key: a, b`` names the columns that identify
    the rows one run replaces (default ``cycle_id``).

Templating (kept deliberately tiny)
    ``{{ ref('other_model') }}`` declares a dependency and becomes the table
    name. ``{{ this }}`` is the table being built (used by checks). A handful
    of cross-database macros hide the few places where SQLite and PostgreSQL
    spell things differently: ``days_between(later, earlier)``,
    ``json_string(expr)``, ``json_array_agg(expr, order_expr)``, ``newline()``. Everything
    else is plain SQL that both backends run unchanged. Run parameters are
    bind parameters (``:cycle_id``), typed from their Python values.

Materialization
    A model is replaced for its ``unique_key`` values in one transaction:
    ``DELETE`` the cycle's rows, ``INSERT ... SELECT``. Models with checks
    (``dbt_like_sql/checks/<model>/<check>.sql``, each returning the failing
    rows) are first built into ``_build_<name>``, checked there, and swapped
    into ``<name>`` only when no error-severity check failed, so a published
    table never holds rows that failed a blocking check.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tokenreview_pipeline import ledger

SQL_DIR_ENV = "TOKENREVIEW_SQL_DIR"
_DEFAULT_SQL_DIR = Path(__file__).resolve().parent.parent / "dbt_like_sql"

_JINJA = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.S)
_CALL = re.compile(r"^(\w+)\s*\((.*)\)$", re.S)
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_HEADER = re.compile(r"^--\s?(.*)$")


class ModelError(RuntimeError):
    pass


@dataclass(frozen=True)
class SqlCheck:
    name: str
    model: str
    severity: str  # "error" (blocking) or "warn"
    description: str
    sql: str
    path: Path


@dataclass(frozen=True)
class SqlModel:
    name: str
    path: Path
    sql: str
    description: str
    refs: tuple[str, ...]
    unique_key: tuple[str, ...] = ("cycle_id",)
    checks: tuple[SqlCheck, ...] = ()

    @property
    def table(self) -> sa.Table:
        return ledger.metadata.tables[self.name]

    @property
    def has_blocking_checks(self) -> bool:
        return any(c.severity == "error" for c in self.checks)


@dataclass
class CheckOutcome:
    check: SqlCheck
    failing_rows: int
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0


@dataclass
class ModelRun:
    model: SqlModel
    rows: int
    published: bool
    checks: list[CheckOutcome]


def sql_dir() -> Path:
    return Path(os.environ.get(SQL_DIR_ENV, _DEFAULT_SQL_DIR))


def _parse_header(text: str) -> tuple[str, dict[str, str]]:
    description, settings = [], {}
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if not match:
            break
        body = match.group(1).strip()
        key, sep, value = body.partition(":")
        if sep and key.strip() in {"unique_key", "severity"}:
            settings[key.strip()] = value.strip()
        elif body:
            description.append(body)
    return " ".join(description), settings


def _refs(text: str) -> tuple[str, ...]:
    found = []
    for expr in _JINJA.findall(text):
        call = _CALL.match(expr)
        if call and call.group(1) == "ref":
            (name,) = _args(call.group(2))
            found.append(name)
    return tuple(dict.fromkeys(found))


def _args(text: str) -> tuple[Any, ...]:
    value = ast.literal_eval(f"({text},)") if text.strip() else ()
    return tuple(value)


@cache
def discover_models(folder: Path | None = None) -> dict[str, SqlModel]:
    """Every model in the folder, keyed by name, each with its checks."""
    folder = folder or sql_dir()
    if not folder.is_dir():
        raise ModelError(f"SQL model folder not found: {folder}")
    models = {}
    for path in sorted(folder.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        description, settings = _parse_header(text)
        name = path.stem
        if name not in ledger.metadata.tables:
            raise ModelError(f"{path}: no table {name!r} is declared in ledger.py")
        checks = []
        for check_path in sorted((folder / "checks" / name).glob("*.sql")):
            check_text = check_path.read_text(encoding="utf-8")
            check_description, check_settings = _parse_header(check_text)
            severity = check_settings.get("severity", "error")
            if severity not in ("error", "warn"):
                raise ModelError(f"{check_path}: severity must be error or warn")
            checks.append(
                SqlCheck(check_path.stem, name, severity, check_description, check_text, check_path)
            )
        unique_key = tuple(
            k.strip() for k in settings.get("unique_key", "cycle_id").split(",") if k.strip()
        )
        models[name] = SqlModel(
            name, path, text, description, _refs(text), unique_key, tuple(checks)
        )
    for model in models.values():
        for ref in model.refs:
            if ref not in models and ref not in ledger.metadata.tables:
                raise ModelError(f"{model.path}: ref({ref!r}) names no model or table")
    return models


# ----------------------------------------------------------------------- rendering


def _macro(name: str, args: tuple[Any, ...], dialect: str) -> str:
    pg = dialect == "postgresql"
    if name == "days_between":
        later, earlier = args
        if pg:
            return f"(({later}) - ({earlier}))"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    if name == "newline":
        return "chr(10)" if pg else "char(10)"
    if name == "json_string":
        (expr,) = args
        return f"to_json(CAST({expr} AS TEXT))::text" if pg else f"json_quote({expr})"
    if name == "json_array_agg":
        # Ordered JSON array of the non-null values. SQLite 3.40 has no ORDER BY
        # inside aggregates: callers feed rows from a subquery already ordered by
        # ``order_expr``, which SQLite aggregates in input order.
        expr, order = args
        if pg:
            return (
                f"COALESCE('[' || string_agg(to_json(CAST({expr} AS TEXT))::text, ','"
                f" ORDER BY {order}) || ']', '[]')"
            )
        return f"COALESCE(json_group_array({expr}) FILTER (WHERE {expr} IS NOT NULL), '[]')"
    raise ModelError(f"unknown macro {name!r}")


def render(text: str, dialect: str, this: str | None = None) -> str:
    def substitute(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr == "this":
            if this is None:
                raise ModelError("{{ this }} is only available in checks")
            return this
        call = _CALL.match(expr)
        if not call:
            raise ModelError(f"cannot render {{{{ {expr} }}}}")
        name, args = call.group(1), _args(call.group(2))
        if name == "ref":
            return args[0]
        return _macro(name, args, dialect)

    return _JINJA.sub(substitute, text)


def _typed(value: Any) -> sa.types.TypeEngine | None:
    if isinstance(value, bool):
        return sa.Boolean()
    if isinstance(value, datetime):
        return ledger.UtcDateTime()
    if isinstance(value, date):
        return sa.Date()
    if isinstance(value, Decimal):
        return sa.Numeric(38, 18)
    if isinstance(value, int):
        return sa.BigInteger()
    if isinstance(value, float):
        return sa.Float()
    if isinstance(value, str):
        return sa.Text()
    return None


def bind(sql: str, params: Mapping[str, Any]) -> sa.TextClause:
    """A text clause with only the parameters the SQL names, each typed."""
    names = dict.fromkeys(_BIND.findall(sql))
    missing = [n for n in names if n not in params]
    if missing:
        raise ModelError(f"SQL needs parameter(s) not supplied: {', '.join(missing)}")
    clause = sa.text(sql)
    binds = [sa.bindparam(n, params[n], type_=_typed(params[n])) for n in names]
    return clause.bindparams(*binds) if binds else clause


# ----------------------------------------------------------------------- running


def _key_filter(model: SqlModel, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    clauses = " AND ".join(f"{k} = :key_{k}" for k in model.unique_key)
    values = {}
    for k in model.unique_key:
        if k not in params:
            raise ModelError(f"model {model.name}: unique_key {k!r} needs a run parameter")
        values[f"key_{k}"] = params[k]
    return clauses, values


def _columns_of(conn: Connection, select_sql: str, params: Mapping[str, Any]) -> list[str]:
    result = conn.execute(bind(f"SELECT * FROM ({select_sql}) AS model_rows WHERE 1 = 0", params))
    return list(result.keys())


def _insert_select(
    conn: Connection, model: SqlModel, target: str, params: Mapping[str, Any]
) -> int:
    select_sql = render(model.sql, conn.dialect.name).strip().rstrip(";")
    produced = _columns_of(conn, select_sql, params)
    table_columns = {c.name: c for c in model.table.columns}
    unknown = [c for c in produced if c not in table_columns]
    if unknown:
        raise ModelError(f"{model.path.name}: columns not in table {model.name}: {unknown}")
    missing = [c.name for c in model.table.columns if c.name not in produced]
    if missing:
        raise ModelError(f"{model.path.name}: model does not produce column(s) {missing}")
    cols = ", ".join(f'"{c}"' for c in produced)
    result = conn.execute(
        bind(
            f"INSERT INTO {target} ({cols}) SELECT {cols} FROM ({select_sql}) AS model_rows", params
        )
    )
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else 0


def _replace(conn: Connection, model: SqlModel, target: str, params: Mapping[str, Any]) -> int:
    where, key_params = _key_filter(model, params)
    conn.execute(bind(f"DELETE FROM {target} WHERE {where}", key_params))
    return _insert_select(conn, model, target, params)


def run_check(
    conn: Connection, check: SqlCheck, table: str, params: Mapping[str, Any], sample_size: int = 20
) -> CheckOutcome:
    sql = render(check.sql, conn.dialect.name, this=table).strip().rstrip(";")
    count = conn.execute(bind(f"SELECT COUNT(*) FROM ({sql}) AS failing", params)).scalar_one()
    sample = []
    if count:
        rows = conn.execute(bind(f"SELECT * FROM ({sql}) AS failing", params)).mappings()
        for row in rows.fetchmany(sample_size):
            sample.append({k: _plain(v) for k, v in row.items()})
    return CheckOutcome(check, int(count), sample)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def run_model(engine: Engine, model: SqlModel, params: Mapping[str, Any]) -> ModelRun:
    """Materialize one model for the rows its unique key selects.

    Without checks: delete + insert in one transaction. With checks: build into
    ``_build_<name>``, run the checks there, then (unless an error-severity check
    failed) replace the published rows from the build rows in one transaction.
    """
    if model.checks:
        ledger.build_table(model.name)
    ledger.ensure_schema(engine)
    if not model.checks:
        with engine.begin() as conn:
            rows = _replace(conn, model, model.name, params)
        return ModelRun(model, rows, True, [])

    build = ledger.build_table(model.name).name
    with engine.begin() as conn:
        rows = _replace(conn, model, build, params)
    with engine.connect() as conn:
        outcomes = [run_check(conn, c, build, params) for c in model.checks]
    blocked = any(not o.passed and o.check.severity == "error" for o in outcomes)
    if not blocked:
        where, key_params = _key_filter(model, params)
        cols = ", ".join(f'"{c.name}"' for c in model.table.columns)
        with engine.begin() as conn:
            conn.execute(bind(f"DELETE FROM {model.name} WHERE {where}", key_params))
            conn.execute(
                bind(
                    f"INSERT INTO {model.name} ({cols}) SELECT {cols} FROM {build} WHERE {where}",
                    key_params,
                )
            )
            conn.execute(bind(f"DELETE FROM {build} WHERE {where}", key_params))
    return ModelRun(model, rows, not blocked, outcomes)


def topological_order(models: Mapping[str, SqlModel]) -> list[str]:
    order, seen, visiting = [], set(), set()

    def visit(name: str) -> None:
        if name in seen or name not in models:
            return
        if name in visiting:
            raise ModelError(f"ref() cycle through {name}")
        visiting.add(name)
        for ref in models[name].refs:
            visit(ref)
        visiting.discard(name)
        seen.add(name)
        order.append(name)

    for name in sorted(models):
        visit(name)
    return order
