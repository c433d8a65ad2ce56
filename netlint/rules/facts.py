"""A host's facts as rules read them: the scopes a rule iterates, the names and functions its
expressions see, and the representative flows path rules decide by.

Representative flows are chosen deterministically (issue 6): from each guest network (a
guest's address: the DHCP range's start, else the first address after the gateway) to one
address of every routed prefix that no more specific route covers, and to a public address no
route but the default covers; each as an ICMP echo and as TCP 443. Every DNAT rule gets an
inbound flow from an outside client. Traces are computed when a rule first reads them.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import (IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network,
                       ip_address, ip_network)
from typing import Any, Callable

from ..host import BridgeView, GuestNetwork, Host
from ..model import Address, Interface, IpRule, Kind, LibvirtNetwork, Origin, ParseResult, Route, Status, Sysctl
from ..model.firewall import AddressMatch, Chain, InterfaceMatch, PortMatch, ProtocolMatch, Rule, StateMatch
from ..model.trace import Flow, Leg, Step, Trace
from ..topology import is_dummy_port, is_guest_port
from ..trace.walk import Walker
from .expr import ExprError

PUBLIC_CANDIDATES = ("8.8.8.8", "1.1.1.1", "9.9.9.9", "203.0.113.10")
OUTSIDE_CLIENT = IPv4Address("203.0.113.10")
PROBES = (("icmp", None), ("tcp", 443))


# ---- views ---------------------------------------------------------------------------------------

@dataclass(slots=True)
class StepView:
    """A trace step plus the fact its origin names (the sysctl, iptables rule, route or
    interface line), so a rule can ask `path.trace.decisive.sysctl.key`."""

    RULE_ATTRS = frozenset({"node", "stage", "action", "detail", "origin", "table", "chain", "uncertain",
                            "fact", "sysctl", "rule", "route", "interface", "text"})

    step: Step
    fact: Any = None

    node = property(lambda self: self.step.node)
    stage = property(lambda self: self.step.stage)
    action = property(lambda self: self.step.action)
    detail = property(lambda self: self.step.detail)
    origin = property(lambda self: self.step.origin)
    table = property(lambda self: self.step.table)
    chain = property(lambda self: self.step.chain)
    uncertain = property(lambda self: self.step.uncertain)
    sysctl = property(lambda self: self.fact if isinstance(self.fact, Sysctl) else None)
    rule = property(lambda self: self.fact if isinstance(self.fact, Rule) else None)
    route = property(lambda self: self.fact if isinstance(self.fact, Route) else None)
    interface = property(lambda self: self.fact if isinstance(self.fact, Interface) else None)

    @property
    def text(self) -> str:
        """How the deciding line reads: the rule's `-A …`, `:FORWARD DROP (policy)` when a
        chain's policy decided, the sysctl or route line; else the step's detail."""
        fact = self.fact
        if isinstance(fact, Chain):
            return f":{fact.name} {fact.policy} (the chain's policy)" if fact.policy else f"chain {fact.name}"
        return display(fact) if fact is not None else self.step.detail


@dataclass(slots=True)
class LegView:
    RULE_ATTRS = frozenset({"name", "disposition", "success", "decisive", "steps"})

    name: str
    leg: Leg
    steps: list[StepView]

    disposition = property(lambda self: self.leg.disposition.value)
    success = property(lambda self: self.leg.disposition.success)

    @property
    def decisive(self) -> StepView | None:
        return self.steps[self.leg.decisive] if 0 <= self.leg.decisive < len(self.steps) else None


@dataclass(slots=True)
class TraceView:
    """`failed` is the first leg that did not get through (None when reachable or unknown
    without a failing leg); `summary` is the path in one line, as findings list it."""

    RULE_ATTRS = frozenset({"verdict", "forward", "reply", "established", "explanation", "assumptions", "failed",
                            "decisive", "summary", "src", "dst", "proto", "dport", "legs", "uncertain"})

    trace: Trace
    legs: list[LegView]

    verdict = property(lambda self: self.trace.verdict.value)
    explanation = property(lambda self: self.trace.explanation)
    assumptions = property(lambda self: self.trace.assumptions)
    src = property(lambda self: self.trace.flow.src)
    dst = property(lambda self: self.trace.flow.dst)
    proto = property(lambda self: self.trace.flow.proto)
    dport = property(lambda self: self.trace.flow.dport)

    def _leg(self, name: str) -> LegView | None:
        return next((leg for leg in self.legs if leg.name == name), None)

    forward = property(lambda self: self._leg("forward"))
    reply = property(lambda self: self._leg("reply"))
    established = property(lambda self: self._leg("established"))

    @property
    def failed(self) -> LegView | None:
        return next((leg for leg in self.legs if not leg.success and leg.disposition != "UNKNOWN"), None)

    @property
    def decisive(self) -> StepView | None:
        leg = self.failed
        return leg.decisive if leg is not None else None

    @property
    def uncertain(self) -> StepView | None:
        """The first step the dump could not decide, on any leg."""
        return next((s for leg in self.legs for s in leg.steps if s.uncertain), None)

    @property
    def summary(self) -> str:
        flow = self.trace.flow
        what = flow.proto + (f"/{flow.dport}" if flow.dport else "")
        head = f"{flow.src} → {flow.dst} {what}"
        leg = self.failed
        if leg is None:
            return f"{head}: {self.verdict}"
        step = leg.decisive
        where = f" at {step.origin}" if step is not None and step.origin is not None else ""
        return f"{head}: {leg.name} {leg.disposition}{where}"


@dataclass(slots=True)
class NetworkView:
    """A guest network: its subnet on a bridge, libvirt's definition when the dump has it, its
    forward mode (`nat`, `route`, `open`, `isolated`, `bridge` for a host bridge, …, or null when
    nothing tells) and its owner (`libvirt`, `docker`, `podman`, `lxc` or null)."""

    RULE_ATTRS = frozenset({"network", "bridge", "gateway", "origin", "libvirt", "mode", "mode_source", "owner",
                            "layout", "guest", "forward_dev", "name", "ports", "flows"})

    net: GuestNetwork
    libvirt: LibvirtNetwork | None
    mode: str | None
    mode_source: str | None
    owner: str | None
    layout: str | None
    guest: IPv4Address
    ports: list[Interface]
    flows: list["FlowCase"] = field(default_factory=list)

    network = property(lambda self: self.net.network)
    bridge = property(lambda self: self.net.bridge)
    gateway = property(lambda self: self.net.gateway)
    origin = property(lambda self: self.net.origin)
    name = property(lambda self: self.libvirt.name if self.libvirt else None)
    forward_dev = property(lambda self: self.libvirt.forward_dev if self.libvirt else None)


@dataclass(slots=True)
class FlowCase:
    """One representative flow: `target` says what it stands for (a routed prefix, or the
    internet behind the default route); `route` is the route the target came from."""

    RULE_ATTRS = frozenset({"network", "src", "dst", "proto", "dport", "target", "route", "public", "trace"})

    facts: "Facts"
    network: NetworkView
    flow: Flow
    target: str
    route: Route | None
    public: bool

    src = property(lambda self: self.flow.src)
    dst = property(lambda self: self.flow.dst)
    proto = property(lambda self: self.flow.proto)
    dport = property(lambda self: self.flow.dport)

    @property
    def trace(self) -> TraceView:
        return self.facts.trace_view(self.flow)


@dataclass(slots=True)
class DnatCase:
    """A DNAT rule and the inbound flow it is meant for: from an outside client, arriving on
    the rule's `-i` interface (or the default route's), to the rule's `-d` address (or the
    address of that interface), on its port."""

    RULE_ATTRS = frozenset({"rule", "to", "to_port", "ingress", "src", "dst", "proto", "dport", "trace",
                            "origin", "network"})

    facts: "Facts"
    rule: Rule
    to: IPv4Address | None
    to_port: int | None
    ingress: str | None
    flow: Flow

    src = property(lambda self: self.flow.src)
    dst = property(lambda self: self.flow.dst)
    proto = property(lambda self: self.flow.proto)
    dport = property(lambda self: self.flow.dport)
    origin = property(lambda self: self.rule.origin)

    @property
    def trace(self) -> TraceView:
        return self.facts.trace_view(self.flow, self.ingress)

    @property
    def network(self) -> "NetworkView | None":
        """The guest network the DNAT sends to, if its target is a guest."""
        if self.to is None:
            return None
        return next((n for n in self.facts.networks if self.to in n.network), None)


@dataclass(slots=True)
class PortView:
    """`guest`: whether the port carries a guest (a tap, veth or macvtap; not libvirt's
    `<bridge>-nic` dummy, not an uplink NIC)."""

    RULE_ATTRS = frozenset({"name", "origin", "interface", "bridge", "guest"})

    name: str
    origin: Origin | None
    interface: Interface | None
    bridge: str
    guest: bool = False


@dataclass(slots=True)
class BridgeFacts:
    RULE_ATTRS = frozenset({"name", "origin", "interface", "ports", "sources", "network"})

    view: BridgeView
    interface: Interface | None
    ports: list[PortView]
    network: NetworkView | None

    name = property(lambda self: self.view.name)
    sources = property(lambda self: self.view.sources)

    @property
    def origin(self) -> Origin | None:
        return self.interface.origin if self.interface is not None else self.view.origin


@dataclass(slots=True)
class InputView:
    """One input piece of the dump as `netlint parse` reports it."""

    RULE_ATTRS = frozenset({"file", "kind", "status", "role", "reason", "problems", "errors", "origin", "lines",
                            "ruleset"})

    result: ParseResult

    @property
    def ruleset(self) -> "RulesetView | None":
        """An iptables output's ruleset, else null."""
        if self.result.source.kind in (Kind.IPTABLES_SAVE, Kind.IPTABLES_LIST) and self.result.data is not None:
            return RulesetView(self.result.data, self.file)
        return None

    file = property(lambda self: self.result.source.file)
    kind = property(lambda self: self.result.source.kind.value)
    status = property(lambda self: self.result.status.value)
    role = property(lambda self: self.result.source.role.value)
    reason = property(lambda self: self.result.source.empty_reason)
    problems = property(lambda self: list(self.result.source.diagnostics) + list(self.result.diagnostics))
    errors = property(lambda self: [d for d in self.problems if d.severity.value == "error"])
    lines = property(lambda self: [self.result.source.first_line, self.result.source.last_line])

    @property
    def origin(self) -> Origin:
        errors = self.errors
        return errors[0].origin if errors else Origin(self.file)


