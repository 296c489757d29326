"""Extract and load the request log of a cycle (Python, streaming)."""

import dagster as dg

from tokenreview_pipeline import ledger
from tokenreview_pipeline.config import FilesLogSource
from tokenreview_pipeline.defs.metadata import OWNERS, definition_metadata
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.run_params import cycle_of
from tokenreview_pipeline.defs.step_errors import ledger_step
from tokenreview_pipeline.extract.load import StagingWindow, stage_records
from tokenreview_pipeline.extract.request_log import RequestLogError, open_request_log
from tokenreview_pipeline.extract.source_files import index_format, load_index, store_index

_SPECS = [
    dg.AssetSpec(
        "stg_source_records",
        kinds={"python"},
        owners=OWNERS,
        description=(
            "Every record of the request log read for the cycle, validated (SPEC 4.1), "
            "redacted (SPEC 2.5) and stripped of content fields: one row per record read. "
            "Pruned when the cycle is published (the published tables hold what it fed)."
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
        known = {}
        if isinstance(config.request_logs, FilesLogSource):
            with ledger_step(ledger_db.database_url):
                known = load_index(ledger_db.engine(), index_format(config.request_logs))
        try:
            log = open_request_log(config, cycle, known)
        except RequestLogError as exc:
            raise dg.Failure(str(exc)) from None
        folder = log.folder
        with ledger_step(ledger_db.database_url):
            result = stage_records(
                ledger_db.for_cycle(context, cycle.cycle_id),
                log.records,
                window=StagingWindow.for_cycle(cycle, config.thresholds.retry_span_s),
                run_id=context.run.run_id,
                source_kind=log.kind,
                source_location=log.location,
                on_finish=(
                    None
                    if folder is None
                    else lambda conn: store_index(conn, folder.indexed, context.run.run_id)
                ),
            )
        files = {}
        if folder is not None:
            files = {"files_read": folder.files_read, "files_skipped": len(folder.skipped)}
        yield dg.MaterializeResult(
            asset_key="stg_source_records",
            metadata={
                "dagster/row_count": result.rows_staged,
                "records_read": result.records_read,
                **files,
                "load_seconds": dg.FloatMetadataValue(round(result.load_seconds, 3)),
                "source": f"{log.kind}: {log.location}",
            },
        )
        yield dg.MaterializeResult(asset_key="stg_extract_runs", metadata={"dagster/row_count": 1})

    return [extract_request_log]
