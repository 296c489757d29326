"""What every input format (SPEC 2.7) shares: reading JSON lines into source values.

An input format turns each source record (a LiteLLM row, a gateway's log line, an
OpenTelemetry span) into a record of SPEC 2.1. The reading around it is the same for
every format that reads JSON lines: files of ``*.jsonl`` / ``*.jsonl.gz`` (the folder
rules of SPEC 4.1), or items of the HTTP export API (2.6). A line longer than the
format's limit is ``record_too_large``, a line that is not UTF-8 ``invalid_encoding``
(mapped from its text decoded with replacement characters when that still parses), a
line that is not JSON ``malformed_json``. Then the format maps the parsed value
(:meth:`InputFormat.value_records`) and ``records.record_from_mapped`` validates,
bounds and redacts the 2.1 record as for every other record.

Decision (README "Input formats"): the raw text of a line that does not parse (too
large, not JSON, a JSON value a format cannot read at all) is not kept for these
formats, since their content fields cannot be located in text that did not parse; the
quarantined row keeps a note naming the defect and the line's size instead (its file
and line say where it is).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from tokenreview_pipeline.contract import Reason
from tokenreview_pipeline.extract.files import (
    check_json_lines_only,
    iter_file_lines,
    list_log_files,
)
from tokenreview_pipeline.extract.records import (
    MAX_RECORD_BYTES,
    ExtractedRecord,
    parse_source_text,
    record_from_mapped,
    record_withheld,
    source_content_hash,
    source_raw_text,
)

__all__ = ["MISSING", "InputFormat", "Where", "get_path"]

_BOM = b"\xef\xbb\xbf"

Where = dict[str, object]
"""``source_name``, ``source_line``, ``source_page`` of a source record."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()
"""What :func:`get_path` returns for a key that is not there."""


def get_path(value: object, keys: tuple[str, ...]) -> object:
    """The value at ``keys`` inside nested objects, or ``MISSING`` when a key is absent
    or a value on the way is not an object (lists are not indexed)."""
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


class InputFormat(ABC):
    """One ``request_logs.format``. Subclasses map a parsed source value to records."""

    name: ClassVar[str]
    #: A line longer than this (without its newline) is ``record_too_large``.
    max_record_bytes: ClassVar[int] = MAX_RECORD_BYTES

    # ----------------------------------------------------------------- sources

    def folder_records(self, folder: str | Path) -> Iterator[ExtractedRecord]:
        """The records of a files source; folder errors are raised at call time."""
        paths = list_log_files(folder)
        self.check_files(paths)
        return (record for path in paths for record in self.file_records(path))

    def check_files(self, paths: list[Path]) -> None:
        """Raise ``ValueError`` naming a file of ``paths`` this format cannot read, before
        any record is read (a CSV file: these formats read JSON lines)."""
        check_json_lines_only(paths)

    def file_records(self, path: Path) -> Iterator[ExtractedRecord]:
        """The records of one log file of a files source, in read order."""
        for line in iter_file_lines(path, max_line_bytes=self.max_record_bytes):
            yield from self.line_records(
                line.data, source_name=line.source_name, source_line=line.source_line
            )

    def http_item_records(
        self,
        item: object,
        *,
        raw_text: str,
        source_name: str,
        source_line: int | None,
        source_page: int | None,
    ) -> Iterator[ExtractedRecord]:
        """The records of one item of an HTTP export page (read as if it were a line)."""
        del item  # read from its text, so size, depth and JSON rules are a line's
        yield from self.line_records(
            raw_text.encode("utf-8", "surrogatepass"),
            source_name=source_name,
            source_line=source_line,
            source_page=source_page,
        )

    def database_records(self, url: str, start, end) -> Iterator[ExtractedRecord]:
        raise ValueError(f"format {self.name} cannot be read from a database")

    # ------------------------------------------------------------------- lines

    def line_records(
        self,
        data: bytes,
        *,
        source_name: str,
        source_line: int | None,
        source_page: int | None = None,
    ) -> Iterator[ExtractedRecord]:
        """The records of one JSON line (without its newline)."""
        where: Where = {
            "source_name": source_name,
            "source_line": source_line,
            "source_page": source_page,
        }
        if data.endswith(b"\r"):
            data = data[:-1]
        if len(data) > self.max_record_bytes:
            yield self.withheld(Reason.RECORD_TOO_LARGE, len(data), where)
            return
        if data.startswith(_BOM):
            data = data[3:]
        forced: str | None = None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", "replace")
            forced = Reason.INVALID_ENCODING
        parsed, value = parse_source_text(text)
        if not parsed:
            yield self.withheld(forced or Reason.MALFORMED_JSON, len(data), where)
            return
        yield from self.value_records(value, forced_defect=forced, where=where)

    def withheld(self, defect: str, size: int, where: Where, what: str = "line") -> ExtractedRecord:
        note = (
            f"[{defect}: {what} of {size} bytes; text not kept: {self.name} content "
            "cannot be located in it]"
        )
        return record_withheld(defect, note, **where)  # type: ignore[arg-type]

    def not_an_object(self, value: object, where: Where) -> ExtractedRecord:
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8", "replace"))
        return self.withheld(Reason.NOT_AN_OBJECT, size, where, f"a JSON {_json_type(value)}")

    def mapped_record(
        self,
        mapped: dict[str, object],
        *,
        source: object,
        kept: object,
        forced_defect: str | None,
        where: Where,
    ) -> ExtractedRecord:
        """The record of ``mapped`` (2.1 fields) read from ``source`` (the source record as
        parsed: its hash decides exact duplicates); ``kept`` is ``source`` without the
        format's content fields, the raw text a quarantined record keeps."""
        sha, defect = source_content_hash(source) if forced_defect is None else (None, None)
        return record_from_mapped(
            mapped,
            defect=forced_defect or defect,
            content_sha256=sha,
            raw_redacted=source_raw_text(kept),
            **where,  # type: ignore[arg-type]
        )

    def is_source_object(self, value: object) -> bool:
        """Whether a parsed value has the shape of this format's source record."""
        return isinstance(value, dict)

    def value_records(
        self, value: object, *, forced_defect: str | None, where: Where
    ) -> Iterator[ExtractedRecord]:
        """The records of one parsed source value (``forced_defect``: e.g. the line was
        not valid UTF-8, so its records are ``invalid_encoding`` whatever they hold)."""
        if not self.is_source_object(value):
            yield self.not_an_object(value, where)
            return
        yield from self.object_records(value, forced_defect=forced_defect, where=where)  # type: ignore[arg-type]

    @abstractmethod
    def object_records(
        self, obj: dict, *, forced_defect: str | None, where: Where
    ) -> Iterator[ExtractedRecord]:
        """The records of one source object of the format's shape."""


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
