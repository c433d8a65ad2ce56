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
from ..model.firewall import (
    AddressMatch,
    Chain,
    Counters,
    FragmentMatch,
    InterfaceMatch,
    Match,
    ModuleMatch,
    Option,
    ProtocolMatch,
    Rule,
    Ruleset,
    Table,
    Target,
)
from .base import Context, Grammar, Line, LineError, describe
from .iptables_rule import network, port, typed_module, unquote
from .iptables_command import command_family, command_table
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
            token = items.pop(0)
            number = int(token) if len(token) <= 9 else None
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

@dataclass(slots=True)
class _Extras:
    """The text after the destination column, read back into iptables-save options. `modules`
    keeps the listing's order; untranslated text is a `listing` module holding the text."""

    modules: list[tuple[str, list[Option]]] = field(default_factory=list)
    target_options: list[Option] = field(default_factory=list)
    goto: bool = False
    notes: list[str] = field(default_factory=list)
    last: str | None = None  # the module of the phrase just read: conntrack and iprange span phrases

    def add(self, module: str, options: list[Option], merge: bool = False) -> None:
        if merge and self.last == module:
            self.modules[-1][1].extend(options)
        else:
            self.modules.append((module, options))
        self.last = module


def _neg(text: str | None) -> bool:
    return bool(text and text.strip())


def _ports_text(text: str, proto: str) -> str:
    """`ssh`, `1000:cisco-sccp`, `domain,bootps:bootpc` as iptables-save prints them: numbers."""
    return ",".join(":".join(str(port(p, proto)) if p else p for p in part.split(":")) for part in text.split(","))


def _flags(text: str) -> str:
    """`0x17` (with -n) or `FIN,SYN,RST,ACK` as iptables-save names TCP flags."""
    if not text[:1].isdigit():
        return text
    value = int(text, 0)
    return ",".join(name for name, bit in _TCP_FLAGS if value & bit) or "NONE"


def _xmark(op: str, text: str) -> str:
    """`MARK set 0x1`, `and 0xf0`, `or 0x4`, `xor 0x8`, `xset V/M` as `--set-xmark VALUE/MASK`."""
    value_text, _, mask_text = text.partition("/")
    value = int(value_text, 0) & 0xFFFFFFFF
    if op == "xset":
        mask = int(mask_text, 0) & 0xFFFFFFFF if mask_text else 0xFFFFFFFF
    elif op == "set":
        mask = 0xFFFFFFFF
    elif op == "and":
        value, mask = 0, ~value & 0xFFFFFFFF
    elif op == "or":
        mask = value
    else:  # xor
        mask = 0
    return f"0x{value:x}/0x{mask:x}"


def _icmp_type(m: re.Match, table: dict[str, str]) -> str:
    groups = m.groupdict()
    name = groups.get("name")
    if name is not None:
        if name not in table:
            raise ValueError(f"unknown ICMP type name {name!r}")
        return table[name]
    code = groups.get("code")
    if groups["type"] == "255" and code is None:
        return "any"
    return f"{groups['type']}/{code}" if code is not None else groups["type"]


Handler = Callable[[re.Match, _Extras, str], None]


def _comment(m, out, proto):
    out.add("comment", [Option("--comment", (m.group(1),))])


def _conntrack(m, out, proto):
    negated = _neg(m.group(1)) or _neg(m.group(3))
    out.add("conntrack", [Option(f"--ct{m.group(2)}", (m.group(4),), negated)], merge=True)


def _state(m, out, proto):
    out.add("state", [Option("--state", (m.group(3),), _neg(m.group(1)) or _neg(m.group(2)))])


_PORT_ITEM = re.compile(r"(spts?|dpts?):(!?)(\S+)|flags:(!?)([^/\s]+)/(\S+)|option=(!?)(\d+)")


