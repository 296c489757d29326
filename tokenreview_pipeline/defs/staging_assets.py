"""Python assets: extract the request log and stage the rule inputs of a cycle."""

import os

import dagster as dg

from tokenreview_pipeline import ledger, staging
from tokenreview_pipeline.allocation import load_allocation_rules
from tokenreview_pipeline.config import FilesLogSource, HttpLogSource, TokenreviewConfig
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.defs.metadata import OWNERS, definition_metadata
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.run_params import cycle_of, review_date_of
from tokenreview_pipeline.extract.files import iter_folder_records
from tokenreview_pipeline.extract.http import iter_http_records
from tokenreview_pipeline.extract.load import StagingWindow, stage_records
from tokenreview_pipeline.maintenance import load_maintenance_windows
from tokenreview_pipeline.pricing import safe_url
from tokenreview_pipeline.sources import load_evidence_sources, load_known_sources


def _records(config: TokenreviewConfig, cycle: Cycle):
    source = config.request_logs
    if isinstance(source, FilesLogSource):
        return iter_folder_records(source.path), "files", str(source.path)
    assert isinstance(source, HttpLogSource)
    token = None
    if source.token_env:
        token = os.environ.get(source.token_env)
        if not token:
            raise dg.Failure(
                f"request_logs.token_env names {source.token_env}, which is not set "
                f"(config {config.path})"
            )
    start, end = cycle.read_window(config.thresholds.retry_span_s)
    records = iter_http_records(
        source.url,
        token=token,
        start=start,
        end=end,
        max_tries=source.max_tries,
        timeout_s=source.timeout_s,
    )
    return records, "http", safe_url(source.url)


