"""Alembic environment of the ledger: always run on a connection the caller opened.

``ledger_migrations`` opens the connection, takes the schema lock and the transaction,
and passes the connection in ``config.attributes["connection"]``; the migrations run
inside that transaction (transactional DDL on both backends), so a failed upgrade
leaves the ledger as it was.
"""

from __future__ import annotations

from alembic import context

from tokenreview_pipeline import ledger

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through ledger_migrations
    raise RuntimeError("run ledger migrations through tokenreview_pipeline.ledger_migrations")

context.configure(
    connection=connection,
    target_metadata=ledger.metadata,
    # SQLite cannot ALTER most of a table: batch mode copies it into a new one.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
