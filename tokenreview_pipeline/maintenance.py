"""Maintenance windows (SPEC 2.4): when a failed attempt is the platform's planned downtime.

Two kinds of window, both half-open:

* absolute ``{start, end, source_url}``: ``[start, end)``, timestamps with an offset;
* recurring ``{recurring: daily, start_time, end_time, timezone, source_url}``:
  every day, ``[start_time, end_time)`` in the wall-clock time of the IANA zone;
  an ``end_time`` at or before ``start_time`` crosses midnight (equal times: the
  whole day).

Recurring windows are defined on *local wall-clock time*: an instant is inside
when its local time of day in the zone is in ``[start_time, end_time)``. Daylight
saving time is handled exactly under that definition, by converting through the
zone's actual UTC offsets rather than by converting the two boundary times:

* a boundary that falls in a DST gap (a local time that never happens, e.g.
  02:30 on the spring-forward day in Europe/Berlin) is effectively the moment
  the clock jumps -- no instant whose local time is outside the window is
  covered;
* a local time that happens twice (fall-back) is covered both times it happens,
  so one local day can expand to two UTC intervals.

Apart from boundaries inside a gap/fold this is the same as converting
``start_time`` and ``end_time`` with ``fold=0``. :func:`containing_window` is the
direct membership test and agrees with :func:`expand_windows`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import PlainValidator, model_validator

from tokenreview_pipeline.errors import describe, load_yaml_file, shown
from tokenreview_pipeline.isotime import parse_datetime
from tokenreview_pipeline.schema import (
    FileModel,
    OptionalText,
    invalid,
    null_as,
    one_of,
    validate_document,
)

__all__ = [
    "AbsoluteWindow",
    "RecurringWindow",
    "Window",
    "containing_window",
    "expand_windows",
    "load_maintenance_windows",
]

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True)
class AbsoluteWindow:
    start: datetime  # tz-aware, UTC
    end: datetime  # tz-aware, UTC, > start
    source_url: str | None


@dataclass(frozen=True)
class RecurringWindow:
    recurring: str  # 'daily'
    start_time: time
    end_time: time
    timezone: str
    source_url: str | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def crosses_midnight(self) -> bool:
        return self.end_time <= self.start_time


Window = AbsoluteWindow | RecurringWindow


# ------------------------------------------------------------------------- loading


def _aware_timestamp(value: object) -> datetime:
    if isinstance(value, datetime):
        parsed = value  # YAML already parsed an unquoted timestamp
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            raise invalid(
                f"invalid timestamp {shown(value)}; expected ISO 8601 with an offset or Z"
            ) from None
    elif isinstance(value, date):
        raise invalid("expected a timestamp with a time and an offset, got a date")
    else:
        raise invalid(f"expected an ISO 8601 timestamp, got {describe(value)}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise invalid("timestamp has no UTC offset; add 'Z' or e.g. '+08:00'")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise invalid("timestamp out of range") from None


def _hhmm(value: object) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads unquoted 12:30 as the base-60 integer 750.
        raise invalid('expected a quoted "HH:MM" string (YAML reads unquoted 12:30 as a number)')
    if not isinstance(value, str) or not _HHMM.match(value.strip()):
        got = shown(value) if isinstance(value, str) else describe(value)
        raise invalid(f'expected "HH:MM" (00:00 to 23:59), got {got}')
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


def _zone_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"expected an IANA time zone name, got {describe(value)}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise invalid(
            f"unknown time zone {shown(value)}; expected an IANA name such as Asia/Shanghai"
        ) from None
    return value


def _url_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"expected a URL string, got {describe(value)}")
    return value


_Timestamp = Annotated[datetime, PlainValidator(_aware_timestamp)]
_SourceUrl = Annotated[str, PlainValidator(_url_text)]


class _AbsoluteWindowModel(FileModel):
    start: _Timestamp
    end: _Timestamp
    source_url: _SourceUrl | None = None
    description: OptionalText = None

    @model_validator(mode="after")
    def _end_after_start(self) -> _AbsoluteWindowModel:
        if self.end <= self.start:
            raise invalid("must be after start", "end")
        return self

    def window(self) -> AbsoluteWindow:
        return AbsoluteWindow(start=self.start, end=self.end, source_url=self.source_url)


class _RecurringWindowModel(FileModel):
    recurring: Literal["daily"]
    start_time: Annotated[time, PlainValidator(_hhmm)]
    end_time: Annotated[time, PlainValidator(_hhmm)]
    timezone: Annotated[str, PlainValidator(_zone_name)]
    source_url: _SourceUrl | None = None
    description: OptionalText = None

    def window(self) -> RecurringWindow:
        return RecurringWindow(
            recurring=self.recurring,
            start_time=self.start_time,
            end_time=self.end_time,
            timezone=self.timezone,
            source_url=self.source_url,
        )


def _window_model(raw: dict[Any, Any]) -> type[_AbsoluteWindowModel | _RecurringWindowModel]:
    return _RecurringWindowModel if "recurring" in raw else _AbsoluteWindowModel


class _WindowsFile(FileModel):
    key_kind: ClassVar[str] = "top-level key"

    windows: Annotated[
        list[Annotated[_AbsoluteWindowModel | _RecurringWindowModel, one_of(_window_model)]],
        null_as([]),
    ]


def load_maintenance_windows(path: str | os.PathLike[str]) -> list[Window]:
    """Read ``maintenance_windows.yaml`` (top-level ``windows``), in file order.

    Raises ``ConfigError`` naming the file and the key (``windows[1].timezone``).
    """
    doc = validate_document(_WindowsFile, load_yaml_file(path), path)
    return [model.window() for model in doc.windows]


# ----------------------------------------------------------------- wall-clock maths

_SAMPLE_STEP = timedelta(hours=1)
_MIN_UTC = datetime.min.replace(tzinfo=timezone.utc)
_MAX_UTC = datetime.max.replace(tzinfo=timezone.utc)

# (segment start, segment end, UTC offset in force); segments tile the time line.
Segment = tuple[datetime, datetime, timedelta]


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _offset_segments(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[Segment]:
    """The zone's constant-offset stretches over ``[lo, hi]``, extended to +-infinity.

    Transitions are found by sampling hourly and bisecting to the second (tz
    transitions fall on whole seconds). Two transitions less than an hour apart
    that cancel out would be missed; no zone has those.
    """
    lo = lo.replace(microsecond=0)  # whole seconds, so bisection lands on the transition
    hi = hi.replace(microsecond=0) + timedelta(seconds=1)
    boundaries: list[tuple[datetime, timedelta]] = []  # (transition instant, new offset)
    prev_t, prev_off = lo, _offset(zone, lo)
    first_off = prev_off
    t = lo
    while t < hi:
        t = min(t + _SAMPLE_STEP, hi)
        off = _offset(zone, t)
        if off != prev_off:
            a, b = prev_t, t  # offset(a) == prev_off, offset(b) != prev_off
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) / 2
                mid = mid.replace(microsecond=0)
                if mid <= a:
                    mid = a + timedelta(seconds=1)
                if _offset(zone, mid) == prev_off:
                    a = mid
                else:
                    b = mid
            boundaries.append((b, _offset(zone, b)))
            prev_off = _offset(zone, b)
            # re-sample from the transition, in case of another one before t
            prev_t = b
            t = b
            continue
        prev_t, prev_off = t, off
    segments: list[Segment] = []
    seg_start, seg_off = _MIN_UTC, first_off
    for instant, new_off in boundaries:
        segments.append((seg_start, instant, seg_off))
        seg_start, seg_off = instant, new_off
    segments.append((seg_start, _MAX_UTC, seg_off))
    return segments


def _local_to_utc_intervals(
    local_start: datetime, local_end: datetime, segments: Sequence[Segment]
) -> list[tuple[datetime, datetime]]:
    """The instants whose local wall-clock time lies in ``[local_start, local_end)``.

    ``local_start``/``local_end`` are naive wall-clock datetimes. Returns disjoint
    UTC intervals in time order (adjacent pieces merged).
    """
    a = local_start.replace(tzinfo=timezone.utc)
    b = local_end.replace(tzinfo=timezone.utc)
    pieces: list[tuple[datetime, datetime]] = []
    for seg_start, seg_end, off in segments:
        lo = max(seg_start, a - off)
        hi = min(seg_end, b - off)
        if lo < hi:
            if pieces and pieces[-1][1] == lo:
                pieces[-1] = (pieces[-1][0], hi)
            else:
                pieces.append((lo, hi))
    return pieces


def _expand_recurring(
    window: RecurringWindow, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    zone = window.zone
    # Any interval that meets [start, end) lies within two days of it.
    segments = _offset_segments(zone, start - timedelta(days=3), end + timedelta(days=3))
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    out: list[tuple[datetime, datetime]] = []
    day = first_day
    while day <= last_day:
        end_day = day + timedelta(days=1) if window.crosses_midnight else day
        local_start = datetime.combine(day, window.start_time)
        local_end = datetime.combine(end_day, window.end_time)
        for s, e in _local_to_utc_intervals(local_start, local_end, segments):
            if s < end and e > start:
                out.append((s, e))
        day += timedelta(days=1)
    return out


def _require_aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(timezone.utc)


def expand_windows(
    windows: Iterable[Window], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str | None]]:
    """Every concrete UTC interval ``[s, e)`` of ``windows`` that meets ``[start, end)``.

    Intervals are not clipped to ``[start, end)``. Each is
    ``(s, e, source_url)``, sorted by start (then end). ``start``/``end`` must be
    timezone-aware.
    """
    start = _require_aware("start", start)
    end = _require_aware("end", end)
    result: list[tuple[datetime, datetime, str | None]] = []
    if end <= start:
        return result
    for window in windows:
        if isinstance(window, AbsoluteWindow):
            if window.start < end and window.end > start:
                result.append((window.start, window.end, window.source_url))
        elif isinstance(window, RecurringWindow):
            for s, e in _expand_recurring(window, start, end):
                result.append((s, e, window.source_url))
        else:  # pragma: no cover - defensive
            raise TypeError(f"not a maintenance window: {window!r}")
    result.sort(key=lambda item: (item[0], item[1]))
    return result


def _recurring_contains(window: RecurringWindow, instant: datetime) -> bool:
    local = instant.astimezone(window.zone).time().replace(tzinfo=None, fold=0)
    if window.end_time > window.start_time:
        return window.start_time <= local < window.end_time
    return local >= window.start_time or local < window.end_time


def containing_window(windows: Iterable[Window], instant: datetime) -> Window | None:
    """The first window (file order) that contains ``instant`` (tz-aware), or ``None``."""
    instant = _require_aware("instant", instant)
    for window in windows:
        if isinstance(window, AbsoluteWindow):
            if window.start <= instant < window.end:
                return window
        elif _recurring_contains(window, instant):
            return window
    return None
