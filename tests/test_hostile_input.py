"""Hostile input through the whole pipeline, on both backends (SPEC 2.5, 4.1).

What attackers and bad production days sent, each as its own record of one log: NUL
characters and lone surrogates, integers past the 4-byte and token bounds, token sums
past int64, overlong ids and tags, too many tags, deep nesting, secrets inside longer
values (one of them copied into ``workload_tag`` by a rule template, one assembled by a
template from two harmless tags), a secret written with JSON escapes in a malformed
line, a file named like a secret, and SQL text everywhere. Each time the run succeeds,
every record is staged or quarantined with the right reason, the 4.1 reconciliation
holds, and no text column of any table holds a secret, a NUL or a lone surrogate;
SQL text is stored verbatim.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import yaml
from ledger_scan import leaks, problems_of
from scenario import DEFAULT_RULES, attempt, by, rows, run, ts, write_scenario

from tokenreview_pipeline.extract import records
from tokenreview_pipeline.extract.redaction import redacted_form

SK = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"
BEARER = "Bearer ab12.cd34"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
SQL_ID = "a'; DROP TABLE request_attempts; --"
SQL_MODEL = "gpt'); DELETE FROM review_packets; --"
SQL_PROJECT = "p' OR '1'='1"
SQL_WORKLOAD = 'w"); DROP TABLE review_packets; --{tags.project}'
SQL_OWNER = "o'\"; --"
SECRET_FILE = "token=" + SK + ".jsonl"
SECRET_FOLDER = "logs_" + SK

RULES = [
    *DEFAULT_RULES,
    {
        "id": "sql'; --",
        "priority": 1,
        "match": {"tags": {"team": "sql"}},
        "assign": {"owner_tag": SQL_OWNER, "workload_tag": SQL_WORKLOAD},
    },
    {  # two tags that are harmless alone make a secret together
        "id": "compose",
        "priority": 2,
        "match": {"tags": {"team": "compose"}},
        "assign": {"owner_tag": "team-compose", "workload_tag": "{tags.a}{tags.b}"},
    },
]


def nested(depth: int, **fields) -> str:
    """A record whose unknown field ``deep`` makes it ``depth`` levels deep."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return json.dumps(fields)[:-1] + ', "deep": ' + inner + "}"


def big_int_line(**fields) -> str:
    return json.dumps(fields)[:-1] + ', "prompt_tokens": ' + "7" * 5000 + "}"


def at(i: int, attempt_id: str, **fields) -> dict:
    return attempt(attempt_id, ts(10 + i), **fields)


S, Q = "staged", "quarantined"
MANY_TAGS = {"team": "search", "project": "web", **{f"k{i}": "v" for i in range(62)}}
ESCAPED_SK = SK.replace("o", "\\u006F").replace("-", "\\u002D")

