"""A cycle is published whole and one run at a time (SPEC 5), whatever happens to the run.

* Killed at a step (SIGKILL of the process running it), a run changes no published row:
  a second connection polling throughout always sees the published tables agree with
  each other, and a re-run gives exactly the tables of a clean run.
* A second run of a cycle that another live run is building is refused, naming it, or
  -- with ``cycle_lock_wait_s`` -- waits for it and then runs.
* A lost database connection is retried where safe; a database that cannot be written is
  a clear failure that publishes nothing.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import _pg_schema_url, _pg_url
from http_server import ExportServer, Fault
from scenario import CYCLE, REVIEW_DATE, attempt, run, ts, write_scenario

from tokenreview_pipeline import ledger
from tokenreview_pipeline.sample import generate_sample

HERE = Path(__file__).resolve().parent
KILL_STEPS = (
    "extract_request_log",
    "int_retry_causes",
    "review_packets",
    "cycle_publication",
)
VOLATILE = ("run_id", "extracted_at", "accessed_at", "published_at")

# One statement, so one snapshot: the published tables of the cycle agree with each other.
CONSISTENCY = sa.text(
    """
    SELECT
      (SELECT COUNT(*) FROM request_attempts WHERE cycle_id = :c) AS attempts,
      (SELECT COALESCE(SUM(attempts), 0) FROM review_packets WHERE cycle_id = :c)
          AS packet_attempts,
      (SELECT COALESCE(MAX(attempts_staged), 0) FROM extraction_runs WHERE cycle_id = :c)
          AS staged,
      (SELECT COUNT(*) FROM quarantined_records WHERE cycle_id = :c) AS quarantined,
      (SELECT COALESCE(MAX(records_quarantined), 0) FROM extraction_runs WHERE cycle_id = :c)
          AS counted_quarantined,
      (SELECT COUNT(*) FROM focus_charges AS f WHERE f.cycle_id = :c AND NOT EXISTS (
          SELECT 1 FROM review_packets AS p
          WHERE p.cycle_id = f.cycle_id AND p.workload_tag = f.workload_tag
            AND (p.request_class = f.request_class
                 OR (p.request_class IS NULL AND f.request_class IS NULL))))
          AS orphan_charges
    """
)


class Poller(threading.Thread):
    """Reads the published tables over its own connections until stopped."""

    def __init__(self, db_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
        self.stop_event = threading.Event()
        self.snapshots: list[tuple] = []
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                with self.engine.connect() as conn:
                    self.snapshots.append(tuple(conn.execute(CONSISTENCY, {"c": CYCLE}).one()))
            except sa.exc.OperationalError as exc:  # SQLite busy: try again
                self.errors.append(str(exc.orig))
            time.sleep(0.005)

    def inconsistent(self) -> list[tuple]:
        return [
            s for s in self.snapshots if not (s[0] == s[1] == s[2] and s[3] == s[4] and s[5] == 0)
        ]

    def finish(self) -> None:
        self.stop_event.set()
        self.join(10)
        self.engine.dispose()


def published_tables(db_url: str) -> dict[str, list[tuple]]:
    """Every published table's rows of the cycle, without run ids and fetch times."""
    out = {}
    with ledger.engine_for(db_url).connect() as conn:
        for table in ledger.PUBLISHED_TABLES:
            columns = [c for c in table.columns if not c.name.endswith(VOLATILE)]
            rows = conn.execute(sa.select(*columns).where(table.c.cycle_id == CYCLE)).all()
            out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


class CycleProcess:
    """``tests/cycle_process.py`` in a process of its own; its step starts are followed."""

    def __init__(self, config: Path, db_url: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "cycle_process.py"),
                str(config),
                CYCLE,
                db_url,
                REVIEW_DATE.isoformat(),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "DAGSTER_HOME": ""},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_step(self, step: str, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                return False
            if "STEP_START" in line and f" - {step} - " in line:
                return True
        raise AssertionError(f"step {step} did not start within {timeout} s")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def result(self, timeout: float = 180) -> dict:
        out, _ = self.proc.communicate(timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])


