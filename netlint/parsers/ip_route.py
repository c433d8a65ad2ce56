"""Parser for `ip route` (kind `ip-route`): `ip route`, `ip route show table all`,
`ip -4/-6 route`, `ip -d route`, `ip -o route`, `ip route get` and the old route cache.

Output schema (`data`)::

    {"routes": [{"family": 4, "destination": "0.0.0.0/0", "line": 1, "type": "unicast",
                 "gateway": "192.168.50.1", "dev": "eno1", "metric": 100, "table": null,
                 "proto": "static", "scope": null, "src": null, "flags": [],
                 "nexthops": [], "destination_name": null, "gateway_name": null,
                 "options": {}, "from": null, "locked": []}, ...]}

`destination` always has its prefix (`default` is `0.0.0.0/0` or `::/0`, a destination printed
without `/len` is a host route). `table` is null when the line does not print one: the main
table, unless the output was of `ip route show table T`. `family` is the destination's family;
where no address on the line tells (`unreachable default metric 4278198272`), it is taken from
the nearest route above (else below) and, in a file with no address at all, assumed to be 4
with a note. `flags` hold `onlink`, `linkdown`, `dead`, `pervasive`, `offload`… and `cache`
for a route cache entry. `options` keeps every other attribute in output order: numbers as
numbers (`nhid`, `error` -101, `mtu` 1400, `weight` on a non-multipath line), the rest
verbatim (`pref` "medium", `expires` "593sec", `realms` "1/2", `tos` "0x10", the cache
flags `cache` "<local,src-direct>", `ip -d route`'s `nh_info` "id 10 via …"), and
attributes this parser does not know, when they come as `word value`. A metric marked
`lock` is named in `locked`. Multipath hops (`nexthop via … dev … weight N` lines, or the
same on one `ip -o` line) are `nexthops`: `{"gateway", "dev", "weight", "flags", "options",
"line"}`. An indented `cache …` line adds `cache` and its attributes to the route above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from typing import Any

from lark import Token, Transformer

from ..model import NextHop, ParseResult, Route, RoutesData, Source
from .base import Context, Grammar, LineError

_UINT32 = 2**32 - 1
_DIGITS = 20


def _shown(token: Token) -> str:
    text = str(token)
    return repr(text if len(text) <= 48 else text[:45] + "...")


def _int(token: Token, low: int = 0, high: int = _UINT32) -> int:
    text = str(token)
    if len(text.lstrip("-")) > _DIGITS or not low <= int(text) <= high:
        raise LineError(f"{_shown(token)} is out of range", token.column)
    return int(text)


def _network(token: Token):
    try:
        return ip_network(str(token), strict=False)
    except ValueError:
        raise LineError(f"{_shown(token)} is not an IP address or prefix", token.column) from None


def _address(token: Token):
    try:
        return ip_address(str(token))
    except ValueError:
        raise LineError(f"{_shown(token)} is not an IP address", token.column) from None


def _value(text: str) -> int | str:
    """A plain decimal number as a number, anything else (`593sec`, `1/2`) verbatim."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= _DIGITS else text


@dataclass(slots=True)
class _Via:
    address: Any
    marked: bool  # `via inet6 X`/`via inet X`: the gateway is of the other family


@dataclass(slots=True)
class _Hop:
    attributes: list[tuple[str, Any]]


@dataclass(slots=True)
class _Line:
    kind: str  # "route", "nexthops", "cache", "nh_info"
    attributes: list[tuple[str, Any]] = field(default_factory=list)
    route_type: str = "unicast"
    destination: Any = None
    hops: list[_Hop] = field(default_factory=list)
    text: str = ""


class _ToFacts(Transformer):
    """Each attribute becomes a `(key, value)` pair; lines are assembled in `parse`."""

    def via(self, children):
        return ("via", _Via(_address(children[-1]), len(children) == 2))

    def dev(self, children):
        return ("dev", str(children[0]))

    def table(self, children):
        return ("table", str(children[0]))

    def proto(self, children):
        return ("proto", str(children[0]))

    def scope(self, children):
        return ("scope", str(children[0]))

    def src(self, children):
        return ("src", _address(children[0]))

    def from_(self, children):
        return ("from", _network(children[0]))

    def metric(self, children):
        return ("metric", _int(children[0]))

    def weight(self, children):
        return ("weight", _int(children[0], 1, 256))

    def nhid(self, children):
        return ("nhid", _int(children[0]))

    def error(self, children):
        return ("error", _int(children[0], -_UINT32, _UINT32))

    def route_metric(self, children):
        name, *lock, value = children
        return ("metric_lock" if lock else "route_metric", (str(name), _value(str(value))))

    def metric_name(self, children):
        return children[0]

    def flag(self, children):
        return ("flag", str(children[0]))

    def cache(self, children):
        return ("cache", str(children[0]) if children else None)

    def option(self, children):
        return ("option", (str(children[0]), _value(str(children[1]))))

    option_name = metric_name

    def unknown(self, children):
        return ("option", (str(children[0]), _value(str(children[1]))))

    def route_type(self, children):
        return str(children[0])

    def via_family(self, children):
        return str(children[0])

    def destination(self, children):
        token = children[0]
        return None if token.type == "DEFAULT" else _network(token)

    def nexthop(self, children):
        return _Hop(list(children))

    def route(self, children):
        line = _Line("route")
        items = list(children)
        if items and isinstance(items[0], str):
            line.route_type = items.pop(0)
        line.destination = items.pop(0)
        for item in items:
            if isinstance(item, _Hop):
                line.hops.append(item)
            else:
                line.attributes.append(item)
        return line

    def nexthop_line(self, children):
        return _Line("nexthops", hops=list(children))

    def cache_line(self, children):
        return _Line("cache", attributes=list(children))

    def nh_info_line(self, children):
        return _Line("nh_info", text=str(children[0]).strip() if children else "")

    def not_a_route(self, children):
        raise LineError(f"{_shown(children[0])} does not begin a route", children[0].column)

    def start(self, children):
        return children[0]


