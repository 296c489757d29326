"""Review packets through the pipeline (SPEC 5): every column, the ten evidence
requirements (each failing on its own where the SPEC allows it), and the
``tokenreview packets`` output formats.

Most cases share one scenario (``main_run``, run once per backend): each packet is
one (workload_tag, request_class), so different workloads keep the cases apart.
Settings that are global to a run (pricing age, evidence age, unit metric, review
date) each get a small run of their own.

Expected values are computed by hand from the SPEC; costs use DEFAULT_PRICING:
gpt-4o-mini 0.15 / 0.60 USD per 1M tokens, no per-request price; gpt-4o 2.5 / 10
per 1M tokens and 0.001 per successful (2xx) request.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from scenario import (
    CYCLE,
    CYCLE_START,
    EVIDENCE_DATE,
    REVIEW_DATE,
    attempt,
    rows,
    run,
    ts,
    write_scenario,
)

from tokenreview_pipeline import cli, ledger
from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.cycles import parse_cycle
from tokenreview_pipeline.defs.run_params import cycle_params
from tokenreview_pipeline.sql_models import discover_models, run_model

REQUIREMENTS = (
    "request_sample_present",
    "owner_identified",
    "workload_tagged",
    "request_class_recorded",
    "retry_count_recorded",
    "retry_cause_known",
    "pricing_source_checked",
    "allocation_rule_checked",
    "source_urls_recorded",
    "unit_metric_defined",
)
CHAT = "production:/v1/chat/completions"
PRICING_URL = "https://example.com/pricing"  # DEFAULT_PRICING's own source_url
OPERATOR = "pipeline operator"
EPS = Decimal("0.000001")

# Evidence sources in file order, deliberately not alphabetical. The second one is
# exactly max_source_age_days (90) old at the review date: still acceptable.
EVIDENCE = [
    {"area": "pricing", "url": "https://z.example/pricing-docs", "accessed_on": EVIDENCE_DATE},
    {
        "area": "support",
        "url": "https://a.example/support",
        "accessed_on": (REVIEW_DATE - timedelta(days=90)).isoformat(),
    },
    {"area": "allocation", "url": "https://m.example/allocation", "accessed_on": EVIDENCE_DATE},
]
EVIDENCE_URLS = [e["url"] for e in EVIDENCE]

RULES = [
    {
        "id": "search",
        "priority": 10,
        "match": {"tags": {"team": "search"}},
        "assign": {"owner_tag": "team-search", "workload_tag": "search-{tags.project}"},
    },
    # Two owners for one workload: file order is not sorted order.
    {
        "id": "zeta-shared",
        "match": {"tags": {"team": "sharedA"}},
        "assign": {"owner_tag": "team-a", "workload_tag": "shared"},
    },
    {
        "id": "alpha-shared",
        "match": {"tags": {"team": "sharedB"}},
        "assign": {"owner_tag": "team-b", "workload_tag": "shared"},
    },
    # A rule that matches but assigns the workload 'unallocated' explicitly.
    {
        "id": "limbo",
        "match": {"tags": {"team": "limbo"}},
        "assign": {
            "owner_tag": "team-limbo",
            "workload_tag": "unallocated",
            "request_class": "limbo",
        },
    },
]


# ----------------------------------------------------------------------- helpers


def tags(project: str, **extra: str) -> dict[str, str]:
    return {"team": "search", "project": project, **extra}


def packets_by_key(db_url: str) -> dict[tuple[str, str | None], dict]:
    return {(p["workload_tag"], p["request_class"]): p for p in rows(db_url, "review_packets")}


def failed(packet: dict) -> list[str]:
    return json.loads(packet["failed_requirements"])


def note_lines(packet: dict) -> list[str]:
    return packet["notes"].split("\n") if packet["notes"] else []


def assert_fails(packet: dict, expected: list[str], suppliers: dict[str, str]) -> None:
    """The packet fails exactly ``expected`` (SPEC order), with one note line per
    failed requirement, starting with its name and naming who must supply it."""
    assert packet["result"] == "fail"
    assert failed(packet) == expected
    lines = note_lines(packet)
    assert len(lines) == len(expected), packet["notes"]
    for name, line in zip(expected, lines, strict=True):
        assert line.startswith(f"{name}: "), line
        assert len(line) > len(name) + 10, line  # says what is missing
        assert suppliers[name] in line, line


def assert_passes(packet: dict) -> None:
    assert packet["result"] == "pass"
    assert packet["failed_requirements"] == "[]"
    assert packet["notes"] == ""
    for column in (
        "first_attempt_recorded",
        "retry_count_recorded",
        "pricing_source_checked",
        "allocation_rule_checked",
    ):
        assert packet[column] is True, column


def near(value, expected: Decimal, eps: Decimal = EPS) -> bool:
    return value is not None and abs(Decimal(str(value)) - expected) <= eps


def sha256_file(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request, tmp_path_factory):
    """Like conftest's ``db_url``, but shared by the tests of this module."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.db'}"
        return
    admin = request.getfixturevalue("pg_admin_engine")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(os.environ["TOKENREVIEW_TEST_DATABASE_URL"])
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    url = url.render_as_string(hide_password=False)
    yield url
    ledger.engine_for(url).dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