def build_staging_assets(partitions: dg.PartitionsDefinition) -> list:
    common = {"partitions_def": partitions, "owners": OWNERS}

    @dg.multi_asset(
        name="extract_request_log",
        group_name="extract",
        partitions_def=partitions,
        specs=[
            dg.AssetSpec(
                "stg_source_records",
                kinds={"python"},
                owners=OWNERS,
                description=(
                    "Every record of the request log read for the cycle, validated (SPEC "
                    "4.1), redacted (SPEC 2.5) and stripped of content fields: one row per "
                    "record read."
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
        ],
    )
    def extract_request_log(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ):
        config = review_config.load()
        cycle = cycle_of(context, config)
        records, kind, location = _records(config, cycle)
        result = stage_records(
            ledger_db.engine(),
            records,
            window=StagingWindow.for_cycle(cycle, config.thresholds.retry_span_s),
            known=load_known_sources(config.known_sources),
            run_id=context.run.run_id,
            source_kind=kind,
            source_location=location,
        )
        yield dg.MaterializeResult(
            asset_key="stg_source_records",
            metadata={
                "dagster/row_count": result.rows_staged,
                "records_read": result.records_read,
                "source": f"{kind}: {location}",
            },
        )
        yield dg.MaterializeResult(asset_key="stg_extract_runs", metadata={"dagster/row_count": 1})

    @dg.asset(
        name="stg_maintenance_windows",
        group_name="rules",
        kinds={"python"},
        description="Maintenance windows (absolute and recurring, SPEC 2.4) as UTC "
        "intervals over the cycle's read window.",
        metadata=definition_metadata(ledger.stg_maintenance_windows),
        **common,
    )
    def stg_maintenance_windows(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ) -> dg.MaterializeResult:
        config = review_config.load()
        windows = (
            load_maintenance_windows(config.maintenance_windows)
            if config.maintenance_windows
            else []
        )
        rows = staging.stage_maintenance_windows(
            ledger_db.engine(), cycle_of(context, config), windows, config.thresholds.retry_span_s
        )
        return dg.MaterializeResult(
            metadata={"dagster/row_count": rows, "windows_configured": len(windows)}
        )

    @dg.asset(
        name="stg_evidence_sources",
        group_name="rules",
        kinds={"python"},
        description="Evidence sources (SPEC 2.4) as read for the cycle's review, in file order.",
        metadata=definition_metadata(ledger.stg_evidence_sources),
        **common,
    )
    def stg_evidence_sources(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ) -> dg.MaterializeResult:
        config = review_config.load()
        sources = load_evidence_sources(config.evidence_sources) if config.evidence_sources else []
        rows = staging.stage_evidence_sources(
            ledger_db.engine(), cycle_of(context, config), sources
        )
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    @dg.asset(
        name="stg_allocation_decisions",
        group_name="rules",
        kinds={"python"},
        deps=["int_grouped_attempts", "stg_source_records"],
        description="Allocation rules (SPEC 2.2) decided on each logical request's first "
        "attempt, once per distinct set of the attributes rules read.",
        metadata=definition_metadata(ledger.stg_allocation_decisions),
        **common,
    )
    def stg_allocation_decisions(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ) -> dg.MaterializeResult:
        config = review_config.load()
        rules = load_allocation_rules(config.allocation_rules)
        rows = staging.stage_allocation_decisions(
            ledger_db.engine(), cycle_of(context, config), rules
        )
        return dg.MaterializeResult(
            metadata={"dagster/row_count": rows, "rules_loaded": len(rules)}
        )

    @dg.multi_asset(
        name="pricing_snapshot",
        group_name="pricing",
        specs=[
            dg.AssetSpec(
                "pricing_snapshots",
                kinds={"python"},
                owners=OWNERS,
                description="Immutable pricing-source snapshots (SPEC 2.3), keyed by the "
                "SHA-256 of the fetched bytes; fetched before packets are built.",
                metadata=definition_metadata(ledger.pricing_snapshots),
            ),
            dg.AssetSpec(
                "pricing_snapshot_prices",
                kinds={"python"},
                owners=OWNERS,
                description="Per-model prices of each pricing snapshot.",
                metadata=definition_metadata(ledger.pricing_snapshot_prices),
            ),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                "newest_snapshot_fresh",
                asset="pricing_snapshots",
                description="The newest pricing snapshot is at most pricing.max_age_days old "
                "at the review date; a failed fetch is reported here.",
            )
        ],
        partitions_def=partitions,
    )
    def pricing_snapshot(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ):
        config = review_config.load()
        engine = ledger_db.engine()
        fetch = staging.fetch_pricing_snapshot(engine, config)
        if not fetch.succeeded:
            context.log.warning(fetch.error)
        fresh = staging.pricing_freshness(
            engine, review_date_of(context), config.pricing.max_age_days
        )
        meta = {
            "fetch_succeeded": fetch.succeeded,
            "new_snapshot": fetch.new_snapshot,
            "snapshot_id": fetch.snapshot_id or fresh.snapshot_id or "",
            "fetch_error": fetch.error or "",
        }
        yield dg.MaterializeResult(asset_key="pricing_snapshots", metadata=meta)
        yield dg.MaterializeResult(
            asset_key="pricing_snapshot_prices", metadata={"model_count": fetch.model_count or 0}
        )
        yield dg.AssetCheckResult(
            asset_key="pricing_snapshots",
            check_name="newest_snapshot_fresh",
            passed=fresh.fresh,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "snapshot_id": fresh.snapshot_id or "",
                "accessed_at": fresh.accessed_at.isoformat() if fresh.accessed_at else "",
                "age_days": fresh.age_days if fresh.age_days is not None else -1,
                "max_age_days": fresh.max_age_days,
                "last_fetch_error": fresh.last_fetch_error or "",
            },
            description=(
                "no pricing snapshot was fetched on or before the review date"
                if fresh.snapshot_id is None
                else f"newest snapshot is {fresh.age_days} day(s) old at the review date "
                f"(max {fresh.max_age_days})"
            ),
        )

    return [
        extract_request_log,
        stg_maintenance_windows,
        stg_evidence_sources,
        stg_allocation_decisions,
        pricing_snapshot,
    ]