# (line, disposition, reason); one logical request per line.
LINES: list[tuple[dict | str, str, str | None]] = [
    (at(0, "nul-model", model="gpt-4o-mini\x00"), S, None),
    (at(1, "nul-tag", tags={"team": "search", "project": "we\x00b"}), S, None),
    (at(2, "surrogate-tag", tags={"team": "search", "project": "\ud800x"}), S, None),
    (at(3, "status-max", status_code=2**31 - 1), S, None),
    (at(4, "\U0001f600" * 512), S, None),  # 512 characters, 2 KiB: still indexable
    (at(5, "tags-64", tags=MANY_TAGS), S, None),
    (nested(512, **at(6, "deep-512")), S, None),
    (
        at(
            7,
            "tokens-max",
            prompt_tokens=2**40 - 1,
            completion_tokens=2**40 - 1,
            cached_prompt_tokens=2**39,
            cache_write_tokens=2**39 - 1,
            reasoning_tokens=2**40 - 1,
        ),
        S,
        None,
    ),
    (
        at(
            8,
            "secret-inside",
            api_key_id="ak " + BEARER,
            error_type=f"auth=Bearer {SK}",
            tags={"team": "search", "project": f"token={SK}", "note": f"see {JWT}!"},
        ),
        S,
        None,
    ),
    (at(9, SQL_ID, model=SQL_MODEL, tags={"team": "sql", "project": SQL_PROJECT}), S, None),
    (
        at(10, "compose", tags={"team": "compose", "a": "sk-", "b": "AbCdEfGhIjKlMnOpQrStUvWx"}),
        S,
        None,
    ),
    (at(11, "tiers", service_tier="flex", gateway_retries=2, cached_prompt_tokens=100), S, None),
    (at(12, "status-2^31", status_code=2**31), Q, "invalid_type:status_code"),
    (at(13, "status--2^31", status_code=-(2**31)), Q, "invalid_type:status_code"),
    (at(14, "retry-2^31", client_retry_count=2**31), Q, "invalid_type:client_retry_count"),
    (at(15, "gateway-2^31", gateway_retries=2**31), Q, "invalid_type:gateway_retries"),
    (at(16, "x" * 3000), Q, "invalid_type:attempt_id"),
    (at(17, "model-513", model="m" * 513), Q, "invalid_type:model"),
    (at(18, "tags-65", tags={**MANY_TAGS, "one-more": "v"}), Q, "invalid_type:tags"),
    (at(19, "tag-513", tags={"team": "search", "project": "p" * 513}), Q, "invalid_type:tags"),
    (nested(513, **at(20, "deep-513")), Q, "malformed_json"),
    (at(21, "tokens-2^40", prompt_tokens=2**40), Q, "invalid_type:prompt_tokens"),
    (
        at(22, "int64-sum", prompt_tokens=2**62, completion_tokens=2**62),
        Q,
        "invalid_type:prompt_tokens",
    ),
    (
        at(23, "cache>prompt", prompt_tokens=10, cached_prompt_tokens=8, cache_write_tokens=3),
        Q,
        "inconsistent_tokens",
    ),
    (
        at(24, "reasoning>completion", completion_tokens=5, reasoning_tokens=6),
        Q,
        "inconsistent_tokens",
    ),
    (
        '{"attempt_id": "escaped", "api_key_id": "' + ESCAPED_SK + '", "prompt": "PLANTED-PROMPT"'
        ', "auth": "\\u0042earer tok3n", "model": "gpt\\u0000"',
        Q,
        "malformed_json",
    ),
    (at(26, "nul-bad\x00", model="m\x00", status_code="x\x00"), Q, "invalid_type:status_code"),
    (at(27, "zone", source_ip="fe80::1%" + "z" * 100), Q, "invalid_type:source_ip"),
    (big_int_line(**at(28, "big-int")), Q, "malformed_json"),
]
CSV_ROWS = [  # (cells after attempt_id, disposition, reason)
    (
        "2026-11-16T01:00:00Z,key_a1,gpt-4o-mini,/v1/chat/completions," + "9" * 5000 + ",",
        Q,
        "invalid_type:status_code",
    ),
    (
        '2026-11-16T01:01:00Z,key_a1,gpt-4o-mini,/v1/chat/completions,200,"' + "[" * 100_000 + '"',
        Q,
        "invalid_type:tags",
    ),
    (
        "2026-11-16T01:02:00Z,key_a1,gpt-4o-mini,/v1/chat/completions,200,"
        '"{""team"": ""search"", ""project"": ""token=' + SK + '""}"',
        S,
        None,
    ),
]
PLANTED = (SK, BEARER, JWT, "PLANTED-PROMPT", "Bearer tok3n", "sk-AbCdEfGhIjKlMnOpQrStUvWx")


def line_of(attempt_id: str) -> int:
    """The line number of the log.jsonl entry with that attempt_id."""
    for number, (entry, *_) in enumerate(LINES, start=1):
        text = entry if isinstance(entry, str) else json.dumps(entry)
        if f'"attempt_id": {json.dumps(attempt_id)}' in text:
            return number
    raise KeyError(attempt_id)


