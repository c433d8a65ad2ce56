from ipaddress import ip_address, ip_interface

import pytest

from netlint.model import Severity, Status
from netlint.report.serialize import to_jsonable
from tests.conftest import FIXTURES, parse_file, parse_text

IP_ADDR = FIXTURES / "ip-addr"


def by_name(result):
    return {interface.name: interface for interface in result.data.interfaces}


def errors(result):
    return [d for d in result.diagnostics if d.severity is Severity.ERROR]


def notes(result):
    return [d for d in result.diagnostics if d.severity is Severity.INFO]


def test_centos7_ticket_partial_paste():
    result = parse_file("ip-addr", IP_ADDR / "centos7-ticket-partial.txt")
    assert result.status is Status.PARSED and not result.diagnostics
    links = by_name(result)
    assert list(links) == ["virbr0", "virbr0-nic", "vnet0"]
    virbr0 = links["virbr0"]
    assert (virbr0.index, virbr0.origin.line, virbr0.state) == (4, 1, "UP")
    assert virbr0.is_up and virbr0.has_carrier
    (address,) = virbr0.addresses
    assert address.address == ip_interface("192.168.122.1/24")
    assert address.broadcast == ip_address("192.168.122.255")
    assert (address.scope, address.label, address.origin.line) == ("global", "virbr0", 3)
    assert (address.valid_lft, address.preferred_lft) == ("forever", "forever")
    nic = links["virbr0-nic"]
    assert "NO-CARRIER" in nic.flags and not nic.has_carrier
    assert (nic.master, nic.state, nic.mac) == ("virbr0", "DOWN", "52:54:00:c3:68:e6")
    vnet0 = links["vnet0"]
    assert (vnet0.index, vnet0.master, vnet0.state, vnet0.qdisc) == (9, "virbr0", "UNKNOWN", "pfifo_fast")
    assert [str(a.address) for a in vnet0.addresses] == ["fe80::fc54:ff:fedc:a4d5/64"]


def test_kvm_host_ip_addr():
    result = parse_file("ip-addr", IP_ADDR / "kvm-host-ip-addr.txt")
    assert result.status is Status.PARSED and not result.diagnostics
    links = by_name(result)
    lo = links["lo"]
    assert (lo.link_type, lo.mtu, lo.group, lo.qlen) == ("loopback", 65536, "default", 1000)
    assert lo.addresses[1].flags == ["noprefixroute"] and lo.addresses[1].label is None

    eno2 = links["eno2"]
    assert eno2.permaddr == "0c:c4:7a:31:5e:99" and eno2.mac == "0c:c4:7a:31:5e:11"
    assert eno2.altnames == ["enp3s0f1", "eth-spare"]
    assert eno2.is_up and not eno2.has_carrier
    assert links["eno1"].master == "br0"

    br0 = links["br0"]
    primary, secondary, global6, temporary, link_local = br0.addresses
    assert (primary.family, primary.flags, primary.label) == (4, ["noprefixroute"], "br0")
    assert secondary.address == ip_interface("192.168.50.210/24")
    assert (secondary.flags, secondary.label, secondary.origin.line) == (["secondary"], "br0:1", 18)
    assert global6.flags == ["dynamic", "mngtmpaddr", "noprefixroute"]
    assert (global6.valid_lft, global6.preferred_lft) == (86391, 14391)
    assert temporary.flags == ["temporary", "deprecated", "dynamic"] and temporary.preferred_lft == 0
    assert (link_local.flags, link_local.proto) == (["stable-privacy"], "kernel_ll")

    vlan = links["br0.57"]
    assert vlan.peer == "br0"
    assert [a.flags for a in vlan.addresses[1:]] == [
        ["tentative", "nodad"], ["optimistic", "dadfailed", "tentative"], ["home"]]

    assert links["vnet1"].flags[-1] == "M-DOWN" and links["vnet1"].master == "virbr1"
    assert links["virbr1"].state == "DOWN" and not links["virbr1"].is_up

    veth = links["veth1"]
    assert (veth.index, veth.peer, veth.link_netnsid, veth.master) == (13, "if5", 0, "docker0")
    assert veth.qlen is None and veth.group == "default"
    assert (links["veth-blue"].peer, links["veth-blue"].link_netns) == ("if2", "blue")

    tunl0 = links["tunl0"]
    assert (tunl0.peer, tunl0.link_type, tunl0.mac, tunl0.broadcast_mac) == ("NONE", "ipip", "0.0.0.0", "0.0.0.0")
    gre1 = links["gre1"]
    assert (gre1.link_type, gre1.mac, gre1.link_peer) == ("gre", "192.168.50.201", "203.0.113.7")
    (p2p,) = gre1.addresses
    # The prefix printed after the peer is the peer's; the local address gets it too.
    assert p2p.address == ip_interface("10.250.0.1/30") and p2p.peer == ip_interface("10.250.0.2/30")
    assert links["ppp0"].addresses[0].peer == ip_interface("198.51.100.1/32")
    assert (links["wg0"].link_type, links["wg0"].mac) == ("none", None)
    assert links["ppp0"].link_type == "ppp" and links["sit0"].link_type == "sit"
    ib0 = links["ib0"]
    assert ib0.link_type == "infiniband" and len(ib0.mac.split(":")) == 20

    dhcp, extra = links["wlp2s0"].addresses
    assert dhcp.flags == ["dynamic", "noprefixroute"] and dhcp.valid_lft == 85962
    assert (extra.metric, extra.flags, extra.label) == (600, ["secondary", "dynamic"], "wlp2s0")


