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
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from tokenreview_pipeline.errors import ConfigError, describe, load_yaml_file, load_yaml_list

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

_KNOWN_KEYS = ("api_key_ids", "source_cidrs")
_EVIDENCE_KEYS = ("area", "url", "accessed_on", "description")


# ---------------------------------------------------------------- known sources


@dataclass(frozen=True)
class KnownSources:
    """``None`` for a list that is not configured (key absent or null)."""

    api_key_ids: frozenset[str] | None = None
    source_cidrs: tuple[IPNetwork, ...] | None = None


def _string_list(path: str | os.PathLike[str], key: str, value: object) -> list[str]:
    if not isinstance(value, list):
        raise ConfigError(path, key, f"expected a list of strings, got {describe(value)}")
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                path, f"{key}[{i}]", f"expected a non-empty string, got {describe(item)}"
            )
        out.append(item.strip())
    return out


def load_known_sources(path: str | os.PathLike[str] | None) -> KnownSources:
    """Read ``known_sources.yaml``; no path, a missing file or an empty file = nothing configured.

    CIDRs are read with ``strict=False`` (``10.20.1.7/16`` means ``10.20.0.0/16``);
    a bare address is a single-host network.
    """
    if path is None or not Path(path).exists():
        return KnownSources()
    doc = load_yaml_file(path)
    if doc is None:
        return KnownSources()
    if not isinstance(doc, dict):
        raise ConfigError(path, "(document)", f"expected a mapping, got {describe(doc)}")
    for key in doc:
        if key not in _KNOWN_KEYS:
            raise ConfigError(
                path, str(key), f"unknown top-level key; allowed: {', '.join(_KNOWN_KEYS)}"
            )

    api_key_ids: frozenset[str] | None = None
    if doc.get("api_key_ids") is not None:
        api_key_ids = frozenset(_string_list(path, "api_key_ids", doc["api_key_ids"]))

    source_cidrs: tuple[IPNetwork, ...] | None = None
    if doc.get("source_cidrs") is not None:
        networks: list[IPNetwork] = []
        for i, text in enumerate(_string_list(path, "source_cidrs", doc["source_cidrs"])):
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError as exc:
                raise ConfigError(
                    path, f"source_cidrs[{i}]", f"not an IPv4/IPv6 network: {exc}"
                ) from None
        source_cidrs = tuple(networks)

    return KnownSources(api_key_ids=api_key_ids, source_cidrs=source_cidrs)


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


def _parse_date(path: str | os.PathLike[str], key: str, value: object) -> date:
    if isinstance(value, datetime):  # datetime is a date subclass: check it first
        raise ConfigError(path, key, "expected a date YYYY-MM-DD, got a timestamp")
    if isinstance(value, date):
        return value  # YAML already parsed an unquoted date
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        raise ConfigError(path, key, f"expected a date YYYY-MM-DD, got {value!r}")
    raise ConfigError(path, key, f"expected a date YYYY-MM-DD, got {describe(value)}")


def _parse_url(path: str | os.PathLike[str], key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, key, f"expected a URL string, got {describe(value)}")
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConfigError(path, key, f"expected an absolute http(s) URL, got {value!r}")
    return value.strip()


def _parse_evidence(path: str | os.PathLike[str], index: int, raw: object) -> EvidenceSource:
    where = f"sources[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(path, where, f"expected a mapping, got {describe(raw)}")
    for key in raw:
        if key not in _EVIDENCE_KEYS:
            raise ConfigError(
                path, f"{where}.{key}", f"unknown key; allowed: {', '.join(_EVIDENCE_KEYS)}"
            )
    for key in ("area", "url", "accessed_on"):
        if raw.get(key) is None:
            raise ConfigError(path, f"{where}.{key}", "required")
    area = raw["area"]
    if not isinstance(area, str) or not area.strip():
        raise ConfigError(
            path, f"{where}.area", f"expected a non-empty string, got {describe(area)}"
        )
    return EvidenceSource(
        area=area.strip(),
        url=_parse_url(path, f"{where}.url", raw["url"]),
        accessed_on=_parse_date(path, f"{where}.accessed_on", raw["accessed_on"]),
    )


def load_evidence_sources(path: str | os.PathLike[str]) -> list[EvidenceSource]:
    """Read ``evidence_sources.yaml`` (top-level ``sources``), in file order."""
    raw = load_yaml_list(path, "sources")
    return [_parse_evidence(path, i, item) for i, item in enumerate(raw)]