# ------------------------------------------------------------------ main scenario


def main_records() -> list[dict]:
    mini = {"model": "gpt-4o-mini"}
    gpt4o = {"model": "gpt-4o"}
    return [
        # search-pass: all ten hold. Unknown-cause share 1/2 = max_unknown_retry_share.
        attempt("pass-1a", ts(10), request_id="pass-1", client_retry_count=0, tags=tags("pass")),
        attempt(
            "pass-2a",
            ts(20),
            request_id="pass-2",
            client_retry_count=0,
            status_code=503,
            tags=tags("pass"),
        ),
        attempt("pass-2b", ts(21), request_id="pass-2", client_retry_count=1, tags=tags("pass")),
        attempt(
            "pass-3a",
            ts(30),
            request_id="pass-3",
            client_retry_count=0,
            status_code=None,
            error_type="connection_error",
            tags=tags("pass"),
        ),
        attempt("pass-3b", ts(31), request_id="pass-3", client_retry_count=1, tags=tags("pass")),
        # search-sample: one first attempt, min_sample_size is 2.
        attempt("sample-1a", ts(40), request_id="sample-1", tags=tags("sample")),
        # shared: two owners (and two environments) in one packet.
        attempt(
            "shared-1a",
            ts(50),
            request_id="shared-1",
            tags={"team": "sharedA", "request_class": "shared-class"},
        ),
        attempt(
            "shared-2a",
            ts(51),
            request_id="shared-2",
            environment="staging",
            tags={"team": "sharedB", "request_class": "shared-class"},
        ),
        # unallocated/limbo: a rule assigns workload 'unallocated' explicitly.
        attempt("limbo-1a", ts(60), request_id="limbo-1", tags={"team": "limbo"}),
        attempt("limbo-2a", ts(61), request_id="limbo-2", tags={"team": "limbo"}),
        # unallocated/production:/v1/embeddings: no rule matches.
        attempt(
            "nobody-1a",
            ts(70),
            request_id="nobody-1",
            endpoint="/v1/embeddings",
            tags={"team": "nobody"},
        ),
        attempt(
            "nobody-2a",
            ts(71),
            request_id="nobody-2",
            endpoint="/v1/embeddings",
            tags={"team": "nobody"},
        ),
        # search-unknown: 2 of 3 retries have an unknown cause (> 0.5).
        attempt(
            "unk-1a",
            ts(80),
            request_id="unk-1",
            client_retry_count=0,
            status_code=None,
            error_type="connection_error",
            tags=tags("unknown"),
        ),
        attempt(
            "unk-1b",
            ts(81),
            request_id="unk-1",
            client_retry_count=1,
            status_code=None,
            error_type="connection_error",
            tags=tags("unknown"),
        ),
        attempt("unk-1c", ts(82), request_id="unk-1", client_retry_count=2, tags=tags("unknown")),
        attempt(
            "unk-2a",
            ts(90),
            request_id="unk-2",
            client_retry_count=0,
            status_code=503,
            tags=tags("unknown"),
        ),
        attempt("unk-2b", ts(91), request_id="unk-2", client_retry_count=1, tags=tags("unknown")),
        # search-mystery: one request uses a model the snapshot does not price.
        attempt("mys-1a", ts(100), request_id="mys-1", model="mystery-model", tags=tags("mystery")),
        attempt("mys-2a", ts(101), request_id="mys-2", tags=tags("mystery"), **mini),
        # search-zero: priced, but no tokens at all (cost_per_1k_tokens undefined).
        attempt(
            "zero-1a",
            ts(110),
            request_id="zero-1",
            prompt_tokens=0,
            completion_tokens=0,
            tags=tags("zero"),
            **gpt4o,
        ),
        attempt(
            "zero-2a",
            ts(111),
            request_id="zero-2",
            prompt_tokens=0,
            completion_tokens=0,
            tags=tags("zero"),
            **gpt4o,
        ),
        # search-hand: the hand-computed packet (gpt-4o), with an orphan retry.
        # h1: 503 -> 429 -> 200 (two platform_response retries; failed attempts
        # report tokens: they cost tokens but no per-request price).
        attempt(
            "h1a",
            ts(100, day=1),
            request_id="h1",
            client_retry_count=0,
            status_code=503,
            prompt_tokens=1000,
            completion_tokens=0,
            tags=tags("hand"),
            **gpt4o,
        ),
        attempt(
            "h1b",
            ts(101, day=1),
            request_id="h1",
            client_retry_count=1,
            status_code=429,
            prompt_tokens=1000,
            completion_tokens=0,
            tags=tags("hand"),
            **gpt4o,
        ),
        attempt(
            "h1c",
            ts(102, day=1),
            request_id="h1",
            client_retry_count=2,
            status_code=200,
            prompt_tokens=1000,
            completion_tokens=500,
            tags=tags("hand"),
            **gpt4o,
        ),
        # h2: retried after success (client_handling).
        attempt(
            "h2a",
            ts(200, day=1),
            request_id="h2",
            client_retry_count=0,
            prompt_tokens=200,
            completion_tokens=100,
            tags=tags("hand"),
            **gpt4o,
        ),
        attempt(
            "h2b",
            ts(201, day=1),
            request_id="h2",
            client_retry_count=1,
            prompt_tokens=200,
            completion_tokens=100,
            tags=tags("hand"),
            **gpt4o,
        ),
        # h3: orphan (earliest attempt reports retry count 1) then a timeout retry.
        attempt(
            "h3a",
            ts(300, day=1),
            request_id="h3",
            client_retry_count=1,
            status_code=408,
            prompt_tokens=300,
            completion_tokens=0,
            tags=tags("hand"),
            **gpt4o,
        ),
        attempt(
            "h3b",
            ts(301, day=1),
            request_id="h3",
            client_retry_count=2,
            prompt_tokens=300,
            completion_tokens=60,
            tags=tags("hand"),
            **gpt4o,
        ),
        # h4: connection error without status or latency -> unknown.
        attempt(
            "h4a",
            ts(400, day=1),
            request_id="h4",
            client_retry_count=0,
            status_code=None,
            error_type="connection_error",
            prompt_tokens=0,
            completion_tokens=0,
            tags=tags("hand"),
            **gpt4o,
        ),
        attempt(
            "h4b",
            ts(401, day=1),
            request_id="h4",
            client_retry_count=1,
            prompt_tokens=50,
            completion_tokens=20,
            tags=tags("hand"),
            **gpt4o,
        ),
        # h5: the retry comes from another API key -> unfamiliar_request_source.
        attempt(
            "h5a",
            ts(500, day=1),
            request_id="h5",
            client_retry_count=0,
            status_code=500,
            prompt_tokens=10,
            completion_tokens=0,
            tags=tags("hand"),
            **gpt4o,
        ),
        attempt(
            "h5b",
            ts(501, day=1),
            request_id="h5",
            client_retry_count=1,
            api_key_id="key_zz",
            prompt_tokens=10,
            completion_tokens=10,
            tags=tags("hand"),
            **gpt4o,
        ),
        # h6: the first attempt lies in a maintenance window -> scheduled_maintenance.
        attempt(
            "h6a",
            ts(60, day=2),
            request_id="h6",
            client_retry_count=0,
            status_code=503,
            prompt_tokens=40,
            completion_tokens=0,
            tags=tags("hand"),
            **gpt4o,
        ),
        attempt(
            "h6b",
            ts(61, day=2),
            request_id="h6",
            client_retry_count=1,
            prompt_tokens=40,
            completion_tokens=40,
            tags=tags("hand"),
            **gpt4o,
        ),
    ]


