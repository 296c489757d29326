"""One Dagster asset per SQL model in ``dbt_like_sql/``; dependencies from ``ref()``.

Each model's checks (``dbt_like_sql/checks/<model>/*.sql``) are the asset's
check specs: error-severity checks block downstream assets, warn-severity
checks report findings. The runner builds, checks, then publishes.
"""

import dagster as dg

from tokenreview_pipeline import ledger
from tokenreview_pipeline.defs.metadata import OWNERS, cycle_row_count, definition_metadata
from tokenreview_pipeline.defs.packets_view import packets_markdown
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.run_params import cycle_of, cycle_params, review_date_of
from tokenreview_pipeline.sql_models import CheckOutcome, SqlModel, discover_models, run_model

_SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


def _group(name: str) -> str:
    if name.startswith("int_"):
        return "transform"
    return "ledger"


def check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    metadata: dict = {"failing_rows": outcome.failing_rows}
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


def model_asset(model: SqlModel, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=model.name,
        deps=list(model.refs),
        partitions_def=partitions,
        group_name=_group(model.name),
        kinds={"sql"},
        owners=OWNERS,
        description=model.description,
        metadata=definition_metadata(model.table, sql_file=str(model.path.name)),
        check_specs=[
            dg.AssetCheckSpec(
                c.name, asset=model.name, blocking=c.severity == "error", description=c.description
            )
            for c in model.checks
        ],
    )
    def _model(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ) -> dg.MaterializeResult:
        config = review_config.load()
        cycle = cycle_of(context, config)
        params = cycle_params(cycle, config, review_date_of(context), context.run.run_id)
        engine = ledger_db.engine()
        run = run_model(engine, model, params)
        metadata: dict = {
            "dagster/row_count": cycle_row_count(engine, model.table, cycle.cycle_id),
            "rows_built": run.rows,
            "published": run.published,
        }
        if not run.published:
            failed = [o.check.name for o in run.checks if not o.passed]
            context.log.error(
                f"{model.name} for cycle {cycle.cycle_id} was built into "
                f"{ledger.build_table(model.name).name} but not published: blocking "
                f"check(s) failed: {', '.join(failed)}. The published table keeps its "
                "previous rows."
            )
        if model.name == "review_packets":
            metadata["packets"] = dg.MetadataValue.md(packets_markdown(engine, cycle.cycle_id))
        return dg.MaterializeResult(
            metadata=metadata, check_results=[check_result(o) for o in run.checks]
        )

    return _model


def build_model_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [model_asset(m, partitions) for m in discover_models().values()]
