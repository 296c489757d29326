"""HTTP export API client (SPEC 2.6) against a real local HTTP server with faults."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from tokenreview_pipeline.extract.http import (
    ExportApiError,
    export_source_name,
    iter_http_records,
    parse_retry_after,
)

try:
    from tests.http_server import ExportServer, Fault
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    from http_server import ExportServer, Fault  # type: ignore[no-redef]

TOKEN = "tok-SECRET-123456"
START = datetime(2026, 11, 16, tzinfo=timezone.utc)
END = datetime(2026, 11, 23, tzinfo=timezone.utc)
FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 2.0}


def rec(attempt_id: str, **extra: object) -> dict[str, object]:
    return {
        "attempt_id": attempt_id,
        "timestamp": "2026-11-18T02:00:00Z",
        "api_key_id": "key_a1",
        "model": "gpt-4o-mini",
        "endpoint": "/v1/chat/completions",
        **extra,
    }


PAGES: dict[str | None, dict[str, object]] = {
    None: {"data": [rec("a1"), rec("a2")], "next_cursor": "c2"},
    "c2": {"data": [rec("a3"), {"not": "valid"}, 5], "next_cursor": "c3"},
    "c3": {"data": [], "next_cursor": "c4"},
    "c4": {"data": [rec("a4")], "next_cursor": None},
}


def read(server: ExportServer, **kwargs: object) -> list:
    options = {"token": TOKEN, "start": START, "end": END, **FAST, **kwargs}
    return list(iter_http_records(server.url + "?tenant=t1", **options))  # type: ignore[arg-type]


def labels(records: list) -> list[object]:
    return [r.fields["attempt_id"] if r.fields else r.defect for r in records]


def test_pagination_params_and_token_header() -> None:
    with ExportServer(PAGES) as server:
        records = read(server)
    assert labels(records) == [
        "a1",
        "a2",
        "a3",
        "missing_field:attempt_id",
        "not_an_object",
        "a4",
    ]
    assert [(r.source_page, r.source_line) for r in records] == [
        (1, 1),
        (1, 2),
        (2, 1),
        (2, 2),
        (2, 3),
        (4, 1),
    ]
    assert {r.source_name for r in records} == {server.url}
    assert "?" not in records[0].source_name
    assert [req.query.get("cursor") for req in server.requests] == [None, ["c2"], ["c3"], ["c4"]]
    for req in server.requests:
        assert req.path == "/logs"
        assert req.query["start"] == ["2026-11-16T00:00:00Z"]
        assert req.query["end"] == ["2026-11-23T00:00:00Z"]
        assert req.query["tenant"] == ["t1"]
        assert req.headers["authorization"] == f"Bearer {TOKEN}"
    assert records[0].content_sha256 is not None


def test_no_token_no_header_and_offsets_converted_to_utc() -> None:
    tz = timezone(timedelta(hours=8))
    with ExportServer({None: {"data": [], "next_cursor": None}}) as server:
        read(server, token=None, start=datetime(2026, 11, 16, 8, tzinfo=tz))
    assert "authorization" not in server.requests[0].headers
    assert server.requests[0].query["start"] == ["2026-11-16T00:00:00Z"]


def test_bad_arguments_rejected_at_call_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        iter_http_records("http://127.0.0.1:9/x", token=None, start=datetime(2026, 1, 1), end=END)
    with pytest.raises(ValueError, match="export URL"):
        iter_http_records("ftp://h/x?key=abc", token=None, start=START, end=END)
    with pytest.raises(ValueError, match="max_tries"):
        iter_http_records("http://h/x", token=None, start=START, end=END, max_tries=0)


def test_429_with_retry_after_is_honoured(caplog: pytest.LogCaptureFixture) -> None:
    faults = [Fault.status_code(429, retry_after="1")]
    caplog.set_level(logging.WARNING, logger="tokenreview_pipeline.extract.http")
    with ExportServer(PAGES, faults=faults) as server:
        began = time.monotonic()
        records = read(server, backoff_max_s=5.0)
        elapsed = time.monotonic() - began
    assert labels(records)[0] == "a1"
    assert elapsed >= 0.95
    assert len(server.requests) == 5
    assert "HTTP 429" in caplog.text and "Retry-After" in caplog.text
    assert TOKEN not in caplog.text


def test_503_then_500_then_success() -> None:
    faults = [Fault.status_code(503), Fault.status_code(500)]
    with ExportServer(PAGES, faults=faults) as server:
        assert labels(read(server))[:2] == ["a1", "a2"]
    assert len(server.requests) == 6


def test_timeout_then_success() -> None:
    with ExportServer(PAGES, faults=[Fault.slow(1.5)]) as server:
        began = time.monotonic()
        records = read(server, timeout_s=0.2)
        elapsed = time.monotonic() - began
    assert labels(records)[0] == "a1"
    assert elapsed < 1.4


def test_dropped_connection_then_success() -> None:
    with ExportServer(PAGES, faults=[Fault.drop(), Fault.drop()]) as server:
        records = read(server)
    assert labels(records) == labels(read_plain())


def read_plain() -> list:
    with ExportServer(PAGES) as server:
        return read(server)


def test_gives_up_after_max_tries_with_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    faults = [Fault.status_code(503) for _ in range(3)]
    with ExportServer(PAGES, faults=faults) as server:
        with pytest.raises(ExportApiError) as info:
            read(server, max_tries=3)
    message = str(info.value)
    assert server.url in message
    assert "page 1" in message and "HTTP 503" in message and "3 tries" in message
    assert TOKEN not in message and "tenant" not in message and "start=" not in message
    assert len(server.requests) == 3
    assert TOKEN not in caplog.text


def test_gives_up_on_repeated_transport_errors() -> None:
    faults = [Fault.drop(), Fault.drop()]
    with ExportServer(PAGES, faults=faults) as server:
        with pytest.raises(ExportApiError, match=r"gave up after 2 tries.*RemoteProtocolError"):
            read(server, max_tries=2)


def test_connection_refused_gives_up() -> None:
    with ExportServer(PAGES) as server:
        url = server.url
    with pytest.raises(ExportApiError, match=r"ConnectError"):
        list(iter_http_records(url, token=TOKEN, start=START, end=END, max_tries=2, **FAST))


def test_401_fails_fast() -> None:
    faults = [Fault.body(b'{"error":"bad token tok-SECRET-123456"}', status=401)]
    with ExportServer(PAGES, faults=faults) as server:
        with pytest.raises(ExportApiError, match="HTTP 401") as info:
            read(server, max_tries=5)
    assert len(server.requests) == 1
    assert "not retried" in str(info.value)
    assert TOKEN not in str(info.value)


def test_404_on_later_page_fails_fast() -> None:
    pages = {None: {"data": [rec("a1")], "next_cursor": "gone"}}
    with ExportServer(pages) as server:
        iterator = iter_http_records(server.url, token=TOKEN, start=START, end=END, **FAST)
        first = next(iterator)
        assert first.fields is not None
        with pytest.raises(ExportApiError, match="page 2: HTTP 404"):
            next(iterator)


def test_page_served_twice_yields_duplicates() -> None:
    page = {"data": [rec("a1"), rec("a2")], "next_cursor": "c2"}
    pages = {None: page, "c2": {**page, "next_cursor": None}}
    with ExportServer(pages) as server:
        records = read(server)
    assert labels(records) == ["a1", "a2", "a1", "a2"]
    assert records[0].content_sha256 == records[2].content_sha256
    assert (records[2].source_page, records[2].source_line) == (2, 1)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"data": {}, "next_cursor": null}',
        b'{"records": [], "next_cursor": null}',
        b'{"data": []}',
        b'{"data": [], "next_cursor": 5}',
        b'{"data": [], "next_cursor": ""}',
    ],
)
def test_bad_page_shape(body: bytes) -> None:
    with ExportServer(PAGES, faults=[Fault.body(body)]) as server:
        with pytest.raises(ExportApiError, match="page 1"):
            read(server)
    assert len(server.requests) == 1


def test_cursor_loop_detected() -> None:
    pages = {
        None: {"data": [], "next_cursor": "c"},
        "c": {"data": [], "next_cursor": "c"},
    }
    with ExportServer(pages) as server:
        with pytest.raises(ExportApiError, match="pagination loop"):
            read(server)


def test_caller_supplied_client_is_used_and_not_closed() -> None:
    with ExportServer(PAGES) as server, httpx.Client() as client:
        records = list(
            iter_http_records(server.url, token=TOKEN, start=START, end=END, client=client, **FAST)
        )
        assert len(records) == 6
        assert not client.is_closed


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 18, 2, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=7), usegmt=True), now=now) == (
        7.0
    )
    assert parse_retry_after("Wed, 18 Nov 2026 01:00:00 GMT", now=now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5", now=now) == 0.0
    assert parse_retry_after("nan", now=now) is None


def test_export_source_name_has_no_query_or_credentials() -> None:
    assert export_source_name("https://u:pw@Logs.Example.com:8443/v1/export?key=abc#x") == (
        "https://logs.example.com:8443/v1/export"
    )
    assert export_source_name("http://[::1]:8080/logs?x=1") == "http://[::1]:8080/logs"


def test_a_trickling_server_is_cut_off_at_the_page_deadline_then_retried() -> None:
    # 100,000 bytes at one byte per 0.2 s would take hours; the deadline is per fetch.
    with ExportServer(PAGES, faults=[Fault.trickle(0.2)]) as server:
        began = time.monotonic()
        records = read(server, timeout_s=1.0)
        elapsed = time.monotonic() - began
    assert labels(records) == labels(read_plain())
    assert len(server.requests) == 5  # the trickled try, then the four pages
    assert elapsed < 30  # bounded by the deadline (+ one read), not by the server


def test_a_page_over_the_size_cap_fails_at_once() -> None:
    big = {None: {"data": [rec(f"a{i}") for i in range(100)], "next_cursor": None}}
    with ExportServer(big) as server:
        with pytest.raises(ExportApiError) as info:
            read(server, max_page_bytes=2048)
    assert "size cap of 2,048 bytes" in str(info.value) and "not retried" in str(info.value)
    assert len(server.requests) == 1
