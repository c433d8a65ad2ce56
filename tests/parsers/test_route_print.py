"""Windows `route print`: every table of every Windows version in the corpus, the fixtures'
constructs, and the problems a damaged output gets."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netlint.model import Kind, Severity, Status
from tests.conftest import FIXTURES, parse_file, parse_text

FIXTURE_DIR = FIXTURES / "route-print"

CORPUS_FILES = {
    # file: (interfaces, routes)
    "jc-windows-10-route.txt": (9, 74),
    "jc-pr602-windows-10-route-print.txt": (3, 32),
    "jc-pr602-windows-11-route-print.txt": (11, 37),
    "jc-pr602-windows-7-route-print.txt": (3, 16),
    "jc-pr602-windows-2008-route-print.txt": (3, 17),
    "jc-pr602-windows-2016-route-print.txt": (3, 17),
    "jc-pr602-windows-xp-route-print.txt": (2, 9),
}


def _fixture(name: str):
    return parse_file(Kind.ROUTE_PRINT, FIXTURE_DIR / name)


def _routes(result, family: int | None = None, persistent: bool | None = None):
    return [r for r in result.data.routes
            if (family is None or r.family == family)
            and (persistent is None or bool(r.options.get("persistent")) == persistent)]


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_corpus_parses_completely(corpus, name):
    result = parse_file(Kind.ROUTE_PRINT, corpus / "route-print-windows" / name)
    assert result.status is Status.PARSED, result.diagnostics
    assert (len(result.data.interfaces), len(result.data.routes)) == CORPUS_FILES[name]


@pytest.mark.corpus
def test_corpus_windows_xp_hex_indexes_and_own_address_gateways(corpus):
    result = parse_file(Kind.ROUTE_PRINT, corpus / "route-print-windows" / "jc-pr602-windows-xp-route-print.txt")
    assert [(i.index, i.mac) for i in result.data.interfaces] == [(1, None), (2, "00 0c 29 21 f9 3e")]
    connected = next(r for r in result.data.routes if r.destination == ip_network("192.168.22.0/24"))
    assert connected.gateway is None and connected.flags == ["on-link"]
    assert connected.options == {"gateway": "192.168.22.135"}
    assert connected.origin.line == 13


@pytest.mark.corpus
def test_corpus_isatap_adapter_has_eight_mac_bytes(corpus):
    result = parse_file(Kind.ROUTE_PRINT, corpus / "route-print-windows" / "jc-pr602-windows-7-route-print.txt")
    isatap = result.data.interfaces[2]
    assert (isatap.index, isatap.mac, isatap.description) == (11, "00 00 00 00 00 00 00 e0", "Microsoft ISATAP Adapter")


def test_ticket_fragment_without_headers():
    """The one row a customer pasted, tabs and spaces mixed, no headers at all."""
    result = _fixture("centos7-ticket-fragment.txt")
    assert result.status is Status.PARSED
    assert result.data.interfaces == []
    (route,) = result.data.routes
    assert route.family == 4
    assert route.destination == ip_network("0.0.0.0/0")
    assert route.gateway == ip_address("192.168.122.1")
    assert route.src == ip_address("192.168.122.2")
    assert route.metric == 20
    assert route.flags == [] and route.options == {}
    assert route.origin.line == 1


def test_windows_10_kvm_guest_with_crlf_line_ends():
    assert b"\r\n" in (FIXTURE_DIR / "win10-kvm-guest-crlf.txt").read_bytes()
    result = _fixture("win10-kvm-guest-crlf.txt")
    assert result.status is Status.PARSED
    assert result.diagnostics == []
    virtio, loopback, isatap = result.data.interfaces
    assert (virtio.index, virtio.mac, virtio.description) == (6, "52 54 00 3a 9f 1c", "Red Hat VirtIO Ethernet Adapter")
    assert virtio.origin.line == 3
    assert (loopback.index, loopback.mac, loopback.description) == (1, None, "Software Loopback Interface 1")
    assert isatap.mac == "00 00 00 00 00 00 00 e0"

    default = result.data.routes[0]
    assert (default.destination, default.gateway, default.src, default.metric) == (
        ip_network("0.0.0.0/0"), ip_address("192.168.122.1"), ip_address("192.168.122.50"), 15)
    assert default.origin.line == 12
    subnet = next(r for r in result.data.routes if r.destination == ip_network("192.168.122.0/24"))
    assert subnet.gateway is None and subnet.flags == ["on-link"] and subnet.metric == 271

    (stored,) = _routes(result, 4, persistent=True)
    assert stored.destination == ip_network("10.20.0.0/16")
    assert stored.gateway == ip_address("192.168.122.1")
    assert stored.src is None and stored.metric == 5
    assert stored.origin.line == 27
    assert len(_routes(result, 4, persistent=False)) == 12


def test_wrapped_ipv6_row_takes_the_gateway_from_the_next_line():
    result = _fixture("win10-kvm-guest-crlf.txt")
    ipv6 = _routes(result, 6)
    assert len(ipv6) == 5
    wrapped = ipv6[2]
    assert wrapped.destination == ip_network("fe80::5d1e:7a2b:c0d4:91f3/128")
    assert wrapped.gateway is None and wrapped.flags == ["on-link"]
    assert wrapped.metric == 271 and wrapped.options == {"if": 6}
    assert wrapped.origin.line == 36
    assert ipv6[3].origin.line == 38


def test_stray_carriage_returns_are_blank_space():
    text = (FIXTURE_DIR / "win10-kvm-guest-crlf.txt").read_bytes().decode()
    assert "\r" in text
    result = parse_text(Kind.ROUTE_PRINT, text)
    assert result.status is Status.PARSED
    assert len(result.data.routes) == 18
    assert result.data.interfaces[0].description == "Red Hat VirtIO Ethernet Adapter"
    mid_row = parse_text(Kind.ROUTE_PRINT, "0.0.0.0\r0.0.0.0 192.168.122.1 192.168.122.2\r20\r")
    assert mid_row.status is Status.PARSED and mid_row.data.routes[0].metric == 20


def test_default_metric_ipv6_gateways_and_persistent_ipv6_rows():
    result = _fixture("win2008r2-kvm-guest-ipv6.txt")
    assert result.status is Status.PARSED
    (stored,) = _routes(result, 4, persistent=True)
    assert stored.metric is None
    assert stored.options == {"persistent": True, "metric": "Default"}
    via = next(r for r in _routes(result, 6) if r.destination == ip_network("fd00:100::/48"))
    assert via.gateway == ip_address("fd00:100::1") and via.flags == []
    (stored6,) = _routes(result, 6, persistent=True)
    assert stored6.destination == ip_network("fd00:200::/64")
    assert stored6.metric == 4294967295
    assert stored6.options == {"if": 0, "persistent": True}
    assert stored6.origin.line == 46
    assert len(_routes(result, 6, persistent=False)) == 8


def test_windows_xp_layout():
    result = _fixture("winxp-kvm-guest.txt")
    assert result.status is Status.PARSED
    assert [(i.index, i.description) for i in result.data.interfaces] == [
        (1, "MS TCP Loopback interface"), (0x10003, "Red Hat VirtIO Ethernet Adapter")]
    assert result.data.interfaces[1].mac == "52 54 00 19 c2 8e"
    default, loopback, connected, own, *_ = result.data.routes
    assert default.gateway == ip_address("192.168.122.1") and default.flags == []
    assert loopback.flags == ["on-link"] and loopback.options == {"gateway": "127.0.0.1"}
    assert connected.src == ip_address("192.168.122.77") and connected.gateway is None
    assert own.destination == ip_network("192.168.122.77/32") and own.src == ip_address("127.0.0.1")
    assert len(result.data.routes) == 7


def test_damaged_rows_are_reported_with_their_column():
    text = "\n".join([
        "Network Destination        Netmask          Gateway       Interface  Metric",
        "          0.0.0.0          0.0.0.0    192.168.122.1   192.168.122.50     15",
        "    192.168.122.0    255.0.255.0         On-link   192.168.122.50    271",
        "    192.168.122.0    255.255.255.0       On-link   192.168.122.350   271",
        "    192.168.122.0    255.255.255.0       On-link   192.168.122.50    99999999999",
        "this is not route print output",
    ])
    result = parse_text(Kind.ROUTE_PRINT, text)
    assert result.status is Status.PARTIAL
    assert len(result.data.routes) == 1
    problems = [(d.origin.line, d.origin.column, d.message) for d in result.diagnostics]
    assert problems[0] == (3, 22, "'255.0.255.0' is not a valid prefix or netmask")
    assert problems[1] == (4, 52, "'192.168.122.350' is not an IPv4 address")
    assert problems[2] == (5, 70, "number '99999999999' is out of range")
    assert problems[3][0] == 6 and problems[3][1] == 1
    assert result.diagnostics[3].text == "this is not route print output"


def test_destination_outside_its_netmask_is_a_warning():
    result = parse_text(Kind.ROUTE_PRINT, "   10.0.0.5   255.0.0.0   10.0.0.1   10.0.0.9   5\n")
    assert result.status is Status.PARSED
    assert result.data.routes[0].destination == ip_network("10.0.0.0/8")
    (warning,) = result.diagnostics
    assert warning.severity is Severity.WARNING
    assert (warning.origin.line, warning.origin.column) == (1, 4)


def test_wrapped_ipv6_row_without_its_gateway_line():
    text = "\n".join([
        " If Metric Network Destination      Gateway",
        "  6    271 fe80::5d1e:7a2b:c0d4:91f3/128",
        "  1    331 ff00::/8                 On-link",
        "                                    On-link",
    ])
    result = parse_text(Kind.ROUTE_PRINT, text)
    assert result.status is Status.PARTIAL
    assert [r.destination for r in result.data.routes] == [ip_network("ff00::/8")]
    missing, orphan = result.diagnostics
    assert missing.origin.line == 2 and "gateway of this IPv6 route is missing" in missing.message
    assert (orphan.origin.line, orphan.origin.column) == (4, 37)


def test_wrapped_ipv6_row_at_the_end_of_the_text():
    result = parse_text(Kind.ROUTE_PRINT, "  6    271 fe80::5d1e:7a2b:c0d4:91f3/128\n")
    assert result.status is Status.PARTIAL
    assert result.data.routes == []
    assert result.diagnostics[0].origin.line == 1


def test_text_that_is_not_route_print_fails():
    result = parse_text(Kind.ROUTE_PRINT, "Kernel IP routing table\nfoo bar baz\n")
    assert result.status is Status.FAILED
    assert [d.origin.line for d in result.diagnostics] == [1, 2]


def test_first_line_offsets_origins():
    from netlint.model import Source
    from netlint.parsers import parse

    row = "0.0.0.0  0.0.0.0\t192.168.122.1\t 192.168.122.2 20\n"
    source = Source("ticket.md", Kind.ROUTE_PRINT, row, first_line=67)
    assert parse(source).data.routes[0].origin.line == 67


_SAMPLE = (FIXTURE_DIR / "win10-kvm-guest-crlf.txt").read_bytes().decode().replace("\r\n", "\n")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789abcdef.:/ \t\r\n=xOn-lik%Default")), max_size=300))
def test_never_raises_on_route_like_noise(text):
    result = parse_text(Kind.ROUTE_PRINT, text)
    assert result.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(_SAMPLE)), st.integers(0, 40), st.text(max_size=12))
def test_never_raises_on_mutated_output(position, cut, insert):
    text = _SAMPLE[:position] + insert + _SAMPLE[position + cut:]
    result = parse_text(Kind.ROUTE_PRINT, text)
    assert result.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)