def _ports(m, out, proto):
    module = m.group(1)
    names = module if module in ("tcp", "udp") else "tcp"
    options = []
    for item in _PORT_ITEM.finditer(m.group(2)):
        if item.group(1):
            name = "--sport" if item.group(1)[0] == "s" else "--dport"
            options.append(Option(name, (_ports_text(item.group(3), names),), item.group(2) == "!"))
        elif item.group(5):
            options.append(Option("--tcp-flags", (_flags(item.group(5)), _flags(item.group(6))),
                                  item.group(4) == "!"))
        else:
            options.append(Option("--tcp-option", (item.group(8),), item.group(7) == "!"))
    out.add(module, options)


def _multiport(m, out, proto):
    names = proto if proto in ("tcp", "udp") else "tcp"
    out.add("multiport", [Option(f"--{m.group(1)}", (_ports_text(m.group(3), names),), _neg(m.group(2)))])


def _icmp(m, out, proto):
    negated = m.group("neg") == "!"
    if m.group("module") == "ipv6-icmp":
        out.add("icmp6", [Option("--icmpv6-type", (_icmp_type(m, _ICMPV6_NAMES),), negated)])
    else:
        out.add("icmp", [Option("--icmp-type", (_icmp_type(m, _ICMP_NAMES),), negated)])


def _mark(m, out, proto):
    out.add("connmark" if m.group(1) == "connmark" else "mark", [Option("--mark", (m.group(3),), _neg(m.group(2)))])


_ADDRTYPE_ITEM = re.compile(r"(src-type|dst-type) (!?)(\S+)|limit-(in|out)")


def _addrtype(m, out, proto):
    options = []
    for item in _ADDRTYPE_ITEM.finditer(m.group(1)):
        if item.group(1):
            options.append(Option(f"--{item.group(1)}", (item.group(3),), item.group(2) == "!"))
        else:
            options.append(Option(f"--limit-iface-{item.group(4)}"))
    out.add("addrtype", options)


_PHYSDEV_ITEM = re.compile(r"(! +)?(--physdev-(?:in|out)) +(\S+)|(! +)?(--physdev-is-(?:in|out|bridged))")


def _physdev(m, out, proto):
    options = []
    for item in _PHYSDEV_ITEM.finditer(m.group(1)):
        if item.group(2):
            options.append(Option(item.group(2), (item.group(3),), _neg(item.group(1))))
        else:
            options.append(Option(item.group(5), (), _neg(item.group(4))))
    out.add("physdev", options)


def _set(m, out, proto):
    out.add("set", [Option("--match-set", (m.group(2), m.group(3)), _neg(m.group(1)))])


def _iprange(m, out, proto):
    name = "--src-range" if m.group(1) == "source" else "--dst-range"
    out.add("iprange", [Option(name, (m.group(3),), _neg(m.group(2)))], merge=True)


def _limit(m, out, proto):
    options = [Option("--limit", (m.group(1),))]
    if m.group(2) != "5":  # iptables-save leaves out the default burst
        options.append(Option("--limit-burst", (m.group(2),)))
    out.add("limit", options)


def _mac(m, out, proto):
    out.add("mac", [Option("--mac-source", (m.group(2),), _neg(m.group(1)))])


def _pkttype(m, out, proto):
    out.add("pkttype", [Option("--pkt-type", (m.group(2),), m.group(1) == "!")])


def _length(m, out, proto):
    out.add("length", [Option("--length", (m.group(2),), m.group(1) == "!")])


def _goto(m, out, proto):
    out.goto = True
    out.last = None


_END = r"(?=\s|$)"
_CONNTRACK = (r"(! +)?ct(state|status|proto|origsrc|origdst|replsrc|repldst|origsrcport|origdstport|replsrcport"
              r"|repldstport|expire|dir) +(!)?(\S+)")
_ICMP_HEAD = r"(?P<module>icmp|ipv6-icmp)"
_ICMP_NUMBER = r"(?P<type>\d+)(?: code (?P<code>\d+))?" + _END

