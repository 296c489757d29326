"""SPEC 4.3: retry causes, each rule on its own and the precedence between rules.

Every case is one logical request on the request_id path (request_id = case name),
so cases never interfere. A case is a list of attempts; the retry cause asserted is
the one of the last attempt, which reads p = the attempt before it (never f).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from scenario import attempt, by, rows, run, write_scenario

from tokenreview_pipeline.isotime import parse_datetime

CAUSES = (
    "client_handling",
    "platform_response",
    "timeout",
    "scheduled_maintenance",
    "unfamiliar_request_source",
    "unknown",
)


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> str:
    """A timestamp on 2026-11-(16 + day), UTC, written with ``Z``."""
    moment = datetime(2026, 11, 16, tzinfo=timezone.utc) + timedelta(
        days=day, hours=hh, minutes=mm, seconds=ss
    )
    return moment.isoformat().replace("+00:00", "Z")


def plus(when: str, seconds: int) -> str:
    moment = parse_datetime(when) + timedelta(seconds=seconds)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class Cases:
    """Builds request_id-path cases and remembers the expected cause of each retry."""

    def __init__(self) -> None:
        self.records: list[dict] = []
        self.expected: dict[str, str | None] = {}
        self._slot = 0

    def _next_time(self) -> str:
        # Cases without an explicit time sit on 2026-11-16 08:00-12:00 UTC
        # (16:00-20:00 in Asia/Shanghai), outside every maintenance window used here.
        when = at(0, 8, 0, 0)
        when = plus(when, self._slot * 90)
        self._slot += 1
        return when

    def add(
        self,
        name: str,
        steps: list[dict],
        expected: str,
        *,
        gap_s: int = 30,
    ) -> None:
        """``steps``: per-attempt field overrides, first attempt first. The last
        attempt's expected cause is ``expected``."""
        when = self._next_time()
        for i, fields in enumerate(steps):
            attempt_id = f"{name}#{i}"
            record_fields = {"request_id": name, **fields}
            if "timestamp" in record_fields:
                when = record_fields.pop("timestamp")
            self.records.append(attempt(attempt_id, when, **record_fields))
            when = plus(when, gap_s)
        self.expected[f"{name}#0"] = None
        self.expected[f"{name}#{len(steps) - 1}"] = expected

    def pair(self, name: str, prev: dict, expected: str, **kwargs) -> None:
        """f = p with ``prev`` fields, then the retry k (status 200)."""
        self.add(name, [prev, {}], expected, **kwargs)


def assert_causes(db_url: str, cases: Cases) -> dict[str, dict]:
    got = by(rows(db_url, "request_attempts"), "attempt_id")
    assert set(got) == {r["attempt_id"] for r in cases.records}
    mismatches = {
        attempt_id: (got[attempt_id]["retry_cause"], want)
        for attempt_id, want in cases.expected.items()
        if got[attempt_id]["retry_cause"] != want
    }
    assert mismatches == {}, mismatches
    for attempt_id, want in cases.expected.items():
        assert got[attempt_id]["is_retry"] is (want is not None), attempt_id
        assert got[attempt_id]["is_orphan_retry"] is False, attempt_id
    return got


# ---------------------------------------------------------------- rules 2-6, no known sources

ABSOLUTE = {
    "start": "2026-11-18T02:00:00Z",
    "end": "2026-11-18T04:00:00Z",
    "source_url": "https://status.example.com/x",
}
# 01:00-05:00 in Asia/Shanghai (UTC+8) is 17:00-21:00 UTC the day before.
RECURRING = {
    "recurring": "daily",
    "start_time": "01:00",
    "end_time": "05:00",
    "timezone": "Asia/Shanghai",
    "source_url": "https://status.example.com/daily",
}


