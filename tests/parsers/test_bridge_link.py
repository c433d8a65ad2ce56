from hypothesis import given, settings
from hypothesis import strategies as st

from netlint.model import Severity, Status
from tests.conftest import FIXTURES, parse_file, parse_text

HERE = FIXTURES / "bridge-link"


def by_name(result):
    return {port.name: port for port in result.data.ports}


def test_real_bridge_link_show():
    # Saved from a network namespace (iproute2 6.1): a tap, two veths, a second bridge.
    result = parse_file("bridge-link", HERE / "namespace-bridge-link-show.txt")
    assert result.status is Status.PARSED
    ports = by_name(result)
    assert list(ports) == ["virbr0-nic", "vnet0", "vnet1", "eth1"]
    vnet0 = ports["vnet0"]
    assert (vnet0.index, vnet0.peer, vnet0.master, vnet0.state) == (5, "guest0", "virbr0", "forwarding")
    assert vnet0.flags == ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"]
    assert (vnet0.mtu, vnet0.priority, vnet0.cost, vnet0.origin.line) == (1500, 32, 2, 2)
    assert ports["virbr0-nic"].peer is None and ports["virbr0-nic"].flags[0] == "NO-CARRIER"
    assert (ports["vnet1"].state, ports["vnet1"].priority, ports["vnet1"].cost) == ("disabled", 16, 100)
    assert ports["eth1"].master == "br1" and ports["eth1"].flags[-1] == "M-DOWN"
    assert all(port.options == {} for port in ports.values())


def test_real_details_become_options():
    result = parse_file("bridge-link", HERE / "namespace-bridge-d-link-show.txt")
    assert result.status is Status.PARSED
    ports = by_name(result)
    assert ports["eth1"].origin.line == 7
    assert ports["eth1"].options["hairpin"] == "on"
    assert ports["vnet0"].options["hairpin"] == "off"
    assert list(ports["vnet0"].options) == [
        "hairpin", "guard", "root_block", "fastleave", "learning", "flood", "mcast_flood", "bcast_flood",
        "mcast_router", "mcast_to_unicast", "neigh_suppress", "vlan_tunnel", "isolated", "locked",
    ]
    assert ports["vnet0"].options["mcast_router"] == "1"


def test_real_sosreport_form_with_stats_flags():
    # `bridge -s -s -d link show` prints exactly what `-d` prints: -s adds nothing to links.
    plain = parse_file("bridge-link", HERE / "namespace-bridge-d-link-show.txt")
    stats = parse_file("bridge-link", HERE / "namespace-bridge-s-s-d-link-show.txt")
    assert stats.status is Status.PARSED
    assert [(p.name, p.options) for p in stats.data.ports] == [(p.name, p.options) for p in plain.data.ports]


def test_states_hwmode_and_newer_options():
    result = parse_file("bridge-link", HERE / "kvm-host-detail.txt")
    assert result.status is Status.PARSED
    ports = by_name(result)
    states = {name: port.state for name, port in ports.items()}
    assert states == {"eno1": "forwarding", "vnet0": "forwarding", "vnet1": "listening", "vnet2": "learning",
                      "veth1": "blocking", "enp5s0f0": None}
    assert ports["vnet0"].index == 7 and ports["vnet0"].cost == 100 and ports["vnet0"].origin.line == 3
    assert ports["veth1"].peer == "if2" and ports["veth1"].master == "docker0"
    assert ports["vnet2"].options["hairpin"] == "on"
    assert ports["vnet0"].options["mab"] == "off" and ports["vnet0"].options["mcast_max_groups"] == "0"
    nic = ports["enp5s0f0"]
    assert (nic.hwmode, nic.master, nic.options) == ("VEB", None, {})


def test_old_iproute_prints_operstate_before_the_colon():
    result = parse_file("bridge-link", HERE / "old-iproute-operstate.txt")
    assert result.status is Status.PARSED
    vnet0, vnet1, veth1 = result.data.ports
    assert (vnet0.name, vnet0.operstate, vnet0.state, vnet0.cost) == ("vnet0", "UNKNOWN", "forwarding", 100)
    assert (vnet1.operstate, vnet1.state) == ("DOWN", "disabled")
    assert (veth1.name, veth1.peer, veth1.operstate, veth1.state) == ("veth1", "veth0", "UP", "blocking")


def test_vlan_lines_and_oneline_details():
    text = (
        "5: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br1 state forwarding priority 32 cost 4 \n"
        "    hairpin off guard off learning on \n"
        "     1 PVID Egress Untagged\n"
        "     10-20\n"
        "6: eth2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br1 state forwarding priority 32 cost 4 "
        "\\    hairpin on guard off \n"
    )
    result = parse_text("bridge-link", text)
    assert result.status is Status.PARSED
    eth1, eth2 = result.data.ports
    assert eth1.vlans == ["1 PVID Egress Untagged", "10-20"]
    assert eth1.options == {"hairpin": "off", "guard": "off", "learning": "on"}
    assert eth2.options == {"hairpin": "on", "guard": "off"}


def test_bridge_messages_are_notes():
    text = 'RTNETLINK answers: Operation not supported\nCannot find device "vnet9"\n'
    result = parse_text("bridge-link", text)
    assert result.status is Status.PARSED and result.data.ports == []
    assert [(d.origin.line, d.severity) for d in result.diagnostics] == [(1, Severity.INFO), (2, Severity.INFO)]
    assert result.diagnostics[1].message == 'bridge reported: Cannot find device "vnet9"'


def test_unrecognized_lines_are_reported():
    text = (
        "    hairpin off\n"
        "7: vnet0: <BROADCAST,UP> mtu 1500 master virbr0 state forwarding priority 32 cost 100 \n"
        "    hairpin off guard\n"
        "7: vnet0: <BROADCAST,UP> mtu nine\n"
    )
    result = parse_text("bridge-link", text, file="bridge-link.txt")
    assert result.status is Status.PARTIAL
    first, second, third = result.diagnostics
    assert (first.origin.line, first.origin.column, first.message) == (1, 1, "detail line before any port")
    assert (second.origin.line, second.message) == (3, "line ends too early")
    assert (third.origin.line, third.origin.column) == (4, 30)
    assert [p.name for p in result.data.ports] == ["vnet0"]


def test_huge_numbers_are_reported_not_raised():
    result = parse_text("bridge-link", "99999999999999999999: vnet0: <UP> mtu 1500\n")
    assert result.status is Status.FAILED
    assert "out of range" in result.diagnostics[0].message


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("\t \n0123456789:@<>,\\ABmtusaevn-"), max_size=200))
def test_never_raises(text):
    result = parse_text("bridge-link", text)
    assert result.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)
