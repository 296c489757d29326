"""The generated sample's time line: its three cycles, maintenance windows and traffic rhythm.

Times are integer milliseconds since the Unix epoch, UTC. The cycle arithmetic is
``tokenreview_pipeline.cycles``; this module only places traffic on it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from tokenreview_pipeline.cycles import next_cycle_start, parse_cycle, previous_cycle_start

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# The recurring maintenance window: 23:30-00:30 Asia/Shanghai (UTC+8, no DST).
SHANGHAI_OFFSET_MS = 8 * HOUR_MS
RECURRING_START_MS = 23 * HOUR_MS + 30 * MINUTE_MS  # local time of day
RECURRING_END_MS = 30 * MINUTE_MS

# Traffic before and after the main cycle (in the previous and the next cycle).
_MARGIN_MS = {"daily": 3 * HOUR_MS, "weekly": DAY_MS, "monthly": 2 * DAY_MS}


def epoch_ms(d: date) -> int:
    return (d.toordinal() - EPOCH_ORDINAL) * DAY_MS


_DAY_CACHE: dict[int, str] = {}


def day_str(day: int) -> str:
    """``YYYY-MM-DD`` of a day number (days since the epoch)."""
    s = _DAY_CACHE.get(day)
    if s is None:
        s = date.fromordinal(day + EPOCH_ORDINAL).isoformat()
        _DAY_CACHE[day] = s
    return s


@dataclass(frozen=True, slots=True)
class Timeline:
    cadence: str
    cycle_starts: tuple[date, date, date]  # previous, main and next cycle
    start_ms: int  # the main cycle, [start_ms, end_ms)
    end_ms: int
    cycle_days: int
    span: tuple[int, int]  # all traffic, [lo, hi)
    maintenance: tuple[int, int]  # the absolute maintenance window, [start, end)

    @classmethod
    def for_cycle(cls, cycle_start: date, cadence: str) -> Timeline:
        """Raises ``CycleError`` (naming the nearest cycle start) unless ``cycle_start`` is
        a cycle start for ``cadence``."""
        parse_cycle(cycle_start.isoformat(), cadence)
        nxt = next_cycle_start(cycle_start, cadence)
        start, end = epoch_ms(cycle_start), epoch_ms(nxt)
        cycle_days = (nxt - cycle_start).days
        margin = _MARGIN_MS[cadence]
        # An absolute window inside the main cycle (two hours on day 3; daily: one hour).
        if cadence == "daily":
            ws = start + (cycle_days * 24 * 3 // 10) * HOUR_MS
            maintenance = (ws, ws + HOUR_MS)
        else:
            ws = start + 2 * DAY_MS + 2 * HOUR_MS
            maintenance = (ws, ws + 2 * HOUR_MS)
        return cls(
            cadence=cadence,
            cycle_starts=(previous_cycle_start(cycle_start, cadence), cycle_start, nxt),
            start_ms=start,
            end_ms=end,
            cycle_days=cycle_days,
            span=(start - margin, end + margin),
            maintenance=maintenance,
        )

    def in_maintenance(self, ts: int) -> bool:
        if self.maintenance[0] <= ts < self.maintenance[1]:
            return True
        tod = (ts + SHANGHAI_OFFSET_MS) % DAY_MS  # Asia/Shanghai wall clock
        return tod >= RECURRING_START_MS or tod < RECURRING_END_MS

    def arrival_inverse(self) -> Callable[[float], int]:
        """Inverse CDF over the span with a diurnal and weekly rhythm, lighter margins:
        maps [0, 1) to a timestamp."""
        lo, hi = self.span
        starts, cum, total = [], [], 0.0
        t = lo
        while t < hi:
            day, rem = divmod(t, DAY_MS)
            hour = rem // HOUR_MS
            weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
            w = 0.3 + math.exp(-(((hour - 13) / 4.5) ** 2))
            if weekday >= 5:
                w *= 0.45
            if t < self.start_ms or t >= self.end_ms:
                w *= 0.5
            width = min(HOUR_MS, hi - t)
            total += w * width / HOUR_MS
            starts.append((t, width, w * width / HOUR_MS))
            cum.append(total)
            t += width

        def inverse(x: float) -> int:
            target = x * total
            i = min(bisect.bisect_right(cum, target), len(cum) - 1)
            t_start, width, mass = starts[i]
            before = cum[i] - mass
            frac = (target - before) / mass if mass > 0 else 0.0
            return t_start + min(width - 1, max(0, int(frac * width)))

        return inverse
