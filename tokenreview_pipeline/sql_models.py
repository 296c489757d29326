"""A small dbt-like runner for the SQL models in ``dbt_like_sql/``.

Model files
    Each ``dbt_like_sql/<name>.sql`` is one model: a Jinja2 template (see
    ``sql_templates.py``) of a single ``SELECT`` whose output columns are named after
    the columns of the table ``<name>`` (declared in ``ledger.py``). Leading ``--``
    comment lines are the model's description; header lines ``-- unique_key: a, b``
    (the columns that identify the rows one run replaces, default ``cycle_id``) and
    ``-- metadata: name`` (extra Dagster metadata, see ``defs/model_metadata.py``) are
    settings. ``{{ ref('other') }}`` declares a dependency.

Checks
    ``dbt_like_sql/checks/<asset>/<check>.sql`` returns the failing rows; its header
    says ``-- severity: error`` (blocking, the default) or ``warn``.

Materialization
    A model is replaced for its ``unique_key`` values in one transaction:
    ``DELETE`` the cycle's rows, ``INSERT ... SELECT``. An intermediate model (``int_*``)
    writes its own table. A published model (a table ``ledger.py`` marks published)
    writes its build table ``_build_<name>``; within a run, ``ref()`` of a published
    model reads that build, and ``published('name')`` reads the published table (other
    cycles' rows). Publication (``publication.py``) swaps every published table of
    the cycle in one transaction, and only when no blocking check failed, so analysts
    see the whole old cycle or the whole new one and never rows that failed a check.

Where the files are
    In a source checkout, the top-level ``dbt_like_sql/``; in an installed wheel, the
    copy shipped as package data (``tokenreview_pipeline/dbt_like_sql``);
    ``$TOKENREVIEW_SQL_DIR`` overrides both.
"""

from __future__ import annotations

import importlib.resources
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.sql_templates import (
    CONTRACT_PARAMS,
    ModelError,
    referenced_names,
    render,
)

__all__ = [
    "CheckOutcome",
    "ModelError",
    "ModelRun",
    "SqlCheck",
    "SqlModel",
    "bind",
    "discover_models",
    "render",
    "run_check",
    "run_model",
    "sql_dir",
    "topological_order",
]

SQL_DIR_ENV = "TOKENREVIEW_SQL_DIR"
_SQL_FOLDER = "dbt_like_sql"
_SETTINGS = ("unique_key", "severity", "metadata", "returns")

_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_HEADER = re.compile(r"^--\s?(.*)$")


@dataclass(frozen=True)
class SqlCheck:
    name: str
    model: str
    severity: str  # "error" (blocking) or "warn"
    description: str
    sql: str
    path: Path
    #: ``rows``: the check returns its failing rows (the default); ``status``: it returns
    #: one row whose ``passed`` column (1/0) is the result and whose other columns are
    #: the check's metadata, failing or not.
    returns: str = "rows"


@dataclass(frozen=True)
class SqlModel:
    name: str
    path: Path
    sql: str
    description: str
    refs: tuple[str, ...]
    unique_key: tuple[str, ...] = ("cycle_id",)
    checks: tuple[SqlCheck, ...] = ()
    metadata: tuple[str, ...] = ()

    @property
    def table(self) -> sa.Table:
        return ledger.metadata.tables[self.name]

    @property
    def published(self) -> bool:
        """Published to analysts (built, checked, then swapped in by publication)."""
        return ledger.is_published(self.table)

    @property
    def has_blocking_checks(self) -> bool:
        return any(c.severity == "error" for c in self.checks)


@dataclass
class CheckOutcome:
    check: SqlCheck
    failing_rows: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, Any] | None = None  # the status row of a ``returns: status`` check

    @property
    def passed(self) -> bool:
        if self.status is not None:
            return bool(self.status.get("passed"))
        return self.failing_rows == 0


@dataclass
class ModelRun:
    model: SqlModel
    rows: int
    blocked: bool  # an error-severity check failed: the build must not be published
    checks: list[CheckOutcome]
    table: str  # where the rows were written (a published model's build table)


def sql_dir() -> Path:
    """The folder of SQL models: ``$TOKENREVIEW_SQL_DIR``, else the copy installed with
    the package (a wheel), else the source checkout's top-level ``dbt_like_sql/``."""
    override = os.environ.get(SQL_DIR_ENV)
    if override:
        return Path(override)
    installed = importlib.resources.files("tokenreview_pipeline").joinpath(_SQL_FOLDER)
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parent.parent / _SQL_FOLDER


def _parse_header(text: str) -> tuple[str, dict[str, str]]:
    description, settings = [], {}
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if not match:
            break
        body = match.group(1).strip()
        key, sep, value = body.partition(":")
        if sep and key.strip() in _SETTINGS:
            settings[key.strip()] = value.strip()
        elif body:
            description.append(body)
    return " ".join(description), settings


def _names(setting: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in setting.split(",") if k.strip())


def _read_check(path: Path, asset: str) -> SqlCheck:
    text = path.read_text(encoding="utf-8")
    description, settings = _parse_header(text)
    severity = settings.get("severity", "error")
    if severity not in ("error", "warn"):
        raise ModelError(f"{path}: severity must be error or warn")
    returns = settings.get("returns", "rows")
    if returns not in ("rows", "status"):
        raise ModelError(f"{path}: returns must be rows or status")
    try:
        referenced_names(text)  # renders once: a template error names the file now
    except ModelError as exc:
        raise ModelError(f"{path}: {exc}") from None
    return SqlCheck(path.stem, asset, severity, description, text, path, returns)


