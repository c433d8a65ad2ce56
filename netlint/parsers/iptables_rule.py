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


def tokenize(text: str) -> list[tuple[str, int]]:
    """Tokens with their offsets; a quoted token is unquoted and unescaped."""
    tokens = []
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token[0] == '"':
            token = _UNESCAPE.sub(r"\1", token[1:-1] if len(token) > 1 and token.endswith('"') else token[1:])
        tokens.append((token, m.start()))
    return tokens


def _is_option(token: str) -> bool:
    """`-x`/`--xyz` starts an option; `-1` or `-` (an argument) does not."""
    return len(token) > 1 and token[0] == "-" and not token[1].isdigit()


@lru_cache(maxsize=65536)
def network(text: str):
    """`10.0.0.0/8`, `10.1.2.3` (a host), `10.0.0.0/255.0.0.0` — strictness as iptables: host
    bits are cleared."""
    return ip_network(text, strict=False)


@lru_cache(maxsize=4096)
def _port(text: str, proto: str) -> int:
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
            value = _port(part, proto)
            ranges.append(PortRange(value, value))
            continue
        first, last = part.split(sep, 1)
        lo = _port(first, proto) if first else 0
        hi = _port(last, proto) if last else 65535
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

def parse_rule(text: str) -> ParsedRule:
    """The matches, target and counters of a rule's options (the part after `-A CHAIN`)."""
    out = ParsedRule()
    tokens = tokenize(text)
    count = len(tokens)
    i = 0
    negate_at: int | None = None
    module: tuple[str, list[Option], int] | None = None  # name, options, offset of `-m`
    protocol = ""
    target: Target | None = None

    def close_module() -> None:
        nonlocal module
        if module is not None:
            name, options, offset = module
            try:
                out.matches.append(typed_module(name, options))
            except ValueError as error:
                out.matches.append(ModuleMatch(name, options))
                out.problems.append(RuleProblem(f"-m {name}: {error}", offset))
            module = None

    def args_from(j: int) -> tuple[tuple[str, ...], int]:
        start = j
        while j < count and not _is_option(tokens[j][0]) and tokens[j][0] != "!":
            j += 1
        return tuple(t for t, _ in tokens[start:j]), j

    def one_arg(j: int, name: str, offset: int) -> str | None:
        if j < count and not _is_option(tokens[j][0]):
            return tokens[j][0]
        out.problems.append(RuleProblem(f"{name} needs an argument", offset))
        return None

    while i < count:
        token, offset = tokens[i]
        if token == "!":
            negate_at = offset
            i += 1
            continue
        negated, negate_at = negate_at is not None, None
        name = _ALIASES.get(token, token)
        if target is not None and name not in ("-c",):
            if _is_option(token):
                args, j = args_from(i + 1)
                target.options.append(Option(name, args, negated))
                i = j
            else:
                out.problems.append(RuleProblem(f"unexpected {token!r} after the target", offset))
                i += 1
            continue
        if name in ("-s", "-d", "-i", "-o", "-p"):
            arg = one_arg(i + 1, token, offset)
            i += 2 if arg is not None else 1
            if arg is None:
                continue
            if arg == "!":  # `-s ! 10.0.0.0/8`, the pre-1.4.3 spelling
                negated, arg = True, one_arg(i, token, offset)
                i += 1
                if arg is None:
                    continue
            close_module()
            if name in ("-s", "-d"):
                try:
                    out.matches.append(AddressMatch("source" if name == "-s" else "destination", network(arg), negated))
                except ValueError:
                    out.problems.append(RuleProblem(f"{token}: {arg!r} is not an address or network", offset))
            elif name in ("-i", "-o"):
                out.matches.append(InterfaceMatch("in" if name == "-i" else "out", arg, negated))
            else:
                protocol = arg.lower()
                out.matches.append(ProtocolMatch(protocol, negated))
        elif name == "-f":
            close_module()
            out.matches.append(FragmentMatch(negated))
            i += 1
        elif name == "-m":
            close_module()
            arg = one_arg(i + 1, token, offset)
            if arg is not None:
                module = (arg, [], offset)
            i += 2 if arg is not None else 1
        elif name in ("-j", "-g"):
            close_module()
            arg = one_arg(i + 1, token, offset)
            if arg is not None:
                target = Target(arg, goto=name == "-g")
                out.target = target
            i += 2 if arg is not None else 1
        elif name == "-c":
            args, j = args_from(i + 1)
            if len(args) == 2 and all(a.isdigit() for a in args):
                out.counters = Counters(int(args[0]), int(args[1]))
            else:
                out.problems.append(RuleProblem("-c needs packet and byte counts", offset))
            i = j
        elif _is_option(token) and token.startswith("--"):
            args, j = args_from(i + 1)
            if not args and not negated and j + 1 < count and tokens[j][0] == "!" \
                    and not _is_option(tokens[j + 1][0]):
                # `--dport ! 22`: the old place of `!`, after the option's name.
                args, j = args_from(j + 1)
                negated = True
            name = _ALIASES.get(token, token)
            if module is None and name in _IMPLICIT and protocol:
                module = (_IMPLICIT_MODULE.get(protocol, protocol), [], offset)
            if module is None:
                out.problems.append(RuleProblem(f"option {token} belongs to no match (no -m before it)", offset))
            else:
                module[1].append(Option(name, args, negated))
            i = j
        else:
            out.problems.append(RuleProblem(f"unexpected {token!r}", offset))
            i += 1
    close_module()
    if negate_at is not None:
        out.problems.append(RuleProblem("'!' negates nothing", negate_at))
    return out
