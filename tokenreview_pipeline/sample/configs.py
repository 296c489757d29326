"""The generated project's config and rule files (SPEC 2.2 to 2.4 and 3), as text.

``tokenreview.yaml`` sets the config's default thresholds (the traffic is shaped around
them) and ``first_cycle`` to the first cycle that has data, so the Dagster partitions start
where the data does. ``allocation_rules.yaml`` leaves team ``labs`` unmatched (unallocated)
and lets two owners reach workload ``shared-summarizer``; ``pricing.json`` prices every model
but ``UNPRICED_MODEL`` (with cached-input and cache-write prices, batch / flex / priority
tiers and a long-context band, SPEC 2.3), and no model's tiers name ``UNPRICED_TIER``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tokenreview_pipeline.sample.billed_usage import BILLING_FOLDER
from tokenreview_pipeline.sample.budget_plan import BUDGETS_NAME, budgets_yaml
from tokenreview_pipeline.sample.outcomes import THRESHOLDS
from tokenreview_pipeline.sample.timeline import (
    HOUR_MS,
    MINUTE_MS,
    RECURRING_END_MS,
    RECURRING_START_MS,
    Timeline,
)
from tokenreview_pipeline.sample.world import (
    EVIDENCE_SOURCES,
    KNOWN_KEYS,
    PRICES,
    PRICING_SOURCE_URL,
    SOURCE_CIDRS,
    STATUS_URL,
)
from tokenreview_pipeline.sample.writers import JSONL, format_timestamp

CONFIG_NAME = "tokenreview.yaml"
# The thresholds the config writes out (each at the config's default).
_THRESHOLD_KEYS = (
    "min_sample_size",
    "max_unknown_retry_share",
    "max_source_age_days",
    "client_timeout_ms",
    "fingerprint_window_s",
    "retry_span_s",
)
# Evidence sources were last checked this long before the main cycle.
_EVIDENCE_ACCESSED_BEFORE = timedelta(days=3)


def write_configs(out: Path, timeline: Timeline) -> list[Path]:
    """Write the config and rule files into ``out``; returns their paths."""
    accessed = (timeline.cycle_starts[1] - _EVIDENCE_ACCESSED_BEFORE).isoformat()
    files = {
        CONFIG_NAME: config_yaml(timeline),
        "allocation_rules.yaml": RULES_YAML,
        "pricing.json": pricing_json(),
        "maintenance_windows.yaml": windows_yaml(timeline),
        "known_sources.yaml": known_sources_yaml(),
        "evidence_sources.yaml": evidence_yaml(accessed),
        BUDGETS_NAME: budgets_yaml(timeline),
    }
    paths = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8", newline="\n")
        paths.append(path)
    return paths


def config_yaml(timeline: Timeline) -> str:
    thresholds = "".join(f"  {k}: {getattr(THRESHOLDS, k)}\n" for k in _THRESHOLD_KEYS)
    return f"""\
# tokenreview config for a synthetic sample (tokenreview_pipeline.sample).
# Paths are relative to this file.
cadence: {timeline.cadence}
# The first cycle with data: Dagster's partitions start here.
first_cycle: {timeline.cycle_starts[0].isoformat()}
provider_name: CometAPI
database_url: sqlite:///tokenreview.db
request_logs: {{kind: files, path: request_logs}}
allocation_rules: allocation_rules.yaml
pricing: {{url: pricing.json, format: tokenreview, max_age_days: 30}}
maintenance_windows: maintenance_windows.yaml
known_sources: known_sources.yaml
evidence_sources: evidence_sources.yaml
thresholds:
{thresholds}unit_metric: cost_per_1k_tokens
budgets: {BUDGETS_NAME}
billing: {{path: {BILLING_FOLDER}}}
"""


def pricing_json() -> str:
    models = [{"model": model, **entry} for model, entry in PRICES.items()]
    doc = {"source_url": PRICING_SOURCE_URL, "currency": "USD", "models": models}
    return json.dumps(doc, indent=2) + "\n"


def _hhmm(ms: int) -> str:
    return f"{ms // HOUR_MS:02d}:{ms % HOUR_MS // MINUTE_MS:02d}"


def windows_yaml(timeline: Timeline) -> str:
    a, b = (format_timestamp(x, JSONL).replace(".000Z", "Z") for x in timeline.maintenance)
    return f"""\