def status_rule_cases() -> Cases:
    c = Cases()
    # unfamiliar_request_source: another api key than the first attempt's.
    c.add(
        "key_change", [{"status_code": 503}, {"api_key_id": "key_b2"}], "unfamiliar_request_source"
    )
    c.add(
        "key_change_after_200",
        [{"status_code": 200}, {"api_key_id": "key_b2"}],
        "unfamiliar_request_source",
    )
    # The key rule compares k with f, not with p: k is back on f's key.
    c.add(
        "key_back_to_first",
        [{"status_code": 503}, {"api_key_id": "key_b2", "status_code": 503}, {}],
        "platform_response",
    )
    c.expected["key_back_to_first#1"] = "unfamiliar_request_source"

    # timeout
    for status in (408, 504, 524):
        c.pair(f"timeout_{status}", {"status_code": status}, "timeout")
    for error_type in ("timeout", "read_timeout", "connect_timeout"):
        c.pair(f"timeout_{error_type}", {"status_code": None, "error_type": error_type}, "timeout")
    c.pair("timeout_latency_at_limit", {"status_code": None, "latency_ms": 60000}, "timeout")
    c.pair("timeout_latency_over", {"status_code": None, "latency_ms": 90000.5}, "timeout")
    c.pair("latency_just_below", {"status_code": None, "latency_ms": 59999.9}, "unknown")
    c.pair("latency_with_status", {"status_code": 200, "latency_ms": 90000}, "client_handling")
    # precedence: timeout before platform_response
    c.pair(
        "timeout_504_server_error", {"status_code": 504, "error_type": "server_error"}, "timeout"
    )
    c.pair("timeout_429_timeout_type", {"status_code": 429, "error_type": "timeout"}, "timeout")

    # platform_response
    for status in (409, 429, 500, 502, 503, 599):
        c.pair(f"platform_{status}", {"status_code": status}, "platform_response")
    for error_type in ("rate_limit", "server_error", "overloaded"):
        c.pair(
            f"platform_{error_type}",
            {"status_code": None, "error_type": error_type},
            "platform_response",
        )
    # rule 4 comes before rule 5: a 4xx whose error_type says the platform is overloaded
    c.pair(
        "platform_400_overloaded",
        {"status_code": 400, "error_type": "overloaded"},
        "platform_response",
    )
    # insufficient_quota turns a 429/5xx into client_handling
    c.pair("quota_429", {"status_code": 429, "error_type": "insufficient_quota"}, "client_handling")
    c.pair("quota_503", {"status_code": 503, "error_type": "insufficient_quota"}, "client_handling")
    c.pair(
        "quota_no_status",
        {"status_code": None, "error_type": "insufficient_quota"},
        "client_handling",
    )

    # client_handling
    for status in (200, 201, 400, 401, 404, 422):
        c.pair(f"client_{status}", {"status_code": status}, "client_handling")

    # unknown
    c.pair(
        "unknown_connection_error",
        {"status_code": None, "error_type": "connection_error", "latency_ms": 1500},
        "unknown",
    )
    c.pair("unknown_no_status_no_latency", {"status_code": None}, "unknown")
    c.pair("unknown_101", {"status_code": 101}, "unknown")
    c.pair("unknown_302", {"status_code": 302}, "unknown")

    # Causes read p, not f: f = 503 (platform), p = 400 (client) -> client_handling.
    c.add("reads_p_not_f", [{"status_code": 503}, {"status_code": 400}, {}], "client_handling")
    c.expected["reads_p_not_f#1"] = "platform_response"
    # ... and f = 400, p = 504 -> timeout.
    c.add("reads_p_not_f_2", [{"status_code": 400}, {"status_code": 504}, {}], "timeout")
    c.expected["reads_p_not_f_2#1"] = "client_handling"

    # ------------------------------------------------ scheduled_maintenance (absolute)
    c.pair(
        "abs_start",
        {"status_code": 503, "timestamp": "2026-11-18T02:00:00Z"},
        "scheduled_maintenance",
    )
    c.pair(
        "abs_inside_504",
        {"status_code": 504, "timestamp": "2026-11-18T03:00:00Z"},
        "scheduled_maintenance",
    )
    c.pair(
        "abs_inside_200",
        {"status_code": 200, "timestamp": "2026-11-18T03:59:59Z"},
        "scheduled_maintenance",
    )
    c.pair(
        "abs_at_end", {"status_code": 503, "timestamp": "2026-11-18T04:00:00Z"}, "platform_response"
    )
    c.pair(
        "abs_before", {"status_code": 503, "timestamp": "2026-11-18T01:59:59Z"}, "platform_response"
    )
    # The retry itself inside the window does not matter: p is read.
    c.pair(
        "abs_only_retry_inside",
        {"status_code": 503, "timestamp": "2026-11-18T01:59:50Z"},
        "platform_response",
        gap_s=20,
    )
    # f inside the window, p outside: p decides.
    c.add(
        "abs_f_inside_p_outside",
        [
            {"status_code": 503, "timestamp": "2026-11-18T03:50:00Z"},
            {"status_code": 400, "timestamp": "2026-11-18T04:10:00Z"},
            {},
        ],
        "client_handling",
    )
    c.expected["abs_f_inside_p_outside#1"] = "scheduled_maintenance"
    # precedence: another key wins over maintenance, whatever the status.
    c.add(
        "abs_key_change_503",
        [{"status_code": 503, "timestamp": "2026-11-18T02:10:00Z"}, {"api_key_id": "key_b2"}],
        "unfamiliar_request_source",
    )

    # ------------------------------------------- scheduled_maintenance (recurring, Shanghai)
    c.pair(
        "rec_start",
        {"status_code": 500, "timestamp": "2026-11-16T17:00:00Z"},
        "scheduled_maintenance",
    )
    c.pair(
        "rec_local_offset",
        {"status_code": 429, "timestamp": "2026-11-20T03:00:00+08:00"},
        "scheduled_maintenance",
    )
    c.pair(
        "rec_last_second",
        {"status_code": 408, "timestamp": "2026-11-17T20:59:59Z"},
        "scheduled_maintenance",
    )
    c.pair(
        "rec_at_end", {"status_code": 503, "timestamp": "2026-11-17T21:00:00Z"}, "platform_response"
    )
    c.pair(
        "rec_at_end_local",
        {"status_code": 404, "timestamp": "2026-11-19T05:00:00+08:00"},
        "client_handling",
    )
    c.pair(
        "rec_before", {"status_code": 503, "timestamp": "2026-11-19T16:59:59Z"}, "platform_response"
    )
    c.add(
        "rec_key_change",
        [{"status_code": 503, "timestamp": "2026-11-20T18:00:00Z"}, {"api_key_id": "key_c3"}],
        "unfamiliar_request_source",
    )
    return c


