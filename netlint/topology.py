"""A host's topology as a networkx graph: the map the packet walk follows and `netlint graph` draws.

A `MultiDiGraph`, because two nodes are often joined by several facts at once (the host routes
many prefixes through `eno1`; an interface has several addresses) and each fact keeps its own
edge, attributes and origin. Direction is the way a guest's packet leaves:
guest → bridge → host → uplink → gateway → outside. The symmetric relations are stored once,
port → bridge (`l2-member`) and interface → host (`address`).

Node ids: an interface by its name (`virbr0`, `vnet0`, `eth0.100`), `guest:<cidr>` for the guests
of a guest network (a dump rarely says which tap carries which guest, so one node per network),
`gw:<ip>` for a route's next hop, `host` for the IP stack and `outside` for what lies beyond a
default route's gateway (always present, isolated when the host has no default route).

Node attributes: `kind` (guest|tap|bridge|interface|host|gateway|outside), `label`, `origin`
("file:line" or None). Interfaces, taps and bridges add `up` and `carrier` (None when no output
shows the link's state, e.g. a port only `brctl show` names), `state` (operstate), `dummy`
(libvirt's always-DOWN `<bridge>-nic`, or a `dummy` link), `master`, `link_kind` and `addresses`
(every address as `ip/prefix`). Guests add `network`, `gateway` and `bridge`; gateways `address`.

Edge attributes: `kind` and `origin` ("file:line" of the fact that created the edge, or None).
- `guest-link` guest → bridge, from the bridge's address line (its subnet is the guest network);
- `l2-member` port → bridge, from the `brctl show`/`bridge link` row or the `master` link line;
- `address` interface → host, one per IPv4 `inet` line, with `address`;
- `route` host → interface, one per route (per nexthop of a multipath route), with
  `destination`, `gateway`, `metric`, `table`, `type`; a route without a device (blackhole,
  unreachable, prohibit) loops on `host`. The local table's routes (a local and broadcast route
  per address) repeat the address edges and are left out;
- `next-hop` interface → `gw:<ip>`, one per interface and gateway, from the first route using it;
  interface → `outside` for a default route without a gateway (`default dev ppp0`);
- `next-hop` `gw:<ip>` → `outside`, from the default route through that gateway.
"""

from __future__ import annotations

import re

import networkx as nx

from .host import Host
from .model import Interface, Origin, Route
from .model.routes import IPAddress

# Names the kernel, libvirt, QEMU and container runtimes give to guest-facing links.
_GUEST_PORT_NAME = re.compile(r"vnet\d+$|tap|veth|macvtap\d+$")
# Routes that only repeat the host's own addresses.
_ADDRESS_ROUTE_TYPES = {"local", "broadcast"}


def build_graph(host: Host) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(path=host.path)
    graph.add_node("host", kind="host", label="host", origin=None)
    graph.add_node("outside", kind="outside", label="outside", origin=None)
    bridges = _bridge_names(host)
    for iface in host.interfaces.values():
        _add_link(graph, iface.name, iface, host, bridges)
    for name in sorted(bridges - host.interfaces.keys()):
        _add_link(graph, name, None, host, bridges)
    for view in host.bridges.values():
        for port, origin in view.ports.items():
            if port not in graph:
                _add_link(graph, port, None, host, bridges, master=view.name)
            graph.add_edge(port, view.name, kind="l2-member", origin=_where(origin))
    for iface in host.interfaces.values():
        for addr in iface.addresses:
            if addr.family == 4:
                graph.add_edge(iface.name, "host", kind="address", address=str(addr.address),
                               origin=_where(addr.origin))
    for net in host.guest_networks:
        node = f"guest:{net.network}"
        graph.add_node(node, kind="guest", label=f"guests {net.network}", origin=_where(net.origin),
                       network=str(net.network), gateway=str(net.gateway), bridge=net.bridge)
        graph.add_edge(node, net.bridge, kind="guest-link", origin=_where(net.origin))
    for route in host.routes:
        if route.table != "local" and route.type not in _ADDRESS_ROUTE_TYPES:
            _add_route(graph, host, route, bridges)
    return graph


def is_guest_port(iface: Interface | None, name: str, bridges: set[str]) -> bool:
    """A tap, veth or macvtap that carries a guest. `ip -d` says what the link is; without it (or
    when its only detail line is the port's role, `bridge_slave`) the name decides. libvirt's
    `<bridge>-nic` is a tap too, but never carries a guest."""
    if is_dummy_port(iface, name, bridges):
        return False
    if iface is not None and iface.link_kind is not None and iface.link_kind != iface.slave_kind:
        if iface.link_kind == "tun":
            return "tap" in iface.details[:2] or iface.link_type == "ether"
        return iface.link_kind in ("veth", "macvtap")
    return _GUEST_PORT_NAME.match(name) is not None


