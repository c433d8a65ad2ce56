"""The `route` parser.

The `seed-*` fixtures are real outputs of net-tools 2.10 and Linux 6.x, taken in a network
namespace built like the project's seed host (a CentOS 7 KVM host): default via 192.168.50.1
on eno1 (192.168.50.201/24), 172.28.20.0/24 on eno2, a static 172.230.0.0/16 via 172.28.20.1,
192.168.122.0/24 on virbr0, a link-local route, a host route 203.0.113.5 via 172.28.20.1,
unreachable/prohibit/blackhole routes and IPv6 routes (one expiring, one unreachable, one
128-bit host route). Names came from the namespace's /etc/hosts (`gateway`, `storage-gw…`,
`backup01…`). `rhel6-route-star-gateways.txt` is hand-written in old net-tools' layout.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from netlint.model import Kind, Severity, Status
from tests.conftest import FIXTURES, parse_file, parse_text

ROUTE = FIXTURES / "route"


def _route_at(result, line):
    (route,) = [route for route in result.data.routes if route.origin.line == line]
    return route


def _facts(result):
    return [(str(r.destination), r.gateway, r.dev, r.metric, r.flags, r.type) for r in result.data.routes]


def _problems(result, severity=Severity.ERROR):
    return [(d.origin.line, d.origin.column, d.message) for d in result.diagnostics if d.severity is severity]


def test_seed_host_route_n():
    result = parse_file(Kind.ROUTE, ROUTE / "seed-route-n.txt")
    assert result.status is Status.PARSED
    assert result.recognized == 12
    assert [str(r.destination) for r in result.data.routes] == [
        "0.0.0.0/0",
        "10.97.0.0/16",
        "10.98.0.0/16",
        "10.99.0.0/16",
        "169.254.0.0/16",
        "172.28.20.0/24",
        "172.230.0.0/16",
        "192.168.50.0/24",
        "192.168.122.0/24",
        "203.0.113.5/32",
    ]
    default = _route_at(result, 3)
    assert (default.family, default.gateway, default.dev, default.metric) == (
        4,
        ip_address("192.168.50.1"),
        "eno1",
        100,
    )
    assert default.flags == ["U", "G"] and default.type == "unicast"
    assert default.options == {"ref": 0, "use": 0}
    static = _route_at(result, 9)
    assert (static.destination, static.gateway, static.dev, static.metric) == (
        ip_network("172.230.0.0/16"),
        ip_address("172.28.20.1"),
        "eno2",
        101,
    )
    libvirt = _route_at(result, 11)
    assert (libvirt.destination, libvirt.gateway, libvirt.dev, libvirt.metric) == (
        ip_network("192.168.122.0/24"),
        None,
        "virbr0",
        0,
    )
    assert _route_at(result, 7).metric == 1002
    assert _route_at(result, 12).flags == ["U", "G", "H"]


def test_reject_and_blackhole_routes():
    result = parse_file(Kind.ROUTE, ROUTE / "seed-route-n.txt")
    blackhole, prohibit, unreachable = (_route_at(result, line) for line in (4, 5, 6))
    assert (blackhole.type, blackhole.flags, blackhole.dev, blackhole.gateway) == (
        "blackhole",
        ["U"],
        None,
        None,
    )
    for reject in (prohibit, unreachable):
        assert (reject.type, reject.flags, reject.dev, reject.gateway, reject.metric) == (
            "unreachable",
            ["!"],
            None,
            None,
            0,
        )
        assert reject.options == {"use": 0}


def test_names_resolved_by_route():
    result = parse_file(Kind.ROUTE, ROUTE / "seed-route.txt")
    assert result.status is Status.PARSED
    default = _route_at(result, 3)
    assert default.destination == ip_network("0.0.0.0/0")
    assert (default.gateway, default.gateway_name) == (None, "gateway")
    assert _route_at(result, 7).destination == ip_network("169.254.0.0/16")
    static = _route_at(result, 9)
    assert (static.destination, static.gateway, static.gateway_name) == (
        ip_network("172.230.0.0/16"),
        None,
        "storage-gw.lab.",
    )
    host = _route_at(result, 12)
    assert (host.destination, host.destination_name) == (None, "backup01.lab.ex")
    assert host.options == {"prefix_length": 32, "ref": 0, "use": 0}
    assert host.flags == ["U", "G", "H"]
    (note,) = [d for d in result.diagnostics if d.severity is Severity.INFO]
    assert note.origin.line == 3 and "kept as names" in note.message


def test_star_gateways_of_old_net_tools():
    result = parse_file(Kind.ROUTE, ROUTE / "rhel6-route-star-gateways.txt")
    assert result.status is Status.PARSED
    assert _facts(result) == [
        ("192.168.50.0/24", None, "eth0", 0, ["U"], "unicast"),
        ("192.168.122.0/24", None, "virbr0", 0, ["U"], "unicast"),
        ("169.254.0.0/16", None, "eth0", 1002, ["U"], "unicast"),
        ("0.0.0.0/0", ip_address("192.168.50.1"), "eth0", 0, ["U", "G"], "unicast"),
    ]


def test_route_ee_extra_columns():
    result = parse_file(Kind.ROUTE, ROUTE / "seed-route-ee.txt")
    assert result.status is Status.PARSED
    default = _route_at(result, 3)
    assert default.metric == 100
    assert default.options == {"ref": 0, "use": 0, "mss": 0, "window": 0, "irtt": 0}
    assert _route_at(result, 5).options == {"use": 0}
    notes = [(d.origin.line, d.message) for d in result.diagnostics if d.severity is Severity.INFO]
    assert (11, "this table cuts interface names to 6 characters: `virbr0` may be longer") in notes


def test_route_e_has_no_metric():
    result = parse_file(Kind.ROUTE, ROUTE / "seed-route-e.txt")
    assert result.status is Status.PARSED
    default = _route_at(result, 3)
    assert default.metric is None
    assert default.options == {"mss": 0, "window": 0, "irtt": 0}
    assert _route_at(result, 5).options == {}


def test_proc_net_route_matches_route_n():
    proc = parse_file(Kind.ROUTE, ROUTE / "seed-proc-net-route.txt")
    table = parse_file(Kind.ROUTE, ROUTE / "seed-route-n.txt")
    assert proc.status is Status.PARSED
    assert proc.recognized == 11
    assert _facts(proc) == _facts(table)
    default = _route_at(proc, 2)
    assert default.options == {"ref": 0, "use": 0, "mtu": 0, "window": 0, "irtt": 0}
    assert _route_at(proc, 11).flags == ["U", "G", "H"]


def test_route_6_n():
    result = parse_file(Kind.ROUTE, ROUTE / "seed-route-6-n.txt")
    assert result.status is Status.PARSED
    assert {r.family for r in result.data.routes} == {6}
    expiring = _route_at(result, 3)
    assert (expiring.destination, expiring.gateway, expiring.flags, expiring.metric) == (
        ip_network("2001:db8:e::/64"),
        ip_address("2001:db8:50::1"),
        ["U", "G", "e"],
        1024,
    )
    overflowing = _route_at(result, 5)
    assert (overflowing.destination, overflowing.gateway, overflowing.dev, overflowing.metric) == (
        ip_network("2001:db8:abcd:12:3456:789a:bcde:f012/128"),
        ip_address("2001:db8:50::1"),
        "eno1",
        1024,
    )
    assert overflowing.options == {"ref": 1, "use": 0}
    reject = _route_at(result, 6)
    assert (reject.type, reject.flags, reject.dev) == ("unreachable", ["!", "n"], "lo")
    local = _route_at(result, 12)
    assert (local.destination, local.type, local.flags) == (ip_network("::1/128"), "local", ["U", "n"])
    catch_all = _route_at(result, 22)
    assert (catch_all.destination, catch_all.metric, catch_all.type) == (
        ip_network("::/0"),
        4294967295,
        "unreachable",
    )
    default = _route_at(result, 11)
    assert (default.gateway, default.metric, default.type) == (ip_address("2001:db8:50::1"), 100, "unicast")


def test_route_6_with_names_reads_as_route_6_n():
    named = parse_file(Kind.ROUTE, ROUTE / "seed-route-6.txt")
    numeric = parse_file(Kind.ROUTE, ROUTE / "seed-route-6-n.txt")
    assert named.status is Status.PARSED
    assert _facts(named) == _facts(numeric)


def test_proc_net_ipv6_route_matches_route_6_n():
    proc = parse_file(Kind.ROUTE, ROUTE / "seed-proc-net-ipv6-route.txt")
    table = parse_file(Kind.ROUTE, ROUTE / "seed-route-6-n.txt")
    assert proc.status is Status.PARSED
    assert proc.diagnostics == []
    assert _facts(proc) == _facts(table)
    assert _route_at(proc, 20).metric == 4294967295


def test_proc_net_ipv6_route_source_prefix_and_anycast():
    zero = "0" * 32
    text = (
        f"20010db8000100000000000000000000 40 20010db8000200000000000000000000 30 {zero} "
        "00000400 00000001 00000000 00000001     eth0\n"
        f"20010db8005000000000000000000000 80 {zero} 00 {zero} 00000000 00000001 00000000 00100001     eth0\n"
    )
    result = parse_text(Kind.ROUTE, text)
    first, anycast = result.data.routes
    assert first.options == {"ref": 1, "use": 0}
    assert first.from_ == ip_network("2001:db8:2::/48")
    assert anycast.from_ is None
    assert (first.destination, first.metric) == (ip_network("2001:db8:1::/64"), 1024)
    assert (anycast.destination, anycast.type, anycast.flags) == (
        ip_network("2001:db8:50::/128"),
        "anycast",
        ["U"],
    )


def test_ipv6_row_without_flags():
    text = (
        "Kernel IPv6 routing table\nDestination                    Next Hop                   Flag Met Ref  Use If\n"
        "2002::/64                      ::                              256 1      0 eth0\n"
    )
    result = parse_text(Kind.ROUTE, text)
    assert result.status is Status.PARSED
    (route,) = result.data.routes
    assert (route.flags, route.metric, route.dev) == ([], 256, "eth0")


def test_non_contiguous_netmask_is_a_problem():
    text = (
        "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
        "10.0.0.0        0.0.0.0         255.0.255.0     U     0      0        0 eth0\n"
        "10.1.0.0        0.0.0.0         255.255.0.0     U     0      0        0 eth0\n"
    )
    result = parse_text(Kind.ROUTE, text)
    assert result.status is Status.PARTIAL
    assert _problems(result) == [(3, 33, "netmask 255.0.255.0 is not contiguous")]
    assert [str(r.destination) for r in result.data.routes] == ["10.1.0.0/16"]


def test_non_contiguous_mask_in_proc_net_route():
    result = parse_text(Kind.ROUTE, "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0\n")
    assert result.status is Status.FAILED
    assert _problems(result) == [(1, 35, "netmask 255.0.255.0 is not contiguous")]


def test_host_bits_are_a_warning():
    result = parse_text(
        Kind.ROUTE, "10.0.0.5        0.0.0.0         255.255.255.0   U     0      0        0 eth0\n"
    )
    assert result.status is Status.PARSED
    assert result.data.routes[0].destination == ip_network("10.0.0.0/24")
    assert _problems(result, Severity.WARNING) == [
        (1, 1, "10.0.0.5/24 has host bits set; read as 10.0.0.0/24")
    ]


def test_headerless_rows_are_read_as_route_n_with_a_note():
    result = parse_text(
        Kind.ROUTE, "0.0.0.0         192.168.50.1    0.0.0.0         UG    -1     0        0 eno1\n"
    )
    (route,) = result.data.routes
    assert (route.metric, route.options) == (4294967295, {"ref": 0, "use": 0})
    assert _problems(result, Severity.INFO) == [
        (1, None, "no column header before this row; read as the columns of `route -n`")
    ]


def test_routing_cache_is_reported_not_misread():
    text = (
        "Kernel IP routing cache\nSource          Destination     Gateway         Flags Metric Ref    Use Iface\n"
        "10.0.0.1        10.0.0.2        10.0.0.2        il    0      0        1 lo\n"
    )
    result = parse_text(Kind.ROUTE, text)
    assert result.status is Status.FAILED
    assert result.data.routes == []
    assert [line for line, _, _ in _problems(result)] == [1, 2, 3]
    assert _problems(result)[2][2] == "row of a table whose header was not understood"


def test_unknown_header_and_bad_values():
    text = (
        "Destination Gateway Genmask Flags Metric Iface\n"
        "Kernel IP routing table\n"
        "999.0.0.0       0.0.0.0         255.255.255.0   U     0      0        0 eth0\n"
        "fe80::/64 :: U 256 0 0 eth0\n"
    )
    result = parse_text(Kind.ROUTE, text)
    assert result.status is Status.PARTIAL
    assert result.recognized == 1
    problems = _problems(result)
    assert problems[0] == (
        1,
        1,
        "not a routing table header netlint knows: Destination Gateway Genmask Flags Metric Iface",
    )
    assert problems[1] == (3, 1, "999.0.0.0 is not an IPv4 address")
    assert problems[2] == (4, 14, "unexpected 'U' (expected IPV4)")


def test_every_line_accounted_for_in_garbage():
    text = "hello world\n\x00\x01 ::: /// 0x\n" + "9" * 5000 + "\n" + "a/1 b 0 0 0 x\n"
    result = parse_text(Kind.ROUTE, text)
    assert result.status is Status.FAILED
    assert sorted({line for line, _, _ in _problems(result)}) == [1, 2, 3, 4]


CORPUS_ROUTE_FILES = [
    "route/insights-route-n-basic.txt",
    "route/jc-centos-7.7-route-6-n.txt",
    "route/jc-centos-7.7-route-6.txt",
    "route/jc-centos-7.7-route-vn.txt",
    "route/jc-centos-7.7-route.txt",
    "route/jc-linux-proc-net-ipv6-route.txt",
    "route/jc-linux-proc-net-route.txt",
    "route/jc-nixos-route-ee.txt",
    "route/jc-ubuntu-18.04-route-vn.txt",
    "route/jc-ubuntu-18.04-route.txt",
    "ip-route/netnetwork-openlab-stettenstr-route-n.txt",
]


@pytest.mark.parametrize("name", CORPUS_ROUTE_FILES)
def test_corpus_parses(corpus, name):
    result = parse_file(Kind.ROUTE, corpus / name)
    assert result.status is Status.PARSED, result.diagnostics
    assert result.data.routes


def test_corpus_names_and_overflowing_columns(corpus):
    named = parse_file(Kind.ROUTE, corpus / "route/jc-centos-7.7-route-6.txt")
    host = _route_at(named, 11)
    assert (host.destination, host.destination_name, host.options["prefix_length"]) == (
        None,
        "unknown000c293b580e.attlocal.net",
        128,
    )
    assert _route_at(named, 4).destination == ip_network("::ffff:0:0/96")
    assert _route_at(named, 18).destination == ip_network("::1/128")
    assert _route_at(named, 13).gateway_name == "gateway"
    numeric = parse_file(Kind.ROUTE, corpus / "route/jc-centos-7.7-route-6-n.txt")
    overflowing = _route_at(numeric, 20)
    assert (overflowing.destination, overflowing.type, overflowing.dev) == (
        ip_network("2600:1700:bab0:d40:884b:cf32:dbd6:f640/128"),
        "local",
        "lo",
    )


def test_corpus_underscore_gateway_and_proc(corpus):
    ubuntu = parse_file(Kind.ROUTE, corpus / "route/jc-ubuntu-18.04-route.txt")
    host = _route_at(ubuntu, 5)
    assert (host.destination, host.destination_name, host.flags) == (None, "_gateway", ["U", "H"])
    numeric = parse_file(Kind.ROUTE, corpus / "route/jc-ubuntu-18.04-route-vn.txt")
    proc = parse_file(Kind.ROUTE, corpus / "route/jc-linux-proc-net-route.txt")
    assert _route_at(proc, 4).destination == ip_network("192.168.71.2/32")
    assert _route_at(proc, 4).flags == ["U", "H"]
    assert _facts(proc)[0] == _facts(numeric)[0]


def test_corpus_policy_router_route_n(corpus):
    result = parse_file(Kind.ROUTE, corpus / "ip-route/netnetwork-openlab-stettenstr-route-n.txt")
    assert len(result.data.routes) == 53
    host = _route_at(result, 7)
    assert (host.destination, host.gateway, host.metric, host.flags) == (
        ip_network("5.9.2.138/32"),
        ip_address("192.168.179.1"),
        1,
        ["U", "G", "H"],
    )
    assert _route_at(result, 8).destination == ip_network("10.11.64.0/26")
