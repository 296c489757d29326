"""The ledger schema under Alembic: head equals ledger.py, a 0.1.0 ledger upgrades without
losing a row, an out-of-date ledger is refused naming the command, first runs at once
create the schema once, keys hold, and PostgreSQL carries every column's comment."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tokenreview_pipeline import cli, ledger, ledger_migrations
from tokenreview_pipeline.column_docs import column_doc

FIXTURES = Path(__file__).parent / "fixtures" / "ledger_0_1_0"


def _diffs(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, ledger.metadata)


def _engine(url: str):
    # a plain engine: ensure_schema's once-per-URL memo must not hide what a test checks
    return ledger.engine_for(url)


def test_upgrade_of_an_empty_ledger_gives_exactly_the_metadata(db_url):
    engine = _engine(db_url)
    before, after = ledger_migrations.upgrade(engine)
    assert (before.kind, after.kind, after.revision) == ("empty", "current", after.head)
    assert _diffs(engine) == []


def test_a_new_ledger_is_created_at_the_head_by_the_first_run(db_url):
    engine = _engine(db_url)
    ledger.ensure_schema(engine)
    assert ledger_migrations.current(engine).kind == "current"
    assert _diffs(engine) == []


def test_the_migrations_have_one_head_and_start_at_the_0_1_0_baseline():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(ledger_migrations.alembic_config())
    assert len(script.get_heads()) == 1
    assert script.get_base() == ledger_migrations.BASELINE_0_1_0


# ------------------------------------------------------------- a 0.1.0 ledger


def _create_0_1_0(engine) -> None:
    ddl = (FIXTURES / f"{engine.dialect.name}.sql").read_text()
    statements = [s.strip() for s in ddl.split(";\n") if s.strip()]
    with engine.begin() as conn:
        for statement in statements:
            body = "\n".join(x for x in statement.splitlines() if not x.startswith("--"))
            if body.strip():
                conn.exec_driver_sql(body)


_TS = datetime(2026, 11, 16, 8, 30, tzinfo=timezone.utc)  # noqa: UP017 - Python 3.10


def _typed(table: str, column: sa.Column) -> sa.types.TypeEngine:
    """The column's type as the ledger declares it (UTC timestamps, money), else as
    reflected (a column 0.1.0 had and this version renamed)."""
    current = ledger.metadata.tables[table].c
    return current[column.name].type if column.name in current else column.type


def _value(column: sa.Column, table: str, i: int):
    """A distinct value of the column's type for row ``i`` (charge kinds of 0.1.0)."""
    name, kind = column.name, _typed(table, column)
    if name == "cycle_id":
        return ["2026-11-16", "2026-11-23"][i]
    if name == "charge_kind":
        return ["input", "request"][i]
    if isinstance(kind, sa.Boolean):
        return i == 0
    if isinstance(kind, sa.Date):
        return _TS.date()
    if isinstance(kind, (ledger.UtcDateTime, sa.DateTime)):
        return _TS
    if isinstance(kind, (sa.Integer, sa.BigInteger)):
        return 10 + i
    if isinstance(kind, (sa.Numeric, sa.Float)):
        return Decimal("0.000000150000000000") * (i + 1)
    if name.lower().endswith(("ids", "_urls", "tags", "requirements", "reasons")):
        return f'["{table}-{i}"]'
    length = getattr(kind, "length", None) or 64
    return f"{name}-{i}"[:length]


def _seed(engine) -> dict[str, list[dict]]:
    """Two rows in every table of 0.1.0, every column set, as 0.1.0 would store them."""
    meta = sa.MetaData()
    meta.reflect(engine)
    rows: dict[str, list[dict]] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name.startswith(("stg_", "int_")):
                continue
            values = [{c.name: _value(c, table.name, i) for c in table.columns} for i in (0, 1)]
            typed = sa.table(
                table.name, *[sa.column(c.name, _typed(table.name, c)) for c in table.columns]
            )
            conn.execute(typed.insert(), values)
            rows[table.name] = values
    return rows


def _as_stored(engine, table: str, columns: list[str]) -> list[tuple]:
    with engine.connect() as conn:
        t = sa.Table(table, sa.MetaData(), autoload_with=conn)
        result = conn.execute(sa.select(*[t.c[c] for c in columns]).order_by(t.c[columns[0]]))
        return [tuple(r) for r in result]


