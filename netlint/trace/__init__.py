"""The packet walk: a flow's round trip through a `Host`, as the kernel would take it."""

from __future__ import annotations

from ipaddress import IPv4Network

from ..host import Host
from ..model.trace import Flow, Trace
from .walk import Walker


def trace(host: Host, flow: Flow, upstream_knows: list[IPv4Network] | None = None,
          ingress: str | None = None) -> Trace:
    """Follow `flow` through `host` and back. `ingress` names the interface a flow from
    outside enters by (default: the one its source routes to)."""
    return Walker(host, upstream_knows).trace(flow, ingress)


__all__ = ["Flow", "Trace", "Walker", "trace"]
