"""SPEC 4.2: grouping attempts into logical requests (and orphan retries).

One scenario holds every case; cases are kept apart by distinct request_ids,
prompt fingerprints and api keys. Records are deliberately written out of order
in the file: grouping and ordering must not depend on read order.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

from scenario import attempt, by, rows, run, write_scenario

ORPHAN_TAGS = {"team": "search", "project": "orphan"}


def at(hh: int, mm: int = 0, ss: int = 0, *, day: int = 1, offset_h: int = 0) -> str:
    """2026-11-(16 + day) hh:mm:ss UTC, written with ``Z`` or in a ``+HH:00`` offset."""
    moment = datetime(2026, 11, 16, tzinfo=timezone.utc) + timedelta(
        days=day, hours=hh, minutes=mm, seconds=ss
    )
    if offset_h:
        return moment.astimezone(timezone(timedelta(hours=offset_h))).isoformat()
    return moment.isoformat().replace("+00:00", "Z")


def sha256_canonical(value) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


MESSAGES = [
    {"role": "user", "content": "h\u00e9llo \u4f60\u597d"},
    {"role": "system", "content": "be brief"},
]
# Same messages, keys in another order: the same canonical JSON.
MESSAGES_REORDERED = [
    {"content": "h\u00e9llo \u4f60\u597d", "role": "user"},
    {"content": "be brief", "role": "system"},
]
OTHER_MESSAGES = [{"role": "user", "content": "something else"}]


def records() -> list[dict]:
    a = attempt
    return [
        # ---------------------------------------------------------- request_id path
        # rid-1: different fingerprints, different keys, a 2xx, a 20-minute gap and a
        # client_retry_count of 0 do not matter: one request per request_id.
        a("r1-c", at(10, 30), request_id="rid-1", prompt_fingerprint="x3", client_retry_count=0),
        a("r1-a", at(10, 0), request_id="rid-1", prompt_fingerprint="x1", client_retry_count=0),
        a(
            "r1-b",
            at(10, 20),
            request_id="rid-1",
            prompt_fingerprint="x2",
            client_retry_count=1,
            api_key_id="key_b2",
            status_code=503,
        ),
        # rid-2: same timestamp; absent client_retry_count sorts as 0, then attempt_id.
        a("r2-c", at(10), request_id="rid-2"),
        a("r2-a", at(10), request_id="rid-2", client_retry_count=1),
        a("r2-b", at(10), request_id="rid-2"),
        # rid-3: timestamp first (the same instant written in +08:00 sorts correctly).
        a("r3-a", at(10, 0, 1), request_id="rid-3"),
        a("r3-b", at(10, offset_h=8), request_id="rid-3", status_code=500),
        # rid-4: same timestamp; client_retry_count before attempt_id.
        a("r4-a", at(10), request_id="rid-4", client_retry_count=2),
        a("r4-b", at(10), request_id="rid-4", client_retry_count=1, status_code=503),
        a("r4-z", at(10), request_id="rid-4", client_retry_count=0, status_code=503),
        # rid-6 / rid-7: an absent count ties with an explicit 0, so attempt_id decides
        # (whichever way a backend sorts NULLs).
        a("r6-b", at(10), request_id="rid-6", status_code=503),
        a("r6-a", at(10), request_id="rid-6", client_retry_count=0, status_code=503),
        a("r7-b", at(10), request_id="rid-7", client_retry_count=0),
        a("r7-a", at(10), request_id="rid-7", status_code=429),
        # rid-5 shares f4's (key, model, endpoint, fingerprint): it must not join or
        # cut f4's fingerprint chain, which is only for attempts without request_id.
        a("r5-a", at(10, 0, 30), request_id="rid-5", prompt_fingerprint="f4"),
        # ---------------------------------------------------------- fingerprint path
        # f1: 300 s joins, 301 s does not (the latter starts an orphan request).
        a("f1-a", at(10), prompt_fingerprint="f1", client_retry_count=0, status_code=503),
        a("f1-b", at(10, 5), prompt_fingerprint="f1", client_retry_count=1, status_code=503),
        a("f1-c", at(10, 10, 1), prompt_fingerprint="f1", client_retry_count=2, tags=ORPHAN_TAGS),
        # f2: a 2xx previous attempt ends the chain (f2-b has no count: not an orphan);
        # absent counts may join (f2-c joins f2-b).
        a("f2-a", at(10), prompt_fingerprint="f2", client_retry_count=0, status_code=200),
        a("f2-b", at(10, 1), prompt_fingerprint="f2", status_code=500),
        a("f2-c", at(10, 2), prompt_fingerprint="f2"),
        # f3: client_retry_count 0 starts a new request even right after a failure.
        a("f3-a", at(10), prompt_fingerprint="f3", client_retry_count=0, status_code=503),
        a("f3-b", at(10, 1), prompt_fingerprint="f3", client_retry_count=0),
        # f4: no counts at all: the usual path, joins.
        a("f4-b", at(10, 1), prompt_fingerprint="f4"),
        a("f4-a", at(10), prompt_fingerprint="f4", status_code=429),
        # f5: another key / model / endpoint / fingerprint is another chain.
        a("f5-a", at(10), prompt_fingerprint="f5", client_retry_count=0, status_code=500),
        a("f5-key", at(10, 1), prompt_fingerprint="f5", api_key_id="key_b2"),
        a("f5-model", at(10, 1), prompt_fingerprint="f5", model="gpt-4o"),
        a("f5-endpoint", at(10, 1), prompt_fingerprint="f5", endpoint="/v1/responses"),
        a("f5-fp", at(10, 1), prompt_fingerprint="f5-other"),
        a("f5-same", at(10, 2), prompt_fingerprint="f5", status_code=500),
        # f6: the gap is measured from the previous attempt, not the first.
        a("f6-c", at(10, 8, 20), prompt_fingerprint="f6", client_retry_count=2),
        a("f6-a", at(10), prompt_fingerprint="f6", client_retry_count=0, status_code=503),
        a("f6-b", at(10, 4, 10), prompt_fingerprint="f6", client_retry_count=1, status_code=503),
        # f7: equal timestamps inside a chain order by client_retry_count, then id.
        a("f7-a", at(10, 1), prompt_fingerprint="f7", client_retry_count=2),
        a("f7-b", at(10, 1), prompt_fingerprint="f7", client_retry_count=1, status_code=503),
        a("f7-x", at(10), prompt_fingerprint="f7", client_retry_count=0, status_code=503),
        # ------------------------------------------------------------- single path
        a("s1", at(10), status_code=503),
        a("s2", at(10, 0, 30), status_code=503),
        a("s3", at(10, 1), client_retry_count=1, tags=ORPHAN_TAGS),
        # ----------------------------------------------------------------- orphans
        a("o-b", at(10, 1), request_id="rid-o", client_retry_count=2, tags=ORPHAN_TAGS),
        a(
            "o-a",
            at(10),
            request_id="rid-o",
            client_retry_count=1,
            status_code=503,
            tags=ORPHAN_TAGS,
        ),
        # ----------------------------------------- fingerprint set by the extractor
        a("m-a", at(11), messages=MESSAGES, client_retry_count=0, status_code=503),
        a("m-b", at(11, 2), messages=MESSAGES_REORDERED, client_retry_count=1),
        a("m-c", at(11, 3), messages=OTHER_MESSAGES),
        a("m-p", at(11, 4), prompt="h\u00e9llo"),
        a("m-i", at(11, 5), input=["h\u00e9llo"], prompt="prompt wins over input"),
        a("m-e", at(11, 6), messages=MESSAGES, prompt_fingerprint="explicit-fp"),
    ]


# attempt_id -> (logical_request_id, grouping_path, attempt_index, is_retry,
#                is_orphan_retry, retry_cause)
EXPECTED = {
    "r1-a": ("rid:rid-1", "request_id", 0, False, False, None),
    "r1-b": ("rid:rid-1", "request_id", 1, True, False, "unfamiliar_request_source"),
    "r1-c": ("rid:rid-1", "request_id", 2, True, False, "platform_response"),
    "r2-b": ("rid:rid-2", "request_id", 0, False, False, None),
    "r2-c": ("rid:rid-2", "request_id", 1, True, False, "client_handling"),
    "r2-a": ("rid:rid-2", "request_id", 2, True, False, "client_handling"),
    "r3-b": ("rid:rid-3", "request_id", 0, False, False, None),
    "r3-a": ("rid:rid-3", "request_id", 1, True, False, "platform_response"),
    "r4-z": ("rid:rid-4", "request_id", 0, False, False, None),
    "r4-b": ("rid:rid-4", "request_id", 1, True, False, "platform_response"),
    "r4-a": ("rid:rid-4", "request_id", 2, True, False, "platform_response"),
    "r5-a": ("rid:rid-5", "request_id", 0, False, False, None),
    "r6-a": ("rid:rid-6", "request_id", 0, False, False, None),
    "r6-b": ("rid:rid-6", "request_id", 1, True, False, "platform_response"),
    "r7-a": ("rid:rid-7", "request_id", 0, False, False, None),
    "r7-b": ("rid:rid-7", "request_id", 1, True, False, "platform_response"),
    "f1-a": ("fp:f1-a", "fingerprint", 0, False, False, None),
    "f1-b": ("fp:f1-a", "fingerprint", 1, True, False, "platform_response"),
    "f1-c": ("fp:f1-c", "fingerprint", 0, True, True, "unknown"),
    "f2-a": ("fp:f2-a", "fingerprint", 0, False, False, None),
    "f2-b": ("fp:f2-b", "fingerprint", 0, False, False, None),
    "f2-c": ("fp:f2-b", "fingerprint", 1, True, False, "platform_response"),
    "f3-a": ("fp:f3-a", "fingerprint", 0, False, False, None),
    "f3-b": ("fp:f3-b", "fingerprint", 0, False, False, None),
    "f4-a": ("fp:f4-a", "fingerprint", 0, False, False, None),
    "f4-b": ("fp:f4-a", "fingerprint", 1, True, False, "platform_response"),
    "f5-a": ("fp:f5-a", "fingerprint", 0, False, False, None),
    "f5-same": ("fp:f5-a", "fingerprint", 1, True, False, "platform_response"),
    "f5-key": ("fp:f5-key", "fingerprint", 0, False, False, None),
    "f5-model": ("fp:f5-model", "fingerprint", 0, False, False, None),
    "f5-endpoint": ("fp:f5-endpoint", "fingerprint", 0, False, False, None),
    "f5-fp": ("fp:f5-fp", "fingerprint", 0, False, False, None),
    "f6-a": ("fp:f6-a", "fingerprint", 0, False, False, None),
    "f6-b": ("fp:f6-a", "fingerprint", 1, True, False, "platform_response"),
    "f6-c": ("fp:f6-a", "fingerprint", 2, True, False, "platform_response"),
    "f7-x": ("fp:f7-x", "fingerprint", 0, False, False, None),
    "f7-b": ("fp:f7-x", "fingerprint", 1, True, False, "platform_response"),
    "f7-a": ("fp:f7-x", "fingerprint", 2, True, False, "platform_response"),
    "s1": ("att:s1", "single", 0, False, False, None),
    "s2": ("att:s2", "single", 0, False, False, None),
    "s3": ("att:s3", "single", 0, True, True, "unknown"),
    "o-a": ("rid:rid-o", "request_id", 0, True, True, "unknown"),
    "o-b": ("rid:rid-o", "request_id", 1, True, False, "platform_response"),
    "m-a": ("fp:m-a", "fingerprint", 0, False, False, None),
    "m-b": ("fp:m-a", "fingerprint", 1, True, False, "platform_response"),
    "m-c": ("fp:m-c", "fingerprint", 0, False, False, None),
    "m-p": ("fp:m-p", "fingerprint", 0, False, False, None),
    "m-i": ("fp:m-i", "fingerprint", 0, False, False, None),
    "m-e": ("fp:m-e", "fingerprint", 0, False, False, None),
}


def test_grouping_paths_order_and_orphans(tmp_path, db_url):
    cfg = write_scenario(tmp_path, records())
    run(cfg, db_url)
    got = by(rows(db_url, "request_attempts"), "attempt_id")
    assert set(got) == set(EXPECTED)

    columns = (
        "logical_request_id",
        "grouping_path",
        "attempt_index",
        "is_retry",
        "is_orphan_retry",
        "retry_cause",
    )
    actual = {aid: tuple(got[aid][c] for c in columns) for aid in EXPECTED}
    wrong = {aid: (actual[aid], want) for aid, want in EXPECTED.items() if actual[aid] != want}
    assert wrong == {}, wrong

    # The extractor's fingerprint: SHA-256 of the canonical JSON of messages (else
    # prompt, else input), non-ASCII kept as UTF-8; an explicit fingerprint wins.
    assert got["m-a"]["prompt_fingerprint"] == sha256_canonical(MESSAGES)
    assert got["m-b"]["prompt_fingerprint"] == sha256_canonical(MESSAGES)
    assert got["m-c"]["prompt_fingerprint"] == sha256_canonical(OTHER_MESSAGES)
    assert got["m-p"]["prompt_fingerprint"] == sha256_canonical("h\u00e9llo")
    assert got["m-i"]["prompt_fingerprint"] == sha256_canonical("prompt wins over input")
    assert got["m-e"]["prompt_fingerprint"] == "explicit-fp"
    assert got["f1-a"]["prompt_fingerprint"] == "f1"

    # Orphan retries are retries (not first attempts) in their packet; every logical
    # request still counts. search-orphan: rid-o (o-a, o-b), f1-c, s3.
    chat = "production:/v1/chat/completions"
    packets = {(p["workload_tag"], p["request_class"]): p for p in rows(db_url, "review_packets")}
    assert set(packets) == {
        ("search-orphan", chat),
        ("search-web", chat),
        ("search-web", "production:/v1/responses"),
    }
    orphan = packets[("search-orphan", chat)]
    assert orphan["logical_requests"] == 3
    assert orphan["attempts"] == 4
    assert orphan["first_attempts"] == 0
    assert orphan["retry_attempts"] == 4
    assert orphan["orphan_retries"] == 3
    assert orphan["retries_unknown"] == 3
    assert orphan["retries_platform_response"] == 1
    assert orphan["retry_tokens"] == 4 * 150
    assert orphan["retry_share"] == 1
    assert orphan["retry_count_recorded"] is False
    assert orphan["first_attempt_recorded"] is False
    assert orphan["result"] == "fail"
    failed = json.loads(orphan["failed_requirements"])
    assert [
        r
        for r in failed
        if r in ("request_sample_present", "retry_count_recorded", "retry_cause_known")
    ] == ["request_sample_present", "retry_count_recorded", "retry_cause_known"]

    # The other packets: no orphan anywhere else.
    web = packets[("search-web", chat)]
    web_ids = [aid for aid in EXPECTED if aid not in ("o-a", "o-b", "f1-c", "s3")]
    assert sum(p["attempts"] for p in packets.values()) == len(EXPECTED)
    assert sum(p["orphan_retries"] for p in packets.values()) == 3
    assert web["orphan_retries"] == 0
    assert web["retry_count_recorded"] is True
    # search-web holds every non-orphan attempt except f5-endpoint (another request class)
    web_rows = [got[aid] for aid in web_ids if aid != "f5-endpoint"]
    assert web["attempts"] == len(web_rows)
    assert web["logical_requests"] == len({r["logical_request_id"] for r in web_rows})
    assert web["retry_attempts"] == sum(1 for r in web_rows if r["is_retry"])
