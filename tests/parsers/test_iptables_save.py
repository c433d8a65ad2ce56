"""The iptables-save parser over hand-written fixtures: each construct of the format, the
fragment and `iptables -S` forms, and the semantic checks."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from netlint.model import Severity, Status
from netlint.model.firewall import (AddressMatch, AddrTypeMatch, CommentMatch, FragmentMatch, IcmpMatch,
                                    InterfaceMatch, IpRangeMatch, MarkMatch, ModuleMatch, PhysdevMatch, PortMatch,
                                    PortRange, ProtocolMatch, StateMatch)
from tests.conftest import FIXTURES, parse_file, parse_text

FIX = FIXTURES / "iptables-save"


@pytest.fixture(scope="module")
def every():
    result = parse_file("iptables-save", FIX / "every-construct.txt")
    assert result.status is Status.PARSED, result.diagnostics
    return result


def rule(result, table, chain, index):
    return result.data.tables[table].chains[chain].rules[index - 1]


def test_header_backend_and_warning(every):
    rs = every.data
    assert (rs.family, rs.backend, rs.version) == (4, "nf_tables", "1.8.9")
    assert rs.warnings == ["iptables-legacy tables present, use iptables-legacy-save to see them"]
    (note,) = [d for d in every.diagnostics if "legacy" in d.message]
    assert note.severity is Severity.INFO and note.origin.line == 68


def test_tables_chains_policies_counters(every):
    rs = every.data
    assert list(rs.tables) == ["raw", "mangle", "nat", "filter"]
    inp = rs.tables["filter"].chains["INPUT"]
    assert (inp.policy, inp.counters.packets, inp.counters.bytes, inp.origin.line) == ("ACCEPT", 1101, 228112, 33)
    assert inp.builtin
    fwi = rs.tables["filter"].chains["LIBVIRT_FWI"]
    assert fwi.policy is None and not fwi.builtin
    assert all(t.committed for t in rs.tables.values())


def test_addresses_interfaces_protocols(every):
    r = rule(every, "filter", "INPUT", 6)  # ! -s 10.0.0.0/8 -p tcp -m tcp ! --dport 1024:65535 -j DROP
    src, proto, ports = r.matches
    assert src == AddressMatch("source", ip_network("10.0.0.0/8"), True)
    assert proto == ProtocolMatch("tcp", False)
    assert isinstance(ports, PortMatch) and ports.dports_negated and ports.dports.ranges == (PortRange(1024, 65535),)
    assert r.target.name == "DROP" and r.origin.line == 43
    wild = rule(every, "filter", "FORWARD", 2)  # -i eth+ ! -o virbr0
    i, o = wild.matches
    assert i.matches_name("eth0") and i.matches_name("eth1.100") and not i.matches_name("virbr0")
    assert o == InterfaceMatch("out", "virbr0", True) and o.matches_name("eth0") and not o.matches_name("virbr0")
    assert rule(every, "filter", "INPUT", 18).matches == [ProtocolMatch("47", False)]
    assert rule(every, "filter", "INPUT", 19).matches == [ProtocolMatch("udp", True)]
    assert rule(every, "filter", "INPUT", 17).matches == [FragmentMatch(False)]


def test_typed_modules(every):
    state = rule(every, "filter", "INPUT", 2).matches[0]
    assert isinstance(state, StateMatch) and state.states == {"RELATED", "ESTABLISHED"} and not state.states_negated
    old_state = rule(every, "filter", "INPUT", 3).matches[0]
    assert isinstance(old_state, StateMatch) and old_state.module == "state" and old_state.states == {"NEW"}
    icmp, limit = rule(every, "filter", "INPUT", 4).matches[1:]
    assert isinstance(icmp, IcmpMatch) and icmp.icmp_type == "8"
    assert type(limit) is ModuleMatch and limit.module == "limit"  # not interpreted: a *maybe* for the trace
    multi = rule(every, "filter", "INPUT", 5).matches[1]
    assert isinstance(multi, PortMatch) and 67 in multi.dports and 5005 in multi.dports and 69 not in multi.dports
    addrtype, comment = rule(every, "filter", "INPUT", 7).matches
    assert isinstance(addrtype, AddrTypeMatch) and addrtype.dst_types == {"LOCAL"}
    assert isinstance(comment, CommentMatch) and comment.comment == 'local "traffic" only'
    (iprange,) = rule(every, "filter", "INPUT", 8).matches
    assert isinstance(iprange, IpRangeMatch)
    assert iprange.src_range == (ip_address("192.168.1.10"), ip_address("192.168.1.20"))
    (connmark,) = rule(every, "filter", "INPUT", 13).matches
    assert isinstance(connmark, MarkMatch) and (connmark.value, connmark.mask) == (2, 0xFF)
    (physdev,) = rule(every, "filter", "FORWARD", 1).matches
    assert isinstance(physdev, PhysdevMatch) and physdev.is_bridged is True
    assert physdev.physdev_in.name == "vnet0"
    mark = rule(every, "mangle", "PREROUTING", 1).matches[0]
    assert isinstance(mark, MarkMatch) and (mark.value, mark.mask) == (1, 0xFF)
    flags = rule(every, "mangle", "FORWARD", 1).matches[1]
    assert flags.tcp_flags == (frozenset({"SYN", "RST"}), frozenset({"SYN"}))


def test_opaque_modules_keep_their_options_verbatim(every):
    recent = rule(every, "filter", "INPUT", 11).matches[0]
    assert type(recent) is ModuleMatch
    assert [o.render() for o in recent.options] == [
        "--update", "--seconds 60", "--hitcount 4", "--name SSH", "--mask 255.255.255.255", "--rsource"]
    u32 = rule(every, "filter", "INPUT", 16).matches[0]
    assert u32.options[0].args == ("0x0>>0x16&0x3c@0xc>>0x1a&0x3c=0x0",)
    string = rule(every, "filter", "INPUT", 15).matches[0]
    assert string.render() == '-m string --string "GET /admin" --algo bm --to 65535'


def test_targets_with_options(every):
    assert rule(every, "nat", "PREROUTING", 1).target.option("--to-destination") == ("192.168.122.10:80",)
    assert rule(every, "nat", "LIBVIRT_PRT", 2).target.option("--to-ports") == ("1024-65535",)
    assert rule(every, "nat", "LIBVIRT_PRT", 4).target.option("--to-source") == ("172.28.20.231",)
    assert rule(every, "filter", "LIBVIRT_FWI", 2).target.option("--reject-with") == ("icmp-port-unreachable",)
    assert rule(every, "filter", "LOGDROP", 1).target.option("--log-prefix") == ("dropped: ",)
    assert rule(every, "mangle", "POSTROUTING", 1).target.render() == "-j CHECKSUM --checksum-fill"
    assert rule(every, "raw", "PREROUTING", 1).target.render() == "-j CT --notrack"
    goto = rule(every, "filter", "FORWARD", 4).target
    assert goto.goto and goto.name == "LOGDROP" and goto.render() == "-g LOGDROP"


def test_rule_indexes_follow_the_chain(every):
    rules = every.data.tables["filter"].chains["INPUT"].rules
    assert [r.index for r in rules] == list(range(1, len(rules) + 1))


def test_render_save_parses_back_to_the_same_rules(every):
    again = parse_text("iptables-save", every.data.render_save())
    assert again.status is Status.PARSED
    assert [r.render() for r in again.data.rules()] == [r.render() for r in every.data.rules()]
    assert [r.matches for r in again.data.rules()] == [r.matches for r in every.data.rules()]


def test_counters_form():
    text = "*filter\n:INPUT ACCEPT [5:300]\n[12:3400] -A INPUT -i lo -j ACCEPT\nCOMMIT\n"
    result = parse_text("iptables-save", text)
    (r,) = result.data.rules()
    assert (r.counters.packets, r.counters.bytes) == (12, 3400)
    assert result.data.render_save().splitlines()[2] == "[12:3400] -A INPUT -i lo -j ACCEPT"


def test_fragment_tables_are_inferred_and_noted():
    result = parse_file("iptables-save", FIX / "centos7-ticket-fragment.txt")
    assert result.status is Status.PARSED
    tables = result.data.tables
    assert [r.target.name for r in tables["filter"].chains["FORWARD"].rules] == ["ACCEPT"] * 3 + ["REJECT"] * 2
    assert [r.target.name for r in tables["nat"].chains["POSTROUTING"].rules] == ["RETURN"] * 2 + ["MASQUERADE"] * 3
    assert tables["filter"].chains["FORWARD"].policy is None  # the fragment does not say: unknown
    notes = [(d.origin.line, d.message) for d in result.diagnostics]
    assert notes == [(1, "no *table line before this rule: table filter inferred from FORWARD and ACCEPT"),
                     (7, "no *table line before this rule: table nat inferred from POSTROUTING and RETURN")]


@pytest.mark.parametrize("chain, target, table", [
    ("POSTROUTING", "MASQUERADE", "nat"), ("PREROUTING", "DNAT", "nat"), ("OUTPUT", "NOTRACK", "raw"),
    ("POSTROUTING", "CHECKSUM", "mangle"), ("INPUT", "ACCEPT", "filter"), ("LIBVIRT_FWO", "REJECT", "filter"),
])
def test_infer_table(chain, target, table):
    result = parse_text("iptables-save", f"-A {chain} -j {target}\n")
    assert list(result.data.tables) == [table]


def test_iptables_dash_s():
    result = parse_file("iptables-save", FIX / "iptables-S.txt")
    assert result.status is Status.PARSED
    filt = result.data.tables["filter"]
    assert filt.chains["FORWARD"].policy == "DROP"
    assert [r.target.name for r in filt.chains["FORWARD"].rules] == ["LIBVIRT_FWI", "DOCKER-USER", "ACCEPT", "DOCKER"]
    assert "DOCKER" in filt.chains and filt.chains["DOCKER"].rules == []
    assert [d.message for d in result.diagnostics] == [
        "`iptables -S` output names no table: filter assumed (`-t` chooses it)"]


def test_semantic_problems_are_reported_with_lines():
    result = parse_file("iptables-save", FIX / "semantic-problems.txt")
    found = {(d.origin.line, d.severity.value, d.message) for d in result.diagnostics}
    assert (3, "warning", "built-in chain INPUT has no policy ('-')") in found
    assert (6, "warning", "user chain MYCHAIN has a policy (ACCEPT); only built-in chains have one") in found
    assert (7, "warning", "chain MYCHAIN is defined twice in *filter") in found
    assert (8, "warning", "jump to chain NOSUCHCHAIN, which *filter does not define") in found
    assert (9, "warning", "goto to chain ALSOMISSING, which *filter does not define") in found
    assert (10, "warning", "rule for chain UNDECLARED, which *filter does not declare") in found
    assert (11, "error", "-s: '10.0.0.300/8' is not an address or network") in found
    assert (12, "error", "-m tcp: port 70000 is out of range") in found
    assert (15, "warning", "rule outside a table (after COMMIT): iptables-restore would refuse it") in found
    assert (16, "warning", "unknown table 'mystery'") in found
    assert (16, "warning", "*mystery has no COMMIT: iptables-restore would not apply it") in found
    assert result.data.family == 4 and result.data.backend == "legacy"
    bad_address = next(d for d in result.diagnostics if d.origin.line == 11)
    # The column is where the option holding the bad argument starts.
    assert bad_address.origin.column == 10 and bad_address.text == "-A INPUT -s 10.0.0.300/8 -j DROP"
    # Only the two bad arguments are unrecognized; the rest is read, so the file is partial.
    assert result.status is Status.PARTIAL


def test_unrecognized_lines_are_reported_never_dropped():
    result = parse_text("iptables-save", "*filter\n:INPUT ACCEPT [0:0]\nthis is not a rule\n-A INPUT -j ACCEPT\nCOMMIT\n",
                        file="iptables-save.txt")
    (problem,) = result.diagnostics
    assert (problem.origin.line, problem.origin.column, problem.text) == (3, 1, "this is not a rule")
    assert result.status is Status.PARTIAL
    assert len(list(result.data.rules())) == 1


@pytest.mark.parametrize("options, message", [
    ("-j", "-j needs an argument"),
    ("-m tcp ! -j ACCEPT", "'!' cannot negate -j"),
    ("--dport 22 -j DROP", "option --dport belongs to no match (no -m before it)"),
    ("-j ACCEPT -j DROP", "a second target (DROP)"),
    ("-s 1.2.3.4 5.6.7.8", "unexpected '5.6.7.8' after -s 1.2.3.4"),
])
def test_rule_option_problems(options, message):
    result = parse_text("iptables-save", f"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {options}\nCOMMIT\n")
    assert message in [d.message for d in result.diagnostics]


def test_old_negation_syntax_and_implicit_modules():
    result = parse_text("iptables-save", "-A INPUT -s ! 10.0.0.0/8 -p tcp --dport ! 22 -j DROP\n")
    src, proto, ports = next(result.data.rules()).matches
    assert src.negated and ports.module == "tcp" and ports.dports_negated and 22 in ports.dports
    assert next(result.data.rules()).render() == "-A INPUT ! -s 10.0.0.0/8 -p tcp -m tcp ! --dport 22 -j DROP"


def test_ip6tables_save_family():
    text = ("# Generated by ip6tables-save v1.8.7 (legacy) on Mon\n*filter\n:INPUT DROP [0:0]\n"
            "-A INPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\nCOMMIT\n")
    result = parse_text("iptables-save", text)
    assert result.data.family == 6
    src, _, icmp = next(result.data.rules()).matches
    assert src.network == ip_network("fe80::/10") and icmp.icmp_type == "135"


def test_a_mask_that_is_no_prefix_is_kept_and_evaluated_as_iptables_does():
    result = parse_text("iptables-save", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.0/255.0.255.0 -j DROP\nCOMMIT\n")
    assert result.status is Status.PARSED
    (match,) = next(result.data.rules()).matches
    assert str(match.mask) == "255.0.255.0"
    assert match.matches_address(ip_address("10.77.0.9")) and not match.matches_address(ip_address("10.77.1.9"))
    assert next(result.data.rules()).render() == "-A INPUT -s 10.0.0.0/255.0.255.0 -j DROP"
