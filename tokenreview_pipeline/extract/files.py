"""Read a folder of request-log files (SPEC 2.1, 4.1), streaming, with bounded memory.

* Only the folder itself (not recursive); only regular files named ``*.jsonl``,
  ``*.jsonl.gz`` or ``*.csv`` (exact, lower-case extensions); hidden files (names
  starting with ``.``) are skipped, as a shell glob would. Files are read in sorted
  path order, comparing paths as byte strings.
* Lines are read in binary with a cap: at most 1 MiB + 2 bytes are held; a longer line is
  skipped up to its newline and yields one ``record_too_large`` record. Blank lines
  (whitespace only) are not records; a trailing CR is ignored; a UTF-8 BOM at the start
  of a file is ignored. Line numbers are 1-based physical line numbers.
* CSV: the first non-blank row is the header (cells stripped of surrounding whitespace).
  A header with none of the SPEC 2.1 column names, a duplicated column name, or a header
  that is not valid UTF-8 raises ``ValueError`` naming the file; all CSV headers are
  checked when ``iter_folder_records`` is called, before any record is yielded. An empty
  CSV file yields nothing. Quoted cells may span lines; a record's ``source_line`` is
  the line its row starts on. A row that is not valid UTF-8 is ``invalid_encoding``; a
  row longer than 1 MiB is ``record_too_large``; a row whose cell count differs from the
  header's is ``malformed_json`` (the SPEC has no CSV-specific reason; the row could
  not be parsed into a record).
* A gzip file that is corrupt or truncated raises ``ValueError`` naming the file and
  the last line read (records before that point have already been yielded).
* Secrets (SPEC 2.5): a record's ``source_name`` (the file name) and every path or
  header cell an error message names are shown redacted, like every stored string.
  Record text never appears in an error message.
"""

from __future__ import annotations

import csv
import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tokenreview_pipeline.contract import Reason

from .records import (
    CONTENT_FIELDS,
    FIELD_NAMES,
    MAX_RECORD_BYTES,
    ExtractedRecord,
    record_from_csv_defect,
    record_from_csv_row,
    record_from_line,
    redact_value,
)

__all__ = [
    "SourceLine",
    "check_csv_headers",
    "check_json_lines_only",
    "iter_file_lines",
    "iter_file_records",
    "iter_folder_records",
    "list_log_files",
]

_EXTENSIONS = (".jsonl", ".jsonl.gz", ".csv")
# Enough to hold a line of exactly MAX_RECORD_BYTES plus "\r\n".
_READ_CAP = MAX_RECORD_BYTES + 2
_SKIP_CHUNK = 64 * 1024
_BUFFER = 256 * 1024
_BOM = b"\xef\xbb\xbf"
_CSV_FIELD_LIMIT = MAX_RECORD_BYTES + 16
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
_WITHHELD = "[CSV row text withheld: the file has content columns]"


def _shown(path: str | os.PathLike[str]) -> str:
    """A path (or file name, or header cell) as stored or shown: redacted (SPEC 2.5)."""
    return redact_value(os.fsdecode(path))[0]


def _kind(name: str) -> str | None:
    if name.startswith("."):
        return None
    if name.endswith(".jsonl.gz"):
        return "jsonl.gz"
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    return None


def list_log_files(folder: str | Path) -> list[Path]:
    """The folder's log files, in the order they are read."""
    folder_path = Path(folder)
    if not folder_path.exists():
        raise FileNotFoundError(f"request log folder not found: {_shown(folder_path)}")
    if not folder_path.is_dir():
        raise NotADirectoryError(f"request log path is not a folder: {_shown(folder_path)}")
    paths = [p for p in folder_path.iterdir() if _kind(p.name) is not None and p.is_file()]
    paths.sort(key=lambda p: os.fsencode(p))
    return paths


def iter_folder_records(folder: str | Path) -> Iterator[ExtractedRecord]:
    """Yield every record of every log file in ``folder``, in SPEC read order.

    Raises ``FileNotFoundError`` / ``NotADirectoryError`` for a bad folder and
    ``ValueError`` for a CSV file without a usable header, at call time.
    """
    paths = list_log_files(folder)
    check_csv_headers(paths)
    return (record for path in paths for record in iter_file_records(path))


def check_csv_headers(paths: list[Path]) -> None:
    """Raise ``ValueError`` naming the first CSV file of ``paths`` without a usable header."""
    for path in paths:
        if _kind(path.name) == "csv":
            with open(path, "rb", buffering=_BUFFER) as f:
                _read_csv_header(_CsvLineFeed(f), path)


