"""A pipeline-level property test: small hostile scenarios through the whole Dagster
run on SQLite. Every run succeeds, SPEC 4.1's reconciliation holds with the counts
the records imply, and no text column of any table holds a secret, a NUL, a lone
surrogate or a content field as a key.

Each example is a full run (about a second), so the examples are few; the record-level
properties are fuzzed far more widely in ``test_fuzz_records.py``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_scan import leaks
from scenario import attempt, rows, run, ts, write_scenario

from tokenreview_pipeline.extract.records import record_from_line

SECRETS = ["sk-proj-AbCdEfGhIjKlMnOpQrStUvWx", "Bearer ab12.cd34", "eyJa1.b2c.d3e"]
HOSTILE = st.one_of(
    st.sampled_from(SECRETS).map(lambda s: f"x={s}"),
    st.sampled_from(["\x00", "\ud800", "risk-assessment-pipeline-v2", "p' OR '1'='1"]),
    st.text(max_size=12),
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "model": HOSTILE,
        "error_type": HOSTILE,
        "api_key_id": HOSTILE,
        "request_id": st.sampled_from(["r1", "r2"]),
        "status_code": st.sampled_from([200, 429, 503, 2**31, True]),
        "prompt_tokens": st.sampled_from([0, 10, 2**40 - 1, 2**40, -1]),
        "cached_prompt_tokens": st.sampled_from([0, 5, 11]),
        "service_tier": HOSTILE,
        "tags": st.dictionaries(
            st.sampled_from(["team", "project", "prompt", "note"]), HOSTILE, max_size=3
        ).map(lambda t: {"team": "search", "project": "web", **t}),
    },
)


@st.composite
def log_lines(draw) -> list[str]:
    lines: list[str] = []
    for i in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["record", "record", "record", "duplicate", "malformed"]))
        if kind == "duplicate" and lines:
            lines.append(lines[draw(st.integers(0, len(lines) - 1))])
        elif kind == "malformed":
            lines.append(
                '{"attempt_id": "m'
                + str(i)
                + '", "x": "'
                + draw(HOSTILE)
                + " "
                + draw(st.sampled_from(SECRETS)).replace("o", "\\u006f")
            )
        else:
            fields = draw(FIELDS)
            record = attempt(draw(st.sampled_from(["a1", "a2", f"a{i}"])), ts(10 + i), **fields)
            lines.append(json.dumps(record))
    return lines


def expected_counts(lines: list[str]) -> dict[str, int]:
    """Every record is timestamped in the cycle (or has no usable timestamp), and each
    logical request starts in it: what the records themselves imply."""
    seen: set[str] = set()
    kept_ids: set[object] = set()
    counts = {"exact_duplicates": 0, "records_quarantined": 0, "attempts_staged": 0}
    for number, text in enumerate(lines, start=1):
        rec = record_from_line(
            text.encode("utf-8", "surrogatepass"), source_name="f", source_line=number
        )
        if rec.content_sha256 is not None:
            if rec.content_sha256 in seen:
                counts["exact_duplicates"] += 1
                continue
            seen.add(rec.content_sha256)
        if rec.fields is None or rec.fields["attempt_id"] in kept_ids:
            counts["records_quarantined"] += 1
        else:
            kept_ids.add(rec.fields["attempt_id"])
            counts["attempts_staged"] += 1
    return counts


@settings(
    max_examples=5,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(log_lines())
def test_hostile_scenarios_reconcile_and_store_no_secret(lines) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = write_scenario(root, [])
        data = "\n".join(lines) + "\n"
        (root / "request_logs" / "log.jsonl").write_bytes(data.encode("utf-8", "surrogatepass"))
        db_url = f"sqlite:///{root / 'ledger.db'}"
        run(cfg, db_url)
        (extraction,) = rows(db_url, "extraction_runs")
        assert extraction["records_read"] == len(lines)
        assert {k: extraction[k] for k in expected_counts(lines)} == expected_counts(lines)
        assert extraction["other_cycle_records"] == 0
        assert leaks(db_url, planted=SECRETS) == []
