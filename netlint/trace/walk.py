"""The round trip of design.md §4: where the flow starts, the guest's side, the bridge,
PREROUTING, the routing decision, forwarding and rp_filter, FORWARD or INPUT, POSTROUTING,
the egress link and next hop, the stated assumptions beyond the host, then the reply and, for
TCP, the initiator's later packets.

Each leg is a list of steps. A step the dump cannot decide (a sysctl it lacks, a match
netlint cannot evaluate) is marked uncertain and the walk goes on as if it passed: a later
certain failure still fails the leg (it fails either way); a leg that gets through with an
uncertain step is `unknown`, and the first uncertain step is the decisive one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network

from ..host import Host
from ..topology import bridge_ports, build_graph, unenslaved_taps
from ..model import Interface, Kind, Origin, Sysctl
from ..model.firewall import Chain, Rule
from ..model.trace import Disposition, Flow, Leg, Step, Trace, Verdict
from . import explain
from .netfilter import Addresses, Evaluator, Outcome, Packet, match
from .routing import Decision, Router

_REQUEST_ICMP, _REPLY_ICMP = 8, 0


@dataclass(frozen=True, slots=True)
class Conntrack:
    """What conntrack does to a connection's later packets, as its first packet was NATed:
    the destination is rewritten in PREROUTING, the source in POSTROUTING."""

    dst: tuple[IPv4Address, int | None] | None = None
    src: tuple[IPv4Address, int | None] | None = None

    @staticmethod
    def original(sent: Packet) -> Conntrack:
        """For the initiator's later packets."""
        return Conntrack((sent.dst, sent.dport) if sent.dnat else None, (sent.src, sent.sport) if sent.snat else None)

    @staticmethod
    def reply(flow: Flow, sent: Packet) -> Conntrack:
        """For the replies: back to the initiator, from the address it sent to."""
        return Conntrack((flow.src, flow.sport) if sent.snat else None, (flow.dst, flow.dport) if sent.dnat else None)


