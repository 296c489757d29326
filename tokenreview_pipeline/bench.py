"""``tokenreview bench``: a full cycle through Dagster on generated data, measured.

The benchmark writes a sample project with the bundled generator (in a child process,
so the generator's memory is not the cycle's), runs the sample's main cycle through the
code location's job exactly as ``tokenreview run`` does, and reads the run's own event
log for the time of each step (extract, each SQL model with its checks, publication).
The extract step's time is split into reading (parse, validate, redact) and loading (the
inserts into ``stg_source_records``) by the extractor itself (``extract/load.py``
``StagingTimes``). Memory is sampled from ``/proc/self/statm`` while the cycle runs
(the peak of each step) and the process's high-water mark is read at the end. The
ledger's size after the run (SQLite: the file's pages; PostgreSQL: every ledger
relation) is divided by the attempts staged.

``--history-weeks W`` also measures the same cycle in a folder that holds W earlier
weeks of daily files (SPEC 4.1 ``source_files``): the cycle alone, then the cycle in the
history folder twice (the first run reads and indexes every file, the second is the
steady state of a weekly schedule); the ratio compares the second with the cycle alone.

``--compare-duckdb`` times DuckDB (an optional dev dependency) reading, validating,
grouping and classifying the same files in the same process and prints the ratio.

Figures are printed, never asserted: the machine is shared and load varies, so compare
ratios measured in one run (docs/performance.md).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tokenreview_pipeline import ledger

#: The generator's default main cycle (``sample.generator.DEFAULT_CYCLE_DAY``'s week).
BENCH_CYCLE = date(2026, 11, 16)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


# ----------------------------------------------------------------------- memory


def _rss_bytes() -> tuple[int, int]:
    """(resident, of which file-backed or shared) bytes. The file-backed part holds the
    mapped libraries and SQLite's WAL index (``-shm``), which grows by about 8 bytes per
    WAL frame of the largest transaction; the rest is anonymous memory (the heap:
    Python's objects, SQLite's page cache)."""
    try:
        with open("/proc/self/statm") as f:
            fields = f.read().split()
        return int(fields[1]) * _PAGE, int(fields[2]) * _PAGE
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 0


def _reset_high_water_mark() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM, so the peak is this cycle's own."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _high_water_mark() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class RssSampler:
    """Samples the resident set size every ``interval`` seconds in a daemon thread."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), *_rss_bytes()))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float, *, anonymous: bool = False) -> int:
        """The highest sample in [start, end] (of the resident set, or of its anonymous
        part); for a step shorter than the interval, the last sample before its end (the
        process's size while the step ran)."""
        sizes = [(t, rss - shared if anonymous else rss) for t, rss, shared in self.samples]
        inside = [size for t, size in sizes if start <= t <= end]
        if inside:
            return max(inside)
        before = [size for t, size in sizes if t <= end]
        return before[-1] if before else (sizes[0][1] if sizes else 0)


# ----------------------------------------------------------------------- figures


@dataclass
class Stage:
    name: str
    seconds: float
    records_per_s: float | None
    peak_rss_bytes: int
    peak_anonymous_bytes: int


@dataclass
class CycleFigures:
    label: str
    database: str
    records_read: int
    attempts_staged: int
    files_read: int | None
    success: bool
    total_seconds: float
    peak_rss_bytes: int
    peak_anonymous_bytes: int
    ledger_bytes: int
    ledger_bytes_per_attempt: float | None
    reconciled: bool
    stages: list[Stage] = field(default_factory=list)


