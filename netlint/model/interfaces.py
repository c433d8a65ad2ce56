"""Interfaces and their addresses, as `ip addr`/`ip link`/`ifconfig` show them."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface

from .origin import Origin

IPInterface = IPv4Interface | IPv6Interface
IPAddress = IPv4Address | IPv6Address


@dataclass(slots=True)
class Address:
    """One `inet`/`inet6` line. `address` keeps the prefix (`192.168.122.1/24`); a
    point-to-point address has its `peer` (`inet 10.0.0.1 peer 10.0.0.2/32`), and then the
    printed prefix is the peer's, which `address` takes too (`10.0.0.1/32`). `metric` and
    `proto` are what newer iproute2 prints for some addresses (`proto kernel_ll`)."""

    family: int
    address: IPInterface
    origin: Origin
    peer: IPInterface | None = None
    broadcast: IPAddress | None = None
    scope: str | None = None
    label: str | None = None
    flags: list[str] = field(default_factory=list)
    valid_lft: int | str | None = None
    preferred_lft: int | str | None = None
    metric: int | None = None
    proto: str | None = None


@dataclass(slots=True)
class VirtualFunction:
    """An SR-IOV VF line of its physical function (`vf 0 link/ether … brd …, spoof checking
    on, link-state auto`): `options` are the comma-separated settings after the address,
    verbatim; `stats` its own `RX:`/`TX:` counters like `Interface.stats`."""

    index: int
    origin: Origin
    link_type: str | None = None
    mac: str | None = None
    broadcast_mac: str | None = None
    options: list[str] = field(default_factory=list)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(slots=True)
class Interface:
    """A link. `peer` is the part after `@` in `name@peer` (a VLAN's parent, a veth's peer
    `if12`, or `NONE`); `flags` are the `<...>` flags in order. `link_type` is the word after
    `link/` and `mac` the link-layer address as printed (an IP address for ip tunnels, whose
    far end is `link_peer`); `link_options` are the `ip -d` words after the `link/` line's own
    fields (`promiscuity 0 minmtu 68 …`). `link_kind` is the first word of the first `ip -d`
    detail line (`bridge`, `bridge_slave`, `vlan`, `veth`, `tun`, `bond_slave`…) and `details`
    its remaining words verbatim. The port's role in its master has a detail line of its own
    (`bridge_slave …`, `bond_slave …`, `openvswitch_slave`), also kept as `slave_kind` and
    `slave_details`: a bonded NIC has `link_kind == slave_kind == "bond_slave"`, a tap in a
    bridge `link_kind="tun"`, `slave_kind="bridge_slave"`. Counters from `ip -s` go to `stats`
    (`rx`/`tx` → column → value; `ip -s -s` adds `rx_errors`/`tx_errors`); SR-IOV VF lines
    to `vfs`."""

    name: str
    origin: Origin
    index: int | None = None
    peer: str | None = None
    flags: list[str] = field(default_factory=list)
    mtu: int | None = None
    qdisc: str | None = None
    master: str | None = None
    state: str | None = None
    mode: str | None = None
    group: str | None = None
    qlen: int | None = None
    link_type: str | None = None
    mac: str | None = None
    broadcast_mac: str | None = None
    permaddr: str | None = None
    link_netnsid: int | None = None
    link_netns: str | None = None
    altnames: list[str] = field(default_factory=list)
    alias: str | None = None
    link_kind: str | None = None
    details: list[str] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    link_peer: str | None = None
    link_options: list[str] = field(default_factory=list)
    slave_kind: str | None = None
    slave_details: list[str] = field(default_factory=list)
    vfs: list[VirtualFunction] = field(default_factory=list)

    @property
    def is_up(self) -> bool:
        """Administratively up (the `UP` flag)."""
        return "UP" in self.flags

    @property
    def has_carrier(self) -> bool:
        """`LOWER_UP` (or ifconfig's `RUNNING`) and no `NO-CARRIER`."""
        return "NO-CARRIER" not in self.flags and ("LOWER_UP" in self.flags or "RUNNING" in self.flags)


@dataclass(slots=True)
class InterfacesData:
    """Facts of an `ip-addr` or `ifconfig` output."""

    interfaces: list[Interface] = field(default_factory=list)
