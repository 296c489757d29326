"""Open the configured request log for a cycle (SPEC 2.1 files, 2.6 HTTP export API).

Its ``location`` is stored (``extraction_runs.source_location``) and shown in Dagster
metadata, so it is redacted like every stored string (SPEC 2.5).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from tokenreview_pipeline.config import FilesLogSource, HttpLogSource, TokenreviewConfig
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.extract.files import iter_folder_records
from tokenreview_pipeline.extract.http import iter_http_records
from tokenreview_pipeline.extract.records import ExtractedRecord, redact_value
from tokenreview_pipeline.urls import safe_url


class RequestLogError(RuntimeError):
    """The request log cannot be opened as configured (the message names the key)."""


@dataclass(frozen=True)
class RequestLog:
    records: Iterator[ExtractedRecord]
    kind: str  # files | http
    location: str  # the folder, or the URL without credentials; redacted


def open_request_log(config: TokenreviewConfig, cycle: Cycle) -> RequestLog:
    """The records of ``request_logs`` that a run for ``cycle`` reads (SPEC 4.1)."""
    source = config.request_logs
    if isinstance(source, FilesLogSource):
        location = redact_value(str(source.path))[0]
        return RequestLog(iter_folder_records(source.path), "files", location)
    assert isinstance(source, HttpLogSource)
    token = None
    if source.token_env:
        token = os.environ.get(source.token_env)
        if not token:
            raise RequestLogError(
                f"request_logs.token_env names {source.token_env}, which is not set "
                f"(config {redact_value(str(config.path))[0]})"
            )
    start, end = cycle.read_window(config.thresholds.retry_span_s)
    records = iter_http_records(
        source.url,
        token=token,
        start=start,
        end=end,
        max_tries=source.max_tries,
        timeout_s=source.timeout_s,
        max_page_bytes=source.max_page_bytes,
    )
    return RequestLog(records, "http", redact_value(safe_url(source.url))[0])