def _step_windows(instance, run_id: str) -> list[tuple[str, float, float]]:
    """(step key, start, end) of each step of the run, in the order they started."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        kind = event.event_type_value
        if kind == "STEP_START":
            starts[entry.step_key] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            ends[entry.step_key] = entry.timestamp
    return sorted(((k, s, ends.get(k, s)) for k, s in starts.items()), key=lambda item: item[1])


def _extract_metadata(result) -> dict[str, Any]:
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if mat.asset_key.to_user_string() == "stg_source_records":
            return {k: v.value for k, v in mat.metadata.items()}
    return {}


def ledger_bytes(engine: sa.Engine) -> int:
    """Bytes the ledger's tables take: the SQLite file's used pages, or the sum of
    every ledger relation (tables, indexes, TOAST) on PostgreSQL."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
            free = conn.exec_driver_sql("PRAGMA freelist_count").scalar()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar()
            return int((pages - free) * size)
        names = list(sa.inspect(conn).get_table_names())
        total = 0
        for name in names:
            if name in ledger.metadata.tables or name.startswith("_build_"):
                total += conn.execute(
                    sa.text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": name}
                ).scalar()
        return int(total)


def _counts(engine: sa.Engine, cycle_id: str, run_id: str) -> dict[str, int]:
    runs = ledger.extraction_runs
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(runs).where(runs.c.cycle_id == cycle_id, runs.c.run_id == run_id)
            )
            .mappings()
            .first()
        )
    return dict(row) if row else {}


def run_measured_cycle(
    config_path: Path, database_url: str, cycle_id: str, home: Path, label: str
) -> CycleFigures:
    """One cycle through Dagster (as ``tokenreview run``), measured."""
    from tokenreview_pipeline.cli import run_cycle
    from tokenreview_pipeline.cli_runs import open_instance
    from tokenreview_pipeline.config import load_config

    config = load_config(config_path, database_url=database_url)
    instance = open_instance(home)
    engine = ledger.engine_for(database_url)
    ledger.ensure_schema(engine)
    _reset_high_water_mark()
    started = time.time()
    with RssSampler() as sampler:
        result = run_cycle(config, cycle_id, database_url=database_url, instance=instance)
    total = time.time() - started
    peak = max(_high_water_mark(), sampler.peak(started, time.time()))
    counts = _counts(engine, cycle_id, result.run_id)
    staged = int(counts.get("attempts_staged") or 0)
    read = int(counts.get("records_read") or 0)
    reconciled = bool(counts) and read == (
        staged
        + int(counts["records_quarantined"])
        + int(counts["exact_duplicates"])
        + int(counts["other_cycle_records"])
    )
    meta = _extract_metadata(result)
    stages: list[Stage] = []
    for step, start, end in _step_windows(instance, result.run_id):
        seconds = end - start
        rss = sampler.peak(start, end)
        anon = sampler.peak(start, end, anonymous=True)
        if step == "extract_request_log" and "load_seconds" in meta:
            load_s = float(meta["load_seconds"])
            read_s = max(seconds - load_s, 0.0)
            stages.append(Stage("extract", read_s, read / read_s if read_s else None, rss, anon))
            stages.append(Stage("load", load_s, read / load_s if load_s else None, rss, anon))
            continue
        name = "publish" if step == "cycle_publication" else step
        stages.append(Stage(name, seconds, read / seconds if seconds else None, rss, anon))
    size = ledger_bytes(engine)
    return CycleFigures(
        label=label,
        database=engine.dialect.name,
        records_read=read,
        attempts_staged=staged,
        files_read=meta.get("files_read"),
        success=result.success,
        total_seconds=total,
        peak_rss_bytes=peak,
        peak_anonymous_bytes=sampler.peak(started, time.time(), anonymous=True),
        ledger_bytes=size,
        ledger_bytes_per_attempt=size / staged if staged else None,
        reconciled=reconciled,
        stages=stages,
    )


# ----------------------------------------------------------------------- data