@dataclass(slots=True)
class RulesetView:
    """One iptables output: `origin` is its `# Generated by` line (else the file)."""

    RULE_ATTRS = frozenset({"file", "family", "backend", "version", "warnings", "tables", "origin"})

    ruleset: Any
    file: str

    family = property(lambda self: self.ruleset.family)
    backend = property(lambda self: self.ruleset.backend)
    version = property(lambda self: self.ruleset.version)
    warnings = property(lambda self: self.ruleset.warnings)
    tables = property(lambda self: self.ruleset.tables)

    @property
    def origin(self) -> Origin:
        return self.ruleset.origin or Origin(self.file)


@dataclass(slots=True)
class RouteDecisionView:
    RULE_ATTRS = frozenset({"kind", "route", "dev", "gateway", "table", "rule", "uncertain"})

    kind: str
    route: Route | None
    dev: str | None
    gateway: IPv4Address | None
    table: str
    rule: IpRule | None
    uncertain: bool


# ---- derived attributes of model facts ----------------------------------------------------------

def _match(rule: Rule, cls: type, direction: str | None = None):
    for m in rule.matches:
        if isinstance(m, cls) and (direction is None or getattr(m, "direction", None) == direction):
            return m
    return None


def _iface(rule: Rule, direction: str) -> str | None:
    m = _match(rule, InterfaceMatch, direction)
    return None if m is None else ("!" if m.negated else "") + m.name


