"""libvirt network XML: the forward modes and elements netlint reads, the notes for what it
does not, and the hardening (no DTD, no entity, malformed XML as a located problem)."""

from __future__ import annotations

import time
from ipaddress import ip_address, ip_interface, ip_network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netlint.model import Kind, Severity, Status
from tests.conftest import FIXTURES, parse_file, parse_text

FIXTURE_DIR = FIXTURES / "libvirt-network-xml"


def _fixture(name: str):
    return parse_file(Kind.LIBVIRT_NETWORK_XML, FIXTURE_DIR / name)


def _xml(text: str):
    return parse_text(Kind.LIBVIRT_NETWORK_XML, text, file="net.xml")


def _problems(result):
    return [(d.origin.line, d.origin.column, d.message) for d in result.diagnostics if d.severity is Severity.ERROR]


def _notes(result):
    return [(d.origin.line, d.message) for d in result.diagnostics if d.severity is Severity.INFO]


@pytest.mark.corpus
@pytest.mark.parametrize("name, mode, dev", [
    ("forward-dev.xml", "nat", "enp0s7"),
    ("isolated.xml", None, None),
    ("route-default.xml", "route", None),
])
def test_corpus_parses_completely(corpus, name, mode, dev):
    result = parse_file(Kind.LIBVIRT_NETWORK_XML, corpus / "libvirt-rules" / name)
    assert result.status is Status.PARSED, result.diagnostics
    network = result.data.network
    assert (network.name, network.bridge, network.forward_mode, network.forward_dev) == ("default", "virbr0", mode, dev)
    assert network.ips[0].address == ip_interface("192.168.122.1/24")


@pytest.mark.corpus
def test_corpus_isolated_network_with_ipv6(corpus):
    network = parse_file(Kind.LIBVIRT_NETWORK_XML, corpus / "libvirt-rules" / "isolated.xml").data.network
    assert [ip.address for ip in network.ips] == [
        ip_interface("192.168.122.1/24"), ip_interface("192.168.128.1/24"), ip_interface("2001:db8:ca2:2::1/64")]
    assert [ip.origin.line for ip in network.ips] == [4, 9, 10]
    (v6_range,) = network.ips[2].dhcp_ranges
    assert (v6_range.start, v6_range.end, v6_range.origin.line) == (
        ip_address("2001:db8:ca2:2:1::10"), ip_address("2001:db8:ca2:2:1::ff"), 12)


def test_default_nat_network_as_libvirt_writes_it():
    result = _fixture("default-nat-etc.xml")
    assert result.status is Status.PARSED
    assert result.diagnostics == []
    network = result.data.network
    assert network.origin.line == 8
    assert network.name == "default"
    assert network.uuid == "3f2c9b1e-7a44-4e0c-9d51-0b6e8f2a1c77"
    assert network.forward_mode == "nat" and network.forward_dev is None
    assert (network.bridge, network.bridge_stp, network.bridge_delay) == ("virbr0", True, 0)
    assert network.mac == "52:54:00:c3:68:e6"
    (ip,) = network.ips
    assert ip.address == ip_interface("192.168.122.1/24") and ip.origin.line == 14
    (dhcp_range,) = ip.dhcp_ranges
    assert (dhcp_range.start, dhcp_range.end, dhcp_range.origin.line) == (
        ip_address("192.168.122.2"), ip_address("192.168.122.254"), 16)
    assert network.nat_port_start is None and network.routes == []


def test_running_network_from_net_dumpxml():
    result = _fixture("default-nat-dumpxml.xml")
    assert result.status is Status.PARSED and result.diagnostics == []
    network = result.data.network
    assert network.connections == 2
    assert (network.nat_port_start, network.nat_port_end) == (1024, 65535)
    hosts = network.ips[0].dhcp_hosts
    assert [(h.mac, h.name, h.ip, h.origin.line) for h in hosts] == [
        ("52:54:00:dc:a4:d5", "centos7-guest", ip_address("192.168.122.2"), 14),
        ("52:54:00:18:7e:90", "win10", ip_address("192.168.122.50"), 15)]