def test_details_of_ip_d_addr():
    result = parse_file("ip-addr", IP_ADDR / "kvm-host-ip-d-addr.txt")
    assert result.status is Status.PARSED and not result.diagnostics
    links = by_name(result)
    eno1 = links["eno1"]
    assert (eno1.link_kind, eno1.slave_kind) == ("bond_slave", "bond_slave")
    assert eno1.details[:4] == ["state", "ACTIVE", "mii_status", "UP"]
    assert eno1.link_options == ["promiscuity", "0", "minmtu", "68", "maxmtu", "9216"]
    assert eno1.details[-2:] == ["parentdev", "0000:03:00.0"] and eno1.altnames == ["enp3s0f0"]

    bond0 = links["bond0"]
    assert (bond0.link_kind, bond0.details[:2], bond0.master) == ("bond", ["mode", "active-backup"], "br0")
    assert bond0.slave_kind == "bridge_slave" and bond0.slave_details[:2] == ["state", "forwarding"]

    br0 = links["br0"]
    assert br0.link_kind == "bridge" and br0.slave_kind is None
    assert br0.details[br0.details.index("stp_state") + 1] == "0"
    assert br0.addresses[0].address == ip_interface("192.168.50.201/24")
    assert links["virbr0"].details[links["virbr0"].details.index("stp_state") + 1] == "1"

    vlan = links["br0.57"]
    assert vlan.link_kind == "vlan"
    assert vlan.details[:5] == ["protocol", "802.1Q", "id", "57", "<REORDER_HDR>"]

    vnet0 = links["vnet0"]
    assert (vnet0.link_kind, vnet0.details[:2]) == ("tun", ["type", "tap"])
    assert (vnet0.slave_kind, vnet0.master) == ("bridge_slave", "virbr0")
    assert vnet0.addresses[0].origin.line == 32

    veth = links["veth1"]
    assert (veth.link_kind, veth.details, veth.slave_kind) == ("veth", [], "openvswitch_slave")
    assert veth.link_netnsid == 0 and veth.link_options[:2] == ["promiscuity", "1"]
    vxlan = links["vxlan100"]
    assert vxlan.link_kind == "vxlan" and vxlan.details[:4] == ["id", "100", "remote", "203.0.113.9"]


def test_ip_o_addr_merges_lines_per_interface():
    result = parse_file("ip-addr", IP_ADDR / "ip-o-addr.txt")
    assert result.status is Status.PARSED and not result.diagnostics
    links = by_name(result)
    assert list(links) == ["lo", "eno1", "virbr0", "veth1"]
    eno1 = links["eno1"]
    assert (eno1.index, eno1.origin.line, eno1.flags) == (2, 3, [])
    dynamic, secondary, link_local = eno1.addresses
    assert dynamic.valid_lft == 86213 and dynamic.flags == ["dynamic", "noprefixroute"]
    assert (secondary.label, secondary.origin.line, secondary.valid_lft) == ("eno1:1", 4, "forever")
    assert link_local.family == 6 and link_local.origin.line == 5
    assert [str(a.address) for a in links["lo"].addresses] == ["127.0.0.1/8", "::1/128"]


def test_ip_o_link():
    result = parse_file("ip-addr", IP_ADDR / "ip-o-link.txt")
    assert result.status is Status.PARSED and not result.diagnostics
    links = by_name(result)
    assert links["lo"].link_type == "loopback"
    assert links["eno1"].altnames == ["enp3s0f0"] and links["eno1"].master == "br0"
    assert "NO-CARRIER" in links["virbr0"].flags
    assert links["br0.57"].peer == "br0"
    veth = links["veth1"]
    assert (veth.peer, veth.link_netnsid, veth.master, veth.origin.line) == ("if5", 0, "docker0", 6)
    wifi = links["wlp2s0"]
    assert (wifi.mode, wifi.alias) == ("DORMANT", "upstairs wifi")


