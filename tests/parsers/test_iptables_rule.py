"""A rule's options read segment by segment (the fast way, for rules as iptables-save prints
them) give exactly the facts of reading them token by token."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netlint.parsers.iptables_rule import clear_cache, parse_rule, parse_rule_by_tokens
from tests.conftest import CORPUS, FIXTURES


def _rule_options() -> list[str]:
    files = sorted((FIXTURES / "iptables-save").glob("*.txt"))
    if (CORPUS / "iptables-save").is_dir():
        files += sorted((CORPUS / "iptables-save").glob("*.txt"))
    options = []
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split(None, 2)
            if parts[:1] in (["-A"], ["-I"]):
                options.append(parts[2] if len(parts) > 2 else "")
    return options


def _same(text: str) -> None:
    fast, slow = parse_rule(text), parse_rule_by_tokens(text)
    assert (fast.matches, fast.target, fast.counters) == (slow.matches, slow.target, slow.counters), text
    assert fast.problems == slow.problems, text


def test_every_real_rule_reads_the_same_both_ways():
    options = _rule_options()
    assert len(options) > 1000
    for text in options:
        _same(text)
    clear_cache()
    for text in options:  # and again from a cold cache, in the other order
        _same(text)


def test_kube_proxy_shapes():
    for text in [
        '-d 10.96.0.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 '
        '-j KUBE-SVC-ERIFXISQEP7F7OF4',
        '-m comment --comment "kube-system/kube-dns:dns-tcp" -m statistic --mode random --probability 0.50000000000 '
        '-j KUBE-SEP-IT2ZTR26TO4XFPTO',
        '-s 10.244.0.2/32 -m comment --comment "kube-system/kube-dns:dns-tcp" -j KUBE-MARK-MASQ',
        '-p tcp -m comment --comment "kube-system/kube-dns:dns-tcp" -m tcp -j DNAT --to-destination 10.244.0.2:53',
        '-m comment --comment "a \\"quoted\\" -j word" -j ACCEPT',
        '-m mark ! --mark 0x4000/0x4000 -j RETURN',
        '-j MASQUERADE --random-fully',
        '-p tcp -s 10.0.0.1 --dport 22 -j DROP',  # an implicit module needs the protocol of another segment
        '-p -s --dport',
    ]:
        _same(text)


WORDS = ["-s", "-d", "-i", "-o", "-p", "-f", "-m", "-j", "-g", "-c", "!", "--dport", "--sport", "--ctstate",
         "--comment", "--jump", "--match", "--to-ports", "tcp", "udp", "conntrack", "comment", "multiport",
         "--dports", "ACCEPT", "DROP", "10.0.0.0/8", "1.2.3.4", "bad/addr", "22", "1024:65535", "eth+",
         "NEW,ESTABLISHED", '"a b"', '"x \\" y"', '"unterminated', "0", "7", "--", "-"]


@settings(max_examples=2000, deadline=5000)
@given(st.lists(st.sampled_from(WORDS), max_size=12), st.sampled_from([" ", "  ", "\t"]))
def test_any_word_sequence_reads_the_same_both_ways(words, blank):
    _same(blank.join(words))