def test_a_0_1_0_ledger_with_rows_upgrades_without_loss(db_url):
    engine = _engine(db_url)
    _create_0_1_0(engine)
    seeded = _seed(engine)
    old_columns = {t: list(rows[0]) for t, rows in seeded.items()}
    before = {t: _as_stored(engine, t, cols) for t, cols in old_columns.items()}

    # the pipeline refuses it, naming the command
    with pytest.raises(ledger.LedgerSchemaError, match="tokenreview db upgrade"):
        ledger_migrations.ensure_current(engine)

    state_before, state_after = ledger_migrations.upgrade(engine)
    assert state_before.kind == "unversioned"
    assert state_after.kind == "current"
    assert _diffs(engine) == []

    for table, columns in old_columns.items():
        renamed = ["x_ChargeKind" if c == "charge_kind" else c for c in columns]
        assert _as_stored(engine, table, renamed) == before[table], table

    with engine.connect() as conn:
        attempts = conn.execute(sa.select(ledger.request_attempts)).mappings().all()
        packets = conn.execute(sa.select(ledger.review_packets)).mappings().all()
        prices = conn.execute(sa.select(ledger.pricing_snapshot_prices)).mappings().all()
        charges = conn.execute(
            sa.select(ledger.focus_charges).order_by(ledger.focus_charges.c.cycle_id)
        ).mappings()
        charges = charges.all()
    for row in [*attempts, *packets]:
        assert (row["cached_prompt_tokens"], row["reasoning_tokens"], row["gateway_retries"]) == (
            0,
            0,
            0,
        )
    assert {a["service_tier"] for a in attempts} == {"standard"}
    assert {(p["service_tier"], p["min_prompt_tokens"]) for p in prices} == {("standard", 0)}
    input_row, request_row = charges
    assert input_row["x_ChargeKind"] == "input"
    assert input_row["SkuPriceDetails"] == (
        '{"TokenDirection":"Input","TokenCacheAction":"Uncached","ServiceTier":"standard",'
        '"ModelId":"model-0"}'
    )
    assert request_row["SkuPriceDetails"] == '{"ServiceTier":"standard","ModelId":"model-1"}'
    assert input_row["AllocatedMethodDetails"] == '{"rule_ids":["focus_charges-0"]}'
    assert input_row["HostProviderName"] == input_row["ProviderName"]
    assert input_row["AllocatedTags"] == input_row["Tags"]

    # the new key of pricing_snapshot_prices: another tier of the same model is a new row
    with engine.begin() as conn:
        conn.execute(
            ledger.pricing_snapshot_prices.insert(),
            {**dict(prices[0]), "service_tier": "batch"},
        )
    ledger.ensure_schema(engine)  # the pipeline uses the upgraded ledger


def test_an_unversioned_ledger_of_another_shape_is_not_stamped(db_url):
    engine = _engine(db_url)
    with engine.begin() as conn:
        ledger.request_attempts.create(conn)
    with pytest.raises(ledger.LedgerSchemaError, match="unreleased version"):
        ledger_migrations.upgrade(engine)
    assert ledger_migrations.current(engine).kind == "unversioned"  # left as it was


# ------------------------------------------------------------- refusing and the CLI


def test_a_ledger_behind_the_head_is_refused_by_the_run_and_upgraded_by_the_cli(db_url, capsys):
    engine = _engine(db_url)
    ledger_migrations.upgrade(engine, ledger_migrations.BASELINE_0_1_0)
    with pytest.raises(ledger.LedgerSchemaError) as refused:
        ledger_migrations.ensure_current(engine)
    message = str(refused.value)
    assert "at revision 0001, behind the head" in message
    assert "tokenreview db upgrade --database-url" in message

    assert cli.main(["db", "current", "--database-url", db_url]) == 1
    assert "at revision 0001" in capsys.readouterr().out
    assert cli.main(["db", "upgrade", "--database-url", db_url]) == 0
    assert "upgraded from at revision 0001" in capsys.readouterr().out
    assert cli.main(["db", "current", "--database-url", db_url]) == 0
    assert "(head)" in capsys.readouterr().out
    assert cli.main(["db", "upgrade", "--database-url", db_url]) == 0
    assert "already at revision" in capsys.readouterr().out
    assert _diffs(engine) == []


