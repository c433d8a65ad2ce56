from ipaddress import ip_address, ip_network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, parse_file, parse_text

from netlint.model import Severity, Status

ROUTES = FIXTURES / "ip-route"


def _route(result, line):
    (route,) = [r for r in result.data.routes if r.origin.line == line]
    return route


def test_seed_host_table_all():
    result = parse_file("ip-route", ROUTES / "seed-kvm-host-table-all.txt")
    assert result.status is Status.PARSED
    assert result.recognized == 21
    default = _route(result, 1)
    assert default.destination == ip_network("0.0.0.0/0")
    assert (default.gateway, default.dev, default.proto, default.metric) == (
        ip_address("192.168.50.1"), "eno1", "static", 100)
    assert default.table is None and default.type == "unicast" and default.family == 4
    uplink2 = _route(result, 2)
    assert (uplink2.destination, uplink2.dev, uplink2.scope, uplink2.src) == (
        ip_network("172.28.20.0/24"), "eno2", "link", ip_address("172.28.20.15"))
    static = _route(result, 3)
    assert (static.destination, static.gateway) == (ip_network("172.230.0.0/16"), ip_address("172.28.20.1"))
    virbr0 = _route(result, 5)
    assert virbr0.destination == ip_network("192.168.122.0/24")
    assert (virbr0.dev, virbr0.proto, virbr0.scope, virbr0.src) == ("virbr0", "kernel", "link", ip_address("192.168.122.1"))
    assert virbr0.flags == ["linkdown"] and virbr0.metric is None


def test_seed_host_main_table():
    result = parse_file("ip-route", ROUTES / "seed-kvm-host-ip-route.txt")
    assert result.status is Status.PARSED
    assert [(str(r.destination), r.dev, r.metric) for r in result.data.routes] == [
        ("0.0.0.0/0", "eno1", 100), ("172.28.20.0/24", "eno2", 101), ("172.230.0.0/16", "eno2", 101),
        ("192.168.50.0/24", "eno1", 100), ("192.168.122.0/24", "virbr0", None)]


def test_local_table_and_host_destinations():
    result = parse_file("ip-route", ROUTES / "seed-kvm-host-table-all.txt")
    loopback = _route(result, 7)
    assert (loopback.type, loopback.table, loopback.scope) == ("local", "local", "host")
    # No `/len`: a host route.
    assert loopback.destination == ip_network("127.0.0.1/32")
    assert _route(result, 8).type == "broadcast"
    # `ip route show table all` lists IPv6 too on current iproute2.
    v6 = [r for r in result.data.routes if r.family == 6]
    assert [r.origin.line for r in v6] == list(range(15, 22))
    assert _route(result, 20).type == "multicast"
    assert _route(result, 20).destination == ip_network("ff00::/8")
    assert _route(result, 15).options == {"pref": "medium"}
    assert _route(result, 14).flags == ["linkdown"]


def test_policy_tables_and_route_types():
    result = parse_file("ip-route", ROUTES / "policy-table-all.txt")
    assert result.status is Status.PARSED
    assert _route(result, 1).table == "red_mgmt"
    throw = _route(result, 2)
    assert (throw.type, throw.destination, throw.table, throw.dev) == ("throw", ip_network("10.0.0.0/8"), "red_mgmt", None)
    assert _route(result, 4).table == "200"
    assert [(_route(result, n).type, _route(result, n).metric) for n in (23, 24, 25)] == [
        ("blackhole", None), ("unreachable", 10), ("prohibit", None)]
    numbers = _route(result, 9)
    assert (numbers.proto, numbers.scope) == ("77", "100")
    assert _route(result, 10).proto == "bird"
    assert _route(result, 12).proto == "dhcp"
    assert _route(result, 13).flags == ["onlink"]


def test_multipath_nexthops_with_their_lines():
    result = parse_file("ip-route", ROUTES / "policy-table-all.txt")
    route = _route(result, 20)
    assert route.gateway is None and route.dev is None
    first, second = route.nexthops
    assert (first.gateway, first.dev, first.weight, first.flags, first.origin.line) == (
        ip_address("10.0.1.1"), "wan1", 1, [], 21)
    assert (second.gateway, second.dev, second.flags, second.origin.line) == (
        ip_address("10.0.2.1"), "wan2", ["dead", "linkdown"], 22)
    assert [h.weight for h in _route(result, 27).nexthops] == [1, 2]
    group = _route(result, 17)
    assert group.options == {"nhid": 12} and len(group.nexthops) == 2
    assert _route(result, 16).options == {"nhid": 10}


def test_metrics_lock_and_verbatim_options():
    result = parse_file("ip-route", ROUTES / "policy-table-all.txt")
    route = _route(result, 14)
    assert route.options == {"realms": "1/2", "mtu": 1400, "rtt": "30ms", "advmss": 1360,
                             "hoplimit": 32, "initcwnd": 10, "features": "ecn"}
    assert route.locked == ["mtu"]
    assert _route(result, 30).options == {"tos": "0x10"}


