"""The iptables evaluator on small rulesets: jumps, gotos, RETURN, policies, marks, NAT, and
the *maybe* forks."""

from __future__ import annotations

from ipaddress import ip_address

from netlint.trace.netfilter import Addresses, Evaluator, Packet
from tests.conftest import parse_text

ADDRESSES = Addresses({ip_address("192.168.50.201"), ip_address("192.168.122.1")}, set(),
                      {"eno1": ip_address("192.168.50.201"), "virbr0": ip_address("192.168.122.1")})


def evaluator(rules: str, tables: str = "filter") -> Evaluator:
    return Evaluator(parse_text("iptables-save", rules).data, ADDRESSES)


def packet(**kw) -> Packet:
    base = dict(src=ip_address("192.168.122.2"), dst=ip_address("8.8.8.8"), proto="tcp", sport=40000, dport=443,
                iif="virbr0", oif="eno1")
    base.update(kw)
    return Packet(**base)


FILTER = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:USER - [0:0]
:TAIL - [0:0]
-A FORWARD -i virbr0 -j USER
-A FORWARD -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A USER -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset
-A USER -p tcp -m multiport --dports 80,443 -g TAIL
-A USER -p udp -j RETURN
-A TAIL -d 8.8.8.8/32 -j RETURN
-A TAIL -j ACCEPT
COMMIT
"""


def test_jump_reject_and_goto_return_to_the_policy():
    ev = evaluator(FILTER)
    (ssh,) = ev.run("filter", "FORWARD", packet(dport=22))
    assert (ssh.verdict, ssh.rule.origin.line, ssh.uncertain) == ("REJECT", 9, False)
    # A goto's RETURN goes back past the chain that went there: FORWARD's next rule does not
    # match (not ESTABLISHED, wrong -o), so the policy decides.
    (web,) = ev.run("filter", "FORWARD", packet(dport=443))
    assert (web.verdict, web.rule) == ("DROP", None)
    (other,) = ev.run("filter", "FORWARD", packet(dport=443, dst=ip_address("1.1.1.1")))
    assert (other.verdict, other.rule.origin.line) == ("ACCEPT", 13)


def test_return_from_a_jump_continues_after_it():
    (reply,) = evaluator(FILTER).run("filter", "FORWARD", packet(proto="udp", dport=53, iif="virbr0", oif="virbr0",
                                                                 ctstate="ESTABLISHED"))
    assert (reply.verdict, reply.rule.origin.line) == ("ACCEPT", 8)


def test_a_match_netlint_cannot_evaluate_forks_into_both_outcomes():
    rules = """*filter
:FORWARD ACCEPT [0:0]
-A FORWARD -m recent --rcheck --name BAD -j DROP
COMMIT
"""
    outcomes = evaluator(rules).run("filter", "FORWARD", packet())
    assert sorted((o.verdict, o.uncertain) for o in outcomes) == [("ACCEPT", True), ("DROP", True)]
    assert all(o.maybes[0].origin.line == 3 for o in outcomes)


def test_maybe_that_cannot_change_the_verdict_is_certain_to_the_walk():
    rules = """*filter
:OUTPUT ACCEPT [0:0]
-A OUTPUT -o virbr0 -p udp -m udp --dport 68 -j ACCEPT
COMMIT
"""
    outcomes = evaluator(rules).run("filter", "OUTPUT", packet(proto="udp", dport=None, oif="virbr0"))
    assert {o.verdict for o in outcomes} == {"ACCEPT"}


def test_marks_set_and_matched():
    rules = """*mangle
:PREROUTING ACCEPT [0:0]
-A PREROUTING -i virbr0 -j MARK --set-xmark 0x4000/0x4000
-A PREROUTING -m mark --mark 0x4000/0x4000 -j DROP
COMMIT
"""
    (out,) = evaluator(rules).run("mangle", "PREROUTING", packet())
    assert (out.verdict, out.rule.origin.line, out.packet.mark) == ("DROP", 4, 0x4000)


def test_nat_targets_rewrite_the_packet():
    rules = """*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 192.168.50.201/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.122.10:80
-A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE
COMMIT
"""
    ev = evaluator(rules)
    (dnat,) = ev.run("nat", "PREROUTING", packet(src=ip_address("203.0.113.7"), dst=ip_address("192.168.50.201"),
                                                 dport=8080, iif="eno1", oif=None))
    assert (str(dnat.packet.dst), dnat.packet.dport, dnat.packet.dnat, dnat.nat.origin.line) == \
        ("192.168.122.10", 80, True, 4)
    (masq,) = ev.run("nat", "POSTROUTING", packet())
    assert (str(masq.packet.src), masq.packet.snat) == ("192.168.50.201", True)


def test_addrtype_physdev_and_negated_interfaces():
    rules = """*filter
:FORWARD DROP [0:0]
-A FORWARD -m addrtype --dst-type LOCAL -j DROP
-A FORWARD -m physdev --physdev-is-bridged -j ACCEPT
-A FORWARD ! -o virbr+ -j ACCEPT
COMMIT
"""
    ev = evaluator(rules)
    assert ev.run("filter", "FORWARD", packet(dst=ip_address("192.168.50.201")))[0].verdict == "DROP"
    bridged = ev.run("filter", "FORWARD", packet(bridged=True, physdev_in="vnet0", oif="virbr0"))[0]
    assert (bridged.verdict, bridged.rule.origin.line) == ("ACCEPT", 4)
    assert ev.run("filter", "FORWARD", packet(oif="virbr1"))[0].verdict == "DROP"
    assert ev.run("filter", "FORWARD", packet(oif="eno1"))[0].rule.origin.line == 5


def test_a_fragment_without_policy_leaves_the_policy_unknown():
    outcomes = evaluator("-A FORWARD -i virbr9 -j ACCEPT\n").run("filter", "FORWARD", packet())
    assert sorted((o.verdict, o.uncertain) for o in outcomes) == [("ACCEPT", True), ("DROP", True)]


def test_an_unnamed_client_port_is_ephemeral():
    rules = """*filter
:FORWARD ACCEPT [0:0]
-A FORWARD -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset
-A FORWARD -p tcp -m tcp --sport 1024:65535 -j ACCEPT
-A FORWARD -p tcp -m tcp --sport 5000:6000 -j DROP
COMMIT
"""
    ev = evaluator(rules)
    # A reply to a client: its destination port is the client's ephemeral port, never 443.
    (reply,) = ev.run("filter", "FORWARD", packet(sport=80, dport=None, ctstate="ESTABLISHED"))
    assert reply.verdict == "ACCEPT" and not reply.uncertain
    (request,) = ev.run("filter", "FORWARD", packet(sport=None, dport=80))
    assert (request.verdict, request.rule.origin.line, request.uncertain) == ("ACCEPT", 4, False)
    outcomes = evaluator(rules.replace("1024:65535", "1:2")).run("filter", "FORWARD", packet(sport=None, dport=80))
    assert sorted((o.verdict, o.uncertain) for o in outcomes) == [("ACCEPT", True), ("DROP", True)]