def discover_checks(folder: Path | None = None) -> dict[str, tuple[SqlCheck, ...]]:
    """Every check file, by the asset it checks (``checks/<asset>/<check>.sql``)."""
    folder = folder or sql_dir()
    checks: dict[str, tuple[SqlCheck, ...]] = {}
    for asset_dir in sorted(p for p in (folder / "checks").glob("*") if p.is_dir()):
        checks[asset_dir.name] = tuple(
            _read_check(path, asset_dir.name) for path in sorted(asset_dir.glob("*.sql"))
        )
    return checks


@cache
def discover_models(folder: Path | None = None) -> dict[str, SqlModel]:
    """Every model in the folder, keyed by name, each with its checks."""
    folder = folder or sql_dir()
    if not folder.is_dir():
        raise ModelError(f"SQL model folder not found: {folder}")
    checks = discover_checks(folder)
    models = {}
    for path in sorted(folder.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        description, settings = _parse_header(text)
        name = path.stem
        if name not in ledger.metadata.tables:
            raise ModelError(f"{path}: no table {name!r} is declared in ledger.py")
        try:
            refs = referenced_names(text)
        except ModelError as exc:
            raise ModelError(f"{path}: {exc}") from None
        models[name] = SqlModel(
            name=name,
            path=path,
            sql=text,
            description=description,
            refs=refs,
            unique_key=_names(settings.get("unique_key", "cycle_id")),
            checks=checks.get(name, ()),
            metadata=_names(settings.get("metadata", "")),
        )
    for model in models.values():
        for ref in model.refs:
            if ref not in models and ref not in ledger.metadata.tables:
                raise ModelError(f"{model.path}: ref({ref!r}) names no model or table")
    return models


# ----------------------------------------------------------------------- binding


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
    params = {**CONTRACT_PARAMS, **params}
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


def in_run_table(name: str) -> str:
    """The table a run reads for ``ref(name)``: a published model's build (this run's
    rows, not yet published), else the table itself."""
    table = ledger.metadata.tables.get(name)
    if table is not None and ledger.is_published(table):
        return ledger.build_table(name).name
    return name


def _render(text: str, dialect: str, this: str | None = None) -> str:
    return render(text, dialect, this=this, ref=in_run_table).strip().rstrip(";")


def _insert_select(
    conn: Connection, model: SqlModel, target: str, params: Mapping[str, Any]
) -> int:
    select_sql = _render(model.sql, conn.dialect.name)
    produced = _columns_of(conn, select_sql, params)
    table_columns = {c.name: c for c in model.table.columns}
    unknown = [c for c in produced if c not in table_columns]
    if unknown:
        raise ModelError(f"{model.path.name}: columns not in table {model.name}: {unknown}")
    missing = [c.name for c in model.table.columns if c.name not in produced]
    if missing:
        raise ModelError(f"{model.path.name}: model does not produce column(s) {missing}")
    cols = ", ".join(f'"{c}"' for c in produced)
    into, select = cols, cols
    if model.published:
        into = f'"{ledger.BUILD_RUN_ID}", {cols}'
        select = f":{_BUILD_RUN_PARAM}, {cols}"
    result = conn.execute(
        bind(
            f"INSERT INTO {target} ({into}) SELECT {select} FROM ({select_sql}) AS model_rows",
            {**params, _BUILD_RUN_PARAM: params.get("run_id", "")},
        )
    )
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else 0


_BUILD_RUN_PARAM = "tokenreview_build_run_id"


def _replace(conn: Connection, model: SqlModel, target: str, params: Mapping[str, Any]) -> int:
    where, key_params = _key_filter(model, params)
    conn.execute(bind(f"DELETE FROM {target} WHERE {where}", key_params))
    return _insert_select(conn, model, target, params)


def run_check(
    conn: Connection, check: SqlCheck, table: str, params: Mapping[str, Any], sample_size: int = 20
) -> CheckOutcome:
    sql = _render(check.sql, conn.dialect.name, this=table)
    if check.returns == "status":
        found = conn.execute(bind(sql, params)).mappings().all()
        if len(found) != 1:
            raise ModelError(f"{check.path.name}: a status check must return one row")
        status = {k: _plain(v) for k, v in found[0].items()}
        return CheckOutcome(check, 0 if status.get("passed") else 1, [], status)
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


def _record_build(conn: Connection, model: SqlModel, params: Mapping[str, Any], rows: int) -> None:
    t = ledger.cycle_builds
    conn.execute(sa.delete(t).where(t.c.cycle_id == params["cycle_id"], t.c.model == model.name))
    conn.execute(
        t.insert().values(
            cycle_id=params["cycle_id"],
            model=model.name,
            run_id=params["run_id"],
            rows=rows,
            built_at=datetime.now(timezone.utc),
        )
    )


def run_model(engine: Engine, model: SqlModel, params: Mapping[str, Any]) -> ModelRun:
    """Materialize one model for the rows its unique key selects, then run its checks.

    An intermediate model (``int_*``) replaces its rows in place. A published model
    replaces its rows in its build table (``_build_<name>``, tagged with the run) and the
    build is recorded in ``cycle_builds``; publication (``publication.py``) later swaps
    every published table of the cycle at once. Checks read what was just written.
    ``engine`` may be a ``cycle_lease.FencedLedger``: every write is then fenced.
    """
    ledger.ensure_schema(engine)
    target = ledger.build_table(model.name).name if model.published else model.name
    with engine.begin() as conn:
        rows = _replace(conn, model, target, params)
        if model.published:
            _record_build(conn, model, params, rows)
        ledger.analyze(conn, target)
    with engine.connect() as conn:
        outcomes = [run_check(conn, c, target, params) for c in model.checks]
    blocked = any(not o.passed and o.check.severity == "error" for o in outcomes)
    return ModelRun(model, rows, blocked, outcomes, target)


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
