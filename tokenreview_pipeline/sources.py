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
from functools import lru_cache
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
    "api_key_known",
    "load_evidence_sources",
    "load_known_sources",
    "source_ip_known",
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


def api_key_known(known: KnownSources, api_key_id: str) -> bool | None:
    """Whether ``api_key_id`` is listed; ``None`` when ``api_key_ids`` is not configured."""
    if known.api_key_ids is None:
        return None
    return api_key_id in known.api_key_ids


def _address_forms(source_ip: str) -> list[IPAddress]:
    """The parsed address and its IPv4/IPv4-mapped-IPv6 twin; empty if unparseable."""
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return []
    forms: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            forms.append(address.ipv4_mapped)
    else:
        forms.append(ipaddress.IPv6Address(f"::ffff:{address}"))
    return forms


@lru_cache(maxsize=65_536)  # traffic comes from few addresses: parse each once
def source_ip_known(known: KnownSources, source_ip: str | None) -> bool | None:
    """Whether ``source_ip`` lies in a configured network.

    ``None`` when ``source_cidrs`` is not configured; ``False`` when the address is
    absent, unparseable or in none of the networks. An IPv4-mapped IPv6 address
    (``::ffff:10.20.0.1``) counts as its IPv4 address, and vice versa.
    """
    if known.source_cidrs is None:
        return None
    if not isinstance(source_ip, str) or not source_ip.strip():
        return False
    forms = _address_forms(source_ip)
    return any(
        address in network
        for address in forms
        for network in known.source_cidrs
        if address.version == network.version
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
