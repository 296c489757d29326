"""Known request sources and evidence sources (SPEC 2.4).

``known_sources.yaml`` (optional) lists the API key ids and source networks a
retry is expected to come from (SPEC 4.3 ``unfamiliar_request_source``). A list
that is not configured is not checked: the ``*_known`` helpers return ``None``.
An empty list *is* configured and matches nothing.

``evidence_sources.yaml`` lists the public references a review packet cites,
each with the date it was last read.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import PlainValidator

from tokenreview_pipeline.errors import load_yaml_file, shown
from tokenreview_pipeline.schema import (
    FileModel,
    HttpUrl,
    IsoDate,
    OptionalText,
    StrippedStr,
    invalid,
    null_as,
    stripped_str,
    validate_document,
)

__all__ = [
    "EvidenceSource",
    "IPNetwork",
    "KnownSources",
    "load_evidence_sources",
    "load_known_sources",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# ---------------------------------------------------------------- known sources


@dataclass(frozen=True)
class KnownSources:
    """``None`` for a list that is not configured (key absent or null)."""

    api_key_ids: frozenset[str] | None = None
    source_cidrs: tuple[IPNetwork, ...] | None = None


def _network(value: object) -> IPNetwork:
    text = stripped_str(value)
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise invalid(f"not an IPv4/IPv6 network: {shown(text)}") from None


class _KnownSourcesFile(FileModel):
    key_kind: ClassVar[str] = "top-level key"
    null_is_empty: ClassVar[bool] = True

    api_key_ids: list[StrippedStr] | None = None
    source_cidrs: list[Annotated[IPNetwork, PlainValidator(_network)]] | None = None


def load_known_sources(path: str | os.PathLike[str] | None) -> KnownSources:
    """Read ``known_sources.yaml``; no path, a missing file or an empty file = nothing configured.

    CIDRs are read with ``strict=False`` (``10.20.1.7/16`` means ``10.20.0.0/16``);
    a bare address is a single-host network.
    """
    if path is None or not Path(path).exists():
        return KnownSources()
    doc = validate_document(_KnownSourcesFile, load_yaml_file(path), path)
    return KnownSources(
        api_key_ids=None if doc.api_key_ids is None else frozenset(doc.api_key_ids),
        source_cidrs=None if doc.source_cidrs is None else tuple(doc.source_cidrs),
    )


# ------------------------------------------------------------- evidence sources


@dataclass(frozen=True)
class EvidenceSource:
    area: str
    url: str
    accessed_on: date


class _EvidenceSourceModel(FileModel):
    area: StrippedStr
    url: HttpUrl
    accessed_on: IsoDate
    description: OptionalText = None

    def source(self) -> EvidenceSource:
        return EvidenceSource(area=self.area, url=self.url, accessed_on=self.accessed_on)


class _EvidenceSourcesFile(FileModel):
    key_kind: ClassVar[str] = "top-level key"

    sources: Annotated[list[_EvidenceSourceModel], null_as([])]


def load_evidence_sources(path: str | os.PathLike[str]) -> list[EvidenceSource]:
    """Read ``evidence_sources.yaml`` (top-level ``sources``), in file order."""
    doc = validate_document(_EvidenceSourcesFile, load_yaml_file(path), path)
    return [model.source() for model in doc.sources]