def test_routed_network_with_static_routes():
    result = _fixture("routed.xml")
    assert result.status is Status.PARSED and result.diagnostics == []
    network = result.data.network
    assert (network.forward_mode, network.forward_dev, network.domain) == ("route", "eth1", "lab.example")
    assert network.ips[0].address == ip_interface("192.168.100.1/24")
    first, second = network.routes
    assert (first.destination, first.gateway, first.metric, first.origin.line) == (
        ip_network("192.168.222.0/24"), ip_address("192.168.100.2"), None, 13)
    assert (second.destination, second.gateway, second.metric) == (
        ip_network("10.77.0.0/16"), ip_address("192.168.100.3"), 10)


def test_isolated_network_keeps_unread_elements_as_notes():
    result = _fixture("isolated.xml")
    assert result.status is Status.PARSED
    network = result.data.network
    assert network.forward_mode is None
    assert (network.mtu, network.domain, network.bridge) == (9000, "iso.test", "virbr2")
    assert network.ips[0].dhcp_ranges[0].start == ip_address("10.10.10.100")
    assert _notes(result) == [
        (7, "attribute localOnly='yes' of <domain> is not read by netlint"),
        (8, "<dns> in <network> is not read by netlint"),
        (12, "<lease> in <range> is not read by netlint"),
    ]


def test_forward_dev_pin_with_interface_and_nat_ranges():
    result = _fixture("forward-dev-pin.xml")
    assert result.status is Status.PARSED and result.diagnostics == []
    network = result.data.network
    assert (network.forward_mode, network.forward_dev, network.forward_interfaces) == ("nat", "eno1", ["eno1"])
    assert (network.nat_address_start, network.nat_address_end) == (
        ip_address("203.0.113.10"), ip_address("203.0.113.12"))
    assert (network.nat_port_start, network.nat_port_end) == (20000, 30000)


def test_open_mode():
    network = _fixture("open.xml").data.network
    assert (network.forward_mode, network.bridge, network.uuid) == ("open", "virbr4", None)
    assert network.ips[0].dhcp_ranges == []


def test_ipv6_network_with_nat66_and_dhcpv6_reservation():
    result = _fixture("ipv6-nat.xml")
    assert result.status is Status.PARSED
    network = result.data.network
    assert network.nat_ipv6 is True
    v4, v6 = network.ips
    assert v6.address == ip_interface("fd00:150::1/64") and v6.origin.line == 13
    (host,) = v6.dhcp_hosts
    assert (host.mac, host.id, host.name, host.ip) == (
        None, "0:4:7e:7d:f0:7d:a8:bc:c5:d2:13:32:11:ed:16:ea:84:63", "guest6", ip_address("fd00:150::20"))
    assert _notes(result) == [(1, "attribute ipv6='yes' of <network> is not read by netlint")]


def test_passthrough_pool_of_interfaces():
    network = _fixture("bridge-passthrough.xml").data.network
    assert network.forward_mode == "passthrough"
    assert network.forward_interfaces == ["enp3s0f0", "enp3s0f1"]
    assert network.bridge is None and network.ips == []


def test_forward_without_mode_is_nat_and_no_prefix_gets_libvirts_default():
    result = _xml("<network>\n  <name>n</name>\n  <forward/>\n  <ip address='172.16.5.1'/>\n</network>\n")
    assert result.status is Status.PARSED
    network = result.data.network
    assert network.forward_mode == "nat"
    assert network.ips[0].address == ip_interface("172.16.5.1/16")
    assert _notes(result) == [(4, "<ip> has no prefix= or netmask=: libvirt uses /16 for 172.16.5.1")]


@pytest.mark.parametrize("name", ["billion-laughs.xml", "external-entity.xml"])
def test_dtds_are_refused_before_any_entity_is_read(name):
    started = time.monotonic()
    result = _fixture(name)
    assert time.monotonic() - started < 1
    assert result.status is Status.FAILED
    assert result.data.network is None
    ((line, column, message),) = _problems(result)
    assert (line, column) == (2, 1)
    assert "DTD" in message and "refused" in message
    assert result.diagnostics[0].text == "<!DOCTYPE network ["


def test_truncated_xml_keeps_what_came_before():
    text = "<network>\n  <name>default</name>\n  <forward mode='nat'/>\n  <ip address='192.168.122.1' prefix='24'>\n"
    result = _xml(text)
    assert result.status is Status.PARTIAL
    assert result.data.network.forward_mode == "nat"
    assert result.data.network.ips[0].address == ip_interface("192.168.122.1/24")
    assert _problems(result) == [(5, 1, "malformed XML: no element found; what comes before it was read")]


