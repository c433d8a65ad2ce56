"""Linux bridges and their ports, from `brctl show` and `bridge link`."""

from __future__ import annotations

from dataclasses import dataclass, field

from .origin import Origin


@dataclass(slots=True)
class BridgePort:
    name: str
    origin: Origin


@dataclass(slots=True)
class Bridge:
    """A `brctl show` row group. `stp_enabled` is None where the column is empty."""

    name: str
    origin: Origin
    bridge_id: str | None = None
    stp_enabled: bool | None = None
    ports: list[BridgePort] = field(default_factory=list)


@dataclass(slots=True)
class BrctlData:
    bridges: list[Bridge] = field(default_factory=list)


@dataclass(slots=True)
class BridgeLink:
    """One port in `bridge link` / `bridge -d link show`. `state` is the port's STP state
    (`forwarding`, `disabled`, `blocking`…); `operstate` the link's operational state that
    early iproute2 (3.x) printed before the colon (`3: vnet0 state UP : <…>`); `hwmode` a
    NIC's embedded switch mode (`VEB`, `VEPA`). `options` holds the `-d` detail settings
    (`hairpin off`, `learning on`…) in order; `vlans` the `-d` VLAN lines verbatim
    (`1 PVID Egress Untagged`)."""

    name: str
    origin: Origin
    index: int | None = None
    peer: str | None = None
    flags: list[str] = field(default_factory=list)
    mtu: int | None = None
    master: str | None = None
    state: str | None = None
    priority: int | None = None
    cost: int | None = None
    operstate: str | None = None
    hwmode: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    vlans: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BridgeLinkData:
    ports: list[BridgeLink] = field(default_factory=list)
