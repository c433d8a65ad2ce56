"""The iptables model: `Ruleset → Table → Chain → Rule`, with typed matches the packet walk
evaluates and verbatim options for everything else.

Every match and target keeps its options as printed (`Option`), so a rule renders back to
`iptables-save` text that `iptables-restore` reads as the same rule; typed fields (networks,
port ranges, conntrack states, marks) are the interpretation the trace uses. A module netlint
does not interpret is a plain `ModuleMatch`: the trace treats it as *maybe*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from .origin import Origin

IPNetwork = IPv4Network | IPv6Network
IPAddress = IPv4Address | IPv6Address

BUILTIN_CHAINS: dict[str, tuple[str, ...]] = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}

# Targets after which the packet leaves the chain for good (or the ruleset, for DROP/REJECT).
TERMINAL_TARGETS = frozenset({"ACCEPT", "DROP", "REJECT", "RETURN", "MASQUERADE", "SNAT", "DNAT", "REDIRECT",
                              "NETMAP", "QUEUE", "NFQUEUE", "TPROXY", "CT", "NOTRACK", "SYNPROXY"})


_PLAIN = re.compile(r"[\w.,:/+=@%*-]+")


def quote(arg: str) -> str:
    """An argument as iptables-restore reads it back: quoted unless it is plain word characters."""
    if _PLAIN.fullmatch(arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class Counters:
    packets: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Option:
    """`[!] --name arg…` as printed, e.g. `! --dport 22` or `--tcp-flags FIN,SYN,RST,ACK SYN`."""

    name: str
    args: tuple[str, ...] = ()
    negated: bool = False

    def render(self) -> str:
        text = " ".join((self.name, *map(quote, self.args)))
        return f"! {text}" if self.negated else text


@dataclass(frozen=True, slots=True)
class PortRange:
    first: int
    last: int

    def __contains__(self, port: int) -> bool:
        return self.first <= port <= self.last


@dataclass(frozen=True, slots=True)
class PortSet:
    """Ports and ranges of one option (`22`, `5000:65535`, `80,443,8000:8080`)."""

    ranges: tuple[PortRange, ...]

    def __contains__(self, port: int) -> bool:
        return any(port in r for r in self.ranges)


# ---- matches ---------------------------------------------------------------------------

@dataclass(slots=True)
class AddressMatch:
    """`[!] -s|-d NETWORK`. iptables also takes a mask that is not a prefix
    (`10.0.0.0/255.0.255.0`): then `network` is the address alone and `mask` that mask."""

    TYPE: ClassVar[str] = "address"

    direction: str  # "source" | "destination"
    network: IPNetwork
    negated: bool = False
    mask: IPAddress | None = None

    def matches_address(self, address: IPAddress) -> bool:
        if self.mask is None:
            hit = address in self.network
        else:
            mask = int(self.mask)
            hit = int(address) & mask == int(self.network.network_address) & mask
        return hit != self.negated

    def render(self) -> str:
        flag = "-s" if self.direction == "source" else "-d"
        where = f"{self.network.network_address}/{self.mask}" if self.mask is not None else str(self.network)
        return f"{'! ' if self.negated else ''}{flag} {where}"


@dataclass(slots=True)
class InterfaceMatch:
    """`[!] -i|-o NAME`; a trailing `+` matches every name with that prefix."""

    TYPE: ClassVar[str] = "interface"

    direction: str  # "in" | "out"
    name: str
    negated: bool = False

    def matches_name(self, ifname: str) -> bool:
        hit = ifname.startswith(self.name[:-1]) if self.name.endswith("+") else ifname == self.name
        return hit != self.negated

    def render(self) -> str:
        return f"{'! ' if self.negated else ''}{'-i' if self.direction == 'in' else '-o'} {self.name}"


@dataclass(slots=True)
class ProtocolMatch:
    """`[!] -p PROTO`: `protocol` as printed (a name such as `tcp` or a number)."""

    TYPE: ClassVar[str] = "protocol"

    protocol: str
    negated: bool = False

    def render(self) -> str:
        return f"{'! ' if self.negated else ''}-p {self.protocol}"


@dataclass(slots=True)
class FragmentMatch:
    """`[!] -f`: second and later fragments only."""

    TYPE: ClassVar[str] = "fragment"

    negated: bool = False

    def render(self) -> str:
        return "! -f" if self.negated else "-f"


@dataclass(slots=True)
class ModuleMatch:
    """`-m MODULE --option…`, options verbatim in order. As a plain `ModuleMatch` (not one of the
    typed subclasses) it is a module netlint does not interpret. `unknown_options` names the
    options of a typed module that its typed fields do not cover."""

    TYPE: ClassVar[str] = "module"

    module: str
    options: list[Option] = field(default_factory=list)
    unknown_options: list[str] = field(default_factory=list)

    def render(self) -> str:
        return " ".join(("-m", self.module, *(o.render() for o in self.options)))


@dataclass(slots=True)
class PortMatch(ModuleMatch):
    """`tcp`/`udp`/`sctp`/`udplite` and `multiport` port options. `any_ports` is multiport's
    `--ports` (source or destination). TCP `--tcp-flags MASK COMP` / `--syn` are in `tcp_flags`."""

    TYPE: ClassVar[str] = "ports"

    sports: PortSet | None = None
    sports_negated: bool = False
    dports: PortSet | None = None
    dports_negated: bool = False
    any_ports: PortSet | None = None
    any_ports_negated: bool = False
    tcp_flags: tuple[frozenset[str], frozenset[str]] | None = None
    tcp_flags_negated: bool = False


@dataclass(slots=True)
class StateMatch(ModuleMatch):
    """`conntrack --ctstate` / `state --state`: the conntrack states (`NEW`, `ESTABLISHED`,
    `RELATED`, `INVALID`, `UNTRACKED`, `SNAT`, `DNAT`) and `--ctstatus` values."""

    TYPE: ClassVar[str] = "state"

    states: frozenset[str] | None = None
    states_negated: bool = False
    statuses: frozenset[str] | None = None
    statuses_negated: bool = False


@dataclass(slots=True)
class IcmpMatch(ModuleMatch):
    """`icmp --icmp-type` / `icmp6 --icmpv6-type`: a type name or `type[/code]` as printed."""

    TYPE: ClassVar[str] = "icmp"

    icmp_type: str | None = None
    negated: bool = False


@dataclass(slots=True)
class CommentMatch(ModuleMatch):
    TYPE: ClassVar[str] = "comment"

    comment: str = ""


@dataclass(slots=True)
class MarkMatch(ModuleMatch):
    """`mark --mark V[/M]` or `connmark --mark V[/M]`: matches when `mark & mask == value`."""

    TYPE: ClassVar[str] = "mark"

    value: int = 0
    mask: int = 0xFFFFFFFF
    negated: bool = False


@dataclass(slots=True)
class AddrTypeMatch(ModuleMatch):
    """`addrtype --src-type T --dst-type T` (types such as `LOCAL`, `UNICAST`, `BROADCAST`)."""

    TYPE: ClassVar[str] = "addrtype"

    src_types: frozenset[str] | None = None
    src_negated: bool = False
    dst_types: frozenset[str] | None = None
    dst_negated: bool = False
    limit_iface_in: bool = False
    limit_iface_out: bool = False


@dataclass(slots=True)
class PhysdevMatch(ModuleMatch):
    """`physdev`: bridge ports of a bridged packet (`br_netfilter`). Each `is_*` is None
    when absent, else whether the packet must (True) or must not (False) be so."""

    TYPE: ClassVar[str] = "physdev"

    physdev_in: InterfaceMatch | None = None
    physdev_out: InterfaceMatch | None = None
    is_in: bool | None = None
    is_out: bool | None = None
    is_bridged: bool | None = None


@dataclass(slots=True)
class IpRangeMatch(ModuleMatch):
    TYPE: ClassVar[str] = "iprange"

    src_range: tuple[IPAddress, IPAddress] | None = None
    src_negated: bool = False
    dst_range: tuple[IPAddress, IPAddress] | None = None
    dst_negated: bool = False


Match = AddressMatch | InterfaceMatch | ProtocolMatch | FragmentMatch | ModuleMatch


# ---- targets and rules -----------------------------------------------------------------

@dataclass(slots=True)
class Target:
    """`-j NAME` (or `-g NAME` with `goto`) and its options verbatim. A user chain's name or a
    target extension (`REJECT`, `MASQUERADE`, `LOG`…)."""

    name: str
    options: list[Option] = field(default_factory=list)
    goto: bool = False

    def option(self, name: str) -> tuple[str, ...] | None:
        for opt in self.options:
            if opt.name == name:
                return opt.args
        return None

    def render(self) -> str:
        return " ".join(("-g" if self.goto else "-j", self.name, *(o.render() for o in self.options)))


@dataclass(slots=True)
class Rule:
    """One `-A` line: `index` is its 1-based position in the chain (what `iptables -L
    --line-numbers` shows). A rule without a target only counts packets."""

    table: str
    chain: str
    index: int
    origin: Origin
    matches: list[Match] = field(default_factory=list)
    target: Target | None = None
    counters: Counters | None = None

    def render(self) -> str:
        parts = [f"-A {self.chain}", *(m.render() for m in self.matches)]
        if self.target is not None:
            parts.append(self.target.render())
        return " ".join(parts)


@dataclass(slots=True)
class Chain:
    """`policy` is None for a user chain (`-` in iptables-save)."""

    name: str
    table: str
    origin: Origin | None
    policy: str | None = None
    counters: Counters | None = None
    rules: list[Rule] = field(default_factory=list)

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN_CHAINS.get(self.table, ())


@dataclass(slots=True)
class Table:
    name: str
    origin: Origin | None
    chains: dict[str, Chain] = field(default_factory=dict)
    committed: bool = False


@dataclass(slots=True)
class Ruleset:
    """One `iptables-save` (or listing) output. `family` is 4 or 6 (None where the output does
    not tell); `backend` is `nf_tables`, `legacy` or None; `warnings` are iptables' own
    warning lines (`# Warning: iptables-legacy tables present…`); `origin` is the
    `# Generated by` header line, when the output has one."""

    family: int | None = None
    backend: str | None = None
    version: str | None = None
    tables: dict[str, Table] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    origin: Origin | None = None

    def chain(self, table: str, name: str) -> Chain | None:
        t = self.tables.get(table)
        return t.chains.get(name) if t else None

    def rules(self):
        for table in self.tables.values():
            for chain in table.chains.values():
                yield from chain.rules

    def render_save(self) -> str:
        """The ruleset as `iptables-save` prints it (counters included where known)."""
        out: list[str] = []
        if self.family is not None:
            tool = "ip6tables-save" if self.family == 6 else "iptables-save"
            version = f" v{self.version}" if self.version else ""
            backend = f" ({self.backend})" if self.backend else ""
            out.append(f"# Generated by {tool}{version}{backend}")
        for table in self.tables.values():
            out.append(f"*{table.name}")
            for chain in table.chains.values():
                c = chain.counters
                out.append(f":{chain.name} {chain.policy or '-'}" + (f" [{c.packets}:{c.bytes}]" if c else ""))
            for chain in table.chains.values():
                for rule in chain.rules:
                    c = rule.counters
                    out.append(f"[{c.packets}:{c.bytes}] {rule.render()}" if c else rule.render())
            out.append("COMMIT")
        return "\n".join(out) + "\n"