def iter_file_records(path: Path) -> Iterator[ExtractedRecord]:
    """Yield every record of one log file (``*.jsonl``, ``*.jsonl.gz`` or ``*.csv``)."""
    kind = _kind(path.name)
    if kind == "jsonl":
        with open(path, "rb", buffering=_BUFFER) as f:
            yield from _iter_jsonl(f, _shown(path.name))
    elif kind == "jsonl.gz":
        yield from _iter_gzip(path)
    else:
        with open(path, "rb", buffering=_BUFFER) as f:
            yield from _iter_csv(f, path)


# ------------------------------------------------------------------------ lines


def _skip_rest_of_line(f: BinaryIO) -> None:
    while True:
        chunk = f.readline(_SKIP_CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return


def _physical_lines(f: BinaryIO, read_cap: int = _READ_CAP) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, line without newline / trailing CR).

    A line longer than the cap is returned as its first ``read_cap`` bytes (so longer
    than the record limit) and the rest of it is skipped.
    """
    line_no = 0
    while True:
        chunk = f.readline(read_cap)
        if not chunk:
            return
        line_no += 1
        if chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        elif len(chunk) >= read_cap:
            _skip_rest_of_line(f)
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
        if line_no == 1 and chunk.startswith(_BOM):
            chunk = chunk[3:]
        yield line_no, chunk


def _iter_jsonl(f: BinaryIO, name: str) -> Iterator[ExtractedRecord]:
    for line_no, line in _physical_lines(f):
        if len(line) <= MAX_RECORD_BYTES and not line.strip():
            continue
        yield record_from_line(line, source_name=name, source_line=line_no)


def _iter_gzip(path: Path) -> Iterator[ExtractedRecord]:
    last_line = 0
    try:
        with gzip.open(path, "rb") as f:
            for record in _iter_jsonl(f, _shown(path.name)):  # type: ignore[arg-type]
                last_line = record.source_line or last_line
                yield record
    except _GZIP_ERRORS as exc:
        raise ValueError(
            f"{_shown(path)}: corrupt or truncated gzip data after line {last_line}: {exc}"
        ) from exc


# -------------------------------------------------------------------------- CSV


class _RowTooLarge(Exception):
    pass


class _CsvLineFeed:
    """Decoded physical lines for ``csv.reader``, remembering the lines of the current row.

    A line that is not valid UTF-8 is passed on decoded with replacement characters and
    marks the row; a row over the size cap raises ``_RowTooLarge`` (after skipping the
    rest of its line) so the caller can start a fresh reader.
    """

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.line_no = 0
        self.reset_row()

    def reset_row(self) -> None:
        self.row_start: int | None = None
        self.parts: list[str] = []
        self.row_bytes = 0
        self.bad_encoding = False

    def __iter__(self) -> _CsvLineFeed:
        return self

    def __next__(self) -> str:
        chunk = self._f.readline(_READ_CAP)
        if not chunk:
            raise StopIteration
        self.line_no += 1
        if self.row_start is None:
            self.row_start = self.line_no
        if self.line_no == 1 and chunk.startswith(_BOM):
            chunk = chunk[3:]
        if not chunk.endswith(b"\n") and len(chunk) >= _READ_CAP:
            _skip_rest_of_line(self._f)
            self.parts.append(chunk.decode("utf-8", "replace"))
            raise _RowTooLarge
        self.row_bytes += len(chunk)
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            text = chunk.decode("utf-8", "replace")
            self.bad_encoding = True
        self.parts.append(text)
        if self.row_bytes > _READ_CAP:
            raise _RowTooLarge
        return text

    def row_text(self) -> str:
        text = "".join(self.parts)
        if text.endswith("\n"):
            text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
        return text


def _ensure_csv_field_limit() -> None:
    # The csv module's default per-field limit (128 KiB) is below the 1 MiB record cap.
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)


def _read_csv_header(feed: _CsvLineFeed, path: Path) -> tuple[list[str] | None, object]:
    """Consume up to and including the header row; return (header, reader).

    ``header`` is None for a file with no non-blank row.
    """
    _ensure_csv_field_limit()
    reader = csv.reader(feed)
    while True:
        feed.reset_row()
        try:
            row = next(reader)
        except StopIteration:
            return None, reader
        except (_RowTooLarge, csv.Error) as exc:
            raise ValueError(
                f"{_shown(path)}: CSV header row (line {feed.row_start}) unreadable"
            ) from exc
        if not feed.row_text().strip():
            continue
        if feed.bad_encoding:
            raise ValueError(
                f"{_shown(path)}: CSV header row (line {feed.row_start}) is not valid UTF-8"
            )
        header = [cell.strip() for cell in row]
        if not any(name in FIELD_NAMES for name in header):
            raise ValueError(
                f"{_shown(path)}: CSV file has no header row: line {feed.row_start} names none of "
                f"the columns {', '.join(FIELD_NAMES)}"
            )
        named = [name for name in header if name]
        if len(set(named)) != len(named):
            dupes = sorted({_shown(name) for name in named if named.count(name) > 1})
            raise ValueError(f"{_shown(path)}: CSV header repeats column(s): {', '.join(dupes)}")
        return header, reader


def _iter_csv(f: BinaryIO, path: Path) -> Iterator[ExtractedRecord]:
    name = _shown(path.name)
    feed = _CsvLineFeed(f)
    header, reader = _read_csv_header(feed, path)
    if header is None:
        return
    has_content_columns = any(h.lower() in CONTENT_FIELDS for h in header)
    while True:
        feed.reset_row()
        try:
            row = next(reader)  # type: ignore[call-overload]
        except StopIteration:
            return
        except (_RowTooLarge, csv.Error) as exc:
            defect = (
                Reason.RECORD_TOO_LARGE if isinstance(exc, _RowTooLarge) else Reason.MALFORMED_JSON
            )
            yield record_from_csv_defect(
                defect,
                raw_text=_WITHHELD if has_content_columns else feed.row_text(),
                cells=None,
                source_name=name,
                source_line=feed.row_start,
            )
            reader = csv.reader(feed)
            continue
        text = feed.row_text()
        if not text.strip():
            continue
        if len(text) > MAX_RECORD_BYTES // 4 and len(text.encode("utf-8")) > MAX_RECORD_BYTES:
            yield record_from_csv_defect(
                Reason.RECORD_TOO_LARGE,
                raw_text=_WITHHELD if has_content_columns else text,
                cells=None,
                source_name=name,
                source_line=feed.row_start,
            )
            continue
        if len(row) != len(header):
            yield record_from_csv_defect(
                Reason.MALFORMED_JSON,
                raw_text=(
                    f"[CSV row has {len(row)} cells, header has {len(header)}; "
                    "text withheld: the file has content columns]"
                    if has_content_columns
                    else text
                ),
                cells=None,
                source_name=name,
                source_line=feed.row_start,
            )
            continue
        cells = {h: cell for h, cell in zip(header, row, strict=True) if h}
        if feed.bad_encoding:
            yield record_from_csv_defect(
                Reason.INVALID_ENCODING,
                raw_text=text,
                cells=cells,
                source_name=name,
                source_line=feed.row_start,
            )
            continue
        yield record_from_csv_row(
            cells, raw_text=text, source_name=name, source_line=feed.row_start
        )


# ------------------------------------------------ JSON lines of another input format


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One non-blank line of a JSONL file, for an input format (SPEC 2.7) to read.

    ``data`` is the line without its newline and trailing CR (and a file's leading
    BOM); a line longer than the format's limit is cut just past it, so
    ``len(data) > max_line_bytes`` means ``record_too_large``.
    """

    source_name: str
    source_line: int
    data: bytes


