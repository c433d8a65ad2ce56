"""The `netstat-rn` parser.

The `seed-*` fixtures are real `netstat -r` outputs (net-tools 2.10) taken in the same
namespace as the `route` fixtures (see tests/parsers/test_route.py): the seed CentOS 7 KVM
host's routes, reject/blackhole routes and IPv6 routes.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from netlint.model import Kind, Severity, Status
from tests.conftest import FIXTURES, parse_file, parse_text

NETSTAT = FIXTURES / "netstat-rn"
ROUTE = FIXTURES / "route"


def _route_at(result, line):
    (route,) = [route for route in result.data.routes if route.origin.line == line]
    return route


def _facts(result, with_metric=True):
    return [
        (str(r.destination), r.gateway, r.gateway_name, r.dev, r.flags, r.type)
        + ((r.metric,) if with_metric else ())
        for r in result.data.routes
    ]


def test_netstat_rn_of_the_seed_host():
    result = parse_file(Kind.NETSTAT_RN, NETSTAT / "seed-netstat-rn.txt")
    assert result.status is Status.PARSED
    assert result.recognized == 12
    default = _route_at(result, 3)
    assert (default.family, default.destination, default.gateway, default.dev, default.flags) == (
        4,
        ip_network("0.0.0.0/0"),
        ip_address("192.168.50.1"),
        "eno1",
        ["U", "G"],
    )
    assert default.metric is None
    assert default.options == {"mss": 0, "window": 0, "irtt": 0}
    static = _route_at(result, 9)
    assert (static.destination, static.gateway, static.dev) == (
        ip_network("172.230.0.0/16"),
        ip_address("172.28.20.1"),
        "eno2",
    )
    assert _route_at(result, 11).destination == ip_network("192.168.122.0/24")
    reject = _route_at(result, 6)
    assert (reject.type, reject.flags, reject.dev, reject.options) == ("unreachable", ["!"], None, {})
    assert _route_at(result, 4).type == "blackhole"
    route_n = parse_file(Kind.ROUTE, ROUTE / "seed-route-n.txt")
    assert _facts(result, with_metric=False) == _facts(route_n, with_metric=False)


def test_netstat_rne_is_route_n():
    result = parse_file(Kind.NETSTAT_RN, NETSTAT / "seed-netstat-rne.txt")
    route_n = parse_file(Kind.ROUTE, ROUTE / "seed-route-n.txt")
    assert result.status is Status.PARSED
    assert _facts(result) == _facts(route_n)
    assert [r.options for r in result.data.routes] == [r.options for r in route_n.data.routes]


def test_netstat_rnee_has_all_columns():
    result = parse_file(Kind.NETSTAT_RN, NETSTAT / "seed-netstat-rnee.txt")
    assert result.status is Status.PARSED
    default = _route_at(result, 3)
    assert default.metric == 100
    assert default.options == {"ref": 0, "use": 0, "mss": 0, "window": 0, "irtt": 0}
    assert _route_at(result, 5).options == {"use": 0}


def test_netstat_r_keeps_names():
    result = parse_file(Kind.NETSTAT_RN, NETSTAT / "seed-netstat-r.txt")
    assert result.status is Status.PARSED
    default = _route_at(result, 3)
    assert (default.destination, default.gateway, default.gateway_name) == (
        ip_network("0.0.0.0/0"),
        None,
        "gateway",
    )
    assert _route_at(result, 7).destination == ip_network("169.254.0.0/16")
    host = _route_at(result, 12)
    assert (host.destination, host.destination_name, host.gateway_name) == (
        None,
        "backup01.lab.ex",
        "storage-gw.lab.",
    )
    assert host.options == {"prefix_length": 32, "mss": 0, "window": 0, "irtt": 0}


def test_netstat_rn_6_is_the_ipv6_table():
    result = parse_file(Kind.NETSTAT_RN, NETSTAT / "seed-netstat-rn-6.txt")
    route_6 = parse_file(Kind.ROUTE, ROUTE / "seed-route-6-n.txt")
    assert result.status is Status.PARSED
    assert _facts(result) == _facts(route_6)
    assert _route_at(result, 22).metric == 4294967295


def test_headerless_rows_use_netstat_columns():
    result = parse_text(
        Kind.NETSTAT_RN, "0.0.0.0         192.168.50.1    0.0.0.0         UG        0 0          0 eno1\n"
    )
    (route,) = result.data.routes
    assert (route.metric, route.options) == (None, {"mss": 0, "window": 0, "irtt": 0})
    notes = [(d.origin.line, d.message) for d in result.diagnostics if d.severity is Severity.INFO]
    assert notes == [(1, "no column header before this row; read as the columns of `netstat -rn`")]


def test_row_that_does_not_fit_its_header():
    text = (
        "Kernel IP routing table\nDestination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n"
        "0.0.0.0         192.168.50.1    0.0.0.0         UG        0 0          0 eno1     0     0      0\n"
    )
    result = parse_text(Kind.NETSTAT_RN, text)
    assert result.status is Status.PARTIAL
    (problem,) = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert (problem.origin.line, problem.origin.column) == (3, 83)


CORPUS_FILES = [
    "jc-centos-7.7-netstat-r.txt",
    "jc-centos-7.7-netstat-rne.txt",
    "jc-centos-7.7-netstat-rnee.txt",
    "jc-ubuntu-18.04-netstat-r.txt",
    "jc-ubuntu-18.04-netstat-rne.txt",
    "jc-ubuntu-18.04-netstat-rnee.txt",
]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_parses(corpus, name):
    result = parse_file(Kind.NETSTAT_RN, corpus / "netstat-rn" / name)
    assert result.status is Status.PARSED, result.diagnostics
    assert result.data.routes


def test_corpus_truncated_interface_is_noted(corpus):
    result = parse_file(Kind.NETSTAT_RN, corpus / "netstat-rn/jc-centos-7.7-netstat-rnee.txt")
    docker = _route_at(result, 4)
    assert (docker.destination, docker.dev, docker.metric) == (ip_network("172.17.0.0/16"), "docker", 0)
    notes = [(d.origin.line, d.message) for d in result.diagnostics if d.severity is Severity.INFO]
    assert notes == [(4, "this table cuts interface names to 6 characters: `docker` may be longer")]


def test_corpus_underscore_gateway(corpus):
    result = parse_file(Kind.NETSTAT_RN, corpus / "netstat-rn/jc-ubuntu-18.04-netstat-r.txt")
    default, connected, host = result.data.routes
    assert (default.gateway, default.gateway_name) == (None, "_gateway")
    assert (host.destination, host.destination_name, host.flags) == (None, "_gateway", ["U", "H"])
    assert connected.destination == ip_network("192.168.71.0/24")
