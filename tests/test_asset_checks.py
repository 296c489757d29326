"""Asset checks (SPEC 6), asserted through Dagster's own run results: check
evaluations, their severity, the job's check specs, step outcomes and events.

Faults are planted where the real fault would occur, by swapping one function for
the duration of a run:

* a lost record: the loader's batching (``extract.load._batches``) drops the first
  row of each batch, as a faulty batch insert would. The extractor still counts
  every record it read, so ``stg_extract_runs.records_read`` no longer matches the
  staged rows -- exactly the loss ``no_record_lost`` exists to catch. (Dropping a
  record before it is counted would be invisible to any reconciliation.)
* a stored secret: the extractor's redaction (``extract.records.redact_value``)
  lets every value through, so an ``sk-...`` api_key_id reaches the ledger.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import dagster as dg
from scenario import CYCLE, REVIEW_DATE, attempt, rows, run, ts, write_scenario

from tokenreview_pipeline import cli
from tokenreview_pipeline.cli import run_cycle
from tokenreview_pipeline.extract import load, records

EVIDENCE = [
    {
        "area": "pricing",
        "url": "https://apidoc.example/pricing",
        "accessed_on": (REVIEW_DATE - timedelta(days=5)).isoformat(),
    }
]
ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
BLOCKING = {
    ("request_attempts", "no_record_lost"),
    ("request_attempts", "no_secret_or_content"),
    ("request_attempts", "attempt_id_unique"),
    ("quarantined_records", "no_secret_or_content"),
    ("review_packets", "totals_reconcile"),
}
FINDINGS = {
    ("review_packets", "evidence_requirements_met"),
    ("int_cycle_pricing", "newest_snapshot_fresh"),
}
SECRET = "sk-" + "A1b2C3d4E5" * 3


def evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def materialization_metadata(result, asset: str) -> dict:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == asset
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def clean_records() -> list[dict]:
    return [
        attempt("a1", ts(10), request_id="r1", client_retry_count=0, status_code=503),
        attempt("a2", ts(11), request_id="r1", client_retry_count=1),
        attempt("a3", ts(20), request_id="r2"),
    ]


def test_clean_data_passes_every_check_and_blocking_checks_are_errors(tmp_path, db_url):
    cfg = write_scenario(tmp_path, clean_records(), evidence=EVIDENCE)
    result = run(cfg, db_url)
    (packet,) = rows(db_url, "review_packets")
    assert packet["result"] == "pass"

    evaluated = evaluations(result)
    assert BLOCKING | FINDINGS <= set(evaluated)
    failing = [key for key, e in evaluated.items() if not e.passed]
    assert failing == []
    for key in BLOCKING:
        assert evaluated[key].severity == ERROR, key
    for key in FINDINGS:
        assert evaluated[key].severity == WARN, key


# Resolves the job's check specs in a fresh interpreter (as `dagster dev` or the
# `tokenreview` command would: nothing imported beforehand) and prints them.
SPECS_SCRIPT = """
import json, sys
from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.defs import build_defs
from tokenreview_pipeline.defs.jobs import CYCLE_JOB
from tokenreview_pipeline.sql_models import discover_models

config = load_config(sys.argv[1], database_url=sys.argv[2])
graph = build_defs(config).resolve_job_def(CYCLE_JOB).asset_layer.asset_graph
specs = {k.asset_key.to_user_string() + "." + k.name: graph.get_check_spec(k).blocking
         for k in graph.asset_check_keys}
severity = {m + "." + c.name: c.severity for m, model in discover_models().items()
            for c in model.checks}