# What match modules print in a listing (libxt_*'s print functions), tried at each word.
_MATCH_PHRASES: list[tuple[re.Pattern, Handler]] = [(re.compile(p), h) for p, h in (
    (r"\[goto\]", _goto),
    (r"/\* (.{0,256}?) \*/" + _END, _comment),  # comments are at most 256 characters
    (_CONNTRACK, _conntrack),
    (r"(! +)?state +(!)?(\S+)", _state),
    (r"(tcp|udp|udplite|sctp|dccp)((?: +(?:(?:spts?|dpts?):!?\S+|flags:!?\S+|option=!?\d+))*)" + _END, _ports),
    (r"multiport +(sports|dports|ports) +(! *)?(\S+)", _multiport),
    # `icmptype 3 code 3` / `icmp !type 0` (with -n), `icmp echo-request` / `icmp !echo-reply`.
    (_ICMP_HEAD + r"(?P<neg>)type " + _ICMP_NUMBER, _icmp),
    (_ICMP_HEAD + r" +(?P<neg>!)type " + _ICMP_NUMBER, _icmp),
    (_ICMP_HEAD + r" +(?P<neg>!?)(?P<name>[A-Za-z][\w-]*)" + _END, _icmp),
    (r"(mark|MARK|connmark) match +(! *)?(\S+)", _mark),
    (r"ADDRTYPE match((?: +(?:(?:src-type|dst-type) !?\S+|limit-(?:in|out)))+)", _addrtype),
    (r"PHYSDEV match((?: +(?:! +)?(?:--physdev-(?:in|out) +[^\s!-]\S*|--physdev-is-(?:in|out|bridged)))+)",
     _physdev),
    (r"(! +)?match-set +(\S+) +(\S+)", _set),
    (r"(source|destination) IP range +(! *)?(\S+)", _iprange),
    (r"limit: avg +(\S+) +burst +(\d+)", _limit),
    (r"MAC +(! *)?([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})" + _END, _mac),
    (r"PKTTYPE +(!?)= +(\S+)", _pkttype),
    (r"length +(!?)(\d+(?::\d+)?)" + _END, _length),
)]


def _log(m: re.Match, target: str) -> list[Option]:
    flags = int(m.group(1)) if m.group(1) else sum(bit for name, bit in _LOG_FLAGS if name in m.group(3).split())
    level_text = m.group(2)
    if level_text.isdigit():
        level = int(level_text)
    elif level_text in _LOG_LEVELS:
        level = _LOG_LEVELS[level_text]
    else:
        raise ValueError(f"unknown log level {level_text!r}")
    options = [Option("--log-prefix", (m.group(4),))] if m.group(4) is not None else []
    if level != 4:  # iptables-save leaves out the default level
        options.append(Option("--log-level", (str(level),)))
    options.extend(Option(f"--log-{name}") for name, bit in _LOG_FLAGS if flags & bit)
    return options


def _nat_to(m: re.Match, target: str) -> list[Option]:
    name = {"SNAT": "--to-source", "DNAT": "--to-destination"}.get(target, "--to")
    return [Option(name, (m.group(1),))]


def _flag(name: str):
    return lambda m, target: [Option(name)]


def _arg(name: str):
    return lambda m, target: [Option(name, (m.group(1),))]


def _conn_save(m: re.Match, target: str) -> list[Option]:
    return [Option(f"--{m.group(1)}-mark"), Option("--nfmask", ("0xffffffff",)), Option("--ctmask", ("0xffffffff",))]


# `LOG flags 0 level 4 prefix "x"` (-n) or `LOG level warn tcp-sequence prefix "x"`; last on the line.
_LOG = (r'LOG(?: flags (\d+))? level (\S+)((?: (?:tcp-sequence|tcp-options|ip-options|uid|macdecode))*)'
        r'(?: prefix "(.{0,64})")?\s*$')
_RANDOM = [(r"random-fully" + _END, _flag("--random-fully")), (r"random" + _END, _flag("--random")),
           (r"persistent" + _END, _flag("--persistent"))]
