"""Budget reviews and billing reconciliation through the pipeline (SPEC 5, 6 and 7), on
SQLite and PostgreSQL.

One scenario (``two_cycles``, per backend) is run three times: the current cycle before
the previous one was ever run (previous figures are null), then the previous cycle,
then the current cycle again (previous figures come from the published ledger). Each
workload is one case of SPEC 5's decision rule; the billing folder holds two files, one
with token columns and one without, rows in and out of the cycle, and one model per
reconciliation status. Expected values are worked out by hand from the SPEC (prices:
DEFAULT_PRICING plus the dedicated models below), or, where a value is a sum over many
attempts, computed here from ``request_attempts``/``review_packets`` rows as SPEC 5
defines it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from scenario import (
    CYCLE,
    CYCLE_START,
    DEFAULT_PRICING,
    DEFAULT_RULES,
    EVIDENCE_DATE,
    REVIEW_DATE,
    attempt,
    rows,
    run,
    ts,
    write_scenario,
)

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cli import main

PREV = "2026-11-09"
PREV_START = CYCLE_START - timedelta(days=7)
CHAT = "production:/v1/chat/completions"
EPS = Decimal("0.000000001")

RULES = [
    DEFAULT_RULES[0],  # team search -> owner team-search, workload search-{tags.project}
    *[
        {
            "id": team,
            "priority": priority,
            "match": {"tags": {"team": team}},
            "assign": {"owner_tag": f"team-{team}", "workload_tag": "{tags.project}"},
        }
        for team, priority in (("alpha", 20), ("beta", 30))
    ],
]
# Dedicated models make the reconciliation's sums exact: 1 USD per 1M prompt tokens.
PRICING = {
    **DEFAULT_PRICING,
    "models": [
        *DEFAULT_PRICING["models"],
        *[
            {"model": m, "input_per_1m": 1.0, "output_per_1m": 0.0}
            for m in ("m-at", "m-above", "m-below", "m-unbilled")
        ],
        {"model": "free-model", "input_per_1m": 0.0, "output_per_1m": 0.0},
    ],
}
EVIDENCE = [{"area": "pricing", "url": "https://example.com/docs", "accessed_on": EVIDENCE_DATE}]
THRESHOLDS = {"min_sample_size": 1, "max_unknown_retry_share": 0.5, "max_billing_gap_share": 0.1}
MINI = Decimal("0.000045")  # gpt-4o-mini, 100 prompt + 50 completion tokens


def tags(project: str, team: str = "search", **extra: str) -> dict[str, str]:
    return {"team": team, "project": project, **extra}


def no_response(attempt_id: str, when: str, **fields) -> dict:
    """An attempt that got no HTTP response and says nothing more: its retry's cause is
    unknown (SPEC 4.3)."""
    return attempt(
        attempt_id,
        when,
        status_code=None,
        error_type="connection_error",
        prompt_tokens=0,
        completion_tokens=0,
        **fields,
    )


def recon(attempt_id: str, when: str, model: str, prompt_tokens: int) -> dict:
    """An attempt of the reconciliation workload, prompt tokens only."""
    return attempt(
        attempt_id,
        when,
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=0,
        tags=tags("recon"),
    )


def retried(request_id: str, when: str, status: int, error: str, project: str) -> list[dict]:
    """A failed first attempt and its successful retry a minute later."""
    first = attempt(
        f"{request_id}a",
        when,
        request_id=request_id,
        status_code=status,
        error_type=error,
        tags=tags(project),
    )
    later = ts(base=datetime.fromisoformat(when.replace("Z", "+00:00")), minutes=1)
    retry = attempt(
        f"{request_id}b", later, request_id=request_id, client_retry_count=1, tags=tags(project)
    )
    return [first, retry]


def current_records() -> list[dict]:
    return [
        # search-web: two clean requests; a change request -> ready_for_review.
        attempt("w1", ts(10)),
        attempt("w2", ts(20)),
        # search-orphan: an orphan retry (1 unknown of 3 retries, share <= 0.5): fails
        # retry_count_recorded only, which does not pause -> ready_for_review.
        attempt("o1", ts(30), request_id="o1", client_retry_count=1, tags=tags("orphan")),
        *retried("o2", ts(40), 429, "rate_limit", "orphan"),
        *retried("o3", ts(50), 500, "server_error", "orphan"),
        # search-unknown: 1 unknown retry of 1 -> retry_cause_known fails -> paused.
        no_response("u1a", ts(60), request_id="u1", tags=tags("unknown")),
        attempt("u1b", ts(61), request_id="u1", client_retry_count=1, tags=tags("unknown")),
        attempt("u2", ts(62), tags=tags("unknown")),
        # search-mixed: three packets; one fails retry_cause_known, one uses an unpriced
        # model (pricing_source_checked, unit_metric_defined), one passes.
        no_response(
            "mi1a", ts(70), request_id="mi1", tags=tags("mixed", request_class="interactive")
        ),
        attempt(
            "mi1b",
            ts(71),
            request_id="mi1",
            client_retry_count=1,
            tags=tags("mixed", request_class="interactive"),
        ),
        attempt("mb1", ts(72), model="mystery-model", tags=tags("mixed", request_class="batch")),
        attempt("mc1", ts(73), tags=tags("mixed", request_class="clean")),
        # shared: packet p1 has one owner, packet p3 two -> owner_identified fails.
        attempt("sh1", ts(80), tags=tags("shared", "alpha", request_class="p1")),
        attempt("sh2", ts(81), tags=tags("shared", "alpha", request_class="p3")),
        attempt("sh3", ts(82), tags=tags("shared", "beta", request_class="p3")),
        # split: each packet one owner, but not the same one -> owner_tag null.
        attempt("sp1", ts(90), tags=tags("split", "alpha", request_class="x")),
        attempt("sp2", ts(91), tags=tags("split", "beta", request_class="y")),
        # search-zero: no tokens -> cost 0, cost_per_1k_tokens undefined -> paused.
        attempt("z1", ts(100), prompt_tokens=0, completion_tokens=0, tags=tags("zero")),
        # search-thin: only an orphan retry: no first attempt, unknown cause -> paused.
        attempt("t1", ts(110), request_id="t1", client_retry_count=1, tags=tags("thin")),
        # unallocated: no rule matches; packets fail pause requirements, no request.
        attempt("n1", ts(120), tags={"team": "nobody"}),
        # search-recon: one attempt per reconciliation model.
        *[
            recon(f"r-{name}", ts(130 + i), model, prompt)
            for i, (name, model, prompt) in enumerate(
                [
                    ("at", "m-at", 90_000),
                    ("above", "m-above", 90_000),
                    ("below", "m-below", 90_000),
                    ("free", "free-model", 10),
                ]
            )
        ],
        attempt("r-4o", ts(134), model="gpt-4o", tags=tags("recon")),
        attempt("r-unbilled", ts(135), model="m-unbilled", tags=tags("recon")),
    ]


def previous_records() -> list[dict]:
    return [
        attempt("pw0", ts(10, base=PREV_START)),
        attempt(
            "pmb",
            ts(20, base=PREV_START),
            model="mystery-model",
            tags=tags("mixed", request_class="batch"),
        ),
        attempt("pmc", ts(30, base=PREV_START), tags=tags("mixed", request_class="clean")),
    ]


def request(workload: str, cycle: str, usd: str, by: str) -> dict:
    return {
        "workload_tag": workload,
        "cycle": cycle,
        "requested_budget_usd": usd,
        "requested_by": by,
    }


BUDGETS = {
    "budgets": [
        {"workload_tag": "search-web", "budget_usd": 0.00005, "from": "2026-10-05"},
        # in force from the current cycle's first day exactly (the previous cycle keeps
        # the first); the one from the next day is not in force yet
        {"workload_tag": "search-web", "budget_usd": 0.00008, "from": "2026-11-16"},
        {"workload_tag": "search-web", "budget_usd": 0.5, "from": "2026-11-17"},
        {"workload_tag": "search-orphan", "budget_usd": 0, "from": "2026-11-02"},
        {"workload_tag": "new-workload", "budget_usd": 0.5, "from": "2026-11-16"},
        {"workload_tag": "dormant", "budget_usd": 1.0, "from": "2026-01-05"},
        {"workload_tag": "future", "budget_usd": 2.0, "from": "2026-11-17"},
    ],
    "change_requests": [
        request("search-web", PREV, "0.0001", "team-search"),
        request("search-web", CYCLE, "0.0002", "team-search"),
        request("search-orphan", CYCLE, "0.001", "team-search"),
        request("search-unknown", CYCLE, "0.001", "team-search"),
        request("search-mixed", CYCLE, "0.001", "team-search"),
        request("search-zero", CYCLE, "0.001", "team-search"),
        request("search-thin", CYCLE, "0.001", "team-search"),
        request("shared", CYCLE, "0.01", "team-alpha"),
        request("new-workload", CYCLE, "0.5", "team-new"),
        request("split", "2026-11-23", "1", "team-alpha"),  # another cycle's review
    ],
}

USAGE_CSV = (  # with token columns, and one the pipeline ignores
    "date,model,prompt_tokens,completion_tokens,requests,cost_usd,project\n"
    "2026-11-15,gpt-4o-mini,200,100,2,0.00009,web\n"  # the previous cycle
    "2026-11-16,gpt-4o-mini,1000,500,10,0.004,web\n"
    "2026-11-17,m-at,90000,0,1,0.06,recon\n"
    "2026-11-19,m-above,90000,0,1,0.100000001,recon\n"
    "2026-11-20,free-model,10,0,1,0,recon\n"
    "\n"
    "2026-11-22,gpt-4o-mini,2000,1000,20,0.006,web\n"
    "2026-11-23,m-above,1,1,1,5,recon\n"  # the next cycle: not reconciled here
)
COSTS_CSV = (  # no token columns; a BOM, columns in another order
    "\ufeffmodel,cost_usd,date,note\n"
    "m-at,0.04,2026-11-18,adjustment\n"
    "m-below,0.08,2026-11-18,\n"
    "mystery-model,0.3,2026-11-19,\n"
    "whisper-1,0.2,2026-11-20,transcription outside the gateway\n"
    "gpt-4o,0.00175,2026-11-21,\n"
)


def write_budget_scenario(root, records, *, budgets=BUDGETS, billing=True, thresholds=THRESHOLDS):
    extra: dict = {"budgets": "budgets.yaml"}
    (root / "budgets.yaml").parent.mkdir(parents=True, exist_ok=True)
    (root / "budgets.yaml").write_text(yaml.safe_dump(budgets, sort_keys=False))
    if billing:
        folder = root / "billing"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "a-usage.csv").write_text(USAGE_CSV, encoding="utf-8")
        (folder / "b-costs.csv").write_text(COSTS_CSV, encoding="utf-8")
        (folder / ".draft.csv").write_text("not,a,billing,file\n")  # hidden: skipped
        (folder / "README.txt").write_text("exports of the provider console\n")
        extra["billing"] = {"path": "billing"}
    return write_scenario(
        root,
        records,
        rules=RULES,
        pricing=PRICING,
        evidence=EVIDENCE,
        thresholds=thresholds,
        extra_config=extra,
    )


def reviews(db_url: str, cycle: str = CYCLE) -> dict[str, dict]:
    return {r["workload_tag"]: r for r in rows(db_url, "budget_reviews", cycle=cycle)}


def reconciliation(db_url: str, cycle: str = CYCLE) -> dict[str, dict]:
    return {r["model"]: r for r in rows(db_url, "billing_reconciliation", cycle=cycle)}


@pytest.fixture(scope="module")
def two_cycles(shared_db_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("budget")
    cfg = write_budget_scenario(root, current_records() + previous_records())
    first = run(cfg, shared_db_url)  # the previous cycle has never been run
    before = reviews(shared_db_url)
    prev_result = run(cfg, shared_db_url, cycle=PREV)
    result = run(cfg, shared_db_url)  # again, now with the previous cycle published
    return SimpleNamespace(
        db_url=shared_db_url,
        config=cfg,
        first=first,
        before=before,
        prev_result=prev_result,
        result=result,
        reviews=reviews(shared_db_url),
        prev_reviews=reviews(shared_db_url, PREV),
        packets=rows(shared_db_url, "review_packets"),
    )


def near(value, expected) -> bool:
    if expected is None or value is None:
        return value is expected
    return abs(Decimal(str(value)) - Decimal(str(expected))) <= EPS


def packet_sum(packets: list[dict], workload: str, column: str):
    """SPEC 5: the sum over the workload's packets, null when any is null."""
    values = [p[column] for p in packets if p["workload_tag"] == workload]
    if any(v is None for v in values):
        return None
    return sum(Decimal(str(v)) for v in values)


