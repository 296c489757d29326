"""Address keys: fixed-width strings whose order is address order, IPv4 as mapped IPv6."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenreview_pipeline.ip_keys import address_key, ip_key, network_range


def test_ipv4_and_its_mapped_form_are_one_key():
    assert ip_key("10.20.0.1") == ip_key("::ffff:10.20.0.1") == "00000000000000000000ffff0a140001"
    assert ip_key(" 10.20.0.1 ") == ip_key("10.20.0.1")
    assert ip_key("2001:db8::1%eth0") == ip_key("2001:db8::1")


@pytest.mark.parametrize("text", [None, "", "not-an-ip", "10.20.0.1:443", "10.20.0.256"])
def test_absent_or_invalid_addresses_have_no_key(text):
    assert ip_key(text) is None


def test_network_range_is_its_first_and_last_address():
    assert network_range(ipaddress.ip_network("10.20.0.0/16")) == (
        ip_key("10.20.0.0"),
        ip_key("10.20.255.255"),
    )
    assert network_range(ipaddress.ip_network("::ffff:192.168.0.0/112")) == network_range(
        ipaddress.ip_network("192.168.0.0/16")
    )


@given(st.ip_addresses(), st.integers(min_value=0, max_value=128), st.ip_addresses())
def test_key_comparison_is_network_membership(net_address, prefix, address):
    prefix = min(prefix, net_address.max_prefixlen)
    network = ipaddress.ip_network(f"{net_address}/{prefix}", strict=False)
    low, high = network_range(network)
    mapped = (
        address.ipv4_mapped
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped
        else address
    )
    as_v6 = ipaddress.IPv6Address(f"::ffff:{address}") if address.version == 4 else address
    member = mapped in network if mapped.version == network.version else as_v6 in network
    assert (low <= address_key(address) <= high) is member
