"""One dump's parsed facts merged into a `Host`: what the packet walk and the rules read.

Several outputs often say the same thing (`brctl show` and `master virbr0`, `route -n` and
`ip route`); the richer one is used, the choice is recorded, and disagreements become
diagnostics. What no output says stays unknown: a sysctl absent from the dump is None here,
never the kernel's default (design.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from .model import (Address, BrctlData, BridgeLinkData, Diagnostic, Interface, InterfacesData, IpRule, IpRulesData, Kind,
                    LibvirtNetwork, LibvirtNetworkData, Origin, ParseResult, Role, Route, RoutePrintData, RoutesData,
                    Severity, Status, Sysctl, SysctlData)
from .intake import MAX_INPUT_BYTES, read_input
from .model.firewall import Ruleset
from .parsers import parse

# Routing outputs, richest first: `ip route` knows tables, types and sources.
_ROUTE_KINDS = (Kind.IP_ROUTE, Kind.ROUTE, Kind.NETSTAT_RN)


@dataclass(slots=True)
class BridgeView:
    """A bridge and its ports, whichever outputs told them (`sources` names them)."""

    name: str
    origin: Origin | None
    ports: dict[str, Origin | None] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass(slots=True)
class GuestNetwork:
    """A guest network: the subnet of an IPv4 address on a bridge; the host's address there is
    the guests' gateway."""

    network: IPv4Network
    bridge: str
    gateway: IPv4Address
    origin: Origin


@dataclass(slots=True)
class Host:
    path: str
    inputs: list[ParseResult] = field(default_factory=list)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    bridges: dict[str, BridgeView] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    route_source: str | None = None
    rules: list[IpRule] = field(default_factory=list)
    firewall: Ruleset | None = None
    firewall6: Ruleset | None = None
    sysctls: dict[str, Sysctl] | None = None
    guest_networks: list[GuestNetwork] = field(default_factory=list)
    guest_routes: list[Route] | None = None
    guest_route_source: str | None = None
    guest_addresses: list[Address] = field(default_factory=list)
    libvirt_networks: list[LibvirtNetwork] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def sysctl(self, key: str) -> Sysctl | None:
        """The value the dump shows for `key`, or None: unknown (no sysctl output, or not in it)."""
        return None if self.sysctls is None else self.sysctls.get(key)

    def interface_key(self, name: str) -> str:
        """An interface's name as sysctl keys spell it (`eth0.100` is `eth0/100`)."""
        return name.replace(".", "/")

    def local_address(self, address: IPv4Address) -> tuple[Interface, IPv4Interface] | None:
        """The interface holding `address`, if the host has it (any interface: weak host model)."""
        for iface in self.interfaces.values():
            for addr in iface.addresses:
                if addr.family == 4 and addr.address.ip == address:
                    return iface, addr.address
        return None

    def connected(self, name: str) -> list[IPv4Interface]:
        """The IPv4 addresses (with their subnets) on interface `name`."""
        iface = self.interfaces.get(name)
        if iface is None:
            return []
        return [a.address for a in iface.addresses if a.family == 4]

    def guest_network_of(self, address: IPv4Address) -> GuestNetwork | None:
        best = None
        for net in self.guest_networks:
            if address in net.network and (best is None or net.network.prefixlen > best.network.prefixlen):
                best = net
        return best

    def note(self, message: str, origin: Origin | None = None, severity: Severity = Severity.INFO) -> None:
        self.diagnostics.append(Diagnostic(origin or Origin(self.path), message, "", severity))


def load_host(path: str, max_bytes: int = MAX_INPUT_BYTES, namespace: str | None = None) -> Host:
    """Read, parse and merge one dump (an archive, a sosreport, a folder, a file, or `-` for
    standard input). Raises intake's InputError."""
    return build_host(path, [parse(source) for source in read_input(path, max_bytes, namespace)])


def _usable(result: ParseResult) -> bool:
    return result.status in (Status.PARSED, Status.PARTIAL) and result.data is not None