def note_of(packet: dict, requirement: str) -> str:
    """The packet's own note line for a requirement, without its name."""
    prefix = f"{requirement}: "
    (line,) = [n for n in packet["notes"].splitlines() if n.startswith(prefix)]
    return line[len(prefix) :]


def packet(packets: list[dict], workload: str, request_class: str) -> dict:
    (found,) = [
        p for p in packets if p["workload_tag"] == workload and p["request_class"] == request_class
    ]
    return found


# -------------------------------------------------------------------- the rows


def test_one_row_per_workload_with_a_packet_a_budget_in_force_or_a_request(two_cycles):
    with_packets = {p["workload_tag"] for p in two_cycles.packets}
    assert set(two_cycles.reviews) == with_packets | {"new-workload", "dormant"}
    assert sorted(two_cycles.reviews) == [
        "dormant",
        "new-workload",
        "search-mixed",
        "search-orphan",
        "search-recon",
        "search-thin",
        "search-unknown",
        "search-web",
        "search-zero",
        "shared",
        "split",
        "unallocated",
    ]
    # `future`'s only budget starts after the cycle start: no row, no budget anywhere.
    assert "future" not in two_cycles.reviews
    for review in two_cycles.reviews.values():
        assert review["cycle_id"] == CYCLE and review["review_date"] == REVIEW_DATE


