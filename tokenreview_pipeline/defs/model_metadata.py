"""Extra Dagster metadata a SQL model declares in its header (``-- metadata: name``).

Each entry maps a name to a function of (ledger engine, cycle id, the table the model
wrote) returning metadata entries for the model's materialization, so no asset is
special-cased by name.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
from sqlalchemy.engine import Engine

from tokenreview_pipeline.packet_tables import budget_markdown, packets_markdown

MetadataFn = Callable[[Engine, str, str], dict[str, object]]


def _packet_table(engine: Engine, cycle_id: str, table: str) -> dict[str, object]:
    return {"packets": dg.MetadataValue.md(packets_markdown(engine, cycle_id, table))}


def _budget_table(engine: Engine, cycle_id: str, table: str) -> dict[str, object]:
    return {"budget_decisions": dg.MetadataValue.md(budget_markdown(engine, cycle_id, table))}


MODEL_METADATA: dict[str, MetadataFn] = {
    "packet_table": _packet_table,
    "budget_table": _budget_table,
}


def extra_metadata(
    names: tuple[str, ...], engine: Engine, cycle_id: str, table: str
) -> dict[str, object]:
    metadata: dict[str, object] = {}
    for name in names:
        metadata.update(MODEL_METADATA[name](engine, cycle_id, table))
    return metadata
