"""Extract and load the request log of a cycle (Python, streaming)."""

import dagster as dg

from tokenreview_pipeline import ledger
from tokenreview_pipeline.defs.metadata import OWNERS, definition_metadata
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.run_params import cycle_of
from tokenreview_pipeline.defs.step_errors import ledger_step
from tokenreview_pipeline.extract.load import StagingWindow, stage_records
from tokenreview_pipeline.extract.request_log import RequestLogError, open_request_log

_SPECS = [
    dg.AssetSpec(
        "stg_source_records",
        kinds={"python"},
        owners=OWNERS,
        description=(
            "Every record of the request log read for the cycle, validated (SPEC 4.1), "
            "redacted (SPEC 2.5) and stripped of content fields: one row per record read."
        ),
        metadata=definition_metadata(ledger.stg_source_records),
    ),
    dg.AssetSpec(
        "stg_extract_runs",
        kinds={"python"},
        owners=OWNERS,
        description="What the extractor counted as read in the cycle's latest run.",
        metadata=definition_metadata(ledger.stg_extract_runs),
    ),
]


def build_extract_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="extract_request_log", group_name="extract", partitions_def=partitions, specs=_SPECS
    )
    def extract_request_log(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ):
        config = review_config.load()
        cycle = cycle_of(context, config)
        try:
            log = open_request_log(config, cycle)
        except RequestLogError as exc:
            raise dg.Failure(str(exc)) from None
        with ledger_step(ledger_db.database_url):
            result = stage_records(
                ledger_db.for_cycle(context, cycle.cycle_id),
                log.records,
                window=StagingWindow.for_cycle(cycle, config.thresholds.retry_span_s),
                run_id=context.run.run_id,
                source_kind=log.kind,
                source_location=log.location,
            )
        yield dg.MaterializeResult(
            asset_key="stg_source_records",
            metadata={
                "dagster/row_count": result.rows_staged,
                "records_read": result.records_read,
                "load_seconds": dg.FloatMetadataValue(round(result.load_seconds, 3)),
                "source": f"{log.kind}: {log.location}",
            },
        )
        yield dg.MaterializeResult(asset_key="stg_extract_runs", metadata={"dagster/row_count": 1})

    return [extract_request_log]
