from tests.conftest import FIXTURES, parse_file, parse_text

from netlint.model import Severity, Status


def test_subset_with_sysctl_messages():
    result = parse_file("sysctl", FIXTURES / "sysctl" / "grep-forward.txt")
    assert result.status is Status.PARSED
    data = result.data
    assert data.get("net.ipv4.ip_forward").value == "1"
    assert data.get("net.ipv4.ip_forward").origin.line == 5
    # sysctl writes a dot inside an interface name as '/'.
    assert data.get("net.ipv4.conf.eth0/100.forwarding").value == "0"
    (note,) = result.diagnostics
    assert note.severity is Severity.INFO and note.origin.line == 8
    assert "stable_secret" in note.message


def test_proc_paths_become_keys():
    result = parse_file("sysctl", FIXTURES / "sysctl" / "proc-grep.txt")
    assert result.status is Status.PARSED
    assert result.data.get("net.ipv4.conf.eno1/100.forwarding").value == "1"
    assert result.data.get("net.ipv4.ip_forward").value == "0"


def test_multiline_value_and_empty_value():
    text = "dev.cdrom.info = CD-ROM information\ndev.cdrom.info = \ndev.cdrom.info = drive name:\t\tsr0\n"
    result = parse_text("sysctl", text)
    assert result.status is Status.PARSED
    assert [e.value for e in result.data.entries] == ["CD-ROM information", "", "drive name:\t\tsr0"]


def test_unrecognized_line_is_reported_with_line_and_column():
    result = parse_text("sysctl", "net.ipv4.ip_forward = 0\nthis is not sysctl\n", file="sysctl.txt")
    assert result.status is Status.PARTIAL
    (problem,) = result.diagnostics
    # Column 5 is right after the key, where the `=` should be.
    assert (problem.origin.file, problem.origin.line, problem.origin.column) == ("sysctl.txt", 2, 5)
    assert problem.text == "this is not sysctl"


def test_missing_key_is_none_not_a_default():
    result = parse_text("sysctl", "net.ipv4.ip_forward = 0\n")
    assert result.data.get("net.ipv4.conf.virbr0.forwarding") is None


def test_corpus_values(corpus):
    result = parse_file("sysctl", corpus / "sysctl" / "jc-ubuntu-18.04-sysctl-a.txt")
    assert result.status is Status.PARSED
    assert result.data.get("net.ipv4.ip_forward").value == "0"
    result = parse_file("sysctl", corpus / "sysctl" / "jc-centos-7.7-sysctl-a.txt")
    assert result.data.get("net.ipv4.ip_forward").value == "1"
    assert result.data.get("net.bridge.bridge-nf-call-iptables").value == "0"
