"""IP addresses as fixed-width keys, so SQL on any backend can test network membership.

An address becomes the 32 hex digits of its 128-bit IPv6 form, an IPv4 address taken
as its IPv4-mapped IPv6 address (``10.20.0.1`` and ``::ffff:10.20.0.1`` are one key).
A network becomes the keys of its first and last address. Then "the address is in the
network" is ``key BETWEEN ip_from AND ip_to`` -- a string comparison that SQLite and
PostgreSQL agree on -- and an IPv4 network contains the mapped form of its addresses
and vice versa, as SPEC 4.3's "IPv4 and IPv6" asks.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAPPED_IPV4 = 0xFFFF_0000_0000


def address_key(address: IPAddress) -> str:
    value = int(address)
    if address.version == 4:
        value |= _MAPPED_IPV4
    return f"{value:032x}"


def ip_key(text: str | None) -> str | None:
    """The key of an address written as text; None when absent or not an address."""
    if not text:
        return None
    try:
        return address_key(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def network_range(network: IPNetwork) -> tuple[str, str]:
    """The keys of a network's first and last address."""
    return address_key(network.network_address), address_key(network.broadcast_address)