def write_hostile(root: Path) -> Path:
    lines = [entry if isinstance(entry, str) else json.dumps(entry) for entry, *_ in LINES]
    cfg = write_scenario(root, lines, rules=RULES)
    logs = root / "request_logs"
    header = "attempt_id,timestamp,api_key_id,model,endpoint,status_code,tags"
    csv_lines = [header] + [f"csv-{i},{cells}" for i, (cells, *_) in enumerate(CSV_ROWS)]
    (logs / "legacy.csv").write_text("\n".join(csv_lines) + "\n", encoding="utf-8")
    (logs / SECRET_FILE).write_text(
        json.dumps(at(40, "from-secret-file"))
        + "\n"
        + json.dumps(at(41, "bad-in-secret-file", prompt_tokens=-1))
        + "\n"
    )
    # the folder is named like a secret too: its path is stored as source_location
    logs.rename(root / SECRET_FOLDER)
    config = yaml.safe_load(cfg.read_text())
    config["request_logs"]["path"] = SECRET_FOLDER
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    return cfg


def test_hostile_input_is_contained(tmp_path, db_url):
    run(write_hostile(tmp_path), db_url)

    # + the secret-named file: one staged record, one quarantined
    expected = [(d, r) for _, d, r in LINES] + [(d, r) for _, d, r in CSV_ROWS]
    expected += [(S, None), (Q, "negative_tokens")]
    (extraction,) = rows(db_url, "extraction_runs")
    assert {k: extraction[k] for k in ("records_read", "attempts_staged")} == {
        "records_read": len(expected),
        "attempts_staged": sum(1 for d, _ in expected if d == S),
    }
    assert extraction["records_quarantined"] == sum(1 for d, _ in expected if d == Q)
    assert extraction["exact_duplicates"] == extraction["other_cycle_records"] == 0
    # api_key_id "ak Bearer ...", tag values "token=sk-..." and "see eyJ...", and the
    # CSV row's tag value; nothing else counts
    assert extraction["redacted_values"] == 4

    quarantined = rows(db_url, "quarantined_records", order_by=["read_seq"])
    by_source = {(r["source_name"], r["source_line"]): r["reason"] for r in quarantined}
    want = {("log.jsonl", n): reason for n, (_, d, reason) in enumerate(LINES, start=1) if d == Q}
    want |= {
        ("legacy.csv", n): reason for n, (_, d, reason) in enumerate(CSV_ROWS, start=2) if d == Q
    }
    want[("token=" + redacted_form(SK) + ".jsonl", 2)] = "negative_tokens"
    assert by_source == want

    staged = by(rows(db_url, "request_attempts"), "attempt_id")
    assert len(staged) == extraction["attempts_staged"]
    assert staged["nul-model"]["model"] == "gpt-4o-mini\ufffd"
    assert staged["nul-tag"]["workload_tag"] == "search-we\ufffdb"
    assert staged["surrogate-tag"]["workload_tag"] == "search-\ufffdx"
    assert staged["status-max"]["status_code"] == 2**31 - 1
    assert "\U0001f600" * 512 in staged
    assert staged["tokens-max"]["prompt_tokens"] == 2**40 - 1
    assert staged["tokens-max"]["reasoning_tokens"] == 2**40 - 1
    assert staged["tiers"]["service_tier"] == "flex" and staged["tiers"]["gateway_retries"] == 2

    secret = staged["secret-inside"]
    assert secret["api_key_id"] == "ak " + redacted_form(BEARER)
    assert secret["error_type"] == "auth=" + redacted_form(f"Bearer {SK}")
    assert json.loads(secret["tags"])["note"] == f"see {redacted_form(JWT)}!"
    # the template copies the tag: the workload holds its redacted form
    assert secret["workload_tag"] == f"search-token={redacted_form(SK)}"
    assert staged["compose"]["workload_tag"] == redacted_form("sk-AbCdEfGhIjKlMnOpQrStUvWx")

    sql = staged[SQL_ID]  # SQL text is data: stored verbatim, never executed
    assert sql["model"] == SQL_MODEL
    assert json.loads(sql["tags"])["project"] == SQL_PROJECT
    assert sql["workload_tag"] == SQL_WORKLOAD.replace("{tags.project}", SQL_PROJECT)
    assert sql["owner_tag"] == SQL_OWNER and sql["allocation_rule_id"] == "sql'; --"
    packets = by(rows(db_url, "review_packets"), "workload_tag")
    assert packets[sql["workload_tag"]]["owner_tag"] == SQL_OWNER

    raw = {(r["source_name"], r["source_line"]): r["raw_redacted"] for r in quarantined}
    escaped = raw[("log.jsonl", line_of("escaped"))]
    assert escaped.startswith('{"attempt_id": "escaped", "api_key_id": "' + redacted_form(SK))
    assert redacted_form("Bearer tok3n") in escaped and "PLANTED-PROMPT" not in escaped
    assert '"model": "gpt\\u0000"' in escaped  # an escape is text: storable as written
    ids = {r["attempt_id"] for r in quarantined}
    assert "x" * 256 in ids  # an overlong id is kept cut to 256 characters, findable
    assert "nul-bad\ufffd" in ids

    # The file's name is stored redacted where a record names its file. The folder's own
    # name holds a secret, so no file of it is indexed (source_files stores paths as they
    # are, and storing these would change them): every run reads them all.
    assert "from-secret-file" in staged
    (from_file,) = [r for r in quarantined if r["attempt_id"] == "bad-in-secret-file"]
    assert from_file["source_name"] == "token=" + redacted_form(SK) + ".jsonl"
    assert rows(db_url, "source_files", cycle=None) == []
    assert extraction["source_location"].endswith("logs_" + redacted_form(SK))

    assert leaks(db_url, planted=PLANTED) == []