@pytest.fixture(scope="module")
def main_run(module_db_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("main")
    cfg = write_scenario(
        root,
        main_records(),
        rules=RULES,
        evidence=EVIDENCE,
        windows=[
            {
                "start": ts(59, day=2),
                "end": ts(60.5, day=2),
                "source_url": "https://status.example.com/m1",
            }
        ],
        thresholds={"min_sample_size": 2, "max_unknown_retry_share": 0.5},
    )
    result = run(cfg, module_db_url)
    return SimpleNamespace(
        db_url=module_db_url,
        config=cfg,
        result=result,
        packets=packets_by_key(module_db_url),
        snapshot_id=sha256_file(root / "pricing.json"),
    )


def test_main_scenario_has_one_packet_per_workload_and_class(main_run):
    assert sorted(main_run.packets) == [
        ("search-hand", CHAT),
        ("search-mystery", CHAT),
        ("search-pass", CHAT),
        ("search-sample", CHAT),
        ("search-unknown", CHAT),
        ("search-zero", CHAT),
        ("shared", "shared-class"),
        ("unallocated", "limbo"),
        ("unallocated", "production:/v1/embeddings"),
    ]


def test_packet_passing_all_ten_requirements(main_run):
    p = main_run.packets[("search-pass", CHAT)]
    assert_passes(p)
    assert p["owner_tag"] == "team-search"
    assert p["environment"] == "production"
    # Unknown-cause share exactly at max_unknown_retry_share (1 of 2) still holds.
    assert (p["retry_attempts"], p["retries_unknown"], p["retries_platform_response"]) == (2, 1, 1)
    # Five gpt-4o-mini attempts of 100 + 50 tokens: 100*0.15/1e6 + 50*0.60/1e6 each.
    assert near(p["est_cost_usd"], Decimal("0.000225"))
    assert near(p["retry_cost_usd"], Decimal("0.00009"))
    assert near(p["retry_cost_share"], Decimal("0.4"))
    assert near(p["unit_cost"], Decimal("0.0003"))  # 0.000225 * 1000 / 750
    # The support evidence source is exactly 90 days old: at the limit, not stale.
    assert json.loads(p["source_urls"]) == [PRICING_URL, *EVIDENCE_URLS]


def test_request_sample_present_fails_alone(main_run):
    p = main_run.packets[("search-sample", CHAT)]
    assert p["first_attempts"] == 1
    assert p["first_attempt_recorded"] is False
    assert_fails(p, ["request_sample_present"], {"request_sample_present": "owner team-search"})
    assert (
        p["retry_count_recorded"],
        p["pricing_source_checked"],
        p["allocation_rule_checked"],
    ) == (True, True, True)


def test_owner_identified_fails_alone_with_two_owners(main_run):
    p = main_run.packets[("shared", "shared-class")]
    assert p["owner_tag"] is None
    assert p["environment"] is None  # production and staging
    assert p["logical_requests"] == 2
    assert json.loads(p["allocation_rule_ids"]) == ["alpha-shared", "zeta-shared"]
    assert_fails(p, ["owner_identified"], {"owner_identified": OPERATOR})
    assert p["allocation_rule_checked"] is True


def test_workload_tagged_fails_alone_when_a_rule_assigns_unallocated(main_run):
    p = main_run.packets[("unallocated", "limbo")]
    assert p["owner_tag"] == "team-limbo"
    assert json.loads(p["allocation_rule_ids"]) == ["limbo"]
    assert_fails(p, ["workload_tagged"], {"workload_tagged": OPERATOR})
    assert p["allocation_rule_checked"] is True


def test_allocation_rule_checked_fails_with_its_minimal_companions(main_run):
    # A request no rule matches is 'unallocated' with no owner (SPEC 2.2), so
    # allocation_rule_checked can only fail together with owner_identified and
    # workload_tagged.
    p = main_run.packets[("unallocated", "production:/v1/embeddings")]
    assert p["owner_tag"] is None
    assert json.loads(p["allocation_rule_ids"]) == []
    assert p["allocation_rule_checked"] is False
    assert_fails(
        p,
        ["owner_identified", "workload_tagged", "allocation_rule_checked"],
        {name: OPERATOR for name in REQUIREMENTS},
    )


def test_retry_cause_known_fails_alone_above_threshold(main_run):
    p = main_run.packets[("search-unknown", CHAT)]
    assert (p["retry_attempts"], p["retries_unknown"], p["orphan_retries"]) == (3, 2, 0)
    assert_fails(p, ["retry_cause_known"], {"retry_cause_known": "owner team-search"})


def test_missing_model_fails_pricing_and_unit_metric(main_run):
    # A model missing from the snapshot makes the cost unknown, so unit_cost is null
    # too: pricing_source_checked cannot fail alone this way (see the stale-snapshot
    # test for it failing alone).
    p = main_run.packets[("search-mystery", CHAT)]
    assert p["prompt_tokens"] == 200 and p["completion_tokens"] == 100
    for column in ("est_cost_usd", "retry_cost_usd", "retry_cost_share", "unit_cost"):
        assert p[column] is None, column
    assert p["pricing_snapshot_id"] == main_run.snapshot_id
    assert json.loads(p["source_urls"]) == [PRICING_URL, *EVIDENCE_URLS]
    assert p["pricing_source_checked"] is False
    assert_fails(
        p,
        ["pricing_source_checked", "unit_metric_defined"],
        {"pricing_source_checked": OPERATOR, "unit_metric_defined": "owner team-search"},
    )


def test_unit_metric_defined_fails_alone_without_tokens(main_run):
    p = main_run.packets[("search-zero", CHAT)]
    assert p["prompt_tokens"] + p["completion_tokens"] == 0
    assert near(p["est_cost_usd"], Decimal("0.002"))  # two successful gpt-4o requests
    assert near(p["retry_cost_share"], Decimal(0))
    assert p["unit_cost"] is None
    assert_fails(p, ["unit_metric_defined"], {"unit_metric_defined": "owner team-search"})


def test_retry_count_recorded_fails_alone_and_every_column_hand_computed(main_run):
    p = main_run.packets[("search-hand", CHAT)]
    assert_fails(p, ["retry_count_recorded"], {"retry_count_recorded": "owner team-search"})

    assert p["cycle_id"] == CYCLE
    assert p["cycle_start"] == CYCLE_START
    assert p["cycle_end"] == CYCLE_START + timedelta(days=7)
    assert p["review_date"] == REVIEW_DATE
    assert (p["workload_tag"], p["request_class"]) == ("search-hand", CHAT)
    assert (p["owner_tag"], p["environment"]) == ("team-search", "production")
    counts = {
        "logical_requests": 6,
        "attempts": 13,
        "first_attempts": 5,  # h1a h2a h4a h5a h6a; the orphan h3a is a retry
        "retry_attempts": 8,
        "retries_client_handling": 1,  # h2b
        "retries_platform_response": 2,  # h1b h1c
        "retries_timeout": 1,  # h3b
        "retries_scheduled_maintenance": 1,  # h6b
        "retries_unfamiliar_request_source": 1,  # h5b
        "retries_unknown": 2,  # h3a (orphan) h4b
        "orphan_retries": 1,
        "prompt_tokens": 3000 + 400 + 600 + 50 + 20 + 80,
        "completion_tokens": 500 + 200 + 60 + 20 + 10 + 40,
        # h1b 1000, h1c 1500, h2b 300, h3a 300 (orphan), h3b 360, h4b 70, h5b 20, h6b 80
        "retry_tokens": 3630,
    }
    assert {k: p[k] for k in counts} == counts
    assert near(p["retry_share"], Decimal(8) / Decimal(13))

    # Per attempt: prompt*2.5/1e6 + completion*10/1e6 + 0.001 if 2xx.
    first_costs = {"h1a": "0.0025", "h2a": "0.0025", "h4a": "0", "h5a": "0.000025", "h6a": "0.0001"}
    retry_costs = {
        "h1b": "0.0025",
        "h1c": "0.0085",
        "h2b": "0.0025",
        "h3a": "0.00075",
        "h3b": "0.00235",
        "h4b": "0.001325",
        "h5b": "0.001125",
        "h6b": "0.0015",
    }
    est = sum(Decimal(v) for v in [*first_costs.values(), *retry_costs.values()])
    retry = sum(Decimal(v) for v in retry_costs.values())
    assert est == Decimal("0.025675") and retry == Decimal("0.02055")
    assert near(p["est_cost_usd"], est)
    assert near(p["retry_cost_usd"], retry)
    assert near(p["retry_cost_share"], retry / est)
    assert p["unit_metric"] == "cost_per_1k_tokens"
    assert near(p["unit_cost"], est * 1000 / 4980)

    attempts = {a["attempt_id"]: a for a in rows(main_run.db_url, "request_attempts")}
    for attempt_id, cost in {**first_costs, **retry_costs}.items():
        assert near(attempts[attempt_id]["cost_usd"], Decimal(cost)), attempt_id

    assert p["pricing_snapshot_id"] == main_run.snapshot_id
    assert p["pricing_source_url"] == PRICING_URL
    accessed = p["pricing_accessed_at"]
    assert accessed.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - accessed) < timedelta(minutes=30)
    assert json.loads(p["source_urls"]) == [PRICING_URL, *EVIDENCE_URLS]
    assert json.loads(p["allocation_rule_ids"]) == ["search"]
    assert (
        p["first_attempt_recorded"],
        p["retry_count_recorded"],
        p["pricing_source_checked"],
        p["allocation_rule_checked"],
    ) == (True, False, True, True)