def test_ip_s_s_d_link_new_layout():
    result = parse_file("ip-addr", IP_ADDR / "ip-s-s-d-link-new.txt")
    assert result.status is Status.PARSED and not result.diagnostics
    links = by_name(result)
    eno1 = links["eno1"]
    assert eno1.stats["rx"] == {"bytes": 9812734112, "packets": 8123401, "errors": 0, "dropped": 1204,
                                "missed": 0, "mcast": 51234}
    assert eno1.stats["tx"]["collsns"] == 0 and eno1.stats["tx"]["bytes"] == 1298712340
    assert eno1.stats["rx_errors"] == {"length": 0, "crc": 0, "frame": 0, "fifo": 0, "overrun": 0}
    assert eno1.stats["tx_errors"]["transns"] == 3
    assert eno1.altnames == ["enp3s0f0"] and eno1.slave_kind == "bridge_slave"

    eno2 = links["eno2"]
    assert set(eno2.stats) == {"rx", "tx"} and eno2.stats["rx"]["mcast"] == 412
    vf0, vf1 = eno2.vfs
    assert (vf0.index, vf0.link_type, vf0.mac, vf0.broadcast_mac) == (0, "ether", "52:54:00:aa:bb:01",
                                                                      "ff:ff:ff:ff:ff:ff")
    assert vf0.options == ["vlan 100", "spoof checking on", "link-state auto", "trust off", "query_rss off"]
    assert vf0.stats["rx"] == {"bytes": 4406012, "packets": 30101, "mcast": 0, "bcast": 12, "dropped": 0}
    assert vf0.stats["tx"] == {"bytes": 1002331, "packets": 9981, "dropped": 0}
    assert vf0.origin.line == 29 and vf1.options[1] == "link-state disable"
    assert eno2.altnames == ["enp3s0f1"]

    assert links["br0"].stats["tx_errors"]["transns"] == 2 and links["br0"].link_kind == "bridge"
    veth = links["veth1"]
    assert (veth.link_kind, veth.slave_kind, veth.link_netnsid) == ("veth", "bridge_slave", 0)
    assert veth.stats["tx"]["packets"] == 1201


def test_ip_s_s_link_old_layout():
    result = parse_file("ip-addr", IP_ADDR / "ip-s-s-link-old.txt")
    assert result.status is Status.PARSED and not result.diagnostics
    eth0 = by_name(result)["eth0"]
    assert eth0.stats["rx"] == {"bytes": 1113685, "packets": 2244, "errors": 3, "dropped": 1,
                                "overrun": 0, "mcast": 7}
    assert eth0.stats["rx_errors"] == {"length": 0, "crc": 3, "frame": 0, "fifo": 0, "missed": 0}
    assert eth0.stats["tx_errors"] == {"aborted": 0, "fifo": 0, "window": 0, "heartbeat": 0}
    assert by_name(result)["virbr0"].stats["rx"]["bytes"] == 0


def test_json_shape_follows_the_schema():
    result = parse_file("ip-addr", IP_ADDR / "kvm-host-ip-addr.txt")
    veth = to_jsonable(by_name(result)["veth1"])
    assert veth["line"] == 56 and veth["peer"] == "if5" and veth["link_netnsid"] == 0
    assert veth["addresses"][0] == {
        "family": 6, "address": "fe80::883e:4bff:fe01:203/64", "line": 58, "peer": None,
        "broadcast": None, "scope": "link", "label": None, "flags": [], "valid_lft": "forever",
        "preferred_lft": "forever", "metric": None, "proto": None}


def test_ip_4_addr_address_right_after_header():
    text = ("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000\n"
            "    inet 192.0.0.38/24 brd 192.0.0.255 scope global eth0\n"
            "       valid_lft forever preferred_lft forever\n")
    result = parse_text("ip-addr", text)
    assert result.status is Status.PARSED
    (eth0,) = result.data.interfaces
    assert eth0.link_type is None and eth0.addresses[0].address == ip_interface("192.0.0.38/24")


