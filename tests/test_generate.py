"""Tests for the deterministic sample generator (tokenreview_pipeline.sample) and its command
line (``tokenreview generate``)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import ipaddress
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from tokenreview_pipeline.cli import main
from tokenreview_pipeline.config import Thresholds, load_config
from tokenreview_pipeline.contract import TOKEN_FIELDS
from tokenreview_pipeline.cycles import CycleError, parse_cycle, partitions_def
from tokenreview_pipeline.pricing import parse_pricing
from tokenreview_pipeline.sample import (
    BAD_RECORD_KINDS,
    CSV_COLUMNS,
    PRICES,
    UNPRICED_MODEL,
    UNPRICED_TIER,
    generate_sample,
)

CYCLE = date(2026, 11, 16)
CYCLE_START = datetime(2026, 11, 16, tzinfo=timezone.utc)
CYCLE_END = CYCLE_START + timedelta(days=7)
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "tokenreview_pipeline" / "sample"
# The exact call documented in tokenreview_pipeline/sample/README.md.
SAMPLE_KWARGS = {"seed": 7, "attempts": 1500, "cycle_start": CYCLE, "gzip_share": 0.75}


def _data_files(folder: Path) -> list[Path]:
    """The generated files in a folder: not the README, the bundled sample's code, nor what
    running it leaves (``.dagster/`` beside the config, ``__pycache__``), nor the sample in
    the other input formats (``formats/``, tests/test_sample_formats.py), nor the data the
    generator reads (``world_data/``)."""
    return [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and p.name != "README.md"
        and p.suffix not in (".py", ".pyc")
        and not any(
            part.startswith(".") or part in ("__pycache__", "world_data")
            for part in p.relative_to(folder).parts
        )
        and p.relative_to(folder).parts[0] != "formats"
    ]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in _data_files(folder)
    }


def _raw_lines(folder: Path) -> list[tuple[str, bytes]]:
    """Every physical line of the JSONL / gzip shards (newline kept)."""
    out = []
    for path in sorted((folder / "request_logs").iterdir()):
        if path.name.endswith(".jsonl.gz"):
            data = gzip.decompress(path.read_bytes())
        elif path.name.endswith(".jsonl"):
            data = path.read_bytes()
        else:
            continue
        out.extend((path.name, line) for line in data.splitlines(keepends=True))
    return out


def _csv_rows(folder: Path) -> list[dict[str, str]]:
    with open(
        folder / "request_logs" / "legacy-proxy-export.csv", newline="", encoding="utf-8"
    ) as f:
        return list(csv.DictReader(f))


def _records(folder: Path) -> list[dict]:
    """Parsed, well-formed records (JSON objects and CSV rows, cells converted)."""
    recs = []
    for _, line in _raw_lines(folder):
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(obj, dict):
            recs.append(obj)
    for row in _csv_rows(folder):
        rec: dict = {}
        for key, cell in row.items():
            if cell == "":
                continue
            if key == "tags":
                rec[key] = json.loads(cell)
            elif key in ("client_retry_count", "status_code", "gateway_retries", *TOKEN_FIELDS):
                rec[key] = int(cell) if cell.isdigit() else cell
            elif key == "latency_ms":
                rec[key] = float(cell)
            else:
                rec[key] = cell
        recs.append(rec)
    return recs


def _ts(rec: dict) -> datetime | None:
    try:
        value = datetime.fromisoformat(rec["timestamp"].replace("Z", "+00:00"))
    except (KeyError, AttributeError, ValueError):
        return None
    return value if value.tzinfo is not None else None


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "a"
    return generate_sample(out, seed=7, attempts=1500, cycle_start=CYCLE)


@pytest.fixture(scope="module")
def records(sample):
    return _records(sample.outdir)


def test_same_seed_gives_identical_bytes(sample, tmp_path):
    again = generate_sample(tmp_path / "b", seed=7, attempts=1500, cycle_start=CYCLE)
    assert _digest(sample.outdir) == _digest(again.outdir)
    assert again.attempts_written == sample.attempts_written


def test_different_seed_differs(sample, tmp_path):
    other = generate_sample(tmp_path / "c", seed=8, attempts=1500, cycle_start=CYCLE)
    a, b = _digest(sample.outdir), _digest(other.outdir)
    logs = [k for k in a if k.startswith("request_logs")]
    assert any(a[k] != b.get(k) for k in logs)


def test_result_and_file_types(sample):
    assert sample.config_path == sample.outdir / "tokenreview.yaml"
    assert sample.cycle_ids == ["2026-11-09", "2026-11-16", "2026-11-23"]
    assert all(p.exists() for p in sample.files)
    names = [p.name for p in sample.files if p.parent.name == "request_logs"]
    assert sum(n.endswith(".csv") for n in names) == 1
    assert sum(n.endswith(".jsonl.gz") for n in names) >= 3
    assert sum(n.endswith(".jsonl") for n in names) >= 3
    assert names == sorted(names)
    # gzip shards are deterministic: no file name, mtime 0
    gz = next(p for p in sample.files if p.name.endswith(".gz"))
    header = gz.read_bytes()[:10]
    assert header[3] & 0x08 == 0 and header[4:8] == b"\0\0\0\0"


def test_attempts_written_counts_lines_and_rows(sample):
    lines = [line for _, line in _raw_lines(sample.outdir) if line.strip()]
    rows = _csv_rows(sample.outdir)
    assert len(lines) + len(rows) == sample.attempts_written == 1500
    assert sum(sample.records_by_file.values()) == 1500


@pytest.mark.parametrize("attempts", [1, 7, 40, 333])
def test_attempts_written_exact_for_small_sizes(tmp_path, attempts):
    result = generate_sample(tmp_path / "s", attempts=attempts, seed=3)
    lines = [line for _, line in _raw_lines(result.outdir) if line.strip()]
    rows = (
        _csv_rows(result.outdir)
        if (result.outdir / "request_logs" / "legacy-proxy-export.csv").exists()
        else []
    )
    assert len(lines) + len(rows) == result.attempts_written
    assert result.attempts_written in (attempts, attempts + 1)
    if attempts >= 40:
        assert result.attempts_written == attempts


def test_config_keys_and_files_load(sample):
    root = sample.outdir
    cfg = yaml.safe_load(sample.config_path.read_text())
    assert cfg["cadence"] == "weekly"
    assert cfg["provider_name"] == "CometAPI"
    assert cfg["database_url"] == "sqlite:///tokenreview.db"
    assert cfg["request_logs"] == {"kind": "files", "path": "request_logs"}
    assert cfg["pricing"] == {"url": "pricing.json", "format": "tokenreview", "max_age_days": 30}
    assert cfg["unit_metric"] in ("cost_per_1k_tokens", "cost_per_successful_request")
    assert set(cfg["thresholds"]) == {
        "min_sample_size",
        "max_unknown_retry_share",
        "max_source_age_days",
        "client_timeout_ms",
        "fingerprint_window_s",
        "retry_span_s",
    }
    for key in ("allocation_rules", "maintenance_windows", "known_sources", "evidence_sources"):
        assert (root / cfg[key]).is_file(), key
        assert yaml.safe_load((root / cfg[key]).read_text())
    assert (root / cfg["request_logs"]["path"]).is_dir()

    pricing = json.loads((root / "pricing.json").read_text())
    assert pricing["source_url"] == "https://apidoc.cometapi.com/pricing/about-pricing"
    assert pricing["currency"] == "USD"
    priced = {m["model"] for m in pricing["models"]}
    assert priced == set(PRICES) and 6 <= len(priced) <= 8
    assert UNPRICED_MODEL not in priced
    assert all(m["input_per_1m"] >= 0 and m["output_per_1m"] >= 0 for m in pricing["models"])

    windows = yaml.safe_load((root / "maintenance_windows.yaml").read_text())["windows"]
    absolute = [w for w in windows if "recurring" not in w]
    recurring = [w for w in windows if "recurring" in w]
    assert len(absolute) == 1 and len(recurring) == 1
    start = datetime.fromisoformat(absolute[0]["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(absolute[0]["end"].replace("Z", "+00:00"))
    assert CYCLE_START <= start < end <= CYCLE_END
    assert recurring[0]["recurring"] == "daily"
    assert recurring[0]["timezone"] == "Asia/Shanghai"
    assert recurring[0]["end_time"] < recurring[0]["start_time"]  # crosses midnight

    known = yaml.safe_load((root / "known_sources.yaml").read_text())
    versions = {ipaddress.ip_network(c).version for c in known["source_cidrs"]}
    assert versions == {4, 6}
    assert known["api_key_ids"]

    sources = yaml.safe_load((root / "evidence_sources.yaml").read_text())["sources"]
    assert [s["area"] for s in sources] == ["pricing", "support", "allocation", "unit_metric"]
    for s in sources:
        accessed = date.fromisoformat(s["accessed_on"])
        assert CYCLE - timedelta(days=10) <= accessed < CYCLE

    rules = yaml.safe_load((root / "allocation_rules.yaml").read_text())["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert all("owner_tag" in r["assign"] and "workload_tag" in r["assign"] for r in rules)
    owners_by_workload = defaultdict(set)
    for r in rules:
        owners_by_workload[r["assign"]["workload_tag"]].add(r["assign"]["owner_tag"])
    assert any(len(o) > 1 for o in owners_by_workload.values())  # one workload, two owners
    teams_in_rules = {
        t for r in rules for t in [((r.get("match") or {}).get("tags") or {}).get("team")]
    }
    assert "labs" not in teams_in_rules  # labs traffic is unallocated


def test_pricing_json_carries_cache_prices_tiers_and_a_long_context_band(sample):
    raw = (sample.outdir / "pricing.json").read_bytes()
    snapshot = parse_pricing(
        raw, fmt="tokenreview", configured_url="pricing.json", accessed_at=CYCLE_START
    )
    assert {p.model for p in snapshot.prices} == set(PRICES)
    cached = [p for p in snapshot.prices if p.prices.cached_input_per_1m is not None]
    assert len(cached) >= 6
    assert any(p.prices.cache_write_per_1m is not None for p in snapshot.prices)
    tiers = {name for p in snapshot.prices for name, _ in p.tiers}
    assert {"batch", "flex", "priority"} <= tiers and UNPRICED_TIER not in tiers
    long_context = [p for p in snapshot.prices if p.long_context]
    assert [e.above_prompt_tokens for p in long_context for e in p.long_context] == [200_000]
    (model,) = long_context
    assert model.tier("batch").long_context  # a tier with a long-context entry of its own


def test_token_classes_service_tiers_and_long_prompts(records):
    def valid(r: dict) -> bool:  # the defective lines aside (negative or inconsistent)
        counts = [r.get(f, 0) for f in TOKEN_FIELDS]
        return all(type(c) is int and c >= 0 for c in counts) and (
            counts[2] + counts[3] <= counts[0] and counts[4] <= counts[1]
        )

    reported = [r for r in records if isinstance(r.get("prompt_tokens"), int)]
    attempts = [r for r in reported if valid(r)]
    assert len(reported) - len(attempts) <= 5  # the defective lines only
    classes = defaultdict(set)
    for r in attempts:
        cached, writes = r.get("cached_prompt_tokens", 0), r.get("cache_write_tokens", 0)
        reasoning = r.get("reasoning_tokens", 0)
        # classes are parts of their totals (SPEC 2.1) and only written when non-zero
        assert 0 <= cached + writes <= r["prompt_tokens"], r
        assert 0 <= reasoning <= r.get("completion_tokens", 0), r
        for field, value in (("cached", cached), ("writes", writes), ("reasoning", reasoning)):
            if value:
                classes[field].add(r["model"])
    # cached reads on every provider that caches, writes on Anthropic's, reasoning on the
    # reasoning models
    assert {"gpt-4o", "gpt-4o-mini", "claude-3-5-haiku-20241022", "deepseek-chat"} <= classes[
        "cached"
    ]
    assert classes["writes"] == {"claude-3-5-haiku-20241022", "claude-sonnet-4-20250514"}
    assert classes["reasoning"] == {"o4-mini", "claude-sonnet-4-20250514"}
    for name in ("cached_prompt_tokens", "cache_write_tokens", "reasoning_tokens"):
        assert not any(r.get(name) == 0 for r in records if isinstance(r.get(name), int))

    tiers = defaultdict(set)
    for r in records:
        tiers[r.get("service_tier")].add(r.get("model"))
    assert {None, "default", "auto", "batch", "flex", "priority", UNPRICED_TIER} <= set(tiers)
    # every tier the traffic names is priced for its model, but for the unpriced tier
    for tier, models in tiers.items():
        if tier in (None, "default", "auto", UNPRICED_TIER):
            continue
        for model in models - {UNPRICED_MODEL}:
            assert tier in PRICES[model].get("tiers", {}), (tier, model)

    # prompts at and over the 200k long-context threshold, on the model that has the band
    long = [r for r in attempts if r["prompt_tokens"] >= 200_000]
    assert {r["model"] for r in long} == {"claude-sonnet-4-20250514"}
    assert "long_context" in PRICES["claude-sonnet-4-20250514"]
    assert any(r["prompt_tokens"] == 200_000 for r in long)  # at the threshold: base band
    assert any(r["prompt_tokens"] > 200_000 and r.get("service_tier") == "batch" for r in long)
    assert any(r["prompt_tokens"] > 200_000 and r.get("cache_write_tokens") for r in long)
    assert any(r.get("gateway_retries") for r in records)


def test_every_status_and_error_kind_present(records):
    pairs = {(r.get("status_code"), r.get("error_type")) for r in records}
    statuses = {s for s, _ in pairs}
    for status in (200, 400, 401, 408, 409, 429, 500, 502, 503, 504, 524):
        assert status in statuses, status
    assert (429, "rate_limit") in pairs
    assert (429, "insufficient_quota") in pairs
    assert (503, "overloaded") in pairs
    for error in ("timeout", "read_timeout", "connect_timeout", "connection_error"):
        assert (None, error) in pairs, error
    no_response = [r for r in records if r.get("status_code") is None and not r.get("error_type")]
    assert any((r.get("latency_ms") or 0) >= 60_000 for r in no_response)
    assert any(r.get("latency_ms") is None for r in no_response)
    assert any(isinstance(s, int) and (100 <= s < 200) for s in statuses)
    assert any(isinstance(s, int) and (300 <= s < 400) for s in statuses)
    # a 200 followed by a retry of the same logical request (client_handling)
    by_rid = defaultdict(list)
    for r in records:
        if r.get("request_id") and _ts(r):
            by_rid[r["request_id"]].append(r)
    assert any(
        len(g) > 1 and sorted(g, key=_ts)[0].get("status_code") == 200 for g in by_rid.values()
    )
    # failed attempts sometimes report prompt tokens
    assert any(r.get("status_code") != 200 and (r.get("prompt_tokens") or 0) > 0 for r in records)


def test_grouping_paths_and_retry_counts(records):
    assert any(r.get("request_id") for r in records)
    assert any(not r.get("request_id") and r.get("prompt_fingerprint") for r in records)
    content = [r for r in records if not r.get("prompt_fingerprint") and not r.get("request_id")]
    assert any("messages" in r for r in content)
    assert any("input" in r for r in content)
    assert any("prompt" in r for r in content)
    assert any(not any(k in r for k in ("messages", "input", "prompt")) for r in content)
    counts = {r.get("client_retry_count") for r in records}
    assert {0, 1, 2} <= counts and None in counts
    # orphan retries: a request_id whose earliest attempt reports a retry count > 0
    by_rid = defaultdict(list)
    for r in records:
        if r.get("request_id") and _ts(r) and isinstance(r.get("client_retry_count"), int):
            by_rid[r["request_id"]].append(r)
    assert any(min(g, key=_ts)["client_retry_count"] > 0 for g in by_rid.values())
    # the fingerprint of content records is the SPEC 2.1 canonical SHA-256
    fps = {r["prompt_fingerprint"] for r in records if r.get("prompt_fingerprint")}
    canon = {
        hashlib.sha256(
            json.dumps(
                r["messages"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        ).hexdigest()
        for r in content
        if "messages" in r
    }
    assert fps & canon  # a retry logged with the fingerprint of a first attempt's messages


def test_traffic_mix(records):
    stamps = [t for t in map(_ts, records) if t]
    assert any(t < CYCLE_START for t in stamps) and any(t >= CYCLE_END for t in stamps)
    inside = sum(CYCLE_START <= t < CYCLE_END for t in stamps)
    assert inside / len(stamps) > 0.8
    assert {r.get("endpoint") for r in records} >= {
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/responses",
    }
    envs = {r.get("environment") for r in records}
    assert {"production", "staging", None} <= envs
    teams = {(r.get("tags") or {}).get("team") for r in records if isinstance(r.get("tags"), dict)}
    assert {"search", "support", "data-platform", "growth", "labs"} <= teams
    assert any(
        "request_class" in (r.get("tags") or {}) for r in records if isinstance(r.get("tags"), dict)
    )
    assert any(r.get("model") == UNPRICED_MODEL for r in records)
    ips = [ipaddress.ip_address(r["source_ip"]) for r in records if r.get("source_ip")]
    assert any(ip.version == 6 for ip in ips)
    known = [ipaddress.ip_network(c) for c in ("10.20.0.0/16", "10.42.0.0/16", "2001:db8:42::/48")]
    assert any(not any(ip.version == n.version and ip in n for n in known) for ip in ips)
    assert any("source_ip" not in r for r in records)
    # timestamps in several notations
    raw = [r["timestamp"] for r in records if isinstance(r.get("timestamp"), str)]
    assert any(t.endswith("Z") for t in raw) and any(t.endswith("+08:00") for t in raw)


def test_boundary_crossing_requests(records):
    groups = defaultdict(list)
    for r in records:
        key = r.get("request_id") or r.get("prompt_fingerprint")
        if key and _ts(r):
            groups[key].append(_ts(r))
    crossing_end = [g for g in groups.values() if min(g) < CYCLE_END <= max(g)]
    crossing_start = [g for g in groups.values() if min(g) < CYCLE_START <= max(g)]
    assert crossing_end and crossing_start
    assert all(max(g) - min(g) < timedelta(hours=1) for g in crossing_end)


def test_maintenance_window_failures_followed_by_retries(sample, records):
    windows = yaml.safe_load((sample.outdir / "maintenance_windows.yaml").read_text())["windows"]
    w = next(w for w in windows if "start" in w and "recurring" not in w)
    start = datetime.fromisoformat(w["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(w["end"].replace("Z", "+00:00"))
    failed = [
        r for r in records if _ts(r) and start <= _ts(r) < end and r.get("status_code") != 200
    ]
    assert failed
    retried = {r.get("prompt_fingerprint") or r.get("request_id") for r in failed} - {None}
    later = [
        r
        for r in records
        if (r.get("prompt_fingerprint") or r.get("request_id")) in retried
        and (r.get("client_retry_count") or 0) >= 1
    ]
    assert later

    # recurring window: 23:30-00:30 Asia/Shanghai = 15:30-16:30 UTC
    def in_recurring(r):
        t = _ts(r)
        return t is not None and 15 * 60 + 30 <= t.hour * 60 + t.minute < 16 * 60 + 30

    assert any(in_recurring(r) and r.get("status_code") != 200 for r in records)


def test_secrets_present_in_raw_input(sample):
    text = b"".join(line for _, line in _raw_lines(sample.outdir)).decode("utf-8", "replace")
    text += (sample.outdir / "request_logs" / "legacy-proxy-export.csv").read_text()
    assert re.search(r'"api_key_id": ?"sk-[A-Za-z0-9]{40}"', text)
    assert re.search(r'"Bearer [A-Za-z0-9]{20,}"', text)
    assert re.search(r'"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+"', text)
    assert re.search(r'"authorization": ?"Bearer sk-', text)  # inside a dropped content field
    assert "risk-assessment-pipeline-v2" in text  # a look-alike that must not be redacted


def test_bad_record_kinds_present(sample):
    assert set(sample.bad_records) == set(BAD_RECORD_KINDS)
    lines = _raw_lines(sample.outdir)
    raws = [line for _, line in lines]
    assert b"\n" in raws  # blank line
    assert any(line.endswith(b"\r\n") for line in raws)
    parsed, not_utf8, malformed = [], 0, 0
    for line in raws:
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            not_utf8 += 1
            continue
        try:
            parsed.append(json.loads(text))
        except ValueError:
            malformed += 1
    assert not_utf8 >= 1 and malformed >= 1
    assert any(isinstance(p, list) for p in parsed)
    objs = [p for p in parsed if isinstance(p, dict)]
    assert any("model" not in o for o in objs)
    assert any("timestamp" not in o for o in objs)
    assert any("api_key_id" in o and o["api_key_id"] is None for o in objs)
    crc = [o.get("client_retry_count") for o in objs]
    assert "1" in crc and any(v is True for v in crc) and any(type(v) is float for v in crc)
    assert any(isinstance(o.get("status_code"), str) for o in objs)
    assert any(isinstance(o.get("latency_ms"), int | float) and o["latency_ms"] < 0 for o in objs)
    assert any(
        isinstance(o.get("tags"), dict) and not all(isinstance(v, str) for v in o["tags"].values())
        for o in objs
    )
    assert any((o.get("completion_tokens") or 0) < 0 for o in objs)
    assert any((o.get("cached_prompt_tokens") or 0) < 0 for o in objs)
    assert any(
        (o.get("cached_prompt_tokens") or 0) + (o.get("cache_write_tokens") or 0)
        > (o.get("prompt_tokens") or 0)
        for o in objs
    )
    stamps = [o.get("timestamp") for o in objs if isinstance(o.get("timestamp"), str)]
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+", s) for s in stamps)  # no timezone
    assert any(s.startswith("2026-11-31") for s in stamps)  # invalid date
    # exact duplicates (same line twice; same object re-serialized) and a reused attempt_id
    stripped = [line.rstrip(b"\r\n") for line in raws if line.strip()]
    assert len(stripped) > len(set(stripped))
    canon = [json.dumps(o, sort_keys=True) for o in objs]
    assert len(canon) - len(set(canon)) >= 2
    by_id = defaultdict(set)
    for o, c in zip(objs, canon, strict=True):
        if isinstance(o.get("attempt_id"), str):
            by_id[o["attempt_id"]].add(c)
    assert any(len(v) > 1 for v in by_id.values())
    # the CSV has one row with a non-integer retry count
    assert any(row["client_retry_count"] == "two" for row in _csv_rows(sample.outdir))


def test_no_bad_records(tmp_path):
    result = generate_sample(tmp_path / "clean", attempts=400, bad_records=False)
    assert result.bad_records == {}
    for _, line in _raw_lines(result.outdir):
        obj = json.loads(line.decode("utf-8"))
        assert isinstance(obj, dict) and _ts(obj) is not None
        assert line.endswith(b"\n") and not line.endswith(b"\r\n")


def test_csv_header_and_json_tags(sample):
    path = sample.outdir / "request_logs" / "legacy-proxy-export.csv"
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert tuple(header) == CSV_COLUMNS
    rows = _csv_rows(sample.outdir)
    tagged = [json.loads(r["tags"]) for r in rows if r["tags"]]
    assert tagged and all(isinstance(t, dict) for t in tagged)
    assert any(r["tags"] == "" for r in rows)  # empty cell = absent
    assert any(r["status_code"] == "" for r in rows) or any(r["request_id"] == "" for r in rows)
    assert not any(c in header for c in ("messages", "prompt", "input"))


def test_other_cadences_and_cycle_validation(tmp_path):
    daily = generate_sample(
        tmp_path / "d", attempts=300, cadence="daily", cycle_start=date(2026, 11, 18)
    )
    assert daily.cycle_ids == ["2026-11-17", "2026-11-18", "2026-11-19"]
    assert "cadence: daily" in daily.config_path.read_text()
    monthly = generate_sample(
        tmp_path / "m", attempts=300, cadence="monthly", cycle_start=date(2026, 11, 1)
    )
    assert monthly.cycle_ids == ["2026-10-01", "2026-11-01", "2026-12-01"]
    with pytest.raises(ValueError, match="2026-11-16"):
        generate_sample(tmp_path / "x", cycle_start=date(2026, 11, 18))
    with pytest.raises(ValueError, match="2026-12-01"):
        generate_sample(tmp_path / "x", cadence="monthly", cycle_start=date(2026, 11, 20))
    with pytest.raises(ValueError):
        generate_sample(tmp_path / "x", csv_share=0.8, gzip_share=0.5)


def test_regenerating_removes_stale_shards(tmp_path):
    out = tmp_path / "r"
    generate_sample(out, attempts=200, cycle_start=date(2026, 11, 16))
    (out / "request_logs" / "notes.txt").write_text("kept")
    second = generate_sample(out, attempts=200, cycle_start=date(2026, 12, 7))
    names = sorted(p.name for p in (out / "request_logs").iterdir())
    assert "notes.txt" in names
    assert not any("2026-11-1" in n for n in names)
    assert sorted(p.name for p in second.files if p.parent.name == "request_logs") == sorted(
        n for n in names if n != "notes.txt"
    )


def test_cycle_start_must_be_a_cycle_start_of_the_cadence(tmp_path):
    # the message is the one of --cycle everywhere (cycles.parse_cycle): it names the nearest
    with pytest.raises(CycleError) as err:
        generate_sample(tmp_path / "x", cycle_start=date(2026, 11, 19))
    with pytest.raises(CycleError) as expected:
        parse_cycle("2026-11-19", "weekly")
    assert str(err.value) == str(expected.value)
    assert "nearest cycle start is 2026-11-16" in str(err.value)
    with pytest.raises(CycleError, match="unknown cadence"):
        generate_sample(tmp_path / "x", cadence="hourly")
    assert not (tmp_path / "x").exists()  # nothing written for a bad argument


def test_default_cycle_follows_the_cadence(tmp_path):
    # without cycle_start: the cycle of the cadence that holds 2026-11-16
    monthly = generate_sample(tmp_path / "m", attempts=100, cadence="monthly")
    assert monthly.cycle_ids[1] == "2026-11-01"
    daily = generate_sample(tmp_path / "d", attempts=100, cadence="daily")
    assert daily.cycle_ids[1] == "2026-11-16"
    january = generate_sample(
        tmp_path / "j", attempts=100, cadence="monthly", cycle_start=date(2027, 1, 1)
    )
    assert january.cycle_ids == ["2026-12-01", "2027-01-01", "2027-02-01"]


def test_config_thresholds_are_the_config_defaults(sample):
    config = load_config(sample.config_path)
    assert config.thresholds == Thresholds()
    records = _records(sample.outdir)
    timeout_ms = Thresholds().client_timeout_ms
    timeouts = [r for r in records if r.get("error_type") in ("timeout", "read_timeout")]
    assert timeouts and all(r["latency_ms"] >= timeout_ms for r in timeouts)


@pytest.mark.parametrize(
    ("cadence", "cycle_start", "first"),
    [
        ("weekly", date(2026, 11, 16), "2026-11-09"),
        ("daily", date(2026, 11, 18), "2026-11-17"),
        ("monthly", date(2026, 11, 1), "2026-10-01"),
    ],
)
def test_first_cycle_is_the_first_cycle_with_data(tmp_path, cadence, cycle_start, first):
    result = generate_sample(
        tmp_path / cadence, attempts=600, cadence=cadence, cycle_start=cycle_start
    )
    config = load_config(result.config_path)
    assert (
        config.first_cycle == date.fromisoformat(first) == date.fromisoformat(result.cycle_ids[0])
    )
    stamps = [t for t in map(_ts, _records(result.outdir)) if t]
    earliest = min(stamps)
    assert (
        parse_cycle(first, cadence).start
        <= earliest
        < parse_cycle(result.cycle_ids[1], cadence).start
    )
    # Dagster's partitions start there: no empty partitions before the data
    now = parse_cycle(result.cycle_ids[2], cadence).end
    keys = partitions_def(config.cadence, config.first_cycle).get_partition_keys(current_time=now)
    assert keys == result.cycle_ids


def test_cli_entry_point(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "cli"), "--seed", "3", "--attempts", "250"]) == 0
    out = capsys.readouterr().out
    assert "wrote 250 records" in out and "cycles: 2026-11-09, 2026-11-16, 2026-11-23" in out
    assert (tmp_path / "cli" / "tokenreview.yaml").is_file()
    # the same bytes as the function with the same arguments
    assert _digest(tmp_path / "cli") == _digest(
        generate_sample(tmp_path / "fn", seed=3, attempts=250).outdir
    )


def test_cli_options_reach_the_generator(tmp_path, capsys):
    args = ["--seed", "5", "--attempts", "400", "--cadence", "monthly", "--cycle", "2026-11-01"]
    args += ["--csv-share", "0.2", "--gzip-share", "0.5", "--no-bad-records"]
    assert main(["generate", str(tmp_path / "cli"), *args]) == 0
    capsys.readouterr()
    expected = generate_sample(
        tmp_path / "fn",
        seed=5,
        attempts=400,
        cadence="monthly",
        cycle_start=date(2026, 11, 1),
        csv_share=0.2,
        gzip_share=0.5,
        bad_records=False,
    )
    assert _digest(tmp_path / "cli") == _digest(expected.outdir)
    assert expected.bad_records == {} and expected.cycle_ids[1] == "2026-11-01"
    assert "cadence: monthly" in (tmp_path / "cli" / "tokenreview.yaml").read_text()
    by_kind = defaultdict(int)
    for name, n in expected.records_by_file.items():
        by_kind[name.split("-")[0]] += n
    assert by_kind["legacy"] / 400 == pytest.approx(0.2, abs=0.08)
    assert by_kind["edge"] / 400 == pytest.approx(0.5, abs=0.1)


def test_cli_share_zero_writes_no_such_file(tmp_path, capsys):
    out = tmp_path / "none"
    assert main(["generate", str(out), "--attempts", "300", "--csv-share", "0"]) == 0
    assert main(["generate", str(out), "--attempts", "300", "--gzip-share", "0"]) == 0
    capsys.readouterr()
    names = [p.name for p in (out / "request_logs").iterdir()]
    assert not any(n.endswith(".gz") for n in names)  # the second run removed the shards
    assert "legacy-proxy-export.csv" in names and any(n.startswith("gateway-") for n in names)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cycle", "2026-11-17"], "the nearest cycle start is 2026-11-16"),
        (["--cadence", "monthly", "--cycle", "2026-11-20"], "nearest cycle start is 2026-12-01"),
        (["--csv-share", "0.8", "--gzip-share", "0.5"], "csv_share and gzip_share"),
        (["--csv-share", "-0.1"], "csv_share and gzip_share"),
        (["--attempts", "0"], "attempts must be a positive integer"),
    ],
)
def test_cli_bad_values_exit_2_with_a_message(tmp_path, capsys, args, message):
    assert main(["generate", str(tmp_path / "bad"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tokenreview: error: ") and message in err
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cadence", "hourly"], "invalid choice: 'hourly'"),
        (["--csv-share", "a lot"], "invalid float value: 'a lot'"),
        (["--cycle", "soon"], "'soon' is not a date YYYY-MM-DD"),
    ],
)
def test_cli_unparsable_values_exit_2_with_a_message(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(["generate", str(tmp_path / "bad"), *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_bundled_sample_matches_generator(tmp_path):
    assert (SAMPLE_DIR / "README.md").is_file()
    total = sum(p.stat().st_size for p in _data_files(SAMPLE_DIR))
    assert total < 300 * 1024
    fresh = generate_sample(tmp_path / "fresh", **SAMPLE_KWARGS)
    assert _digest(SAMPLE_DIR) == _digest(fresh.outdir)
    readme = (SAMPLE_DIR / "README.md").read_text()
    assert "synthetic" in readme.lower()
    assert "gzip_share=0.75" in readme and "attempts=1500" in readme
