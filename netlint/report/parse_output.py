"""`netlint parse` output: the JSON list of design.md §3, and a summary a person can skim."""

from __future__ import annotations

import json
from typing import Any

from ..model.firewall import Ruleset
from ..model import (BrctlData, BridgeLinkData, Diagnostic, InterfacesData, IpRulesData, LibvirtNetworkData,
                     ParseResult, RoutePrintData, RoutesData, SysctlData)
from .serialize import to_jsonable


def problem_json(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "line": diagnostic.origin.line,
        "column": diagnostic.origin.column,
        "text": diagnostic.text,
        "message": diagnostic.message,
        "severity": diagnostic.severity.value,
    }


def input_json(result: ParseResult) -> dict[str, Any]:
    """A piece without its facts: where it is, what it is and how it parsed (`check` lists its
    inputs this way; converting a 100k-rule ruleset to JSON would cost more than parsing it)."""
    source = result.source
    return {
        "file": source.file,
        "kind": source.kind.value,
        "role": source.role.value,
        "lines": [source.first_line, source.last_line],
        "status": result.status.value,
        "reason": source.empty_reason,
        "problems": [problem_json(d) for d in result.diagnostics],
    }


def piece_json(result: ParseResult) -> dict[str, Any]:
    return {**input_json(result), "data": to_jsonable(result.data)}


def render_json(results: list[ParseResult]) -> str:
    return json.dumps([piece_json(r) for r in results], indent=2) + "\n"


def _interfaces(data: InterfacesData) -> list[str]:
    out = []
    for iface in data.interfaces:
        state = iface.state or ("UP" if iface.is_up else "DOWN")
        extra = [f"master {iface.master}"] if iface.master else []
        if "NO-CARRIER" in iface.flags:
            extra.append("NO-CARRIER")
        if iface.mtu is not None:
            extra.append(f"mtu {iface.mtu}")
        out.append(f"  {iface.name:<16} {state:<8} {' '.join(extra)}".rstrip())
        out.extend(f"      {a.address}" + (f" peer {a.peer}" if a.peer else "") for a in iface.addresses)
    return out


def _routes(routes: list) -> list[str]:
    out = []
    for route in routes:
        dest = "default" if route.destination is not None and route.destination.prefixlen == 0 \
            else str(route.destination or route.destination_name)
        parts = [dest if route.type == "unicast" else f"{route.type} {dest}"]
        if route.gateway is not None or route.gateway_name:
            parts.append(f"via {route.gateway or route.gateway_name}")
        if route.dev:
            parts.append(f"dev {route.dev}")
        if route.src is not None:
            parts.append(f"src {route.src}")
        if route.metric is not None:
            parts.append(f"metric {route.metric}")
        if route.table and route.table != "main":
            parts.append(f"table {route.table}")
        out.append("  " + " ".join(parts))
    return out


def _ruleset(data: Ruleset) -> list[str]:
    """Built-in chains with policy and rule count; user chains counted, not listed (a
    Kubernetes host has tens of thousands)."""
    head = [f"IPv{data.family}" if data.family else "", f"backend {data.backend}" if data.backend else ""]
    out = [f"  {' '.join(h for h in head if h)}".rstrip()] if any(head) else []
    for table in data.tables.values():
        builtin = [c for c in table.chains.values() if c.builtin]
        user = [c for c in table.chains.values() if not c.builtin]
        chains = ", ".join(f"{c.name} {c.policy or 'policy unknown'} ({len(c.rules)} rules)" for c in builtin)
        out.append(f"  *{table.name}: {chains}" + (f"; {len(user)} user chains with "
                                                    f"{sum(len(c.rules) for c in user)} rules" if user else ""))
    out.extend(f"  iptables warns: {w}" for w in data.warnings)
    return out


def _summary(data: Any) -> list[str]:
    if isinstance(data, InterfacesData):
        return _interfaces(data)
    if isinstance(data, BrctlData):
        return [f"  {b.name:<16} ports: {', '.join(p.name for p in b.ports) or '(none)'}" for b in data.bridges]
    if isinstance(data, BridgeLinkData):
        return [f"  {p.name:<16} master {p.master} state {p.state}" for p in data.ports]
    if isinstance(data, RoutesData):
        return _routes(data.routes)
    if isinstance(data, RoutePrintData):
        return _routes(data.routes)
    if isinstance(data, IpRulesData):
        return [f"  {r.priority}: {'not ' if r.invert else ''}from {r.from_ or 'all'} {r.action} {r.table or ''}".rstrip()
                for r in data.rules]
    if isinstance(data, SysctlData):
        return [f"  {len(data.entries)} keys"] + [f"  {e.key} = {e.value}" for e in data.entries
                                                  if "forward" in e.key or "rp_filter" in e.key or "bridge-nf" in e.key]
    if isinstance(data, Ruleset):
        return _ruleset(data)
    if isinstance(data, LibvirtNetworkData) and data.network is not None:
        net = data.network
        ips = ", ".join(str(ip.address) for ip in net.ips)
        return [f"  network {net.name}: forward {net.forward_mode or 'none (isolated)'}"
                + (f" dev {net.forward_dev}" if net.forward_dev else "")
                + f", bridge {net.bridge}, {ips}"]
    return []


_TEXT_WIDTH = 100
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f]}


def render_text(results: list[ParseResult]) -> str:
    """A summary for a terminal; control characters from damaged input are shown escaped."""
    out: list[str] = []
    for result in results:
        source = result.source
        head = f"{source.file}:{source.first_line}-{source.last_line}  {source.kind.value}  {result.status.value}"
        if source.role.value != "host":
            head += f"  ({source.role.value})"
        out.append(head)
        if source.empty_reason:
            out.append(f"  {source.empty_reason}")
        out.extend(_summary(result.data))
        for d in result.diagnostics:
            text = d.text.strip()
            shown = text if len(text) <= _TEXT_WIDTH else text[:_TEXT_WIDTH] + "…"
            out.append(f"  {d.severity.value}: {d.origin}: {d.message}" + (f": {shown}" if shown else ""))
    return "\n".join(out).translate(_CONTROL) + "\n"