def test_every_column_in_spec_order():
    assert [c.name for c in ledger.budget_reviews.columns] == [
        "cycle_id",
        "review_date",
        "workload_tag",
        "owner_tag",
        "packets",
        "packets_passed",
        "est_cost_usd",
        "retry_cost_usd",
        "previous_est_cost_usd",
        "previous_retry_cost_usd",
        "cost_change_usd",
        "retry_cost_change_usd",
        "budget_usd",
        "budget_variance_usd",
        "budget_used_share",
        "requested_budget_usd",
        "requested_by",
        "decision",
        "pause_reasons",
        "notes",
    ]
    assert [c.name for c in ledger.billing_reconciliation.columns] == [
        "cycle_id",
        "model",
        "estimated_cost_usd",
        "billed_cost_usd",
        "estimated_tokens",
        "billed_tokens",
        "difference_usd",
        "difference_share",
        "status",
    ]


def test_ready_workload_with_a_budget_changed_at_the_cycle_start(two_cycles):
    r = two_cycles.reviews["search-web"]
    assert (r["owner_tag"], r["packets"], r["packets_passed"]) == ("team-search", 1, 1)
    assert near(r["est_cost_usd"], 2 * MINI) and near(r["retry_cost_usd"], 0)
    assert near(r["previous_est_cost_usd"], MINI) and near(r["previous_retry_cost_usd"], 0)
    assert near(r["cost_change_usd"], MINI) and near(r["retry_cost_change_usd"], 0)
    # the budget from the cycle's first day applies (not the older one, not the next day's)
    assert near(r["budget_usd"], "0.00008")
    assert near(r["budget_variance_usd"], "0.00001")
    assert near(r["budget_used_share"], "1.125")
    assert (near(r["requested_budget_usd"], "0.0002"), r["requested_by"]) == (True, "team-search")
    assert (r["decision"], json.loads(r["pause_reasons"]), r["notes"]) == (
        "ready_for_review",
        [],
        "",
    )
    # In the previous cycle the older budget was in force, and its own request decided.
    p = two_cycles.prev_reviews["search-web"]
    assert near(p["budget_usd"], "0.00005") and near(p["budget_variance_usd"], "-0.000005")
    assert near(p["requested_budget_usd"], "0.0001") and p["decision"] == "ready_for_review"
    assert p["previous_est_cost_usd"] is None  # the cycle before it was never run


