"""Build small, exact scenarios (records + configs) and run them through Dagster."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
import yaml

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cli import run_cycle
from tokenreview_pipeline.config import load_config

CYCLE = "2026-11-16"  # a Monday
CYCLE_START = datetime(2026, 11, 16, tzinfo=timezone.utc)
# Pricing is fetched "now" (SPEC 2.3), so reviews are dated today and evidence
# sources a few days before, whatever day the suite runs.
REVIEW_DATE = datetime.now(timezone.utc).date()
EVIDENCE_DATE = (REVIEW_DATE - timedelta(days=5)).isoformat()

DEFAULT_RULES = [
    {
        "id": "search",
        "priority": 10,
        "match": {"tags": {"team": "search"}},
        "assign": {"owner_tag": "team-search", "workload_tag": "search-{tags.project}"},
    },
    {
        "id": "ops",
        "priority": 20,
        "match": {"api_key_id": ["key_ops"]},
        "assign": {"owner_tag": "team-ops", "workload_tag": "ops", "request_class": "batch"},
    },
]
DEFAULT_PRICING = {
    "source_url": "https://example.com/pricing",
    "currency": "USD",
    "models": [
        {"model": "gpt-4o-mini", "input_per_1m": 0.15, "output_per_1m": 0.60},
        {"model": "gpt-4o", "input_per_1m": 2.5, "output_per_1m": 10, "per_request": 0.001},
    ],
}
DEFAULT_EVIDENCE = [
    {
        "area": "pricing",
        "url": "https://apidoc.cometapi.com/pricing/about-pricing",
        "accessed_on": "2026-11-20",
    },
    {
        "area": "allocation",
        "url": "https://www.finops.org/framework/capabilities/allocation/",
        "accessed_on": "2026-11-20",
    },
]


def ts(minutes: float = 0, *, day: int = 0, base: datetime = CYCLE_START) -> str:
    moment = base + timedelta(days=day, minutes=minutes)
    return moment.isoformat().replace("+00:00", "Z")


def attempt(attempt_id: str, when: str, **fields: Any) -> dict[str, Any]:
    record = {
        "attempt_id": attempt_id,
        "timestamp": when,
        "api_key_id": "key_a1",
        "model": "gpt-4o-mini",
        "endpoint": "/v1/chat/completions",
        "status_code": 200,
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "environment": "production",
        "tags": {"team": "search", "project": "web"},
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not ...}


def write_scenario(
    root: Path,
    records: list[dict[str, Any]] | list[str],
    *,
    rules: list[dict] | None = None,
    pricing: dict | None = None,
    windows: list[dict] | None = None,
    known_sources: dict | None = None,
    evidence: list[dict] | None = None,
    thresholds: dict | None = None,
    extra_config: dict | None = None,
    log_name: str = "log.jsonl",
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    logs = root / "request_logs"
    logs.mkdir(exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    (logs / log_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "allocation_rules.yaml").write_text(
        yaml.safe_dump({"rules": DEFAULT_RULES if rules is None else rules})
    )
    (root / "pricing.json").write_text(json.dumps(DEFAULT_PRICING if pricing is None else pricing))
    (root / "maintenance_windows.yaml").write_text(yaml.safe_dump({"windows": windows or []}))
    (root / "evidence_sources.yaml").write_text(
        yaml.safe_dump({"sources": DEFAULT_EVIDENCE if evidence is None else evidence})
    )
    config: dict[str, Any] = {
        "cadence": "weekly",
        "provider_name": "CometAPI",
        "database_url": "sqlite:///unused.db",
        "request_logs": {"kind": "files", "path": "request_logs"},
        "allocation_rules": "allocation_rules.yaml",
        "pricing": {"url": "pricing.json", "format": "tokenreview", "max_age_days": 30},
        "maintenance_windows": "maintenance_windows.yaml",
        "evidence_sources": "evidence_sources.yaml",
        "thresholds": {
            "min_sample_size": 1,
            "max_unknown_retry_share": 0.0,
            "max_source_age_days": 90,
            "client_timeout_ms": 60000,
            "fingerprint_window_s": 300,
            "retry_span_s": 3600,
            **(thresholds or {}),
        },
        "unit_metric": "cost_per_1k_tokens",
    }
    if known_sources is not None:
        (root / "known_sources.yaml").write_text(yaml.safe_dump(known_sources))
        config["known_sources"] = "known_sources.yaml"
    config.update(extra_config or {})
    path = root / "tokenreview.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(
    config_path: Path,
    db_url: str,
    cycle: str = CYCLE,
    review_date: date = REVIEW_DATE,
    expect_success: bool = True,
):
    config = load_config(config_path, database_url=db_url)
    # An in-memory instance: a run's events, materializations and check results
    # without the cost of a temporary SQLite-backed Dagster home per run.
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_cycle(config, cycle, review_date, db_url, instance=instance)
    if expect_success:
        assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


def run_assets_but(
    config_path: Path,
    db_url: str,
    excluded: set[str],
    cycle: str = CYCLE,
    expect_success: bool = True,
):
    """The cycle's job with every asset but ``excluded`` selected, in an in-memory
    instance (as the UI's "materialize selected" would)."""
    from tokenreview_pipeline.defs import build_defs
    from tokenreview_pipeline.defs.jobs import CYCLE_JOB
    from tokenreview_pipeline.defs.run_params import REVIEW_DATE_TAG

    config = load_config(config_path, database_url=db_url)
    job = build_defs(config).resolve_job_def(CYCLE_JOB)
    keys = [k for k in job.asset_layer.executable_asset_keys if k.to_user_string() not in excluded]
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            partition_key=cycle,
            asset_selection=keys,
            instance=instance,
            tags={REVIEW_DATE_TAG: REVIEW_DATE.isoformat()},
            raise_on_error=False,
        )
    assert result.success == expect_success
    return result


