"""The request log files: daily JSONL and gzip shards and the legacy CSV export.

Three sources write in three notations:

- ``gateway-YYYY-MM-DD.jsonl`` (the main gateway): ``Z`` timestamps, compact JSON, nulls
  written out, integer latencies;
- ``edge-YYYY-MM-DD.jsonl.gz`` (an edge gateway): ``+08:00`` timestamps, ASCII-escaped
  JSON, float latencies, a null ``status_code`` left out; gzip without name and mtime 0;
- ``legacy-proxy-export.csv`` (a legacy proxy): header row, ``+00:00`` timestamps,
  ``tags`` as a JSON object in one cell, empty cell = absent, no content fields (the
  fingerprint column is filled from the content instead).

Shards hold one UTC day each; records arrive in timestamp order.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Sequence
from pathlib import Path

from tokenreview_pipeline.extract.records import FIELD_NAMES, prompt_fingerprint
from tokenreview_pipeline.sample.timeline import DAY_MS, HOUR_MS, MINUTE_MS, day_str

CSV_COLUMNS = FIELD_NAMES  # the SPEC 2.1 fields, in the table's order
CSV_NAME = "legacy-proxy-export.csv"
# The content fields the sample's records carry (the extractor fingerprints them).
PROMPT_FIELDS = ("messages", "input", "prompt")
# The file names generate_sample owns (and removes before writing).
LOG_PATTERNS = ("edge-*.jsonl.gz", "gateway-*.jsonl", CSV_NAME)

# Output formats (file kinds).
JSONL, GZ, CSVF = 0, 1, 2

_EDGE_OFFSET_MS = 8 * HOUR_MS
_FLUSH_BYTES = 262_144


def format_timestamp(ms: int, fmt: int) -> str:
    """JSONL: ``...sssZ``; GZ: local ``+08:00``; CSV: ``+00:00``."""
    if fmt == GZ:
        ms += _EDGE_OFFSET_MS
    day, rem = divmod(ms, DAY_MS)
    h, rem = divmod(rem, HOUR_MS)
    m, rem = divmod(rem, MINUTE_MS)
    s, milli = divmod(rem, 1000)
    suffix = "Z" if fmt == JSONL else ("+08:00" if fmt == GZ else "+00:00")
    return f"{day_str(day)}T{h:02d}:{m:02d}:{s:02d}.{milli:03d}{suffix}"


def csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class _ShardWriter:
    """One file per UTC day; days arrive in non-decreasing order."""

    def __init__(self, folder: Path, prefix: str, gz: bool, opened: list[Path]):
        self.folder, self.prefix, self.gz, self.opened = folder, prefix, gz, opened
        self.day: int | None = None
        self.raw = None
        self.fh = None
        self.buf: list[bytes] = []
        self.size = 0
        self.name = ""

    def write(self, day: int, data: bytes) -> str:
        if day != self.day:
            self.close()
            self.day = day
            suffix = ".jsonl.gz" if self.gz else ".jsonl"
            path = self.folder / f"{self.prefix}-{day_str(day)}{suffix}"
            self.opened.append(path)
            self.name = path.name
            self.raw = open(path, "wb")
            if self.gz:
                self.fh = gzip.GzipFile(
                    filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=6
                )
            else:
                self.fh = self.raw
        self.buf.append(data)
        self.size += len(data)
        if self.size > _FLUSH_BYTES:
            self._flush()
        return self.name

    def _flush(self) -> None:
        if self.buf and self.fh is not None:
            self.fh.write(b"".join(self.buf))
        self.buf, self.size = [], 0

    def close(self) -> None:
        if self.fh is None:
            return
        self._flush()
        if self.gz:
            self.fh.close()
        self.raw.close()
        self.fh = self.raw = None


class _CsvWriter:
    def __init__(self, path: Path, opened: list[Path]):
        self.path, self.opened = path, opened
        self.fh = None
        self.writer = None

    def writerow(self, row: Sequence[str]) -> str:
        if self.fh is None:
            self.opened.append(self.path)
            self.fh = open(self.path, "w", encoding="utf-8", newline="")
            self.writer = csv.writer(self.fh, lineterminator="\r\n")
            self.writer.writerow(CSV_COLUMNS)
        self.writer.writerow(row)
        return self.path.name

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


class LogFiles:
    """The request log folder being written; counts the records per file.

    A context manager: leaving it closes every file.
    """

    def __init__(self, folder: Path):
        self._opened: list[Path] = []
        self._shards = {
            JSONL: _ShardWriter(folder, "gateway", False, self._opened),
            GZ: _ShardWriter(folder, "edge", True, self._opened),
        }
        self._csv = _CsvWriter(folder / CSV_NAME, self._opened)
        self.records_written = 0
        self.records_by_file: dict[str, int] = {}
        self.last_json: tuple[dict, str] | None = None  # (record, line): last good JSON line
        self.crlf_pending = False  # end the next gateway line in CR LF

    def __enter__(self) -> LogFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for shard in self._shards.values():
            shard.close()
        self._csv.close()

    @property
    def files(self) -> list[Path]:
        return sorted(set(self._opened))

    def _count(self, name: str) -> None:
        self.records_written += 1
        self.records_by_file[name] = self.records_by_file.get(name, 0) + 1

    def write_line(self, fmt: int, ts: int, data: bytes) -> None:
        """A raw line (newline included) of a JSONL or gzip shard; counted as a record."""
        self._count(self._shards[fmt].write(ts // DAY_MS, data))

    def write_blank_line(self, ts: int) -> None:
        """A blank gateway line: not a record."""
        self._shards[JSONL].write(ts // DAY_MS, b"\n")

    def write_csv_row(self, row: Sequence[str]) -> None:
        self._count(self._csv.writerow(row))

    def write_record(self, fmt: int, rec: dict, ts: int) -> None:
        """One attempt record in the notation of ``fmt``; sets its ``timestamp``."""
        rec["timestamp"] = format_timestamp(ts, fmt)
        if fmt == CSVF:
            # No content column: the proxy exports the content's fingerprint instead.
            row = dict(rec)
            if row.get("prompt_fingerprint") is None:
                content = next((name for name in PROMPT_FIELDS if name in rec), None)
                if content is not None:
                    row["prompt_fingerprint"] = prompt_fingerprint(rec[content])
            self.write_csv_row([csv_cell(row.get(c)) for c in CSV_COLUMNS])
            return
        if fmt == GZ:
            if rec.get("status_code") is None:
                rec.pop("status_code", None)  # the edge gateway omits nulls
            line = json.dumps(rec, ensure_ascii=True)
        else:
            lat = rec.get("latency_ms")
            if lat is not None:
                rec["latency_ms"] = int(lat)
            line = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
        self.last_json = (rec, line)
        end = "\n"
        if self.crlf_pending and fmt == JSONL:
            end, self.crlf_pending = "\r\n", False
        self.write_line(fmt, ts, (line + end).encode("utf-8"))