_XMARK = (r"(?:MARK|CONNMARK) +(set|xset|and|or|xor) +(\S+)",
          lambda m, target: [Option("--set-xmark", (_xmark(m.group(1), m.group(2)),))])

# What target extensions print (libxt_*'s print functions), by target.
_TARGET_PHRASES: dict[str, list[tuple[re.Pattern, Callable[[re.Match, str], list[Option]]]]] = {
    target: [(re.compile(p), build) for p, build in phrases] for target, phrases in {
        "REJECT": [(r"reject-with +(\S+)", _arg("--reject-with"))],
        "MASQUERADE": [(r"masq ports: +(\S+)", _arg("--to-ports")), *_RANDOM],
        "SNAT": [(r"to:(\S+)", _nat_to), *_RANDOM],
        "DNAT": [(r"to:(\S+)", _nat_to), *_RANDOM],
        "NETMAP": [(r"to:(\S+)", _nat_to)],
        "REDIRECT": [(r"redir ports +(\S+)", _arg("--to-ports")), *_RANDOM],
        "MARK": [_XMARK],
        "CONNMARK": [_XMARK, (r"CONNMARK (save|restore)" + _END, _conn_save)],
        "LOG": [(_LOG, _log)],
        "CHECKSUM": [(r"CHECKSUM fill" + _END, _flag("--checksum-fill"))],
        "TCPMSS": [(r"TCPMSS clamp to PMTU" + _END, _flag("--clamp-mss-to-pmtu")),
                   (r"TCPMSS set (\d+)" + _END, _arg("--set-mss"))],
        "CT": [(r"CT notrack" + _END, _flag("--notrack")), (r"CT helper (\S+)", _arg("--helper"))],
        "NFLOG": [(r'nflog-(prefix|group|range|size|threshold) +("(?:[^"\\]|\\.)*"|\S+)',
                   lambda m, target: [Option(f"--nflog-{m.group(1)}", (unquote(m.group(2)),))])],
        "TOS": [(r"TOS set (\S+)", _arg("--set-tos"))],
        "DSCP": [(r"DSCP set (\S+)", _arg("--set-dscp"))],
        "TTL": [(r"TTL set to (\d+)" + _END, _arg("--ttl-set"))],
    }.items()
}
_WORD = re.compile(r"\S+")


def read_extras(text: str, target: str | None, proto: str) -> _Extras:
    """The options a listing's free text stands for. Each word starts a known phrase (a match
    module's or the target's print) or joins the untranslated text around it."""
    out = _Extras()
    target_phrases = _TARGET_PHRASES.get(target or "", [])
    pos, end = 0, len(text)
    unknown: list[int] = []  # start and end of the untranslated run

    def flush(at: int) -> None:
        if unknown:
            span = text[unknown[0]:unknown[1]]
            out.modules.insert(at, (LISTING_MODULE, [Option("--text", (span,))]))
            out.notes.append(f"not translated from the listing, kept as text (evaluated as maybe): {span!r}")
            unknown.clear()

    while pos < end:
        if text[pos].isspace():
            pos += 1
            continue
        before = len(out.modules)
        consumed = _target_phrase(text, pos, target_phrases, target, out) or _match_phrase(text, pos, proto, out)
        if consumed and consumed[1]:
            flush(before)
            pos = consumed[0]
            continue
        # Not a phrase, or a phrase whose values do not read back: part of the untranslated run.
        stop = consumed[0] if consumed else _WORD.match(text, pos).end()
        unknown[:] = [unknown[0] if unknown else pos, stop]
        out.last = None
        pos = stop
    flush(len(out.modules))
    return out


def _target_phrase(text, pos, phrases, target, out) -> tuple[int, bool] | None:
    for pattern, build in phrases:
        m = pattern.match(text, pos)
        if m is None:
            continue
        try:
            out.target_options.extend(build(m, target))
        except (ValueError, IndexError) as error:
            out.notes.append(f"{m.group(0)!r}: {error}")
            return m.end(), False
        out.last = None
        return m.end(), True
    return None