# Maintenance windows (SPEC 2.4). A window covers [start, end).
windows:
  - {{start: "{a}", end: "{b}", source_url: "{STATUS_URL}/database-upgrade"}}
  - recurring: daily
    start_time: "{_hhmm(RECURRING_START_MS)}"
    end_time: "{_hhmm(RECURRING_END_MS)}"
    timezone: Asia/Shanghai
    source_url: "{STATUS_URL}/nightly-failover-drill"
"""


def known_sources_yaml() -> str:
    keys = "\n".join(f"  - {k}" for k in KNOWN_KEYS)
    cidrs = "\n".join(f'  - "{c}"' for c in SOURCE_CIDRS)
    return (
        "# Request sources the platform team knows (SPEC 2.4).\n"
        f"api_key_ids:\n{keys}\nsource_cidrs:\n{cidrs}\n"
    )


def evidence_yaml(accessed: str) -> str:
    lines = ["# Evidence sources cited by every review packet (SPEC 2.4).", "sources:"]
    for area, url in EVIDENCE_SOURCES:
        lines.append(f'  - {{area: {area}, url: "{url}", accessed_on: "{accessed}"}}')
    return "\n".join(lines) + "\n"


RULES_YAML = """\
# Allocation rules for the synthetic sample (SPEC 2.2). Lower priority is tried first; the
# first matching rule wins. Team "labs" matches no rule (-> unallocated), and workload
# shared-summarizer is reachable by two owners (team-support and team-search).
rules:
  - id: platform-embeddings
    priority: 10
    match:
      endpoint: "/v1/embeddings"
      api_key_id: [key_platform_batch_01, key_platform_batch_02]
    assign:
      owner_tag: team-data-platform
      workload_tag: "embeddings-{tags.project}"
      request_class: batch-embedding
  - id: summarizer-support
    priority: 20
    match:
      tags: {workload: summarizer}
      api_key_id: [key_support_01, key_support_02]
    assign:
      owner_tag: team-support
      workload_tag: shared-summarizer
  - id: summarizer-search
    priority: 20
    match:
      tags: {team: search, workload: summarizer}
    assign:
      owner_tag: team-search
      workload_tag: shared-summarizer
  - id: search-production
    priority: 30
    match:
      tags: {team: search}
      environment: production
      endpoint: "/v1/chat/*"
    assign:
      owner_tag: team-search
      workload_tag: "search-{tags.project}"
      request_class: production-interactive
  - id: search-staging
    priority: 40
    match:
      tags: {team: search}
      environment: staging
    assign:
      owner_tag: team-search
      workload_tag: "search-{tags.project}"
  - id: support-claude
    priority: 50
    match:
      tags: {team: support}
      model: "claude-*"
    assign:
      owner_tag: team-support
      workload_tag: "support-{tags.workload}"
  - id: support-model-trials
    priority: 60
    match:
      tags: {team: support}
    assign:
      owner_tag: team-support
      workload_tag: "support-{tags.workload}"
      request_class: "{environment}-model-trial"
  - id: growth-responses
    priority: 70
    match:
      tags: {team: growth}
      endpoint: "/v1/responses"
    assign:
      owner_tag: team-growth
      workload_tag: "growth-{tags.project}"
      request_class: "{environment}:campaign"
  - id: ci-evals
    priority: 80
    match:
      api_key_id: [key_ci_runner]
    assign:
      owner_tag: team-ml-eval
      workload_tag: "evals-{model}"
      environment: ci
      request_class: offline-eval
"""
