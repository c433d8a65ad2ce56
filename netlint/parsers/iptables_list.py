"""Parser for `iptables -L` / `ip6tables -L` listings (kind `iptables-list`), with any of `-n`,
`-v`, `-x`, `--line-numbers`: what sosreports carry (`iptables -t filter -nvL`, `iptables -vnxL`)
instead of `iptables-save`.

Output schema (`data`): the same `Ruleset` as iptables-save (netlint/model/firewall.py), filled
as far as a listing shows it::

    {"family": 4, "backend": null, "version": null, "warnings": [],
     "tables": [{"name": "filter", "line": 1, "committed": false,
                 "chains": [{"name": "FORWARD", "table": "filter", "line": 12, "policy": "DROP",
                             "counters": {"packets": 0, "bytes": 0},
                             "rules": [{"table": "filter", "chain": "FORWARD", "index": 1, "line": 14,
                                        "counters": {"packets": 4175, "bytes": 1130000},
                                        "matches": [{"type": "interface", "direction": "out",
                                                     "name": "virbr0", "negated": false},
                                                    {"type": "state", "module": "conntrack",
                                                     "options": [{"name": "--ctstate",
                                                                  "args": ["RELATED,ESTABLISHED"],
                                                                  "negated": false}],
                                                     "states": ["ESTABLISHED", "RELATED"], …}],
                                        "target": {"name": "ACCEPT", "options": [], "goto": false}}]}]}]}

The columns become `address`, `interface`, `protocol` and `fragment` matches in iptables-save's
order (-s -d -i -o -p -f); the free text after them is translated back into the options
iptables-save would print (`tcp dpt:ssh` → `-m tcp --dport 22`, `masq ports: 1024-65535` →
`--to-ports 1024-65535`, `MARK set 0x1` → `--set-xmark 0x1/0xffffffff`) and typed with the
same helpers as iptables-save, so the trace sees one model whichever output a dump has. Text
netlint cannot translate is kept as a match of module `listing` with one option `--text`
holding it verbatim (evaluated as *maybe*), with a note.

A listing names no table: it is inferred from the built-in chains listed (filter: INPUT
FORWARD OUTPUT; nat: PREROUTING INPUT OUTPUT POSTROUTING; mangle: all five; raw: PREROUTING
OUTPUT) and from NAT/mangle/raw targets, and noted. A built-in chain that comes after a user
chain, or not after the previous built-in in iptables' order, starts the next table's listing.
`committed` is false (a listing has no COMMIT); counters are null without -v and rounded
(K/M/G/T are powers of 1000) without -x. Notes (`info`) say what the listing cannot show:
interface matches without -v, exact counters without -x, names that do not map back without
-n, -g rules not marked `[goto]`, and the order the options were written in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lark import Token, Transformer
from lark.exceptions import LarkError

from ..model import Diagnostic, ParseResult, Severity, Source
from ..model.firewall import (AddressMatch, Chain, Counters, FragmentMatch, InterfaceMatch, Match, ModuleMatch,
                              Option, ProtocolMatch, Rule, Ruleset, Table, Target)
from .base import Context, Grammar, Line, LineError
from .iptables_rule import _port, network, tokenize, typed_module
from .iptables_save import TARGET_EXTENSIONS

LISTING_MODULE = "listing"  # the module of a match holding untranslated listing text

_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_BUILTIN_ORDER = {"PREROUTING": 0, "INPUT": 1, "FORWARD": 2, "OUTPUT": 3, "POSTROUTING": 4}
_NAT_TARGETS = frozenset({"MASQUERADE", "SNAT", "DNAT", "REDIRECT", "NETMAP"})
_MANGLE_TARGETS = frozenset({"MARK", "CONNMARK", "TCPMSS", "CHECKSUM", "TOS", "TTL", "HL", "DSCP", "ECN",
                             "CLASSIFY", "TPROXY", "TCPOPTSTRIP"})
_RAW_TARGETS = frozenset({"CT", "NOTRACK"})
_VERDICTS = frozenset({"ACCEPT", "DROP", "RETURN", "QUEUE"})

# Protocol numbers as `-n` prints them, to the names iptables-save prints (/etc/protocols).
_PROTOCOLS = {"1": "icmp", "2": "igmp", "6": "tcp", "17": "udp", "33": "dccp", "41": "ipv6", "47": "gre",
              "50": "esp", "51": "ah", "58": "ipv6-icmp", "89": "ospf", "112": "vrrp", "132": "sctp",
              "136": "udplite"}
_ANY_PROTOCOL = frozenset({"all", "0"})
_ANY_ADDRESS = frozenset({"anywhere", "0.0.0.0/0", "::/0"})
_ANY_IFACE = frozenset({"*", "any"})
# The few names every system resolves the same way (/etc/hosts, /etc/networks).
_KNOWN_NAMES = {4: {"localhost": "127.0.0.1", "loopback": "127.0.0.0", "link-local": "169.254.0.0"},
                6: {"localhost": "::1", "ip6-localhost": "::1", "ip6-loopback": "::1"}}

_ICMP_NAMES = {
    "echo-reply": "0", "destination-unreachable": "3", "network-unreachable": "3/0", "host-unreachable": "3/1",
    "protocol-unreachable": "3/2", "port-unreachable": "3/3", "fragmentation-needed": "3/4",
    "source-route-failed": "3/5", "network-unknown": "3/6", "host-unknown": "3/7", "network-prohibited": "3/9",
    "host-prohibited": "3/10", "TOS-network-unreachable": "3/11", "TOS-host-unreachable": "3/12",
    "communication-prohibited": "3/13", "host-precedence-violation": "3/14", "precedence-cutoff": "3/15",
    "source-quench": "4", "redirect": "5", "network-redirect": "5/0", "host-redirect": "5/1",
    "TOS-network-redirect": "5/2", "TOS-host-redirect": "5/3", "echo-request": "8", "router-advertisement": "9",
    "router-solicitation": "10", "time-exceeded": "11", "ttl-zero-during-transit": "11/0",
    "ttl-zero-during-reassembly": "11/1", "parameter-problem": "12", "ip-header-bad": "12/0",
    "required-option-missing": "12/1", "timestamp-request": "13", "timestamp-reply": "14",
    "address-mask-request": "17", "address-mask-reply": "18", "any": "any",
}
_ICMPV6_NAMES = {
    "destination-unreachable": "1", "no-route": "1/0", "communication-prohibited": "1/1", "beyond-scope": "1/2",
    "address-unreachable": "1/3", "port-unreachable": "1/4", "failed-policy": "1/5", "reject-route": "1/6",
    "packet-too-big": "2", "time-exceeded": "3", "ttl-zero-during-transit": "3/0",
    "ttl-zero-during-reassembly": "3/1", "parameter-problem": "4", "bad-header": "4/0",
    "unknown-header-type": "4/1", "unknown-option": "4/2", "echo-request": "128", "echo-reply": "129",
    "router-solicitation": "133", "router-advertisement": "134", "neighbour-solicitation": "135",
    "neighbour-advertisement": "136", "redirect": "137",
}
_TCP_FLAGS = (("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10), ("URG", 0x20))
_LOG_LEVELS = {"emerg": 0, "panic": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warn": 4, "warning": 4,
               "notice": 5, "info": 6, "debug": 7}
_LOG_FLAGS = (("tcp-sequence", 0x01), ("tcp-options", 0x02), ("ip-options", 0x04), ("uid", 0x08),
              ("macdecode", 0x20))


# ---- lines -------------------------------------------------------------------------------

def _count(token: Token) -> int:
    text = str(token)
    digits, suffix = (text[:-1], text[-1]) if text[-1] in _SUFFIX else (text, "")
    if len(digits) > 30:
        raise LineError(f"counter {text[:20]}… is too large", token.column)
    return int(digits) * _SUFFIX[suffix]


@dataclass(slots=True)
class _Row:
    number: int | None
    counters: Counters | None
    rounded: bool
    target: str | None
    protocol: str
    opt: str | None
    iface_in: str | None
    iface_out: str | None
    source: str
    destination: str
    extras: str
    extras_column: int | None


class _Line(Transformer):
    """Each line becomes a tuple `(kind, …)` or a `_Row`; assembly is in Python."""

    def chain(self, c):
        return ("chain", str(c[0]), *c[1])

    def policy(self, c):
        counters = Counters(_count(c[1]), _count(c[2])) if len(c) == 3 else None
        rounded = len(c) == 3 and not (str(c[1]).isdigit() and str(c[2]).isdigit())
        return str(c[0]), counters, rounded

    def references(self, c):
        return None, None, False

    def columns(self, c):
        words = str(c[0]).split()
        return ("columns", ("num" in words, "pkts" in words))

    def message(self, c):
        return ("message", str(c[0]).strip())

    def target(self, c):
        return None if c[0].type == "NO_TARGET" else str(c[0])

    def _row(self, c):
        number = counters = None
        rounded = False
        items = list(c)
        if isinstance(items[0], Token) and items[0].type == "LINE_NUMBER":
            number = int(items.pop(0)) if len(items[0]) <= 9 else None
        if isinstance(items[0], Token) and items[0].type == "COUNT":
            counters = Counters(_count(items[0]), _count(items[1]))
            rounded = not (str(items[0]).isdigit() and str(items[1]).isdigit())
            items = items[2:]
        target, *tokens = items
        by_type: dict[str, list[Token]] = {}
        for token in tokens:
            by_type.setdefault(token.type, []).append(token)
        ifaces = by_type.get("IFACE", [None, None])
        source, destination = by_type["ADDRESS"]
        extras = by_type.get("EXTRAS", [None])[0]
        return _Row(number, counters, rounded, target, str(by_type["PROTOCOL"][0]),
                    str(by_type["OPT"][0]) if "OPT" in by_type else None,
                    str(ifaces[0]) if ifaces[0] is not None else None,
                    str(ifaces[1]) if ifaces[1] is not None else None,
                    str(source), str(destination), str(extras).rstrip() if extras is not None else "",
                    extras.column if extras is not None else None)

    row = row_v = row_num = row_num_v = _row

    def _start(self, c):
        return c[0]

    line = line_v = line_num = line_num_v = _start


_LAYOUTS = {(False, False): "line", (False, True): "line_v", (True, False): "line_num", (True, True): "line_num_v"}
_GRAMMARS = {layout: Grammar("iptables_list", start=start, transformer=_Line) for layout, start in _LAYOUTS.items()}


# ---- the free text after the columns ---------------------------------------------------------