def _match_phrase(text, pos, proto, out) -> tuple[int, bool] | None:
    for pattern, handle in _MATCH_PHRASES:
        m = pattern.match(text, pos)
        if m is None:
            continue
        try:
            handle(m, out, proto)
        except ValueError as error:
            out.notes.append(f"{m.group(0)!r}: {error}")
            return m.end(), False
        return m.end(), True
    return None


# ---- the columns -------------------------------------------------------------------------

def _negation(text: str) -> tuple[bool, str]:
    return (True, text[1:]) if text.startswith("!") and len(text) > 1 else (False, text)


def _opaque(text: str) -> ModuleMatch:
    return ModuleMatch(LISTING_MODULE, [Option("--text", (text,))])


def _address(text: str, direction: str, family: int | None, notes: list[str]) -> Match | None:
    negated, body = _negation(text)
    if body in _ANY_ADDRESS and not negated:
        return None
    flag = "-s" if direction == "source" else "-d"
    try:
        return AddressMatch(direction, network(body), negated)
    except ValueError:
        pass
    name, slash, mask = body.partition("/")
    for fam in (family or 4, 6 if family != 6 else 4):
        known = _KNOWN_NAMES[fam].get(name)
        if known is not None:
            try:
                match = AddressMatch(direction, network(known + slash + mask), negated)
            except ValueError:
                break
            notes.append(f"{flag} {body} read as {match.network} (the name every system gives it)")
            return match
    notes.append(f"{flag} {body}: a name or mask that does not map back to a network (listing without -n?); "
                 "kept as text")
    return _opaque(f"{'! ' if negated else ''}{flag} {body}")


def _interface(text: str | None, direction: str) -> InterfaceMatch | None:
    if text is None or text in _ANY_IFACE:
        return None
    negated, name = _negation(text)
    return InterfaceMatch(direction, name, negated)


def _protocol(text: str) -> ProtocolMatch | None:
    negated, body = _negation(text)
    if body.lower() in _ANY_PROTOCOL and not negated:
        return None
    return ProtocolMatch(_PROTOCOLS.get(body, body.lower()), negated)


def _family(text: str) -> int | None:
    body = _negation(text)[1]
    if body == "anywhere":
        return None
    try:
        return network(body).version
    except ValueError:
        return None


# ---- assembly ----------------------------------------------------------------------------

@dataclass(slots=True)
class _Listing:
    """The chains of one `iptables [-t T] -L` run; its table is inferred when it ends."""

    first_line: int
    chains: list[Chain] = field(default_factory=list)
    layout: tuple[bool, bool] | None = None
    last_builtin: int = -1
    has_user_chain: bool = False
    rounded_line: int | None = None

    def admit(self, name: str, builtin: bool) -> bool:
        """Whether chain `name` can belong to this listing (iptables lists built-in chains in
        hook order, then user chains, each once)."""
        if any(c.name == name for c in self.chains):
            return False
        return not builtin or (not self.has_user_chain and _BUILTIN_ORDER.get(name, 5) > self.last_builtin)

    def add(self, chain: Chain) -> None:
        self.chains.append(chain)
        if chain.policy is not None:
            self.last_builtin = _BUILTIN_ORDER.get(chain.name, 5)
        else:
            self.has_user_chain = True


