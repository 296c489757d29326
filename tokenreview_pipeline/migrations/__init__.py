"""Alembic migrations of the ledger schema (see ``ledger_migrations.py``).

``versions/`` holds one revision per schema change, oldest first:
``0001`` is the schema of tokenreview 0.1.0, ``0002`` the schema of this version.
A revision is frozen once released: a change to ``ledger.py``'s tables is a new
revision (``tokenreview db revision -m "what changed" --database-url URL`` on a
ledger at head writes it with autogenerate; review its operations before committing).
"""
