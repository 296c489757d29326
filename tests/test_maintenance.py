from __future__ import annotations

import textwrap
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml_bombs import list_bomb, mapping_bomb

from tokenreview_pipeline.errors import ConfigError
from tokenreview_pipeline.maintenance import (
    AbsoluteWindow,
    RecurringWindow,
    containing_window,
    expand_windows,
    load_maintenance_windows,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "maintenance_windows.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def daily(start: str, end: str, zone: str, url: str | None = None) -> RecurringWindow:
    return RecurringWindow("daily", time.fromisoformat(start), time.fromisoformat(end), zone, url)


SPEC_FILE = """
windows:
  - {start: "2026-11-18T02:00:00Z", end: "2026-11-18T04:00:00Z", source_url: "https://status.example.com/x"}
  - recurring: daily
    start_time: "01:00"
    end_time: "05:00"
    timezone: "Asia/Shanghai"
    source_url: "https://status.example.com/daily"
  - start: 2026-11-19T10:00:00+08:00
    end: "2026-11-19T11:30:00+08:00"
  - {recurring: daily, start_time: "23:00", end_time: "01:00", timezone: UTC}
"""


def test_load_spec_examples(tmp_path: Path) -> None:
    windows = load_maintenance_windows(write(tmp_path, SPEC_FILE))
    assert windows == [
        AbsoluteWindow(utc(2026, 11, 18, 2), utc(2026, 11, 18, 4), "https://status.example.com/x"),
        RecurringWindow(
            "daily", time(1, 0), time(5, 0), "Asia/Shanghai", "https://status.example.com/daily"
        ),
        AbsoluteWindow(utc(2026, 11, 19, 2), utc(2026, 11, 19, 3, 30), None),  # YAML datetime ok
        RecurringWindow("daily", time(23, 0), time(1, 0), "UTC", None),
    ]
    assert windows[0].start.tzinfo is timezone.utc


def test_absolute_window_is_half_open() -> None:
    w = AbsoluteWindow(utc(2026, 11, 18, 2), utc(2026, 11, 18, 4), "u")
    assert containing_window([w], utc(2026, 11, 18, 2)) is w
    assert containing_window([w], utc(2026, 11, 18, 3, 59, 59, 999999)) is w
    assert containing_window([w], utc(2026, 11, 18, 4)) is None
    assert containing_window([w], utc(2026, 11, 18, 1, 59, 59)) is None
    assert expand_windows([w], utc(2026, 11, 18, 4), utc(2026, 11, 19)) == []  # touching only
    assert expand_windows([w], utc(2026, 11, 18, 3), utc(2026, 11, 18, 3, 1)) == [
        (w.start, w.end, "u")  # not clipped
    ]


def test_recurring_shanghai() -> None:
    w = daily("01:00", "05:00", "Asia/Shanghai", "https://s")
    got = expand_windows([w], utc(2026, 11, 16), utc(2026, 11, 18))
    # local 01:00-05:00 (+08:00) = 17:00-21:00 UTC the day before
    assert got == [
        (utc(2026, 11, 16, 17), utc(2026, 11, 16, 21), "https://s"),
        (utc(2026, 11, 17, 17), utc(2026, 11, 17, 21), "https://s"),
    ]
    # half-open in local time: 01:00 local is in, 05:00 local is out
    assert containing_window([w], utc(2026, 11, 16, 17)) is w
    assert containing_window([w], utc(2026, 11, 16, 20, 59, 59)) is w
    assert containing_window([w], utc(2026, 11, 16, 21)) is None
    assert containing_window([w], utc(2026, 11, 16, 16, 59, 59)) is None


def test_recurring_crossing_midnight() -> None:
    w = daily("23:00", "01:30", "Asia/Shanghai")
    got = expand_windows([w], utc(2026, 11, 17), utc(2026, 11, 18))
    # local 23:00 -> next day 01:30 (+08:00) = 15:00 -> 17:30 UTC
    assert got == [(utc(2026, 11, 17, 15), utc(2026, 11, 17, 17, 30), None)]
    assert containing_window([w], datetime(2026, 11, 17, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert containing_window([w], datetime(2026, 11, 18, 1, 29, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert not containing_window(
        [w], datetime(2026, 11, 18, 1, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    assert not containing_window(
        [w], datetime(2026, 11, 17, 22, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    )


def test_recurring_window_touching_range_edges_included_when_overlapping() -> None:
    w = daily("23:00", "01:00", "UTC")
    got = expand_windows([w], utc(2026, 11, 18), utc(2026, 11, 18, 0, 30))
    assert got == [(utc(2026, 11, 17, 23), utc(2026, 11, 18, 1), None)]


def test_equal_times_cover_the_whole_day() -> None:
    w = daily("06:00", "06:00", "UTC")
    got = expand_windows([w], utc(2026, 11, 18), utc(2026, 11, 19))
    assert got == [
        (utc(2026, 11, 17, 6), utc(2026, 11, 18, 6), None),
        (utc(2026, 11, 18, 6), utc(2026, 11, 19, 6), None),
    ]
    assert containing_window([w], utc(2026, 11, 18, 5, 59)) is w


BERLIN = ZoneInfo("Europe/Berlin")


def test_berlin_spring_forward_2026_03_29() -> None:
    w = daily("01:00", "05:00", "Europe/Berlin")
    got = expand_windows([w], utc(2026, 3, 28, 12), utc(2026, 3, 30, 12))
    assert got == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 3), None),  # 01:00 CET -> 05:00 CEST: 3 hours
        (utc(2026, 3, 29, 23), utc(2026, 3, 30, 3), None),  # next day all CEST
    ]


def test_berlin_fall_back_2026_10_25() -> None:
    w = daily("01:00", "05:00", "Europe/Berlin")
    got = expand_windows([w], utc(2026, 10, 24, 12), utc(2026, 10, 26, 12))
    assert got == [
        (utc(2026, 10, 24, 23), utc(2026, 10, 25, 4), None),  # 01:00 CEST -> 05:00 CET: 5 hours
        (utc(2026, 10, 26, 0), utc(2026, 10, 26, 4), None),  # all CET
    ]


def test_berlin_boundary_inside_spring_forward_gap() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin (02:00 CET -> 03:00 CEST at 01:00 UTC).
    # Wall-clock semantics: the window starts when the clock jumps past 02:30.
    starts_in_gap = daily("02:30", "04:00", "Europe/Berlin")
    assert expand_windows([starts_in_gap], utc(2026, 3, 29), utc(2026, 3, 29, 12)) == [
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2), None)
    ]
    ends_in_gap = daily("01:00", "02:30", "Europe/Berlin")
    assert expand_windows([ends_in_gap], utc(2026, 3, 29), utc(2026, 3, 29, 12)) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 1), None)
    ]
    # a window entirely inside the gap never happens that day
    in_gap = daily("02:00", "03:00", "Europe/Berlin")
    assert expand_windows([in_gap], utc(2026, 3, 29), utc(2026, 3, 29, 12)) == []