def test_failing_packet_without_a_pause_requirement_is_ready(two_cycles):
    r = two_cycles.reviews["search-orphan"]
    (p,) = [p for p in two_cycles.packets if p["workload_tag"] == "search-orphan"]
    assert json.loads(p["failed_requirements"]) == ["retry_count_recorded"]
    assert (r["packets"], r["packets_passed"], r["decision"]) == (1, 0, "ready_for_review")
    assert (json.loads(r["pause_reasons"]), r["notes"]) == ([], "")
    assert near(r["est_cost_usd"], 5 * MINI) and near(r["retry_cost_usd"], 3 * MINI)
    # A budget of 0: the variance is the whole estimate, the used share undefined.
    assert near(r["budget_usd"], 0) and near(r["budget_variance_usd"], 5 * MINI)
    assert r["budget_used_share"] is None
    # Ran before, but without this workload: no previous figures.
    assert (r["previous_est_cost_usd"], r["cost_change_usd"]) == (None, None)


def test_paused_by_one_pause_requirement_with_the_packet_note(two_cycles):
    r = two_cycles.reviews["search-unknown"]
    p = packet(two_cycles.packets, "search-unknown", CHAT)
    assert json.loads(p["failed_requirements"]) == ["retry_cause_known"]
    assert r["decision"] == "paused"
    assert json.loads(r["pause_reasons"]) == ["retry_cause_known"]
    assert r["notes"] == f"retry_cause_known: request class {CHAT}: " + note_of(
        p, "retry_cause_known"
    )
    assert r["notes"].endswith(
        "1 of 1 retries have an unknown cause (allowed share 0.5); owner team-search must "
        "supply status codes, error types or first attempts for them."
    )


def test_paused_by_several_packets_reasons_in_spec_order(two_cycles):
    r = two_cycles.reviews["search-mixed"]
    batch = packet(two_cycles.packets, "search-mixed", "batch")
    interactive = packet(two_cycles.packets, "search-mixed", "interactive")
    assert (r["packets"], r["packets_passed"], r["decision"]) == (3, 1, "paused")
    assert json.loads(r["pause_reasons"]) == [
        "retry_cause_known",
        "pricing_source_checked",
        "unit_metric_defined",
    ]
    assert r["notes"].splitlines() == [
        "retry_cause_known: request class interactive: "
        + note_of(interactive, "retry_cause_known"),
        "pricing_source_checked: request class batch: " + note_of(batch, "pricing_source_checked"),
        "unit_metric_defined: request class batch: " + note_of(batch, "unit_metric_defined"),
    ]
    assert "the pipeline operator must supply these prices in pricing.url" in r["notes"]
    # one unpriced packet makes every sum unknown, now and in the previous cycle
    assert (r["est_cost_usd"], r["retry_cost_usd"]) == (None, None)
    assert r["previous_est_cost_usd"] is None and r["cost_change_usd"] is None
    assert (r["budget_usd"], r["budget_variance_usd"]) == (None, None)
    assert two_cycles.prev_reviews["search-mixed"]["previous_est_cost_usd"] is None


def test_owner_identified_and_workload_owner(two_cycles):
    shared = two_cycles.reviews["shared"]
    assert shared["owner_tag"] is None  # p3's owner is null (two owners)
    assert (shared["decision"], json.loads(shared["pause_reasons"])) == (
        "paused",
        ["owner_identified"],
    )
    p3 = packet(two_cycles.packets, "shared", "p3")
    assert shared["notes"] == "owner_identified: request class p3: " + note_of(
        p3, "owner_identified"
    )
    assert "2 different owner_tags share this workload; the pipeline operator" in shared["notes"]
    split = two_cycles.reviews["split"]
    assert {p["owner_tag"] for p in two_cycles.packets if p["workload_tag"] == "split"} == {
        "team-alpha",
        "team-beta",
    }
    assert split["owner_tag"] is None
    # its request is for another cycle's review
    assert (split["decision"], split["requested_by"], split["requested_budget_usd"]) == (
        "no_change_requested",
        None,
        None,
    )


