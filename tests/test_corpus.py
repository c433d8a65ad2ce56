"""Every real output in ../shared/corpus of a kind netlint reads is sniffed as the kind a person
names for it, and parses with status `parsed`."""

from __future__ import annotations

import pytest

from netlint.intake import read_file
from netlint.model import Status
from netlint.parsers import parse
from tests.conftest import require_corpus

FOLDERS = ["ip-addr", "brctl-show", "route", "route-print-windows", "ip-route", "netstat-rn", "sysctl"]

# What printed each file, by a person's reading of the file and of corpus/SOURCES.md.
# `netstat -rne`/`-rnee` print exactly `route -n`/`route -ee`'s table, so they are `route`.
EXPECTED_KIND = {
    "ip-addr/insights-ip-addr-bond-vlan-tunnels.txt": "ip-addr",
    "ip-addr/insights-ip-d-s-link-bond-altname-permaddr.txt": "ip-addr",
    "ip-addr/insights-ip-o-link-vlan-infiniband.txt": "ip-addr",
    "ip-addr/insights-ip-s-d-link-bond-ovs-gre-geneve.txt": "ip-addr",
    "ip-addr/insights-ip-s-d-link-ovs-vxlan.txt": "ip-addr",
    "ip-addr/insights-ip-s-d-link-sriov-vf.txt": "ip-addr",
    "ip-addr/insights-ip-s-link-bridge-slave.txt": "ip-addr",
    "ip-addr/insights-ip-s-link-virbr0-nocarrier-dormant.txt": "ip-addr",
    "ip-addr/insights-ip-s-link-virbr0-vnet-ppp-tun.txt": "ip-addr",
    "ip-addr/netnetwork-home-user-ip-addr.txt": "ip-addr",
    "ip-addr/netnetwork-openlab-stettenstr-ip-4-addr-show.txt": "ip-addr",
    "ip-addr/netnetwork-sqrl-shorewall-ip-addr-2015.txt": "ip-addr",
    "ip-addr/netnetwork-synology-ds414-ip-addr-2016-07.txt": "ip-addr",
    "ip-addr/netnetwork-tum-i8-ip-addr-2016-06-27.txt": "ip-addr",
    "ip-addr/ntc-busybox-ip-address-show.txt": "ip-addr",
    "ip-addr/ntc-busybox-ip-link-show.txt": "ip-addr",
    "ip-addr/ntc-linux-ip-address-show.txt": "ip-addr",
    "ip-addr/ntc-linux-ip-address-show2.txt": "ip-addr",
    "ip-addr/ntc-linux-ip-link-show-2.txt": "ip-addr",
    "ip-addr/ntc-linux-ip-link-show.txt": "ip-addr",
    "brctl-show/insights-brctl-show-multi-bridge-docker0.txt": "brctl-show",
    "brctl-show/insights-brctl-show-no-bridges.txt": "brctl-show",
    "brctl-show/insights-brctl-show-tabs.txt": "brctl-show",
    "route/insights-route-n-basic.txt": "route",
    "route/jc-centos-7.7-route-6-n.txt": "route",
    "route/jc-centos-7.7-route-6.txt": "route",
    "route/jc-centos-7.7-route-vn.txt": "route",
    "route/jc-centos-7.7-route.txt": "route",
    "route/jc-linux-proc-net-ipv6-route.txt": "route",
    "route/jc-linux-proc-net-route.txt": "route",
    "route/jc-nixos-route-ee.txt": "route",
    "route/jc-ubuntu-18.04-route-vn.txt": "route",
    "route/jc-ubuntu-18.04-route.txt": "route",
    "route-print-windows/jc-pr602-windows-10-route-print.txt": "route-print",
    "route-print-windows/jc-pr602-windows-11-route-print.txt": "route-print",
    "route-print-windows/jc-pr602-windows-2008-route-print.txt": "route-print",
    "route-print-windows/jc-pr602-windows-2016-route-print.txt": "route-print",
    "route-print-windows/jc-pr602-windows-7-route-print.txt": "route-print",
    "route-print-windows/jc-pr602-windows-xp-route-print.txt": "route-print",
    "route-print-windows/jc-windows-10-route.txt": "route-print",
    "ip-route/insights-ip-route-table-all-policy-routing.txt": "ip-route",
    "ip-route/insights-ip-route-table-all-virbr0-ipv6-cache.txt": "ip-route",
    "ip-route/jc-centos-7.7-ip-route.txt": "ip-route",
    "ip-route/netnetwork-openlab-stettenstr-ip-route-list.txt": "ip-route",
    "ip-route/netnetwork-openlab-stettenstr-ip-rule.txt": "ip-rule",  # `ip rule`
    "ip-route/netnetwork-openlab-stettenstr-route-n.txt": "route",  # `route -n`
    "ip-route/netnetwork-sqrl-shorewall-routing2016.txt": "ip-route",
    "ip-route/netnetwork-synology-ds414-ip-route-2016-07.txt": "ip-route",
    "ip-route/netnetwork-tum-i8-ip-route-2016-06-27.txt": "ip-route",
    "ip-route/ntc-linux-ip-route-show-linkdown.txt": "ip-route",
    "ip-route/ntc-linux-ip-route-show.txt": "ip-route",
    "ip-route/ntc-linux-ip-route-show2.txt": "ip-route",
    "netstat-rn/jc-centos-7.7-netstat-r.txt": "netstat-rn",
    "netstat-rn/jc-centos-7.7-netstat-rne.txt": "route",
    "netstat-rn/jc-centos-7.7-netstat-rnee.txt": "route",
    "netstat-rn/jc-ubuntu-18.04-netstat-r.txt": "netstat-rn",
    "netstat-rn/jc-ubuntu-18.04-netstat-rne.txt": "route",
    "netstat-rn/jc-ubuntu-18.04-netstat-rnee.txt": "route",
    "sysctl/insights-sysctl-tiny.txt": "sysctl",
    "sysctl/jc-centos-7.7-sysctl-a.txt": "sysctl",
    "sysctl/jc-ubuntu-18.04-sysctl-a.txt": "sysctl",
    "libvirt-rules/forward-dev.xml": "libvirt-network-xml",
    "libvirt-rules/isolated.xml": "libvirt-network-xml",
    "libvirt-rules/route-default.xml": "libvirt-network-xml",
}

# Files that truly cannot be `parsed`, with the reason (at most three).
NOT_PARSED: dict[str, str] = {}


def _corpus_files() -> list[str]:
    root = require_corpus()
    found = [f"{folder}/{p.name}" for folder in FOLDERS for p in sorted((root / folder).iterdir())]
    found += [f"libvirt-rules/{p.name}" for p in sorted((root / "libvirt-rules").glob("*.xml"))]
    return found


def test_table_covers_every_corpus_file():
    assert sorted(_corpus_files()) == sorted(EXPECTED_KIND)
    assert len(NOT_PARSED) <= 3


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(EXPECTED_KIND))
def test_corpus_file_is_sniffed_and_parsed(name):
    path = require_corpus() / name
    (source,) = read_file(path, name=name)
    assert source.kind.value == EXPECTED_KIND[name]
    result = parse(source)
    expected = Status.FAILED if name in NOT_PARSED else Status.PARSED
    assert result.status is expected, [(d.origin.line, d.message, d.text) for d in result.diagnostics][:5]