def test_packets_json_lists_every_column_in_order(main_run, capsys):
    code = cli.main(
        [
            "packets",
            "--config",
            str(main_run.config),
            "--cycle",
            CYCLE,
            "--database-url",
            main_run.db_url,
            "--format",
            "json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    columns = [c.name for c in ledger.review_packets.columns]
    assert [(p["workload_tag"], p["request_class"]) for p in out] == sorted(main_run.packets)
    for packet in out:
        assert sorted(packet) == sorted(columns)
        for column in ("source_urls", "allocation_rule_ids", "failed_requirements"):
            assert isinstance(packet[column], list), column
    hand = next(p for p in out if p["workload_tag"] == "search-hand")
    assert hand["cycle_id"] == CYCLE
    assert hand["cycle_start"] == "2026-11-16T00:00:00Z"
    assert hand["cycle_end"] == "2026-11-23T00:00:00Z"
    assert hand["review_date"] == REVIEW_DATE.isoformat()
    assert hand["attempts"] == 13 and hand["retry_tokens"] == 3630
    assert abs(hand["est_cost_usd"] - 0.025675) <= 1e-6
    assert hand["source_urls"] == [PRICING_URL, *EVIDENCE_URLS]
    assert hand["allocation_rule_ids"] == ["search"]
    assert hand["failed_requirements"] == ["retry_count_recorded"]
    assert hand["retry_count_recorded"] is False and hand["first_attempt_recorded"] is True
    assert hand["result"] == "fail"
    passing = next(p for p in out if p["workload_tag"] == "search-pass")
    assert passing["failed_requirements"] == [] and passing["notes"] == ""


def test_packets_csv_has_a_header_with_every_column(main_run, capsys):
    code = cli.main(
        [
            "packets",
            "--config",
            str(main_run.config),
            "--cycle",
            CYCLE,
            "--database-url",
            main_run.db_url,
            "--format",
            "csv",
        ]
    )
    assert code == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0] == [c.name for c in ledger.review_packets.columns]
    body = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    assert [(r["workload_tag"], r["request_class"]) for r in body] == sorted(main_run.packets)
    hand = next(r for r in body if r["workload_tag"] == "search-hand")
    assert json.loads(hand["failed_requirements"]) == ["retry_count_recorded"]


# ------------------------------------------------------- one run per global setting


def test_pricing_source_checked_fails_alone_with_a_stale_snapshot(tmp_path, db_url):
    # Pricing is fetched "now"; reviewed tomorrow with max_age_days 0 it is 1 day old.
    cfg = write_scenario(
        tmp_path,
        [attempt("s1", ts(10), request_id="s1", tags=tags("stale"))],
        rules=RULES,
        evidence=EVIDENCE[:1],
        extra_config={
            "pricing": {"url": "pricing.json", "format": "tokenreview", "max_age_days": 0}
        },
    )
    run(cfg, db_url, review_date=REVIEW_DATE + timedelta(days=1))
    (p,) = rows(db_url, "review_packets")
    assert p["pricing_snapshot_id"] == sha256_file(tmp_path / "pricing.json")
    assert near(p["est_cost_usd"], Decimal("0.000045"))
    assert p["pricing_source_checked"] is False
    assert_fails(p, ["pricing_source_checked"], {"pricing_source_checked": OPERATOR})


def test_no_snapshot_applies_when_fetched_after_the_review_date(tmp_path, db_url):
    # Reviewed yesterday: today's snapshot is too new to apply (SPEC 4.4).
    cfg = write_scenario(
        tmp_path,
        [attempt("y1", ts(10), request_id="y1", tags=tags("early"))],
        rules=RULES,
        evidence=EVIDENCE[:1],
    )
    run(cfg, db_url, review_date=REVIEW_DATE - timedelta(days=1))
    (p,) = rows(db_url, "review_packets")
    assert p["pricing_snapshot_id"] is None
    assert p["pricing_source_url"] is None and p["pricing_accessed_at"] is None
    assert p["est_cost_usd"] is None and p["unit_cost"] is None
    # No pricing URL in source_urls when no snapshot applies.
    assert json.loads(p["source_urls"]) == EVIDENCE_URLS[:1]
    assert_fails(
        p,
        ["pricing_source_checked", "source_urls_recorded", "unit_metric_defined"],
        {
            "pricing_source_checked": OPERATOR,
            "source_urls_recorded": OPERATOR,
            "unit_metric_defined": "owner team-search",
        },
    )


def test_source_urls_recorded_fails_alone_with_an_old_evidence_source(tmp_path, db_url):
    old = {
        "area": "support",
        "url": "https://old.example/help",
        "accessed_on": (REVIEW_DATE - timedelta(days=91)).isoformat(),
    }
    cfg = write_scenario(
        tmp_path,
        [attempt("o1", ts(10), request_id="o1", tags=tags("old"))],
        rules=RULES,
        evidence=[EVIDENCE[0], old],
        thresholds={"max_source_age_days": 90},
    )
    run(cfg, db_url)
    (p,) = rows(db_url, "review_packets")
    assert json.loads(p["source_urls"]) == [PRICING_URL, EVIDENCE_URLS[0], old["url"]]
    assert_fails(p, ["source_urls_recorded"], {"source_urls_recorded": OPERATOR})


def test_cost_per_successful_request(tmp_path, db_url):
    gpt4o = {"model": "gpt-4o"}
    records = [
        # search-failing: every request ends in an error -> no successful request.
        attempt("f1a", ts(10), request_id="f1", status_code=500, tags=tags("failing")),
        attempt("f2a", ts(20), request_id="f2", status_code=503, tags=tags("failing")),
        attempt(
            "f2b",
            ts(21),
            request_id="f2",
            client_retry_count=1,
            status_code=502,
            tags=tags("failing"),
        ),
        # search-ok (gpt-4o): ok1 ends 2xx, ok2 ends 2xx, ok3 ends 500 after a 200.
        attempt(
            "ok1a",
            ts(30),
            request_id="ok1",
            status_code=503,
            completion_tokens=0,
            tags=tags("ok"),
            **gpt4o,
        ),
        attempt("ok1b", ts(31), request_id="ok1", client_retry_count=1, tags=tags("ok"), **gpt4o),
        attempt("ok2a", ts(40), request_id="ok2", tags=tags("ok"), **gpt4o),
        attempt("ok3a", ts(50), request_id="ok3", tags=tags("ok"), **gpt4o),
        attempt(
            "ok3b",
            ts(51),
            request_id="ok3",
            client_retry_count=1,
            status_code=500,
            tags=tags("ok"),
            **gpt4o,
        ),
    ]
    cfg = write_scenario(
        tmp_path,
        records,
        rules=RULES,
        evidence=EVIDENCE,
        extra_config={"unit_metric": "cost_per_successful_request"},
    )
    run(cfg, db_url)
    packets = packets_by_key(db_url)

    failing = packets[("search-failing", CHAT)]
    assert failing["unit_metric"] == "cost_per_successful_request"
    assert near(failing["est_cost_usd"], Decimal("0.000135"))  # 3 x 0.000045
    assert failing["unit_cost"] is None
    assert_fails(failing, ["unit_metric_defined"], {"unit_metric_defined": "owner team-search"})

    ok = packets[("search-ok", CHAT)]
    # ok1a 100*2.5/1e6 = 0.00025; 2xx with 100 + 50 tokens: 0.00025 + 0.0005 + 0.001
    # = 0.00175 (ok1b, ok2a, ok3a); ok3b (500) 0.00075. Two requests end 2xx.
    est = Decimal("0.00025") + 3 * Decimal("0.00175") + Decimal("0.00075")
    assert near(ok["est_cost_usd"], est)
    assert near(ok["unit_cost"], est / 2)
    assert_passes(ok)


def _plant_request_class(db_url, config_path, workload: str, value: str | None):
    """Copy the cycle's published attempts into a build of request_attempts with
    request_class overwritten for one workload, then build the cycle's review_packets
    from it with the pipeline's own model runner (into ``_build_review_packets``)."""
    attempts, build = ledger.request_attempts, ledger.build_table("request_attempts")
    columns = [c.name for c in attempts.columns]
    engine = ledger.engine_for(db_url)
    with engine.begin() as conn:
        conn.execute(sa.delete(build).where(build.c.cycle_id == CYCLE))
        conn.execute(
            sa.insert(build).from_select(
                [ledger.BUILD_RUN_ID, *columns],
                sa.select(sa.literal("planted"), *attempts.c).where(attempts.c.cycle_id == CYCLE),
            )
        )
        conn.execute(
            sa.update(build)
            .where(build.c.cycle_id == CYCLE, build.c.workload_tag == workload)
            .values(request_class=value)
        )
    config = load_config(config_path, database_url=db_url)
    params = cycle_params(parse_cycle(CYCLE, config.cadence), config, REVIEW_DATE, "planted")
    return run_model(engine, discover_models()["review_packets"], params)


def test_request_class_recorded_fails_alone_for_an_empty_class(tmp_path, db_url):
    # SPEC 2.2 always resolves a non-empty request_class ('{environment}:{endpoint}'
    # at worst; an empty tag or a template over an empty value does not count), so
    # no log record can produce an empty one. The requirement is exercised on
    # planted attempts: a build of the attempts is edited and review_packets built from it.
    cfg = write_scenario(
        tmp_path,
        [attempt("e1", ts(10), request_id="e1", tags=tags("empty", request_class=""))],
        rules=RULES,
        evidence=EVIDENCE,
    )
    run(cfg, db_url)
    (before,) = rows(db_url, "review_packets")
    assert before["request_class"] == CHAT  # the empty tag counts as absent
    assert_passes(before)

    built = _plant_request_class(db_url, cfg, "search-empty", "")
    assert not built.blocked
    (p,) = rows(db_url, "_build_review_packets")
    assert p["request_class"] == ""
    assert_fails(p, ["request_class_recorded"], {"request_class_recorded": "owner team-search"})


def test_request_class_recorded_fails_for_a_null_class(tmp_path, db_url):
    # request_attempts.request_class is nullable and the requirement names "not
    # null"; a packet must exist for such attempts (SPEC 5: one packet per workload
    # and class with at least one attempt) and fail request_class_recorded.
    cfg = write_scenario(
        tmp_path,
        [attempt("n1", ts(10), request_id="n1", tags=tags("null"))],
        rules=RULES,
        evidence=EVIDENCE,
    )
    run(cfg, db_url)
    built = _plant_request_class(db_url, cfg, "search-null", None)
    failing_checks = [o.check.name for o in built.checks if not o.passed]
    assert failing_checks == ["evidence_requirements_met"], failing_checks  # a WARN finding
    assert not built.blocked
    (p,) = rows(db_url, "_build_review_packets")
    assert (p["workload_tag"], p["request_class"]) == ("search-null", None)
    assert_fails(p, ["request_class_recorded"], {"request_class_recorded": "owner team-search"})
