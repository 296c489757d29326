"""The HTTP log export API as the pipeline's source (SPEC 2.6), end to end, against a
real server on 127.0.0.1 with injected faults."""

import sqlalchemy as sa
from http_server import ExportServer, Fault
from scenario import CYCLE, attempt, rows, run, ts, write_scenario

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cli import root_cause

TOKEN = "export-token-7f3a9c"  # not secret-shaped: the test checks it is never stored


def http_config(tmp_path, url, **source):
    return write_scenario(
        tmp_path,
        [],
        extra_config={
            "request_logs": {
                "kind": "http",
                "url": url,
                "token_env": "LOGS_TOKEN",
                "max_tries": 4,
                **source,
            }
        },
    )


def failure_text(result) -> str:
    return "\n".join(
        root_cause(e.event_specific_data.error) for e in result.all_events if e.is_step_failure
    )


def test_pages_retries_duplicates_and_token(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("LOGS_TOKEN", TOKEN)
    a1 = attempt("h1", ts(10))
    pages = {
        None: {"data": [a1, attempt("h2", ts(11))], "next_cursor": "c2"},
        # the first page's h1 again (a page re-served after a retry), h1 with other
        # content, and a defective record
        "c2": {
            "data": [a1, attempt("h1", ts(12)), attempt("h3", ts(13), prompt_tokens=-5)],
            "next_cursor": None,
        },
    }
    faults = [Fault.status_code(503), Fault.drop(), Fault.status_code(429, retry_after="0")]
    with ExportServer(pages, faults=faults) as server:
        cfg = http_config(tmp_path, server.url)
        run(cfg, db_url)
    assert {r["attempt_id"] for r in rows(db_url, "request_attempts")} == {"h1", "h2"}
    reasons = sorted(r["reason"] for r in rows(db_url, "quarantined_records"))
    assert reasons == ["duplicate_attempt_id", "negative_tokens"]
    quarantined = rows(db_url, "quarantined_records", order_by=["read_seq"])
    assert [(q["source_page"], q["source_line"]) for q in quarantined] == [(2, 2), (2, 3)]
    (counts,) = rows(db_url, "extraction_runs")
    assert counts["source_kind"] == "http"
    assert (
        counts["records_read"],
        counts["attempts_staged"],
        counts["records_quarantined"],
        counts["exact_duplicates"],
        counts["other_cycle_records"],
    ) == (5, 2, 2, 1, 0)

    served = list(server.requests)
    assert len(served) == 5  # three faults, then two pages
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in served)
    # the cycle's read window: [start - retry_span_s, end + retry_span_s)
    assert served[-1].query["start"] == ["2026-11-15T23:00:00Z"]
    assert served[-1].query["end"] == ["2026-11-23T01:00:00Z"]
    assert served[-1].query["cursor"] == ["c2"]

    engine = ledger.engine_for(db_url)
    with engine.connect() as conn:
        for table in ledger.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, sa.String | sa.Text):
                    hit = conn.execute(
                        sa.select(sa.func.count()).select_from(table).where(column.contains(TOKEN))
                    ).scalar_one()
                    assert hit == 0, f"token stored in {table.name}.{column.name}"


def test_missing_token_and_unreachable_api_fail_clearly(tmp_path, db_url, monkeypatch):
    monkeypatch.delenv("LOGS_TOKEN", raising=False)
    with ExportServer({None: {"data": [], "next_cursor": None}}) as server:
        cfg = http_config(tmp_path, server.url)
        result = run(cfg, db_url, expect_success=False)
    assert not result.success
    assert "LOGS_TOKEN" in failure_text(result) and "not set" in failure_text(result)

    monkeypatch.setenv("LOGS_TOKEN", TOKEN)
    with ExportServer({}, faults=[Fault.status_code(503)] * 3) as server:
        cfg = http_config(tmp_path / "down", server.url, max_tries=3)
        result = run(cfg, db_url, expect_success=False)
    text = failure_text(result)
    assert "503" in text and "3" in text and server.url in text
    assert TOKEN not in text
    assert rows(db_url, "request_attempts", cycle=CYCLE) == []  # nothing half-written
