"""A files source is not re-read every cycle (SPEC 4.1 ``source_files``): a run skips the
files the ledger's index shows unchanged whose records all lie outside its read window,
and publishes exactly what a run reading every file publishes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import sqlalchemy as sa
from scenario import attempt, rows, run, ts, write_scenario

from tokenreview_pipeline import ledger
from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.extract.formats.tokenreview import TokenreviewFormat
from tokenreview_pipeline.extract.load import to_us
from tokenreview_pipeline.extract.source_files import (
    EDGE_BYTES,
    FolderReading,
    IndexedFile,
    can_skip,
    file_state,
)
from tokenreview_pipeline.isotime import parse_datetime

FIRST, SECOND = "2026-11-16", "2026-11-23"
DAYS = 14  # daily files from 2026-11-16 to 2026-11-29: two weekly cycles


def _day_records(day: int) -> list[dict]:
    out = []
    for n in range(4):
        rid = f"d{day}-{n}"
        out.append(attempt(f"{rid}-a", ts(60 * (8 + n), day=day), request_id=rid, status_code=503))
        out.append(attempt(f"{rid}-b", ts(60 * (8 + n) + 1, day=day), request_id=rid))
    return out


def _history(tmp_path: Path) -> Path:
    # log.jsonl holds a record without a usable timestamp: that file is read by every run.
    cfg = write_scenario(tmp_path, [attempt("bad-ts", "yesterday", request_id="bad")])
    logs = tmp_path / "request_logs"
    for day in range(DAYS):
        lines = [json.dumps(r) for r in _day_records(day)]
        (logs / f"day-{day:02d}.jsonl").write_text("\n".join(lines) + "\n")
    return cfg


def _metadata(result) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key.to_user_string() == "stg_source_records":
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError("no stg_source_records materialization")


# read_seq: a record's place in its run's reading, which skipped files shorten.
_RUN_COLUMNS = {"run_id", "extracted_at", "records_read", "other_cycle_records", "read_seq"}


def _published(db_url: str, cycle: str) -> dict[str, list[dict]]:
    """The cycle's published rows, without what differs between two runs by design."""
    out = {}
    for table in ("request_attempts", "review_packets", "quarantined_records", "extraction_runs"):
        keep = [
            {k: v for k, v in r.items() if k not in _RUN_COLUMNS}
            for r in rows(db_url, table, cycle)
        ]
        out[table] = sorted(keep, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def _reads(db_url: str, cycle: str) -> tuple[int, int]:
    (runs,) = rows(db_url, "extraction_runs", cycle)
    return runs["records_read"], runs["other_cycle_records"]


def test_a_run_skips_unchanged_history_and_publishes_what_a_full_read_does(tmp_path, db_url):
    cfg = _history(tmp_path)
    first = run(cfg, db_url, FIRST)
    assert _metadata(first)["files_skipped"] == 0  # nothing indexed yet
    assert _metadata(first)["files_read"] == DAYS + 1
    index = rows(db_url, "source_files", cycle=None)
    assert len(index) == DAYS + 1
    bad = next(r for r in index if r["path"].endswith("log.jsonl"))
    assert (bad["records"], bad["records_without_timestamp"]) == (1, 1)
    day0 = next(r for r in index if r["path"].endswith("day-00.jsonl"))
    assert day0["records"] == 8 and day0["earliest_ts_us"] == to_us(parse_datetime(ts(480)))
    assert day0["sha256"] != day0["edge_sha256"] or day0["size_bytes"] <= 2 * EDGE_BYTES

    # The second cycle's run skips the first week's files (days 0-6: wholly before its read
    # window, which opens an hour before the cycle) and reads the rest, and log.jsonl.
    second = run(cfg, db_url, SECOND)
    assert _metadata(second)["files_skipped"] == 7
    assert _metadata(second)["files_read"] == DAYS - 7 + 1
    skipping = _published(db_url, SECOND)
    read, other = _reads(db_url, SECOND)
    assert read == 1 + 7 * 8  # log.jsonl and the second week
    assert skipping["request_attempts"] and skipping["review_packets"]

    # Forgetting the index makes the next run read everything: same publication.
    with ledger.engine_for(db_url).begin() as conn:
        conn.execute(sa.delete(ledger.source_files))
    full = run(cfg, db_url, SECOND)
    assert _metadata(full)["files_skipped"] == 0
    assert _published(db_url, SECOND) == skipping
    full_read, full_other = _reads(db_url, SECOND)
    assert (full_read - read, full_other - other) == (7 * 8, 7 * 8)

    # The first cycle, re-run now, skips the second week.
    again = run(cfg, db_url, FIRST)
    assert _metadata(again)["files_skipped"] == 7
    assert _reads(db_url, FIRST)[0] == 1 + 7 * 8


def test_a_changed_file_is_read_again(tmp_path, db_url):
    cfg = _history(tmp_path)
    run(cfg, db_url, FIRST)
    run(cfg, db_url, SECOND)
    # A late record of the second cycle lands in a first-week file.
    day2 = tmp_path / "request_logs" / "day-02.jsonl"
    with open(day2, "a") as f:
        f.write(json.dumps(attempt("late-a", ts(600, day=8), request_id="late")) + "\n")
    result = run(cfg, db_url, SECOND)
    assert _metadata(result)["files_skipped"] == 6
    assert "late-a" in {r["attempt_id"] for r in rows(db_url, "request_attempts", SECOND)}
    (entry,) = [r for r in rows(db_url, "source_files", cycle=None) if r["path"] == str(day2)]
    assert entry["records"] == 9 and entry["size_bytes"] == day2.stat().st_size
    assert entry["latest_ts_us"] == to_us(parse_datetime(ts(600, day=8)))
    # Now indexed as holding a second-cycle record: the first cycle skips it no more than
    # before, the second always reads it.
    assert _metadata(run(cfg, db_url, SECOND))["files_skipped"] == 6


def _entry(path: Path, state, **fields) -> IndexedFile:
    values = {
        "source_format": "tokenreview",
        "path": str(path),
        "size_bytes": state.size_bytes,
        "modified_ns": state.modified_ns,
        "sha256": "0" * 64,
        "edge_sha256": state.edge_sha256,
        "records": 2,
        "earliest_ts_us": 100,
        "latest_ts_us": 200,
        "records_without_timestamp": 0,
    }
    values.update(fields)
    return IndexedFile(**values)


def test_the_skip_rule(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"x" * (3 * EDGE_BYTES))
    state = file_state(path)
    known = _entry(path, state)
    assert can_skip(known, state, 201, 1000)  # all before the window
    assert can_skip(known, state, 0, 100)  # all after it (the end is exclusive)
    assert not can_skip(known, state, 0, 101)  # the earliest record is inside
    assert not can_skip(known, state, 150, 160)  # records on both sides: maybe inside
    assert not can_skip(None, state, 201, 1000)  # never indexed
    assert not can_skip(_entry(path, state, records_without_timestamp=1), state, 201, 1000)
    assert can_skip(
        _entry(path, state, records=0, earliest_ts_us=None, latest_ts_us=None), state, 0, 1
    )

    # Same size and modification time, other bytes at an end: changed.
    stat = path.stat()
    path.write_bytes(b"x" * (3 * EDGE_BYTES - 1) + b"y")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    changed = file_state(path)
    assert (changed.size_bytes, changed.modified_ns) == (state.size_bytes, state.modified_ns)
    assert not can_skip(known, changed, 201, 1000)
    # Appended to: changed.
    with open(path, "ab") as f:
        f.write(b"z")
    assert not can_skip(known, file_state(path), 201, 1000)


class _AppendingFormat(TokenreviewFormat):
    """Reads a file while another process appends to it."""

    def file_records(self, path):
        for n, record in enumerate(super().file_records(path)):
            if n == 0:
                with open(path, "a") as f:
                    f.write(json.dumps(attempt("later", ts(5))) + "\n")
            yield record


def test_a_file_that_changes_while_it_is_read_is_not_indexed(tmp_path):
    cfg = _history(tmp_path)
    source = load_config(cfg).request_logs
    reading = FolderReading(source, _AppendingFormat(), {}, 0, 1)
    records = list(reading.records())
    assert len(records) >= 1 + DAYS * 8  # what each file held when it was opened, at least
    assert reading.indexed == []
    steady = FolderReading(source, TokenreviewFormat(), {}, 0, 1)
    list(steady.records())
    assert len(steady.indexed) == DAYS + 1