def test_malformed_xml_is_located():
    result = _xml("<network>\n  <name>default</name>\n  <bridge name='virbr0'>\n</network>\n")
    assert result.status is Status.PARTIAL
    assert _problems(result) == [(4, 3, "malformed XML: mismatched tag; what comes before it was read")]
    assert result.diagnostics[-1].text == "</network>"


@pytest.mark.parametrize("text", [
    "[root@host ~]# virsh net-dumpxml default\n<network><name>default</name></network>\n",
    "Network Destination        Netmask          Gateway       Interface  Metric\n",
    "error: failed to get network 'default'\n",
])
def test_text_that_is_not_xml_fails(text):
    result = _xml(text)
    assert result.status is Status.FAILED
    assert result.data.network is None
    assert _problems(result) == [(1, 1, "not XML: syntax error")]


def test_undefined_entity_is_not_expanded():
    result = _xml("<network>\n  <name>&xxe;</name>\n</network>\n")
    assert result.status is Status.PARTIAL
    assert _problems(result) == [(2, 9, "malformed XML: undefined entity; what comes before it was read")]


def test_other_root_element_fails():
    result = _xml("<domain type='kvm'>\n  <name>guest</name>\n</domain>\n")
    assert result.status is Status.FAILED
    assert _problems(result) == [(1, 1, "the root element is <domain>, not a libvirt <network>")]


def test_bad_values_are_problems_at_their_element():
    text = "\n".join([
        "<network>",
        "  <name>bad</name>",
        "  <forward mode='tunnel'/>",
        "  <bridge name='virbr9' stp='maybe' delay='x'/>",
        "  <ip address='192.168.300.1' netmask='255.255.255.0'/>",
        "  <ip address='10.0.0.1' netmask='255.0.255.0'/>",
        "  <name>again</name>",
        "</network>",
    ])
    result = _xml(text)
    assert result.status is Status.PARTIAL
    assert result.data.network.name == "bad"
    assert result.data.network.forward_mode == "tunnel"
    assert result.data.network.ips == []
    assert _problems(result) == [
        (3, 3, "forward mode 'tunnel' is not one libvirt knows"),
        (4, 3, "stp='maybe' of <bridge> is not one of on/off"),
        (4, 3, "delay='x' of <bridge> is not a number"),
        (5, 3, "address='192.168.300.1' of <ip> is not an IP address"),
        (6, 3, "'255.0.255.0' is not a valid prefix or netmask for 10.0.0.1"),
    ]
    (warning,) = [d for d in result.diagnostics if d.severity is Severity.WARNING]
    assert warning.origin.line == 7 and "second <name>" in warning.message


def test_namespaced_extensions_and_metadata_are_notes():
    text = "\n".join([
        "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>",
        "  <name>ext</name>",
        "  <metadata>",
        "    <app:info xmlns:app='http://example.org/app'><app:owner>ops</app:owner></app:info>",
        "  </metadata>",
        "  <dnsmasq:options>",
        "    <dnsmasq:option value='dhcp-option=option:ntp-server,192.168.122.1'/>",
        "  </dnsmasq:options>",
        "</network>",
    ])
    result = _xml(text)
    assert result.status is Status.PARSED
    assert _notes(result) == [
        (3, "<metadata> in <network> is not read by netlint (nor the 2 elements inside it)"),
        (6, "<dnsmasq:options> in <network> is not read by netlint (nor the 1 element inside it)"),
    ]


def test_blank_lines_before_the_declaration_and_first_line_offset():
    from netlint.model import Source
    from netlint.parsers import parse

    text = "\n\n<?xml version='1.0'?>\n<network>\n  <name>n</name>\n  <ip address='10.1.1.1' prefix='24'/>\n</network>\n"
    result = parse(Source("ticket.md", Kind.LIBVIRT_NETWORK_XML, text, first_line=40))
    assert result.status is Status.PARSED
    network = result.data.network
    assert (network.origin.line, network.ips[0].origin.line) == (43, 45)


_SAMPLE = (FIXTURE_DIR / "forward-dev-pin.xml").read_text()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(_SAMPLE)), st.integers(0, 30),
       st.text(alphabet=st.sampled_from(list("<>/='\"&;! ax1.:-[]\n")), max_size=10))
def test_never_raises_on_mutated_xml(position, cut, insert):
    result = _xml(_SAMPLE[:position] + insert + _SAMPLE[position + cut:])
    assert result.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_on_any_text(text):
    result = _xml(text)
    assert result.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)