def test_unit_metric_and_request_sample_pauses(two_cycles):
    zero = two_cycles.reviews["search-zero"]
    assert (zero["decision"], json.loads(zero["pause_reasons"])) == (
        "paused",
        ["unit_metric_defined"],
    )
    assert near(zero["est_cost_usd"], 0)
    assert zero["notes"] == (
        f"unit_metric_defined: request class {CHAT}: cost_per_1k_tokens is undefined (its "
        "denominator is zero); owner team-search must supply priced, successful traffic."
    )
    thin = two_cycles.reviews["search-thin"]
    p = packet(two_cycles.packets, "search-thin", CHAT)
    assert json.loads(p["failed_requirements"]) == [
        "request_sample_present",
        "retry_count_recorded",
        "retry_cause_known",
    ]
    assert json.loads(thin["pause_reasons"]) == ["request_sample_present", "retry_cause_known"]
    assert thin["notes"].splitlines() == [
        f"request_sample_present: request class {CHAT}: " + note_of(p, "request_sample_present"),
        f"retry_cause_known: request class {CHAT}: " + note_of(p, "retry_cause_known"),
    ]
    assert "owner team-search must supply request logs" in thin["notes"]


def test_request_without_packets_is_paused_for_the_sample_asked_of_the_requester(two_cycles):
    r = two_cycles.reviews["new-workload"]
    assert (r["owner_tag"], r["packets"], r["packets_passed"]) == (None, 0, 0)
    assert (r["est_cost_usd"], r["retry_cost_usd"], r["previous_est_cost_usd"]) == (None,) * 3
    assert near(r["budget_usd"], "0.5")
    assert (r["budget_variance_usd"], r["budget_used_share"]) == (None, None)
    assert (r["decision"], json.loads(r["pause_reasons"])) == ("paused", ["request_sample_present"])
    assert r["notes"] == (
        "request_sample_present: 0 first attempt(s) recorded, at least 1 required; requester "
        "team-new must supply request logs that include the first attempts."
    )


def test_no_request_never_pauses(two_cycles):
    unallocated = two_cycles.reviews["unallocated"]
    failing = {
        name
        for p in two_cycles.packets
        if p["workload_tag"] == "unallocated"
        for name in json.loads(p["failed_requirements"])
    }
    assert "owner_identified" in failing  # a pause requirement fails, but nothing to pause
    assert (unallocated["decision"], unallocated["pause_reasons"], unallocated["notes"]) == (
        "no_change_requested",
        "[]",
        "",
    )
    dormant = two_cycles.reviews["dormant"]
    assert (dormant["packets"], dormant["est_cost_usd"], dormant["decision"]) == (
        0,
        None,
        "no_change_requested",
    )
    assert near(dormant["budget_usd"], 1) and dormant["budget_variance_usd"] is None


def test_sums_are_the_packets_sums(two_cycles):
    for workload, r in two_cycles.reviews.items():
        for column in ("est_cost_usd", "retry_cost_usd"):
            expected = packet_sum(two_cycles.packets, workload, column) if r["packets"] else None
            assert near(r[column], expected), (workload, column)
        passed = [
            p for p in two_cycles.packets if p["workload_tag"] == workload and p["result"] == "pass"
        ]
        assert r["packets_passed"] == len(passed), workload


def test_previous_cycle_never_run_gives_nulls_then_the_published_figures(two_cycles):
    for workload, r in two_cycles.before.items():
        assert r["previous_est_cost_usd"] is None, workload
        assert r["previous_retry_cost_usd"] is None, workload
        assert (r["cost_change_usd"], r["retry_cost_change_usd"]) == (None, None), workload
    # Everything else is the same before and after the previous cycle was run.
    for workload, r in two_cycles.reviews.items():
        before = dict(two_cycles.before[workload])
        after = dict(r)
        for column in (
            "previous_est_cost_usd",
            "previous_retry_cost_usd",
            "cost_change_usd",
            "retry_cost_change_usd",
        ):
            before.pop(column)
            after.pop(column)
        assert before == after, workload
    with_previous = {w for w, r in two_cycles.reviews.items() if r["previous_est_cost_usd"]}
    assert with_previous == {"search-web"}
    assert sorted(two_cycles.prev_reviews) == [
        "dormant",
        "search-mixed",
        "search-orphan",
        "search-web",
    ]


def test_rerun_replaces_the_cycle_without_duplicates(two_cycles):
    got = rows(two_cycles.db_url, "budget_reviews", cycle=None)
    assert len(got) == len(two_cycles.reviews) + len(two_cycles.prev_reviews)
    got = rows(two_cycles.db_url, "billing_reconciliation", cycle=None)
    assert len(got) == len(reconciliation(two_cycles.db_url)) + len(
        reconciliation(two_cycles.db_url, PREV)
    )