def generate(outdir: Path, attempts: int, cycle_start: date, seed: int = 7) -> None:
    """The bundled generator in a child process (its memory is not the cycle's)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tokenreview_pipeline.cli",
            "generate",
            str(outdir),
            "--attempts",
            str(attempts),
            "--seed",
            str(seed),
            "--cycle",
            cycle_start.isoformat(),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _file_day(name: str) -> date | None:
    stem = name.split(".")[0]
    try:
        return date.fromisoformat(stem[-10:])
    except ValueError:
        return None


def add_history(folder: Path, work: Path, weeks: int, attempts_per_week: int) -> int:
    """Daily files of ``weeks`` earlier weeks added to ``folder``'s request logs: only
    days before the main cycle's read window, so the cycle's own records are unchanged
    (the undated CSV export of each week is left out). Returns the files added."""
    added = 0
    logs = folder / "request_logs"
    earliest_main_day = BENCH_CYCLE - timedelta(days=1)
    for week in range(1, weeks + 1):
        start = BENCH_CYCLE - timedelta(weeks=week)
        out = work / f"history-{week}"
        if not out.exists():
            generate(out, attempts_per_week, start, seed=7 + week)
        for path in sorted((out / "request_logs").iterdir()):
            day = _file_day(path.name)
            if day is None or day >= earliest_main_day or day < start:
                continue
            target = logs / path.name
            if not target.exists():
                shutil.copy2(path, target)
                added += 1
    return added


# ----------------------------------------------------------------------- duckdb


def duckdb_seconds(folder: Path, cycle_start: date) -> tuple[float, int]:
    """DuckDB reading, validating, grouping and classifying the request log files: the
    comparable columnar work (no redaction, no provenance, no ledger). Returns the
    seconds and the rows read."""
    import duckdb  # optional dev dependency

    logs = folder / "request_logs"
    jsonl = [str(p) for p in sorted(logs.iterdir()) if ".jsonl" in p.name]
    csvs = [str(p) for p in sorted(logs.iterdir()) if p.name.endswith(".csv")]
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    columns = (
        "{'attempt_id': 'VARCHAR', 'request_id': 'VARCHAR', 'timestamp': 'VARCHAR', "
        "'api_key_id': 'VARCHAR', 'model': 'VARCHAR', 'endpoint': 'VARCHAR', "
        "'status_code': 'VARCHAR', 'prompt_fingerprint': 'VARCHAR', "
        "'prompt_tokens': 'VARCHAR', 'completion_tokens': 'VARCHAR', "
        "'latency_ms': 'VARCHAR', 'environment': 'VARCHAR'}"
    )
    sources = [
        f"SELECT * FROM read_json({jsonl!r}, format='newline_delimited', "
        f"columns={columns}, ignore_errors=true)"
    ]
    if csvs:
        sources.append(
            f"SELECT attempt_id, request_id, timestamp, api_key_id, model, endpoint, status_code, "
            f"prompt_fingerprint, prompt_tokens, completion_tokens, latency_ms, environment "
            f"FROM read_csv({csvs!r}, "
            "all_varchar=true, ignore_errors=true)"
        )
    union = " UNION ALL ".join(sources)
    cycle_end = cycle_start + timedelta(days=7)
    sql = f"""
    WITH raw AS ({union}),
    typed AS (
      SELECT *, TRY_CAST(timestamp AS TIMESTAMPTZ) AS ts,
             TRY_CAST(prompt_tokens AS BIGINT) AS pt,
             TRY_CAST(completion_tokens AS BIGINT) AS ct,
             TRY_CAST(status_code AS INTEGER) AS sc
      FROM raw),
    classified AS (
      SELECT *, CASE
        WHEN attempt_id IS NULL OR api_key_id IS NULL OR model IS NULL THEN 'missing_field'
        WHEN ts IS NULL THEN 'invalid_timestamp'
        WHEN sc IS NULL THEN 'invalid_type'
        WHEN pt < 0 OR ct < 0 THEN 'negative_tokens'
        ELSE NULL END AS defect
      FROM typed),
    valid AS (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY attempt_id ORDER BY ts) AS dup
      FROM classified WHERE defect IS NULL),
    grouped AS (
      SELECT COALESCE(request_id, prompt_fingerprint, attempt_id) AS logical_request,
             api_key_id, model, endpoint,
             COUNT(*) AS attempts, SUM(pt) AS pt, SUM(ct) AS ct,
             BOOL_OR(sc BETWEEN 200 AND 299) AS succeeded, MIN(ts) AS first_ts
      FROM valid WHERE dup = 1 GROUP BY 1, 2, 3, 4)
    SELECT
      (SELECT COUNT(*) FROM classified) AS read,
      (SELECT COUNT(*) FROM classified WHERE defect IS NOT NULL) AS defective,
      COUNT(*) AS requests,
      SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) AS retried,
      SUM(CASE WHEN succeeded THEN 0 ELSE 1 END) AS failed
    FROM grouped
    WHERE first_ts >= TIMESTAMPTZ '{cycle_start.isoformat()} 00:00:00+00'
      AND first_ts < TIMESTAMPTZ '{cycle_end.isoformat()} 00:00:00+00'
    """
    row = con.execute(sql).fetchone()
    con.close()
    return time.perf_counter() - start, int(row[0])


# ----------------------------------------------------------------------- orchestration


def _fresh_ledger(database_url: str) -> None:
    """The benchmark's ledger starts empty: every ledger table and the schema revision
    are dropped, and the schema is created again at the head."""
    from tokenreview_pipeline.ledger_migrations import VERSION_TABLE

    engine = ledger.engine_for(database_url)
    with engine.begin() as conn:
        for name in sa.inspect(conn).get_table_names():
            if (
                name in ledger.metadata.tables
                or name.startswith("_build_")
                or name == VERSION_TABLE
            ):
                cascade = " CASCADE" if conn.dialect.name == "postgresql" else ""
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"{cascade}'))
    ledger._checked.clear()
    ledger.ensure_schema(engine)


def run_bench(
    attempts: int,
    *,
    database_url: str | None = None,
    history_weeks: int = 0,
    compare_duckdb: bool = False,
    workdir: Path | None = None,
    history_attempts: int | None = None,
) -> dict[str, Any]:
    """Generate, run and measure; returns the figures (``--json`` prints them)."""
    own_dir = workdir is None
    work = Path(workdir or tempfile.mkdtemp(prefix="tokenreview-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        alone = work / "alone"
        if not (alone / "tokenreview.yaml").exists():
            generate(alone, attempts, BENCH_CYCLE)
        generate_s = time.perf_counter() - started
        cycle_id = BENCH_CYCLE.isoformat()
        cycles: list[CycleFigures] = []
        urls: list[str] = []

        def measured(folder: Path, url: str, label: str, fresh: bool = True) -> CycleFigures:
            if fresh:
                _fresh_ledger(url)
            figures = run_measured_cycle(
                folder / "tokenreview.yaml", url, cycle_id, work / f".dagster-{len(cycles)}", label
            )
            cycles.append(figures)
            return figures

        sqlite_url = f"sqlite:///{work / 'alone.db'}"
        urls.append(sqlite_url)
        measured(alone, sqlite_url, "sqlite")
        if database_url and not database_url.startswith("sqlite"):
            measured(alone, database_url, "postgresql")
        if history_weeks:
            hist = work / "history"
            if hist.exists():
                shutil.rmtree(hist)
            shutil.copytree(alone, hist, ignore=shutil.ignore_patterns("*.db*", ".dagster*"))
            files_added = add_history(
                hist, work, history_weeks, history_attempts or max(attempts // 1, 1)
            )
            hist_url = f"sqlite:///{work / 'history.db'}"
            measured(hist, hist_url, f"history first run (+{files_added} files)")
            measured(hist, hist_url, f"history steady state (+{files_added} files)", fresh=False)
        figures: dict[str, Any] = {
            "attempts": attempts,
            "cycle": cycle_id,
            "generate_seconds": generate_s,
            "machine": machine(),
            "cycles": [asdict(c) for c in cycles],
            "ratios": {},
        }
        by_label = {c.label: c for c in cycles}
        sqlite = by_label["sqlite"]
        if "postgresql" in by_label:
            figures["ratios"]["postgresql_over_sqlite"] = (
                by_label["postgresql"].total_seconds / sqlite.total_seconds
            )
        if history_weeks:
            steady = cycles[-1]
            figures["ratios"]["history_over_alone"] = steady.total_seconds / sqlite.total_seconds
        if compare_duckdb:
            seconds, rows = duckdb_seconds(alone, BENCH_CYCLE)
            figures["duckdb"] = {"seconds": seconds, "rows_read": rows}
            figures["ratios"]["sqlite_over_duckdb"] = sqlite.total_seconds / seconds
        return figures
    finally:
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    try:
        with open("/proc/meminfo") as f:
            info["memory_bytes"] = int(f.readline().split()[1]) * 1024
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        info["load_average"] = os.getloadavg()
    except OSError:
        pass
    return info


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.0f} MB"


def format_figures(figures: dict[str, Any]) -> str:
    lines = [
        f"benchmark: {figures['attempts']} attempts generated, cycle {figures['cycle']} "
        f"(generation {figures['generate_seconds']:.1f} s, not counted)",
        f"machine: {figures['machine'].get('cpus')} CPUs, {figures['machine'].get('cpu', '?')}, "
        f"load {figures['machine'].get('load_average')}",
    ]
    for c in figures["cycles"]:
        per = c["ledger_bytes_per_attempt"]
        lines.append("")
        lines.append(
            f"{c['label']} ({c['database']}): {c['total_seconds']:.1f} s end to end, "
            f"{'succeeded' if c['success'] else 'FAILED'}; read {c['records_read']}, staged "
            f"{c['attempts_staged']}, reconciled {c['reconciled']}; peak RSS "
            f"{_mb(c['peak_rss_bytes'])} ({_mb(c['peak_anonymous_bytes'])} anonymous); "
            f"ledger {_mb(c['ledger_bytes'])} = "
            + (f"{per:.0f} bytes per staged attempt" if per else "n/a")
        )
        lines.append(
            f"  {'stage':<34} {'seconds':>9} {'records/s':>11} {'peak RSS':>9} {'anonymous':>9}"
        )
        for s in c["stages"]:
            rate = f"{s['records_per_s']:.0f}" if s["records_per_s"] else "-"
            lines.append(
                f"  {s['name']:<34} {s['seconds']:>9.2f} {rate:>11} {_mb(s['peak_rss_bytes']):>9}"
                f" {_mb(s['peak_anonymous_bytes']):>9}"
            )
    if "duckdb" in figures:
        lines.append("")
        lines.append(
            f"duckdb: {figures['duckdb']['seconds']:.2f} s "
            f"for {figures['duckdb']['rows_read']} rows"
        )
    for name, ratio in figures["ratios"].items():
        lines.append(f"ratio {name}: {ratio:.2f}")
    return "\n".join(lines)


def cmd_bench(args) -> int:
    figures = run_bench(
        args.attempts,
        database_url=args.database_url,
        history_weeks=args.history_weeks,
        compare_duckdb=args.compare_duckdb,
        workdir=Path(args.workdir) if args.workdir else None,
        history_attempts=args.history_attempts,
    )
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
    else:
        print(format_figures(figures))
    return 0 if all(c["success"] and c["reconciled"] for c in figures["cycles"]) else 1


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark a full cycle on generated data (figures printed, never asserted)",
    )
    p.add_argument("--attempts", type=int, required=True, help="records to generate")
    p.add_argument(
        "--database-url",
        help="also run the cycle on this PostgreSQL database (a scratch one: its ledger "
        "tables are dropped first); SQLite always runs",
    )
    p.add_argument(
        "--history-weeks", type=int, default=0, help="also run in a folder with W weeks of history"
    )
    p.add_argument(
        "--history-attempts", type=int, help="records per history week (default: --attempts)"
    )
    p.add_argument("--compare-duckdb", action="store_true", help="time DuckDB on the same files")
    p.add_argument("--json", action="store_true", help="print machine-readable figures")
    p.add_argument("--workdir", help="keep data and ledgers here (default: a temporary folder)")
    p.set_defaults(func=cmd_bench)
