"""The options of one iptables rule (`-s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT`) into
typed matches and a target.

The file structure of `iptables-save` is Lark's job (`grammars/iptables_save.lark`); a rule's
options are split here by one regular expression, because a Lark parse per option costs
seconds on a 100k-rule host and the option syntax is flat: `[!] -x ARG`, `-m MODULE` then
`[!] --option ARG…`, `-j|-g TARGET` then its options. Quoted arguments (`--comment "a b"`,
`--log-prefix "\\"x"`) are one token.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import ip_address, ip_network

from ..model.firewall import (AddressMatch, AddrTypeMatch, CommentMatch, Counters, FragmentMatch, IcmpMatch,
                              InterfaceMatch, IpRangeMatch, MarkMatch, Match, ModuleMatch, Option, PhysdevMatch,
                              PortMatch, PortRange, PortSet, ProtocolMatch, StateMatch, Target)

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s"]+|"[^\n]*')
_UNESCAPE = re.compile(r"\\(.)")

# Options that iptables accepts in a long and a short spelling; the model keeps the short one.
_ALIASES = {
    "--source": "-s", "--src": "-s", "--destination": "-d", "--dst": "-d",
    "--in-interface": "-i", "--out-interface": "-o", "--protocol": "-p", "--fragment": "-f",
    "--match": "-m", "--jump": "-j", "--goto": "-g", "--set-counters": "-c",
    "--destination-port": "--dport", "--source-port": "--sport",
    "--destination-ports": "--dports", "--source-ports": "--sports",
}
# Options that `-p PROTO` loads without `-m` (libvirt's commands and hand-written fragments).
_IMPLICIT = {"--dport", "--sport", "--tcp-flags", "--syn", "--tcp-option", "--icmp-type", "--icmpv6-type"}
_IMPLICIT_MODULE = {"icmpv6": "icmp6", "ipv6-icmp": "icmp6", "58": "icmp6", "6": "tcp", "17": "udp", "1": "icmp"}


@dataclass(slots=True)
class RuleProblem:
    message: str
    offset: int  # 0-based offset in the rule text


@dataclass(slots=True)
class ParsedRule:
    matches: list[Match] = field(default_factory=list)
    target: Target | None = None
    counters: Counters | None = None
    problems: list[RuleProblem] = field(default_factory=list)


def _is_option(token: str) -> bool:
    """`-x`/`--xyz` starts an option; `-1` or `-` (an argument) does not."""
    return len(token) > 1 and token[0] == "-" and not token[1].isdigit()


@lru_cache(maxsize=65536)
def network(text: str):
    """`10.0.0.0/8`, `10.1.2.3` (a host), `10.0.0.0/255.0.0.0` — strictness as iptables: host
    bits are cleared."""
    return ip_network(text, strict=False)


def address_match(direction: str, text: str, negated: bool) -> AddressMatch:
    """`10.0.0.0/8`, a host, a dotted prefix mask, or a mask that is no prefix at all
    (`10.0.0.0/255.0.255.0`, which iptables keeps as it is)."""
    try:
        return AddressMatch(direction, network(text), negated)
    except ValueError:
        address, _, mask = text.partition("/")
        if not mask or "." not in mask and ":" not in mask:
            raise
        host = ip_address(address)
        return AddressMatch(direction, ip_network(host), negated, ip_address(mask))


@lru_cache(maxsize=4096)
def port(text: str, proto: str) -> int:
    """A port number, or a service name as /etc/services knows it for `proto`."""
    if text.isdigit():
        value = int(text)
        if value > 65535:
            raise ValueError(f"port {text} is out of range")
        return value
    try:
        return socket.getservbyname(text, proto if proto in ("tcp", "udp") else "tcp")
    except OSError:
        raise ValueError(f"unknown service name {text!r}") from None


def port_set(text: str, proto: str = "tcp") -> PortSet:
    """`22`, `1024:65535`, `:1023`, `1024:`, `80,443,5000:6000` (also `-` ranges as listings print)."""
    ranges = []
    for part in text.split(","):
        sep = ":" if ":" in part else ("-" if "-" in part[1:] else None)
        if sep is None:
            value = port(part, proto)
            ranges.append(PortRange(value, value))
            continue
        first, last = part.split(sep, 1)
        lo = port(first, proto) if first else 0
        hi = port(last, proto) if last else 65535
        if lo > hi:
            lo, hi = hi, lo  # iptables swaps an inverted range itself
        ranges.append(PortRange(lo, hi))
    return PortSet(tuple(ranges))


def mark_value(text: str) -> tuple[int, int]:
    value, _, mask = text.partition("/")
    return int(value, 0), int(mask, 0) if mask else 0xFFFFFFFF


def _words(args: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for arg in args for w in arg.split(",") if w)


# ---- typed modules -----------------------------------------------------------------------
# Each typer reads the options it understands into typed fields and names the rest in
# `unknown_options`; a ValueError is a bad argument, reported for the rule.

def _ports(m: ModuleMatch) -> PortMatch:
    typed = PortMatch(m.module, m.options)
    proto = m.module if m.module in ("tcp", "udp") else "tcp"
    for o in m.options:
        arg = o.args[0] if o.args else ""
        if o.name in ("--dport", "--dports"):
            typed.dports, typed.dports_negated = port_set(arg, proto), o.negated
        elif o.name in ("--sport", "--sports"):
            typed.sports, typed.sports_negated = port_set(arg, proto), o.negated
        elif o.name == "--ports":
            typed.any_ports, typed.any_ports_negated = port_set(arg, proto), o.negated
        elif o.name == "--tcp-flags" and len(o.args) == 2:
            typed.tcp_flags, typed.tcp_flags_negated = (_words(o.args[:1]), _words(o.args[1:])), o.negated
        elif o.name == "--syn":
            typed.tcp_flags = (frozenset({"FIN", "SYN", "RST", "ACK"}), frozenset({"SYN"}))
            typed.tcp_flags_negated = o.negated
        else:
            typed.unknown_options.append(o.name)
    return typed


def _state(m: ModuleMatch) -> StateMatch:
    typed = StateMatch(m.module, m.options)
    for o in m.options:
        if o.name in ("--ctstate", "--state"):
            typed.states, typed.states_negated = _words(o.args), o.negated
        elif o.name == "--ctstatus":
            typed.statuses, typed.statuses_negated = _words(o.args), o.negated
        else:
            typed.unknown_options.append(o.name)
    return typed


def _icmp(m: ModuleMatch) -> IcmpMatch:
    typed = IcmpMatch(m.module, m.options)
    for o in m.options:
        if o.name in ("--icmp-type", "--icmpv6-type") and o.args:
            typed.icmp_type, typed.negated = o.args[0], o.negated
        else:
            typed.unknown_options.append(o.name)
    return typed


def _comment(m: ModuleMatch) -> CommentMatch:
    typed = CommentMatch(m.module, m.options)
    for o in m.options:
        if o.name == "--comment" and o.args:
            typed.comment = o.args[0]
        else:
            typed.unknown_options.append(o.name)
    return typed


def _mark(m: ModuleMatch) -> MarkMatch:
    typed = MarkMatch(m.module, m.options)
    for o in m.options:
        if o.name == "--mark" and o.args:
            (typed.value, typed.mask), typed.negated = mark_value(o.args[0]), o.negated
        else:
            typed.unknown_options.append(o.name)
    return typed


def _addrtype(m: ModuleMatch) -> AddrTypeMatch:
    typed = AddrTypeMatch(m.module, m.options)
    for o in m.options:
        if o.name == "--src-type":
            typed.src_types, typed.src_negated = _words(o.args), o.negated
        elif o.name == "--dst-type":
            typed.dst_types, typed.dst_negated = _words(o.args), o.negated
        elif o.name == "--limit-iface-in":
            typed.limit_iface_in = True
        elif o.name == "--limit-iface-out":
            typed.limit_iface_out = True
        else:
            typed.unknown_options.append(o.name)
    return typed


def _physdev(m: ModuleMatch) -> PhysdevMatch:
    typed = PhysdevMatch(m.module, m.options)
    for o in m.options:
        if o.name == "--physdev-in" and o.args:
            typed.physdev_in = InterfaceMatch("in", o.args[0], o.negated)
        elif o.name == "--physdev-out" and o.args:
            typed.physdev_out = InterfaceMatch("out", o.args[0], o.negated)
        elif o.name == "--physdev-is-in":
            typed.is_in = not o.negated
        elif o.name == "--physdev-is-out":
            typed.is_out = not o.negated
        elif o.name == "--physdev-is-bridged":
            typed.is_bridged = not o.negated
        else:
            typed.unknown_options.append(o.name)
    return typed


def _address_range(text: str):
    first, _, last = text.partition("-")
    return ip_address(first), ip_address(last or first)


def _iprange(m: ModuleMatch) -> IpRangeMatch:
    typed = IpRangeMatch(m.module, m.options)
    for o in m.options:
        if o.name == "--src-range" and o.args:
            typed.src_range, typed.src_negated = _address_range(o.args[0]), o.negated
        elif o.name == "--dst-range" and o.args:
            typed.dst_range, typed.dst_negated = _address_range(o.args[0]), o.negated
        else:
            typed.unknown_options.append(o.name)
    return typed


TYPERS: dict[str, Callable[[ModuleMatch], ModuleMatch]] = {
    "tcp": _ports, "udp": _ports, "sctp": _ports, "udplite": _ports, "dccp": _ports, "multiport": _ports,
    "conntrack": _state, "state": _state,
    "icmp": _icmp, "icmp6": _icmp,
    "comment": _comment,
    "mark": _mark, "connmark": _mark,
    "addrtype": _addrtype,
    "physdev": _physdev,
    "iprange": _iprange,
}


def typed_module(module: str, options: list[Option]) -> ModuleMatch:
    """The typed match for `-m module options…` (a plain ModuleMatch for modules not interpreted)."""
    plain = ModuleMatch(module, options)
    typer = TYPERS.get(module)
    return typer(plain) if typer else plain


# ---- one rule ----------------------------------------------------------------------------
# A rule's tokens fall into segments, each one match, the target or the counters:
# `! -s 10.0.0.0/8` | `-p tcp` | `-m tcp ! --dport 22` | `-j REJECT --reject-with tcp-reset`.
# A segment's facts depend on its tokens alone, so each distinct segment is built once and
# its facts shared by every rule that has it (big rulesets repeat most segments): facts in
# a Ruleset are values, never to be changed in place.

_MAIN = {"-s", "-d", "-i", "-o", "-p", "-f", "-m", "-j", "-g", "-c"}
_MATCH, _TARGET, _COUNTERS = 0, 1, 2
_Built = tuple[int, Match | Target | Counters | None, str | None]  # slot, facts, problem
_CACHE_LIMIT = 1 << 18
_cache: dict[tuple[str, ...], _Built] = {}


def unquote(token: str) -> str:
    if token[:1] != '"':
        return token
    inner = token[1:-1] if len(token) > 1 and token.endswith('"') else token[1:]
    return _UNESCAPE.sub(r"\1", inner)


def tokenize(text: str) -> list[str]:
    """The tokens of a rule; a quoted token is unquoted and unescaped."""
    return [unquote(t) for t in _TOKEN.findall(text)]


def _segments(tokens: list[str]) -> list[tuple[int, tuple[str, ...]]]:
    """Split tokens (quoted ones still quoted) into segments: `(index of the first token,
    tokens)`. An option that `-p` loads by itself (`-p tcp --dport 22`) gets the module it
    implies (`-m tcp --dport 22`)."""
    out: list[tuple[int, list[str]]] = []
    current: list[str] | None = None  # the open segment: it takes arguments
    flag = ""  # its option: --options belong to it when it is -m, -j or -g
    protocol = ""
    pending = -1  # index of a `!` waiting for its option
    for i, token in enumerate(tokens):
        if token == "!":
            pending = i
            continue
        name = _ALIASES.get(token, token)
        negation = ["!"] if pending >= 0 else []
        first = pending if pending >= 0 else i
        pending = -1
        if name in _MAIN:
            current, flag = [*negation, name], name
            out.append((first, current))
            if name == "-p" and i + 1 < len(tokens) and not _is_option(tokens[i + 1]):
                protocol = unquote(tokens[i + 1]).lower()
            continue
        if name[:2] == "--" and len(name) > 2:
            if flag not in ("-m", "-j", "-g"):
                implicit = name in _IMPLICIT and protocol
                current = ["-m", _IMPLICIT_MODULE.get(protocol, protocol)] if implicit else []
                flag = "-m" if implicit else ""
                out.append((first, current))
            current.extend([*negation, name])
            continue
        if current is None:
            current, flag = [], ""
            out.append((first, current))
        current.extend([*negation, token])
    if pending >= 0:
        out.append((pending, ["!"]))
    return [(first, tuple(seg)) for first, seg in out]


def _options(tokens: tuple[str, ...]) -> list[Option]:
    """`[!] --name args…` groups; `--dport ! 22` (the old place of `!`) is read as negated."""
    options: list[Option] = []
    i, count = 0, len(tokens)
    while i < count:
        negated = tokens[i] == "!"
        if negated:
            i += 1
        if i >= count:
            break
        name, j = tokens[i], i + 1
        if j < count and tokens[j] == "!" and j + 1 < count and not _is_option(tokens[j + 1]):
            negated, j = True, j + 1
        start = j
        while j < count and tokens[j] != "!" and not _is_option(tokens[j]):
            j += 1
        if not _is_option(name):
            raise ValueError(f"unexpected {name!r}")
        options.append(Option(name, tuple(unquote(t) for t in tokens[start:j]), negated))
        i = j
    return options


def _build(segment: tuple[str, ...]) -> _Built:
    negated = segment[0] == "!"
    body = segment[1:] if negated else segment
    if not body:
        return _MATCH, None, "'!' negates nothing"
    flag, args = body[0], body[1:]
    if negated and flag in ("-m", "-j", "-g", "-c"):
        return _MATCH, None, f"'!' cannot negate {flag}"
    if flag not in _MAIN:
        if flag.startswith("--"):
            return _MATCH, None, f"option {flag} belongs to no match (no -m before it)"
        return _MATCH, None, f"unexpected {unquote(flag)!r}"
    if flag == "-f":
        return _MATCH, FragmentMatch(negated), None
    if not args:
        return _MATCH, None, f"{flag} needs an argument"
    arg, rest = unquote(args[0]), args[1:]
    if arg == "!" and rest and flag in ("-s", "-d", "-i", "-o", "-p"):  # `-s ! 10.0.0.0/8`, iptables < 1.4.3
        negated, arg, rest = True, unquote(rest[0]), rest[1:]
    if flag in ("-s", "-d", "-i", "-o", "-p") and rest:
        return _MATCH, None, f"unexpected {unquote(rest[0])!r} after {flag} {arg}"
    if flag in ("-s", "-d"):
        try:
            return _MATCH, address_match("source" if flag == "-s" else "destination", arg, negated), None
        except ValueError:
            return _MATCH, None, f"{flag}: {arg!r} is not an address or network"
    if flag in ("-i", "-o"):
        return _MATCH, InterfaceMatch("in" if flag == "-i" else "out", arg, negated), None
    if flag == "-p":
        return _MATCH, ProtocolMatch(arg.lower(), negated), None
    if flag == "-c":
        if len(args) == 2 and all(a.isdigit() for a in args):
            return _COUNTERS, Counters(int(args[0]), int(args[1])), None
        return _COUNTERS, None, "-c needs packet and byte counts"
    try:
        options = _options(rest)
    except ValueError as error:
        return _MATCH, None, f"{flag} {arg}: {error}"
    if flag == "-m":
        try:
            return _MATCH, typed_module(arg, options), None
        except ValueError as error:
            return _MATCH, ModuleMatch(arg, options), f"-m {arg}: {error}"
    return _TARGET, Target(arg, options, goto=flag == "-g"), None


# One match of _SEGMENT is one segment as iptables-save prints it: `[! ]-x` (a short main
# option) and everything up to the next one. Quoted arguments may hold anything.
_SEGMENT = re.compile(r"""(?:!\x20)?-[sdiopfmjgc](?=\x20|$)(?:\x20(?!(?:!\x20)?-[sdiopfmjgc](?:\x20|$))(?:"(?:[^"\\]|\\.)*"|[^\x20"]+))*""")
def clear_cache() -> None:
    """Forget the shared segments (a parse of one file keeps them; nothing needs them after)."""
    _segment_cache.clear()
    _cache.clear()


_segment_cache: dict[str, list[_Built]] = {}
_COMMENT = "-m comment --comment "
_OPTION_OWNERS = ("-m ", "-j ", "-g ")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _segment_facts(segment: str) -> list[_Built]:
    """The built facts of one printed segment (two for `-p tcp --dport 22`, whose implicit
    module is a segment of its own)."""
    facts = _segment_cache.get(segment)
    if facts is not None:
        return facts
    if segment.startswith(_COMMENT) and _QUOTED.fullmatch(segment, len(_COMMENT)):
        # Every rule of a Kubernetes service carries the service's comment: built directly.
        text = unquote(segment[len(_COMMENT):])
        facts = [(_MATCH, CommentMatch("comment", [Option("--comment", (text,))], comment=text), None)]
    elif '"' not in segment and "--" not in segment and " !" not in segment:
        # `-d 10.96.0.10/32`, `-j KUBE-SEP-…`: the tokens are the words, one segment. (A `!`
        # after the option negates what follows, or nothing: the token reading knows.)
        facts = [_build(tuple(segment.split(" ")))]
    else:
        facts = [_build(seg) for _, seg in _segments(_TOKEN.findall(segment))]
    if len(_segment_cache) >= _CACHE_LIMIT:
        _segment_cache.clear()
    _segment_cache[segment] = facts
    return facts


def _printed_segments(text: str) -> list[str] | None:
    """The segments of a rule printed as iptables-save prints it (single blanks, short options),
    or None when the text is anything else."""
    if "\t" in text or "  " in text:
        return None
    segments = _SEGMENT.findall(text)
    # Every character but the blanks between segments must be in a segment.
    if sum(map(len, segments)) + len(segments) - 1 != len(text):
        return None
    # Long options belong to -m, -j or -g as printed; elsewhere they are an implicit module
    # (`-p tcp -s … --dport 22`), which needs the protocol of another segment.
    for segment in segments:
        if " --" in segment and not segment.startswith(_OPTION_OWNERS):
            return None
    return segments


def parse_rule(text: str) -> ParsedRule:
    """The matches, target and counters of a rule's options (the part after `-A CHAIN`).
    A rule printed as iptables-save prints it is read segment by segment; anything else
    token by token (`parse_rule_by_tokens`), which gives the same facts, only slower."""
    printed = _printed_segments(text) if text else []
    if printed is None:
        return parse_rule_by_tokens(text)
    return _assemble(text, [built for segment in printed for built in _segment_facts(segment)])


def parse_rule_by_tokens(text: str) -> ParsedRule:
    return _assemble(text, [_build_cached(seg) for _, seg in _segments(_TOKEN.findall(text))])


def _assemble(text: str, built: list[_Built]) -> ParsedRule:
    """The facts in order; where any segment has a problem, `_problems` finds their offsets."""
    out = ParsedRule()
    matches = out.matches
    problems = False
    for slot, facts, problem in built:
        if problem is not None:
            problems = True
        if facts is None:
            continue
        if slot == _MATCH:
            matches.append(facts)
        elif slot == _TARGET:
            if out.target is not None:
                problems = True
            out.target = facts
        else:
            out.counters = facts
    if problems:
        out.problems = _problems(text)
    return out


def _build_cached(segment: tuple[str, ...]) -> _Built:
    built = _cache.get(segment)
    if built is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        built = _cache[segment] = _build(segment)
    return built


def _problems(text: str) -> list[RuleProblem]:
    """Where a rule's problems are: read again token by token, which knows every offset."""
    offsets = [m.start() for m in _TOKEN.finditer(text)]
    problems: list[RuleProblem] = []
    targets = 0
    for first, segment in _segments(_TOKEN.findall(text)):
        slot, facts, problem = _build_cached(segment)
        offset = offsets[first] if first < len(offsets) else 0
        if problem is not None:
            problems.append(RuleProblem(problem, offset))
        if slot == _TARGET and facts is not None:
            targets += 1
            if targets > 1:
                problems.append(RuleProblem(f"a second target ({facts.name})", offset))
    return problems
