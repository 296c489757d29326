"""The pricing source: fetch ``pricing.url`` and keep it as an immutable snapshot."""

import dagster as dg

from tokenreview_pipeline import ledger
from tokenreview_pipeline.defs.metadata import OWNERS, definition_metadata
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.step_errors import ledger_step
from tokenreview_pipeline.pricing_store import fetch_pricing_snapshot

_SPECS = [
    dg.AssetSpec(
        "pricing_snapshots",
        kinds={"python"},
        owners=OWNERS,
        description="Immutable pricing-source snapshots (SPEC 2.3), keyed by the SHA-256 of "
        "the fetched bytes; fetched before packets are built.",
        metadata=definition_metadata(ledger.pricing_snapshots),
    ),
    dg.AssetSpec(
        "pricing_snapshot_prices",
        kinds={"python"},
        owners=OWNERS,
        description="Resolved prices of each pricing snapshot: one row per (model, service "
        "tier, long-context band), missing keys null (SPEC 4.4 defaults apply in the cost SQL).",
        metadata=definition_metadata(ledger.pricing_snapshot_prices),
    ),
    dg.AssetSpec(
        "pricing_fetches",
        kinds={"python"},
        owners=OWNERS,
        description="Every pricing fetch, with the snapshot it returned or its error (a "
        "failed fetch keeps the last snapshot and never fails the run).",
        metadata=definition_metadata(ledger.pricing_fetches),
    ),
]


def build_pricing_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="pricing_snapshot", group_name="pricing", specs=_SPECS, partitions_def=partitions
    )
    def pricing_snapshot(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ):
        with ledger_step(ledger_db.database_url):
            fetch = fetch_pricing_snapshot(ledger_db.engine(), review_config.load())
        if not fetch.succeeded:
            context.log.warning(fetch.error)
        yield dg.MaterializeResult(
            asset_key="pricing_snapshots",
            metadata={
                "fetch_succeeded": fetch.succeeded,
                "new_snapshot": fetch.new_snapshot,
                "snapshot_id": fetch.snapshot_id or "",
                "fetch_error": fetch.error or "",
            },
        )
        yield dg.MaterializeResult(
            asset_key="pricing_snapshot_prices", metadata={"model_count": fetch.model_count or 0}
        )
        yield dg.MaterializeResult(asset_key="pricing_fetches")

    return [pricing_snapshot]