def check_json_lines_only(paths: list[Path]) -> None:
    """Raise ``ValueError`` naming the first CSV file of ``paths``: a format that reads
    JSON lines would otherwise lose its records silently."""
    for path in paths:
        if _kind(path.name) == "csv":
            raise ValueError(
                f"{_shown(path)}: this request log format reads JSON lines only "
                "(*.jsonl, *.jsonl.gz); move the CSV file out of the folder"
            )


def iter_file_lines(path: Path, *, max_line_bytes: int) -> Iterator[SourceLine]:
    """Yield every non-blank line of one ``*.jsonl`` / ``*.jsonl.gz`` file."""
    read_cap = max_line_bytes + 2
    name = _shown(path.name)
    if _kind(path.name) == "jsonl":
        with open(path, "rb", buffering=_BUFFER) as f:
            yield from _source_lines(f, name, read_cap)
        return
    last_line = 0
    try:
        with gzip.open(path, "rb") as f:
            for line in _source_lines(f, name, read_cap):  # type: ignore[arg-type]
                last_line = line.source_line
                yield line
    except _GZIP_ERRORS as exc:
        raise ValueError(
            f"{_shown(path)}: corrupt or truncated gzip data after line {last_line}: {exc}"
        ) from exc


def _source_lines(f: BinaryIO, name: str, read_cap: int) -> Iterator[SourceLine]:
    for line_no, line in _physical_lines(f, read_cap):
        if len(line) <= read_cap - 2 and (not line or line[:1].isspace()) and not line.strip():
            continue
        yield SourceLine(name, line_no, line)
