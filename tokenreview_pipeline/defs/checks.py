"""Asset checks from SQL check files: their specs, and their results as Dagster events.

A check file ``dbt_like_sql/checks/<asset>/<check>.sql`` (see ``sql_models.py``) is an
asset check of ``<asset>``: ``-- severity: error`` checks are blocking (downstream
assets do not run and the model is not published), ``warn`` checks report findings.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import dagster as dg

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


def _metadata_value(value: object) -> object:
    return dg.MetadataValue.null() if value is None else value


def check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    """A check's outcome as an ``AssetCheckResult``: the failing-row count and a sample
    of them, or, for a status check, its status row."""
    if outcome.status is not None:
        metadata = {k: _metadata_value(v) for k, v in outcome.status.items() if k != "passed"}
    else:
        metadata = {"failing_rows": outcome.failing_rows}
        if outcome.sample:
            metadata["failing_sample"] = dg.MetadataValue.json(outcome.sample)
    return dg.AssetCheckResult(
        asset_key=outcome.check.model,
        check_name=outcome.check.name,
        passed=outcome.passed,
        severity=_SEVERITY[outcome.check.severity],
        metadata=metadata,
        description=outcome.check.description,
    )
