"""What on-call reads: check metadata and descriptions, plottable metadata, `explain`'s
evidence, and the HTML report (opened offline in headless Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import launch, require_chromium
from budget_rows import add_budget_decision
from scenario import CYCLE, DEFAULT_RULES, attempt, run, ts, write_scenario

from tokenreview_pipeline.cli import main
from tokenreview_pipeline.contract import PACKET_CAUSE_ORDER, Reason
from tokenreview_pipeline.defs.model_metadata import RECONCILIATION_COUNTS

RULES = [
    *DEFAULT_RULES,
    # A second owner for search-web: owner_identified fails with two owner_tags.
    {
        "id": "ops-web",
        "priority": 5,
        "match": {"api_key_id": ["key_ops2"]},
        "assign": {"owner_tag": "team-ops", "workload_tag": "search-web"},
    },
]


def tags(project: str) -> dict:
    return {"team": "search", "project": project}


RECORDS = [
    attempt("a1", ts(10), request_id="r1", status_code=503),
    attempt("a2", ts(11), request_id="r1", client_retry_count=1),
    attempt("w2", ts(12), request_id="w2", api_key_id="key_ops2"),
    # A retry whose first attempt is missing: orphan, cause unknown.
    attempt("o1", ts(40), request_id="o1", client_retry_count=2, tags=tags("orph")),
    # A model the snapshot does not price.
    attempt("m1", ts(50), request_id="m1", model="mystery-model", tags=tags("myst")),
    # No rule matches: unallocated.
    attempt("n1", ts(60), request_id="n1", api_key_id="key_x", tags={"team": "nobody"}),
    attempt("n2", ts(61), request_id="n2", api_key_id="key_x", tags={"team": "nobody"}),
    "not json",
]


def _metadata(result, asset: str) -> dict:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == asset
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.fixture
def scenario(tmp_path, db_url):
    cfg = write_scenario(tmp_path, RECORDS, rules=RULES)
    return cfg, run(cfg, db_url)


def test_failed_evidence_check_says_what_failed_and_who_must_act(scenario):
    _, result = scenario
    (evidence,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "evidence_requirements_met"
    ]
    assert evidence.partition == CYCLE
    assert re.match(rf"Cycle {CYCLE}: 4 of 4 packets fail: ", evidence.description)
    assert "owner_identified (2)" in evidence.description
    metadata = {k: v.value for k, v in evidence.metadata.items()}
    assert metadata["cycle_id"] == CYCLE
    header, rule, *rows = metadata["failing"].splitlines()
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "workload_tag",
        "request_class",
        "owner_tag",
        "failed_requirements",
        "notes",
    ]
    (unallocated,) = [r for r in rows if "| unallocated" in r]
    assert "owner_identified, workload_tagged, allocation_rule_checked" in unallocated
    assert "the pipeline operator must add a rule for them" in unallocated
    # JSON arrays are lists, not JSON strings inside JSON.
    assert all(isinstance(r["failed_requirements"], list) for r in metadata["failing_sample"])
    # Every check names its cycle, passed or not.
    for e in result.get_asset_check_evaluations():
        assert e.metadata["cycle_id"].value == CYCLE, e.check_name
        assert e.description.startswith(f"Cycle {CYCLE}: "), e.check_name


def test_numbers_to_plot_on_every_materialization(scenario):
    _, result = scenario
    packets = _metadata(result, "review_packets")
    assert (packets["packets_passed"], packets["packets_failed"]) == (0, 4)
    assert packets["retry_attempts"] == 2 and packets["attempts"] == 7
    assert packets["retries_platform_response"] == 1 and packets["retries_unknown"] == 1
    assert sum(packets[c.packet_column] for c in PACKET_CAUSE_ORDER) == 2
    assert packets["retry_share"] == pytest.approx(2 / 7)
    assert packets["est_cost_usd"] is None  # one model is not priced: the total is unknown
    assert "| notes" in packets["packets"].splitlines()[0]

    counts = _metadata(result, "extraction_runs")
    assert counts["records_read"] == len(RECORDS)
    assert counts["records_read"] == sum(counts[c] for c in RECONCILIATION_COUNTS[1:-1])
    assert counts["records_quarantined"] == 1

    quarantine = _metadata(result, "quarantined_records")
    assert {f"quarantined_{r}" for r in Reason} <= set(quarantine)
    assert quarantine["quarantined_malformed_json"] == 1
    assert sum(v for k, v in quarantine.items() if k.startswith("quarantined_")) == 1


def _explain(cfg, db_url, workload, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(
        ["explain", "--config", str(cfg), "--cycle", CYCLE, "--workload", workload]
        + ["--database-url", db_url]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_explain_names_the_requests_behind_each_note(scenario, db_url, capsys):
    cfg, _ = scenario
    code, out, _ = _explain(cfg, db_url, "search-orph", capsys)
    assert code == 0
    assert "orphan retries (1):" in out and "retries with an unknown cause (1):" in out
    assert (
        "o1 at 2026-11-16 00:40:00 UTC, api key key_a1, request_id o1; previous attempt: none"
        in out
    )

    code, out, _ = _explain(cfg, db_url, "unallocated", capsys)
    assert "2 logical request(s): api key key_x, model gpt-4o-mini" in out
    assert '"team":"nobody"' in out
    assert "api_key_id: [key_x]" in out and "tags: {team: nobody}" in out

    code, out, _ = _explain(cfg, db_url, "search-web", capsys)
    assert "team-ops: 1 request(s), by rule ops-web" in out
    assert "team-search: 1 request(s), by rule search" in out

    code, out, _ = _explain(cfg, db_url, "search-myst", capsys)
    assert "mystery-model (tier standard): 1 attempt(s)" in out
    assert "the pipeline operator must add their prices to pricing.url" in out

    code, out, err = _explain(cfg, db_url, "nope", capsys)
    assert code == 2 and out == ""
    assert "search-myst, search-orph, search-web, unallocated" in err


def _open_offline(page_file: Path) -> tuple[list[str], str, int]:
    """Open a file in headless Chromium; the URLs it requested, its text, its SVGs."""
    sync_api = require_chromium()
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            page.goto(page_file.as_uri(), wait_until="load")
            return requested, page.inner_text("body"), page.locator("svg").count()
        finally:
            browser.close()


def test_report_is_one_file_that_opens_offline(scenario, db_url, tmp_path, capsys):
    cfg, _ = scenario
    out = tmp_path / "review" / "report.html"
    args = ["report", "--config", str(cfg), "--cycle", CYCLE, "--database-url", db_url]
    assert main([*args, "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    # Nothing to fetch: no linked script, stylesheet, image or font.
    assert not re.search(r"<script[^>]*\ssrc=|<link\b|<img\b|@import|url\(", html)
    assert html.count("<svg") == 3
    # no budgets.yaml: each workload with packets has a review and no change requested
    assert '<h2 id="budgets">Budget decisions</h2>' in html and "no_change_requested" in html
    assert main([*args, "--workload", "nope", "--out", str(tmp_path / "x.html")]) == 2
    assert "workloads in this cycle" in capsys.readouterr().err

    requested, text, svgs = _open_offline(out)
    assert requested == [out.as_uri()]  # nothing but the file itself
    assert svgs == 3
    assert "Packets and their results" in text and "search-orph" in text
    assert "the pipeline operator must add a rule for them" in text


def test_report_shows_the_budget_decisions_when_reviewed(scenario, db_url, tmp_path):
    cfg, _ = scenario
    add_budget_decision(
        db_url,
        {
            "cycle_id": CYCLE,
            "workload_tag": "search-orph",
            "decision": "paused",
            "budget_usd": 250.0,
            "pause_reasons": '["retry_cause_known"]',
            "notes": "retry_cause_known: the owner must supply status codes.",
        },
    )
    out = tmp_path / "report.html"
    args = ["report", "--config", str(cfg), "--cycle", CYCLE, "--database-url", db_url]
    assert main([*args, "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    budgets = html[html.index('id="budgets"') :]
    assert "paused" in budgets and "$250.000000" in budgets and "retry_cause_known" in budgets
