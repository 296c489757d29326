"""Asset checks from SQL check files: their specs, and their results as Dagster events.

A check file ``dbt_like_sql/checks/<asset>/<check>.sql`` (see ``sql_models.py``) is an
asset check of ``<asset>``: ``-- severity: error`` checks are blocking (downstream
assets do not run and the model is not published), ``warn`` checks report findings.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import dagster as dg

from tokenreview_pipeline.packet_tables import markdown_table
from tokenreview_pipeline.sql_models import CheckOutcome, SqlCheck

_SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


def check_specs(
    asset: str, checks: Sequence[SqlCheck], partitions: dg.PartitionsDefinition
) -> list[dg.AssetCheckSpec]:
    """The asset's check specs, partitioned like the asset: each evaluation belongs to
    the cycle the run checked (an unpartitioned spec of a partitioned asset records the
    result with no partition and a SKIPPED evaluation for the cycle's partition).
    Partitioned check specs are a Dagster 1.13 preview feature; its warning is silenced
    here, where it is used on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(
                c.name,
                asset=asset,
                blocking=c.severity == "error",
                description=c.description,
                partitions_def=partitions,
            )
            for c in checks
        ]


#: What one row of a checked table is, for a description people read ("7 of 23 packets").
_ROW_NOUN = {"review_packets": "packet", "request_attempts": "attempt"}


def _metadata_value(value: object) -> object:
    return dg.MetadataValue.null() if value is None else value


def _decoded(value: Any) -> Any:
    """A JSON array stored as text (``failed_requirements``) as a list."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def rows_markdown(rows: Sequence[dict[str, Any]], total: int) -> str:
    """Failing rows as a markdown table (the Dagster UI renders it), and how many more."""
    if not rows:
        return "(no failing rows)"
    table = markdown_table(list(rows), list(rows[0]))
    more = total - len(rows)
    return table + (f"\n\n... and {more} more (query the table for all)." if more > 0 else "")


def _tally(rows: Sequence[dict[str, Any]]) -> str:
    """How often each value of the rows' list columns occurs (requirements that fail)."""
    counts: Counter[str] = Counter()
    for row in rows:
        for value in row.values():
            if isinstance(value, list):
                counts.update(str(v) for v in value)
    return ", ".join(f"{name} ({n})" for name, n in counts.most_common())


def _failure_description(outcome: CheckOutcome, rows: list[dict], rows_checked: int | None) -> str:
    check = outcome.check
    if outcome.status is not None:
        return f"FAILED: {check.description}"
    noun = _ROW_NOUN.get(check.model)
    if noun and rows_checked is not None:
        what = f"{outcome.failing_rows} of {rows_checked} {noun}s fail"
    else:
        what = f"{outcome.failing_rows} failing row(s) in {check.model}"
    tally = _tally(rows)
    return f"{what}: {tally}." if tally else f"{what}. {check.description}"


def check_result(
    outcome: CheckOutcome, cycle_id: str, rows_checked: int | None = None
) -> dg.AssetCheckResult:
    """A check's outcome as an ``AssetCheckResult`` for the cycle's partition: the cycle,
    the failing-row count, the failing rows as a markdown table (JSON arrays as lists)
    and as JSON, and a description that says what failed; for a status check, its
    status row."""
    metadata: dict[str, object] = {"cycle_id": cycle_id}
    if outcome.status is not None:
        metadata.update({k: _metadata_value(v) for k, v in outcome.status.items() if k != "passed"})
        rows: list[dict] = []
    else:
        rows = [{k: _decoded(v) for k, v in row.items()} for row in outcome.sample]
        metadata["failing_rows"] = outcome.failing_rows
        if rows:
            metadata["failing"] = dg.MetadataValue.md(rows_markdown(rows, outcome.failing_rows))
            metadata["failing_sample"] = dg.MetadataValue.json(rows)
    return dg.AssetCheckResult(
        asset_key=outcome.check.model,
        check_name=outcome.check.name,
        passed=outcome.passed,
        severity=_SEVERITY[outcome.check.severity],
        metadata=metadata,
        description=(
            f"Cycle {cycle_id}: passed. {outcome.check.description}"
            if outcome.passed
            else f"Cycle {cycle_id}: {_failure_description(outcome, rows, rows_checked)}"
        ),
    )
