"""SPEC 4.1 quarantine and reconciliation, SPEC 2.5 secrets, end to end; plus a
property test of the record dispositions over random streams of records."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_scan import leaks
from scenario import REVIEW_DATE, attempt, by, rows, run, write_scenario

from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.cycles import parse_cycle
from tokenreview_pipeline.defs.run_params import cycle_params
from tokenreview_pipeline.extract.files import iter_folder_records
from tokenreview_pipeline.extract.load import StagingWindow, stage_records
from tokenreview_pipeline.sql_models import discover_models, run_model

CUR, PREV = "2026-11-16", "2026-11-09"

SK = "sk-" + "A1b2C3d4E5" * 4  # sk- + 40 characters
BEARER = "Bearer abc.def"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBsYW50ZWQ"
PROMPT = "PLANTED-PROMPT-zanzibar-quokka"
RESPONSE = "PLANTED-RESPONSE-quixote-tapir"
PLANTED = (SK, BEARER, "abc.def", JWT, PROMPT, RESPONSE)


def redacted(value: str) -> str:
    return "redacted_" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


def z(*args: int) -> str:
    return datetime(*args, tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


T_CUR = z(2026, 11, 17, 10)  # a timestamp inside CUR


def line(record) -> bytes:
    return json.dumps(record).encode("utf-8")


def without(record: dict, *names: str) -> dict:
    return {k: v for k, v in record.items() if k not in names}


V1 = attempt("v1", T_CUR)
V_SECRET = attempt(
    "v-secret",
    z(2026, 11, 17, 12),
    api_key_id=SK,
    tags={
        "team": "search",
        "project": "web",
        "auth": BEARER,
        "session": JWT,
        "pipeline": "risk-assessment-pipeline-v2",
    },
    messages=[{"role": "user", "content": PROMPT}],
    response={"text": RESPONSE},
    choices=[{"message": {"content": RESPONSE}}],
    headers={"authorization": BEARER},
    api_key=SK,
)

# (line bytes or None for a blank line, expected disposition in CUR, in PREV, reason)
# dispositions: S staged, Q quarantined, D exact duplicate, O other cycle.
LINES: list[tuple[bytes, str, str, str | None]] = [
    (line(V1), "S", "O", None),  # 1
    (b"", "-", "-", None),  # 2 blank
    (
        line(attempt("q-big", T_CUR, prompt=PROMPT, padding="x" * (1024 * 1024))),
        "Q",
        "Q",
        "record_too_large",
    ),  # 3
    (
        b'{"attempt_id":"q-enc","timestamp":"' + T_CUR.encode() + b'","api_key_id":"key_a1",'
        b'"model":"gpt\xff","endpoint":"/v1/chat/completions"}',
        "Q",
        "O",
        "invalid_encoding",
    ),
    (
        (
            '{"attempt_id": "q-mal", "api_key_id": "'
            + SK
            + '", "prompt": "'
            + PROMPT
            + '", "timestamp": '
        ).encode(),
        "Q",
        "Q",
        "malformed_json",
    ),  # 5
    (line(["q-arr", T_CUR, JWT]), "Q", "Q", "not_an_object"),  # 6
    (b"   \t", "-", "-", None),  # 7 blank
    (line(attempt("q-nokey", T_CUR, api_key_id=...)), "Q", "O", "missing_field:api_key_id"),
    (line(attempt("q-nots", ..., api_key_id=...)), "Q", "Q", "missing_field:timestamp"),  # 9
    (line(attempt("q-nullmodel", T_CUR, model=None)), "Q", "O", "missing_field:model"),
    (
        line(attempt("q-crc-float", T_CUR, client_retry_count=1.0)),
        "Q",
        "O",
        "invalid_type:client_retry_count",
    ),  # 11
    (
        line(attempt("q-crc-neg", T_CUR, client_retry_count=-1)),
        "Q",
        "O",
        "invalid_type:client_retry_count",
    ),
    (
        line(attempt("q-status-bool", T_CUR, status_code=True)),
        "Q",
        "O",
        "invalid_type:status_code",
    ),  # 13
    (
        line(attempt("q-tokens-str", T_CUR, prompt_tokens="12")),
        "Q",
        "O",
        "invalid_type:prompt_tokens",
    ),
    (line(attempt("q-tags", T_CUR, tags={"team": 5})), "Q", "O", "invalid_type:tags"),  # 15
    (line(attempt("q-latency", T_CUR, latency_ms=-1)), "Q", "O", "invalid_type:latency_ms"),
    (
        line(attempt("q-order", T_CUR, client_retry_count="1", status_code="x")),
        "Q",
        "O",
        "invalid_type:client_retry_count",
    ),  # 17
    (line(attempt("q-badts", "yesterday")), "Q", "Q", "invalid_timestamp"),
    (
        line(attempt("q-naive", "2026-11-17T10:00:00", prompt_tokens=-5)),
        "Q",
        "Q",
        "timestamp_without_timezone",
    ),  # 19
    (
        line(
            attempt(
                "q-neg",
                T_CUR,
                completion_tokens=-3,
                api_key_id=SK,
                tags={"team": "search", "session": JWT},
                prompt=PROMPT,
            )
        ),
        "Q",
        "O",
        "negative_tokens",
    ),  # 20
    (line(attempt("v-dupid", z(2026, 11, 17, 11))), "S", "O", None),  # 21
    (
        line(attempt("v-dupid", z(2026, 11, 17, 11), status_code=500)),
        "Q",
        "O",
        "duplicate_attempt_id",
    ),  # 22
    (line(V1), "D", "D", None),  # 23 exact duplicate
    (
        json.dumps(dict(reversed(list(V1.items()))), indent=1).replace("\n", " ").encode(),
        "D",
        "D",
        None,
    ),  # 24 same parsed object, other key order and spacing
    (b"\r", "-", "-", None),  # 25 blank (trailing CR ignored)
    (line(V_SECRET), "S", "O", None),  # 26
    (line(V_SECRET), "D", "D", None),  # 27
    (line(attempt("v-secret2", z(2026, 11, 17, 12, 30), api_key_id=SK)), "S", "O", None),
    (
        line(attempt("q-prev", z(2026, 11, 10, 9), model=None)),
        "O",
        "Q",
        "missing_field:model",
    ),  # 29: defective, timestamped in PREV
    (
        line(attempt("q-prev-window", z(2026, 11, 15, 23, 30), model=None)),
        "O",
        "Q",
        "missing_field:model",
    ),  # 30: in CUR's read window but in PREV
    (line(attempt("v-far", z(2026, 11, 1, 9))), "O", "O", None),  # 31
    (line(attempt("v-prev", z(2026, 11, 10, 9))), "O", "S", None),  # 32
    (line(attempt("v-crlf", z(2026, 11, 17, 13))) + b"\r", "S", "O", None),  # 33
    (
        line(attempt("q-cache", T_CUR, prompt_tokens=10, cached_prompt_tokens=11)),
        "Q",
        "O",
        "inconsistent_tokens",
    ),  # 34
    # a lone surrogate and a NUL are replaced when stored; the record is kept
    (line(attempt("v-unstorable", z(2026, 11, 17, 14), model="gpt\ud800\x00")), "S", "O", None),
    (
        line(attempt("q-prev-bound", z(2026, 11, 10, 9), status_code=2**31)),
        "O",
        "Q",
        "invalid_type:status_code",
    ),  # 36
]


def write_log(root: Path) -> Path:
    cfg = write_scenario(root, [])
    data = b"".join(raw + b"\n" for raw, *_ in LINES)
    (root / "request_logs" / "log.jsonl").write_bytes(data)
    return cfg


def expected_counts(column: int) -> dict[str, int]:
    marks = [entry[column] for entry in LINES if entry[column] != "-"]
    return {
        "records_read": len(marks),
        "attempts_staged": marks.count("S"),
        "records_quarantined": marks.count("Q"),
        "exact_duplicates": marks.count("D"),
        "other_cycle_records": marks.count("O"),
    }


def extraction_row(db_url: str, cycle: str) -> dict:
    found = rows(db_url, "extraction_runs", cycle=cycle)
    assert len(found) == 1
    return found[0]


def test_quarantine_reconciliation_and_secrets(tmp_path, db_url):
    cfg = write_log(tmp_path)
    run(cfg, db_url, cycle=CUR)
    run(cfg, db_url, cycle=PREV)

    # ---- reconciliation, both cycles, computed from the hand-written table above
    cur_counts = expected_counts(1)
    assert cur_counts == {
        "records_read": 33,
        "attempts_staged": 6,
        "records_quarantined": 19,
        "exact_duplicates": 3,
        "other_cycle_records": 5,
    }
    prev_counts = expected_counts(2)
    assert prev_counts == {
        "records_read": 33,
        "attempts_staged": 1,
        "records_quarantined": 9,
        "exact_duplicates": 3,
        "other_cycle_records": 20,
    }
    for cycle, want in ((CUR, cur_counts), (PREV, prev_counts)):
        got = extraction_row(db_url, cycle)
        assert {k: got[k] for k in want} == want, cycle
        assert got["records_read"] == (
            got["attempts_staged"]
            + got["records_quarantined"]
            + got["exact_duplicates"]
            + got["other_cycle_records"]
        )

    # ---- staged attempts: the first read of v-dupid is kept
    staged = by(rows(db_url, "request_attempts", cycle=CUR), "attempt_id")
    assert set(staged) == {"v1", "v-dupid", "v-secret", "v-secret2", "v-crlf", "v-unstorable"}
    assert staged["v-unstorable"]["model"] == "gpt\ufffd\ufffd"
    assert staged["v-dupid"]["status_code"] == 200
    assert set(by(rows(db_url, "request_attempts", cycle=PREV), "attempt_id")) == {"v-prev"}

    # ---- quarantined rows: source, line and reason; defects without a usable
    # timestamp are quarantined by every cycle's run
    for cycle, column in ((CUR, 1), (PREV, 2)):
        want = {
            number: entry[3] for number, entry in enumerate(LINES, start=1) if entry[column] == "Q"
        }
        got = rows(db_url, "quarantined_records", cycle=cycle)
        assert {r["source_line"]: r["reason"] for r in got} == want, cycle
        assert {r["source_name"] for r in got} == {"log.jsonl"}
        assert all(len(r["raw_redacted"].encode("utf-8")) <= 4096 for r in got)
    quarantined = {r["source_line"]: r for r in rows(db_url, "quarantined_records", cycle=CUR)}
    neg = json.loads(quarantined[20]["raw_redacted"])
    assert neg["attempt_id"] == "q-neg"
    assert neg["completion_tokens"] == -3
    assert neg["api_key_id"] == redacted(SK)
    assert neg["tags"] == {"team": "search", "session": redacted(JWT)}
    assert "prompt" not in neg
    assert '"q-nokey"' in quarantined[8]["raw_redacted"]
    assert '"q-mal"' in quarantined[5]["raw_redacted"]
    assert json.loads(quarantined[22]["raw_redacted"])["status_code"] == 500
    # a readable attempt_id and a usable timestamp stay queryable on defective rows
    assert quarantined[20]["attempt_id"] == "q-neg"
    assert quarantined[20]["timestamp"] is not None
    assert quarantined[18]["attempt_id"] == "q-badts" and quarantined[18]["timestamp"] is None
    assert quarantined[5]["attempt_id"] is None  # malformed JSON: nothing to read

    # ---- secrets redacted in request_attempts; each value replaced counts once
    secret = staged["v-secret"]
    assert secret["api_key_id"] == redacted(SK)
    assert json.loads(secret["tags"]) == {
        "team": "search",
        "project": "web",
        "auth": redacted(BEARER),
        "session": redacted(JWT),
        "pipeline": "risk-assessment-pipeline-v2",
    }
    assert staged["v-secret2"]["api_key_id"] == redacted(SK)
    # Each api_key_id or tag value in which a secret was replaced counts once (SPEC 2.5):
    # v-secret: its api_key_id and two tag values, v-secret2: its api_key_id. Its exact
    # duplicate, the quarantined records and the NUL replacement add none.
    assert extraction_row(db_url, CUR)["redacted_values"] == 4
    assert extraction_row(db_url, PREV)["redacted_values"] == 0

    # ---- no secret, no content and no unstorable character anywhere in the ledger
    assert leaks(db_url, planted=PLANTED) == []


# --------------------------------------------------------------- property test

CYCLE = parse_cycle(CUR, "weekly")
ANCHORS = [
    datetime(2026, 11, 15, 22, 30, tzinfo=timezone.utc),
    datetime(2026, 11, 15, 23, 0, tzinfo=timezone.utc),  # read window start
    datetime(2026, 11, 15, 23, 56, tzinfo=timezone.utc),
    datetime(2026, 11, 16, 0, 0, tzinfo=timezone.utc),  # cycle start
    datetime(2026, 11, 18, 12, 0, tzinfo=timezone.utc),
    datetime(2026, 11, 22, 23, 56, tzinfo=timezone.utc),
    datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc),  # cycle end
    datetime(2026, 11, 23, 0, 56, tzinfo=timezone.utc),
    datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc),  # read window end
]
OFFSETS_S = [0, 1, 59, 240, 300, 301]
SHANGHAI = timezone(timedelta(hours=8))


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


@st.composite
def valid_record(draw) -> tuple[dict, int]:
    moment = draw(st.sampled_from(ANCHORS)) + timedelta(seconds=draw(st.sampled_from(OFFSETS_S)))
    if draw(st.booleans()):
        when = moment.isoformat().replace("+00:00", "Z")
    else:
        when = moment.astimezone(SHANGHAI).isoformat()
    record = {
        "attempt_id": draw(st.sampled_from([f"a{i}" for i in range(10)])),
        "timestamp": when,
        "api_key_id": draw(st.sampled_from(["key_a1", "key_b2"])),
        "model": "gpt-4o-mini",
        "endpoint": "/v1/chat/completions",
    }
    optional = {
        "request_id": st.sampled_from(["r0", "r1", "r2"]),
        "prompt_fingerprint": st.sampled_from(["p0", "p1"]),
        "client_retry_count": st.integers(0, 2),
        "status_code": st.sampled_from([200, 204, 400, 429, 500, 503, None]),
        "prompt_tokens": st.integers(0, 3),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            record[name] = draw(strategy)
    return record, _us(moment)


MUTATIONS = [
    ("drop", "attempt_id"),
    ("drop", "timestamp"),
    ("drop", "api_key_id"),
    ("drop", "model"),
    ("drop", "endpoint"),
    ("null", "model"),
    ("null", "timestamp"),
    ("set", ("client_retry_count", 1.5)),
    ("set", ("client_retry_count", -1)),
    ("set", ("client_retry_count", "1")),
    ("set", ("status_code", True)),
    ("set", ("prompt_tokens", -1)),
    ("set", ("completion_tokens", -2)),
    ("set", ("tags", {"team": 1})),
    ("set", ("timestamp", "not-a-time")),
    ("set", ("timestamp", "2026-11-18T12:00:00")),
    ("set", ("timestamp", 1763251200)),
    ("set", ("source_ip", "999.1.1.1")),
]


@st.composite
def stream(draw) -> list[tuple]:
    """A plan of lines: ('valid', record, ts_us) | ('mutated', record, ts_us or None)
    | ('dup', k) | ('not_object',) | ('malformed', text) | ('garbage', bytes).

    'retry' steps follow an earlier valid record (same request_id / fingerprint /
    key, a few seconds to minutes later, around the 300 s fingerprint window, with
    equal timestamps and absent or 0 retry counts) so that chains form often."""
    plan = []
    valid: list[tuple[dict, int]] = []
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(
            st.sampled_from(
                [
                    "valid",
                    "valid",
                    "retry",
                    "retry",
                    "mutated",
                    "dup",
                    "not_object",
                    "malformed",
                    "garbage",
                ]
            )
        )
        if kind == "retry" and valid:
            base, base_us = valid[draw(st.integers(0, len(valid) - 1))]
            record = dict(base)
            delta = draw(st.sampled_from([0, 0, 30, 299, 300, 301]))
            moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(
                microseconds=base_us, seconds=delta
            )
            record["timestamp"] = moment.isoformat().replace("+00:00", "Z")
            record["attempt_id"] = draw(st.sampled_from([f"a{i}" for i in range(10)]))
            for name, strategy in (
                ("client_retry_count", st.sampled_from([None, 0, 1, 2])),
                ("status_code", st.sampled_from([200, 429, 503, None])),
            ):
                value = draw(strategy)
                if value is None:
                    record.pop(name, None)
                else:
                    record[name] = value
            plan.append(("valid", record, _us(moment)))
            valid.append((record, _us(moment)))
        elif kind in ("valid", "retry"):
            record, ts_us = draw(valid_record())
            plan.append(("valid", record, ts_us))
            valid.append((record, ts_us))
        elif kind == "mutated":
            record, ts_us = draw(valid_record())
            how, what = draw(st.sampled_from(MUTATIONS))
            if how == "drop":
                record.pop(what)
            elif how == "null":
                record[what] = None
            else:
                record[what[0]] = what[1]
            if (
                how in ("drop", "null")
                and what == "timestamp"
                or (how == "set" and what[0] == "timestamp")
            ):
                ts_us = None
            plan.append(("mutated", record, ts_us))
        elif kind == "dup":
            plan.append(("dup", draw(st.integers(0, 1000))))
        elif kind == "malformed":
            plan.append(
                (
                    "malformed",
                    draw(
                        st.text(
                            st.characters(codec="utf-8", exclude_characters='"\\\n\r'), max_size=20
                        )
                    ),
                )
            )
        elif kind == "garbage":
            plan.append(("garbage", draw(st.binary(max_size=20).filter(lambda b: b"\n" not in b))))
        else:
            plan.append(("not_object",))
    return plan


def realize(plan: list[tuple]) -> list[tuple[bytes, str, dict | None, int | None]]:
    """Lines as (bytes, kind, parsed object or None, ts_us or None). Lines that do
    not parse into a JSON object are made unique, so only objects can be exact
    duplicates."""
    out: list[tuple[bytes, str, dict | None, int | None]] = []
    for i, step in enumerate(plan):
        kind = step[0]
        if kind in ("valid", "mutated"):
            out.append((json.dumps(step[1]).encode(), kind, step[1], step[2]))
        elif kind == "dup":
            objects = [entry for entry in out if entry[2] is not None]
            if objects:
                raw, original_kind, obj, ts_us = objects[step[1] % len(objects)]
                out.append((raw, original_kind, obj, ts_us))
            else:
                out.append((f'["not an object", {i}]'.encode(), "defect", None, None))
        elif kind == "not_object":
            out.append((f'["not an object", {i}]'.encode(), "defect", None, None))
        elif kind == "malformed":
            out.append((f'{{"attempt_id": "g{i}", "x": "{step[1]}'.encode(), "defect", None, None))
        else:
            out.append((b"\xff" + str(i).encode() + step[1], "defect", None, None))
    return out


def oracle(lines, window: StagingWindow, fingerprint_window_us: int):
    """Expected dispositions (SPEC 4.1) and logical requests (SPEC 4.2), by hand."""
    seen_objects: set[str] = set()
    kept_ids: set[str] = set()
    disposition: dict[int, str] = {}
    in_window: list[tuple[int, dict, int]] = []
    for seq, (_, kind, obj, ts_us) in enumerate(lines):
        if obj is not None:
            canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"))
            if canonical in seen_objects:
                disposition[seq] = "exact_duplicate"
                continue
            seen_objects.add(canonical)
        defective = kind != "valid"
        if not defective and obj["attempt_id"] in kept_ids:
            defective = True  # duplicate_attempt_id
        if defective:
            in_cycle = ts_us is None or window.cycle_start_us <= ts_us < window.cycle_end_us
            disposition[seq] = "quarantined" if in_cycle else "other_cycle"
            continue
        kept_ids.add(obj["attempt_id"])
        if window.read_start_us <= ts_us < window.read_end_us:
            disposition[seq] = "in_window"
            in_window.append((seq, obj, ts_us))
        else:
            disposition[seq] = "other_cycle"

    def order(item):
        seq, obj, ts_us = item
        return ts_us, obj.get("client_retry_count") or 0, obj["attempt_id"]

    def group(items) -> list[list]:
        requests: dict[tuple, list] = defaultdict(list)
        chains: dict[tuple, list] = defaultdict(list)
        for item in items:
            obj = item[1]
            if obj.get("request_id") is not None:
                requests[("rid", obj["request_id"])].append(item)
            elif obj.get("prompt_fingerprint") is not None:
                chains[
                    (obj["api_key_id"], obj["model"], obj["endpoint"], obj["prompt_fingerprint"])
                ].append(item)
            else:
                requests[("att", obj["attempt_id"])].append(item)
        for chain in chains.values():
            chain.sort(key=order)
            current = None
            for position, item in enumerate(chain):
                joins = False
                if position:
                    prev = chain[position - 1]
                    status = prev[1].get("status_code")
                    joins = (
                        item[2] - prev[2] <= fingerprint_window_us
                        and not (status is not None and 200 <= status <= 299)
                        and item[1].get("client_retry_count") != 0
                    )
                if not joins:
                    current = ("fp", item[1]["attempt_id"])
                requests[current].append(item)
        for members in requests.values():
            members.sort(key=order)
        return list(requests.values())

    # What the next cycle's run sees of this window: an attempt after cycle_end is
    # this cycle's only if that view also starts its request before cycle_end.
    next_start = {}
    span_us = window.read_end_us - window.cycle_end_us  # retry_span_s
    for members in group([i for i in in_window if i[2] >= window.cycle_end_us - span_us]):
        for seq, _, _ in members:
            next_start[seq] = members[0][2]
    staged = {}
    for members in group(in_window):
        if not window.cycle_start_us <= members[0][2] < window.cycle_end_us:
            continue
        claimed = [
            (index, seq)
            for index, (seq, _, ts_us) in enumerate(members)
            if ts_us < window.cycle_end_us or next_start[seq] < window.cycle_end_us
        ]
        group_seqs = frozenset(seq for _, seq in claimed)
        for index, seq in claimed:
            staged[seq] = (group_seqs, index)
    return disposition, staged


def scratch_engine(path: Path) -> sa.Engine:
    """A throwaway SQLite ledger without fsyncs (creating every table is then fast)."""
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _fast(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA synchronous = OFF")
        dbapi_connection.execute("PRAGMA journal_mode = MEMORY")

    return engine


@pytest.fixture(scope="module")
def prop_config(tmp_path_factory):
    root = tmp_path_factory.mktemp("prop")
    return load_config(write_scenario(root, []), database_url="sqlite:///unused.db")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plan=stream())
def test_every_record_lands_in_exactly_one_disposition(prop_config, plan):
    lines = realize(plan)
    window = StagingWindow.for_cycle(CYCLE, prop_config.thresholds.retry_span_s)
    params = cycle_params(CYCLE, prop_config, REVIEW_DATE, "prop-run")
    models = discover_models()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "logs"
        folder.mkdir()
        (folder / "log.jsonl").write_bytes(b"".join(raw + b"\n" for raw, *_ in lines))
        engine = scratch_engine(Path(tmp) / "ledger.db")
        try:
            result = stage_records(
                engine,
                iter_folder_records(folder),
                window=window,
                run_id="prop-run",
                source_kind="files",
                source_location=str(folder),
            )
            run_model(engine, models["int_classified_records"], params)
            run_model(engine, models["int_grouped_attempts"], params)
            with engine.connect() as conn:
                classified = conn.execute(
                    sa.text(
                        "SELECT read_seq, disposition FROM int_classified_records "
                        "WHERE cycle_id = :c"
                    ),
                    {"c": CUR},
                ).all()
                grouped = conn.execute(
                    sa.text(
                        "SELECT read_seq, attempt_id, logical_request_id, attempt_index "
                        "FROM int_grouped_attempts WHERE cycle_id = :c"
                    ),
                    {"c": CUR},
                ).all()
        finally:
            engine.dispose()

    assert result.records_read == len(lines)
    seqs = [seq for seq, _ in classified]
    assert sorted(seqs) == list(range(len(lines)))  # every record exactly once

    want_disposition, want_staged = oracle(lines, window, params["fingerprint_window_us"])
    assert dict(classified) == want_disposition

    grouped_seqs = [row[0] for row in grouped]
    assert len(grouped_seqs) == len(set(grouped_seqs))  # no record counted twice
    assert len({row[1] for row in grouped}) == len(grouped)  # attempt_id unique
    assert set(grouped_seqs) <= {s for s, d in classified if d == "in_window"}
    members: dict[str, set[int]] = defaultdict(set)
    for seq, _, logical_request_id, _ in grouped:
        members[logical_request_id].add(seq)
    assert {
        seq: (frozenset(members[lrid]), index) for seq, _, lrid, index in grouped
    } == want_staged

    counts = defaultdict(int)
    for _, d in classified:
        counts[d] += 1
    staged = len(grouped)
    other = counts["other_cycle"] + counts["in_window"] - staged
    assert result.records_read == (
        staged + counts["quarantined"] + counts["exact_duplicate"] + other
    )