def _net(rule: Rule, direction: str):
    m = _match(rule, AddressMatch, direction)
    return None if m is None or m.negated else m.network


def _states(rule: Rule) -> list[str]:
    m = _match(rule, StateMatch)
    return sorted(m.states) if m is not None and m.states and not m.states_negated else []


def _dports(rule: Rule):
    m = _match(rule, PortMatch)
    return m.dports if m is not None and not m.dports_negated else None


def route_text(route: Route) -> str:
    parts = ["default" if route.destination is None or route.destination.prefixlen == 0 else str(route.destination)]
    if route.type != "unicast":
        parts.insert(0, route.type)
    if route.gateway is not None:
        parts.append(f"via {route.gateway}")
    if route.dev:
        parts.append(f"dev {route.dev}")
    if route.table not in (None, "main"):
        parts.append(f"table {route.table}")
    return " ".join(parts)


def _ipv4(iface: Interface) -> list[IPv4Interface]:
    return [a.address for a in iface.addresses if a.family == 4]


DERIVED: dict[type, dict[str, Callable[[Any], Any]]] = {
    Rule: {
        "text": Rule.render,
        "target_name": lambda r: r.target.name if r.target else None,
        "in_iface": lambda r: _iface(r, "in"),
        "out_iface": lambda r: _iface(r, "out"),
        "source": lambda r: _net(r, "source"),
        "destination": lambda r: _net(r, "destination"),
        "negated_source": lambda r: (m.network if (m := _match(r, AddressMatch, "source")) and m.negated else None),
        "negated_destination": lambda r: (m.network if (m := _match(r, AddressMatch, "destination")) and m.negated
                                          else None),
        "protocol": lambda r: (m.protocol if (m := _match(r, ProtocolMatch)) and not m.negated else None),
        "states": _states,
        "dports": _dports,
        "modules": lambda r: [getattr(m, "module", None) for m in r.matches if getattr(m, "module", None)],
    },
    Chain: {"builtin": lambda c: c.builtin},
    Interface: {"is_up": lambda i: i.is_up, "has_carrier": lambda i: i.has_carrier, "ipv4": _ipv4,
                "kind": lambda i: i.link_kind},
    Route: {"text": route_text,
            "is_default": lambda r: r.destination is not None and r.destination.prefixlen == 0},
    Sysctl: {"text": lambda s: f"{s.key} = {s.value}"},
    Address: {"text": lambda a: str(a.address)},
}


# ---- the facts of one host ------------------------------------------------------------------------

SCOPES: dict[str, str] = {
    # scope name -> the name its item has in expressions
    "host": "host", "interface": "iface", "bridge": "bridge", "port": "port", "guest-network": "net",
    "route": "route", "flow": "path", "dnat": "dnat", "chain": "chain", "rule": "rule", "input": "input",
}

GLOBALS = frozenset({"host", "dump", "interfaces", "bridges", "ports", "routes", "ip_rules", "sysctls", "firewall",
                     "firewall6", "networks", "flows", "dnats", "inputs", "kinds", "libvirt_networks",
                     "guest_routes", "guest_addresses", "chains", "rulesets"})


