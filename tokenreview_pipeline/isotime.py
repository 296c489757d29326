"""ISO 8601 parsing with one set of rules on every supported Python.

Python 3.11 widened ``datetime.fromisoformat`` (``Z``, any fraction length, basic format,
week dates); 3.10 accepts only what ``isoformat()`` writes. Whether a record's timestamp is
valid (SPEC 2.5, ``invalid_timestamp``) must not depend on the interpreter, so on 3.10 the
``backports-datetime-fromisoformat`` package supplies 3.11's parser (a C port of CPython's
own code), and every ISO text the pipeline reads goes through these two names.
"""

from __future__ import annotations

import sys
from datetime import date, datetime

if sys.version_info >= (3, 11):
    parse_datetime = datetime.fromisoformat
    parse_date = date.fromisoformat
else:  # pragma: no cover - exercised by the Python 3.10 CI job
    from backports.datetime_fromisoformat import date_fromisoformat as parse_date
    from backports.datetime_fromisoformat import datetime_fromisoformat as parse_datetime

__all__ = ["parse_date", "parse_datetime"]