def infer_table(builtins: set[str], targets: set[str]) -> tuple[str, str]:
    """The table of a listing, and why: from its built-in chains, then its targets."""
    chains = ", ".join(sorted(builtins, key=lambda n: _BUILTIN_ORDER.get(n, 5))) or "no built-in chain"
    nat, mangle, raw = targets & _NAT_TARGETS, targets & _MANGLE_TARGETS, targets & _RAW_TARGETS
    if "FORWARD" in builtins and builtins & {"PREROUTING", "POSTROUTING"}:
        return "mangle", f"chains {chains}"
    if "POSTROUTING" in builtins or {"PREROUTING", "INPUT"} <= builtins:
        if mangle and not nat:
            return "mangle", f"chains {chains} and target {min(mangle)}"
        return "nat", f"chains {chains}"
    for name, hits in (("nat", nat), ("raw", raw), ("mangle", mangle)):
        if hits:
            return name, f"chains {chains} and target {min(hits)}"
    if builtins == {"PREROUTING", "OUTPUT"}:
        return "raw", f"chains {chains}"
    if "PREROUTING" in builtins:
        return "nat", f"chains {chains} (raw and mangle have PREROUTING too)"
    return "filter", f"chains {chains}"


class _Builder:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.ruleset = Ruleset()
        self.listings: list[_Listing] = []
        self.chain: Chain | None = None
        self.layout: tuple[bool, bool] | None = None
        self.goto_seen = False
        self.first_jump: int | None = None  # line of the first jump to a user chain

    def warn(self, line: int, message: str, text: str = "") -> None:
        self.ctx.diagnostics.append(Diagnostic(self.ctx.origin(line), message, text, Severity.WARNING))

    def on_chain(self, line: Line, name: str, policy: str | None, counters: Counters | None, rounded: bool) -> None:
        listing = self.listings[-1] if self.listings else None
        if listing is None or not listing.admit(name, policy is not None):
            listing = _Listing(line.number)
            self.listings.append(listing)
        self.chain = Chain(name, "", self.ctx.origin(line.number), policy, counters)
        listing.add(self.chain)
        if rounded and listing.rounded_line is None:
            listing.rounded_line = line.number

    def on_columns(self, line: Line, layout: tuple[bool, bool]) -> None:
        self.layout = layout
        if not self.listings:
            return
        listing = self.listings[-1]
        if listing.layout is not None and listing.layout != layout and len(listing.chains) > 1 \
                and listing.chains[-1] is self.chain and not self.chain.rules:
            # Another command's output (other columns) starts with the chain just read.
            listing.chains.pop()
            listing.last_builtin = max((_BUILTIN_ORDER.get(c.name, 5) for c in listing.chains
                                        if c.policy is not None), default=-1)
            listing.has_user_chain = any(c.policy is None for c in listing.chains)
            listing = _Listing(self.chain.origin.line)
            listing.add(self.chain)
            self.listings.append(listing)
        listing.layout = layout

    def on_row(self, line: Line, row: _Row) -> bool:
        chain = self.chain
        if chain is None:
            self.ctx.report(line, "a rule row before any `Chain` line: its chain is unknown", 1)
            return False
        notes: list[str] = []
        family = self.ruleset.family
        if family is None:
            family = self.ruleset.family = _family(row.source) or _family(row.destination)
        matches: list[Match] = [m for m in (
            _address(row.source, "source", family, notes), _address(row.destination, "destination", family, notes),
            _interface(row.iface_in, "in"), _interface(row.iface_out, "out"), _protocol(row.protocol),
            FragmentMatch(row.opt == "!f") if row.opt in ("-f", "!f") else None) if m is not None]
        proto = _protocol(row.protocol)
        extras = read_extras(row.extras, row.target, proto.protocol if proto else "")
        notes.extend(extras.notes)
        for module, options in extras.modules:
            try:
                matches.append(typed_module(module, options))
            except ValueError as error:
                matches.append(ModuleMatch(module, options))
                notes.append(f"-m {module}: {error}")
        target = None
        if row.target is not None:
            target = Target(row.target, extras.target_options, goto=extras.goto)
            self.goto_seen = self.goto_seen or extras.goto
            if self.first_jump is None and row.target not in TARGET_EXTENSIONS and row.target not in _VERDICTS:
                self.first_jump = line.number
        index = len(chain.rules) + 1
        if row.number is not None and row.number != index:
            self.warn(line.number, f"rule number {row.number}, but it is rule {index} of chain {chain.name} here "
                                   "(rows missing from the listing?)", line.text)
            index = row.number
        chain.rules.append(Rule("", chain.name, index, self.ctx.origin(line.number), matches, target, row.counters))
        listing = self.listings[-1]
        if row.rounded and listing.rounded_line is None:
            listing.rounded_line = line.number
        for note in notes:
            self.ctx.note(line.number, note, line.text)
        return True

    def on_message(self, line: Line, text: str) -> None:
        message = text.removeprefix("# Warning:").strip()
        self.ruleset.warnings.append(message)
        self.ctx.note(line.number, f"iptables says: {message}", line.text)
        if "iptables-legacy tables present" in message:
            self.ruleset.backend = "nf_tables"  # only iptables-nft prints this warning

    def finish(self) -> None:
        if self.listings:
            self.ctx.note(self.listings[0].first_line,
                          "a listing shows a rule's options in iptables' own order (addresses, interfaces, "
                          "protocol, then match modules), not as they were written")
        if self.first_jump is not None and not self.goto_seen:
            self.ctx.note(self.first_jump, "jumps to user chains are read as -j: this listing marks no rule "
                                           "[goto], as iptables does for -g")
        for listing in self.listings:
            self.finish_listing(listing)
        if command_family(self.ctx.source.command) is not None:
            self.ruleset.family = command_family(self.ctx.source.command)
        if self.ruleset.family is None and any(
                isinstance(m, ProtocolMatch) and m.protocol == "ipv6-icmp" for r in self.ruleset.rules()
                for m in r.matches):
            self.ruleset.family = 6

    def finish_listing(self, listing: _Listing) -> None:
        builtins = {c.name for c in listing.chains if c.policy is not None}
        targets = {r.target.name for c in listing.chains for r in c.rules if r.target is not None}
        line = listing.first_line
        named = command_table(self.ctx.source.command)
        if named is not None:
            name = named
            self.ctx.note(line, f"table {name}, as the command that printed the listing says "
                                f"({self.ctx.source.command})")
        else:
            name, why = infer_table(builtins, targets)
            self.ctx.note(line, f"an iptables -L listing names no table: {name} inferred from {why}")
        if listing.layout is not None and not listing.layout[1]:
            self.ctx.note(line, "listing without -v: interface matches (-i/-o) and counters are not shown, "
                                "so its rules may apply to fewer packets than they seem to")
        if listing.rounded_line is not None:
            self.ctx.note(listing.rounded_line, "counters are rounded to K/M/G/T (listing without -x)")
        table = self.ruleset.tables.get(name)
        if table is None:
            table = self.ruleset.tables[name] = Table(name, self.ctx.origin(line))
        for chain in listing.chains:
            if chain.name in table.chains:
                self.warn(chain.origin.line, f"chain {chain.name} of table {name} is listed again; "
                                             "the first listing is kept")
                continue
            chain.table = name
            for rule in chain.rules:
                rule.table = name
            table.chains[chain.name] = chain


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    builder = _Builder(ctx)
    for line in ctx.lines():
        if not line.text.strip():
            continue
        layouts = [builder.layout] if builder.layout is not None else list(_GRAMMARS)
        fact = error = None
        for layout in layouts:
            try:
                fact = _GRAMMARS[layout].parse(line.text)
                break
            except (LarkError, ValueError) as caught:
                error = error or caught
        if fact is None:
            message, column = describe(error)
            ctx.report(line, message, column)
            continue
        if isinstance(fact, _Row):
            if builder.on_row(line, fact):
                ctx.ok()
            continue
        ctx.ok()
        if fact[0] == "chain":
            builder.on_chain(line, *fact[1:])
        elif fact[0] == "columns":
            builder.on_columns(line, fact[1])
        else:
            builder.on_message(line, fact[1])
    builder.finish()
    return ctx.result(builder.ruleset)
