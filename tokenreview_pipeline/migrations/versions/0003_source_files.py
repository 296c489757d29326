# ruff: noqa: E501 - generated table definitions keep their comments on one line
"""``source_files``: the index of the request-log files read (SPEC 4.1).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

A new, empty table: the first run after the upgrade reads every file (as before) and
indexes it; later runs skip the unchanged files whose records lie outside their read
window. Nothing else changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tokenreview_pipeline.ledger import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_files",
        sa.Column(
            "source_format", sa.Text(), nullable=False, comment="request_logs.format it was read as"
        ),
        sa.Column(
            "path", sa.Text(), nullable=False, comment="the file's path as configured, redacted"
        ),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False, comment="its size when read"),
        sa.Column(
            "modified_ns",
            sa.BigInteger(),
            nullable=False,
            comment="its modification time when read, nanoseconds since the Unix epoch",
        ),
        sa.Column(
            "sha256", sa.String(length=64), nullable=False, comment="SHA-256 of all its bytes"
        ),
        sa.Column(
            "edge_sha256",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of its first and last 64 KiB (all of it when smaller): the quick check",
        ),
        sa.Column("records", sa.BigInteger(), nullable=False, comment="records read from it"),
        sa.Column(
            "earliest_ts_us",
            sa.BigInteger(),
            nullable=True,
            comment="earliest usable timestamp of its records, microseconds since the epoch (UTC)",
        ),
        sa.Column(
            "latest_ts_us",
            sa.BigInteger(),
            nullable=True,
            comment="latest usable timestamp of its records, microseconds since the epoch (UTC)",
        ),
        sa.Column(
            "records_without_timestamp",
            sa.BigInteger(),
            nullable=False,
            comment="records with no usable timestamp (a file holding any is read by every run)",
        ),
        sa.Column(
            "indexed_at",
            UtcDateTime(timezone=True),
            nullable=False,
            comment="when a run last read it",
        ),
        sa.Column(
            "run_id", sa.String(length=64), nullable=False, comment="the run that last read it"
        ),
        sa.PrimaryKeyConstraint("source_format", "path"),
        comment="Index of the request-log files read (SPEC 4.1): a run skips a file the index shows unchanged whose records all lie outside the cycle's read window. Deleting rows makes the next run read those files again.",
    )


def downgrade() -> None:
    op.drop_table("source_files")