def build_host(path: str, results: list[ParseResult]) -> Host:
    """Merge the parse results of one dump into a Host."""
    host = Host(path, list(results))
    usable = [r for r in results if _usable(r)]
    by_kind: dict[Kind, list[ParseResult]] = {}
    guest: dict[Kind, list[ParseResult]] = {}
    for result in usable:
        target = guest if result.source.role is Role.GUEST else by_kind
        target.setdefault(result.source.kind, []).append(result)
    _interfaces(host, by_kind)
    _bridges(host, by_kind)
    _routes(host, by_kind)
    _firewall(host, by_kind)
    _sysctls(host, by_kind)
    _libvirt(host, by_kind)
    _guest_networks(host)
    _guest_routes(host, guest)
    _guest_addresses(host, guest)
    return host


def _interfaces(host: Host, by_kind: dict[Kind, list[ParseResult]]) -> None:
    sources = by_kind.get(Kind.IP_ADDR, []) + by_kind.get(Kind.IFCONFIG, [])
    for result in sources:
        data: InterfacesData = result.data
        for iface in data.interfaces:
            known = host.interfaces.get(iface.name)
            if known is None:
                host.interfaces[iface.name] = iface
            elif not known.addresses and iface.addresses:
                # `ip link` told the link, `ip addr`/`ip -o addr` the addresses: keep both.
                known.addresses = iface.addresses
    if len(sources) > 1:
        host.note(f"interfaces merged from {', '.join(r.source.file for r in sources)}; the first wins")


def _bridges(host: Host, by_kind: dict[Kind, list[ParseResult]]) -> None:
    for result in by_kind.get(Kind.BRCTL_SHOW, []):
        data: BrctlData = result.data
        for bridge in data.bridges:
            view = host.bridges.setdefault(bridge.name, BridgeView(bridge.name, bridge.origin))
            view.sources.append(result.source.file)
            for port in bridge.ports:
                view.ports.setdefault(port.name, port.origin)
    for result in by_kind.get(Kind.BRIDGE_LINK, []):
        data: BridgeLinkData = result.data
        for port in data.ports:
            if port.master:
                view = host.bridges.setdefault(port.master, BridgeView(port.master, None))
                if result.source.file not in view.sources:
                    view.sources.append(result.source.file)
                view.ports.setdefault(port.name, port.origin)
    told_by_output = {name for name, view in host.bridges.items() if view.sources}
    for iface in host.interfaces.values():
        if iface.master is None:
            continue
        master = host.interfaces.get(iface.master)
        # Without `ip -d` or a bridge output, the master's flags tell: bonds and VRFs carry MASTER,
        # a bridge does not.
        is_bridge = master is not None and master.link_kind == "bridge" or iface.slave_kind == "bridge_slave" \
            or iface.master in host.bridges \
            or master is not None and master.link_kind is None and "MASTER" not in master.flags
        if not is_bridge:
            continue  # a bond or VRF master
        view = host.bridges.setdefault(iface.master, BridgeView(iface.master, None))
        if "master" not in view.sources:
            view.sources.append("master")
        if iface.name not in view.ports:
            if iface.master in told_by_output:
                host.note(f"{iface.name} has master {iface.master} in {iface.origin.file}, but "
                          f"{', '.join(view.sources[:-1])} does not list it as a port", iface.origin, Severity.WARNING)
            view.ports[iface.name] = iface.origin


def _routes(host: Host, by_kind: dict[Kind, list[ParseResult]]) -> None:
    for kind in _ROUTE_KINDS:
        results = by_kind.get(kind, [])
        if not results:
            continue
        chosen = results[0]
        data: RoutesData = chosen.data
        host.routes = [r for r in data.routes if r.family == 4]
        host.route_source = chosen.source.file
        others = [r.source.file for k in _ROUTE_KINDS for r in by_kind.get(k, []) if r is not chosen]
        if others:
            host.note(f"routes taken from {chosen.source.file} ({kind.value}); also present: {', '.join(others)}")
            _compare_routes(host, [r for k in _ROUTE_KINDS for r in by_kind.get(k, []) if r is not chosen])
        break
    for result in by_kind.get(Kind.IP_RULE, []):
        data: IpRulesData = result.data
        host.rules.extend(r for r in data.rules if r.family in (None, 4))


