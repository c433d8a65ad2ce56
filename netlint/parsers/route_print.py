"""Parser for a Windows guest's `route print` (kind `route-print`), also `route print -4`/`-6`
and Windows `netstat -r`, which print the same tables; Windows XP to 11.

Output schema (`data`)::

    {"interfaces": [{"index": 12, "description": "Hyper-V Virtual Ethernet Adapter",
                     "mac": "00 15 5d 01 02 03", "line": 3}, ...],
     "routes": [{"family": 4, "destination": "0.0.0.0/0", "gateway": "192.168.122.1",
                 "src": "192.168.122.2", "metric": 20, "flags": [], "options": {}, "line": 15,
                 ...the other `Route` fields, null or empty...},
                {"family": 4, "destination": "192.168.122.0/24", "gateway": null,
                 "src": "192.168.122.2", "metric": 281, "flags": ["on-link"], ...},
                {"family": 4, "destination": "10.0.0.0/8", "gateway": "192.168.122.1",
                 "src": null, "metric": 1, "options": {"persistent": true}, ...},
                {"family": 6, "destination": "fe80::/64", "gateway": null, "src": null,
                 "metric": 271, "flags": ["on-link"], "options": {"if": 12}, ...}]}

`destination` joins Network Destination and Netmask; `src` is the Interface column (the
address of the interface the route leaves by). An `On-link` gateway is `null` with the flag
`on-link`; so is Windows XP's way of saying the same, a gateway equal to the interface's own
address (the printed gateway is then kept in `options["gateway"]`). Persistent Routes rows
(stored routes, with no Interface column) carry `options["persistent"]`; their metric may be
`Default`, which leaves `metric` null and is kept in `options["metric"]`. IPv6 rows have no
Interface column but the interface's index, `options["if"]` (the Interface List's `index`).
A MAC is kept as printed: bytes separated by spaces, 8 of them for ISATAP/Teredo adapters;
XP's hex indexes (`0x2`) are read as numbers. A headerless row pasted alone parses as well.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from typing import NamedTuple

from lark import Token, Transformer

from ..model import ParseResult, Route, RoutePrintData, Severity, Source, WindowsInterface
from .base import Context, Grammar, Line, LineError

# Windows metrics and interface indexes are unsigned 32-bit numbers.
_MAX_NUMBER = 2**32 - 1
_ON_LINK = "On-link"


class _Row(NamedTuple):
    """A route row as the line shows it, before it gets its origin."""

    family: int
    destination: IPv4Network | IPv6Network
    gateway: IPv4Address | IPv6Address | str | None
    src: IPv4Address | None
    metric: int | str | None
    if_index: int | None
    persistent: bool | None  # IPv4 rows tell by their columns; IPv6 rows by their section
    stray_bits_column: int | None


def _number(token: Token) -> int:
    text = str(token)
    digits, base = (text[2:], 16) if text[:2].lower() == "0x" else (text, 10)
    value = int(digits, base) if len(digits) <= 10 else None
    if value is None or value > _MAX_NUMBER:
        raise LineError(f"number {text[:20]!r} is out of range", token.column)
    return value


def _ipv4(token: Token) -> IPv4Address:
    try:
        return IPv4Address(str(token))
    except ValueError:
        raise LineError(f"{str(token)!r} is not an IPv4 address", token.column) from None


def _ipv6(token: Token) -> IPv6Address:
    try:
        return IPv6Address(str(token))
    except ValueError:
        raise LineError(f"{str(token)[:60]!r} is not an IPv6 address", token.column) from None


def _gateway(token: Token) -> IPv4Address | IPv6Address | str:
    if token.type == "ON_LINK":
        return _ON_LINK
    return _ipv4(token) if token.type == "IPV4" else _ipv6(token)


def _metric(token: Token) -> int | str:
    return str(token) if token.type == "DEFAULT" else _number(token)


def _network(destination: Token, mask: Token | None = None) -> tuple[IPv4Network | IPv6Network, int | None]:
    """The destination (with its netmask, for IPv4) as a network, and the destination's
    column if it has bits outside the mask (Windows refuses such routes: a damaged line)."""
    text = str(destination) if mask is None else f"{_ipv4(destination)}/{mask}"
    try:
        interface = IPv6Interface(text) if mask is None else IPv4Interface(text)
    except ValueError:
        where = destination if mask is None else mask
        raise LineError(f"{str(where)[:60]!r} is not a valid prefix or netmask", where.column) from None
    return interface.network, destination.column if interface.ip != interface.network.network_address else None


def _frame(_self, _children):
    return ("frame",)


class _ToFacts(Transformer):
    def start(self, children):
        return children[0]

    # Framing and headers: recognized, they carry no fact.
    separator = interface_list_title = ipv4_header = persistent_header = ipv6_header = none = _frame

    def default_gateway(self, children):
        _ipv4(children[0])
        return ("frame",)

    def table_title(self, _):
        return ("section", False)

    def active_title(self, _):
        return ("section", False)

    def persistent_title(self, _):
        return ("section", True)

    def interface_row(self, children):
        index, *rest = children
        mac = next((str(token) for token in rest if token.type == "MAC"), None)
        return ("interface", _number(index), str(rest[-1]).rstrip(), mac)

    def ipv4_route(self, children):
        destination, netmask, gateway, interface, metric = children
        network, stray = _network(destination, netmask)
        return ("route", _Row(4, network, _gateway(gateway), _ipv4(interface), _metric(metric), None, False, stray))

    def ipv4_persistent_route(self, children):
        destination, netmask, gateway, metric = children
        network, stray = _network(destination, netmask)
        return ("route", _Row(4, network, _gateway(gateway), None, _metric(metric), None, True, stray))

    def ipv6_route(self, children):
        if_index, metric, destination, *gateway = children
        network, stray = _network(destination)
        row = _Row(6, network, _gateway(gateway[0]) if gateway else None, None, _number(metric),
                   _number(if_index), None, stray)
        return ("route", row)

    def ipv6_gateway_line(self, children):
        return ("gateway", _gateway(children[0]), children[0].column)


_GRAMMAR = Grammar("route_print", transformer=_ToFacts)


def _route(ctx: Context, line: Line, row: _Row, persistent: bool) -> Route:
    route = Route(row.family, row.destination, ctx.origin(line.number), src=row.src)
    if isinstance(row.metric, int):
        route.metric = row.metric
    if row.if_index is not None:
        route.options["if"] = row.if_index
    if row.persistent or row.persistent is None and persistent:
        route.options["persistent"] = True
    if row.metric is not None and not isinstance(row.metric, int):
        route.options["metric"] = row.metric
    _set_gateway(route, row.gateway)
    if row.stray_bits_column is not None:
        ctx.report(line, f"destination has bits outside its netmask; read as {row.destination}",
                   row.stray_bits_column, Severity.WARNING)
    return route


def _set_gateway(route: Route, gateway: IPv4Address | IPv6Address | str | None) -> None:
    if gateway == _ON_LINK:
        route.flags.append("on-link")
    elif gateway is not None and gateway == route.src:
        # Windows XP/2003 print a directly connected route with the interface's own address.
        route.flags.append("on-link")
        route.options["gateway"] = str(gateway)
    else:
        route.gateway = gateway


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    data = RoutePrintData()
    persistent = False
    waiting: tuple[Line, Route] | None = None  # an IPv6 row whose gateway wrapped to the next line
    for line in ctx.lines():
        if not line.text.strip():
            continue
        fact = ctx.try_parse(_GRAMMAR, line)
        if waiting is not None and (fact is None or fact[0] != "gateway"):
            ctx.report(waiting[0], "the gateway of this IPv6 route is missing (its wrapped next line is not there)")
            waiting = None
        if fact is None:
            continue
        kind = fact[0]
        if kind == "section":
            persistent = fact[1]
        elif kind == "interface":
            data.interfaces.append(WindowsInterface(fact[1], fact[2], ctx.origin(line.number), fact[3]))
        elif kind == "route":
            row: _Row = fact[1]
            route = _route(ctx, line, row, persistent)
            if row.family == 6 and row.gateway is None:
                waiting = (line, route)
            else:
                data.routes.append(route)
        elif kind == "gateway":
            if waiting is None:
                ctx.report(line, "a gateway alone on its line, but no IPv6 route above it waits for one", fact[2])
            else:
                _set_gateway(waiting[1], fact[1])
                data.routes.append(waiting[1])
                waiting = None
    if waiting is not None:
        ctx.report(waiting[0], "the gateway of this IPv6 route is missing (its wrapped next line is not there)")
    return ctx.result(data)
