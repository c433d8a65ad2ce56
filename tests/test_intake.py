from pathlib import Path

import pytest

from netlint.intake import InputError, read_dump, read_file, sniff
from netlint.model import Kind, Role, Severity
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "centos7-forwarding-off"


def test_dump_folder_is_sniffed_by_content_not_name(tmp_path):
    (tmp_path / "a.txt").write_text("net.ipv4.ip_forward = 0\n")
    (tmp_path / "b").write_text("bridge name\tbridge id\t\tSTP enabled\tinterfaces\n")
    kinds = {s.file: s.kind for s in read_dump(tmp_path)}
    assert kinds == {"a.txt": Kind.SYSCTL, "b": Kind.BRCTL_SHOW}


def test_example_dump_kinds_and_guest_role():
    by_file = {s.file: s for s in read_dump(EXAMPLE)}
    assert {f: s.kind for f, s in by_file.items()} == {
        "brctl-show.txt": Kind.BRCTL_SHOW,
        "default-network.xml": Kind.LIBVIRT_NETWORK_XML,
        "guest/route-print.txt": Kind.ROUTE_PRINT,
        "ip-addr.txt": Kind.IP_ADDR,
        "ip-route.txt": Kind.IP_ROUTE,
        "iptables-save.txt": Kind.IPTABLES_SAVE,
        "route-n.txt": Kind.ROUTE,
        "sysctl.txt": Kind.SYSCTL,
    }
    assert by_file["guest/route-print.txt"].role is Role.GUEST
    assert by_file["route-n.txt"].role is Role.HOST


def test_guest_prefix_marks_a_guest_file(tmp_path):
    (tmp_path / "guest-route.txt").write_text("Kernel IP routing table\n")
    (source,) = read_dump(tmp_path)
    assert source.role is Role.GUEST


@pytest.mark.parametrize("text, reason", [
    ("", "the file is empty"),
    ("\n  \n", "the file is empty"),
    ("-bash: brctl: command not found\n", "the output is an error message: -bash: brctl: command not found"),
    ("sysctl: cannot stat /proc/sys/net/ipv4/ip_forwardx: No such file or directory\n",
     "the output is an error message: sysctl: cannot stat /proc/sys/net/ipv4/ip_forwardx: No such file or directory"),
])
def test_error_texts_are_empty_with_reason(tmp_path, text, reason):
    (tmp_path / "brctl-show.txt").write_text(text)
    (source,) = read_dump(tmp_path)
    assert source.empty_reason == reason


def test_unrecognized_file_is_listed_not_fatal(tmp_path):
    (tmp_path / "notes.txt").write_text("the customer says the VM cannot reach the internet\n")
    (tmp_path / "sysctl.txt").write_text("net.ipv4.ip_forward = 0\n")
    kinds = {s.file: s.kind for s in read_dump(tmp_path)}
    assert kinds == {"notes.txt": Kind.UNKNOWN, "sysctl.txt": Kind.SYSCTL}


def test_bad_bytes_are_replaced_and_reported(tmp_path):
    path = tmp_path / "sysctl.txt"
    path.write_bytes(b"net.ipv4.ip_forward = 0\nkernel.hostname = h\xff\xfeost\n")
    (source,) = read_file(path)
    assert source.kind is Kind.SYSCTL
    (diag,) = source.diagnostics
    assert diag.severity is Severity.WARNING and diag.origin.line == 2 and diag.origin.column == 20


def test_crlf_becomes_lf(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(b"net.ipv4.ip_forward = 0\r\nnet.ipv4.conf.all.forwarding = 0\r\n")
    (source,) = read_file(path)
    assert "\r" not in source.text


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_dump(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no files"):
        read_dump(empty)


@pytest.mark.parametrize("text, kind", [
    ("4: virbr0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n"
     "    link/ether 52:54:00:c3:68:e6 brd ff:ff:ff:ff:ff:ff\n", Kind.IP_ADDR),
    ("7: vnet0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master virbr0 state forwarding priority 32 cost 100\n",
     Kind.BRIDGE_LINK),
    ("virbr0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n"
     "        inet 192.168.122.1  netmask 255.255.255.0  broadcast 192.168.122.255\n", Kind.IFCONFIG),
    ("0:\tfrom all lookup local\n32766:\tfrom all lookup main\n", Kind.IP_RULE),
    ("default via 192.168.50.1 dev eno1 proto static metric 100\n", Kind.IP_ROUTE),
    ("0.0.0.0  0.0.0.0\t192.168.122.1\t 192.168.122.2 20\n", Kind.ROUTE_PRINT),
    ("-A FORWARD -i virbr0 -j REJECT --reject-with icmp-port-unreachable\n", Kind.IPTABLES_SAVE),
    ("table ip libvirt_network {\n", Kind.NFT_RULESET),
    ("<!-- WARNING: THIS IS AN AUTO-GENERATED FILE -->\n<network>\n  <name>default</name>\n</network>\n",
     Kind.LIBVIRT_NETWORK_XML),
])
def test_sniff_signatures(text, kind):
    assert sniff(text) is kind


def test_prose_is_not_sniffed_as_output():
    assert sniff("Hi, my guest 192.168.122.2 reaches the host but nothing beyond.\nAny idea?\n") is Kind.UNKNOWN


def test_nul_bytes_are_reported(tmp_path):
    path = tmp_path / "sysctl.txt"
    path.write_bytes(b"net.ipv4.ip_forward = 0\nnet.ipv4.conf.all.forwarding = 0\x00\n")
    (source,) = read_file(path)
    (diag,) = source.diagnostics
    assert diag.origin.line == 2 and diag.origin.column == 33 and "NUL" in diag.message


def test_fifo_is_refused_not_read(tmp_path):
    """Reading a FIFO would block forever: a file argument is refused, a dump lists it as empty."""
    import os

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "sysctl.txt").write_text("net.ipv4.ip_forward = 0\n")
    with pytest.raises(InputError, match="not a regular file"):
        read_file(tmp_path / "pipe")
    by_file = {s.file: s for s in read_dump(tmp_path)}
    assert by_file["pipe"].empty_reason.startswith("not a regular file")
    assert by_file["sysctl.txt"].kind is Kind.SYSCTL
