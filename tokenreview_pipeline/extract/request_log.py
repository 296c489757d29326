"""Open the configured request log for a cycle (SPEC 2.1 files, 2.6 HTTP export API,
2.7 input formats and LiteLLM's table).

The source kind says where records come from (``files``, ``http``, ``database``); the
input format (``extract/formats``) says how a source record becomes a 2.1 record. Its
``location`` is stored (``extraction_runs.source_location``) and shown in Dagster
metadata, so it is redacted like every stored string (SPEC 2.5).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from tokenreview_pipeline.config import (
    DatabaseLogSource,
    FilesLogSource,
    HttpLogSource,
    TokenreviewConfig,
)
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.extract.formats import input_format
from tokenreview_pipeline.extract.formats.litellm_database import (
    SpendLogsDatabaseError,
    check_spendlogs_table,
    spendlogs_location,
)
from tokenreview_pipeline.extract.http import iter_http_records
from tokenreview_pipeline.extract.load import to_us
from tokenreview_pipeline.extract.records import ExtractedRecord, redact_value
from tokenreview_pipeline.extract.source_files import FolderReading, IndexedFile
from tokenreview_pipeline.urls import safe_url


class RequestLogError(RuntimeError):
    """The request log cannot be opened as configured (the message names the key)."""


@dataclass(frozen=True)
class RequestLog:
    records: Iterator[ExtractedRecord]
    kind: str  # files | http | database
    location: str  # the folder, or the URL without credentials; redacted
    format: str = "tokenreview"
    #: A files source's reading: which files it reads and skips, and their new index.
    folder: FolderReading | None = None


def _secret_from_env(config: TokenreviewConfig, key: str, name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RequestLogError(
            f"request_logs.{key} names {name}, which is not set "
            f"(config {redact_value(str(config.path))[0]})"
        )
    return value


def open_request_log(
    config: TokenreviewConfig,
    cycle: Cycle,
    known_files: Mapping[str, IndexedFile] | None = None,
) -> RequestLog:
    """The records of ``request_logs`` that a run for ``cycle`` reads (SPEC 4.1).

    A files source yields every record of the folder's files but those ``known_files``
    (the ledger's ``source_files`` index) shows unchanged and outside the read window of
    4.2; an HTTP export and LiteLLM's table yield the read window. A database that
    cannot be read raises ``RequestLogError`` here, before anything is staged.
    """
    source = config.request_logs
    fmt = input_format(source)
    start, end = cycle.read_window(config.thresholds.retry_span_s)
    if isinstance(source, FilesLogSource):
        location = redact_value(str(source.path))[0]
        folder = FolderReading(source, fmt, known_files or {}, to_us(start), to_us(end))
        return RequestLog(folder.records(), "files", location, fmt.name, folder)
    if isinstance(source, DatabaseLogSource):
        url = _secret_from_env(config, "url_env", source.url_env)
        try:
            check_spendlogs_table(url)
        except SpendLogsDatabaseError as exc:
            raise RequestLogError(f"request_logs ({source.url_env}): {exc}") from None
        records = fmt.database_records(url, start, end)
        return RequestLog(records, "database", spendlogs_location(url), fmt.name)
    assert isinstance(source, HttpLogSource)
    token = _secret_from_env(config, "token_env", source.token_env) if source.token_env else None
    records = iter_http_records(
        source.url,
        token=token,
        start=start,
        end=end,
        max_tries=source.max_tries,
        timeout_s=source.timeout_s,
        max_page_bytes=source.max_page_bytes,
        records_of=fmt.http_item_records,
    )
    return RequestLog(records, "http", redact_value(safe_url(source.url))[0], fmt.name)
