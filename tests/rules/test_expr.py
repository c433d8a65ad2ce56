"""The rule expression language on real facts: the seed CentOS 7 host (forwarding on and off)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from netlint.host import load_host
from netlint.rules.expr import ExprError, Scope, compile_expression, compile_template
from netlint.rules.facts import DERIVED, Facts, Functions, display
from tests.conftest import FIXTURES

DUMPS = FIXTURES / "dumps"


@pytest.fixture(scope="module")
def seed() -> Facts:
    return Facts(load_host(str(DUMPS / "seed-forwarding-on")))


@pytest.fixture(scope="module")
def forwarding_off() -> Facts:
    return Facts(load_host(str(DUMPS / "ip-forward-off")))


@pytest.fixture(scope="module")
def no_sysctl() -> Facts:
    return Facts(load_host(str(DUMPS / "seed-no-sysctl")))


def ev(facts: Facts, text: str, **names):
    expression = compile_expression(text, Functions.NAMES, DERIVED)
    return expression(Scope(names, Scope(facts.globals(), functions=Functions(facts))))


def test_reads_sysctls_and_compares_their_text_as_numbers(seed, forwarding_off):
    assert ev(seed, 'sysctl("net.ipv4.ip_forward").value == 1') is True
    assert ev(forwarding_off, 'sysctl("net.ipv4.ip_forward").value == 0') is True
    assert ev(forwarding_off, 'sysctl("net.ipv4.ip_forward").value == "0"') is True


def test_a_missing_sysctl_is_unknown_not_false(no_sysctl):
    assert ev(no_sysctl, 'sysctl("net.ipv4.ip_forward")') is None
    assert ev(no_sysctl, 'sysctl("net.ipv4.ip_forward").value == 0') is None
    assert ev(no_sysctl, 'not (sysctl("net.ipv4.ip_forward").value == 0)') is None
    # Kleene: false wins an `and`, true wins an `or`, whatever is unknown
    assert ev(no_sysctl, 'sysctl("x").value == 0 and false') is False
    assert ev(no_sysctl, 'sysctl("x").value == 0 or true') is True
    assert ev(no_sysctl, 'unknown(sysctls)') is True


def test_interfaces_bridges_and_addresses(seed):
    assert ev(seed, 'host.interfaces["virbr0"].mtu') == 1500
    assert ev(seed, 'count(i in interfaces: i.name matches "vnet*")') == 1
    assert ev(seed, 'any(a in host.interfaces["virbr0"].ipv4: a in "192.168.122.0/24")') is True
    assert ev(seed, 'len(bridges[0].ports)') == 2
    assert ev(seed, 'first(b in bridges: b.name == "virbr0").network.network') == IPv4Network("192.168.122.0/24")
    assert ev(seed, 'host.interfaces["nope"]') is None


def test_routes_and_route_lookup(seed):
    assert ev(seed, 'any(r in routes: r.is_default and r.gateway == "192.168.50.1")') is True
    assert ev(seed, 'route_to("172.230.4.4").gateway') == IPv4Address("172.28.20.1")
    assert ev(seed, 'route_to("172.230.4.4").dev') == "eno2"
    assert ev(seed, 'route_to("192.168.50.201").kind') == "local"


def test_firewall_rules_and_their_derived_fields(seed):
    masq = ev(seed, 'select(r in firewall_rules(table="nat"): r.target_name == "MASQUERADE")')
    assert len(masq) == 3
    assert ev(seed, 'all(r in select(r in firewall_rules(table="nat"): r.target_name == "MASQUERADE"): '
                    'r.source == "192.168.122.0/24" and r.negated_destination == "192.168.122.0/24")') is True
    assert ev(seed, 'any(r in firewall_rules(chain="INPUT"): 67 in r.dports and r.in_iface == "virbr0")') is True
    assert ev(seed, 'chain("filter", "FORWARD").policy') == "ACCEPT"


def test_networks_modes_and_flows(seed):
    assert ev(seed, 'networks[0].mode') == "nat"
    assert ev(seed, 'networks[0].mode_source') == "rules"
    assert ev(seed, 'str(networks[0].guest)') == "192.168.122.2"
    targets = ev(seed, 'unique(select(p in flows: p.proto == "icmp"))')
    dsts = {str(p.dst) for p in targets}
    # one address per routed prefix not covered by a more specific route, plus the internet
    assert dsts == {"172.28.20.1", "172.230.0.1", "192.168.50.1", "8.8.8.8"}
    assert ev(seed, 'all(p in flows: p.trace.verdict == "reachable")') is True


def test_trace_function_and_steps(forwarding_off):
    assert ev(forwarding_off, 'trace("192.168.122.2", "8.8.8.8").forward.disposition') == "FORWARDING_DISABLED"
    step = ev(forwarding_off, 'trace("192.168.122.2", "8.8.8.8").decisive')
    assert step.sysctl is not None and step.sysctl.key == "net.ipv4.conf.virbr0.forwarding"
    assert ev(forwarding_off, 'trace("192.168.122.2", "192.168.50.201").verdict') == "reachable"
    assert ev(forwarding_off, 'trace("192.168.122.2", "8.8.8.8", proto="tcp", dport=443).failed.name') == "forward"


def test_templates_show_facts_naturally(forwarding_off):
    template = compile_template('{sysctl("net.ipv4.ip_forward")} on {{host}}; {sysctl("nope")}', Functions.NAMES,
                                DERIVED)
    scope = Scope({}, Scope(forwarding_off.globals(), functions=Functions(forwarding_off)))
    assert template.render(scope, display) == "net.ipv4.ip_forward = 0 on {host}; unknown"


@pytest.mark.parametrize("text, message", [
    ("1 +", "cannot read"),
    ("a == b == c", "cannot read"),
    ("eval('1')", "unknown function eval"),
    ("x.__class__", "private"),
    ("any(xs)", "cannot read"),
])
def test_bad_expressions_are_refused_when_compiled(text, message):
    with pytest.raises(ExprError, match=message):
        compile_expression(text, Functions.NAMES, DERIVED)


def test_only_declared_attributes_are_readable(seed):
    with pytest.raises(ExprError, match="has no attribute"):
        ev(seed, 'host.interfaces["virbr0"].render')
    with pytest.raises(ExprError, match="has no attribute"):
        ev(seed, 'host.note')
