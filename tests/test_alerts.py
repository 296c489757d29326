"""The cycle alert sensor, evaluated on a real instance against a real webhook server."""

from __future__ import annotations

import json
import logging

import dagster as dg
import pytest
from budget_rows import add_budget_decision
from scenario import CYCLE, REVIEW_DATE, attempt, ts, write_scenario
from webhook_server import WebhookServer

from tokenreview_pipeline.cli import run_cycle
from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.defs.alerts import cycle_alerts
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource

ENV = "TOKENREVIEW_TEST_WEBHOOK"
SECRET = "T0SECRET/B0SECRET/xoxb-not-a-real-token"


def _scenario(tmp_path, db_url, alerts: dict | None):
    records = [
        attempt("a1", ts(10), request_id="r1"),
        # No rule matches: the evidence check fails (WARN).
        attempt("n1", ts(30), request_id="n1", tags={"team": "nobody"}),
    ]
    extra = {"alerts": alerts} if alerts else None
    return write_scenario(tmp_path, records, extra_config=extra)


def _evaluate(instance, cfg, db_url, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "review_config": ReviewConfigResource(config_path=str(cfg), database_url=db_url),
            "ledger_db": LedgerResource(database_url=db_url),
        },
    )
    return cycle_alerts(context)


@pytest.fixture
def instance(tmp_path):
    (tmp_path / "dagster_home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home")) as instance:
        yield instance


def _alerts(server, **extra):
    return {
        "webhook_url_env": ENV,
        "ui_base_url": "http://127.0.0.1:3000",
        "timeout_s": 1.0,
        "max_tries": 3,
        **extra,
    }


def test_alert_after_500_then_success_once_per_cycle_and_check(
    tmp_path, db_url, instance, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    with WebhookServer(faults=[("status", 500)]) as server:
        monkeypatch.setenv(ENV, server.url(f"/services/{SECRET}"))
        cfg = _scenario(tmp_path, db_url, _alerts(server))
        config = load_config(cfg, database_url=db_url)
        result = run_cycle(config, CYCLE, REVIEW_DATE, db_url, instance=instance)
        assert result.success

        add_budget_decision(
            db_url, {"cycle_id": CYCLE, "workload_tag": "search-web", "decision": "paused"}
        )
        first = _evaluate(instance, cfg, db_url)
        assert server.posts == 2  # the 500, then the delivery
        ((path, body),) = server.received
        assert path == f"/services/{SECRET}"
        assert body["cycle_id"] == CYCLE and body["run_id"] == result.run_id
        assert body["failed_checks"] == [
            {"asset": "review_packets", "check": "evidence_requirements_met", "severity": "WARN"}
        ]
        assert body["run_url"] == f"http://127.0.0.1:3000/runs/{result.run_id}"
        assert f"cycle {CYCLE}" in body["text"] and "evidence_requirements_met" in body["text"]
        assert "1 of 2 packets fail" in body["text"]
        assert body["paused_workloads"] == ["search-web"]
        assert "budget change paused: search-web" in body["text"]

        # The next tick: nothing new for the cycle, nothing sent.
        again = _evaluate(instance, cfg, db_url, cursor=first.cursor)
        assert server.posts == 2 and again.skip_reason is not None

        # A re-run of the cycle fails the same check: still at most once per check.
        rerun = run_cycle(config, CYCLE, REVIEW_DATE, db_url, instance=instance)
        assert rerun.success
        third = _evaluate(instance, cfg, db_url, cursor=again.cursor)
        assert server.posts == 2
        assert json.loads(third.cursor)["sent"][CYCLE] == [
            "check:review_packets.evidence_requirements_met",
            "paused:search-web",
        ]
    assert SECRET not in caplog.text


def test_a_timing_out_webhook_delays_the_alert_without_losing_it(
    tmp_path, db_url, instance, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    with WebhookServer(faults=[("slow", 3.0)] * 2) as server:
        monkeypatch.setenv(ENV, server.url(f"/services/{SECRET}"))
        cfg = _scenario(tmp_path, db_url, _alerts(server, max_tries=2, timeout_s=0.5))
        config = load_config(cfg, database_url=db_url)
        run_cycle(config, CYCLE, REVIEW_DATE, db_url, instance=instance)

        failed = _evaluate(instance, cfg, db_url)
        assert server.posts == 2 and server.received == []
        assert "timed out after 0.5s (2 tries)" in failed.skip_reason.skip_message
        assert f"${ENV}" in failed.skip_reason.skip_message
        assert (
            SECRET not in failed.skip_reason.skip_message
            and "127.0.0.1" not in failed.skip_reason.skip_message
        )

        # The webhook is back: the next tick delivers the alert it could not send.
        delivered = _evaluate(instance, cfg, db_url, cursor=failed.cursor)
        assert len(server.received) == 1 and delivered.skip_reason is None
    assert SECRET not in caplog.text


def test_no_alerts_block_sends_nothing(tmp_path, db_url, instance):
    cfg = _scenario(tmp_path, db_url, None)
    run_cycle(load_config(cfg, database_url=db_url), CYCLE, REVIEW_DATE, db_url, instance=instance)
    assert "no alerts block" in _evaluate(instance, cfg, db_url).skip_message


@pytest.mark.parametrize(
    ("alerts", "message"),
    [
        ({"ui_base_url": "http://127.0.0.1:3000"}, "alerts.webhook_url_env"),
        ({"webhook_url_env": "not a name"}, "alerts.webhook_url_env"),
        ({"webhook_url_env": ENV, "ui_base_url": "ftp://x"}, "alerts.ui_base_url"),
        ({"webhook_url_env": ENV, "timeout_s": 0}, "alerts.timeout_s"),
        ({"webhook_url_env": ENV, "max_tries": 11}, "alerts.max_tries"),
        ({"webhook_url_env": ENV, "url": "https://hooks.example/x"}, "alerts.url"),
    ],
)
def test_alerts_config_errors_name_the_key(tmp_path, alerts, message):
    from tokenreview_pipeline.errors import ConfigError

    cfg = write_scenario(tmp_path, [attempt("a1", ts(1))], extra_config={"alerts": alerts})
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(cfg)


def test_alerts_config_defaults(tmp_path):
    cfg = write_scenario(
        tmp_path, [attempt("a1", ts(1))], extra_config={"alerts": {"webhook_url_env": ENV}}
    )
    alerts = load_config(cfg).alerts
    assert (alerts.webhook_url_env, alerts.ui_base_url, alerts.timeout_s, alerts.max_tries) == (
        ENV,
        None,
        10.0,
        3,
    )
