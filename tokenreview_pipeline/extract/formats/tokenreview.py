"""``format: tokenreview`` (the default): the log is SPEC 2.1 itself, the identity format.

| 2.1 field | from |
|---|---|
| every field | the field of the same name |

Files may also be CSV (SPEC 2.1); the content fields are the 2.1 list
(``contract.CONTENT_FIELDS``), and a record with ``messages``, ``prompt`` or ``input``
and no ``prompt_fingerprint`` gets the fingerprint of the first present. Reading is
``extract/files.py`` and ``extract/records.py``, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from tokenreview_pipeline.extract.files import check_csv_headers, iter_file_records
from tokenreview_pipeline.extract.records import (
    ExtractedRecord,
    record_from_line,
    record_from_object,
)

from .base import InputFormat, Where

__all__ = ["TokenreviewFormat"]


class TokenreviewFormat(InputFormat):
    name = "tokenreview"

    @classmethod
    def from_source(cls, source: object) -> TokenreviewFormat:
        return cls()

    def check_files(self, paths: list[Path]) -> None:
        check_csv_headers(paths)

    def file_records(self, path: Path) -> Iterator[ExtractedRecord]:
        return iter_file_records(path)

    def http_item_records(
        self,
        item: object,
        *,
        raw_text: str,
        source_name: str,
        source_line: int | None,
        source_page: int | None,
    ) -> Iterator[ExtractedRecord]:
        yield record_from_object(
            item,
            raw_text=raw_text,
            source_name=source_name,
            source_line=source_line,
            source_page=source_page,
        )

    def line_records(
        self,
        data: bytes,
        *,
        source_name: str,
        source_line: int | None,
        source_page: int | None = None,
    ) -> Iterator[ExtractedRecord]:
        yield record_from_line(
            data, source_name=source_name, source_line=source_line, source_page=source_page
        )

    def value_records(
        self, value: object, *, forced_defect: str | None, where: Where
    ) -> Iterator[ExtractedRecord]:
        raw_text = json.dumps(value, ensure_ascii=False)
        yield record_from_object(value, raw_text=raw_text, **where)  # type: ignore[arg-type]

    object_records = value_records  # 2.1 decides what is not an object
