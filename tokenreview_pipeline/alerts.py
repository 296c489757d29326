"""Cycle alerts: what a finished cycle run tells on-call, and its delivery to a webhook.

The message is Slack-compatible (``text``) and carries the same facts as fields: the
cycle, the run and its status, the checks that failed, the workloads whose budget
change is paused (when ``budget_reviews`` exists), and a link to the run in the UI.
The webhook URL is a secret: it is read from the environment variable the config names
(``alerts.webhook_url_env``), and no message, log line or error ever contains it.

Delivery: POST with a timeout, retried with backoff on timeouts, connection errors,
429 and 5xx, up to ``alerts.max_tries`` tries; another 4xx is final. An alert is due at
most once per (cycle, failed check), (cycle, paused workload) and failed run: the
sensor (``defs/alerts.py``) keeps what was sent in its cursor.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline.config import AlertsConfig

BUDGET_TABLE = "budget_reviews"
PAUSED = "paused"


class AlertError(RuntimeError):
    """The alert could not be delivered (the message never names the URL)."""


@dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    severity: str
    description: str = ""

    @property
    def key(self) -> str:
        return f"check:{self.asset}.{self.check}"


@dataclass
class CycleAlert:
    cycle_id: str
    run_id: str
    run_status: str
    failed_checks: list[FailedCheck] = field(default_factory=list)
    paused_workloads: list[str] = field(default_factory=list)
    run_url: str | None = None

    def keys(self) -> list[str]:
        """What this alert reports, each at most once per cycle."""
        keys = [c.key for c in self.failed_checks]
        keys += [f"paused:{w}" for w in self.paused_workloads]
        if self.run_status != "SUCCESS":
            keys.append(f"run:{self.run_id}")
        return keys

    def text(self) -> str:
        head = f"tokenreview cycle {self.cycle_id}: run {self.run_status.lower()}"
        lines = [head + (f" <{self.run_url}|open run>" if self.run_url else "")]
        for c in self.failed_checks:
            lines.append(f"- check failed [{c.severity}] {c.asset}.{c.check}: {c.description}")
        if self.paused_workloads:
            lines.append("- budget change paused: " + ", ".join(self.paused_workloads))
        return "\n".join(lines)

    def payload(self) -> dict:
        return {
            "text": self.text(),
            "cycle_id": self.cycle_id,
            "run_id": self.run_id,
            "run_status": self.run_status,
            "run_url": self.run_url,
            "failed_checks": [
                {"asset": c.asset, "check": c.check, "severity": c.severity}
                for c in self.failed_checks
            ],
            "paused_workloads": self.paused_workloads,
        }


def paused_workloads(engine: Engine, cycle_id: str) -> list[str]:
    """Workloads whose budget change the cycle's review paused; [] without budgets."""
    if not sa.inspect(engine).has_table(BUDGET_TABLE):
        return []
    t = sa.Table(BUDGET_TABLE, sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.workload_tag).where(t.c.cycle_id == cycle_id, t.c.decision == PAUSED)
        )
        return sorted(r.workload_tag for r in rows)


def run_url(config: AlertsConfig, run_id: str) -> str | None:
    return f"{config.ui_base_url.rstrip('/')}/runs/{run_id}" if config.ui_base_url else None


def webhook_url(config: AlertsConfig) -> str:
    url = os.environ.get(config.webhook_url_env)
    if not url:
        raise AlertError(f"alerts: environment variable {config.webhook_url_env} is not set")
    return url


_RETRIED_STATUS = (429, 500, 502, 503, 504)
#: Loggers of the HTTP client, which log every request's URL at INFO.
_HTTP_LOGGERS = ("httpx", "httpcore")


class _HideUrl(logging.Filter):
    """Drops the HTTP client's log records that would print the webhook URL."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        return self.url not in record.getMessage()


@contextlib.contextmanager
def _url_hidden(url: str):
    hide = _HideUrl(url)
    loggers = [logging.getLogger(name) for name in _HTTP_LOGGERS]
    for logger in loggers:
        logger.addFilter(hide)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(hide)


def deliver(
    config: AlertsConfig,
    payload: dict,
    *,
    backoff_s: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
) -> int:
    """POST the payload; returns the number of tries it took, or raises ``AlertError``."""
    url = webhook_url(config)
    with _url_hidden(url), httpx.Client(timeout=config.timeout_s) as client:
        return _post(client, url, payload, config, backoff_s)


def _post(client: httpx.Client, url: str, payload: dict, config: AlertsConfig, backoff_s) -> int:
    where = f"webhook ${config.webhook_url_env}"
    problem = ""
    for attempt in range(1, config.max_tries + 1):
        try:
            response = client.post(url, json=payload)
        except httpx.TimeoutException:
            problem = f"{where} timed out after {config.timeout_s:g}s"
        except httpx.TransportError as exc:  # its message may name the URL: not shown
            problem = f"{where} unreachable ({type(exc).__name__})"
        else:
            if response.status_code < 300:
                return attempt
            problem = f"{where} answered HTTP {response.status_code}"
            if response.status_code not in _RETRIED_STATUS:
                break
        if attempt < config.max_tries:
            time.sleep(backoff_s[min(attempt - 1, len(backoff_s) - 1)])
    raise AlertError(f"{problem} ({attempt} tr{'y' if attempt == 1 else 'ies'})")
