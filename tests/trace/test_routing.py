"""The routing decision over real route outputs: local addresses, longest prefix and metric,
route types, and `ip rule` tables."""

from __future__ import annotations

from ipaddress import ip_address

from netlint.host import build_host
from netlint.trace.routing import Router
from tests.conftest import parse_text

ADDR = """2: eno1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000
    inet 192.168.50.201/24 brd 192.168.50.255 scope global eno1
3: eno2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000
    inet 172.28.20.231/24 brd 172.28.20.255 scope global eno2
"""
ROUTES = """default via 192.168.50.1 dev eno1 proto static metric 100
default via 172.28.20.1 dev eno2 proto static metric 50
10.0.0.0/8 via 172.28.20.1 dev eno2
10.1.0.0/16 via 192.168.50.1 dev eno1
blackhole 10.66.0.0/16
unreachable 10.77.0.0/16
192.168.50.0/24 dev eno1 proto kernel scope link src 192.168.50.201
172.28.20.0/24 dev eno2 proto kernel scope link src 172.28.20.231
default via 192.168.50.254 dev eno1 table 100
"""


def router(rules: str = "") -> Router:
    results = [parse_text("ip-addr", ADDR, "ip-addr.txt"), parse_text("ip-route", ROUTES, "ip-route.txt")]
    if rules:
        results.append(parse_text("ip-rule", rules, "ip-rule.txt"))
    return Router(build_host("h", results))


def test_local_longest_prefix_and_metric():
    r = router()
    assert r.lookup(ip_address("172.28.20.231")).kind == "local"
    assert (r.lookup(ip_address("10.1.2.3")).dev, r.lookup(ip_address("10.2.3.4")).dev) == ("eno1", "eno2")
    default = r.lookup(ip_address("8.8.8.8"))
    assert (str(default.gateway), default.route.origin.line) == ("172.28.20.1", 2)  # metric 50 beats 100


def test_route_types_that_end_a_packet():
    r = router()
    assert r.lookup(ip_address("10.66.1.1")).kind == "blackhole"
    assert r.lookup(ip_address("10.77.1.1")).kind == "unreachable"


def test_ip_rules_choose_the_table():
    r = router("0:\tfrom all lookup local\n100:\tfrom 192.168.122.0/24 lookup 100\n"
               "32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n")
    guest = r.lookup(ip_address("8.8.8.8"), src=ip_address("192.168.122.2"))
    assert (guest.table, str(guest.gateway), guest.rule.priority) == ("100", "192.168.50.254", 100)
    host = r.lookup(ip_address("8.8.8.8"), src=ip_address("192.168.50.201"))
    assert (host.table, str(host.gateway)) == ("main", "172.28.20.1")