def test_berlin_repeated_hour_is_covered_both_times() -> None:
    # On 2026-10-25 local 02:00-03:00 happens twice (CEST, then CET).
    w = daily("01:00", "02:30", "Europe/Berlin")
    got = expand_windows([w], utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert got == [
        (utc(2026, 10, 24, 23), utc(2026, 10, 25, 0, 30), None),  # 01:00-02:30 CEST
        (utc(2026, 10, 25, 1), utc(2026, 10, 25, 1, 30), None),  # 02:00-02:30 CET again
    ]
    inside_second_time = utc(2026, 10, 25, 1, 15)  # 02:15 CET
    assert inside_second_time.astimezone(BERLIN).strftime("%H:%M %Z") == "02:15 CET"
    assert containing_window([w], inside_second_time) is w
    assert containing_window([w], utc(2026, 10, 25, 0, 45)) is None  # 02:45 CEST


@settings(max_examples=150, deadline=None)
@given(
    start_minute=st.integers(0, 24 * 60 - 1),
    end_minute=st.integers(0, 24 * 60 - 1),
    zone=st.sampled_from(
        ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai", "UTC"]
    ),
    offset_minutes=st.integers(0, 60 * 24 * 400),
    probe_minutes=st.integers(0, 60 * 24 * 3 - 1),  # inside [start, end)
)
def test_expansion_agrees_with_wall_clock_membership(
    start_minute: int, end_minute: int, zone: str, offset_minutes: int, probe_minutes: int
) -> None:
    w = RecurringWindow(
        "daily",
        time(start_minute // 60, start_minute % 60),
        time(end_minute // 60, end_minute % 60),
        zone,
        None,
    )
    start = utc(2025, 9, 1) + timedelta(minutes=offset_minutes)
    end = start + timedelta(days=3)
    intervals = expand_windows([w], start, end)
    probe = start + timedelta(minutes=probe_minutes, seconds=17)
    in_expansion = any(s <= probe < e for s, e, _ in intervals)
    assert in_expansion == (containing_window([w], probe) is w)
    assert all(s < e and s < end and e > start for s, e, _ in intervals)
    assert intervals == sorted(intervals, key=lambda item: (item[0], item[1]))


def test_mixed_windows_sorted_by_start() -> None:
    a = AbsoluteWindow(utc(2026, 11, 18, 2), utc(2026, 11, 18, 4), "abs")
    r = daily("01:00", "05:00", "Asia/Shanghai", "rec")
    got = expand_windows([a, r], utc(2026, 11, 17, 12), utc(2026, 11, 18, 12))
    assert got == [
        (utc(2026, 11, 17, 17), utc(2026, 11, 17, 21), "rec"),
        (utc(2026, 11, 18, 2), utc(2026, 11, 18, 4), "abs"),
    ]
    assert containing_window([a, r], utc(2026, 11, 18, 3)) is a


def test_naive_range_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        expand_windows([], datetime(2026, 1, 1), utc(2026, 1, 2))
    with pytest.raises(ValueError, match="timezone-aware"):
        containing_window([], datetime(2026, 1, 1))
    assert expand_windows([daily("01:00", "02:00", "UTC")], utc(2026, 1, 2), utc(2026, 1, 1)) == []


S = 'start: "2026-11-18T02:00:00Z"'
E = 'end: "2026-11-18T04:00:00Z"'
R = 'recurring: daily, start_time: "01:00", end_time: "02:00"'


@pytest.mark.parametrize(
    ("item", "key", "fragment"),
    [
        (f'start: "2026-11-18T02:00:00", {E}', "start", "no UTC offset"),
        (f"{S}, end: 2026-11-18 04:00:00", "end", "no UTC offset"),  # YAML naive datetime
        (f'{S}, end: "2026-11-18T02:00:00Z"', "end", "must be after start"),
        (f'{S}, end: "2026-11-18T03:00:00+02:00"', "end", "must be after start"),
        (f'start: "yesterday", {E}', "start", "invalid timestamp"),
        (f"start: 2026-11-18, {E}", "start", "got a date"),
        (f"start: 5, {E}", "start", "expected an ISO 8601 timestamp"),
        (E, "start", "required"),
        (f"{S}, {E}, url: x", "url", "unknown key"),
        (f"{S}, {E}, source_url: 5", "source_url", "expected a URL"),
        (f"{R.replace('daily', 'weekly')}, timezone: UTC", "recurring", "expected 'daily'"),
        (f"{R.replace('01:00', '1:00')}, timezone: UTC", "start_time", "HH:MM"),
        (
            'recurring: daily, start_time: 12:30, end_time: "13:00", timezone: UTC',
            "start_time",
            "quoted",
        ),
        (f"{R.replace('02:00', '24:00')}, timezone: UTC", "end_time", "HH:MM"),
        (f"{R.replace('02:00', '2:00 pm')}, timezone: UTC", "end_time", "HH:MM"),
        (f"{R}, timezone: Mars/Olympus", "timezone", "unknown time zone"),
        (f'{R}, timezone: "../etc/passwd"', "timezone", "unknown time zone"),
        (f"{R}, timezone: 8", "timezone", "expected an IANA time zone"),
        (R, "timezone", "required"),
        (f"{R}, timezone: UTC, {S}", "start", "unknown key"),
        (f'start: "9999-12-31T23:30:00-01:00", {E}', "start", "out of range"),
        (f"{S}, {E}, description: [a]", "description", "expected a string"),
        (f"{R.replace('daily', 'null')}, timezone: UTC", "recurring", "expected 'daily', got null"),
        (f"{R}, timezone: {'x' * 5000}", "timezone", "unknown time zone"),
        (f"{R}, timezone: {'[' * 3}a{']' * 3}", "timezone", "expected an IANA time zone"),
    ],
)
def test_validation_errors(tmp_path: Path, item: str, key: str, fragment: str) -> None:
    ok = f"{{{R}, timezone: UTC}}"
    path = write(tmp_path, f"windows:\n  - {ok}\n  - {{{item}}}\n")
    with pytest.raises(ConfigError) as info:
        load_maintenance_windows(path)
    assert info.value.key == f"windows[1].{key}"
    assert fragment in info.value.message
    assert str(info.value).startswith(f"{path}: windows[1].{key}: ")
    assert len(info.value.message) < 200


def test_window_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_maintenance_windows(write(tmp_path, "windows:\n  - 5\n"))
    assert (info.value.key, info.value.message) == (
        "windows[0]",
        "expected a mapping, got an integer",
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "(document)"),
        ("window: []\n", "window"),
        ("{}\n", "windows"),
        ("windows: {a: 1}\n", "windows"),
        ("windows: [\n", "(file)"),
    ],
)
def test_document_errors(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_maintenance_windows(write(tmp_path, text))
    assert info.value.key == key


def test_empty_and_missing(tmp_path: Path) -> None:
    assert load_maintenance_windows(write(tmp_path, "windows: []\n")) == []
    assert load_maintenance_windows(write(tmp_path, "windows:\n")) == []
    with pytest.raises(ConfigError, match="file not found"):
        load_maintenance_windows(tmp_path / "nope.yaml")


def test_yaml_bomb_in_a_window_is_a_short_error(tmp_path: Path) -> None:
    for item, key in (
        (f"{{{R}, timezone: {list_bomb()}}}", "windows[0].timezone"),
        (f"{{{S}, end: {mapping_bomb()}}}", "windows[0].end"),
        (list_bomb(), "windows[0]"),
    ):
        path = write(tmp_path, f"windows:\n  - {item}\n")
        with pytest.raises(ConfigError) as info:
            load_maintenance_windows(path)
        assert info.value.key == key
        assert len(str(info.value)) < len(str(path)) + 200


def test_description_is_accepted_and_not_kept(tmp_path: Path) -> None:
    windows = load_maintenance_windows(
        write(tmp_path, f"windows:\n  - {{{R}, timezone: UTC, description: nightly}}\n")
    )
    assert windows == [RecurringWindow("daily", time(1, 0), time(2, 0), "UTC", None)]
