"""A libvirt virtual network, as `virsh net-dumpxml` or the network's XML file describe it."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface

from .origin import Origin


@dataclass(slots=True)
class DhcpRange:
    start: IPv4Address | IPv6Address
    end: IPv4Address | IPv6Address
    origin: Origin


@dataclass(slots=True)
class LibvirtIp:
    """An `<ip>` element: `address` with its prefix (from `prefix=` or `netmask=`)."""

    address: IPv4Interface | IPv6Interface
    origin: Origin
    dhcp_ranges: list[DhcpRange] = field(default_factory=list)


@dataclass(slots=True)
class LibvirtNetwork:
    """`forward_mode` is None for an isolated network (no `<forward>`); a `<forward>`
    without `mode` is `nat`, as libvirt reads it. `forward_dev` is the `dev=` pin."""

    name: str | None
    origin: Origin
    uuid: str | None = None
    forward_mode: str | None = None
    forward_dev: str | None = None
    forward_interfaces: list[str] = field(default_factory=list)
    bridge: str | None = None
    bridge_stp: bool | None = None
    bridge_zone: str | None = None
    mac: str | None = None
    mtu: int | None = None
    domain: str | None = None
    ips: list[LibvirtIp] = field(default_factory=list)


@dataclass(slots=True)
class LibvirtNetworkData:
    network: LibvirtNetwork | None = None