def bridge_ports(graph: nx.MultiDiGraph, bridge: str) -> list[str]:
    """Every port of `bridge`, dummies and uplinks included."""
    if bridge not in graph:
        return []
    return sorted({u for u, _, kind in graph.in_edges(bridge, data="kind") if kind == "l2-member"})


def unenslaved_taps(graph: nx.MultiDiGraph) -> list[str]:
    """Guest-facing links that exist but sit in no bridge: a guest behind one reaches nothing."""
    return sorted(n for n, attrs in graph.nodes(data=True)
                  if attrs["kind"] == "tap" and attrs["master"] is None
                  and not any(k == "l2-member" for _, _, k in graph.out_edges(n, data="kind")))


def _bridge_names(host: Host) -> set[str]:
    return set(host.bridges) | {i.name for i in host.interfaces.values() if i.link_kind == "bridge"}


def is_dummy_port(iface: Interface | None, name: str, bridges: set[str]) -> bool:
    """libvirt's `<bridge>-nic` (or any dummy link): it pins the bridge's MAC, never carries traffic."""
    if iface is not None and iface.link_kind == "dummy":
        return True
    if not name.endswith("-nic"):
        return False
    owner = name[:-len("-nic")]
    return owner in bridges or (iface is not None and iface.master == owner)


def _add_link(graph: nx.MultiDiGraph, name: str, iface: Interface | None, host: Host, bridges: set[str],
              master: str | None = None) -> None:
    if name in bridges:
        kind = "bridge"
    elif is_guest_port(iface, name, bridges):
        kind = "tap"
    else:
        kind = "interface"
    if iface is None:
        origin = host.bridges[name].origin if name in host.bridges else None
        graph.add_node(name, kind=kind, label=name, origin=_where(origin), up=None, carrier=None, state=None,
                       dummy=is_dummy_port(None, name, bridges), master=master, link_kind=None, addresses=[])
        return
    graph.add_node(name, kind=kind, label=name, origin=_where(iface.origin), up=iface.is_up,
                   carrier=_carrier(iface), state=iface.state, dummy=is_dummy_port(iface, name, bridges),
                   master=iface.master, link_kind=iface.link_kind,
                   addresses=[str(a.address) for a in iface.addresses])


def _carrier(iface: Interface) -> bool | None:
    """`LOWER_UP`/`RUNNING` say carrier, `NO-CARRIER` says none; a link line with neither (an
    interface that is administratively down) tells nothing."""
    if iface.has_carrier or "NO-CARRIER" in iface.flags:
        return iface.has_carrier
    return None if not iface.is_up else False


def _add_route(graph: nx.MultiDiGraph, host: Host, route: Route, bridges: set[str]) -> None:
    destination = str(route.destination) if route.destination is not None else route.destination_name
    is_default = route.destination is not None and route.destination.prefixlen == 0
    hops = [(nh.gateway, None, nh.dev, nh.origin or route.origin) for nh in route.nexthops] \
        or [(route.gateway, route.gateway_name, route.dev, route.origin)]
    for gateway, gateway_name, dev, origin in hops:
        gw_text = str(gateway) if gateway is not None else gateway_name
        dev = dev or _connected_dev(host, gateway)
        target = dev or "host"
        if target not in graph:
            _add_link(graph, target, None, host, bridges)
        graph.add_edge("host", target, kind="route", origin=_where(origin), destination=destination,
                       gateway=gw_text, metric=route.metric, table=route.table, type=route.type)
        if dev is None:
            continue
        if gw_text is None:
            if is_default and not graph.has_edge(dev, "outside"):
                graph.add_edge(dev, "outside", kind="next-hop", origin=_where(origin))
            continue
        gw = f"gw:{gw_text}"
        if gw not in graph:
            graph.add_node(gw, kind="gateway", label=gw_text, origin=None, address=gw_text)
        if not graph.has_edge(dev, gw):
            graph.add_edge(dev, gw, kind="next-hop", origin=_where(origin))
        if is_default and not graph.has_edge(gw, "outside"):
            graph.add_edge(gw, "outside", kind="next-hop", origin=_where(origin))


def _connected_dev(host: Host, gateway: IPAddress | None) -> str | None:
    """The interface whose subnet holds `gateway`, for outputs that print no device."""
    if gateway is None or gateway.version != 4:
        return None
    for name in host.interfaces:
        if any(gateway in addr.network for addr in host.connected(name)):
            return name
    return None


def _where(origin: Origin | None) -> str | None:
    if origin is None:
        return None
    return origin.file if origin.line is None else f"{origin.file}:{origin.line}"