class Facts:
    """Everything rules may read about one host; traces are computed once per flow, on demand."""

    def __init__(self, host: Host, upstream_knows: list[IPv4Network] | None = None):
        self.host = host
        self._walker: Walker | None = None
        self._upstream_knows = upstream_knows
        self._traces: dict[tuple[Flow, str | None], TraceView] = {}

    # -- traces --
    @property
    def walker(self) -> Walker:
        if self._walker is None:
            self._walker = Walker(self.host, self._upstream_knows)
        return self._walker

    def trace_view(self, flow: Flow, ingress: str | None = None) -> TraceView:
        key = (flow, ingress)
        view = self._traces.get(key)
        if view is None:
            trace = self.walker.trace(flow, ingress)
            legs = [LegView(name, leg, [StepView(s, self.fact_at(s.origin)) for s in leg.steps])
                    for name, leg in (("forward", trace.forward), ("reply", trace.reply),
                                      ("established", trace.established)) if leg is not None]
            view = self._traces[key] = TraceView(trace, legs)
        return view

    # -- origins to facts --
    @cached_property
    def by_origin(self) -> dict[tuple[str, int], Any]:
        index: dict[tuple[str, int], Any] = {}

        def add(fact: Any, origin: Origin | None) -> None:
            if origin is not None and origin.line is not None:
                index.setdefault((origin.file, origin.line), fact)
        for entry in (self.host.sysctls or {}).values():
            add(entry, entry.origin)
        for ruleset in (self.host.firewall, self.host.firewall6):
            if ruleset is not None:
                for table in ruleset.tables.values():
                    for chain in table.chains.values():
                        add(chain, chain.origin)
                        for rule in chain.rules:
                            add(rule, rule.origin)
        for route in [*self.host.routes, *(self.host.guest_routes or [])]:
            add(route, route.origin)
        for iface in self.host.interfaces.values():
            add(iface, iface.origin)
            for address in iface.addresses:
                add(iface, address.origin)
        for net in self.host.libvirt_networks:
            add(net, net.origin)
        return index

    def fact_at(self, origin: Origin | None) -> Any:
        if origin is None or origin.line is None:
            return None
        return self.by_origin.get((origin.file, origin.line))

    # -- collections --
    @cached_property
    def interfaces(self) -> list[Interface]:
        return list(self.host.interfaces.values())

    @cached_property
    def networks(self) -> list[NetworkView]:
        views = []
        for net in self.host.guest_networks:
            libvirt = self._libvirt_of(net)
            mode, source = self._mode(net, libvirt)
            ports = [self.host.interfaces[p] for p in self.host.bridges.get(net.bridge, BridgeView("", None)).ports
                     if p in self.host.interfaces]
            views.append(NetworkView(net, libvirt, mode, source, self._owner(net, libvirt), self._layout(net),
                                     self._guest_address(net, libvirt), ports))
        return views

    @cached_property
    def bridges(self) -> list[BridgeFacts]:
        nets = {n.bridge: n for n in self.networks}
        names = set(self.host.bridges)
        return [BridgeFacts(view, self.host.interfaces.get(name),
                            [PortView(p, o, self.host.interfaces.get(p), name,
                                      is_guest_port(self.host.interfaces.get(p), p, names))
                             for p, o in view.ports.items()],
                            nets.get(name))
                for name, view in self.host.bridges.items()]

    @cached_property
    def ports(self) -> list[PortView]:
        return [p for b in self.bridges for p in b.ports]

    @cached_property
    def chains(self) -> list[Chain]:
        fw = self.host.firewall
        return [] if fw is None else [c for t in fw.tables.values() for c in t.chains.values()]

    @cached_property
    def rules(self) -> list[Rule]:
        return [r for c in self.chains for r in c.rules]

    @cached_property
    def rulesets(self) -> list[RulesetView]:
        """Every iptables output of the dump, not only the one the walk uses per family."""
        return [RulesetView(r.data, r.source.file) for r in self.host.inputs
                if r.source.kind in (Kind.IPTABLES_SAVE, Kind.IPTABLES_LIST) and r.data is not None
                and r.status in (Status.PARSED, Status.PARTIAL)]

    @cached_property
    def inputs(self) -> list[InputView]:
        return [InputView(r) for r in self.host.inputs]

    @cached_property
    def kinds(self) -> list[str]:
        return sorted({r.source.kind.value for r in self.host.inputs if r.status in (Status.PARSED, Status.PARTIAL)})

    @cached_property
    def flows(self) -> list[FlowCase]:
        cases = []
        targets = self._targets()
        for net in self.networks:
            if net.mode == "bridge":
                continue  # a host bridge's guests use the LAN's router, not the host
            for dst, label, route, public in targets:
                if dst in net.network or self.host.local_address(dst) is not None:
                    continue
                for proto, port in PROBES:
                    case = FlowCase(self, net, Flow(net.guest, dst, proto, None, port), label, route, public)
                    cases.append(case)
                    net.flows.append(case)
        return cases

    @cached_property
    def dnats(self) -> list[DnatCase]:
        fw = self.host.firewall
        nat = fw.tables.get("nat") if fw else None
        if nat is None:
            return []
        cases = []
        for chain in _reachable(nat, "PREROUTING"):
            for rule in chain.rules:
                if rule.target is None or rule.target.name != "DNAT":
                    continue
                case = self._dnat_case(rule)
                if case is not None:
                    cases.append(case)
        return cases

    def scope_items(self, scope: str) -> list[Any]:
        return {
            "host": lambda: [self.host], "interface": lambda: self.interfaces, "bridge": lambda: self.bridges,
            "port": lambda: self.ports, "guest-network": lambda: self.networks, "route": lambda: self.host.routes,
            "flow": lambda: self.flows, "dnat": lambda: self.dnats, "chain": lambda: self.chains,
            "rule": lambda: self.rules, "input": lambda: self.inputs,
        }[scope]()

    def globals(self) -> dict[str, Any]:
        return _LazyNames(self)

    # -- inference --
    def _libvirt_of(self, net: GuestNetwork) -> LibvirtNetwork | None:
        for lv in self.host.libvirt_networks:
            if lv.bridge == net.bridge:
                return lv
            if any(ip.address.version == 4 and ip.address.network == net.network for ip in lv.ips):
                return lv
        return None

    @cached_property
    def _bridge_rules(self) -> dict[str, list[Rule]]:
        """Filter rules naming a bridge by -i/-o, and nat's MASQUERADE/SNAT rules (key ""), in one
        pass: a 100k-rule host is read once, not once per network."""
        bridges = set(self.host.bridges)
        index: dict[str, list[Rule]] = {}
        for rule in self.rules:
            target = rule.target.name if rule.target else None
            if rule.table == "nat" and target in ("MASQUERADE", "SNAT"):
                index.setdefault("", []).append(rule)
            elif rule.table == "filter":
                for m in rule.matches:
                    if isinstance(m, InterfaceMatch) and not m.negated and m.name in bridges:
                        index.setdefault(m.name, []).append(rule)
        return index

    def _mode(self, net: GuestNetwork, libvirt: LibvirtNetwork | None) -> tuple[str | None, str | None]:
        """libvirt's word when the dump has the network's XML. Else a bridge with an uplink port
        (a NIC, bond or VLAN rather than taps) is a host bridge, `bridge`: its guests sit on the
        LAN and the host does not route for them. Else the rules tell: a MASQUERADE/SNAT for the
        subnet, or libvirt's stateful accept towards the bridge (the NAT layout, even when its
        MASQUERADE was flushed), is `nat`; an accept towards the bridge without conntrack is
        `route`; libvirt's isolated layout (the bridge's own accept and its REJECTs, nothing for
        the subnet) is `isolated`."""
        if libvirt is not None:
            return (libvirt.forward_mode or "isolated"), "libvirt"
        names = set(self.host.bridges)
        ports = self.host.bridges.get(net.bridge, BridgeView("", None)).ports
        if any(not is_guest_port(self.host.interfaces.get(p), p, names)
               and not is_dummy_port(self.host.interfaces.get(p), p, names) for p in ports):
            return "bridge", "ports"
        if self.host.firewall is None:
            return None, None
        if any(_covers(_net(r, "source"), net.network) for r in self._bridge_rules.get("", [])):
            return "nat", "rules"
        stateless = stateful = cross = reject = subnet = False
        for rule in self._bridge_rules.get(net.bridge, []):
            target = rule.target.name if rule.target else None
            out_, in_ = _iface(rule, "out"), _iface(rule, "in")
            src, dst = _net(rule, "source"), _net(rule, "destination")
            if target == "ACCEPT" and out_ == net.bridge and in_ != net.bridge and _covers(dst, net.network):
                stateful, stateless = stateful or bool(_states(rule)), stateless or not _states(rule)
            if target == "ACCEPT" and (_covers(src, net.network) or _covers(dst, net.network)):
                subnet = True
            if target == "ACCEPT" and out_ == in_ == net.bridge:
                cross = True
            if target == "REJECT" and src is None and dst is None and net.bridge in (out_, in_):
                reject = True
        if stateless:
            return "route", "rules"
        if stateful:
            return "nat", "rules"
        if cross and reject and not subnet:
            return "isolated", "rules"
        return None, None

    def _layout(self, net: GuestNetwork) -> str | None:
        """Which of libvirt's iptables layouts the bridge's rules follow: `private-chains`
        (libvirt >= 5.1: LIBVIRT_FWX/FWI/FWO, LIBVIRT_INP/OUT, LIBVIRT_PRT) or `builtin-chains`
        (older libvirt: straight into INPUT/FORWARD/OUTPUT/POSTROUTING); null without such rules."""
        chains = {r.chain for r in self._bridge_rules.get(net.bridge, [])}
        if any(c.startswith("LIBVIRT_") for c in chains):
            return "private-chains"
        if chains & {"INPUT", "FORWARD", "OUTPUT"}:
            return "builtin-chains"
        return None

    def _owner(self, net: GuestNetwork, libvirt: LibvirtNetwork | None) -> str | None:
        """Who made the bridge: libvirt (its XML, a virbrN name, or LIBVIRT_* chains naming
        it), Docker (docker0, br-<12 hex>, DOCKER chains), podman/CNI, LXC/LXD; None when
        nothing says."""
        name = net.bridge
        chains = {r.chain for r in self._bridge_rules.get(name, [])}
        if libvirt is not None or re.fullmatch(r"virbr\d+", name) or any(c.startswith("LIBVIRT_") for c in chains):
            return "libvirt"
        if name == "docker0" or re.fullmatch(r"br-[0-9a-f]{12}", name) or any(c.startswith("DOCKER") for c in chains):
            return "docker"
        if name.startswith(("podman", "cni")):
            return "podman"
        if name.startswith(("lxcbr", "lxdbr")):
            return "lxc"
        return None

    def _guest_address(self, net: GuestNetwork, libvirt: LibvirtNetwork | None) -> IPv4Address:
        if libvirt is not None:
            for ip in libvirt.ips:
                for dhcp in ip.dhcp_ranges:
                    if isinstance(dhcp.start, IPv4Address) and dhcp.start in net.network:
                        return dhcp.start
        for candidate in net.network.hosts():
            if candidate != net.gateway:
                return candidate
        return net.gateway

    def _targets(self) -> list[tuple[IPv4Address, str, Route | None, bool]]:
        routes = [r for r in self.host.routes if r.family == 4 and r.destination is not None
                  and r.type == "unicast" and r.table in (None, "main")]
        prefixes = {r.destination for r in routes if r.destination.prefixlen > 0}
        targets: list[tuple[IPv4Address, str, Route | None, bool]] = []
        seen: set[IPv4Network] = set()
        for route in routes:
            dest = route.destination
            if dest.prefixlen == 0 or dest in seen or dest.is_link_local or dest.is_loopback or dest.is_multicast:
                continue
            seen.add(dest)
            address = self._address_in(dest, [p for p in prefixes if p != dest and p.subnet_of(dest)])
            if address is not None:
                targets.append((address, route_text(route), route, False))
        for text in PUBLIC_CANDIDATES:
            address = IPv4Address(text)
            if not any(address in p for p in prefixes):
                default = next((r for r in routes if r.destination.prefixlen == 0), None)
                # the internet first: it is the path a person asks about
                targets.insert(0, (address, "the internet (default route)" if default else "the internet (no route)",
                                   default, True))
                break
        return targets

    def _address_in(self, prefix: IPv4Network, specific: list[IPv4Network]) -> IPv4Address | None:
        """The first address of `prefix` that no more specific route covers and the host does
        not hold."""
        if prefix.num_addresses <= 2:
            candidate, last = prefix.network_address, prefix.broadcast_address
        else:
            candidate, last = prefix.network_address + 1, prefix.broadcast_address - 1
        for _ in range(len(specific) + 64):
            if candidate > last:
                return None
            inner = next((p for p in specific if candidate in p), None)
            if inner is not None:
                if inner.broadcast_address >= last:
                    return None
                candidate = inner.broadcast_address + 1
                continue
            if self.host.local_address(candidate) is None:
                return candidate
            candidate += 1
        return None

    def _dnat_case(self, rule: Rule) -> DnatCase | None:
        to = rule.target.option("--to-destination") if rule.target else None
        to_addr, to_port = None, None
        if to:
            text = to[0]
            host_part, _, port_part = text.partition(":")
            try:
                to_addr = IPv4Address(host_part.split("-")[0]) if host_part else None
            except ValueError:
                to_addr = None
            to_port = int(port_part.split("-")[0]) if port_part[:1].isdigit() else None
        proto = (m.protocol if (m := _match(rule, ProtocolMatch)) and not m.negated else "tcp")
        if proto not in ("tcp", "udp"):
            proto = "tcp"
        ports = _dports(rule)
        dport = _first_port(ports) or to_port
        ingress = _iface(rule, "in")
        if ingress is not None and (ingress.startswith("!") or ingress.endswith("+")):
            ingress = None
        if ingress is None:
            default = self.walker.router.lookup(OUTSIDE_CLIENT)
            ingress = default.dev if default.kind == "unicast" else None
        dst = _net(rule, "destination")
        if dst is not None and dst.version == 4 and dst.num_addresses == 1:
            address = dst.network_address
        else:
            addrs = self.host.connected(ingress) if ingress else []
            if not addrs:
                return None
            address = addrs[0].ip
        return DnatCase(self, rule, to_addr, to_port, ingress, Flow(OUTSIDE_CLIENT, address, proto, None, dport))


