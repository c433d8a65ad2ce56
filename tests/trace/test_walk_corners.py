"""Corners of the walk the rule fixtures brought up, each against what the kernel does."""

from __future__ import annotations

from ipaddress import ip_address

from netlint.host import load_host
from netlint.model.trace import Flow
from netlint.trace import trace
from tests.conftest import REPO

RULES = REPO / "tests" / "rules"


def _trace(dump: str, src: str, dst: str):
    return trace(load_host(str(RULES / dump)), Flow(ip_address(src), ip_address(dst)))


def test_physdev_matches_nothing_when_br_netfilter_does_not_call_iptables():
    """With bridge-nf-call-iptables = 0 no bridge port is recorded, so nwfilter's `-m physdev
    --physdev-in vnet0` chains never see the guest's routed packets."""
    result = _trace("nwfilter-drops-guest/nwfilter-bridge-nf-call-zero", "192.168.122.10", "8.8.8.8")
    assert result.verdict.value == "reachable"
    assert not any(s.chain and s.chain.startswith("FI-") for s in result.forward.steps)


def test_masquerade_out_of_an_interface_without_an_address_is_unknown():
    """The kernel drops what it cannot masquerade; a dump that lost the address cannot tell."""
    result = _trace("input-partial/ip-addr-cut", "192.168.122.2", "172.28.20.1")
    assert result.verdict.value == "unknown"
    step = result.forward.decisive_step
    assert step.stage == "nat" and step.uncertain and "no IPv4 address in the dump" in step.detail
    assert not any("un-NATed" in s.detail for s in result.forward.steps)


def test_a_reply_to_the_hosts_own_address_on_a_bridge_goes_up_to_ip_not_through_bridged_forward():
    """br_netfilter with FORWARD DROP: the LAN router's reply to a masqueraded container flow is
    addressed to the host's br0 address, so it is routed back to docker0, not bridged."""
    result = _trace("fw-bridge-nf-bridged-guests/br0-docker-forward-drop", "172.17.0.2", "192.168.50.1")
    assert result.verdict.value == "reachable"
    assert result.reply is not None and result.reply.disposition.success
