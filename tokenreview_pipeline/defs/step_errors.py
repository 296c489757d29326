"""How a step reports ledger trouble: a clear failure, or a retry where it is safe.

Every step replaces its cycle's rows in one transaction, so re-running a step whose
database connection was cut (a restart, a failover, ``pg_terminate_backend``) is safe:
the transaction rolled back. Such a step is retried twice, a second apart; anything
else fails the run with a message that says what happened (another run holds the
cycle, the lease was lost) without a database traceback to dig through.
"""

import contextlib
from collections.abc import Iterator

import dagster as dg
import sqlalchemy as sa

from tokenreview_pipeline.cycle_lease import CycleBusyError, LeaseLostError
from tokenreview_pipeline.ledger import redact_url

RETRIES = 2
RETRY_WAIT_S = 1.0


@contextlib.contextmanager
def ledger_step(database_url: str) -> Iterator[None]:
    try:
        yield
    except (CycleBusyError, LeaseLostError) as exc:
        raise dg.Failure(str(exc)) from None
    except sa.exc.DBAPIError as exc:
        where = redact_url(database_url)
        if exc.connection_invalidated:
            raise dg.RetryRequested(max_retries=RETRIES, seconds_to_wait=RETRY_WAIT_S) from (
                dg.Failure(
                    f"the connection to the ledger ({where}) was lost "
                    f"({type(exc.orig).__name__}); the step is retried: its transaction "
                    "rolled back"
                )
            )
        if isinstance(exc, sa.exc.OperationalError):
            # e.g. the server is down, the disk is full, the SQLite file is read-only
            detail = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
            raise dg.Failure(
                f"the ledger database ({where}) cannot be used: {detail}. Nothing of this "
                "run was published; fix the database and run the cycle again."
            ) from None
        raise
