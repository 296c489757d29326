"""The per-record staging and intermediate tables lose their single-column ``cycle_id``
index: each has a (cycle_id, read_seq) index whose prefix serves every lookup by cycle,
and the extra index cost every insert and every delete (publication prunes these rows).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = (
    "int_classified_records",
    "int_grouped_attempts",
    "int_retry_causes",
    "stg_source_records",
)


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_cycle_id", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_cycle_id", table, ["cycle_id"], unique=False)
