"""Routes and policy rules, from every routing-table output netlint reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from .origin import Origin

IPNetwork = IPv4Network | IPv6Network
IPAddress = IPv4Address | IPv6Address


@dataclass(slots=True)
class NextHop:
    """One `nexthop` of a multipath route (`ip route`'s indented `nexthop via … dev … weight N`
    lines). `flags` are words such as `dead`, `linkdown`, `onlink`; `options` keeps the other
    attributes (`realms`…) like `Route.options`; `origin` is the line of the nexthop."""

    gateway: IPAddress | None = None
    dev: str | None = None
    weight: int | None = None
    flags: list[str] = field(default_factory=list)
    options: dict[str, int | str] = field(default_factory=dict)
    origin: Origin | None = None


@dataclass(slots=True)
class Route:
    """A route, whatever printed it.

    `destination` is None only when the output shows a host name that cannot be resolved
    offline (`route` without `-n`); the name is then in `destination_name` (likewise
    `gateway_name`). `type` is iproute2's route type (`unicast` unless the output says
    otherwise). `flags` are `route -n`'s letters (`U`, `G`, `H`, `!`…) or `ip route`'s
    words (`onlink`, `linkdown`…). `src` is the preferred source, or for a Windows
    `route print` the address of the interface. `options` keeps the remaining attributes
    (`ref`, `use`, `mss`, `expires`, `pref`…) in order. `from_` is the source prefix of a
    source-specific route (`ip -6 route … from 2001:db8::/64`); `locked` names the metrics
    the output marks `lock` (`mtu lock 1400`: `options['mtu'] == 1400`, `'mtu' in locked`).
    """

    family: int
    destination: IPNetwork | None
    origin: Origin
    type: str = "unicast"
    gateway: IPAddress | None = None
    dev: str | None = None
    metric: int | None = None
    table: str | None = None
    proto: str | None = None
    scope: str | None = None
    src: IPAddress | None = None
    flags: list[str] = field(default_factory=list)
    nexthops: list[NextHop] = field(default_factory=list)
    destination_name: str | None = None
    gateway_name: str | None = None
    options: dict[str, int | str] = field(default_factory=dict)
    from_: IPNetwork | None = None
    locked: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RoutesData:
    """Facts of a `route`, `netstat-rn` or `ip-route` output."""

    routes: list[Route] = field(default_factory=list)


@dataclass(slots=True)
class WindowsInterface:
    """A row of `route print`'s Interface List: `index` and the adapter's MAC as printed."""

    index: int
    description: str
    origin: Origin
    mac: str | None = None


@dataclass(slots=True)
class RoutePrintData:
    """A Windows `route print`: its routes (active and persistent, `options['persistent']`)
    and interface list. An `On-link` gateway is `gateway=None` with the flag `on-link`."""

    interfaces: list[WindowsInterface] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)


@dataclass(slots=True)
class IpRule:
    """One `ip rule` line. Selectors absent from the line are None (so is `from all`);
    `action` is `lookup` (with `table`), `goto` (with `goto`, the target priority), `nop`,
    `blackhole`, `unreachable`, `prohibit` or `nat` (old kernels). `family` is 4 or 6 when an
    address on the line tells, else None. `flags`: `iif-detached`/`oif-detached` (the
    interface does not exist), `unresolved` (a `goto` to no rule), `l3mdev` (the VRF table of
    the device)."""

    priority: int
    origin: Origin
    invert: bool = False
    from_: IPNetwork | None = None
    to: IPNetwork | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: str | None = None
    tos: str | None = None
    action: str = "lookup"
    table: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    family: int | None = None
    goto: int | None = None
    flags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class IpRulesData:
    rules: list[IpRule] = field(default_factory=list)