def _second_ledger(db_url: str, tmp_path: Path):
    """Another empty ledger on the same backend (for the clean reference runs)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'reference-{uuid.uuid4().hex[:6]}.db'}", None
    admin = sa.create_engine(_pg_url(), poolclass=sa.pool.NullPool)
    schema, url = _pg_schema_url(admin, _pg_url())
    return url, (admin, schema)


def _drop(extra) -> None:
    if extra is not None:
        admin, schema = extra
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def _samples(tmp_path: Path) -> list[Path]:
    configs = []
    for seed, attempts in ((11, 1200), (12, 1500)):
        sample = generate_sample(
            tmp_path / f"data-{seed}",
            seed=seed,
            attempts=attempts,
            cycle_start=datetime(2026, 11, 16),
        )
        configs.append(sample.config_path)
    return configs


def test_a_killed_run_never_shows_a_half_published_cycle(tmp_path, db_url):
    configs = _samples(tmp_path)
    reference_url, extra = _second_ledger(db_url, tmp_path)
    try:
        reference = []
        for config in configs:
            # The second run is the steady state: the first indexed the files
            # (source_files), so later runs skip those wholly outside the read window.
            run(config, reference_url)
            run(config, reference_url)
            reference.append(published_tables(reference_url))
        assert reference[0] != reference[1]
    finally:
        ledger.engine_for(reference_url).dispose()
        _drop(extra)

    run(configs[1], db_url)  # both folders indexed before any run is killed
    run(configs[0], db_url)
    published = 0
    poller = Poller(db_url)
    poller.start()
    try:
        for step in KILL_STEPS:
            target = 1 - published  # build the other data than what is published
            cycle = CycleProcess(configs[target], db_url)
            assert cycle.wait_for_step(step), f"the run ended before {step}"
            cycle.kill()
            run(configs[target], db_url)  # the re-run takes the dead run's cycle over
            assert published_tables(db_url) == reference[target], step
            published = target
    finally:
        poller.finish()
    assert len(poller.snapshots) > 100
    assert poller.inconsistent() == []
    counts = {s[0] for s in poller.snapshots}
    assert len(counts) == 2  # both cycles' contents were seen, never a mix


@pytest.mark.parametrize("wait_s", [0, 120])
def test_two_runs_of_one_cycle_never_interleave(tmp_path, db_url, wait_s):
    records = [attempt(f"h{i}", ts(i)) for i in range(40)]
    pages = {None: {"data": records, "next_cursor": None}}
    engine = ledger.engine_for(db_url)
    ledger.ensure_schema(engine)
    # The first run's first page is held: it holds the cycle while the second one starts.
    with ExportServer(pages, faults=[Fault.hold()], max_lifetime_s=240) as server:
        config = write_scenario(
            tmp_path,
            [],
            extra_config={
                "request_logs": {"kind": "http", "url": server.url, "timeout_s": 120},
                "cycle_lock_wait_s": wait_s,
            },
        )
        first = CycleProcess(config, db_url)
        first.wait_for_step("extract_request_log")
        _wait_for(lambda: _lease(engine) is not None)
        second = CycleProcess(config, db_url)
        if wait_s:
            # the second run starts its steps and waits for the cycle
            assert second.wait_for_step("extract_request_log")
            time.sleep(1)
            assert second.proc.poll() is None
        else:
            second_result = second.result()
        server.release()
        first_result = first.result()
        if wait_s:
            second_result = second.result()

    assert first_result["success"], first_result["failures"]
    with engine.connect() as conn:
        publications = (
            conn.execute(
                sa.select(ledger.cycle_publications.c.run_id).order_by(
                    ledger.cycle_publications.c.published_at
                )
            )
            .scalars()
            .all()
        )
    assert _lease(engine) is None  # every publication released its cycle
    if wait_s:
        assert second_result["success"], second_result["failures"]
        assert publications == [first_result["run_id"], second_result["run_id"]]
    else:
        assert not second_result["success"]
        refused = f"cycle {CYCLE} is being processed by run {first_result['run_id']}"
        assert second_result["failures"]
        assert all(refused in message for message in second_result["failures"])
        assert publications == [first_result["run_id"]]
    tables = published_tables(db_url)
    assert len(tables["request_attempts"]) == 40 and len(tables["extraction_runs"]) == 1


def _lease(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(ledger.cycle_leases)).first()


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_lost_connection_is_retried_and_publishes_once(tmp_path, pg_db_url):
    """Connections are terminated with pg_terminate_backend: PostgreSQL only."""
    db_url = pg_db_url
    (config,) = _samples(tmp_path)[:1]
    reference_url, extra = _second_ledger(db_url, tmp_path)
    try:
        run(config, reference_url)
        reference = published_tables(reference_url)
    finally:
        ledger.engine_for(reference_url).dispose()
        _drop(extra)

    admin = sa.create_engine(_pg_url(), poolclass=sa.pool.NullPool)
    # Only this test's connections: other suites may share the PostgreSQL server.
    app = f"tokenreview-test-{uuid.uuid4().hex[:8]}"
    own_url = (
        sa.engine.make_url(db_url)
        .update_query_dict({"application_name": app})
        .render_as_string(hide_password=False)
    )
    killed: list[str] = []
    targets = ["INSERT INTO int_grouped_attempts", "INSERT INTO request_attempts"]

    def terminate() -> None:
        deadline = time.monotonic() + 120
        while targets and time.monotonic() < deadline:
            with admin.connect() as conn:
                pids = (
                    conn.execute(
                        sa.text(
                            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                            "AND application_name = :app AND state = 'active' AND query LIKE :q"
                        ),
                        {"q": f"%{targets[0]}%", "app": app},
                    )
                    .scalars()
                    .all()
                )
                for pid in pids:
                    conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                if pids:
                    killed.append(targets.pop(0))
            time.sleep(0.002)

    killer = threading.Thread(target=terminate, daemon=True)
    killer.start()
    result = run(config, own_url)
    killer.join(5)
    admin.dispose()
    assert killed, "no statement was caught running"
    restarted = {e.step_key for e in result.all_events if e.event_type_value == "STEP_RESTARTED"}
    assert restarted, [e.event_type_value for e in result.all_events]
    assert published_tables(own_url) == reference


def test_a_ledger_that_cannot_be_written_fails_clearly_and_publishes_nothing(tmp_path):
    config = write_scenario(tmp_path, [attempt("a1", ts(10))])
    path = tmp_path / "ledger.db"
    url = f"sqlite:///{path}"
    run(config, url)
    before = published_tables(url)
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    write_scenario(tmp_path, [attempt("a1", ts(10)), attempt("a2", ts(11))])
    result = run(config, read_only, expect_success=False)
    messages = [e.event_specific_data.error.message for e in result.all_events if e.is_step_failure]
    # SQLite says either, depending on whether the WAL files of the ledger still exist
    read_only_errors = ("attempt to write a readonly database", "unable to open database file")
    assert messages and all(
        any(f"cannot be used: {error}" in m for error in read_only_errors) for m in messages
    ), messages
    assert str(tmp_path) not in " ".join(messages) or "ledger.db" in " ".join(messages)
    assert published_tables(url) == before
