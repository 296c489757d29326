"""Pricing snapshots through the pipeline (SPEC 2.3, 4.4): both document formats,
exact costs, immutable snapshots, a failing HTTP pricing source, and the
``newest_snapshot_fresh`` asset check.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
from scenario import REVIEW_DATE, attempt, rows, run, ts, write_scenario

CHAT = "production:/v1/chat/completions"
EPS = Decimal("0.000001")
EVIDENCE = [
    {
        "area": "pricing",
        "url": "https://apidoc.example/pricing",
        "accessed_on": (REVIEW_DATE - timedelta(days=5)).isoformat(),
    }
]


def near(value, expected: Decimal, eps: Decimal = EPS) -> bool:
    return value is not None and abs(Decimal(str(value)) - expected) <= eps


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def packets_by_workload(db_url: str) -> dict[str, dict]:
    return {p["workload_tag"]: p for p in rows(db_url, "review_packets")}


def pricing_config(url: str, fmt: str = "tokenreview", max_age_days: int = 30) -> dict:
    return {"pricing": {"url": url, "format": fmt, "max_age_days": max_age_days}}


def check_evaluation(result, name: str):
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def meta(evaluation, key: str):
    return evaluation.metadata[key].value


def project(name: str) -> dict[str, str]:
    return {"team": "search", "project": name}


class PricingServer:
    """A real HTTP server on 127.0.0.1 (stdlib, one thread) serving one document.

    Set ``status`` to make it answer with an error instead.
    """

    def __init__(self, body: bytes):
        self.body = body
        self.status = 200
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (stdlib name)
                server.requests += 1
                payload = server.body if server.status == 200 else b'{"error": "boom"}'
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/prices.json"

    def __enter__(self) -> PricingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def no_proxy(monkeypatch):
    # httpx honours proxy variables; the test server is local.
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


# ----------------------------------------------------------------------- formats


def test_litellm_format_and_exact_per_token_costs(tmp_path, db_url):
    litellm = {
        "sample_spec": {"input_cost_per_token": 0, "output_cost_per_token": 0, "mode": "chat"},
        "gpt-4o-mini": {
            "input_cost_per_token": 1.5e-07,
            "output_cost_per_token": 6e-07,
            "litellm_provider": "openai",
            "mode": "chat",
        },
        "gpt-4o": {
            "input_cost_per_token": 2.5e-06,
            "output_cost_per_token": 1e-05,
            "litellm_provider": "openai",
            "mode": "chat",
        },
    }
    tiny = [
        attempt(f"tiny-{i}", ts(i / 10), prompt_tokens=1, completion_tokens=0, tags=project("tiny"))
        for i in range(400)
    ]
    records = [
        *tiny,
        attempt(
            "big",
            ts(100),
            model="gpt-4o",
            prompt_tokens=1000,
            completion_tokens=100,
            tags=project("big"),
        ),
        attempt("mys-1", ts(110), model="mystery-model", tags=project("mystery")),
        attempt("mys-2", ts(111), tags=project("mystery")),
    ]
    cfg = write_scenario(
        tmp_path,
        records,
        pricing=litellm,
        evidence=EVIDENCE,
        extra_config=pricing_config("pricing.json", fmt="litellm"),
    )
    run(cfg, db_url)

    raw = (tmp_path / "pricing.json").read_bytes()
    (snapshot,) = rows(db_url, "pricing_snapshots", cycle=None)
    assert snapshot["snapshot_id"] == snapshot["content_sha256"] == sha256(raw)
    # The map has no source_url of its own: pricing.url as written in the config.
    assert snapshot["source_url"] == "pricing.json"
    assert snapshot["currency"] == "USD"
    prices = {p["model"]: p for p in rows(db_url, "pricing_snapshot_prices", cycle=None)}
    assert snapshot["model_count"] == len(prices)
    # Per token -> per 1M tokens; exact on PostgreSQL (NUMERIC), REAL on SQLite.
    exact = db_url.startswith("postgresql")
    tolerance = Decimal(0) if exact else Decimal("1e-12")
    for model, expected in {"gpt-4o-mini": ("0.15", "0.6"), "gpt-4o": ("2.5", "10")}.items():
        got = (prices[model]["input_per_1m"], prices[model]["output_per_1m"])
        for value, want in zip(got, expected, strict=True):
            assert near(value, Decimal(want), tolerance), (model, got)

    attempts = {a["attempt_id"]: a for a in rows(db_url, "request_attempts")}
    packets = packets_by_workload(db_url)
    # 400 attempts of one prompt token at 1.5e-7: never rounded per attempt.
    assert near(packets["search-tiny"]["est_cost_usd"], Decimal("0.00006"))
    assert near(packets["search-tiny"]["unit_cost"], Decimal("0.00015"))  # per 1k tokens
    if exact:
        assert attempts["tiny-0"]["cost_usd"] == Decimal("0.00000015")
        assert packets["search-tiny"]["est_cost_usd"] == Decimal("0.00006")
    # 1000 * 2.5e-6 + 100 * 1e-5 (the map has no per-request price).
    assert near(attempts["big"]["cost_usd"], Decimal("0.0035"))
    assert packets["search-big"]["pricing_source_url"] == "pricing.json"
    assert packets["search-big"]["result"] == "pass"

    # A model missing from the snapshot: null cost, and the packet's cost is unknown.
    assert attempts["mys-1"]["cost_usd"] is None
    assert near(attempts["mys-2"]["cost_usd"], Decimal("0.000045"))
    mystery = packets["search-mystery"]
    assert mystery["est_cost_usd"] is None and mystery["retry_cost_usd"] is None
    assert mystery["pricing_source_checked"] is False


# ------------------------------------------------------------------ snapshots


def tokenreview_prices(gpt4o_in: float, gpt4o_out: float, per_request: float) -> dict:
    return {
        "source_url": "https://example.com/pricing",
        "currency": "USD",
        "models": [
            {"model": "gpt-4o-mini", "input_per_1m": 0.15, "output_per_1m": 0.60},
            {
                "model": "gpt-4o",
                "input_per_1m": gpt4o_in,
                "output_per_1m": gpt4o_out,
                "per_request": per_request,
            },
        ],
    }


def test_identical_bytes_add_no_snapshot_and_changed_bytes_are_used(tmp_path, db_url):
    records = [
        attempt("ok", ts(10), model="gpt-4o", prompt_tokens=1000, completion_tokens=100),
        attempt(
            "err", ts(20), model="gpt-4o", status_code=500, prompt_tokens=1000, completion_tokens=0
        ),
    ]
    cfg = write_scenario(
        tmp_path, records, pricing=tokenreview_prices(2.5, 10, 0.001), evidence=EVIDENCE
    )
    v1 = sha256((tmp_path / "pricing.json").read_bytes())
    run(cfg, db_url)
    run(cfg, db_url)

    (snapshot,) = rows(db_url, "pricing_snapshots", cycle=None)
    assert snapshot["snapshot_id"] == v1
    assert snapshot["source_url"] == "https://example.com/pricing"  # the document's own
    assert snapshot["model_count"] == 2
    assert abs(datetime.now(timezone.utc) - snapshot["accessed_at"]) < timedelta(minutes=30)
    fetches = rows(db_url, "pricing_fetches", cycle=None, order_by=["fetched_at"])
    assert [(f["succeeded"], f["snapshot_id"], f["new_snapshot"]) for f in fetches] == [
        (True, v1, True),
        (True, v1, False),
    ]
    (packet,) = rows(db_url, "review_packets")
    # ok: 1000*2.5/1e6 + 100*10/1e6 + 0.001 (2xx); err: 1000*2.5/1e6 only.
    assert near(packet["est_cost_usd"], Decimal("0.0045") + Decimal("0.0025"))

    (tmp_path / "pricing.json").write_text(json.dumps(tokenreview_prices(5, 20, 0.002)))
    v2 = sha256((tmp_path / "pricing.json").read_bytes())
    run(cfg, db_url)

    snapshots = rows(db_url, "pricing_snapshots", cycle=None, order_by=["accessed_at"])
    assert [s["snapshot_id"] for s in snapshots] == [v1, v2]
    assert len(rows(db_url, "pricing_fetches", cycle=None)) == 3
    (packet,) = rows(db_url, "review_packets")
    assert packet["pricing_snapshot_id"] == v2
    assert packet["pricing_accessed_at"] == snapshots[1]["accessed_at"]
    # ok: 0.005 + 0.002 + 0.002; err: 0.005.
    assert near(packet["est_cost_usd"], Decimal("0.009") + Decimal("0.005"))
    attempts = {a["attempt_id"]: a for a in rows(db_url, "request_attempts")}
    assert {a["pricing_snapshot_id"] for a in attempts.values()} == {v2}
    assert near(attempts["err"]["cost_usd"], Decimal("0.005"))


def test_failing_http_pricing_source_keeps_the_last_snapshot(tmp_path, db_url, no_proxy):
    document = {"models": [{"model": "gpt-4o-mini", "input_per_1m": 0.15, "output_per_1m": 0.60}]}
    body = json.dumps(document).encode()
    records = [attempt("a1", ts(10))]
    with PricingServer(body) as server:
        cfg = write_scenario(
            tmp_path, records, evidence=EVIDENCE, extra_config=pricing_config(server.url)
        )
        run(cfg, db_url)
        (snapshot,) = rows(db_url, "pricing_snapshots", cycle=None)
        assert snapshot["snapshot_id"] == sha256(body)
        # No source_url in the document: pricing.url as written in the config.
        assert snapshot["source_url"] == server.url

        server.status = 500
        result = run(cfg, db_url)  # the run still succeeds
        assert server.requests == 2

    assert [s["snapshot_id"] for s in rows(db_url, "pricing_snapshots", cycle=None)] == [
        sha256(body)
    ]
    fetches = rows(db_url, "pricing_fetches", cycle=None, order_by=["fetched_at"])
    assert [f["succeeded"] for f in fetches] == [True, False]
    assert fetches[1]["snapshot_id"] is None and fetches[1]["new_snapshot"] is False
    assert "500" in fetches[1]["error"]

    fresh = check_evaluation(result, "newest_snapshot_fresh")
    assert fresh.passed  # the kept snapshot is from today
    assert "500" in meta(fresh, "last_fetch_error")
    assert meta(fresh, "snapshot_id") == sha256(body)
    (packet,) = rows(db_url, "review_packets")
    assert packet["pricing_snapshot_id"] == sha256(body)
    assert packet["pricing_source_url"] == server.url
    assert near(packet["est_cost_usd"], Decimal("0.000045"))

    # The server is gone now: a connection failure is handled the same way.
    result = run(cfg, db_url)
    fetches = rows(db_url, "pricing_fetches", cycle=None, order_by=["fetched_at"])
    assert [f["succeeded"] for f in fetches] == [True, False, False]
    assert fetches[2]["error"]
    fresh = check_evaluation(result, "newest_snapshot_fresh")
    assert meta(fresh, "last_fetch_error") == fetches[2]["error"]
    assert len(rows(db_url, "pricing_snapshots", cycle=None)) == 1
    (packet,) = rows(db_url, "review_packets")
    assert packet["pricing_snapshot_id"] == sha256(body)


def test_stale_snapshot_fails_the_freshness_check_at_warn(tmp_path, db_url):
    cfg = write_scenario(
        tmp_path,
        [attempt("a1", ts(10))],
        evidence=EVIDENCE,
        extra_config=pricing_config("pricing.json", max_age_days=0),
    )
    # Fetched today, reviewed tomorrow: one day old, max_age_days 0.
    result = run(cfg, db_url, review_date=REVIEW_DATE + timedelta(days=1))
    assert result.success
    fresh = check_evaluation(result, "newest_snapshot_fresh")
    assert fresh.asset_key == dg.AssetKey("int_cycle_pricing")
    assert not fresh.passed
    assert fresh.severity == dg.AssetCheckSeverity.WARN
    assert (meta(fresh, "age_days"), meta(fresh, "max_age_days")) == (1, 0)
    assert meta(fresh, "last_fetch_error") == ""
    (packet,) = rows(db_url, "review_packets")
    assert packet["pricing_source_checked"] is False


def test_invalid_price_document_is_a_logged_failed_fetch(tmp_path, db_url):
    cfg = write_scenario(
        tmp_path,
        [attempt("x1", ts(5))],
        pricing={"models": [{"model": "gpt-4o-mini", "input_per_1m": -1, "output_per_1m": 1}]},
    )
    result = run(cfg, db_url)
    assert result.success
    (fetch,) = rows(db_url, "pricing_fetches", cycle=None)
    assert not fetch["succeeded"] and fetch["snapshot_id"] is None
    assert "is invalid" in fetch["error"] and "input_per_1m" in fetch["error"]
    assert rows(db_url, "pricing_snapshots", cycle=None) == []
    (packet,) = rows(db_url, "review_packets")
    assert "pricing_source_checked" in packet["failed_requirements"]