# -------------------------------------------------------------- reconciliation


def test_every_billing_status(two_cycles):
    rec = reconciliation(two_cycles.db_url)
    assert {m: r["status"] for m, r in rec.items()} == {
        "free-model": "matched",  # both sums 0
        "gpt-4o": "matched",  # difference 0
        "gpt-4o-mini": "gap",
        "m-above": "gap",  # just above the threshold
        "m-at": "matched",  # at the threshold exactly
        "m-below": "gap",  # billed less than estimated, |share| above the threshold
        "m-unbilled": "not_billed",
        "mystery-model": "not_estimated",  # attempts, but unpriced
        "whisper-1": "not_estimated",  # billed, never estimated
    }


def test_reconciliation_columns(two_cycles):
    rec = reconciliation(two_cycles.db_url)
    expected = {  # model: (estimated, billed, est tokens, billed tokens, difference, share)
        "free-model": (0, 0, 10, 10, 0, None),
        "gpt-4o": ("0.00175", "0.00175", 150, None, 0, 0),
        "m-above": (
            "0.09",
            "0.100000001",
            90_000,
            90_000,
            "0.010000001",
            Decimal("0.010000001") / Decimal("0.100000001"),
        ),
        "m-at": ("0.09", "0.1", 90_000, None, "0.01", "0.1"),  # one billed row has no tokens
        "m-below": ("0.09", "0.08", 90_000, None, "-0.01", "-0.125"),
        "m-unbilled": ("0.0001", None, 150, None, None, None),
        "mystery-model": (None, "0.3", 150, None, None, None),
        "whisper-1": (None, "0.2", 0, None, None, None),
    }
    for model, (est, billed, est_tokens, billed_tokens, diff, share) in expected.items():
        r = rec[model]
        assert r["cycle_id"] == CYCLE
        assert near(r["estimated_cost_usd"], est), model
        assert near(r["billed_cost_usd"], billed), model
        assert (r["estimated_tokens"], r["billed_tokens"]) == (est_tokens, billed_tokens), model
        assert near(r["difference_usd"], diff), model
        assert near(r["difference_share"], share), model
    # gpt-4o-mini: the estimate is the sum of the cycle's attempts of the model.
    attempts = [
        a for a in rows(two_cycles.db_url, "request_attempts") if a["model"] == "gpt-4o-mini"
    ]
    estimate = sum(Decimal(str(a["cost_usd"])) for a in attempts)
    mini = rec["gpt-4o-mini"]
    assert near(mini["estimated_cost_usd"], estimate)
    assert mini["estimated_tokens"] == sum(
        a["prompt_tokens"] + a["completion_tokens"] for a in attempts
    )
    assert near(mini["billed_cost_usd"], "0.01") and mini["billed_tokens"] == 4500
    assert near(mini["difference_share"], (Decimal("0.01") - estimate) / Decimal("0.01"))


def test_previous_cycle_reconciles_its_own_rows(two_cycles):
    rec = reconciliation(two_cycles.db_url, PREV)
    assert {m: r["status"] for m, r in rec.items()} == {
        "gpt-4o-mini": "matched",
        "mystery-model": "not_billed",
    }
    mini = rec["gpt-4o-mini"]
    assert near(mini["estimated_cost_usd"], 2 * MINI) and near(mini["billed_cost_usd"], 2 * MINI)
    assert (mini["estimated_tokens"], mini["billed_tokens"]) == (300, 300)
    assert near(mini["difference_usd"], 0) and near(mini["difference_share"], 0)


def test_billed_usage_staged_for_the_cycle_only(two_cycles):
    staged = rows(two_cycles.db_url, "stg_billed_usage", order_by=["source_file", "source_line"])
    assert [(r["source_file"], r["source_line"]) for r in staged] == [
        ("a-usage.csv", 3),
        ("a-usage.csv", 4),
        ("a-usage.csv", 5),
        ("a-usage.csv", 6),
        ("a-usage.csv", 8),
        ("b-costs.csv", 2),
        ("b-costs.csv", 3),
        ("b-costs.csv", 4),
        ("b-costs.csv", 5),
        ("b-costs.csv", 6),
    ]


# ---------------------------------------------------------------------- checks


def evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def test_checks_report_paused_over_budget_and_unmatched_at_warn(two_cycles):
    assert two_cycles.result.success
    found = evaluations(two_cycles.result)
    paused = found[("budget_reviews", "change_requests_paused")]
    over = found[("budget_reviews", "workloads_over_budget")]
    unmatched = found[("billing_reconciliation", "models_not_matched")]
    for evaluation in (paused, over, unmatched):
        assert not evaluation.passed
        assert evaluation.severity == dg.AssetCheckSeverity.WARN
    sample = paused.metadata["failing_sample"].value
    assert [(r["workload_tag"], r["decision"]) for r in sample] == [
        ("new-workload", "paused"),
        ("search-mixed", "paused"),
        ("search-thin", "paused"),
        ("search-unknown", "paused"),
        ("search-zero", "paused"),
        ("shared", "paused"),
    ]
    assert sample[1]["pause_reasons"] == [
        "retry_cause_known",
        "pricing_source_checked",
        "unit_metric_defined",
    ]
    assert sample[0]["requested_by"] == "team-new"
    assert paused.metadata["failing_rows"].value == 6
    over_rows = over.metadata["failing_sample"].value
    assert [r["workload_tag"] for r in over_rows] == ["search-orphan", "search-web"]
    assert near(over_rows[1]["budget_variance_usd"], "0.00001")
    assert over_rows[1]["decision"] == "ready_for_review"
    unmatched_rows = unmatched.metadata["failing_sample"].value
    assert [(r["model"], r["status"]) for r in unmatched_rows] == [
        ("gpt-4o-mini", "gap"),
        ("m-above", "gap"),
        ("m-below", "gap"),
        ("m-unbilled", "not_billed"),
        ("mystery-model", "not_estimated"),
        ("whisper-1", "not_estimated"),
    ]
    assert near(unmatched_rows[2]["difference_usd"], "-0.01")


def test_budget_decisions_shown_in_the_dagster_ui(two_cycles):
    (mat,) = [
        m
        for m in two_cycles.result.get_asset_materialization_events()
        if m.asset_key == dg.AssetKey("budget_reviews")
    ]
    metadata = mat.materialization.metadata
    assert metadata["dagster/row_count"].value == 12
    text = metadata["budget_decisions"].value
    header, _rule, *lines = text.splitlines()
    assert [c.strip() for c in header.strip("|").split("|")][:2] == ["workload_tag", "owner_tag"]
    web = next(line for line in lines if line.startswith("| search-web "))
    assert "ready_for_review" in web
    assert "12 workload(s): 4 no_change_requested, 6 paused, 2 ready_for_review." in text
    assert "new-workload (owner unknown, requested by team-new):" in text
    assert "  - request_sample_present: 0 first attempt(s) recorded" in text


# ------------------------------------------------------------------------- CLI


def cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_budget_json_every_column_arrays_and_code_point_order(two_cycles, capsys):
    base = ["budget", "--config", str(two_cycles.config), "--cycle", CYCLE]
    code, out = cli(capsys, *base, "--database-url", two_cycles.db_url, "--format", "json")
    assert code == 0
    records = json.loads(out)
    assert [r["workload_tag"] for r in records] == sorted(two_cycles.reviews)
    columns = [c.name for c in ledger.budget_reviews.columns]
    assert all(list(r) == columns for r in records)
    by_workload = {r["workload_tag"]: r for r in records}
    assert by_workload["search-mixed"]["pause_reasons"] == [
        "retry_cause_known",
        "pricing_source_checked",
        "unit_metric_defined",
    ]
    assert by_workload["search-web"]["pause_reasons"] == []
    assert by_workload["search-web"]["review_date"] == REVIEW_DATE.isoformat()
    assert by_workload["new-workload"]["est_cost_usd"] is None
    assert near(by_workload["search-web"]["budget_usd"], "0.00008")