def test_ipv4_route_via_ipv6_gateway():
    result = parse_file("ip-route", ROUTES / "policy-table-all.txt")
    route = _route(result, 26)
    assert route.family == 4 and route.gateway == ip_address("fe80::1")


def test_ipv6_routes():
    result = parse_file("ip-route", ROUTES / "policy-ip-6-table-all.txt")
    assert result.status is Status.PARSED
    assert {r.family for r in result.data.routes} == {6}
    default = _route(result, 1)
    assert (default.destination, default.table, default.metric) == (ip_network("::/0"), "200", 1024)
    multipath = _route(result, 5)
    assert [str(h.gateway) for h in multipath.nexthops] == ["2001:db8:0:1::1", "2001:db8:0:2::1"]
    ra = _route(result, 8)
    assert (ra.gateway, ra.proto, ra.options["expires"]) == (ip_address("fe80::2"), "ra", "586sec")
    assert _route(result, 9).from_ == ip_network("2001:db8:10::/64")
    host = _route(result, 10)
    assert host.destination == ip_network("2001:db8:400::1/128")
    assert host.options == {"mtu": 1280, "pref": "low"}
    assert _route(result, 18).options["pref"] == "high"
    assert _route(result, 20).type == "anycast"


def test_ip_4_and_ip_d_and_oneline_variants():
    only4 = parse_file("ip-route", ROUTES / "policy-ip-4-table-all.txt")
    assert only4.status is Status.PARSED and {r.family for r in only4.data.routes} == {4}
    detailed = parse_file("ip-route", ROUTES / "policy-ip-d-route.txt")
    assert detailed.status is Status.PARSED
    first = _route(detailed, 1)
    assert (first.type, first.scope) == ("unicast", "global")
    assert _route(detailed, 8).proto == "boot"
    assert _route(detailed, 11).options["nh_info"] == "id 10 via 10.0.0.1 dev wan0 scope link proto unspec"
    oneline = parse_file("ip-route", ROUTES / "policy-ip-o-route.txt")
    assert oneline.status is Status.PARSED
    route = _route(oneline, 13)
    assert [(str(h.gateway), h.flags, h.origin.line) for h in route.nexthops] == [
        ("10.0.1.1", [], 13), ("10.0.2.1", ["dead", "linkdown"], 13)]


def test_route_get_and_cache_lines():
    result = parse_file("ip-route", ROUTES / "route-get.txt")
    assert result.status is Status.PARSED
    assert len(result.data.routes) == 3
    out = _route(result, 1)
    assert out.flags == ["cache"] and out.options == {"uid": 0}
    local = _route(result, 3)
    assert local.options["cache"] == "<local>"
    v6 = _route(result, 5)
    assert v6.from_ == ip_network("::/128") and v6.src == ip_address("2001:db8:0:1::2")


def test_old_route_cache():
    result = parse_file("ip-route", ROUTES / "rhel6-route-cache.txt")
    assert result.status is Status.PARSED
    assert len(result.data.routes) == 5
    first = _route(result, 1)
    assert first.from_ == ip_network("192.168.122.45/32")
    assert first.options == {"cache": "<local,src-direct>", "iif": "virbr0"}
    assert _route(result, 5).options == {"users": 1, "age": "13sec", "ipid": "0x9c1f", "mtu": 1500,
                                         "advmss": 1460, "hoplimit": 64, "iif": "virbr0"}
    assert _route(result, 9).options["expires"] == "287sec"


def test_rare_attributes_and_unknown_word_value_pairs():
    result = parse_file("ip-route", ROUTES / "rare-attributes.txt")
    assert result.status is Status.PARSED
    nat = _route(result, 1)
    assert (nat.type, nat.gateway, nat.table) == ("nat", ip_address("193.233.7.83"), "local")
    assert _route(result, 2).flags == ["pervasive"]
    assert _route(result, 3).flags == ["offload"]
    assert _route(result, 4).options == {"error": -113}
    congctl = _route(result, 5)
    assert congctl.options["congctl"] == "cubic" and congctl.locked == ["congctl"]
    assert _route(result, 6).options == {"realm": 7}
    assert _route(result, 7).flags == ["dead", "linkdown"]
    assert _route(result, 8).options == {"ttl-propagate": "disabled"}
    assert _route(result, 9).flags == ["rt_offload", "rt_trap"]


def test_metric_spellings_and_scope_host():
    result = parse_text("ip-route", "2001:db8:7::/64 via fe80::1 dev eth0 preference 512\n"
                                    "10.1.0.0/16 dev eth0 scope host priority 7\n")
    assert [r.metric for r in result.data.routes] == [512, 7]
    assert result.data.routes[1].scope == "host"


@pytest.mark.parametrize("name", ["insights-ip-route-table-all-policy-routing.txt",
                                  "insights-ip-route-table-all-virbr0-ipv6-cache.txt",
                                  "jc-centos-7.7-ip-route.txt",
                                  "netnetwork-openlab-stettenstr-ip-route-list.txt",
                                  "netnetwork-sqrl-shorewall-routing2016.txt",
                                  "netnetwork-synology-ds414-ip-route-2016-07.txt",
                                  "netnetwork-tum-i8-ip-route-2016-06-27.txt",
                                  "ntc-linux-ip-route-show-linkdown.txt",
                                  "ntc-linux-ip-route-show.txt",
                                  "ntc-linux-ip-route-show2.txt"])
