"""A packet's round trip through the host, as the walk found it (design.md §4, §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from ipaddress import IPv4Address

from .origin import Origin


class Verdict(str, Enum):
    REACHABLE = "reachable"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"


class Disposition(str, Enum):
    """How a leg ended."""

    DELIVERED = "DELIVERED"
    EXITS_HOST = "EXITS_HOST"
    DENIED = "DENIED"
    REJECTED = "REJECTED"
    NO_ROUTE = "NO_ROUTE"
    NULL_ROUTED = "NULL_ROUTED"
    FORWARDING_DISABLED = "FORWARDING_DISABLED"
    RP_FILTERED = "RP_FILTERED"
    LINK_DOWN = "LINK_DOWN"
    NEIGHBOR_UNREACHABLE = "NEIGHBOR_UNREACHABLE"
    GUEST_NO_GATEWAY = "GUEST_NO_GATEWAY"
    NO_RETURN_ROUTE = "NO_RETURN_ROUTE"
    UNKNOWN = "UNKNOWN"

    @property
    def success(self) -> bool:
        return self in (Disposition.DELIVERED, Disposition.EXITS_HOST)


@dataclass(frozen=True, slots=True)
class Flow:
    """`src, dst, proto, sport, dport`: an ICMP echo when `proto` is icmp."""

    src: IPv4Address
    dst: IPv4Address
    proto: str = "icmp"
    sport: int | None = None
    dport: int | None = None


@dataclass(slots=True)
class Step:
    """One thing the packet met. `node` is where (`guest`, `host`, `upstream`), `stage` what
    (`guest`, `link`, `bridge`, `netfilter`, `routing`, `sysctl`, `nat`, `conntrack`, `local`,
    `upstream`); `uncertain` marks a step whose outcome the dump cannot decide."""

    node: str
    stage: str
    action: str
    detail: str
    origin: Origin | None = None
    table: str | None = None
    chain: str | None = None
    uncertain: bool = False


@dataclass(slots=True)
class Leg:
    disposition: Disposition
    decisive: int
    steps: list[Step] = field(default_factory=list)

    @property
    def decisive_step(self) -> Step | None:
        return self.steps[self.decisive] if 0 <= self.decisive < len(self.steps) else None


@dataclass(slots=True)
class Trace:
    flow: Flow
    verdict: Verdict
    forward: Leg
    reply: Leg | None = None
    established: Leg | None = None
    explanation: str = ""
    assumptions: list[str] = field(default_factory=list)
