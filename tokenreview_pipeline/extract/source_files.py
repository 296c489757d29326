"""Reading a files source for one cycle without re-reading its history (SPEC 4.1).

The ledger keeps an index of the request-log files read (``source_files``): per input
format and path, the file's size, modification time, SHA-256 of its bytes and of its
first and last 64 KiB, its records and their earliest and latest usable timestamp, and
how many records have none. A run skips a file the index shows *unchanged* (same size,
modification time and edge SHA-256) whose records *all* have usable timestamps outside
the cycle's read window: it is not read and its records are not counted. Every other
file is read, and indexed again once read.

Decisions where the SPEC is silent (docs/performance.md, "Skipping history"):

* The index is per input format: the same file read as another format is another
  source. A path whose redacted form differs from the real one (a secret in a folder
  name) is never indexed, so it is always read.
* A file that changed while it was read (its size, modification time or edges differ
  after the read) is not indexed: the next run reads it again.
* An empty file is skipped once indexed unchanged (it holds no record to count).
* The index is written in the transaction that records the extraction's counts, so a
  failed extraction indexes nothing; entries are facts about files, not about a cycle,
  and are shared by every cycle's run (an upsert: two runs at once do not collide).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.config import FilesLogSource
from tokenreview_pipeline.extract.files import list_log_files
from tokenreview_pipeline.extract.formats.base import InputFormat
from tokenreview_pipeline.extract.records import ExtractedRecord, canonical_json, redact_value

__all__ = [
    "EDGE_BYTES",
    "FileState",
    "FolderReading",
    "IndexedFile",
    "can_skip",
    "file_state",
    "index_format",
    "index_key",
    "load_index",
    "store_index",
]

#: How much of each end of a file the quick check hashes.
EDGE_BYTES = 64 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileState:
    """What the quick check compares: a file's size, modification time and edges."""

    size_bytes: int
    modified_ns: int
    edge_sha256: str


@dataclass(frozen=True)
class IndexedFile:
    """A row of ``source_files``."""

    source_format: str
    path: str
    size_bytes: int
    modified_ns: int
    sha256: str
    edge_sha256: str
    records: int
    earliest_ts_us: int | None
    latest_ts_us: int | None
    records_without_timestamp: int

    @property
    def state(self) -> FileState:
        return FileState(self.size_bytes, self.modified_ns, self.edge_sha256)


def file_state(path: Path) -> FileState:
    """The file's size and modification time, and the SHA-256 of its first and last
    ``EDGE_BYTES`` (the whole file when it is at most twice that)."""
    with open(path, "rb") as f:
        stat = os.fstat(f.fileno())
        digest = hashlib.sha256()
        if stat.st_size <= 2 * EDGE_BYTES:
            digest.update(f.read())
        else:
            digest.update(f.read(EDGE_BYTES))
            f.seek(stat.st_size - EDGE_BYTES)
            digest.update(f.read(EDGE_BYTES))
    return FileState(stat.st_size, stat.st_mtime_ns, digest.hexdigest())


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def index_format(source: FilesLogSource) -> str:
    """``source_files.source_format``: the format's name, and for ``mapped`` a digest of
    its mapping (another mapping reads other timestamps from the same file)."""
    if source.format != "mapped":
        return source.format
    options = source.model_dump(mode="json", exclude={"kind", "path", "format"})
    digest = hashlib.sha256(canonical_json(options).encode("utf-8")).hexdigest()
    return f"mapped:{digest[:16]}"


def index_key(path: Path) -> str | None:
    """The path as ``source_files`` stores it (absolute), or None when storing it would
    change it (a secret redacted, bytes that are not UTF-8): such a file is never
    indexed, so never skipped."""
    text = os.fsdecode(path.absolute())
    return text if redact_value(text)[0] == text else None


def can_skip(
    known: IndexedFile | None, state: FileState, read_start_us: int, read_end_us: int
) -> bool:
    """The SPEC 4.1 rule: the index shows the file unchanged and every record of it has
    a usable timestamp outside ``[read_start_us, read_end_us)``."""
    if known is None or known.state != state or known.records_without_timestamp:
        return False
    if known.records == 0:
        return True
    assert known.earliest_ts_us is not None and known.latest_ts_us is not None
    return known.latest_ts_us < read_start_us or known.earliest_ts_us >= read_end_us


class FolderReading:
    """One run's reading of a files source: the files to read and to skip are decided
    (and the format's file checks run) when it is made; :meth:`records` reads them in
    SPEC order and indexes each file once it has been read whole."""

    def __init__(
        self,
        source: FilesLogSource,
        fmt: InputFormat,
        known: Mapping[str, IndexedFile],
        read_start_us: int,
        read_end_us: int,
    ) -> None:
        self.format = fmt
        self.source_format = index_format(source)
        folder = source.path
        self.plan: list[tuple[Path, str | None, FileState]] = []
        self.skipped: list[str] = []
        for path in list_log_files(folder):
            key = index_key(path)
            state = file_state(path)
            if key is not None and can_skip(known.get(key), state, read_start_us, read_end_us):
                self.skipped.append(key)
            else:
                self.plan.append((path, key, state))
        fmt.check_files([path for path, _, _ in self.plan])
        self.indexed: list[IndexedFile] = []

    @property
    def files_read(self) -> int:
        return len(self.plan)

    def records(self) -> Iterator[ExtractedRecord]:
        for path, key, state in self.plan:
            count = without = 0
            earliest = latest = None
            for record in self.format.file_records(path):
                count += 1
                ts = record.ts_us
                if ts is None:
                    without += 1
                else:
                    earliest = ts if earliest is None or ts < earliest else earliest
                    latest = ts if latest is None or ts > latest else latest
                yield record
            if key is None or file_state(path) != state:
                continue  # never indexed, or changed while it was read: read it next time
            self.indexed.append(
                IndexedFile(
                    source_format=self.source_format,
                    path=key,
                    size_bytes=state.size_bytes,
                    modified_ns=state.modified_ns,
                    sha256=_file_sha256(path),
                    edge_sha256=state.edge_sha256,
                    records=count,
                    earliest_ts_us=earliest,
                    latest_ts_us=latest,
                    records_without_timestamp=without,
                )
            )


def load_index(engine: Engine, source_format: str) -> dict[str, IndexedFile]:
    """The ledger's index of the files read as ``source_format``, by path."""
    table = ledger.source_files
    columns = [table.c[name] for name in IndexedFile.__dataclass_fields__]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).where(table.c.source_format == source_format))
        return {row.path: IndexedFile(**row._mapping) for row in rows}


def store_index(conn: Connection, entries: list[IndexedFile], run_id: str) -> None:
    """Insert or replace the entries (``INSERT ... ON CONFLICT DO UPDATE``, both backends)."""
    if not entries:
        return
    table = ledger.source_files
    now = datetime.now(timezone.utc)
    rows = [{**asdict(entry), "indexed_at": now, "run_id": run_id} for entry in entries]
    statement = ledger.dialect_insert(conn, table)
    keys = {c.name for c in table.primary_key.columns}
    statement = statement.on_conflict_do_update(
        index_elements=sorted(keys),
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys},
    )
    conn.execute(statement, rows)
