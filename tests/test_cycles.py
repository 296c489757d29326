"""Cycles (SPEC 1, 4.1, 4.2, 5): boundaries, read windows, cadences, bad --cycle
values and idempotent re-runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from scenario import attempt, by, rows, run, write_scenario

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cli import main
from tokenreview_pipeline.cycles import CycleError, parse_cycle


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def z(*args: int) -> str:
    return utc(*args).isoformat().replace("+00:00", "Z")


def extraction_counts(db_url: str, cycle: str) -> dict:
    found = rows(db_url, "extraction_runs", cycle=cycle)
    assert len(found) == 1, found
    row = found[0]
    counts = {
        k: row[k]
        for k in (
            "records_read",
            "attempts_staged",
            "records_quarantined",
            "exact_duplicates",
            "other_cycle_records",
        )
    }
    assert counts["records_read"] == (
        counts["attempts_staged"]
        + counts["records_quarantined"]
        + counts["exact_duplicates"]
        + counts["other_cycle_records"]
    )
    return counts


# ------------------------------------------------------------------ weekly boundary

PREV, CUR = "2026-11-09", "2026-11-16"


def boundary_records() -> list:
    return [
        # request_id path across Sunday 23:50 -> Monday 00:05 (cycle PREV)
        attempt(
            "x-1", z(2026, 11, 15, 23, 50), request_id="x", client_retry_count=0, status_code=503
        ),
        attempt("x-2", z(2026, 11, 16, 0, 5), request_id="x", client_retry_count=1),
        # fingerprint path across the boundary, 240 s apart (cycle PREV)
        attempt(
            "fp-1",
            z(2026, 11, 15, 23, 58),
            prompt_fingerprint="fpx",
            client_retry_count=0,
            status_code=429,
        ),
        attempt("fp-2", z(2026, 11, 16, 0, 2), prompt_fingerprint="fpx", client_retry_count=1),
        attempt("w1", z(2026, 11, 10, 12)),  # PREV
        attempt("w2", z(2026, 11, 18, 12)),  # CUR
        # CUR, but inside PREV's read window [11-08 23:00, 11-16 01:00)
        attempt("w3", z(2026, 11, 16, 0, 30), request_id="y"),
        # cycle 11-23, inside CUR's read window [11-15 23:00, 11-23 01:00)
        attempt("w4", z(2026, 11, 23, 0, 30)),
        # far away: outside both read windows
        attempt("w5", z(2026, 12, 1, 12)),
        attempt("w6", z(2026, 11, 8, 22, 59, 59)),  # just before PREV's read window
        # defective, timestamped in PREV: quarantined by PREV, other_cycle for CUR
        attempt("bad-prev", z(2026, 11, 10, 13), model=None),
        # defective without a usable timestamp: quarantined by both cycles' runs
        '{"attempt_id": "bad-nots", ',
        # an exact duplicate of w2: dropped and counted by both runs
        json_line(attempt("w2", z(2026, 11, 18, 12))),
    ]


def json_line(record: dict) -> str:
    return json.dumps(record)


# Computed by hand from the records above (13 records read by each run).
PREV_ATTEMPTS = {"x-1", "x-2", "fp-1", "fp-2", "w1"}
CUR_ATTEMPTS = {"w2", "w3"}
PREV_COUNTS = {
    "records_read": 13,
    "attempts_staged": 5,
    "records_quarantined": 2,
    "exact_duplicates": 1,
    "other_cycle_records": 5,
}  # w2 w3 w4 w5 w6
CUR_COUNTS = {
    "records_read": 13,
    "attempts_staged": 2,
    "records_quarantined": 1,
    "exact_duplicates": 1,
    "other_cycle_records": 9,
}  # x-1 x-2 fp-1 fp-2 w1 w4 w5 w6 bad-prev

SNAPSHOT_TABLES = (
    "request_attempts",
    "quarantined_records",
    "review_packets",
    "extraction_runs",
    "pricing_snapshots",
    "pricing_snapshot_prices",
    "focus_charges",
)


def snapshot(db_url: str) -> dict[str, list]:
    """Every row of the output tables (all cycles), in a stable order."""
    out = {}
    with ledger.engine_for(db_url).connect() as conn:
        for name in SNAPSHOT_TABLES:
            table = ledger.metadata.tables[name]
            got = [dict(r) for r in conn.execute(sa.select(table)).mappings()]
            if name == "extraction_runs":
                for r in got:
                    r.pop("run_id")
                    r.pop("extracted_at")
            out[name] = sorted(got, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def test_boundary_read_window_and_idempotent_rerun(tmp_path, db_url):
    cfg = write_scenario(tmp_path, boundary_records())
    run(cfg, db_url, cycle=PREV)
    run(cfg, db_url, cycle=CUR)

    prev = by(rows(db_url, "request_attempts", cycle=PREV), "attempt_id")
    cur = by(rows(db_url, "request_attempts", cycle=CUR), "attempt_id")
    assert set(prev) == PREV_ATTEMPTS
    assert set(cur) == CUR_ATTEMPTS
    # the crossing requests are whole in PREV, counted once
    assert prev["x-1"]["logical_request_id"] == prev["x-2"]["logical_request_id"]
    assert (prev["x-2"]["attempt_index"], prev["x-2"]["retry_cause"]) == (1, "platform_response")
    assert prev["fp-1"]["logical_request_id"] == prev["fp-2"]["logical_request_id"]
    assert (prev["fp-2"]["attempt_index"], prev["fp-2"]["retry_cause"]) == (1, "platform_response")
    all_ids = [r["attempt_id"] for r in rows(db_url, "request_attempts", cycle=None)]
    assert len(all_ids) == len(set(all_ids)) == 7

    assert extraction_counts(db_url, PREV) == PREV_COUNTS
    assert extraction_counts(db_url, CUR) == CUR_COUNTS
    quarantined = sorted(
        rows(db_url, "quarantined_records", cycle=PREV), key=lambda r: r["source_line"]
    )
    assert [(r["reason"], r["source_line"]) for r in quarantined] == [
        ("missing_field:model", 11),
        ("malformed_json", 12),
    ]
    assert '"bad-prev"' in quarantined[0]["raw_redacted"]
    assert [
        (r["reason"], r["source_line"]) for r in rows(db_url, "quarantined_records", cycle=CUR)
    ] == [("malformed_json", 12)]

    prev_packets = rows(db_url, "review_packets", cycle=PREV)
    assert [(p["logical_requests"], p["attempts"], p["retry_attempts"]) for p in prev_packets] == [
        (3, 5, 2)
    ]
    assert prev_packets[0]["cycle_start"] == utc(2026, 11, 9)
    assert prev_packets[0]["cycle_end"] == utc(2026, 11, 16)
    cur_packets = rows(db_url, "review_packets", cycle=CUR)
    assert [(p["logical_requests"], p["attempts"], p["retry_attempts"]) for p in cur_packets] == [
        (2, 2, 0)
    ]

    # Idempotency: running CUR again leaves every row identical (both cycles), with one
    # extraction_runs row per cycle; identical pricing bytes add no snapshot.
    before = snapshot(db_url)
    run(cfg, db_url, cycle=CUR)
    after = snapshot(db_url)
    for name in SNAPSHOT_TABLES:
        assert after[name] == before[name], name
    assert len(after["pricing_snapshots"]) == 1
    assert len(after["extraction_runs"]) == 2
    assert extraction_counts(db_url, CUR) == CUR_COUNTS


# ----------------------------------------------------------- cadences, end to end


def test_daily_cadence_partitions(tmp_path, db_url):
    records = [
        attempt("d-last", z(2026, 11, 16, 23, 59, 59)),
        attempt("d-next", z(2026, 11, 17, 0, 0)),
        attempt("d-first", z(2026, 11, 16, 0, 0)),
        attempt("d-before", z(2026, 11, 15, 23, 59, 59)),
        attempt("dx-1", z(2026, 11, 16, 23, 58), request_id="dx", status_code=503),
        attempt("dx-2", z(2026, 11, 17, 0, 1), request_id="dx"),
        attempt("dy-1", z(2026, 11, 15, 23, 58), request_id="dy", status_code=503),
        attempt("dy-2", z(2026, 11, 16, 0, 1), request_id="dy"),
    ]
    cfg = write_scenario(tmp_path, records, extra_config={"cadence": "daily"})
    run(cfg, db_url, cycle="2026-11-16")
    got = by(rows(db_url, "request_attempts", cycle="2026-11-16"), "attempt_id")
    assert set(got) == {"d-last", "d-first", "dx-1", "dx-2"}
    assert extraction_counts(db_url, "2026-11-16") == {
        "records_read": 8,
        "attempts_staged": 4,
        "records_quarantined": 0,
        "exact_duplicates": 0,
        "other_cycle_records": 4,
    }
    packets = rows(db_url, "review_packets", cycle="2026-11-16")
    assert [(p["cycle_start"], p["cycle_end"]) for p in packets] == [
        (utc(2026, 11, 16), utc(2026, 11, 17))
    ]
    assert packets[0]["logical_requests"] == 3


def test_monthly_cadence_partitions(tmp_path, db_url):
    # October 2026: a complete month (Dagster only lists partitions that have ended).
    records = [
        attempt("m-first", z(2026, 10, 1, 0, 0)),
        attempt("m-last", z(2026, 10, 31, 23, 59, 59)),
        attempt("m-nov", z(2026, 11, 1, 0, 0)),
        attempt("m-sep", z(2026, 9, 30, 23, 59, 59)),
        attempt("mo-1", z(2026, 9, 30, 23, 30), request_id="mo", status_code=503),
        attempt("mo-2", z(2026, 10, 1, 0, 10), request_id="mo"),
        attempt("mn-1", z(2026, 10, 31, 23, 30), request_id="mn", status_code=503),
        attempt("mn-2", z(2026, 11, 1, 0, 10), request_id="mn"),
    ]
    cfg = write_scenario(tmp_path, records, extra_config={"cadence": "monthly"})
    run(cfg, db_url, cycle="2026-10-01")
    got = by(rows(db_url, "request_attempts", cycle="2026-10-01"), "attempt_id")
    assert set(got) == {"m-first", "m-last", "mn-1", "mn-2"}
    assert extraction_counts(db_url, "2026-10-01") == {
        "records_read": 8,
        "attempts_staged": 4,
        "records_quarantined": 0,
        "exact_duplicates": 0,
        "other_cycle_records": 4,
    }
    packets = rows(db_url, "review_packets", cycle="2026-10-01")
    assert [(p["cycle_start"], p["cycle_end"]) for p in packets] == [
        (utc(2026, 10, 1), utc(2026, 11, 1))
    ]


# ------------------------------------------------------------ parse_cycle and the CLI


@pytest.mark.parametrize(
    ("cycle_id", "cadence", "start", "end"),
    [
        ("2026-11-16", "weekly", utc(2026, 11, 16), utc(2026, 11, 23)),
        ("2026-12-28", "weekly", utc(2026, 12, 28), utc(2027, 1, 4)),
        ("2026-11-18", "daily", utc(2026, 11, 18), utc(2026, 11, 19)),
        ("2026-12-31", "daily", utc(2026, 12, 31), utc(2027, 1, 1)),
        ("2026-11-01", "monthly", utc(2026, 11, 1), utc(2026, 12, 1)),
        ("2026-12-01", "monthly", utc(2026, 12, 1), utc(2027, 1, 1)),
        ("2028-02-01", "monthly", utc(2028, 2, 1), utc(2028, 3, 1)),
    ],
)
def test_parse_cycle_bounds(cycle_id, cadence, start, end):
    cycle = parse_cycle(cycle_id, cadence)
    assert (cycle.cycle_id, cycle.start, cycle.end) == (cycle_id, start, end)
    assert cycle.read_window(3600) == (start - timedelta(hours=1), end + timedelta(hours=1))


@pytest.mark.parametrize(
    ("cycle_id", "cadence", "nearest"),
    [
        ("2026-11-17", "weekly", "2026-11-16"),  # Tuesday: 1 day after
        ("2026-11-19", "weekly", "2026-11-16"),  # Thursday: 3 days after, 4 before next
        ("2026-11-20", "weekly", "2026-11-23"),  # Friday: 3 days before the next Monday
        ("2026-11-22", "weekly", "2026-11-23"),  # Sunday
        ("2026-11-10", "monthly", "2026-11-01"),
        ("2026-11-25", "monthly", "2026-12-01"),
    ],
)
def test_parse_cycle_names_nearest_start(cycle_id, cadence, nearest):
    with pytest.raises(CycleError) as info:
        parse_cycle(cycle_id, cadence)
    assert nearest in str(info.value)


@pytest.mark.parametrize("command", [["run"], ["packets"], ["explain", "--workload", "w"]])
@pytest.mark.parametrize(
    ("cycle_id", "nearest"), [("2026-11-18", "2026-11-16"), ("2026-11-21", "2026-11-23")]
)
def test_cli_rejects_a_cycle_that_is_not_a_monday(
    tmp_path, capsys, monkeypatch, command, cycle_id, nearest
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    cfg = write_scenario(tmp_path, [attempt("a1", z(2026, 11, 17, 10))])
    db = tmp_path / "cli.db"
    code = main(
        [*command, "--config", str(cfg), "--cycle", cycle_id, "--database-url", f"sqlite:///{db}"]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert cycle_id in captured.err
    assert nearest in captured.err


def test_cli_run_of_a_cycle_that_has_not_ended_fails_cleanly(tmp_path, capsys, monkeypatch):
    """The current week's Monday is a valid cycle start, but the cycle has not ended
    (Dagster lists only ended partitions). ``run`` refuses it with a clear error
    (exit 2) naming the cycle, rather than reviewing partial traffic."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    today = datetime.now(timezone.utc).date()
    current = (today - timedelta(days=today.weekday())).isoformat()
    cfg = write_scenario(tmp_path, [attempt("a1", z(2026, 11, 17, 10))])
    code = main(
        [
            "run",
            "--config",
            str(cfg),
            "--cycle",
            current,
            "--database-url",
            f"sqlite:///{tmp_path / 'cli.db'}",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert current in captured.err and "has not ended" in captured.err


@pytest.mark.parametrize("order", [("2026-11-09", "2026-11-16"), ("2026-11-16", "2026-11-09")])
def test_request_longer_than_retry_span_is_claimed_once_in_any_run_order(tmp_path, db_url, order):
    """A request whose retry comes more than retry_span_s after it began, across a
    boundary: the next cycle's run cannot see its start, so it owns the late
    attempt; the earlier cycle's run must not claim that attempt too."""
    sunday = datetime(2026, 11, 15, 22, 50, tzinfo=timezone.utc)
    iso = lambda d: d.isoformat().replace("+00:00", "Z")  # noqa: E731
    cfg = write_scenario(
        tmp_path,
        [
            attempt(
                "long-1", iso(sunday), request_id="long", client_retry_count=0, status_code=503
            ),
            attempt(
                "long-2",
                iso(sunday + timedelta(minutes=80)),
                request_id="long",
                client_retry_count=1,
            ),
        ],
    )
    for cycle in order:
        run(cfg, db_url, cycle=cycle)
    earlier = by(rows(db_url, "request_attempts", cycle="2026-11-09"), "attempt_id")
    later = by(rows(db_url, "request_attempts", cycle="2026-11-16"), "attempt_id")
    assert set(earlier) == {"long-1"}
    assert set(later) == {"long-2"}
    # seen from its own cycle, the late attempt's first attempt is missing: an orphan
    assert later["long-2"]["is_orphan_retry"] and later["long-2"]["retry_cause"] == "unknown"
    for cycle in order:
        (counts,) = rows(db_url, "extraction_runs", cycle=cycle)
        assert counts["records_read"] == 2
        assert counts["attempts_staged"] == 1
        assert counts["other_cycle_records"] == 1
