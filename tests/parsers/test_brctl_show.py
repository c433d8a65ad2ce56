from hypothesis import given, settings
from hypothesis import strategies as st

from netlint.model import Severity, Status
from tests.conftest import FIXTURES, parse_file, parse_text

HERE = FIXTURES / "brctl-show"


def ports(bridge):
    return [(port.name, port.origin.line) for port in bridge.ports]


def test_centos7_ticket():
    result = parse_file("brctl-show", HERE / "centos7-ticket.txt")
    assert result.status is Status.PARSED
    (virbr0,) = result.data.bridges
    assert (virbr0.name, virbr0.bridge_id, virbr0.stp_enabled) == ("virbr0", "8000.525400c368e6", True)
    assert virbr0.origin.line == 2
    assert ports(virbr0) == [("virbr0-nic", 2), ("vnet0", 3)]


def test_real_output_with_tabs_and_a_bridge_without_ports():
    # Saved from a network namespace: docker0 has no ports and ends in two tabs.
    result = parse_file("brctl-show", HERE / "kvm-host-namespace.txt")
    assert result.status is Status.PARSED
    br1, docker0, virbr0 = result.data.bridges
    assert ports(br1) == [("eth1", 2)] and br1.stp_enabled is False
    assert docker0.bridge_id == "8000.000000000000" and docker0.ports == []
    assert ports(virbr0) == [("virbr0-nic", 4), ("vnet0", 5), ("vnet1", 6)]
    assert result.diagnostics == []


def test_spaces_and_many_bridges():
    result = parse_file("brctl-show", HERE / "spaces-many-bridges.txt")
    assert result.status is Status.PARSED
    names = [(b.name, len(b.ports), b.stp_enabled) for b in result.data.bridges]
    assert names == [("br-ex", 1, False), ("br-mgmt", 2, False), ("virbr0", 4, True), ("virbr1", 1, True)]
    assert ports(result.data.bridges[1]) == [("bond0.100", 3), ("vnet3", 4)]


def test_header_only_means_no_bridges():
    result = parse_text("brctl-show", "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n")
    assert result.status is Status.PARSED
    assert result.data.bridges == []


def test_brctl_messages_are_notes():
    result = parse_file("brctl-show", HERE / "messages.txt")
    assert result.status is Status.PARSED
    br0, br1, virbr0 = result.data.bridges
    assert (br0.name, br0.bridge_id, br0.stp_enabled, br0.ports) == ("br0", None, None, [])
    assert br1.bridge_id == "8000.000000000000" and br1.ports == []
    assert ports(virbr0) == [("virbr0-nic", 4), ("vnet0", 5)]
    notes = [(d.origin.line, d.message) for d in result.diagnostics]
    assert all(d.severity is Severity.INFO for d in result.diagnostics)
    assert notes == [
        (2, "brctl reported for bridge br0: can't get info Operation not supported"),
        (3, "brctl reported for bridge br1: can't get port info: No such device"),
        (6, "brctl reported: device vnet0 is not a bridge!"),
        (7, "brctl reported: bridge br9 does not exist!"),
    ]


def test_a_bridge_may_be_called_bridge():
    text = "bridge name\tbridge id\t\tSTP enabled\tinterfaces\nbridge\t\t8000.525400c368e6\tno\t\tyes\n"
    result = parse_text("brctl-show", text)
    assert result.status is Status.PARSED
    (bridge,) = result.data.bridges
    assert bridge.name == "bridge" and ports(bridge) == [("yes", 2)]


def test_unrecognized_lines_are_reported():
    text = "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n\t\t\teth0\nbr0\t\tnot-an-id\tno\n"
    result = parse_text("brctl-show", text, file="brctl-show.txt")
    assert result.status is Status.PARTIAL
    first, second = result.diagnostics
    assert (first.origin.line, first.origin.column, first.message) == (2, 1, "port line before any bridge")
    assert (second.origin.line, second.origin.column) == (3, 6)
    assert second.text == "br0\t\tnot-an-id\tno"
    assert result.data.bridges == []


def test_corpus(corpus):
    folder = corpus / "brctl-show"
    for path in sorted(folder.glob("*.txt")):
        assert parse_file("brctl-show", path).status is Status.PARSED, path.name
    result = parse_file("brctl-show", folder / "insights-brctl-show-multi-bridge-docker0.txt")
    assert [(b.name, len(b.ports)) for b in result.data.bridges] == [("br0", 3), ("br1", 2), ("br2", 1), ("docker0", 0)]
    result = parse_file("brctl-show", folder / "insights-brctl-show-no-bridges.txt")
    assert result.data.bridges == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("\t \nbr0:8000.abcdefyesno-'!"), max_size=200))
def test_never_raises(text):
    result = parse_text("brctl-show", text)
    assert result.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)