def test_each_rule_and_precedence(tmp_path, db_url):
    cases = status_rule_cases()
    cfg = write_scenario(tmp_path, cases.records, windows=[ABSOLUTE, RECURRING])
    run(cfg, db_url)
    assert_causes(db_url, cases)

    # The packet counts retries by cause, exactly as expected per attempt.
    want = Counter(v for v in cases.expected.values() if v is not None)
    packets = rows(db_url, "review_packets")
    assert len(packets) == 1
    packet = packets[0]
    assert {cause: packet[f"retries_{cause}"] for cause in CAUSES} == {
        cause: want[cause] for cause in CAUSES
    }
    assert packet["retry_attempts"] == sum(want.values())
    assert packet["first_attempts"] == len({r["request_id"] for r in cases.records})
    assert packet["orphan_retries"] == 0


# ------------------------------------------------------------------- known sources


def test_known_api_key_ids_only(tmp_path, db_url):
    c = Cases()
    # listed key, no source_ip: source_cidrs is not configured, so not checked
    c.pair("listed", {"status_code": 503}, "platform_response")
    # f on key_b7, k on key_a1: both listed, but k differs from f
    c.pair("listed_b7", {"status_code": 503, "api_key_id": "key_b7"}, "unfamiliar_request_source")
    c.add(
        "listed_b7_same",
        [{"status_code": 503, "api_key_id": "key_b7"}, {"api_key_id": "key_b7"}],
        "platform_response",
    )
    # the key is not listed (f uses it too, so only the list can flag it)
    c.add(
        "unlisted",
        [{"status_code": 503, "api_key_id": "key_zz"}, {"api_key_id": "key_zz"}],
        "unfamiliar_request_source",
    )
    c.add(
        "unlisted_after_200",
        [{"status_code": 200, "api_key_id": "key_zz"}, {"api_key_id": "key_zz"}],
        "unfamiliar_request_source",
    )
    c.pair("listed_with_foreign_ip", {"status_code": 504, "source_ip": "192.0.2.1"}, "timeout")
    cfg = write_scenario(tmp_path, c.records, known_sources={"api_key_ids": ["key_a1", "key_b7"]})
    run(cfg, db_url)
    assert_causes(db_url, c)


