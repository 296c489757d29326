"""One Dagster asset per SQL model in ``dbt_like_sql/``; dependencies from ``ref()``.

Each model's checks (``dbt_like_sql/checks/<model>/*.sql``) are the asset's check
specs. The runner builds, checks, then publishes (``sql_models.run_model``).
"""

import dagster as dg

from tokenreview_pipeline.defs.checks import check_result, check_specs
from tokenreview_pipeline.defs.metadata import OWNERS, definition_metadata
from tokenreview_pipeline.defs.model_metadata import MODEL_METADATA, extra_metadata
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.run_params import cycle_of, cycle_params, review_date_of
from tokenreview_pipeline.defs.step_errors import ledger_step
from tokenreview_pipeline.sql_models import (
    ModelError,
    ModelRun,
    SqlModel,
    discover_models,
    run_model,
)


def _group(name: str) -> str:
    return "transform" if name.startswith("int_") else "ledger"


def _blocked_message(model: SqlModel, run: ModelRun, cycle_id: str) -> str:
    failed = ", ".join(o.check.name for o in run.checks if not o.passed)
    kept = (
        f"its rows stay in {run.table} for inspection and the cycle is not published: the "
        "published tables keep their previous rows"
        if run.model.published
        else "downstream assets do not run"
    )
    return f"{model.name} for cycle {cycle_id}: blocking check(s) failed: {failed}; {kept}."


def model_asset(model: SqlModel, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    unknown = [m for m in model.metadata if m not in MODEL_METADATA]
    if unknown:
        raise ModelError(f"{model.path.name}: unknown metadata {', '.join(unknown)}")

    @dg.asset(
        name=model.name,
        deps=list(model.refs),
        partitions_def=partitions,
        group_name=_group(model.name),
        kinds={"sql"},
        owners=OWNERS,
        description=model.description,
        metadata=definition_metadata(model.table, sql_file=str(model.path.name)),
        check_specs=check_specs(model.name, model.checks, partitions),
    )
    def _model(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ) -> dg.MaterializeResult:
        config = review_config.load()
        cycle = cycle_of(context, config)
        params = cycle_params(cycle, config, review_date_of(context), context.run.run_id)
        with ledger_step(ledger_db.database_url):
            writer = ledger_db.for_cycle(context, cycle.cycle_id)
            run = run_model(writer, model, params)
        if run.blocked:
            context.log.error(_blocked_message(model, run, cycle.cycle_id))
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": run.rows,
                "blocked_by_checks": run.blocked,
                "written_to": run.table,
                **extra_metadata(model.metadata, writer.engine, cycle.cycle_id, run.table),
            },
            check_results=[check_result(o, cycle.cycle_id, run.rows) for o in run.checks],
        )

    return _model


def build_model_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [model_asset(m, partitions) for m in discover_models().values()]
