"""Input formats (SPEC 2.7): a registry keyed by the config's ``request_logs.format``.

Each format is one module with its mapping table in its docstring; a format turns a
source record into a record of SPEC 2.1, and validation, quarantine, redaction, dedup
and grouping stay the same for all. Adding a format is one module and one entry here
(and the name in ``config.LogFormat``).
"""

from __future__ import annotations

from collections.abc import Callable

from tokenreview_pipeline.config import LogSource

from .base import InputFormat
from .litellm_spendlogs import LiteLLMSpendLogsFormat
from .mapped import MappedFormat
from .otlp_json import OtlpJsonFormat
from .tokenreview import TokenreviewFormat

__all__ = ["FORMATS", "InputFormat", "input_format"]

#: format name -> how to build the format from the configured ``request_logs``.
FORMATS: dict[str, Callable[[LogSource], InputFormat]] = {
    TokenreviewFormat.name: TokenreviewFormat.from_source,
    LiteLLMSpendLogsFormat.name: LiteLLMSpendLogsFormat.from_source,
    MappedFormat.name: MappedFormat.from_source,
    OtlpJsonFormat.name: OtlpJsonFormat.from_source,
}


def input_format(source: LogSource) -> InputFormat:
    """The input format ``request_logs`` names, configured by its options."""
    return FORMATS[source.format](source)
