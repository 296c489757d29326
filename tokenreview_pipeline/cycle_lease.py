"""One run per cycle: the lease a run holds on its cycle from its first write to publication.

Every write a run makes to a cycle's rows happens in a *fenced* transaction
(``FencedLedger.begin``): its first statement moves the lease's heartbeat, and only
succeeds while the run holds the lease. So two runs of one cycle never interleave --
whatever launched them (CLI, schedule, backfill, UI) -- and a run that lost its lease
cannot write another row. The first write of a run claims the lease:

* no lease, or the lease is this run's: claimed;
* held by a run that is over (the Dagster instance says so) or dead (its process is
  gone on this host): taken over, and the dead run reported to ``on_dead`` so the
  instance can mark it failed;
* held by a live run: waited for up to ``wait_s``, then refused with ``CycleBusyError``
  naming that run.

Publication releases the lease in the same transaction that swaps the cycle's rows.
A run that stops before publishing (a failed step or blocking check, a kill) leaves
its lease behind; the next run of the cycle finds it over or dead and takes it over.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tokenreview_pipeline import ledger

#: A holder on another host that has not written for this long is presumed dead.
STALE_AFTER = timedelta(hours=6)


class CycleBusyError(RuntimeError):
    """Another live run is building the cycle."""


class LeaseLostError(RuntimeError):
    """This run no longer holds its cycle's lease (another run took it over)."""


@dataclass(frozen=True)
class Holder:
    run_id: str
    host: str
    pid: int
    acquired_at: datetime
    heartbeat_at: datetime

    def describe(self) -> str:
        return (
            f"run {self.run_id} (process {self.pid} on {self.host}, since "
            f"{self.acquired_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


def _now() -> datetime:
    return datetime.now(timezone.utc)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


# (run_id) -> True: the run is over; False: it is queued or running; None: not known here.
RunIsOver = Callable[[str], "bool | None"]


def holder_is_dead(holder: Holder, run_is_over: RunIsOver, now: datetime) -> bool:
    over = run_is_over(holder.run_id)
    if over:
        return True
    if holder.host == socket.gethostname():
        if not process_alive(holder.pid):
            return True
        # The same process, and a run the instance does not know: a run of this
        # process that ended without publishing (runs of one process are sequential).
        return over is None and holder.pid == os.getpid()
    return now - holder.heartbeat_at > STALE_AFTER


class FencedLedger:
    """The ledger as one run of one cycle writes it: ``begin()`` like an engine's, fenced
    by the cycle lease; ``connect()`` and other attributes are the engine's."""

    def __init__(self, engine: Engine, cycle_id: str, run_id: str) -> None:
        self.engine = engine
        self.cycle_id = cycle_id
        self.run_id = run_id

    def __getattr__(self, name: str):
        return getattr(self.engine, name)

    def connect(self) -> Connection:
        return self.engine.connect()

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        with ledger.write_connection(self.engine) as conn, conn.begin():
            self.verify(conn)
            yield conn

    def verify(self, conn: Connection) -> None:
        """Inside a write transaction: move the heartbeat, or fail if the lease is gone.
        On PostgreSQL this also locks the lease row until the transaction ends."""
        t = ledger.cycle_leases
        moved = conn.execute(
            sa.update(t)
            .where(t.c.cycle_id == self.cycle_id, t.c.run_id == self.run_id)
            .values(heartbeat_at=_now())
        ).rowcount
        if moved != 1:
            holder = _holder(conn, self.cycle_id)
            raise LeaseLostError(
                f"run {self.run_id} no longer holds cycle {self.cycle_id}: "
                + (f"{holder.describe()} took it over" if holder else "its lease was released")
                + "; nothing more is written by this run"
            )

    def claim(
        self,
        run_is_over: RunIsOver,
        *,
        wait_s: float = 30.0,
        poll_s: float = 0.5,
        on_dead: Callable[[Holder], None] | None = None,
    ) -> None:
        """Hold the cycle's lease (see the module docstring)."""
        deadline = time.monotonic() + wait_s
        while True:
            holder = self._try_claim(run_is_over, on_dead)
            if holder is None:
                return
            if time.monotonic() >= deadline:
                raise CycleBusyError(
                    f"cycle {self.cycle_id} is being processed by {holder.describe()}; "
                    "wait for it to finish, or cancel it (Dagster UI, Runs) and run again"
                )
            time.sleep(poll_s)

    def _try_claim(
        self, run_is_over: RunIsOver, on_dead: Callable[[Holder], None] | None
    ) -> Holder | None:
        """None when claimed, else the live holder. A live holder is found with a plain
        read, so waiting never holds (or waits for) the database's write lock."""
        with self.engine.connect() as conn:
            seen = _holder(conn, self.cycle_id)
        if seen is not None and seen.run_id != self.run_id:
            if not holder_is_dead(seen, run_is_over, _now()):
                return seen
        t = ledger.cycle_leases
        now = _now()
        mine = {
            "run_id": self.run_id,
            "holder_host": socket.gethostname(),
            "holder_pid": os.getpid(),
            "heartbeat_at": now,
        }
        try:
            with ledger.write_connection(self.engine) as conn, conn.begin():
                holder = _holder(conn, self.cycle_id, for_update=True)
                if holder is None:
                    conn.execute(t.insert().values(cycle_id=self.cycle_id, acquired_at=now, **mine))
                    return None
                if holder.run_id == self.run_id:
                    conn.execute(sa.update(t).where(t.c.cycle_id == self.cycle_id).values(**mine))
                    return None
                if holder != seen and not holder_is_dead(holder, run_is_over, now):
                    return holder
                conn.execute(
                    sa.update(t)
                    .where(t.c.cycle_id == self.cycle_id, t.c.run_id == holder.run_id)
                    .values(acquired_at=now, **mine)
                )
        except sa.exc.IntegrityError:  # another run inserted the lease first: look again
            with self.engine.connect() as conn:
                return _holder(conn, self.cycle_id) or self._try_claim(run_is_over, on_dead)
        if on_dead is not None:
            on_dead(holder)
        return None

    def release(self, conn: Connection) -> None:
        """Inside the publication transaction: the cycle is free again."""
        t = ledger.cycle_leases
        conn.execute(sa.delete(t).where(t.c.cycle_id == self.cycle_id, t.c.run_id == self.run_id))


def _holder(conn: Connection, cycle_id: str, for_update: bool = False) -> Holder | None:
    t = ledger.cycle_leases
    query = sa.select(t).where(t.c.cycle_id == cycle_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    return Holder(
        row["run_id"],
        row["holder_host"],
        row["holder_pid"],
        row["acquired_at"],
        row["heartbeat_at"],
    )


def current_holder(engine: Engine, cycle_id: str) -> Holder | None:
    with engine.connect() as conn:
        return _holder(conn, cycle_id)