def test_blocking_checks_find_a_secret_anywhere_in_any_text_column(tmp_path, db_url, monkeypatch):
    """The safety net behind redaction: with redaction switched off, the SPEC 2.5
    patterns are found inside longer values of every kind of text column."""
    secret_id = f"id {SK}"
    records_ = [
        at(0, "clean"),
        at(1, "in-error", error_type=f"upstream said: {BEARER}; retry"),
        at(2, "in-tier", service_tier=f"tier-{JWT}"),
        at(3, "in-tag", tags={"team": "search", "project": "web", "note": f"token={SK}"}),
        at(4, "in-fingerprint", prompt_fingerprint=f"fp:{SK}"),
        at(5, secret_id),
        at(6, "look-alike", tags={"team": "risk-assessment-pipeline-v2", "x": "sk-short"}),
        '{"attempt_id": "mal", "note": "x=' + SK + '" oops',
        at(8, "q-clean", status_code=True),
    ]
    cfg = write_scenario(tmp_path, [r if isinstance(r, str) else json.dumps(r) for r in records_])
    monkeypatch.setattr(records, "redact_value", lambda value: (value, False))
    monkeypatch.setattr(records, "redact_text", lambda text: (text, 0))
    result = run(cfg, db_url, expect_success=False)

    assert not result.success
    evaluated = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    attempts = evaluated[("request_attempts", "no_secret_or_content")]
    assert not attempts.passed and attempts.severity == dg.AssetCheckSeverity.ERROR
    sample = attempts.metadata["failing_sample"].value
    assert sorted(r["attempt_id"] for r in sample) == sorted(
        ["in-error", "in-tier", "in-tag", "in-fingerprint", "(withheld: holds a secret)"]
    )
    assert SK not in json.dumps(sample)
    quarantine = evaluated[("quarantined_records", "no_secret_or_content")]
    assert not quarantine.passed
    assert [r["source_line"] for r in quarantine.metadata["failing_sample"].value] == [8]
    assert rows(db_url, "request_attempts") == [] and rows(db_url, "quarantined_records") == []


def test_the_ledger_scan_finds_what_it_looks_for():
    # so that an empty leaks() list above means something
    assert problems_of("risk-assessment-pipeline-v2 " + redacted_form(SK)) == []
    assert problems_of(f"x={SK}") == [f"secret {SK!r}"]
    assert problems_of("a\x00b") == ["NUL or lone surrogate"]
    assert problems_of("a\ud800") == ["NUL or lone surrogate"]
    assert problems_of('{"Prompt": 1}', keyed=True) == ['content key "prompt":']
    assert problems_of('{"Prompt": 1}') == []
    assert problems_of("see PLANTED", planted=["PLANTED"]) == ["planted 'PLANTED'"]