def test_ip_noise_and_prompt_are_noted_not_dropped():
    text = ("[root@kvm ~]# ip addr\n"
            "Message truncated\n"
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n"
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
            'Device "eth9" does not exist.\n')
    result = parse_text("ip-addr", text)
    assert result.status is Status.PARSED
    assert [(d.origin.line, d.severity) for d in result.diagnostics] == [
        (1, Severity.INFO), (2, Severity.INFO), (5, Severity.INFO)]
    assert "ip addr" in result.diagnostics[0].message
    assert "truncated" in result.diagnostics[1].message
    assert result.recognized == 5


def test_unrecognized_lines_are_reported_with_line_and_column():
    text = ("1: eth0: <BROADCAST,UP> mtu 1500 qdisc mq state UP\n"
            "    inet 10.0.0.1/24 bogus 7 scope global eth0\n"
            "    inet 10.0.0.300/24 scope global eth0\n"
            "    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n")
    result = parse_text("ip-addr", text, file="ip-addr.txt")
    assert result.status is Status.PARTIAL
    first, second = errors(result)
    assert (first.origin.file, first.origin.line, first.origin.column) == ("ip-addr.txt", 2, 28)
    assert (second.origin.line, second.origin.column) == (3, 10)
    assert "10.0.0.300/24" in second.message
    assert by_name(result)["eth0"].mac == "52:54:00:12:34:56"


def test_error_inside_an_ip_o_record_points_into_the_line():
    text = "7: veth1: <UP> mtu 1500 qdisc noqueue state UP\\    link/ether 8a:3e:4b:01:02:03 link-netnsid x\n"
    result = parse_text("ip-addr", text)
    assert result.status is Status.PARTIAL
    (problem,) = errors(result)
    assert problem.origin.column == text.index("link-netnsid x") + len("link-netnsid ") + 1
    assert by_name(result)["veth1"].state == "UP"


def test_lines_without_their_interface_are_reported():
    text = ("    inet 10.0.0.1/24 scope global eth0\n"
            "       valid_lft forever preferred_lft forever\n"
            "    RX: bytes  packets  errors  dropped overrun mcast\n")
    result = parse_text("ip-addr", text)
    assert result.status is Status.FAILED or result.status is Status.PARTIAL
    assert [d.origin.line for d in errors(result)] == [1, 2, 3]
    assert result.data.interfaces == []


def test_counter_rows_must_match_their_names():
    text = ("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n"
            "    RX: bytes  packets  errors\n"
            "    1 2 3 4\n"
            "    5 6 7\n"
            "    TX: bytes  packets\n")
    result = parse_text("ip-addr", text)
    assert result.status is Status.PARTIAL
    mismatch, orphan = errors(result)
    assert (mismatch.origin.line, mismatch.origin.column) == (3, 11)
    assert orphan.origin.line == 4
    (warning,) = [d for d in result.diagnostics if d.severity is Severity.WARNING]
    assert warning.origin.line == 5
    assert by_name(result)["lo"].stats == {}


def test_hard_wrapped_line_is_joined_and_noted():
    text = ("7: ens1f1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP mode DEFAULT\n"
            "    link/ether b4:96:91:e5:c8:a9 brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 68 maxmtu 9702 n\n"
            "umrxqueues 112 gso_max_size 65536\n"
            "    altname enp1\n")
    result = parse_text("ip-addr", text)
    assert result.status is Status.PARSED
    (note,) = notes(result)
    assert note.origin.line == 3 and "continues line 2" in note.message
    link = by_name(result)["ens1f1"]
    assert link.link_options[-5:] == ["9702", "numrxqueues", "112", "gso_max_size", "65536"]
    assert link.link_kind is None and link.altnames == ["enp1"]


def test_unindented_stray_text_after_a_short_line_is_reported():
    text = ("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n"
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
            "oops: not ip output\n")
    result = parse_text("ip-addr", text)
    assert result.status is Status.PARTIAL
    assert [d.origin.line for d in errors(result)] == [3]


def test_redacted_addresses_are_noted_and_not_kept():
    text = ("3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc htb state UP qlen 1000\n"
            "    link/ether XX:XX:XX:XX:XX:XX brd ff:ff:ff:ff:ff:ff\n"
            "    inet [PUBLIC IP HERE] scope global eth1\n"
            "    inet6 fe80::XXXX:XXXX:XXXX:XXXX/64 scope link \n"
            "       valid_lft forever preferred_lft forever\n"
            "    inet 10.1.2.3/8 scope global eth1\n")
    result = parse_text("ip-addr", text)
    assert result.status is Status.PARSED
    assert [d.origin.line for d in notes(result)] == [2, 3, 4]
    (eth1,) = result.data.interfaces
    assert eth1.mac == "XX:XX:XX:XX:XX:XX"
    (kept,) = eth1.addresses
    assert kept.address == ip_interface("10.1.2.3/8") and kept.valid_lft is None