print(json.dumps({"blocking": specs, "severity": severity}))
"""


def test_job_check_specs_block_exactly_on_error_checks(tmp_path):
    cfg = write_scenario(tmp_path, clean_records(), evidence=EVIDENCE)
    done = subprocess.run(
        [sys.executable, "-c", SPECS_SCRIPT, str(cfg), f"sqlite:///{tmp_path / 'ledger.db'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    blocking = found["blocking"]
    assert {f"{a}.{c}" for a, c in BLOCKING | FINDINGS} <= set(blocking)
    for asset, check in BLOCKING:
        assert blocking[f"{asset}.{check}"] is True, (asset, check)
    for asset, check in FINDINGS:
        assert blocking[f"{asset}.{check}"] is False, (asset, check)
    # Every SQL check: blocking exactly when its severity is error.
    assert found["severity"]
    for name, severity in found["severity"].items():
        assert blocking[name] == (severity == "error"), name


def test_lost_record_blocks_request_attempts_and_downstream(tmp_path, db_url, monkeypatch):
    cfg = write_scenario(tmp_path, clean_records()[:2], evidence=EVIDENCE)
    run(cfg, db_url)
    assert {a["attempt_id"] for a in rows(db_url, "request_attempts")} == {"a1", "a2"}

    # The next run reads three records but the loader loses the first one.
    write_scenario(tmp_path, clean_records(), evidence=EVIDENCE)
    batches = load._batches

    def lossy_batches(staged_rows, size):
        for batch in batches(staged_rows, size):
            yield batch[1:]

    monkeypatch.setattr(load, "_batches", lossy_batches)
    result = run(cfg, db_url, expect_success=False)

    assert not result.success
    lost = evaluations(result)[("request_attempts", "no_record_lost")]
    assert not lost.passed
    assert lost.severity == ERROR
    (sample,) = lost.metadata["failing_sample"].value
    assert (sample["records_read"], sample["records_landed"]) == (3, 2)
    # Built, checked, and not published: the previous rows stay, the new ones wait in
    # the build table for inspection, and the cycle is not published.
    assert materialization_metadata(result, "request_attempts")["blocked_by_checks"] is True
    assert {a["attempt_id"] for a in rows(db_url, "request_attempts")} == {"a1", "a2"}
    assert {a["attempt_id"] for a in rows(db_url, "_build_request_attempts")} == {"a2", "a3"}
    assert "cycle_publication" not in materialized(result)
    # Downstream assets did not run in this run; their previous rows stay too.
    assert "review_packets" not in materialized(result)
    assert "extraction_runs" not in materialized(result)
    assert not any(asset == "review_packets" for asset, _ in evaluations(result))
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    failed_steps = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failed_steps == {"request_attempts"}
    assert "request_attempts" in started and "review_packets" not in started
    (packet,) = rows(db_url, "review_packets")
    assert packet["attempts"] == 2
    (extraction,) = rows(db_url, "extraction_runs")
    assert extraction["records_read"] == 2


def test_stored_secret_blocks_request_attempts(tmp_path, db_url, monkeypatch):
    cfg = write_scenario(
        tmp_path,
        [attempt("a1", ts(10), api_key_id=SECRET), attempt("a2", ts(11))],
        evidence=EVIDENCE,
    )
    monkeypatch.setattr(records, "redact_value", lambda value: (value, False))
    result = run(cfg, db_url, expect_success=False)

    assert not result.success
    evaluated = evaluations(result)
    secret = evaluated[("request_attempts", "no_secret_or_content")]
    assert not secret.passed
    assert secret.severity == ERROR
    assert secret.metadata["failing_rows"].value == 1
    assert secret.metadata["failing_sample"].value == [{"attempt_id": "a1"}]
    assert SECRET not in json.dumps(secret.metadata["failing_sample"].value)
    assert evaluated[("request_attempts", "no_record_lost")].passed
    assert rows(db_url, "request_attempts") == []
    assert "review_packets" not in materialized(result)
    assert rows(db_url, "review_packets") == []


def test_evidence_failures_are_warn_findings_and_the_run_exits_0(
    tmp_path, db_url, monkeypatch, capsys
):
    records_ = [
        *clean_records(),
        # No rule matches: owner_identified, workload_tagged, allocation_rule_checked.
        attempt("n1", ts(30), request_id="n1", tags={"team": "nobody"}),
    ]
    cfg = write_scenario(tmp_path, records_, evidence=EVIDENCE)
    results = []

    def spy_run_cycle(*args, **kwargs):
        # The real command, on an in-memory instance.
        with dg.DagsterInstance.ephemeral() as instance:
            results.append(run_cycle(*args, instance=instance, **kwargs))
        return results[-1]

    monkeypatch.setattr(cli, "run_cycle", spy_run_cycle)
    code = cli.main(["run", "--config", str(cfg), "--cycle", CYCLE, "--database-url", db_url])
    out = capsys.readouterr().out

    assert code == 0, out
    (result,) = results
    assert result.success
    evaluated = evaluations(result)
    evidence = evaluated[("review_packets", "evidence_requirements_met")]
    assert not evidence.passed
    assert evidence.severity == WARN
    assert evidence.metadata["failing_rows"].value == 1
    (finding,) = evidence.metadata["failing_sample"].value
    assert (finding["workload_tag"], finding["request_class"], finding["owner_tag"]) == (
        "unallocated",
        "production:/v1/chat/completions",
        None,
    )
    assert finding["failed_requirements"] == [
        "owner_identified",
        "workload_tagged",
        "allocation_rule_checked",
    ]
    assert [key for key, e in evaluated.items() if not e.passed] == [
        ("review_packets", "evidence_requirements_met")
    ]
    assert "review_packets" in materialized(result)
    assert "check failed [WARN]: review_packets.evidence_requirements_met" in out