def _reachable(table: Any, start: str) -> list[Chain]:
    """The chains a packet entering `start` can reach through jumps and gotos, in order."""
    order: list[str] = []
    seen = {start}
    todo = deque([start])
    while todo:
        name = todo.popleft()
        if name not in table.chains:
            continue
        order.append(name)
        for rule in table.chains[name].rules:
            target = rule.target.name if rule.target is not None else None
            if target in table.chains and target not in seen:
                seen.add(target)
                todo.append(target)
    return [table.chains[n] for n in order]


def _bound_to(rule: Rule, name: str, local: set[IPv4Address]) -> bool:
    m = _match(rule, InterfaceMatch, "in")
    if m is not None and not m.negated and not m.name.endswith("+"):
        return m.name == name
    dst = _net(rule, "destination")
    return dst is not None and dst.version == 4 and dst.num_addresses == 1 and dst.network_address in local


def _covers(match: Any, network: IPv4Network) -> bool:
    return match is not None and match.version == 4 and network.subnet_of(match)


def _first_port(ports: Any) -> int | None:
    if ports is None:
        return None
    return ports.ranges[0].first if ports.ranges else None


class _LazyNames(dict):
    """The global names, each computed the first time an expression reads it."""

    def __init__(self, facts: Facts):
        super().__init__()
        self._facts = facts

    def __missing__(self, name: str) -> Any:
        f, host = self._facts, self._facts.host
        value = {
            "host": lambda: host, "dump": lambda: host.path, "interfaces": lambda: f.interfaces,
            "bridges": lambda: f.bridges, "ports": lambda: f.ports, "routes": lambda: host.routes,
            "ip_rules": lambda: host.rules, "sysctls": lambda: host.sysctls, "firewall": lambda: host.firewall,
            "firewall6": lambda: host.firewall6, "networks": lambda: f.networks, "flows": lambda: f.flows,
            "dnats": lambda: f.dnats, "inputs": lambda: f.inputs, "kinds": lambda: f.kinds,
            "libvirt_networks": lambda: host.libvirt_networks, "guest_routes": lambda: host.guest_routes,
            "chains": lambda: f.chains, "guest_addresses": lambda: host.guest_addresses,
            "rulesets": lambda: f.rulesets,
        }.get(name)
        if value is None:
            raise KeyError(name)
        self[name] = result = value()
        return result

    def __contains__(self, name: object) -> bool:
        return name in GLOBALS