_GRAMMAR = Grammar("ip_route", transformer=_ToFacts)


def _apply(route: Route, attributes: list[tuple[str, Any]]) -> None:
    for key, value in attributes:
        if key == "via":
            route.gateway = value.address
        elif key in ("dev", "table", "proto", "scope", "src", "metric"):
            setattr(route, key, value)
        elif key == "from":
            route.from_ = value
        elif key == "flag":
            route.flags.append(value)
        elif key == "cache":
            route.flags.append("cache")
            if value is not None:
                route.options["cache"] = value
        elif key in ("route_metric", "metric_lock", "option"):
            name, number = value
            route.options[name] = number
            if key == "metric_lock" and name not in route.locked:
                route.locked.append(name)
        else:
            route.options[key] = value


def _hop(hop: _Hop, origin) -> NextHop:
    result = NextHop(origin=origin)
    for key, value in hop.attributes:
        if key == "via":
            result.gateway = value.address
        elif key == "dev":
            result.dev = value
        elif key == "weight":
            result.weight = value
        elif key == "flag":
            result.flags.append(value)
        elif key in ("route_metric", "metric_lock", "option"):
            result.options[value[0]] = value[1]
        elif key == "cache":
            result.flags.append("cache")
        else:
            result.options[key] = value if isinstance(value, (int, str)) else str(value)
    return result


def _family_hint(line: _Line) -> int | None:
    """The route's family as the addresses on its line (and its hops) tell."""
    if line.destination is not None:
        return line.destination.version
    for key, value in line.attributes:
        if key in ("src", "from"):
            return value.version
    vias = [value for key, value in line.attributes if key == "via"]
    vias += [value for hop in line.hops for key, value in hop.attributes if key == "via"]
    for via in vias:
        # A marked gateway (`via inet6 fe80::1`) is printed so because its family differs.
        return (10 - via.address.version) if via.marked else via.address.version
    if any(key == "option" and value[0] == "pref" for key, value in line.attributes):
        return 6  # router preference exists only for IPv6 routes
    return None


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    data = RoutesData()
    hints: list[int | None] = []
    for line in ctx.lines():
        if not line.text.strip():
            continue
        fact = ctx.try_parse(_GRAMMAR, line)
        if fact is None:
            continue
        origin = ctx.origin(line.number)
        if fact.kind == "route":
            route = Route(0, fact.destination, origin, type=fact.route_type)
            _apply(route, fact.attributes)
            route.nexthops = [_hop(hop, origin) for hop in fact.hops]
            data.routes.append(route)
            hints.append(_family_hint(fact))
            continue
        if not data.routes:
            ctx.report(line, f"a {fact.kind.replace('_', ' ')} line with no route above it")
            continue
        route = data.routes[-1]
        if fact.kind == "nexthops":
            route.nexthops.extend(_hop(hop, origin) for hop in fact.hops)
            if hints[-1] is None:
                hints[-1] = _family_hint(fact)
        elif fact.kind == "cache":
            _apply(route, fact.attributes)
        else:
            route.options["nh_info"] = fact.text
    _settle_families(ctx, data.routes, hints)
    return ctx.result(data)


def _settle_families(ctx: Context, routes: list[Route], hints: list[int | None]) -> None:
    """Give each route its family, and `default` its prefix, once the whole file is read."""
    known = [hint for hint in hints if hint is not None]
    previous = known[0] if known else None
    if routes and previous is None:
        ctx.note(routes[0].origin.line, "no address in the output tells IPv4 from IPv6: assumed IPv4")
    for route, hint in zip(routes, hints):
        if hint is not None:
            previous = hint
        route.family = hint or previous or 4
        if route.destination is None:
            route.destination = ip_network("0.0.0.0/0" if route.family == 4 else "::/0")
