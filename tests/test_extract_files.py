"""Reading a folder of request-log files (SPEC 2.1, 4.1)."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

import pytest

from tokenreview_pipeline.extract.files import iter_folder_records, list_log_files
from tokenreview_pipeline.extract.records import MAX_RAW_BYTES, MAX_RECORD_BYTES

SK = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"


def rec(attempt_id: str, **extra: object) -> dict[str, object]:
    return {
        "attempt_id": attempt_id,
        "timestamp": "2026-11-18T02:00:00Z",
        "api_key_id": "key_a1",
        "model": "gpt-4o-mini",
        "endpoint": "/v1/chat/completions",
        **extra,
    }


def jsonl(*records: object) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def ids(records: list) -> list[object]:
    return [r.fields["attempt_id"] if r.fields else r.defect for r in records]


def test_sorted_by_bytes_extensions_only_not_recursive(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_bytes(jsonl(rec("b1")))
    (tmp_path / "B.jsonl").write_bytes(jsonl(rec("B1")))
    (tmp_path / "_c.csv").write_text(
        "attempt_id,timestamp,api_key_id,model,endpoint\nc1,2026-11-18T02:00:00Z,k,m,/e\n"
    )
    with gzip.open(tmp_path / "a.jsonl.gz", "wb") as f:
        f.write(jsonl(rec("a1"), rec("a2")))
    (tmp_path / "z.json").write_bytes(jsonl(rec("ignored")))
    (tmp_path / "y.txt").write_bytes(jsonl(rec("ignored")))
    (tmp_path / "x.csv.gz").write_bytes(b"ignored")
    (tmp_path / "x.JSONL").write_bytes(jsonl(rec("ignored")))
    (tmp_path / ".hidden.jsonl").write_bytes(jsonl(rec("ignored")))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.jsonl").write_bytes(jsonl(rec("ignored")))
    (tmp_path / "dir.jsonl").mkdir()

    assert [p.name for p in list_log_files(tmp_path)] == [
        "B.jsonl",
        "_c.csv",
        "a.jsonl.gz",
        "b.jsonl",
    ]
    records = list(iter_folder_records(str(tmp_path)))
    assert ids(records) == ["B1", "c1", "a1", "a2", "b1"]
    assert [(r.source_name, r.source_line) for r in records] == [
        ("B.jsonl", 1),
        ("_c.csv", 2),
        ("a.jsonl.gz", 1),
        ("a.jsonl.gz", 2),
        ("b.jsonl", 1),
    ]
    assert all(r.source_page is None for r in records)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="request log folder not found"):
        iter_folder_records(tmp_path / "nope")
    (tmp_path / "file.jsonl").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        iter_folder_records(tmp_path / "file.jsonl")


def test_empty_folder_and_files(tmp_path: Path) -> None:
    assert list(iter_folder_records(tmp_path)) == []
    (tmp_path / "a.jsonl").write_bytes(b"")
    (tmp_path / "b.csv").write_bytes(b"")
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress(b""))
    assert list(iter_folder_records(tmp_path)) == []


def test_blank_lines_crlf_and_line_numbers(tmp_path: Path) -> None:
    data = (
        b"\xef\xbb\xbf"
        + json.dumps(rec("a1")).encode()
        + b"\r\n\r\n   \n\t\r\n"
        + json.dumps(rec("a2")).encode()
        + b"\r\n\n{broken\r\n"
        + json.dumps(rec("a3")).encode()  # last line without newline
    )
    (tmp_path / "x.jsonl").write_bytes(data)
    records = list(iter_folder_records(tmp_path))
    assert [(ids([r])[0], r.source_line) for r in records] == [
        ("a1", 1),
        ("a2", 5),
        ("malformed_json", 7),
        ("a3", 8),
    ]
    assert records[2].raw_redacted == "{broken"


def test_line_over_one_mib_is_skipped_to_its_newline(tmp_path: Path) -> None:
    big = json.dumps(rec("big", note="x" * (3 * MAX_RECORD_BYTES))).encode()
    exact = b'{"pad":"' + b"y" * (MAX_RECORD_BYTES - 10) + b'"}'
    assert len(exact) == MAX_RECORD_BYTES
    data = jsonl(rec("a1")) + big + b"\n" + exact + b"\r\n" + jsonl(rec("a2"))
    (tmp_path / "x.jsonl").write_bytes(data)
    records = list(iter_folder_records(tmp_path))
    assert [(ids([r])[0], r.source_line) for r in records] == [
        ("a1", 1),
        ("record_too_large", 2),
        ("missing_field:attempt_id", 3),
        ("a2", 4),
    ]
    assert len(records[1].raw_redacted.encode()) <= MAX_RAW_BYTES
    assert records[1].raw_redacted.startswith('{"attempt_id": "big"')


def test_gzip_streaming_and_corrupt_gzip(tmp_path: Path) -> None:
    payload = jsonl(*[rec(f"g{i}") for i in range(50)])
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(payload))
    assert ids(list(iter_folder_records(tmp_path))) == [f"g{i}" for i in range(50)]
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(payload)[:-30])
    with pytest.raises(ValueError, match=r"b\.jsonl\.gz"):
        list(iter_folder_records(tmp_path))
    (tmp_path / "b.jsonl.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"b\.jsonl\.gz"):
        list(iter_folder_records(tmp_path))


def test_invalid_utf8_line(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_bytes(jsonl(rec("a1")) + b'{"attempt_id":"\xff\xfe"}\n')
    records = list(iter_folder_records(tmp_path))
    assert ids(records) == ["a1", "invalid_encoding"]
    assert records[1].source_line == 2


def test_secrets_and_content_from_files(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_bytes(
        jsonl(rec("a1", api_key_id=SK, prompt="PROMPT-TEXT"), rec("a2", model=3, prompt="P2"))
    )
    records = list(iter_folder_records(tmp_path))
    assert records[0].redacted_values == 1
    for r in records:
        assert SK not in r.raw_redacted and "PROMPT-TEXT" not in r.raw_redacted
        assert '"prompt"' not in r.raw_redacted


# -------------------------------------------------------------------------- CSV

HEADER = "attempt_id,timestamp,request_id,api_key_id,model,endpoint,prompt_tokens,tags,prompt"


def test_csv_rows(tmp_path: Path) -> None:
    text = (
        HEADER + "\r\n"
        "a1,2026-11-18T02:00:00Z,r1,key_a1,gpt-4o,/v1/chat/completions,12,"
        '"{""team"": ""s""}",hi\r\n'
        "\r\n"
        'a2,2026-11-18T02:00:00Z,,key_a1,gpt-4o,/v1/chat,12.0,,"multi\r\nline, prompt"\r\n'
        "a3,2026-11-18T02:00:00Z,,key_a1,gpt-4o,/v1/chat,,,\r\n"
        "a4,2026-11-18T02:00:00Z,,key_a1,gpt-4o\r\n"
        ",,,,,,,,\n"
    )
    (tmp_path / "x.csv").write_bytes(text.encode())
    records = list(iter_folder_records(tmp_path))
    assert [(ids([r])[0], r.source_line) for r in records] == [
        ("a1", 2),
        ("invalid_type:prompt_tokens", 4),
        ("a3", 6),
        ("malformed_json", 7),
        ("missing_field:attempt_id", 8),
    ]
    first = records[0].fields
    assert first is not None
    assert first["prompt_tokens"] == 12 and first["tags"] == {"team": "s"}
    assert first["request_id"] == "r1"
    assert len(first["prompt_fingerprint"]) == 64
    assert records[2].fields is not None and records[2].fields["request_id"] is None
    for r in records:
        assert "multi" not in r.raw_redacted and "hi" not in r.raw_redacted
    # a misaligned row of a file with content columns does not show its text
    assert "gpt-4o" not in records[3].raw_redacted


def test_csv_header_problems(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(jsonl(rec("a1")))
    bad = tmp_path / "b.csv"
    bad.write_text("a1,2026-11-18T02:00:00Z,key_a1,gpt-4o,/v1/chat\n")
    with pytest.raises(ValueError, match=r"b\.csv.*no header row"):
        iter_folder_records(tmp_path)  # raised before any record is yielded
    bad.write_text("attempt_id,model,model\n")
    with pytest.raises(ValueError, match="repeats column"):
        iter_folder_records(tmp_path)
    bad.write_bytes(b"attempt_id,mod\xffel\n")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        iter_folder_records(tmp_path)
    bad.write_text("\n\n attempt_id , timestamp,api_key_id,model,endpoint\n")
    assert ids(list(iter_folder_records(tmp_path))) == ["a1"]


def test_csv_invalid_utf8_row_and_bom(tmp_path: Path) -> None:
    data = (
        b"\xef\xbb\xbfattempt_id,timestamp,api_key_id,model,endpoint\n"
        b"a1,2026-11-18T02:00:00Z,key_a1,gpt-\xff,/e\n"
        b"a2,2026-11-18T02:00:00Z,key_a1,gpt,/e\n"
    )
    (tmp_path / "x.csv").write_bytes(data)
    records = list(iter_folder_records(tmp_path))
    assert [(ids([r])[0], r.source_line) for r in records] == [
        ("invalid_encoding", 2),
        ("a2", 3),
    ]
    assert records[0].ts_us is not None
    assert records[0].content_sha256 is None


def test_csv_row_over_one_mib(tmp_path: Path) -> None:
    data = (
        "attempt_id,timestamp,api_key_id,model,endpoint,note\n"
        + "a1,2026-11-18T02:00:00Z,key_a1,gpt,/e,"
        + "m" * 200_000  # above the csv module's default 128 KiB field limit: fine
        + "\n"
        + "a2,2026-11-18T02:00:00Z,key_a1,gpt,/e,"
        + "n" * (MAX_RECORD_BYTES + 5)
        + "\n"
        + "a3,2026-11-18T02:00:00Z,key_a1,gpt,/e,"
        + '"'
        + "q\n" * 600_000  # a quoted cell over many lines, over 1 MiB in total
    )
    (tmp_path / "x.csv").write_text(data)
    records = list(iter_folder_records(tmp_path))
    assert [(ids([r])[0], r.source_line) for r in records[:3]] == [
        ("a1", 2),
        ("record_too_large", 3),
        ("record_too_large", 4),
    ]
    # the rest of the runaway cell is garbage, but reading goes on with bounded memory
    assert all(r.defect for r in records[2:])
    assert all(len(r.raw_redacted.encode()) <= MAX_RAW_BYTES for r in records)


# ----------------------------------------------------------------- SPEC 2.5


def redacted(value: str) -> str:
    return "redacted_" + hashlib.sha256(value.encode()).hexdigest()[:12]


def test_file_named_like_a_secret_is_stored_and_shown_redacted(tmp_path: Path) -> None:
    name = f"export-{SK}.jsonl"  # the "-" before "sk-" is no letter or digit: a secret
    (tmp_path / name).write_bytes(jsonl(rec("a1")))
    (record,) = iter_folder_records(tmp_path)
    assert record.source_name == f"export-{redacted(SK)}.jsonl"
    (tmp_path / f"b-{SK}.jsonl.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError) as excinfo:
        list(iter_folder_records(tmp_path))
    assert SK not in str(excinfo.value) and f"b-{redacted(SK)}.jsonl.gz" in str(excinfo.value)


def test_csv_header_errors_do_not_show_a_secret(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text(f"attempt_id,{SK},{SK}\n")
    with pytest.raises(ValueError, match="repeats column") as excinfo:
        iter_folder_records(tmp_path)
    assert SK not in str(excinfo.value) and redacted(SK) in str(excinfo.value)


def test_csv_secret_column_and_cells(tmp_path: Path) -> None:
    header = f"attempt_id,timestamp,api_key_id,model,endpoint,status_code,{SK}"
    row = f"a1,2026-11-18T02:00:00Z,key {SK},gpt,/e,x,note {SK}"
    (tmp_path / "x.csv").write_text(header + "\n" + row + "\n")
    (record,) = iter_folder_records(tmp_path)
    assert record.defect == "invalid_type:status_code"
    assert SK not in record.raw_redacted
    assert json.loads(record.raw_redacted)[redacted(SK)] == f"note {redacted(SK)}"
    assert record.redacted_values == 1  # the api_key_id; the unknown column does not count


def test_csv_nul_cell(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_bytes(
        b"attempt_id,timestamp,api_key_id,model,endpoint\na1,2026-11-18T02:00:00Z,k,gpt\x00,/e\n"
    )
    (record,) = iter_folder_records(tmp_path)
    if sys.version_info >= (3, 11):  # noqa: UP036 - the csv module reads NUL since 3.11
        assert record.defect is None and record.fields is not None
        assert record.fields["model"] == "gpt\ufffd"
    else:
        assert record.defect == "malformed_json"
    assert "\x00" not in record.raw_redacted


def test_jsonl_nul_and_control_bytes_in_a_malformed_line(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_bytes(
        b'{"attempt_id": "a\x00b", "x": "' + SK.encode() + b'" oops\n'
    )
    (record,) = iter_folder_records(tmp_path)
    assert record.defect == "malformed_json"
    assert record.raw_redacted == f'{{"attempt_id": "a\ufffdb", "x": "{redacted(SK)}" oops'