def _main_table(routes: list[Route]) -> set[tuple[str, str]]:
    return {(str(r.destination), str(r.gateway)) for r in routes
            if r.family == 4 and r.type == "unicast" and r.table in (None, "main") and r.destination is not None}


def _compare_routes(host: Host, others: list[ParseResult]) -> None:
    mine = _main_table(host.routes)
    for result in others:
        theirs = _main_table(result.data.routes)
        missing = sorted(theirs - mine)
        if missing:
            listed = ", ".join(f"{d} via {g}" if g != "None" else d for d, g in missing[:3])
            host.note(f"{result.source.file} has main-table routes that {host.route_source} lacks: {listed}",
                      Origin(result.source.file), Severity.WARNING)


def _firewall(host: Host, by_kind: dict[Kind, list[ParseResult]]) -> None:
    for kind in (Kind.IPTABLES_SAVE, Kind.IPTABLES_LIST):
        for result in by_kind.get(kind, []):
            ruleset: Ruleset = result.data
            if ruleset.family == 6:
                host.firewall6 = host.firewall6 or ruleset
                continue
            if host.firewall is None:
                host.firewall = ruleset
                continue
            for name, table in ruleset.tables.items():
                if name in host.firewall.tables:
                    host.note(f"table {name} appears in more than one firewall output; the first is used",
                              Origin(result.source.file), Severity.WARNING)
                else:
                    host.firewall.tables[name] = table


def _sysctls(host: Host, by_kind: dict[Kind, list[ParseResult]]) -> None:
    results = by_kind.get(Kind.SYSCTL, [])
    if not results:
        return
    host.sysctls = {}
    for result in results:
        data: SysctlData = result.data
        for entry in data.entries:
            known = host.sysctls.get(entry.key)
            if known is not None and known.value != entry.value and known.origin.file != entry.origin.file:
                host.note(f"{entry.key} is {known.value} in {known.origin} but {entry.value} here; the later is used",
                          entry.origin, Severity.WARNING)
            host.sysctls[entry.key] = entry


def _libvirt(host: Host, by_kind: dict[Kind, list[ParseResult]]) -> None:
    for result in by_kind.get(Kind.LIBVIRT_NETWORK_XML, []):
        data: LibvirtNetworkData = result.data
        if data.network is not None:
            host.libvirt_networks.append(data.network)


def _guest_networks(host: Host) -> None:
    for name in host.bridges:
        for addr in host.connected(name):
            if addr.network.prefixlen < 32:
                iface = host.interfaces[name]
                origin = next(a.origin for a in iface.addresses if a.family == 4 and a.address == addr)
                host.guest_networks.append(GuestNetwork(addr.network, name, addr.ip, origin))
    for net in host.libvirt_networks:
        if net.bridge and net.bridge not in host.bridges:
            for ip in net.ips:
                if ip.address.version == 4:
                    host.note(f"libvirt network {net.name} names bridge {net.bridge}, which the dump does not show",
                              net.origin)


def _guest_addresses(host: Host, guest: dict[Kind, list[ParseResult]]) -> None:
    """The guest's own IPv4 addresses, from its `ip addr`/`ifconfig` (loopback left out)."""
    for kind in (Kind.IP_ADDR, Kind.IFCONFIG):
        for result in guest.get(kind, []):
            data: InterfacesData = result.data
            host.guest_addresses.extend(a for i in data.interfaces for a in i.addresses
                                        if a.family == 4 and not a.address.ip.is_loopback)


def _guest_routes(host: Host, guest: dict[Kind, list[ParseResult]]) -> None:
    for kind in (Kind.ROUTE_PRINT, *_ROUTE_KINDS):
        for result in guest.get(kind, []):
            data: RoutesData | RoutePrintData = result.data
            host.guest_routes = [r for r in data.routes if r.family == 4]
            host.guest_route_source = result.source.file
            return