@pytest.mark.parametrize("text", [
    "",
    "\\\\\\",
    "1:\\",
    "99999999999999999999999999: x: <> mtu 99999999999999999999999\n",
    "1: a: <> mtu 1\n    inet 1.2.3.4/99\n    inet6 1.2.3.4/8\n    inet 1.2.3.4 peer ::1/64\n",
    "1: a: <> mtu 1\n    vf 99999999999999999999999 MAC 00:11, x\n    RX: a\n    1\n    1\n",
    "1: a: <>\n    valid_lft 999999999999999999999999999sec preferred_lft forever\n    link/\n",
    "1: a: <>\n    link/ether 0:0 brd\n    link/ether ::\n    alias\n    altname\n",
    "x" * 5000 + "\n" + "y" * 80 + "\n" + "z",
])
def test_odd_input_never_raises(text):
    result = parse_text("ip-addr", text)
    assert result.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)


def test_every_corpus_file_parses(corpus):
    files = sorted((corpus / "ip-addr").glob("*.txt"))
    assert len(files) >= 20
    for path in files:
        result = parse_file("ip-addr", path)
        assert result.status is Status.PARSED, (path.name, errors(result)[:3])
        assert result.data.interfaces, path.name


def test_corpus_facts(corpus):
    folder = corpus / "ip-addr"
    result = parse_file("ip-addr", folder / "insights-ip-addr-bond-vlan-tunnels.txt")
    assert [d.origin.line for d in notes(result)] == [1, 2, 3]
    links = by_name(result)
    assert (links["eth7"].master, links["eth7"].link_netnsid) == ("bond1", 1)
    assert links["tunl1"].link_type == "[65534]"
    assert links["ip.tun2"].link_peer == "10.188.61.108"

    result = parse_file("ip-addr", folder / "insights-ip-s-d-link-sriov-vf.txt")
    pf = by_name(result)["ens1f1"]
    assert [vf.index for vf in pf.vfs] == [0, 1, 2, 3]
    assert pf.link_options[-6:-4] == ["numrxqueues", "112"]
    assert pf.vfs[3].stats["rx"]["dropped"] == 192865 and pf.stats["rx"]["dropped"] == 67

    result = parse_file("ip-addr", folder / "insights-ip-d-s-link-bond-altname-permaddr.txt")
    enp2s0 = by_name(result)["enp2s0"]
    assert enp2s0.permaddr == "52:54:00:c9:b9:47" and enp2s0.altnames == ["enx525400c9b947"]
    assert enp2s0.stats["tx"]["bytes"] == 5705272 and enp2s0.link_kind == "bond_slave"

    result = parse_file("ip-addr", folder / "ntc-busybox-ip-link-show.txt")
    assert by_name(result)["imq0"].alias == "Priority Queue"

    result = parse_file("ip-addr", folder / "insights-ip-s-link-bridge-slave.txt")
    tm0 = by_name(result)["tm0"]
    assert (tm0.link_kind, tm0.slave_kind, tm0.master) == ("team", "bridge_slave", "br0")

    result = parse_file("ip-addr", folder / "netnetwork-home-user-ip-addr.txt")
    assert notes(result)[0].origin.line == 1 and "ip -4 a s" in notes(result)[0].message
    assert by_name(result)["eth1"].addresses == []


def test_a_few_thousand_lines_parse(corpus):
    text = (corpus / "ip-addr" / "netnetwork-tum-i8-ip-addr-2016-06-27.txt").read_text() * 15
    result = parse_text("ip-addr", text)
    assert result.status is Status.PARSED and len(result.data.interfaces) == 27 * 15


def test_mailer_wrapped_headers_are_joined_at_the_dropped_blank():
    """A mailer breaks at a word boundary before its ~70-column margin and drops the blank."""
    result = parse_file("ip-addr", FIXTURES / "ip-addr" / "mail-wrapped.txt")
    assert result.status is Status.PARSED
    lo, virbr0 = result.data.interfaces
    assert (lo.state, lo.group) == ("UNKNOWN", "default")
    assert (virbr0.state, virbr0.group, virbr0.qlen) == ("UP", "default", 1000)
    assert str(virbr0.addresses[0].address) == "192.168.122.1/24"
    assert [(d.origin.line, d.message) for d in result.diagnostics] == [
        (2, "continues line 1: the output was wrapped there"),
        (6, "continues line 5: the output was wrapped there")]
