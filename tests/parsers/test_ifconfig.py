from ipaddress import IPv4Address, IPv4Interface, IPv6Interface

from hypothesis import given, settings
from hypothesis import strategies as st

from netlint.model import Kind, Severity, Source, Status
from netlint.parsers import parse
from tests.conftest import FIXTURES, parse_file, parse_text

HERE = FIXTURES / "ifconfig"


def by_name(result):
    return {interface.name: interface for interface in result.data.interfaces}


def addresses(interface):
    return [(str(a.address), a.label, a.origin.line) for a in interface.addresses]


def test_real_namespace_output():
    # `ifconfig -a` (net-tools 2.10) saved from a network namespace.
    result = parse_file("ifconfig", HERE / "namespace-ifconfig-a.txt")
    assert result.status is Status.PARSED
    assert result.diagnostics == []
    interfaces = by_name(result)
    assert "eth0:1" not in interfaces
    eth0 = interfaces["eth0"]
    assert (eth0.origin.line, eth0.mtu, eth0.qlen, eth0.link_type) == (15, 1500, 1000, "ether")
    assert eth0.mac == "16:13:47:08:4e:38"
    assert eth0.flags == ["UP", "BROADCAST", "RUNNING", "PROMISC", "MULTICAST"]
    assert addresses(eth0) == [
        ("10.0.0.5/24", "eth0", 16), ("2001:db8::5/64", None, 17),
        ("fe80::1413:47ff:fe08:4e38/64", None, 18), ("10.0.0.6/24", "eth0:1", 26),
    ]
    assert [a.scope for a in eth0.addresses] == [None, "global", "link", None]
    assert eth0.stats["rx"] == {"packets": 10, "bytes": 796, "errors": 0, "dropped": 0, "overruns": 0, "frame": 0}
    assert eth0.stats["tx"] == {"packets": 11, "bytes": 962, "errors": 0, "dropped": 0, "overruns": 0,
                                "carrier": 0, "collisions": 0}
    virbr0 = interfaces["virbr0"]
    assert virbr0.addresses[0].broadcast == IPv4Address("192.168.122.255")
    assert virbr0.is_up and virbr0.has_carrier
    assert not interfaces["virbr0-nic"].has_carrier
    lo = interfaces["lo"]
    assert (lo.link_type, lo.mac, lo.mtu) == ("loopback", None, 65536)
    assert lo.addresses[1].address == IPv6Interface("::1/128") and lo.addresses[1].scope == "host"
    tun0 = interfaces["tun0"]
    assert (tun0.link_type, tun0.mac, tun0.qlen) == ("unspec", None, 500)
    assert tun0.details == ["hwaddr 00-00-00-00-00-00-00-00-00-00-00-00-00-00-00-00"]
    assert tun0.addresses[0].address == IPv4Interface("10.8.0.1/32")
    assert tun0.addresses[0].peer == IPv4Interface("10.8.0.2/32")


def test_net_tools_2_kvm_host():
    result = parse_file("ifconfig", HERE / "kvm-host-net-tools-2.txt")
    assert result.status is Status.PARSED
    interfaces = by_name(result)
    assert list(interfaces) == ["eno1", "lo", "virbr0", "virbr0-nic", "vnet0", "wg0"]
    eno1 = interfaces["eno1"]
    assert eno1.details == ["interrupt 16", "memory 0xf7100000-f7120000"]
    assert eno1.stats["rx"]["bytes"] == 61835522180 and eno1.stats["rx"]["dropped"] == 1532
    assert addresses(eno1)[-1] == ("10.20.30.42/24", "eno1:0", 12)
    assert interfaces["virbr0"].flags == ["UP", "BROADCAST", "MULTICAST"]
    assert not interfaces["virbr0"].has_carrier
    assert interfaces["virbr0-nic"].qlen == 500 and not interfaces["virbr0-nic"].is_up
    wg0 = interfaces["wg0"]
    assert (wg0.mtu, wg0.details[0]) == (1420, "metric 2")
    (note,) = result.diagnostics
    assert note.severity is Severity.INFO and note.origin.line == 56
    assert note.message == "ifconfig reported: eth9: error fetching interface information: Device not found"


def test_net_tools_1_60_kvm_host():
    result = parse_file("ifconfig", HERE / "kvm-host-net-tools-1.60.txt")
    assert result.status is Status.PARSED
    interfaces = by_name(result)
    assert list(interfaces) == ["eth0", "eth1", "lo", "tun0", "virbr0", "virbr0-ni", "vnet0"]
    eth0 = interfaces["eth0"]
    assert (eth0.mac, eth0.link_type, eth0.mtu, eth0.qlen) == ("00:25:90:5a:7c:10", "ether", 1500, 1000)
    assert eth0.flags == ["UP", "BROADCAST", "RUNNING", "MULTICAST"]
    assert addresses(eth0) == [("192.0.2.15/24", "eth0", 2), ("fe80::225:90ff:fe5a:7c10/64", None, 3),
                               ("192.0.2.16/24", "eth0:1", 12)]
    assert eth0.addresses[0].broadcast == IPv4Address("192.0.2.255")
    assert eth0.addresses[1].scope == "link"
    assert eth0.stats["rx"] == {"packets": 2210456, "errors": 0, "dropped": 12, "overruns": 0, "frame": 0,
                                "bytes": 1893301234}
    assert eth0.stats["tx"]["bytes"] == 402137765 and eth0.stats["tx"]["collisions"] == 0
    assert eth0.details == ["metric 1", "interrupt 19", "memory fb9e0000-fba00000"]
    assert interfaces["eth1"].details == ["metric 1", "interrupt 16", "base 0x2000"]
    assert not interfaces["eth1"].is_up
    lo = interfaces["lo"]
    assert (lo.link_type, lo.mtu, lo.qlen) == ("loopback", 16436, 0)
    assert lo.addresses[1].scope == "host"
    tun0 = interfaces["tun0"]
    assert tun0.link_type == "unspec" and "POINTOPOINT" in tun0.flags
    assert tun0.addresses[0].peer == IPv4Interface("10.8.0.2/32")
    # The name column is 9 wide: `virbr0-nic` is printed as `virbr0-ni`, and netlint says so.
    (note,) = result.diagnostics
    assert note.origin.line == 49 and "virbr0-ni" in note.message and note.severity is Severity.INFO


