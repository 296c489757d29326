"""Every column of every published table has a description, shown in Dagster's schema."""

from tokenreview_pipeline import ledger
from tokenreview_pipeline.column_docs import COLUMN_DOCS
from tokenreview_pipeline.contract import PACKET_CAUSE_ORDER
from tokenreview_pipeline.defs.metadata import column_schema


def test_every_published_column_is_documented():
    missing = [
        f"{t.name}.{c.name}"
        for t in ledger.PUBLISHED_TABLES
        for c in t.columns
        if not COLUMN_DOCS.get(t.name, {}).get(c.name)
    ]
    assert missing == []


def test_the_dagster_column_schema_carries_the_descriptions():
    schema = {c.name: c for c in column_schema(ledger.review_packets).columns}
    assert schema["notes"].description.startswith("One line per failed requirement")
    for cause in PACKET_CAUSE_ORDER:
        # A cause's meaning comes from the contract, declared once.
        assert cause.meaning in schema[cause.packet_column].description
    assert schema["retry_share"].type == "numeric(38, 18)"
