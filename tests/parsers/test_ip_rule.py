from ipaddress import ip_network

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, parse_file, parse_text

from netlint.model import Severity, Status

RULES = FIXTURES / "ip-rule"


def _rule(result, priority):
    (rule,) = [r for r in result.data.rules if r.priority == priority]
    return rule


def test_seed_host_default_rules():
    result = parse_file("ip-rule", RULES / "seed-kvm-host-ip-rule.txt")
    assert result.status is Status.PARSED
    assert [(r.priority, r.action, r.table, r.origin.line) for r in result.data.rules] == [
        (0, "lookup", "local", 1), (32766, "lookup", "main", 2), (32767, "lookup", "default", 3)]
    assert all(r.from_ is None and r.family is None and not r.invert for r in result.data.rules)


def test_selectors():
    result = parse_file("ip-rule", RULES / "policy-ip-rule.txt")
    assert result.status is Status.PARSED
    assert len(result.data.rules) == 23
    assert (_rule(result, 100).fwmark, _rule(result, 100).table) == ("0x1/0xff", "200")
    assert (_rule(result, 110).fwmark, _rule(result, 110).table) == ("0x2", "red_mgmt")
    assert _rule(result, 200).iif == "mgmt0" and _rule(result, 200).flags == []
    assert (_rule(result, 210).iif, _rule(result, 210).flags) == ("vnet9", ["iif-detached"])
    assert (_rule(result, 220).oif, _rule(result, 220).flags) == ("wan9", ["oif-detached"])
    inverted = _rule(result, 300)
    assert inverted.invert and inverted.from_ == ip_network("192.168.10.0/24") and inverted.family == 4
    both = _rule(result, 620)
    assert (both.from_, both.to, both.action) == (ip_network("192.0.2.7/32"), ip_network("198.51.102.0/24"), "prohibit")
    assert _rule(result, 1000).tos == "0x10"
    assert _rule(result, 700).options == {"ipproto": "tcp", "dport": "22"}
    assert _rule(result, 710).options == {"ipproto": "udp", "sport": "5000-5100"}
    assert _rule(result, 800).options == {"uidrange": "1000-2000"}
    assert _rule(result, 1100).options == {"realms": "3/4"}
    assert _rule(result, 1200).options == {"proto": "bird"}


def test_actions():
    result = parse_file("ip-rule", RULES / "policy-ip-rule.txt")
    goto = _rule(result, 400)
    assert (goto.action, goto.goto, goto.table) == ("goto", 600, None)
    assert _rule(result, 500).action == "nop"
    assert [_rule(result, p).action for p in (600, 610, 620)] == ["blackhole", "unreachable", "prohibit"]
    suppress = _rule(result, 900)
    assert (suppress.table, suppress.options) == ("main", {"suppress_prefixlength": "0"})
    assert _rule(result, 910).options == {"suppress_ifgroup": "5"}


def test_ip_d_rule_protocols():
    result = parse_file("ip-rule", RULES / "policy-ip-d-rule.txt")
    assert result.status is Status.PARSED
    assert _rule(result, 0).options == {"proto": "kernel"}
    assert _rule(result, 100).options == {"proto": "unspec"}


def test_ipv6_rules():
    result = parse_file("ip-rule", RULES / "policy-ip-6-rule.txt")
    assert result.status is Status.PARSED
    rule = _rule(result, 200)
    assert (rule.from_, rule.to, rule.family) == (
        ip_network("2001:db8:10::/64"), ip_network("2001:db8:100::/48"), 6)
    inverted = _rule(result, 300)
    assert inverted.invert and inverted.iif == "lan0" and inverted.from_ is None


def test_vrf_and_legacy_rules():
    result = parse_file("ip-rule", RULES / "vrf-and-legacy-rule.txt")
    assert result.status is Status.PARSED
    l3mdev = _rule(result, 1000)
    assert (l3mdev.action, l3mdev.table, l3mdev.flags) == ("lookup", None, ["l3mdev"])
    nat = _rule(result, 32000)
    assert (nat.action, nat.options) == ("nat", {"map-to": "10.5.0.0"})
    unresolved = _rule(result, 32100)
    assert (unresolved.goto, unresolved.flags) == (32200, ["unresolved"])
    iif_oif, tos = [r for r in result.data.rules if r.priority == 32765]
    assert (iif_oif.iif, iif_oif.oif, iif_oif.flags, iif_oif.origin.line) == ("lo", "vrf-blue", ["oif-detached"], 5)
    assert (tos.tos, tos.fwmark, tos.table, tos.origin.line) == ("lowdelay", "0x10/0xff", "100", 6)


def test_dsfield_table_and_protocol_spellings():
    result = parse_text("ip-rule", "5:\tfrom all dsfield 0x08 table 7 protocol static l3mdev\n")
    rule = result.data.rules[0]
    assert (rule.tos, rule.table, rule.options, rule.flags) == ("0x08", "7", {"proto": "static"}, ["l3mdev"])


def test_corpus_policy_routing(corpus):
    result = parse_file("ip-rule", corpus / "ip-route" / "netnetwork-openlab-stettenstr-ip-rule.txt")
    assert result.status is Status.PARSED
    assert [(r.priority, r.fwmark, r.table) for r in result.data.rules] == [
        (0, None, "local"), (32763, "0x3", "FREIFUNK"), (32764, "0x2", "KABEL"),
        (32765, "0x1", "DSL"), (32766, None, "main"), (32767, None, "default")]


def test_unrecognized_lines_are_reported():
    text = ("0:\tfrom all lookup local\n"
            "Error: argument \"bogus\" is wrong\n"
            "100:\tlookup main\n"
            "200:\tfrom 10.0.0.300 lookup main\n"
            "99999999999:\tfrom all lookup main\n")
    result = parse_text("ip-rule", text, file="ip-rule.txt")
    assert result.status is Status.PARTIAL
    assert [r.priority for r in result.data.rules] == [0]
    assert [(d.origin.line, d.origin.column) for d in result.diagnostics] == [(2, 1), (3, 5), (4, 11), (5, 1)]
    assert "from" in result.diagnostics[1].message
    assert "10.0.0.300" in result.diagnostics[2].message


_PIECES = st.sampled_from(["0:", "32766:", "from", "all", "to", "10.0.0.0/8", "::/0", "not", "iif", "eth0",
                           "[detached]", "goto", "[unresolved]", "lookup", "main", "fwmark", "0x1/0xff",
                           "nop", "map-to", "\t", " ", "\n", "99999999999:", "x", ":"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=20))
def test_any_input_is_accounted_for(pieces):
    text = " ".join(pieces)
    result = parse_text("ip-rule", text)
    errors = sum(d.severity is Severity.ERROR for d in result.diagnostics)
    assert result.recognized + errors == sum(1 for line in text.split("\n") if line.strip())
