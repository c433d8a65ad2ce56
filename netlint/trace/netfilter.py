"""iptables evaluation: one packet through one table's chain of one hook, as the kernel walks
it (jumps, gotos, RETURN, policies), with three-valued matches.

A match is True, False or None (*maybe*: a module netlint does not interpret, a mark set
elsewhere). At a *maybe* the walk forks: one outcome as if the rule matched, one as if not,
both marked uncertain. The caller sees every outcome and decides whether the verdict
really depends on the unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network, ip_address

from ..model.firewall import (AddressMatch, AddrTypeMatch, Chain, CommentMatch, FragmentMatch, IcmpMatch,
                              InterfaceMatch, IpRangeMatch, MarkMatch, ModuleMatch, PhysdevMatch, PortMatch,
                              ProtocolMatch, Rule, Ruleset, StateMatch, Target)

# Targets that neither end the walk nor change what later rules see.
_CONTINUE = frozenset({"LOG", "NFLOG", "ULOG", "TRACE", "AUDIT", "CHECKSUM", "TCPMSS", "TOS", "TTL", "HL", "DSCP",
                       "ECN", "CLASSIFY", "SET", "LED", "IDLETIMER", "RATEEST", "SECMARK", "CONNSECMARK",
                       "TCPOPTSTRIP", "CONNMARK", "CT", "TEE", "HMARK"})
_NAT = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"})
_PROTO_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp"}
_ICMP_TYPES = {"echo-reply": 0, "pong": 0, "destination-unreachable": 3, "echo-request": 8, "ping": 8,
               "time-exceeded": 11}
_MULTICAST = IPv4Network("224.0.0.0/4")
_EPHEMERAL_FIRST = 1024
_MAX_DEPTH = 64
_MAX_OUTCOMES = 64


@dataclass(frozen=True, slots=True)
class Packet:
    """What the rules look at. `mark` None is a mark netlint cannot know; `physdev_in/out`
    are the bridge ports br_netfilter records (only when it is loaded and calls iptables;
    `physdev_unknown` when the dump cannot tell whether it does)."""

    src: IPv4Address
    dst: IPv4Address
    proto: str
    sport: int | None
    dport: int | None
    iif: str | None
    oif: str | None
    ctstate: str = "NEW"
    icmp_type: int | None = None
    tcp_flags: frozenset[str] = frozenset()
    mark: int | None = 0
    bridged: bool = False
    physdev_in: str | None = None
    physdev_out: str | None = None
    dnat: bool = False
    snat: bool = False
    physdev_unknown: bool = False


@dataclass(slots=True)
class Outcome:
    """How a packet left a table's chain: `verdict` ACCEPT, DROP, REJECT or QUEUE; `rule` the
    rule that decided (None: the chain's policy, `chain`); `packet` as rewritten (NAT, marks)."""

    verdict: str
    packet: Packet
    rule: Rule | None
    chain: Chain | None
    uncertain: bool
    nat: Rule | None = None
    maybes: list[Rule] = field(default_factory=list)


class Addresses:
    """The host's addresses, for `addrtype` and MASQUERADE."""

    def __init__(self, local: set[IPv4Address], broadcast: set[IPv4Address], primary: dict[str, IPv4Address]):
        self.local, self.broadcast, self.primary = local, broadcast, primary

    def kind(self, address: IPv4Address) -> str:
        if address in self.local or address.is_loopback:
            return "LOCAL"
        if address in self.broadcast or address == IPv4Address("255.255.255.255"):
            return "BROADCAST"
        if address in _MULTICAST:
            return "MULTICAST"
        return "UNICAST"


# ---- matches ---------------------------------------------------------------------------

def _proto_is(packet: Packet, name: str) -> bool:
    name = _PROTO_NUMBERS.get(name, name)
    return name in ("all", "0") or name == packet.proto or (name == "icmpv6" and packet.proto == "ipv6-icmp")


def _ephemeral_hit(ports) -> bool | None:
    """Whether a port the flow does not name, the initiator's ephemeral port (1024 or above on
    every current system), is in `ports`: no, yes, or maybe."""
    if all(r.last < _EPHEMERAL_FIRST for r in ports.ranges):
        return False
    if any(r.first <= _EPHEMERAL_FIRST and r.last >= 65535 for r in ports.ranges):
        return True
    return None


def _ports(m: PortMatch, packet: Packet) -> bool | None:
    if m.module != "multiport" and not _proto_is(packet, m.module):
        return False
    if m.unknown_options:
        return None
    result: bool | None = True
    for ports, negated, port in ((m.dports, m.dports_negated, packet.dport), (m.sports, m.sports_negated, packet.sport)):
        if ports is None:
            continue
        hit = (port in ports) if port is not None else _ephemeral_hit(ports)
        if hit is None:
            result = None
        elif hit == negated:
            return False
    if m.any_ports is not None:
        hits = [(p in m.any_ports) if p is not None else _ephemeral_hit(m.any_ports)
                for p in (packet.sport, packet.dport)]
        hit = True if True in hits else (None if None in hits else False)
        if hit is None:
            result = None
        elif hit == m.any_ports_negated:
            return False
    if m.tcp_flags is not None:
        mask, comp = m.tcp_flags
        if ((packet.tcp_flags & mask) == comp) == m.tcp_flags_negated:
            return False
    return result


def _icmp(m: IcmpMatch, packet: Packet) -> bool | None:
    if packet.proto != ("icmp" if m.module == "icmp" else "ipv6-icmp"):
        return False
    if m.unknown_options or m.icmp_type is None:
        return None
    wanted = m.icmp_type.split("/")[0]
    if wanted == "any":
        hit = True
    else:
        number = _ICMP_TYPES.get(wanted, int(wanted) if wanted.isdigit() else None)
        if number is None or packet.icmp_type is None:
            return None
        hit = number == packet.icmp_type
    return hit != m.negated


def _mark(m: MarkMatch, packet: Packet) -> bool | None:
    if m.module != "mark" or m.unknown_options or packet.mark is None:
        return None  # connmark: the connection's mark is not in a dump
    return ((packet.mark & m.mask) == m.value) != m.negated


def _addrtype(m: AddrTypeMatch, packet: Packet, addresses: Addresses) -> bool | None:
    if m.unknown_options or m.limit_iface_in or m.limit_iface_out:
        return None
    for types, negated, address in ((m.src_types, m.src_negated, packet.src), (m.dst_types, m.dst_negated, packet.dst)):
        if types is not None and (addresses.kind(address) in types) == negated:
            return False
    return True


def _physdev(m: PhysdevMatch, packet: Packet) -> bool | None:
    if m.unknown_options or packet.physdev_unknown:
        return None
    checks = ((m.is_bridged, packet.bridged), (m.is_in, packet.physdev_in is not None),
              (m.is_out, packet.physdev_out is not None))
    for wanted, actual in checks:
        if wanted is not None and wanted != actual:
            return False
    for port_match, port in ((m.physdev_in, packet.physdev_in), (m.physdev_out, packet.physdev_out)):
        if port_match is not None:
            if port is None:
                return False if not port_match.negated else True
            if not port_match.matches_name(port):
                return False
    return True


def _in_range(address: IPv4Address, bounds) -> bool:
    return bounds[0] <= address <= bounds[1]


def _iprange(m: IpRangeMatch, packet: Packet) -> bool | None:
    if m.unknown_options:
        return None
    if m.src_range is not None and _in_range(packet.src, m.src_range) == m.src_negated:
        return False
    if m.dst_range is not None and _in_range(packet.dst, m.dst_range) == m.dst_negated:
        return False
    return True


def match(rule_match, packet: Packet, addresses: Addresses) -> bool | None:
    """True, False, or None (maybe) for one match of a rule."""
    if isinstance(rule_match, AddressMatch):
        return rule_match.matches_address(packet.src if rule_match.direction == "source" else packet.dst)
    if isinstance(rule_match, InterfaceMatch):
        name = packet.iif if rule_match.direction == "in" else packet.oif
        return False if name is None else rule_match.matches_name(name)
    if isinstance(rule_match, ProtocolMatch):
        return _proto_is(packet, rule_match.protocol) != rule_match.negated
    if isinstance(rule_match, FragmentMatch):
        return rule_match.negated  # the walk's packets are never later fragments
    if isinstance(rule_match, StateMatch):
        if rule_match.unknown_options or (rule_match.statuses is not None):
            return None
        if rule_match.states is None:
            return True
        states = {packet.ctstate}
        if packet.dnat:
            states.add("DNAT")
        if packet.snat:
            states.add("SNAT")
        return bool(states & rule_match.states) != rule_match.states_negated
    if isinstance(rule_match, PortMatch):
        return _ports(rule_match, packet)
    if isinstance(rule_match, IcmpMatch):
        return _icmp(rule_match, packet)
    if isinstance(rule_match, CommentMatch):
        return True
    if isinstance(rule_match, MarkMatch):
        return _mark(rule_match, packet)
    if isinstance(rule_match, AddrTypeMatch):
        return _addrtype(rule_match, packet, addresses)
    if isinstance(rule_match, PhysdevMatch):
        return _physdev(rule_match, packet)
    if isinstance(rule_match, IpRangeMatch):
        return _iprange(rule_match, packet)
    if isinstance(rule_match, ModuleMatch):
        return None
    return None


def rule_matches(rule: Rule, packet: Packet, addresses: Addresses) -> bool | None:
    result: bool | None = True
    for m in rule.matches:
        hit = match(m, packet, addresses)
        if hit is False:
            return False
        if hit is None:
            result = None
    return result


# ---- targets ---------------------------------------------------------------------------

def _set_mark(target: Target, packet: Packet) -> Packet:
    if packet.mark is None:
        return packet
    for option, args in ((o.name, o.args) for o in target.options):
        if not args:
            continue
        try:
            value, _, mask_text = args[0].partition("/")
            value, mask = int(value, 0), int(mask_text, 0) if mask_text else 0xFFFFFFFF
        except ValueError:
            return replace(packet, mark=None)
        if option == "--set-xmark":
            return replace(packet, mark=(packet.mark & ~mask & 0xFFFFFFFF) ^ value)
        if option == "--set-mark":
            return replace(packet, mark=(packet.mark & ~mask & 0xFFFFFFFF) | value)
        if option == "--or-mark":
            return replace(packet, mark=packet.mark | value)
        if option == "--and-mark":
            return replace(packet, mark=packet.mark & value)
        if option == "--xor-mark":
            return replace(packet, mark=packet.mark ^ value)
    return replace(packet, mark=None)


def _address_port(text: str) -> tuple[IPv4Address | None, int | None]:
    """`10.0.0.5`, `10.0.0.5:80`, `10.0.0.5-10.0.0.9:80-90`, `:1024-65535` (first of each range)."""
    address, _, port = text.partition(":")
    first_address = address.split("-")[0]
    first_port = port.split("-")[0]
    return (ip_address(first_address) if first_address else None,
            int(first_port) if first_port.isdigit() else None)


def _nat(target: Target, packet: Packet, addresses: Addresses) -> Packet | None:
    """The packet after a NAT target, or None when netlint cannot say what it becomes."""
    try:
        if target.name == "DNAT":
            to = target.option("--to-destination")
            if not to:
                return None
            address, port = _address_port(to[0])
            return replace(packet, dst=address or packet.dst, dport=port if port is not None else packet.dport,
                           dnat=True)
        if target.name == "SNAT":
            to = target.option("--to-source")
            if not to:
                return None
            address, port = _address_port(to[0])
            return replace(packet, src=address or packet.src, sport=port if port is not None else packet.sport,
                           snat=True)
        if target.name == "MASQUERADE":
            primary = addresses.primary.get(packet.oif or "")
            return None if primary is None else replace(packet, src=primary, snat=True)
        if target.name == "REDIRECT":
            primary = addresses.primary.get(packet.iif or "", IPv4Address("127.0.0.1"))
            ports = target.option("--to-ports")
            port = int(ports[0].split("-")[0]) if ports and ports[0].split("-")[0].isdigit() else packet.dport
            return replace(packet, dst=primary, dport=port, dnat=True)
    except ValueError:
        return None
    return None


# ---- chains ----------------------------------------------------------------------------

class Evaluator:
    """Walks packets through a ruleset."""

    def __init__(self, ruleset: Ruleset, addresses: Addresses):
        self.ruleset, self.addresses = ruleset, addresses

    def run(self, table: str, chain: str, packet: Packet) -> list[Outcome] | None:
        """Every way `packet` can leave built-in `chain` of `table`; None if the ruleset has no
        such chain (nothing there filters)."""
        start = self.ruleset.chain(table, chain)
        if start is None:
            return None
        outcomes: list[Outcome] = []
        for kind, rule, pkt, uncertain, nat, maybes in self._walk(start, 0, packet, False, None, [], 0):
            if kind == "RETURN":
                # The end of the chain, or a RETURN (`rule`): the policy decides.
                if start.policy is None:
                    # A fragment without a policy line: the policy is not in the dump.
                    outcomes.append(Outcome("ACCEPT", pkt, rule, start, True, nat, maybes))
                    outcomes.append(Outcome("DROP", pkt, rule, start, True, nat, maybes))
                else:
                    outcomes.append(Outcome(start.policy, pkt, rule, start, uncertain, nat, maybes))
            else:
                outcomes.append(Outcome(kind, pkt, rule, start, uncertain, nat, maybes))
            if len(outcomes) >= _MAX_OUTCOMES:
                break
        return outcomes

    def _walk(self, chain: Chain, index: int, packet: Packet, uncertain: bool, nat: Rule | None,
              maybes: list[Rule], depth: int):
        """Yields `(kind, rule, packet, uncertain, nat rule, maybe rules)`; kind RETURN means the
        packet left the chain at its end or by RETURN."""
        rules = chain.rules
        count = len(rules)
        addresses = self.addresses
        while index < count:
            rule = rules[index]
            index += 1
            hit = rule_matches(rule, packet, addresses)
            if hit is False:
                continue
            target = rule.target
            if hit is None:
                if target is None or target.name in _CONTINUE:
                    continue
                # Fork: the rest of the chain as if the rule did not match.
                yield from self._walk(chain, index, packet, True, nat, maybes + [rule], depth)
                uncertain, maybes = True, maybes + [rule]
            if target is None:
                continue
            name = target.name
            if name in ("ACCEPT", "DROP", "REJECT", "QUEUE", "NFQUEUE"):
                yield ("QUEUE" if name == "NFQUEUE" else name), rule, packet, uncertain, nat, maybes
                return
            if name == "RETURN":
                yield "RETURN", rule, packet, uncertain, nat, maybes
                return
            if name in _NAT:
                rewritten = _nat(target, packet, addresses)
                if rewritten is None:
                    yield "ACCEPT", rule, packet, True, rule, maybes + [rule]
                else:
                    yield "ACCEPT", rule, rewritten, uncertain, rule, maybes
                return
            if name == "MARK":
                packet = _set_mark(target, packet)
                continue
            if name == "NOTRACK" or (name == "CT" and target.option("--notrack") is not None):
                packet = replace(packet, ctstate="UNTRACKED")
                continue
            if name in _CONTINUE:
                continue
            sub = self.ruleset.chain(chain.table, name)
            if sub is None or depth >= _MAX_DEPTH:
                # A target netlint does not know, or a jump to a chain the dump lacks.
                yield "ACCEPT", rule, packet, True, nat, maybes + [rule]
                yield "DROP", rule, packet, True, nat, maybes + [rule]
                return
            for kind, r, pkt, unc, n, mb in self._walk(sub, 0, packet, uncertain, nat, maybes, depth + 1):
                if kind != "RETURN":
                    yield kind, r, pkt, unc, n, mb
                elif target.goto:
                    yield kind, r, pkt, unc, n, mb  # a goto returns past the chain that went to it
                else:
                    yield from self._walk(chain, index, pkt, unc, n, mb, depth)
            return
        yield "RETURN", None, packet, uncertain, nat, maybes