def test_known_source_cidrs_only(tmp_path, db_url):
    c = Cases()
    inside4, inside6 = "10.20.3.4", "2001:db8::1"
    c.add(
        "v4_inside",
        [{"status_code": 503, "source_ip": inside4}, {"source_ip": inside4}],
        "platform_response",
    )
    c.add(
        "v6_inside",
        [{"status_code": 503, "source_ip": inside6}, {"source_ip": "2001:db8:ffff::7"}],
        "platform_response",
    )
    c.add(
        "absent_ip", [{"status_code": 503, "source_ip": inside4}, {}], "unfamiliar_request_source"
    )
    c.add(
        "v4_outside",
        [{"status_code": 503, "source_ip": inside4}, {"source_ip": "10.21.0.1"}],
        "unfamiliar_request_source",
    )
    c.add(
        "v6_outside",
        [{"status_code": 503, "source_ip": inside6}, {"source_ip": "2001:db9::1"}],
        "unfamiliar_request_source",
    )
    # the check reads k's address, not f's
    c.add(
        "f_outside_k_inside",
        [{"status_code": 503, "source_ip": "192.0.2.9"}, {"source_ip": inside4}],
        "platform_response",
    )
    # api_key_ids is not configured: an unknown key on both attempts is not flagged
    c.add(
        "any_key",
        [
            {"status_code": 429, "api_key_id": "key_zz", "source_ip": inside4},
            {"api_key_id": "key_zz", "source_ip": inside6},
        ],
        "platform_response",
    )
    # an outside p does not taint k
    c.add(
        "p_outside",
        [
            {"status_code": 503, "source_ip": inside4},
            {"status_code": 503, "source_ip": "172.16.0.1"},
            {"source_ip": inside4},
        ],
        "platform_response",
    )
    c.expected["p_outside#1"] = "unfamiliar_request_source"
    cfg = write_scenario(
        tmp_path, c.records, known_sources={"source_cidrs": ["10.20.0.0/16", "2001:db8::/32"]}
    )
    run(cfg, db_url)
    assert_causes(db_url, c)


def test_known_networks_match_every_address_form(tmp_path, db_url):
    """Network membership is decided in SQL on address keys (ip_keys.py): an IPv4-mapped
    IPv6 address is its IPv4 address and vice versa; a bare address is a /32."""
    c = Cases()
    cases = {
        "mapped_addr_in_v4_net": ("::ffff:10.20.0.1", "platform_response"),
        "mapped_addr_outside": ("::ffff:10.21.0.1", "unfamiliar_request_source"),
        "v4_addr_in_mapped_net": ("192.168.3.4", "platform_response"),
        "mapped_addr_on_bare_host": ("::ffff:172.16.5.9", "platform_response"),
        "next_to_bare_host": ("172.16.5.10", "unfamiliar_request_source"),
        "v4_last_address": ("10.20.255.255", "platform_response"),
        "v6_first_address": ("2001:db8::", "platform_response"),
        "v6_just_outside": ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "unfamiliar_request_source"),
    }
    for name, (ip, cause) in cases.items():
        c.add(name, [{"status_code": 503, "source_ip": "10.20.0.9"}, {"source_ip": ip}], cause)
    cfg = write_scenario(
        tmp_path,
        c.records,
        known_sources={
            "source_cidrs": [
                "10.20.0.0/16",
                "::ffff:192.168.0.0/112",
                "172.16.5.9",
                "2001:db8::/32",
            ]
        },
    )
    run(cfg, db_url)
    assert_causes(db_url, c)


def test_empty_known_lists_are_configured_and_match_nothing(tmp_path, db_url):
    c = Cases()
    c.pair("any_retry", {"status_code": 503, "source_ip": "10.20.0.9"}, "unfamiliar_request_source")
    cfg = write_scenario(tmp_path, c.records, known_sources={"api_key_ids": [], "source_cidrs": []})
    run(cfg, db_url)
    assert_causes(db_url, c)