def run_unpublished(config_path: Path, db_url: str, cycle: str = CYCLE):
    """Every step of the cycle's run but its publication: the staging and intermediate
    rows stay (publication prunes them) and the models' rows stay in their builds."""
    from tokenreview_pipeline.defs.publish import PUBLICATION_ASSET

    return run_assets_but(config_path, db_url, {PUBLICATION_ASSET}, cycle)


def rows(db_url: str, table: str, cycle: str | None = CYCLE, order_by=None) -> list[dict]:
    t = ledger.metadata.tables[table]
    query = sa.select(t)
    if cycle is not None and "cycle_id" in t.c:
        query = query.where(t.c.cycle_id == cycle)
    if order_by:
        query = query.order_by(*[t.c[c] for c in order_by])
    with ledger.engine_for(db_url).connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def by(rows_: list[dict], key: str) -> dict[Any, dict]:
    return {r[key]: r for r in rows_}


def absolute_config_paths(config: dict, base: Path) -> None:
    """Make the rule-file paths of a config read from ``base`` absolute."""
    for key in (
        "allocation_rules",
        "maintenance_windows",
        "known_sources",
        "evidence_sources",
        "budgets",
    ):
        if config.get(key):
            config[key] = str((base / config[key]).resolve())
    config["pricing"]["url"] = str((base / config["pricing"]["url"]).resolve())
    if config.get("billing"):
        config["billing"]["path"] = str((base / config["billing"]["path"]).resolve())


def same_values(got: dict, want: dict, eps: float = 1e-6) -> dict:
    """The keys whose values differ, numbers compared at ``eps`` (SPEC 4.4: costs are
    compared at 1e-6; SQLite's REAL and PostgreSQL's NUMERIC round differently)."""
    differ = {}
    for key in got.keys() | want.keys():
        a, b = got.get(key), want.get(key)
        numbers = isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal)
        if numbers and not isinstance(a, bool):
            if abs(float(a) - float(b)) > eps:
                differ[key] = (a, b)
        elif a != b:
            differ[key] = (a, b)
    return differ