# ---- functions --------------------------------------------------------------------------------------

def _address(value: Any) -> IPv4Address | None:
    if value is None:
        return None
    if isinstance(value, (IPv4Address,)):
        return value
    if isinstance(value, IPv4Interface):
        return value.ip
    try:
        return IPv4Address(str(value))
    except ValueError:
        raise ExprError(f"{value!r} is not an IPv4 address") from None


def _network(value: Any):
    if value is None:
        return None
    if isinstance(value, (IPv4Network, IPv6Network)):
        return value
    if isinstance(value, (IPv4Interface, IPv6Interface)):
        return value.network
    try:
        return ip_network(str(value), strict=False)
    except ValueError:
        raise ExprError(f"{value!r} is not a network") from None


def display(value: Any) -> str:
    """How a value reads in a message."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(display(v) for v in value) if value else "none"
    if isinstance(value, Sysctl):
        return f"{value.key} = {value.value}"
    if isinstance(value, Rule):
        return value.render()
    if isinstance(value, Route):
        return route_text(value)
    if isinstance(value, Interface):
        return value.name
    if isinstance(value, Chain):
        return f"{value.table} {value.name}"
    if isinstance(value, (NetworkView,)):
        return str(value.network)
    if isinstance(value, (FlowCase, DnatCase)):
        return value.trace.summary
    if isinstance(value, TraceView):
        return value.summary
    if isinstance(value, StepView):
        return value.detail
    if isinstance(value, (BridgeFacts, PortView)):
        return value.name
    if isinstance(value, LibvirtNetwork):
        return value.name or "?"
    if isinstance(value, InputView):
        return value.file
    return str(value)


class Functions:
    """The functions rules call. Names are fixed (an unknown one is an error when the rule
    loads); implementations read this host's facts."""

    NAMES = frozenset({"sysctl", "ifkey", "trace", "route_to", "interface", "chain", "cidr", "address",
                       "overlaps", "len", "join", "known", "unknown", "default", "int", "str", "min", "max",
                       "startswith", "endswith", "lower", "firewall_rules", "has_input", "fact_at", "sorted",
                       "unique", "guest_port"})

    def __init__(self, facts: Facts):
        self.facts = facts

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        try:
            return getattr(self, f"f_{name}")(*args, **kwargs)
        except TypeError as error:
            raise ExprError(f"{name}(): {error}") from None

    def f_sysctl(self, key):
        return None if key is None else self.facts.host.sysctl(str(key))

    def f_ifkey(self, name):
        return None if name is None else self.facts.host.interface_key(str(name))

    def f_trace(self, src, dst, proto="icmp", dport=None, sport=None, ingress=None):
        if src is None or dst is None:
            return None
        if proto not in ("icmp", "tcp", "udp"):
            raise ExprError(f"trace(): proto {proto!r} is not icmp, tcp or udp")
        return self.facts.trace_view(Flow(_address(src), _address(dst), proto, sport, dport), ingress)

    def f_route_to(self, dst, src=None):
        if dst is None:
            return None
        d = self.facts.walker.router.lookup(_address(dst), _address(src) if src is not None else None)
        return RouteDecisionView(d.kind, d.route, d.dev, d.gateway, d.table, d.rule, d.uncertain)

    def f_interface(self, name):
        return None if name is None else self.facts.host.interfaces.get(str(name))

    def f_chain(self, table, name, family=4):
        ruleset = self.facts.host.firewall6 if family == 6 else self.facts.host.firewall
        return None if ruleset is None else ruleset.chain(str(table), str(name))

    def f_firewall_rules(self, table=None, chain=None, target=None, family=4, iface=None):
        """Rules filtered in Python, not by the interpreter: a 100k-rule host stays fast.
        `iface` keeps the rules bound to that interface: a plain `-i` naming it, or without a
        plain `-i`, a `-d` /32 that is one of its addresses."""
        ruleset = self.facts.host.firewall6 if family == 6 else self.facts.host.firewall
        if ruleset is None:
            return None
        chains = None if chain is None else set(chain) if isinstance(chain, list) else {chain}
        if table is not None and chains is not None:
            rules = [r for name in chains if (found := ruleset.chain(table, name)) is not None for r in found.rules]
        else:
            rules = ruleset.rules()
        picked = [r for r in rules if (table is None or r.table == table) and (chains is None or r.chain in chains)
                  and (target is None or (r.target is not None and r.target.name == target))]
        if iface is None:
            return picked
        name = iface if isinstance(iface, str) else iface.name
        local = {a.ip for a in self.facts.host.connected(name)}
        return [r for r in picked if _bound_to(r, name, local)]

    def f_cidr(self, value):
        return _network(value)

    def f_address(self, value):
        return _address(value)

    def f_overlaps(self, a, b):
        a, b = _network(a), _network(b)
        if a is None or b is None:
            return None
        return a.version == b.version and a.overlaps(b)

    def f_len(self, value):
        return None if value is None else len(value)

    def f_join(self, values, sep=", "):
        return None if values is None else sep.join(display(v) for v in values)

    def f_known(self, value):
        return value is not None

    def f_unknown(self, value):
        return value is None

    def f_default(self, value, fallback):
        return fallback if value is None else value

    def f_int(self, value):
        if value is None:
            return None
        try:
            return int(str(value).strip())
        except ValueError:
            return None

    def f_str(self, value):
        return display(value)

    def f_min(self, values):
        values = [v for v in (values or []) if v is not None]
        return min(values) if values else None

    def f_max(self, values):
        values = [v for v in (values or []) if v is not None]
        return max(values) if values else None

    def f_sorted(self, values):
        return None if values is None else sorted(values, key=display)

    def f_unique(self, values):
        if values is None:
            return None
        out = []
        for v in values:
            if v not in out:
                out.append(v)
        return out

    def f_startswith(self, text, prefix):
        return None if text is None else str(text).startswith(str(prefix))

    def f_endswith(self, text, suffix):
        return None if text is None else str(text).endswith(str(suffix))

    def f_lower(self, text):
        return None if text is None else str(text).lower()

    def f_has_input(self, kind):
        return kind in self.facts.kinds

    def f_guest_port(self, iface):
        """Whether an interface (or a name) is a link that carries a guest: a tap, veth or
        macvtap by `ip -d`, else by name (vnetN, tapN, macvtapN…); libvirt's `<bridge>-nic`
        dummy never is."""
        if iface is None:
            return None
        name = iface if isinstance(iface, str) else iface.name
        return is_guest_port(self.facts.host.interfaces.get(name), name, set(self.facts.host.bridges))

    def f_fact_at(self, origin):
        return self.facts.fact_at(origin)


def identity(value: Any) -> str:
    """What a fact is, independent of where it sits in the file: a finding's fingerprint key."""
    if isinstance(value, Sysctl):
        return value.key
    if isinstance(value, Rule):
        return f"{value.table} {value.render()}"
    if isinstance(value, Route):
        return route_text(value)
    if isinstance(value, Chain):
        return f"{value.table} {value.name}"
    if isinstance(value, (Interface, PortView, BridgeFacts)):
        return value.name
    if isinstance(value, NetworkView):
        return str(value.network)
    if isinstance(value, InputView):
        return value.file
    if isinstance(value, FlowCase):
        return f"{value.network.network} {value.target} {value.proto}"
    if isinstance(value, DnatCase):
        return identity(value.rule)
    if isinstance(value, StepView):
        return identity(value.fact) if value.fact is not None else value.detail
    if isinstance(value, Origin):
        return value.file
    if isinstance(value, Host):
        return "host"
    return display(value)


__all__ = ["DERIVED", "Facts", "Functions", "GLOBALS", "SCOPES", "display", "identity", "ip_address"]
