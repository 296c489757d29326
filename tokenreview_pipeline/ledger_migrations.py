"""The ledger schema under version control: Alembic migrations shipped in the package.

The revisions are in ``tokenreview_pipeline/migrations/versions``; the head is the
schema ``ledger.py`` declares. This module decides what a ledger needs:

* a brand-new ledger (no tokenreview table) is created at the head automatically, so a
  first run (``tokenreview demo``) is one command;
* a ledger at the head is used as it is;
* a ledger at an older revision, or a 0.1.0 ledger (created before Alembic: its tables
  without an ``alembic_version`` table), is refused with a message naming
  ``tokenreview db upgrade``: changing tables that hold budget evidence is the
  operator's decision, made once, not a side effect of a scheduled run;
* a ledger at a revision this version does not know (written by a newer tokenreview) is
  refused too.

Every change of schema (creation or upgrade) runs in one transaction under one lock
(PostgreSQL: an advisory transaction lock; SQLite: the database write lock, BEGIN
IMMEDIATE), and the state is checked again once the lock is held, so two first runs
at once create the schema once and the second one finds it at the head.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.ledger import LedgerSchemaError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Where Alembic records a ledger's revision (its default name).
VERSION_TABLE = "alembic_version"
#: The revision a 0.1.0 ledger (no ``alembic_version``) is stamped at before upgrading.
BASELINE_0_1_0 = "0001"
# Any constant: every tokenreview process changing the schema takes this one lock.
SCHEMA_LOCK_ID = 0x746F6B656E726576  # "tokenrev"

UPGRADE_COMMAND = "tokenreview db upgrade"


@dataclass(frozen=True)
class SchemaState:
    #: ``empty``, ``current``, ``behind``, ``unversioned`` (0.1.0) or ``unknown``
    kind: str
    revision: str | None
    head: str

    def describe(self) -> str:
        return {
            "empty": "empty (no tokenreview table)",
            "current": f"at revision {self.revision} (head)",
            "behind": f"at revision {self.revision}, behind the head {self.head}",
            "unversioned": "created by tokenreview 0.1.0 (no schema revision recorded)",
            "unknown": f"at revision {self.revision}, which this version does not know "
            "(written by a newer tokenreview?)",
        }[self.kind]


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:  # a merge of two branches that forgot a merge revision
        raise LedgerSchemaError(f"the ledger migrations have {len(heads)} heads: {heads}")
    return heads[0]


def schema_state(conn: Connection) -> SchemaState:
    head = head_revision()
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        existing = set(sa.inspect(conn).get_table_names()) & set(ledger.metadata.tables)
        return SchemaState("unversioned" if existing else "empty", None, head)
    if revision == head:
        return SchemaState("current", revision, head)
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    return SchemaState("behind" if revision in known else "unknown", revision, head)


def _shown(engine: Engine) -> str:
    return ledger.redact_url(engine.url.render_as_string(hide_password=False))


def _refusal(engine: Engine, state: SchemaState) -> LedgerSchemaError:
    if state.kind == "unknown":
        return LedgerSchemaError(
            f"the ledger {_shown(engine)} is {state.describe()}: upgrade tokenreview, or "
            "use a ledger of this version"
        )
    return LedgerSchemaError(
        f"the ledger {_shown(engine)} is {state.describe()}; this version of tokenreview "
        f"needs revision {state.head}. Back it up, then run `{UPGRADE_COMMAND} "
        f"--database-url {_shown(engine)}` (or with --config PATH) and re-run."
    )


def _locked(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_ID})


def _is_0_1_0(conn: Connection) -> bool:
    """An unversioned ledger with the shape of 0.1.0: its focus_charges still has
    ``charge_kind`` (renamed ``x_ChargeKind`` in 0002)."""
    inspector = sa.inspect(conn)
    if "focus_charges" not in inspector.get_table_names():
        return False
    return "charge_kind" in {c["name"] for c in inspector.get_columns("focus_charges")}


def ensure_current(engine: Engine) -> SchemaState:
    """Use the ledger as it is when it is at the head; create a brand-new one at the
    head; refuse any other (``LedgerSchemaError`` naming ``tokenreview db upgrade``)."""
    with engine.connect() as conn:
        state = schema_state(conn)
    if state.kind == "current":
        return state
    if state.kind != "empty":
        raise _refusal(engine, state)
    with ledger.write_connection(engine) as conn, conn.begin():
        _locked(conn)
        state = schema_state(conn)  # another process may have created it meanwhile
        if state.kind == "empty":
            command.upgrade(alembic_config(conn), "head")
            return schema_state(conn)
    if state.kind != "current":
        raise _refusal(engine, state)
    return state


def upgrade(engine: Engine, revision: str = "head") -> tuple[SchemaState, SchemaState]:
    """Upgrade the ledger to ``revision`` in one transaction; returns the state before
    and after. A 0.1.0 ledger is stamped at the baseline first."""
    with ledger.write_connection(engine) as conn, conn.begin():
        _locked(conn)
        before = schema_state(conn)
        if before.kind == "unknown":
            raise _refusal(engine, before)
        config = alembic_config(conn)
        if before.kind == "unversioned":
            if not _is_0_1_0(conn):
                raise LedgerSchemaError(
                    f"the ledger {_shown(engine)} has tokenreview tables but no schema "
                    "revision, and not the shape of tokenreview 0.1.0: it was created by an "
                    "unreleased version. Re-create it (a new ledger is created at the head) "
                    "and re-run its cycles."
                )
            command.stamp(config, BASELINE_0_1_0)
        command.upgrade(config, revision)
        after = schema_state(conn)
    return before, after


def current(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return schema_state(conn)


def new_revision(engine: Engine, message: str) -> str:
    """Write a new revision file with Alembic autogenerate: the difference between the
    ledger ``engine`` (at the head) and ``ledger.metadata``. For developers."""
    with engine.connect() as conn:
        state = schema_state(conn)
        if state.kind != "current":
            raise _refusal(engine, state)
        config = alembic_config(conn)
        number = len(list(ScriptDirectory.from_config(config).walk_revisions())) + 1
        script = command.revision(
            config, message=message, autogenerate=True, rev_id=f"{number:04d}"
        )
    return script.path if script is not None else ""
