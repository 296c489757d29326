"""Publication: the last step of a cycle's run swaps every published table at once."""

import dagster as dg

from tokenreview_pipeline import ledger
from tokenreview_pipeline.defs.metadata import OWNERS, definition_metadata
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.run_params import cycle_of
from tokenreview_pipeline.defs.step_errors import ledger_step
from tokenreview_pipeline.publication import PublicationError, publish_cycle

PUBLICATION_ASSET = "cycle_publication"


def build_publication_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    published = [t.name for t in ledger.PUBLISHED_TABLES]

    @dg.asset(
        name=PUBLICATION_ASSET,
        deps=published,
        partitions_def=partitions,
        group_name="ledger",
        kinds={"sql"},
        owners=OWNERS,
        description=(
            "Publishes the cycle: replaces the cycle's rows of every published table ("
            + ", ".join(published)
            + ") with this run's checked builds in one transaction, and releases the "
            "cycle. Runs only when no blocking check failed; readers see the whole old "
            "cycle or the whole new one."
        ),
        metadata=definition_metadata(ledger.cycle_publications),
    )
    def cycle_publication(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ) -> dg.MaterializeResult:
        cycle = cycle_of(context, review_config.load())
        with ledger_step(ledger_db.database_url):
            try:
                counts = publish_cycle(ledger_db.for_cycle(context, cycle.cycle_id))
            except PublicationError as exc:
                raise dg.Failure(str(exc)) from None
        return dg.MaterializeResult(
            metadata={"dagster/row_count": 1, **{f"rows_{k}": v for k, v in counts.items()}}
        )

    return cycle_publication
