"""``tokenreview db upgrade|current``: the ledger's schema revision (SPEC 7).

The ledger is the one every other command uses: ``--database-url`` wins over
``TOKENREVIEW_DATABASE_URL``, which wins over the ``database_url`` of ``--config``.
``upgrade`` brings it to this version's head revision in one transaction (a 0.1.0
ledger included, see ``ledger_migrations``); ``current`` prints its revision and exits
1 when it is not at the head, so a deploy script can test it.
"""

from __future__ import annotations

import argparse
import os
import sys

from tokenreview_pipeline import ledger, ledger_migrations
from tokenreview_pipeline.config import DATABASE_URL_ENV, load_config


class NoLedgerGiven(ValueError):
    """Neither --database-url, TOKENREVIEW_DATABASE_URL nor --config (a usage error)."""


def _database_url(args: argparse.Namespace) -> str:
    if args.config:
        return load_config(args.config, database_url=args.database_url).database_url
    url = args.database_url or os.environ.get(DATABASE_URL_ENV)
    if not url:
        raise NoLedgerGiven(
            f"no ledger given: pass --database-url URL or --config PATH, or set {DATABASE_URL_ENV}"
        )
    return url


def cmd_upgrade(args: argparse.Namespace) -> int:
    url = _database_url(args)
    engine = ledger.engine_for(url)
    before, after = ledger_migrations.upgrade(engine, args.revision)
    shown = ledger.redact_url(url)
    if before.revision == after.revision:
        print(f"ledger {shown}: already {after.describe()}")
    else:
        print(f"ledger {shown}: upgraded from {before.describe()} to {after.describe()}")
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    url = _database_url(args)
    state = ledger_migrations.current(ledger.engine_for(url))
    print(f"ledger {ledger.redact_url(url)}: {state.describe()}")
    if state.kind in ("current", "empty"):  # an empty ledger is created at the head
        return 0
    print(f"run `{ledger_migrations.UPGRADE_COMMAND}` to bring it to {state.head}", file=sys.stderr)
    return 1


def add_parser(sub) -> None:
    db = sub.add_parser("db", help="the ledger schema: Alembic migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)

    def ledger_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", help="path to tokenreview.yaml (its database_url)")
        p.add_argument(
            "--database-url",
            help="ledger database URL (wins over TOKENREVIEW_DATABASE_URL and the config)",
        )

    p = db_sub.add_parser("upgrade", help="upgrade the ledger schema to this version's")
    ledger_arg(p)
    p.add_argument("--revision", default="head", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_upgrade)

    p = db_sub.add_parser("current", help="print the ledger's schema revision")
    ledger_arg(p)
    p.set_defaults(func=cmd_current)