def test_corpus_parses(corpus, name):
    result = parse_file("ip-route", corpus / "ip-route" / name)
    assert result.status is Status.PARSED, result.diagnostics
    assert len(result.data.routes) + sum(len(r.nexthops) for r in result.data.routes) <= result.recognized


def test_corpus_oddities(corpus):
    folder = corpus / "ip-route"
    policy = parse_file("ip-route", folder / "insights-ip-route-table-all-policy-routing.txt")
    assert _route(policy, 5).dev == "notExist"
    assert _route(policy, 6).src == ip_address("30.142.34.5")  # double spaces
    assert _route(policy, 1).type == "throw"
    laptop = parse_file("ip-route", folder / "insights-ip-route-table-all-virbr0-ipv6-cache.txt")
    cached = _route(laptop, 22)
    assert cached.family == 6 and cached.flags == ["cache"]
    assert cached.options == {"mtu": 1492, "hoplimit": 255}
    unspec = _route(laptop, 46)
    # No address on the line: the family comes from the routes around it.
    assert (unspec.type, unspec.family, unspec.destination, unspec.table) == (
        "unreachable", 6, ip_network("::/0"), "unspec")
    assert unspec.metric == 4294967295 and unspec.options == {"error": -101}
    vrf = parse_file("ip-route", folder / "ntc-linux-ip-route-show.txt")
    last = _route(vrf, 12)  # no final newline, trailing space
    assert last.gateway == ip_address("10.10.10.1") and last.flags == ["onlink"]
    assert _route(vrf, 3).family == 4 and _route(vrf, 3).metric == 4278198272
    dev_only = parse_file("ip-route", folder / "ntc-linux-ip-route-show2.txt")
    first = _route(dev_only, 1)
    assert (first.destination, first.gateway, first.dev, first.scope) == (ip_network("0.0.0.0/0"), None, "wlan0", "link")


def test_not_a_route_is_reported_with_line_and_column():
    text = ("default via 192.168.50.1 dev eno1\n"
            "RTNETLINK answers: No such process\n"
            "\n"
            "10.0.0.0/8 via 10.0.0.300 dev eth0\n"
            "172.16.0.0/12 dev eth1 metric lots\n")
    result = parse_text("ip-route", text, file="ip-route.txt")
    assert result.status is Status.PARTIAL
    assert len(result.data.routes) == 1
    problems = [(d.origin.line, d.origin.column) for d in result.diagnostics]
    assert problems == [(2, 1), (4, 16), (5, 31)]
    assert "10.0.0.300" in result.diagnostics[1].message
    assert result.diagnostics[0].text == "RTNETLINK answers: No such process"


def test_keywords_match_whole_words_only():
    result = parse_text("ip-route", "cachefoo bar\nlocalhost dev lo\n")
    assert result.status is Status.FAILED
    assert [d.origin.column for d in result.diagnostics] == [1, 1]


def test_nexthop_without_route_is_reported():
    result = parse_text("ip-route", "\tnexthop via 10.0.0.1 dev eth0 weight 1\n10.0.0.0/8 dev eth0\n")
    assert result.status is Status.PARTIAL
    (problem,) = result.diagnostics
    assert problem.origin.line == 1 and "no route above" in problem.message
    assert result.data.routes[0].nexthops == []


def test_family_assumed_when_nothing_tells():
    result = parse_text("ip-route", "unreachable default metric 4278198272\n")
    assert result.status is Status.PARSED
    assert result.data.routes[0].family == 4
    (note,) = result.diagnostics
    assert note.severity is Severity.INFO


def test_out_of_range_numbers_are_reported():
    result = parse_text("ip-route", f"10.0.0.0/8 dev eth0 metric {'9' * 5000}\nunreachable default error -{'9' * 40}\n")
    assert result.status is Status.FAILED
    assert [d.origin.column for d in result.diagnostics] == [28, 27]
    assert all(len(d.message) < 100 for d in result.diagnostics)


_PIECES = st.sampled_from(["default", "10.0.0.0/8", "fe80::1", "via", "dev", "eth0", "nexthop", "cache",
                           "<local>", "mtu", "lock", "1400", "table", "local", "metric", "-5", "\t", " ",
                           "\\", "inet6", "weight", "onlink", "unreachable", "nh_info", "from", "::/0",
                           "99999999999999999999999", "x", "\n", ":", "/"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=25))
def test_any_input_is_accounted_for(pieces):
    text = " ".join(pieces)
    result = parse_text("ip-route", text)
    errors = sum(d.severity is Severity.ERROR for d in result.diagnostics)
    lines = sum(1 for line in text.split("\n") if line.strip())
    assert errors <= lines <= result.recognized + errors