def test_the_run_command_refuses_an_out_of_date_ledger_with_exit_2(tmp_path, capsys, monkeypatch):
    from scenario import write_scenario

    from tokenreview_pipeline import cli_runs

    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = cli_runs.open_instance(home)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    ledger_migrations.upgrade(_engine(url), ledger_migrations.BASELINE_0_1_0)
    config = write_scenario(tmp_path, [])
    code = cli.main(
        ["run", "--config", str(config), "--cycle", "2026-11-16", "--database-url", url]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "tokenreview db upgrade" in err and "revision 0001" in err
    # The refused run is not left in the instance, where it would hold the cycle.
    assert instance.get_runs() == []
    instance.dispose()


def test_db_commands_need_a_ledger(monkeypatch, capsys):
    monkeypatch.delenv("TOKENREVIEW_DATABASE_URL", raising=False)
    assert cli.main(["db", "upgrade"]) == 2
    assert "--database-url" in capsys.readouterr().err


def test_a_ledger_of_a_newer_version_is_refused(db_url):
    engine = _engine(db_url)
    ledger_migrations.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ledger.LedgerSchemaError, match="does not know"):
        ledger_migrations.ensure_current(engine)
    with pytest.raises(ledger.LedgerSchemaError, match="does not know"):
        ledger_migrations.upgrade(engine)


# ------------------------------------------------------------- concurrency

_FIRST_RUN = """
import sys, time
from tokenreview_pipeline import ledger, ledger_migrations
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.005)
print(ledger_migrations.ensure_current(ledger.engine_for(sys.argv[1])).kind)
"""


def test_first_runs_at_once_create_the_schema_once(db_url):
    import time

    start = time.time() + 3
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _FIRST_RUN, db_url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outs]
    assert [out.strip() for out, _ in outs] == ["current"] * 4
    engine = _engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM alembic_version")).scalar() == 1
    assert _diffs(engine) == []


_NEW_LEDGER_RACE = """
import multiprocessing as mp, sys
import sqlalchemy as sa
from tokenreview_pipeline import ledger

def worker(folder, rounds, barrier, errors):
    for i in range(rounds):
        barrier.wait()  # every process opens the same brand-new file at once
        engine = ledger.engine_for(f"sqlite:///{folder}/ledger{i}.db")
        try:
            with engine.connect() as conn:
                mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                assert mode == "wal", mode
        except sa.exc.OperationalError as exc:
            errors.put(str(exc.orig))
        engine.dispose()

if __name__ == "__main__":
    ctx = mp.get_context("fork")
    barrier, errors = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(sys.argv[1], int(sys.argv[2]), barrier, errors))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    found = []
    while not errors.empty():
        found.append(errors.get())
    print(len(found), found[:1])
"""


def test_processes_opening_a_new_sqlite_ledger_at_once_all_get_it_in_wal_mode(tmp_path):
    # SQLite answers PRAGMA journal_mode=WAL with "database is locked" at once, without
    # its busy timeout, while another process converts or closes the same new file: it
    # failed about one round in ten before ledger connections retried it.
    script = tmp_path / "race.py"
    script.write_text(_NEW_LEDGER_RACE)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "150"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(" ", 1)[0] == "0", done.stdout


# ------------------------------------------------------------- keys and comments


def test_the_grain_keys_hold_on_the_published_tables(db_url):
    engine = _engine(db_url)
    ledger.ensure_schema(engine)
    row = {
        "cycle_id": "2026-11-16",
        "model": "m",
        "estimated_tokens": 1,
        "status": "matched",
    }
    with engine.begin() as conn:
        conn.execute(ledger.billing_reconciliation.insert(), row)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(ledger.billing_reconciliation.insert(), row)
    with engine.begin() as conn:  # another cycle is another row
        conn.execute(ledger.billing_reconciliation.insert(), {**row, "cycle_id": "2026-11-23"})
    inspector = sa.inspect(engine)
    unique = {
        t.name: [i["column_names"] for i in inspector.get_indexes(t.name) if i["unique"]]
        for t in ledger.PUBLISHED_TABLES
    }
    assert unique["request_attempts"] == [["attempt_id"]]
    assert unique["extraction_runs"] == [["cycle_id"]]
    assert unique["review_packets"] == [["cycle_id", "workload_tag", "request_class"]]
    assert unique["budget_reviews"] == [["cycle_id", "workload_tag"]]
    assert all(unique.values()), unique


def test_every_published_column_has_its_comment_on_postgresql(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has no column comments")
    engine = _engine(db_url)
    ledger.ensure_schema(engine)
    inspector = sa.inspect(engine)
    for table in ledger.PUBLISHED_TABLES:
        assert inspector.get_table_comment(table.name)["text"] == table.comment
        comments = {c["name"]: c.get("comment") for c in inspector.get_columns(table.name)}
        expected = {c.name: column_doc(table.name, c.name) for c in table.columns}
        assert comments == expected, table.name
        assert all(comments.values()), table.name
