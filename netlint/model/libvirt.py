"""A libvirt virtual network, as `virsh net-dumpxml` or the network's XML file describe it."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network

from .origin import Origin


@dataclass(slots=True)
class DhcpRange:
    start: IPv4Address | IPv6Address
    end: IPv4Address | IPv6Address
    origin: Origin


@dataclass(slots=True)
class DhcpHost:
    """A `<dhcp><host>` reservation: a guest's `mac` (DHCPv4) or `id` (DHCPv6) gets `ip`."""

    origin: Origin
    mac: str | None = None
    id: str | None = None
    name: str | None = None
    ip: IPv4Address | IPv6Address | None = None


@dataclass(slots=True)
class LibvirtIp:
    """An `<ip>` element: `address` with its prefix (from `prefix=` or `netmask=`)."""

    address: IPv4Interface | IPv6Interface
    origin: Origin
    dhcp_ranges: list[DhcpRange] = field(default_factory=list)
    dhcp_hosts: list[DhcpHost] = field(default_factory=list)


@dataclass(slots=True)
class LibvirtRoute:
    """A `<route>` element: libvirt adds this static route on the host when it starts the
    network (a subnet behind a guest acting as a router)."""

    destination: IPv4Network | IPv6Network
    gateway: IPv4Address | IPv6Address
    origin: Origin
    metric: int | None = None


@dataclass(slots=True)
class LibvirtNetwork:
    """`forward_mode` is None for an isolated network (no `<forward>`); a `<forward>`
    without `mode` is `nat`, as libvirt reads it. `forward_dev` is the `dev=` pin;
    `forward_pf` the `<pf dev=…>` of a hostdev/passthrough pool. `nat_*` come from
    `<forward><nat>`: the SNAT address range and the port range masquerading uses (libvirt's
    default is 1024-65535 when absent). `connections` is what `virsh net-dumpxml` prints on a
    running network (guests attached)."""

    name: str | None
    origin: Origin
    uuid: str | None = None
    connections: int | None = None
    forward_mode: str | None = None
    forward_dev: str | None = None
    forward_pf: str | None = None
    forward_interfaces: list[str] = field(default_factory=list)
    nat_address_start: IPv4Address | None = None
    nat_address_end: IPv4Address | None = None
    nat_port_start: int | None = None
    nat_port_end: int | None = None
    nat_ipv6: bool | None = None
    bridge: str | None = None
    bridge_stp: bool | None = None
    bridge_delay: int | None = None
    bridge_zone: str | None = None
    mac: str | None = None
    mtu: int | None = None
    domain: str | None = None
    ips: list[LibvirtIp] = field(default_factory=list)
    routes: list[LibvirtRoute] = field(default_factory=list)


@dataclass(slots=True)
class LibvirtNetworkData:
    network: LibvirtNetwork | None = None
