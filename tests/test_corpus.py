"""Every real output in ../shared/corpus of a kind netlint reads is sniffed as the kind a person
names for it, and parses with status `parsed`."""

from __future__ import annotations

import pytest

from netlint.intake import read_file
from netlint.model import Status
from netlint.parsers import parse
from tests.conftest import require_corpus

FOLDERS = ["ip-addr", "brctl-show", "route", "route-print-windows", "ip-route", "netstat-rn", "sysctl",
           "iptables-save", "iptables-L"]

# What printed each file, by a person's reading of the file and of corpus/SOURCES.md: the kind
# of each piece, in order (a paste holds several). `netstat -rne`/`-rnee` print exactly
# `route -n`/`route -ee`'s table, so they are `route`.
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
    "iptables-save/insights-ip6tables-save-v1.4.21-rhel7-5tables.txt": "iptables-save",
    "iptables-save/insights-iptables-save-v1.4.7-rhel6.txt": "iptables-save",
    "iptables-save/iptsem-docker-topos1.txt": "iptables-save",
    "iptables-save/iptsem-gopherproxy-meulie-net.txt": "iptables-save",
    "iptables-save/iptsem-medium-sized-company-ippart.txt": "iptables-save",
    "iptables-save/iptsem-parser-test-stress-ip6.txt": "iptables-save",
    "iptables-save/iptsem-parser-test-stress.txt": "iptables-save",
    "iptables-save/iptsem-synology-jun-2015-cleanup.txt": "iptables-save",
    "iptables-save/iptsem-topos-factory-by-linux-kernel.txt": "iptables-save",
    "iptables-save/iptsem-topos-factory.txt": "iptables-save",
    "iptables-save/iptsem-worst-case.txt": "iptables-save",
    "iptables-save/netnetwork-corny-docker-topos4.1-established.txt": "iptables-save",
    "iptables-save/netnetwork-corny-docker-topos4.1.txt": "iptables-save",
    "iptables-save/netnetwork-eduroam-laptop.txt": "iptables-save",
    "iptables-save/netnetwork-ferm-dmz-router.txt": "iptables-save",
    "iptables-save/netnetwork-home-user.txt": "iptables-save",
    "iptables-save/netnetwork-internal-office-fw.txt": "iptables-save",
    "iptables-save/netnetwork-ipv6-server-nat64-router.txt": "iptables-save",
    "iptables-save/netnetwork-kornwall.txt": "iptables-save",
    "iptables-save/netnetwork-medium-sized-company-mainfw-2016-01-31.txt": "iptables-save",
    "iptables-save/netnetwork-memphis-testbed.txt": "iptables-save",
    "iptables-save/netnetwork-openlab-stettenstr.txt": "iptables-save",
    "iptables-save/netnetwork-psa-team-a-2016-01-27.txt": "iptables-save",
    "iptables-save/netnetwork-qubesos-unikernel-blog.txt": "prose iptables-save ip-addr",  # a blog paste: words, then two outputs
    "iptables-save/netnetwork-serverfault-765855.txt": "iptables-save",
    "iptables-save/netnetwork-serverfault-769294.txt": "iptables-save",
    "iptables-save/netnetwork-sqrl-shorewall-akachan-2014.txt": "iptables-save",
    "iptables-save/netnetwork-sqrl-shorewall-spoofing-protection-2015.txt": "iptables-save",
    "iptables-save/netnetwork-srvs-ufw-server1.txt": "iptables-save",
    "iptables-save/netnetwork-synology-ds414-2016-07.txt": "iptables-save",
    "iptables-save/netnetwork-synology-ds414-ip6-2016-07.txt": "iptables-save",
    "iptables-save/netnetwork-tails-os-1.5.txt": "iptables-save",
    "iptables-save/netnetwork-tum-i8-2013-10-20.txt": "iptables-save",
    "iptables-save/netnetwork-tum-i8-2015-05-13.txt": "iptables-save",
    "iptables-save/netnetwork-tum-i8-2015-05-15.txt": "iptables-save",
    "iptables-save/netnetwork-tum-i8-2016-06-27.txt": "iptables-save",
    "iptables-save/netnetwork-tum-i8-ip6-2016-06-27.txt": "iptables-save",
    "iptables-save/netnetwork-ugent.txt": "iptables-save",
    "iptables-save/netnetwork-veroneau-net.txt": "iptables-save",
    "iptables-save/netnetwork-vsrv.txt": "iptables-save",
    "iptables-L/jc-centos-7.7-iptables-filter-line-numbers.txt": "iptables-list",
    "iptables-L/jc-centos-7.7-iptables-filter-nv.txt": "iptables-list",
    "iptables-L/jc-centos-7.7-iptables-filter.txt": "iptables-list",
    "iptables-L/jc-centos-7.7-iptables-mangle.txt": "iptables-list",
    "iptables-L/jc-centos-7.7-iptables-nat.txt": "iptables-list",
    "iptables-L/jc-centos-7.7-iptables-raw.txt": "iptables-list",
    "iptables-L/jc-generic-iptables-no-jump.txt": "iptables-list",
    "iptables-L/jc-ubuntu-18.04-iptables-filter-line-numbers.txt": "iptables-list",
    "iptables-L/jc-ubuntu-18.04-iptables-filter-nv.txt": "iptables-list",
    "iptables-L/jc-ubuntu-18.04-iptables-filter.txt": "iptables-list",
    "iptables-L/jc-ubuntu-18.04-iptables-mangle.txt": "iptables-list",
    "iptables-L/jc-ubuntu-18.04-iptables-nat.txt": "iptables-list",
    "iptables-L/jc-ubuntu-18.04-iptables-raw.txt": "iptables-list",
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
    pieces = read_file(require_corpus() / name, name=name)
    assert [p.kind.value for p in pieces] == EXPECTED_KIND[name].split()
    expected = Status.FAILED if name in NOT_PARSED else Status.PARSED
    for piece in pieces:
        result = parse(piece)
        assert result.status is expected, [(d.origin.line, d.message, d.text) for d in result.diagnostics][:5]