def test_budget_csv_and_table(two_cycles, capsys):
    base = ["budget", "--config", str(two_cycles.config), "--cycle", CYCLE]
    base += ["--database-url", two_cycles.db_url]
    code, out = cli(capsys, *base, "--format", "csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert list(table[0]) == [c.name for c in ledger.budget_reviews.columns]
    assert [r["workload_tag"] for r in table] == sorted(two_cycles.reviews)
    mixed = next(r for r in table if r["workload_tag"] == "search-mixed")
    assert json.loads(mixed["pause_reasons"])[0] == "retry_cause_known"
    assert mixed["est_cost_usd"] == ""

    code, out = cli(capsys, *base)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["workload_tag", "owner_tag", "packets"]
    assert "12 workload(s): 4 no_change_requested, 6 paused, 2 ready_for_review." in lines
    start = lines.index("Paused until the evidence is complete:")
    assert lines[start + 1] == "new-workload (owner unknown, requested by team-new):"
    assert lines[start + 2].startswith("  - request_sample_present: 0 first attempt(s)")
    assert "search-web" not in "\n".join(lines[start:])  # ready: not listed as paused


def test_budget_for_a_cycle_never_run(two_cycles, capsys):
    base = ["budget", "--config", str(two_cycles.config), "--cycle", "2026-11-02"]
    base += ["--database-url", two_cycles.db_url]
    code, out = cli(capsys, *base)
    assert code == 0
    assert out.strip() == "no budget reviews for cycle 2026-11-02 (run `tokenreview run` first)"
    code, out = cli(capsys, *base, "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_explain_starts_with_the_budget_decision(two_cycles, capsys):
    base = ["explain", "--config", str(two_cycles.config), "--cycle", CYCLE]
    base += ["--database-url", two_cycles.db_url]
    code, out = cli(capsys, *base, "--workload", "search-mixed")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "Budget decision: PAUSED: the change request to $0.001000 per cycle by team-search "
        "cannot be discussed until the evidence is complete."
    )
    assert lines[2] == "  Before the change can be discussed:"
    assert lines[3].startswith("    - retry_cause_known: request class interactive: ")
    assert lines[5].startswith("    - unit_metric_defined: request class batch: ")
    assert any(line.startswith("Workload search-mixed — cycle") for line in lines)

    code, out = cli(capsys, *base, "--workload", "search-web")
    first, second = out.splitlines()[:2]
    assert first.startswith("Budget decision: READY FOR REVIEW: the change request to $0.000200")
    assert "(ready is not an approval)" in first
    assert "previous cycle $0.000045; budget $0.000080 (112.5% used)" in second

    code, out = cli(capsys, *base, "--workload", "new-workload")
    lines = out.splitlines()
    assert lines[0].startswith("Budget decision: PAUSED")
    assert lines[3] == (
        "    - request_sample_present: 0 first attempt(s) recorded, at least 1 required; "
        "requester team-new must supply request logs that include the first attempts."
    )
    assert lines[-1].startswith("No packets for workload 'new-workload' in cycle 2026-11-16.")

    code, out = cli(capsys, *base, "--workload", "split")
    assert out.splitlines()[0] == "Budget decision: NO CHANGE REQUESTED for this cycle."


# ------------------------------------------------- failures and what is not configured

PUBLISHED = [t.name for t in ledger.PUBLISHED_TABLES]


def published_snapshot(db_url: str) -> dict[str, list]:
    out = {}
    with ledger.engine_for(db_url).connect() as conn:
        for name in [*PUBLISHED, "stg_billed_usage"]:
            t = ledger.metadata.tables[name]
            got = [dict(r) for r in conn.execute(sa.select(t)).mappings()]
            out[name] = sorted(got, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def step_failures(result) -> dict[str, str]:
    return {
        e.step_key: e.event_specific_data.error.message
        for e in result.all_events
        if e.is_step_failure
    }


def test_malformed_billing_row_fails_the_asset_and_changes_nothing(tmp_path, db_url):
    cfg = write_budget_scenario(tmp_path, [attempt("w1", ts(10)), attempt("w2", ts(20))])
    run(cfg, db_url)
    before = published_snapshot(db_url)
    assert before["budget_reviews"] and before["billing_reconciliation"]
    assert before["stg_billed_usage"]

    bad = tmp_path / "billing" / "c-late.csv"
    bad.write_text("date,model,cost_usd\n2026-11-17,gpt-4o-mini,0.1\n2026-11-18,gpt-4o-mini,-2\n")
    result = run(cfg, db_url, expect_success=False)
    assert not result.success
    failures = step_failures(result)
    assert list(failures) == ["stg_billed_usage"]
    assert (
        f"{bad}: line 3: column cost_usd: expected an amount of USD >= 0, got '-2'"
        in (failures["stg_billed_usage"])
    )
    published = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "billing_reconciliation" not in published and "cycle_publication" not in published
    assert published_snapshot(db_url) == before  # nothing loaded, nothing published

    bad.unlink()  # fixed at the source: the next run publishes again
    run(cfg, db_url)
    assert rows(db_url, "billing_reconciliation")


def test_without_budgets_or_billing(tmp_path, db_url):
    records = [attempt("w1", ts(10)), attempt("n1", ts(20), tags={"team": "nobody"})]
    cfg = write_scenario(tmp_path, records, rules=RULES, evidence=EVIDENCE)
    result = run(cfg, db_url)
    assert rows(db_url, "billing_reconciliation") == []  # billing not configured
    assert rows(db_url, "stg_billed_usage") == []
    got = reviews(db_url)
    assert sorted(got) == ["search-web", "unallocated"]
    for r in got.values():
        assert (r["decision"], r["pause_reasons"], r["notes"]) == ("no_change_requested", "[]", "")
        assert r["budget_usd"] is None and r["requested_by"] is None
    found = evaluations(result)
    assert found[("budget_reviews", "change_requests_paused")].passed
    assert found[("budget_reviews", "workloads_over_budget")].passed
    assert found[("billing_reconciliation", "models_not_matched")].passed


@pytest.mark.parametrize(
    ("cadence", "cycle", "previous"),
    [
        ("weekly", "2026-11-16", "2026-11-09"),
        ("daily", "2026-03-01", "2026-02-28"),
        ("monthly", "2026-01-01", "2025-12-01"),
    ],
)
def test_previous_cycle_is_exactly_one_cadence_earlier(tmp_path, cadence, cycle, previous):
    from tokenreview_pipeline.config import load_config
    from tokenreview_pipeline.cycles import parse_cycle
    from tokenreview_pipeline.defs.run_params import cycle_params

    config = load_config(write_scenario(tmp_path, [], extra_config={"cadence": cadence}))
    params = cycle_params(parse_cycle(cycle, cadence), config, REVIEW_DATE, "run")
    assert params["previous_cycle_id"] == previous
    assert params["cycle_date"].isoformat() == cycle
    assert params["billing_configured"] is False
    assert params["max_billing_gap_share"] == Decimal("0.05")