class _Leg:
    """Steps of one leg, and how it ended."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.first_uncertain: int | None = None

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        if step.uncertain and self.first_uncertain is None:
            self.first_uncertain = len(self.steps) - 1
        return step

    def fail(self, disposition: Disposition, step: Step) -> Leg:
        self.steps.append(step)
        return Leg(disposition, len(self.steps) - 1, self.steps)

    def end(self, disposition: Disposition) -> Leg:
        if self.first_uncertain is not None:
            return Leg(Disposition.UNKNOWN, self.first_uncertain, self.steps)
        return Leg(disposition, len(self.steps) - 1, self.steps)


class Walker:
    def __init__(self, host: Host, upstream_knows: list[IPv4Network] | None = None):
        self.host = host
        self.router = Router(host)
        self.upstream_knows = upstream_knows or []
        local, broadcast, primary = set(), set(), {}
        for name, iface in host.interfaces.items():
            for addr in iface.addresses:
                if addr.family != 4:
                    continue
                local.add(addr.address.ip)
                if addr.address.network.prefixlen < 31:
                    broadcast.add(addr.address.network.broadcast_address)
                if "secondary" not in addr.flags:
                    primary.setdefault(name, addr.address.ip)
        self.addresses = Addresses(local, broadcast, primary)
        self.evaluator = Evaluator(host.firewall, self.addresses) if host.firewall is not None else None
        self.graph = build_graph(host)
        # A ruleset with `*table` headers is all the kernel held: an absent table is empty. A
        # headerless fragment says nothing of what it does not show.
        self.complete_firewall = host.firewall is not None and any(
            t.origin is not None for t in host.firewall.tables.values())
        self.assumptions: list[str] = []
        self.tap: str | None = None  # the guest's tap, when --in names it

    # ---- evidence --------------------------------------------------------------------------

    def _assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def _sysctl(self, *keys: str):
        for key in keys:
            entry = self.host.sysctl(key)
            if entry is not None:
                return entry
        return None

    def forwarding(self, iif: str) -> tuple[Sysctl | None, str]:
        """The sysctl that decides whether packets arriving on `iif` are forwarded: its own
        `conf.<iif>.forwarding`, else `ip_forward` (whose writes copy to every interface)."""
        key = f"net.ipv4.conf.{self.host.interface_key(iif)}.forwarding"
        return self._sysctl(key, "net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding"), key

    def rp_filter(self, iif: str) -> tuple[int | None, Origin | None]:
        every = self._sysctl("net.ipv4.conf.all.rp_filter")
        this = self._sysctl(f"net.ipv4.conf.{self.host.interface_key(iif)}.rp_filter")
        if every is None or this is None:
            return None, None
        try:
            values = int(every.value), int(this.value)
        except ValueError:
            return None, None
        mode = max(values)
        return mode, (every.origin if values[0] >= values[1] else this.origin)

    def bridge_netfilter(self) -> tuple[bool | None, Origin | None]:
        entry = self.host.sysctl("net.bridge.bridge-nf-call-iptables")
        if entry is not None:
            return entry.value.strip() == "1", entry.origin
        if self.host.sysctls:
            self._assume("br_netfilter is not loaded: the sysctl output has no net.bridge keys")
            return False, None
        return None, None

    # ---- links -----------------------------------------------------------------------------

    def guest_ports(self, bridge: str) -> tuple[list[Interface], list[str]]:
        """The bridge's guest-facing ports (UP first), and the taps that exist but are in no
        bridge, as the topology graph knows them."""
        ports = []
        for name in bridge_ports(self.graph, bridge):
            if self.graph.nodes[name].get("kind") != "tap":
                continue  # an uplink, or libvirt's <bridge>-nic dummy: never a guest
            iface = self.host.interfaces.get(name)
            if iface is None:  # only `brctl show` names it: its state is not in the dump
                view = self.host.bridges[bridge]
                iface = Interface(name, view.ports.get(name) or Origin(self.host.path), flags=["UP"])
            ports.append(iface)
        # A veth with the host's addresses on it is an uplink (as in a namespace lab), not a stray tap.
        stray = [t for t in unenslaved_taps(self.graph) if not self.host.connected(t)]
        return sorted(ports, key=lambda i: not self._tap_usable(i)), stray

    def _physdev_in(self, port: str) -> dict:
        """A routed packet from a bridge port carries the port for `-m physdev` only when
        br_netfilter passes bridged traffic to iptables (bridge-nf-call-iptables = 1)."""
        on, _ = self.bridge_netfilter()
        if on is None:
            return {"physdev_unknown": True}
        return {"physdev_in": port} if on else {}

    @staticmethod
    def _tap_usable(tap: Interface) -> bool:
        """UP, and with carrier: a tap without it has no running guest behind it."""
        return tap.is_up and "NO-CARRIER" not in tap.flags

    def _link_up(self, iface: Interface) -> bool:
        state_down = iface.state in ("DOWN", "LOWERLAYERDOWN")
        return iface.is_up and "NO-CARRIER" not in iface.flags and not state_down

    # ---- netfilter -------------------------------------------------------------------------

    def hook(self, leg: _Leg, node: str, chain: str, tables: tuple[str, ...], packet: Packet) -> Packet | Leg:
        """Run `packet` through the tables of one hook; the rewritten packet, or the failed leg."""
        for table in tables:
            if table == "nat" and packet.ctstate != "NEW":
                continue  # NAT decides on a connection's first packet; conntrack does the rest
            if self.evaluator is None:
                if table == "filter":
                    leg.add(Step(node, "netfilter", "unknown", f"no iptables output in the dump: what {table} "
                                 f"{chain} does is unknown (collect `iptables-save`)", None, table, chain, True))
                continue
            outcomes = self.evaluator.run(table, chain, packet)
            if outcomes is None:
                if not self.complete_firewall and table in ("filter", "nat"):
                    leg.add(Step(node, "netfilter", "unknown", f"the pasted rules do not show {table} {chain}",
                                 None, table, chain, True))
                continue
            start = self.host.firewall.chain(table, chain)
            if not start.rules and start.policy == "ACCEPT":
                continue  # an empty chain that accepts does nothing worth a step
            result = self._settle(leg, node, table, chain, outcomes)
            if isinstance(result, Leg):
                return result
            packet = result
        return packet

    def _settle(self, leg: _Leg, node: str, table: str, chain: str, outcomes: list[Outcome]) -> Packet | Leg:
        passing = [o for o in outcomes if o.verdict == "ACCEPT"]
        blocking = [o for o in outcomes if o.verdict != "ACCEPT"]
        if not passing:
            worst = next((o for o in blocking if not o.uncertain), blocking[0])
            disposition = {"DROP": Disposition.DENIED, "REJECT": Disposition.REJECTED}.get(worst.verdict,
                                                                                          Disposition.UNKNOWN)
            return leg.fail(disposition, self._netfilter_step(node, table, chain, worst, False))
        chosen = next((o for o in passing if not o.uncertain), passing[0])
        uncertain = bool(blocking)
        if chosen.nat is not None and chosen.nat is chosen.rule:
            # The NAT rule decided: one step says both. A MASQUERADE out of an interface without
            # an address in the dump is dropped by the kernel, unless the dump lost the address.
            unresolved = chosen.nat.target.name == "MASQUERADE" and not chosen.packet.snat
            detail = (f"MASQUERADE out of {chosen.packet.oif}, which has no IPv4 address in the dump: the kernel "
                      f"drops what it cannot masquerade, unless the dump lost the address: {chosen.nat.render()}"
                      if unresolved else explain.nat_detail(chosen.nat, chosen.packet))
            leg.add(Step(node, "nat", chosen.nat.target.name, detail, chosen.nat.origin, table, chain,
                         uncertain or unresolved))
            return chosen.packet
        step = self._netfilter_step(node, table, chain, chosen, uncertain)
        if uncertain:
            doubt = blocking[0].maybes[-1] if blocking[0].maybes else blocking[0].rule
            if doubt is not None:
                step.detail += f"; unless {doubt.render()} ({doubt.origin}) applies, which the dump cannot tell"
                step.origin = doubt.origin
        leg.add(step)
        if chosen.nat is not None:
            leg.add(Step(node, "nat", chosen.nat.target.name,
                         explain.nat_detail(chosen.nat, chosen.packet), chosen.nat.origin, table, chain))
        return chosen.packet

    @staticmethod
    def _netfilter_step(node: str, table: str, chain: str, outcome: Outcome, uncertain: bool) -> Step:
        if outcome.rule is not None:
            rule: Rule = outcome.rule
            detail = f"{rule.render()}" + (f" (in {rule.chain})" if rule.chain != chain else "")
            if rule.target is not None and rule.target.name == "RETURN" and outcome.chain is not None:
                detail += f": back to {chain}, whose policy is {outcome.chain.policy or 'unknown'}"
            return Step(node, "netfilter", outcome.verdict, detail, rule.origin, table, chain, uncertain)
        start: Chain | None = outcome.chain
        policy = start.policy if start is not None and start.policy else "unknown"
        detail = f"no rule matched: policy {policy}"
        return Step(node, "netfilter", outcome.verdict, detail, start.origin if start else None, table, chain,
                    uncertain)

    # ---- routing steps ---------------------------------------------------------------------

    def route(self, leg: _Leg, node: str, packet: Packet) -> Decision | Leg:
        decision = self.router.lookup(packet.dst, packet.src, packet.iif, packet.mark)
        origin = decision.route.origin if decision.route else None
        if decision.kind == "local":
            leg.add(Step(node, "routing", "local", f"{packet.dst} is an address of the host: delivered locally",
                         origin))
            return decision
        if decision.kind == "none":
            where = Origin(self.host.route_source) if self.host.route_source else None
            detail = f"no route to {packet.dst}" + ("" if self.host.route_source else
                                                    ": the dump has no routing table (collect `ip route show table all`)")
            if self.host.route_source is None:
                leg.add(Step(node, "routing", "unknown", detail, None, uncertain=True))
                return decision
            return leg.fail(Disposition.NO_ROUTE, Step(node, "routing", "no route", detail, where))
        if decision.kind == "blackhole":
            return leg.fail(Disposition.NULL_ROUTED, Step(node, "routing", "blackhole",
                                                          f"{packet.dst} is routed to a blackhole", origin))
        if decision.kind in ("unreachable", "prohibit"):
            return leg.fail(Disposition.NO_ROUTE, Step(node, "routing", decision.kind,
                                                       f"{packet.dst} is routed {decision.kind}", origin))
        via = f" via {decision.gateway}" if decision.gateway else ""
        table = f" (table {decision.table})" if decision.table != "main" else ""
        leg.add(Step(node, "routing", "forward", f"{packet.dst}{via} dev {decision.dev}{table}", origin,
                     uncertain=decision.uncertain))
        return decision

    def forward_checks(self, leg: _Leg, node: str, packet: Packet) -> Leg | None:
        """Forwarding of the ingress interface, then reverse path filtering."""
        entry, key = self.forwarding(packet.iif)
        if entry is None:
            leg.add(Step(node, "sysctl", "unknown", f"{key} is not in the dump, so whether {packet.iif} forwards is "
                         "unknown (collect `sysctl -a`)", None, uncertain=True))
        elif entry.value.strip() == "0":
            return leg.fail(Disposition.FORWARDING_DISABLED, Step(
                node, "sysctl", "drop", f"{entry.key} = {entry.value}: packets arriving on {packet.iif} are not "
                                        "forwarded", entry.origin))
        else:
            leg.add(Step(node, "sysctl", "forward", f"{entry.key} = {entry.value}: {packet.iif} forwards",
                         entry.origin))
        return self.rp_check(leg, node, packet)

    def rp_check(self, leg: _Leg, node: str, packet: Packet) -> Leg | None:
        """Reverse path filtering on the ingress interface: max(all, <if>), 1 strict, 2 loose."""
        mode, origin = self.rp_filter(packet.iif)
        if mode == 0:
            return None
        back = self.router.lookup(packet.src, packet.dst, None, packet.mark)
        strict_ok = back.kind == "local" or (back.kind == "unicast" and back.dev == packet.iif)
        loose_ok = back.kind in ("unicast", "local")
        if mode is None:
            if not strict_ok:  # only a strict (or loose) filter would drop it: the dump must say
                leg.add(Step(node, "sysctl", "unknown", f"rp_filter of {packet.iif} is not in the dump, and the "
                             f"route back to {packet.src} does not use {packet.iif} (collect `sysctl -a`)", None,
                             uncertain=True))
            return None
        if strict_ok if mode == 1 else loose_ok:
            leg.add(Step(node, "sysctl", "pass", f"rp_filter {'strict' if mode == 1 else 'loose'} on {packet.iif}: "
                         f"{packet.src} routes back {'through it' if mode == 1 else 'somewhere'}", origin))
            return None
        why = f"the route back to {packet.src} leaves by {back.dev}" if back.kind == "unicast" else \
            f"there is no route back to {packet.src}"
        return leg.fail(Disposition.RP_FILTERED, Step(
            node, "sysctl", "drop", f"rp_filter {'strict' if mode == 1 else 'loose'} on {packet.iif}: {why}", origin))

    def egress(self, leg: _Leg, node: str, decision: Decision, packet: Packet) -> Leg | None:
        iface = self.host.interfaces.get(decision.dev or "")
        if iface is None:
            leg.add(Step(node, "link", "unknown", f"{decision.dev} is not in the interface output", None,
                         uncertain=bool(self.host.interfaces)))
        elif not self._link_up(iface):
            why = "administratively down" if not iface.is_up else "without carrier"
            return leg.fail(Disposition.LINK_DOWN, Step(node, "link", "down", f"{iface.name} is {why}", iface.origin))
        else:
            leg.add(Step(node, "link", "up", f"out of {iface.name}", iface.origin))
        if decision.gateway is not None:
            onlink = decision.route is not None and "onlink" in decision.route.flags
            connected = any(decision.gateway in a.network for a in self.host.connected(decision.dev or ""))
            peer = iface is not None and any(a.peer is not None and a.peer.ip == decision.gateway
                                             for a in iface.addresses)
            if decision.gateway.version == 6:
                # RFC 5549 (Linux 5.2+): an IPv4 route via an IPv6 next hop, resolved by NDP on the link
                connected = decision.gateway.is_link_local or iface is not None and any(
                    a.family == 6 and decision.gateway in a.address.network for a in iface.addresses)
            if not (onlink or connected or peer):
                where = decision.route.origin if decision.route else None
                if not self._routes_show_onlink():
                    leg.add(Step(node, "routing", "unknown", f"gateway {decision.gateway} is on no subnet of "
                                 f"{decision.dev}; {self.host.route_source} cannot show whether the route is onlink "
                                 "(collect `ip route show table all`)", where, uncertain=True))
                    return None
                return leg.fail(Disposition.NEIGHBOR_UNREACHABLE, Step(
                    node, "routing", "no neighbor", f"gateway {decision.gateway} is on no subnet of {decision.dev}",
                    where))
        return None

    def _routes_show_onlink(self) -> bool:
        """Only `ip route` prints `onlink`; `route -n` and `netstat -rn` never do."""
        return any(r.source.file == self.host.route_source and r.source.kind is Kind.IP_ROUTE
                   for r in self.host.inputs)

    # ---- the walk --------------------------------------------------------------------------

    def trace(self, flow: Flow, ingress: str | None = None) -> Trace:
        """`ingress` is the interface the flow enters by: an uplink for a flow from outside, or
        the tap that carries a guest (otherwise any UP guest port of its bridge is taken)."""
        self.assumptions = []
        if flow.proto in ("tcp", "udp") and flow.sport is None:
            self._assume(f"{flow.src}'s source port is an ephemeral one, 1024 or above (name it with --sport)")
        guest_net = self.host.guest_network_of(flow.src)
        self.tap = None
        if ingress is not None and guest_net is not None and ingress in bridge_ports(self.graph, guest_net.bridge):
            self.tap = ingress
        elif ingress is not None:
            guest_net = None
        forward = _Leg()
        packet = self._first_packet(flow)
        if guest_net is not None:
            started = self.from_guest(forward, flow, guest_net, packet)
        else:
            started = self.from_outside(forward, flow, packet, ingress)
        if isinstance(started, Leg):
            return self._finish(flow, started, None, None)
        leg, end_packet, delivered_to = started
        if not leg.disposition.success:
            return self._finish(flow, leg, None, None)
        reply = self.reply(flow, end_packet, delivered_to, guest_net)
        established = None
        if flow.proto == "tcp" and reply.disposition.success:
            established = self.established(flow, end_packet, guest_net, ingress)
        return self._finish(flow, leg, reply, established)

    def _first_packet(self, flow: Flow) -> Packet:
        return Packet(flow.src, flow.dst, flow.proto, flow.sport, flow.dport, None, None, "NEW",
                      _REQUEST_ICMP if flow.proto == "icmp" else None,
                      frozenset({"SYN"}) if flow.proto == "tcp" else frozenset())

    def guest_side(self, leg: _Leg, src: IPv4Address, dst: IPv4Address, guest_net) -> IPv4Address | Leg | None:
        """The guest's own routing: the next hop it sends `dst` to (None: on its own subnet)."""
        if dst in guest_net.network:
            leg.add(Step("guest", "guest", "on-link", f"{dst} is on the guest's own subnet {guest_net.network}"))
            return None
        routes = self.host.guest_routes
        if routes is None:
            self._assume(f"the guest's default gateway is {guest_net.gateway}, the address of {guest_net.bridge}: "
                         "the dump has no routing table of the guest")
            leg.add(Step("guest", "guest", "send", f"assumed: default via {guest_net.gateway}", None))
            return guest_net.gateway
        best = None
        for route in routes:
            if route.destination is not None and dst in route.destination and (
                    best is None or route.destination.prefixlen > best.destination.prefixlen
                    or (route.destination.prefixlen == best.destination.prefixlen
                        and (route.metric or 0) < (best.metric or 0))):
                best = route
        if best is None:
            return leg.fail(Disposition.NO_ROUTE, Step("guest", "guest", "no route",
                                                       f"the guest has no route to {dst}",
                                                       Origin(self.host.guest_route_source)))
        if best.gateway is None or best.gateway == src:
            leg.add(Step("guest", "guest", "on-link", f"guest route {best.destination} on-link", best.origin))
            return guest_net.gateway if dst not in guest_net.network else None
        if self.host.local_address(best.gateway) is None:
            return leg.fail(Disposition.GUEST_NO_GATEWAY, Step(
                "guest", "guest", "no gateway", f"the guest sends {dst} to {best.gateway}, which is not an address "
                                                "of this host", best.origin))
        leg.add(Step("guest", "guest", "send", f"guest route {best.destination} via {best.gateway}", best.origin))
        return best.gateway

    def bridge_in(self, leg: _Leg, guest_net) -> Interface | Leg:
        """The guest reaches the bridge: bridge up, an UP guest port."""
        bridge = self.host.interfaces.get(guest_net.bridge)
        if bridge is not None and not bridge.is_up:
            return leg.fail(Disposition.LINK_DOWN, Step("host", "bridge", "down",
                                                        f"{bridge.name} is administratively down", bridge.origin))
        ports, stray = self.guest_ports(guest_net.bridge)
        view = self.host.bridges.get(guest_net.bridge)
        where = (view.origin if view and view.origin else None) or (bridge.origin if bridge else None)
        if not ports:
            extra = (f"; {', '.join(stray)} {'exists' if len(stray) == 1 else 'exist'} but "
                     f"{'is' if len(stray) == 1 else 'are'} in no bridge") if stray else ""
            return leg.fail(Disposition.LINK_DOWN, Step("host", "bridge", "no port",
                                                        f"{guest_net.bridge} has no guest port{extra}", where))
        named = [p for p in ports if p.name == self.tap]
        port = named[0] if named else ports[0]
        if named:
            ports = named
        if not self._tap_usable(port):
            state = "down" if not port.is_up else "without carrier (no guest runs behind it)"
            return leg.fail(Disposition.LINK_DOWN, Step("host", "bridge", "down",
                                                        f"{port.name}, the only guest port of {guest_net.bridge}, is "
                                                        f"{state}" if len(ports) == 1 else
                                                        f"every guest port of {guest_net.bridge} is down",
                                                        port.origin))
        if len(ports) > 1 and not named:
            self._assume(f"which of {', '.join(p.name for p in ports)} carries the guest is not in the dump: "
                         f"{port.name} is taken")
        leg.add(Step("host", "bridge", "in", f"into {guest_net.bridge} through {port.name}", port.origin))
        return port

    def from_guest(self, leg: _Leg, flow: Flow, guest_net, packet: Packet, conntrack: Conntrack | None = None):
        hop = self.guest_side(leg, flow.src, flow.dst, guest_net)
        if isinstance(hop, Leg):
            return hop
        port = self.bridge_in(leg, guest_net)
        if isinstance(port, Leg):
            return port
        if hop is None and flow.dst in guest_net.network and self.host.local_address(flow.dst) is None:
            return self.bridged(leg, flow, guest_net, packet, port)
        packet = replace(packet, iif=guest_net.bridge, **self._physdev_in(port.name))
        return self.routed(leg, "host", packet, conntrack)

    def from_outside(self, leg: _Leg, flow: Flow, packet: Packet, ingress: str | None,
                     conntrack: Conntrack | None = None):
        if ingress is None:
            back = self.router.lookup(flow.src)
            ingress = back.dev if back.kind == "unicast" else None
            if ingress is None:
                return leg.fail(Disposition.NO_ROUTE, Step("upstream", "routing", "no ingress",
                                                           f"no interface of the host leads to {flow.src}; name one "
                                                           "with --in"))
            self._assume(f"{flow.src} enters the host on {ingress}, the interface its route points to")
        iface = self.host.interfaces.get(ingress)
        if iface is not None and not self._link_up(iface):
            return leg.fail(Disposition.LINK_DOWN, Step("host", "link", "down", f"{ingress} is down", iface.origin))
        leg.add(Step("upstream", "upstream", "send", f"{flow.src} sends to {flow.dst}, arriving on {ingress}",
                     iface.origin if iface else None))
        return self.routed(leg, "host", replace(packet, iif=ingress), conntrack)

    def routed(self, leg: _Leg, node: str, packet: Packet, conntrack: Conntrack | None = None):
        """From PREROUTING to where the packet ends: (leg, packet as it left, where delivered).
        A later packet of a connection gets its NAT from `conntrack`, not from the nat table."""
        packet = self.hook(leg, node, "PREROUTING", ("raw", "mangle", "nat"), packet)
        if isinstance(packet, Leg):
            return packet
        if conntrack is not None and conntrack.dst is not None:
            packet = replace(packet, dst=conntrack.dst[0], dport=conntrack.dst[1])
            leg.add(Step(node, "conntrack", "dst", f"conntrack rewrites the destination to {packet.dst}"))
        decision = self.route(leg, node, packet)
        if isinstance(decision, Leg):
            return decision
        if decision.kind == "local":
            failed = self.rp_check(leg, node, packet)
            if failed is not None:
                return failed
            packet = self.hook(leg, node, "INPUT", ("mangle", "filter", "nat"), packet)
            if isinstance(packet, Leg):
                return packet
            leg.add(Step(node, "local", "deliver", f"delivered to the host ({packet.dst})"))
            return leg.end(Disposition.DELIVERED), packet, "host"
        if decision.kind == "none":
            return leg.end(Disposition.UNKNOWN), packet, None
        failed = self.forward_checks(leg, node, packet)
        if failed is not None:
            return failed
        packet = replace(packet, oif=decision.dev)
        packet = self.hook(leg, node, "FORWARD", ("mangle", "filter"), packet)
        if isinstance(packet, Leg):
            return packet
        packet = self.hook(leg, node, "POSTROUTING", ("mangle", "nat"), packet)
        if isinstance(packet, Leg):
            return packet
        if conntrack is not None and conntrack.src is not None:
            packet = replace(packet, src=conntrack.src[0], sport=conntrack.src[1])
            leg.add(Step(node, "conntrack", "src", f"conntrack rewrites the source to {packet.src}"))
        elif packet.ctstate == "NEW" and not packet.snat and self.host.guest_network_of(packet.src) is not None \
                and decision.dev not in self.host.bridges and not any(s.stage == "nat" and s.uncertain
                                                                      for s in leg.steps):
            leg.add(self._not_natted(node, packet))
        failed = self.egress(leg, node, decision, packet)
        if failed is not None:
            return failed
        guest_net = next((g for g in self.host.guest_networks if g.bridge == decision.dev), None)
        if guest_net is not None and packet.dst in guest_net.network:
            ports, _ = self.guest_ports(guest_net.bridge)
            if not any(self._tap_usable(p) for p in ports):
                return leg.fail(Disposition.LINK_DOWN, Step(node, "bridge", "no port",
                                                            f"{guest_net.bridge} has no UP guest port", None))
            leg.add(Step("guest", "guest", "deliver", f"bridged to the guest {packet.dst}"))
            return leg.end(Disposition.DELIVERED), packet, "guest"
        leg.add(Step("upstream", "upstream", "exit", self._beyond(decision, packet)))
        return leg.end(Disposition.EXITS_HOST), packet, ("upstream", decision)

    def _not_natted(self, node: str, packet: Packet) -> Step:
        """A guest's packet leaves by an uplink with its own address: say which NAT rules there
        are and that none applied (the nearest cause of a reply that cannot come back)."""
        nat = self.host.firewall.tables.get("nat") if self.host.firewall else None
        candidates = [r for r in (nat.chains.values() if nat else ()) for r in r.rules
                      if r.target is not None and r.target.name in ("MASQUERADE", "SNAT")]
        if self.evaluator is None:
            return Step(node, "nat", "unknown", f"leaves as {packet.src}: without iptables output, whether it is "
                        "NATed is unknown", None, "nat", "POSTROUTING", True)
        if not candidates:
            return Step(node, "nat", "none", f"leaves un-NATed as {packet.src}: nat has no MASQUERADE or SNAT rule",
                        Origin(nat.chains["POSTROUTING"].origin.file) if nat and "POSTROUTING" in nat.chains
                        and nat.chains["POSTROUTING"].origin else None, "nat", "POSTROUTING")
        nearest = min(candidates, key=lambda r: sum(match(m, packet, self.addresses) is False for m in r.matches))
        return Step(node, "nat", "none", f"leaves un-NATed as {packet.src}: no MASQUERADE/SNAT applies to it; "
                    f"the nearest is {nearest.render()}", nearest.origin, "nat", "POSTROUTING")

    def _beyond(self, decision: Decision, packet: Packet) -> str:
        if decision.gateway is not None:
            self._assume(f"the gateway {decision.gateway} delivers to any destination, and routes replies back only "
                         f"to its own subnet{self._knows()}")
            return f"handed to {decision.gateway} on {decision.dev}, which delivers {packet.dst}"
        self._assume(f"hosts on the subnet of {decision.dev} reply only to addresses of that subnet{self._knows()}")
        return f"delivered on the subnet of {decision.dev} to {packet.dst}"

    def _knows(self) -> str:
        return f" and to {', '.join(map(str, self.upstream_knows))} (--upstream-knows)" if self.upstream_knows else ""

    def bridged(self, leg: _Leg, flow: Flow, guest_net, packet: Packet, port: Interface):
        """Guest to guest on one bridge: bridged, through iptables only with br_netfilter."""
        on, origin = self.bridge_netfilter()
        if on is None:
            leg.add(Step("host", "bridge", "unknown", "whether bridged packets traverse iptables is unknown: "
                         "net.bridge.bridge-nf-call-iptables is not in the dump", None, uncertain=True))
        elif on:
            leg.add(Step("host", "bridge", "br_netfilter", "net.bridge.bridge-nf-call-iptables = 1: bridged packets "
                         "traverse iptables", origin))
            packet = replace(packet, iif=guest_net.bridge, oif=guest_net.bridge, bridged=True,
                             physdev_in=port.name, physdev_out=port.name)
            for chain, tables in (("PREROUTING", ("raw", "mangle", "nat")), ("FORWARD", ("mangle", "filter")),
                                  ("POSTROUTING", ("mangle", "nat"))):
                packet = self.hook(leg, "host", chain, tables, packet)
                if isinstance(packet, Leg):
                    return packet
        else:
            leg.add(Step("host", "bridge", "bridge", "bridged without iptables (bridge-nf-call-iptables off)", origin))
        leg.add(Step("guest", "guest", "deliver", f"bridged to the guest {flow.dst}"))
        return leg.end(Disposition.DELIVERED), packet, "guest"

    # ---- the way back ----------------------------------------------------------------------

    def _reply_packet(self, sent: Packet, flow: Flow, src: IPv4Address, dst: IPv4Address) -> Packet:
        return Packet(src, dst, flow.proto, sent.dport, sent.sport, None, None, "ESTABLISHED",
                      _REPLY_ICMP if flow.proto == "icmp" else None,
                      frozenset({"SYN", "ACK"}) if flow.proto == "tcp" else frozenset())

    def reply(self, flow: Flow, sent: Packet, delivered_to, guest_net) -> Leg:
        leg = _Leg()
        back = Conntrack.reply(flow, sent)
        reply = self._reply_packet(sent, flow, sent.dst, sent.src)
        if delivered_to == "host":
            leg.add(Step("host", "local", "reply", f"the host answers {sent.src} from {sent.dst}"))
            return self.local_out(leg, reply, back)
        if delivered_to == "guest":
            target_net = self.host.guest_network_of(sent.dst)
            hop = self.guest_side(leg, reply.src, reply.dst, target_net)
            if isinstance(hop, Leg):
                return hop
            port = self.bridge_in(leg, target_net)
            if isinstance(port, Leg):
                return port
            # a frame for the host's own address is not bridged on: it goes up to IP (de-NAT, route)
            if hop is None and reply.dst in target_net.network and self.host.local_address(reply.dst) is None:
                result = self.bridged(leg, flow, target_net, reply, port)
            else:
                result = self.routed(leg, "host", replace(reply, iif=target_net.bridge,
                                                          **self._physdev_in(port.name)), back)
            return result if isinstance(result, Leg) else result[0]
        _, decision = delivered_to
        knows = [n for n in self.upstream_knows if sent.src in n]
        subnet = [a for a in self.host.connected(decision.dev or "") if sent.src in a.network]
        if not knows and not subnet:
            return leg.fail(Disposition.NO_RETURN_ROUTE, Step(
                "upstream", "upstream", "lost", f"the reply to {sent.src} is lost beyond the host: "
                f"{decision.gateway or sent.dst} knows no route to {sent.src}, which left the host un-NATed "
                "(MASQUERADE/SNAT did not apply); tell netlint otherwise with --upstream-knows", None))
        leg.add(Step("upstream", "upstream", "reply", f"{sent.dst} replies to {sent.src} by {decision.dev}"))
        result = self.routed(leg, "host", replace(reply, iif=decision.dev), back)
        return result if isinstance(result, Leg) else result[0]

    def local_out(self, leg: _Leg, packet: Packet, conntrack: Conntrack | None = None) -> Leg:
        """A packet the host itself sends: OUTPUT, then POSTROUTING, out of its interface."""
        decision = self.router.lookup(packet.dst, packet.src, None, packet.mark)
        if decision.kind not in ("unicast", "local"):
            return leg.fail(Disposition.NO_ROUTE, Step("host", "routing", decision.kind,
                                                       f"the host has no usable route back to {packet.dst}",
                                                       decision.route.origin if decision.route else None))
        leg.add(Step("host", "routing", "output", f"{packet.dst} dev {decision.dev}",
                     decision.route.origin if decision.route else None))
        packet = replace(packet, oif=decision.dev)
        packet = self.hook(leg, "host", "OUTPUT", ("raw", "mangle", "nat", "filter"), packet)
        if isinstance(packet, Leg):
            return packet
        packet = self.hook(leg, "host", "POSTROUTING", ("mangle", "nat"), packet)
        if isinstance(packet, Leg):
            return packet
        if conntrack is not None and conntrack.src is not None:
            packet = replace(packet, src=conntrack.src[0], sport=conntrack.src[1])
            leg.add(Step("host", "conntrack", "src", f"conntrack rewrites the source to {packet.src}"))
        if decision.kind == "unicast":
            failed = self.egress(leg, "host", decision, packet)
            if failed is not None:
                return failed
        leg.add(Step("guest" if self.host.guest_network_of(packet.dst) else "upstream", "local", "deliver",
                     f"delivered to {packet.dst}"))
        return leg.end(Disposition.DELIVERED)

    def established(self, flow: Flow, sent: Packet, guest_net, ingress: str | None) -> Leg:
        """The initiator's later packets: the same way as the first, now ESTABLISHED."""
        leg = _Leg()
        packet = replace(self._first_packet(flow), ctstate="ESTABLISHED", tcp_flags=frozenset({"ACK"}))
        if guest_net is not None:
            started = self.from_guest(leg, flow, guest_net, packet, Conntrack.original(sent))
        else:
            started = self.from_outside(leg, flow, packet, ingress, Conntrack.original(sent))
        return started if isinstance(started, Leg) else started[0]

    def _finish(self, flow: Flow, forward: Leg, reply: Leg | None, established: Leg | None) -> Trace:
        legs = [leg for leg in (forward, reply, established) if leg is not None]
        if any(not leg.disposition.success and leg.disposition is not Disposition.UNKNOWN for leg in legs):
            verdict = Verdict.UNREACHABLE
        elif all(leg.disposition.success for leg in legs) and (reply is not None or not forward.disposition.success):
            verdict = Verdict.REACHABLE if forward.disposition.success else Verdict.UNREACHABLE
        else:
            verdict = Verdict.UNKNOWN
        trace = Trace(flow, verdict, forward, reply, established, assumptions=list(self.assumptions))
        trace.explanation = explain.sentence(trace)
        return trace
