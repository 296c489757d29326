"""Review cycles (SPEC 1): UTC time windows that are Dagster partitions.

``cycle_id`` is the cycle's first day (``YYYY-MM-DD``) and the partition key.
Weekly cycles start on Monday 00:00 UTC (Dagster's weekly partitions start on
Sunday unless given ``day_offset=1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import dagster as dg

from tokenreview_pipeline.isotime import parse_date


class CycleError(ValueError):
    pass


@dataclass(frozen=True)
class Cycle:
    cycle_id: str
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC

    def read_window(self, retry_span_s: int) -> tuple[datetime, datetime]:
        """Attempts read for this cycle: ``[start - retry_span_s, end + retry_span_s)``."""
        span = timedelta(seconds=retry_span_s)
        return self.start - span, self.end + span


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=timezone.utc)


def cycle_start_for(day: date, cadence: str) -> date:
    """The start of the cycle that holds ``day``."""
    if cadence == "daily":
        return day
    if cadence == "weekly":
        return day - timedelta(days=day.weekday())
    if cadence == "monthly":
        return day.replace(day=1)
    raise CycleError(f"unknown cadence {cadence!r}")


def next_cycle_start(start: date, cadence: str) -> date:
    if cadence == "daily":
        return start + timedelta(days=1)
    if cadence == "weekly":
        return start + timedelta(days=7)
    if start.month == 12:
        return date(start.year + 1, 1, 1)
    return date(start.year, start.month + 1, 1)


def previous_cycle_start(start: date, cadence: str) -> date:
    """The start of the cycle just before the one that starts on ``start``."""
    return cycle_start_for(start - timedelta(days=1), cadence)


def parse_cycle(cycle_id: str, cadence: str) -> Cycle:
    """Validate a ``--cycle`` value; a day that is not a cycle start names the nearest one."""
    try:
        day = parse_date(cycle_id)
    except (TypeError, ValueError):
        raise CycleError(f"cycle {cycle_id!r} is not a date YYYY-MM-DD") from None
    start = cycle_start_for(day, cadence)
    if start != day:
        following = next_cycle_start(start, cadence)
        nearest = start if (day - start) <= (following - day) else following
        kind = {"weekly": "a Monday", "monthly": "the first day of a month"}.get(cadence, "")
        raise CycleError(
            f"cycle {cycle_id} is not a {cadence} cycle start ({kind}); "
            f"the nearest cycle start is {nearest.isoformat()}"
        )
    return Cycle(
        cycle_id=day.isoformat(),
        start=_midnight(day),
        end=_midnight(next_cycle_start(day, cadence)),
    )


def latest_complete_cycle(cadence: str, today: date) -> Cycle:
    """The newest cycle that ended on or before ``today`` 00:00 UTC."""
    current = cycle_start_for(today, cadence)
    previous = cycle_start_for(current - timedelta(days=1), cadence)
    return parse_cycle(previous.isoformat(), cadence)


def partitions_def(cadence: str, first_cycle: date) -> dg.TimeWindowPartitionsDefinition:
    start = cycle_start_for(first_cycle, cadence).isoformat()
    if cadence == "daily":
        return dg.DailyPartitionsDefinition(start_date=start, timezone="UTC")
    if cadence == "weekly":
        return dg.WeeklyPartitionsDefinition(start_date=start, day_offset=1, timezone="UTC")
    if cadence == "monthly":
        return dg.MonthlyPartitionsDefinition(start_date=start, timezone="UTC")
    raise CycleError(f"unknown cadence {cadence!r}")