def test_no_flags_and_compressed_counters():
    text = (
        "sl0       Link encap:VJ Serial Line IP  \n"
        "          [NO FLAGS]  MTU:296  Metric:1\n"
        "          RX packets:5 errors:0 dropped:0 overruns:0 frame:0\n"
        "             compressed:3\n"
        "          TX packets:4 errors:0 dropped:0 overruns:0 carrier:0\n"
        "          collisions:0 compressed:2 txqueuelen:10 \n"
    )
    result = parse_text("ifconfig", text)
    assert result.status is Status.PARSED
    (sl0,) = result.data.interfaces
    assert (sl0.link_type, sl0.flags, sl0.mtu, sl0.qlen) == ("cslip", [], 296, 10)
    assert sl0.stats["rx"]["compressed"] == 3 and sl0.stats["tx"]["compressed"] == 2


def test_alias_without_its_interface_creates_it():
    text = "eth0:1: flags=4163<UP,BROADCAST,RUNNING>  mtu 1500\n        inet 10.0.0.6  netmask 255.255.255.0\n"
    result = parse_text("ifconfig", text)
    (eth0,) = result.data.interfaces
    assert (eth0.name, eth0.mtu) == ("eth0", 1500)
    assert addresses(eth0) == [("10.0.0.6/24", "eth0:1", 2)]


def test_bad_values_are_reported_with_columns():
    text = (
        "eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n"
        "        inet 10.0.0.1  netmask 255.0.255.0\n"
        "        inet6 fe80:::1  prefixlen 64  scopeid 0x20<link>\n"
        "        RX packets 999999999999999999999999999  bytes 0 (0.0 B)\n"
        "        something else\n"
    )
    result = parse_text("ifconfig", text, file="ifconfig.txt")
    assert result.status is Status.PARTIAL
    found = [(d.origin.line, d.origin.column) for d in result.diagnostics]
    assert found == [(2, 14), (3, 15), (4, 20), (5, None)]
    assert "not a valid netmask" in result.diagnostics[0].message
    assert result.diagnostics[3].message == "line ends too early"
    assert result.data.interfaces[0].addresses == []


def test_detail_before_any_header_is_reported():
    result = parse_text("ifconfig", "        inet 10.0.0.1  netmask 255.0.0.0\n")
    assert result.status is Status.FAILED
    assert result.diagnostics[0].message == "interface detail before any interface header"


def _ticket_lines(path, first, last):
    lines = path.read_text(encoding="utf-8").split("\n")[first - 1:last]
    return Source(path.name, Kind.IFCONFIG, "\n".join(lines) + "\n", first_line=first)


def test_ticket_pastes_in_both_layouts(corpus):
    # Read in place: the old layout on a wireless host, the new one on a Xen dom0.
    tickets = corpus / "tickets"
    old = parse(_ticket_lines(tickets / "gh-vagrant-libvirt-vagrant-libvirt-760-vm-no-ip-on-wireless-lan.md", 3, 11))
    assert old.status is Status.PARSED
    (wlan,) = old.data.interfaces
    assert (wlan.name, wlan.origin.line, wlan.mac) == ("wlp3s0", 3, "e4:ce:8f:15:fb:12")
    assert str(wlan.addresses[0].address) == "192.168.1.68/24"
    assert wlan.stats["rx"]["frame"] == 214371 and wlan.stats["tx"]["errors"] == 9
    assert wlan.details == ["metric 1", "interrupt 17"]
    new = parse(_ticket_lines(tickets / "gh-intel-kernel-fuzzer-for-xen-project-49-xen-guest-nat-ip-route.md", 15, 29))
    assert new.status is Status.PARSED
    docker0, lo = new.data.interfaces
    assert (docker0.name, docker0.origin.line, docker0.is_up, docker0.has_carrier) == ("docker0", 15, True, False)
    assert str(docker0.addresses[0].address) == "172.17.0.1/16"
    assert lo.stats["rx"]["bytes"] == 153610463


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("\t \n0123456789.:abcdefx<>()=-/UPRXTinetmask flags=mtu Link encap:"),
               max_size=300))
def test_never_raises(text):
    result = parse_text("ifconfig", text)
    assert result.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_real_output_never_raises(data):
    lines = (HERE / "kvm-host-net-tools-1.60.txt").read_text().split("\n")
    index = data.draw(st.integers(0, len(lines) - 1))
    lines[index] = data.draw(st.text(max_size=80))
    result = parse_text("ifconfig", "\n".join(lines))
    assert result.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)
