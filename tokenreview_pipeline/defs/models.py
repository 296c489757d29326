"""One Dagster asset per SQL model in ``dbt_like_sql/``; dependencies from ``ref()``.

Each model's checks (``dbt_like_sql/checks/<model>/*.sql``) are the asset's check
specs. The runner builds, checks, then publishes (``sql_models.run_model``).
"""


import dagster as dg

from tokenreview_pipeline import ledger
from tokenreview_pipeline.defs.checks import check_result, check_specs
from tokenreview_pipeline.defs.metadata import OWNERS, cycle_row_count, definition_metadata
from tokenreview_pipeline.defs.model_metadata import MODEL_METADATA, extra_metadata
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.run_params import cycle_of, cycle_params, review_date_of
from tokenreview_pipeline.sql_models import ModelError, SqlModel, discover_models, run_model


def _group(name: str) -> str:
    return "transform" if name.startswith("int_") else "ledger"


def _not_published_message(model: SqlModel, cycle_id: str, failed: list[str]) -> str:
    return (
        f"{model.name} for cycle {cycle_id} was built into "
        f"{ledger.build_table(model.name).name} but not published: blocking check(s) "
        f"failed: {', '.join(failed)}. The published table keeps its previous rows."
    )


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
        check_specs=check_specs(model.name, model.checks),
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
        if not run.published:
            failed = [o.check.name for o in run.checks if not o.passed]
            context.log.error(_not_published_message(model, cycle.cycle_id, failed))
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": cycle_row_count(engine, model.table, cycle.cycle_id),
                "rows_built": run.rows,
                "published": run.published,
                **extra_metadata(model.metadata, engine, cycle.cycle_id),
            },
            check_results=[check_result(o) for o in run.checks],
        )

    return _model


def build_model_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [model_asset(m, partitions) for m in discover_models().values()]
