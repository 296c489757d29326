"""Stage a cycle's extracted records into ``stg_source_records`` (streaming, batched).

Every record read gets exactly one row, so the SQL models can account for each
one (SPEC 4.1). What a row stores was made storable and redacted by
``records.py`` (SPEC 2.5): no value here can fail an insert or hold a secret.
Rows of records that cannot concern the cycle (a usable timestamp outside the read
window) keep only what duplicate detection needs: their order, content hash, attempt
id, ``ts_us`` and defect. Memory stays bounded by the batch size whatever the size of
the source.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.bulk_insert import insert_rows
from tokenreview_pipeline.contract import FIELD_NAMES
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.extract.records import ExtractedRecord, canonical_json
from tokenreview_pipeline.ip_keys import ip_key

BATCH_SIZE = 5000

_FIELD_COLUMNS = tuple(name for name in FIELD_NAMES if name != "tags")


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch (UTC), the integer time the SQL models compare."""
    delta = moment.astimezone(timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def allocation_key(fields: dict) -> str:
    """Identifies the attributes allocation rules read (SPEC 2.2), so rules are
    evaluated once per distinct attribute set rather than once per request."""
    attributes = [
        fields["api_key_id"],
        fields["model"],
        fields["endpoint"],
        fields["environment"],
        fields["tags"],
    ]
    return hashlib.sha256(canonical_json(attributes).encode("utf-8")).hexdigest()


@lru_cache(maxsize=65536)
def _allocation_key_of(
    api_key_id: str, model: str, endpoint: str, environment: str | None, tags_json: str
) -> str:
    # A log holds few distinct attribute sets: each is hashed once. The tags are the
    # canonical JSON of a flat string map, so parsing them back gives the same dict.
    return allocation_key(
        {
            "api_key_id": api_key_id,
            "model": model,
            "endpoint": endpoint,
            "environment": environment,
            "tags": json.loads(tags_json),
        }
    )


#: A log holds few distinct source addresses: each is keyed once.
_ip_key = lru_cache(maxsize=65536)(ip_key)


@dataclass(frozen=True)
class StagingWindow:
    cycle: Cycle
    read_start_us: int
    read_end_us: int

    @classmethod
    def for_cycle(cls, cycle: Cycle, retry_span_s: int) -> StagingWindow:
        start, end = cycle.read_window(retry_span_s)
        return cls(cycle, to_us(start), to_us(end))

    @property
    def cycle_start_us(self) -> int:
        return to_us(self.cycle.start)

    @property
    def cycle_end_us(self) -> int:
        return to_us(self.cycle.end)


def staging_row(seq: int, rec: ExtractedRecord, window: StagingWindow) -> dict:
    ts = rec.ts_us
    in_window = ts is not None and window.read_start_us <= ts < window.read_end_us
    in_cycle = ts is not None and window.cycle_start_us <= ts < window.cycle_end_us
    # A record with a usable timestamp outside the read window cannot concern the cycle:
    # its fields, raw text and redaction count are never built (ExtractedRecord).
    concerns = ts is None or in_window
    # Fields first: a built record's attempt_id is read from them, not redacted again.
    fields = (rec.fields if in_window else None) or {}
    row = {
        "cycle_id": window.cycle.cycle_id,
        "read_seq": seq,
        "source_name": rec.source_name,
        "source_line": rec.source_line,
        "source_page": rec.source_page,
        "defect": rec.defect,
        "content_sha256": rec.content_sha256,
        "ts_us": ts,
        "attempt_id": rec.attempt_id,
        # Counted for staged attempts only (extraction_runs): 0 for the rest.
        "redacted_values": rec.redacted_values if concerns else 0,
        # Only records that may be quarantined in this cycle keep their raw text.
        "raw_redacted": rec.raw_redacted if (ts is None or in_cycle) else None,
    }
    keep_fields = bool(fields)
    for column in _FIELD_COLUMNS:
        row.setdefault(column, fields.get(column) if keep_fields else None)
    if rec.defect is not None and in_cycle:
        # A defective record that may be quarantined in this cycle keeps its usable
        # timestamp for analysts (others need none: any year 1-9999 parses, and not
        # every one round-trips through the SQLite text form).
        row["timestamp"] = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=ts)  # type: ignore[operator]
    if keep_fields:
        tags = row["tags"] = canonical_json(fields["tags"])
        row["source_ip_key"] = _ip_key(fields["source_ip"])
        row["allocation_key"] = _allocation_key_of(
            fields["api_key_id"], fields["model"], fields["endpoint"], fields["environment"], tags
        )
    else:
        row.update(tags=None, source_ip_key=None, allocation_key=None)
    return row


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class StagingResult:
    records_read: int
    rows_staged: int
    load_seconds: float = 0.0  # time spent in the inserts (the rest is reading)


def stage_records(
    engine: Engine,
    records: Iterable[ExtractedRecord],
    *,
    window: StagingWindow,
    run_id: str,
    source_kind: str,
    source_location: str,
    batch_size: int = BATCH_SIZE,
    on_finish: Callable[[Connection], None] | None = None,
) -> StagingResult:
    """Replace the cycle's staged records with ``records``.

    Batches are committed one by one, so a slow source (an HTTP export) never holds
    the database's write lock for long (SQLite has one writer for every cycle). The
    cycle's run is alone writing them (the cycle lease), and ``stg_extract_runs`` --
    which the ``no_record_lost`` check compares with the rows staged -- is written
    last: an extraction that stops midway leaves no count, its step fails, and
    nothing downstream runs on the partial staging.

    ``records_read`` is counted here, independently of the rows written, so the
    ``no_record_lost`` check compares two separate counts. ``on_finish`` writes in that
    last transaction (the files source's index: nothing is indexed by a failed read).
    """
    ledger.ensure_schema(engine)
    table = ledger.stg_source_records
    cycle_id = window.cycle.cycle_id
    counter = {"read": 0}

    def rows() -> Iterator[dict]:
        for seq, rec in enumerate(records):
            counter["read"] += 1
            yield staging_row(seq, rec, window)

    staged = 0
    with engine.begin() as conn:
        conn.execute(
            sa.delete(ledger.stg_extract_runs).where(ledger.stg_extract_runs.c.cycle_id == cycle_id)
        )
        conn.execute(sa.delete(table).where(table.c.cycle_id == cycle_id))
    load_seconds = 0.0
    for batch in _batches(rows(), batch_size):
        started = time.perf_counter()
        with engine.begin() as conn:
            insert_rows(conn, table, batch)
        load_seconds += time.perf_counter() - started
        staged += len(batch)
    with engine.begin() as conn:
        ledger.analyze(conn, table.name)
        conn.execute(
            ledger.stg_extract_runs.insert(),
            {
                "cycle_id": cycle_id,
                "run_id": run_id,
                "extracted_at": datetime.now(timezone.utc),
                "source_kind": source_kind,
                "source_location": source_location,
                "records_read": counter["read"],
            },
        )
        if on_finish is not None:
            on_finish(conn)
    return StagingResult(
        records_read=counter["read"], rows_staged=staged, load_seconds=load_seconds
    )
