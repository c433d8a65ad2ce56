"""What the `route` and `netstat-rn` parsers share: net-tools prints the same routing tables
for `route` and `netstat -r`, so one grammar (`grammars/route.lark`) and one walk read both.

A table's column header decides how its rows are read (a `Layout`); the two commands differ
only in the columns they print when no header is there to say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from lark import Token, Transformer

from ..model import ParseResult, Route, RoutesData, Severity, Source
from .base import Context, Grammar, Line, LineError

# Names `route` prints without -n that mean an address offline: the stock /etc/networks
# entries and `localhost`. Any other name (`gateway`, `_gateway`, a host name) is kept as a name.
_IPV4_NAMES = {
    "default": IPv4Address("0.0.0.0"),
    "link-local": IPv4Address("169.254.0.0"),
    "loopback": IPv4Address("127.0.0.0"),
    "localhost": IPv4Address("127.0.0.1"),
}
_IPV6_NAMES = {"localhost": IPv6Address("::1")}

# RTF_* bits and the letters net-tools 2.10 prints for them, in its order. IPv4: bits 0-10
# (RTF_UP, GATEWAY, HOST, REINSTATE, DYNAMIC, MODIFIED, MTU, WINDOW, IRTT, REJECT, NOTCACHED);
# a reject route shows `!` first, in place of `U` and `G`.
_IPV4_LETTERS = list(zip((1 << bit for bit in range(11)), "UGHRDMuwi!n"))
_IPV6_LETTERS = [
    (0x00000001, "U"), (0x00000200, "!"), (0x00000002, "G"), (0x00000004, "H"), (0x00010000, "D"),
    (0x00040000, "A"), (0x00020000, "a"), (0x00400000, "e"), (0x00000020, "m"), (0x00200000, "n"),
    (0x02000000, "f"), (0x01000000, "C"),
]
_RTF_REJECT = 0x0200
_RTF_ANYCAST = 0x00100000
_RTF_LOCAL = 0x80000000


@dataclass(slots=True)
class Row:
    """One table row, before the layout names its numeric columns. `prefix_length` is set
    only when the destination is a name; `warnings` are (message, column) to report."""

    family: int
    destination: IPv4Network | IPv6Network | None
    destination_name: str | None
    prefix_length: int | None
    gateway: IPv4Address | IPv6Address | None
    gateway_name: str | None
    flags: list[str]
    values: list[int | None]
    dev: str | None
    type: str = "unicast"
    source: IPv6Network | None = None
    warnings: list[tuple[str, int | None]] = field(default_factory=list)


def _number(token: Token) -> int | None:
    if token.type == "NONE":
        return None
    if len(token) > 20:
        raise LineError(f"number {token[:20]!s}... is too long", token.column)
    return int(token)


def _hex(token: Token, digits: int | None, what: str) -> int:
    if digits is not None and len(token) != digits:
        raise LineError(f"{what} {token!s} is not {digits} hex digits", token.column)
    return int(token, 16)


def _prefix_of_mask(mask: int, token: Token) -> int:
    inverted = ~mask & 0xFFFFFFFF
    if inverted & (inverted + 1):
        raise LineError(f"netmask {IPv4Address(mask)} is not contiguous", token.column)
    return 32 - inverted.bit_length()


def _ipv4(token: Token) -> IPv4Address:
    try:
        return IPv4Address(str(token))
    except ValueError:
        raise LineError(f"{token!s} is not an IPv4 address", token.column) from None


def _ipv4_or_name(token: Token) -> tuple[IPv4Address | None, str | None]:
    if token.type == "IPV4":
        return _ipv4(token), None
    if token.type == "NONE":
        return None, None
    name = str(token)
    if name in _IPV4_NAMES:
        return _IPV4_NAMES[name], None
    return None, name


def _ipv6_or_name(text: str, token: Token) -> tuple[IPv6Address | None, str | None]:
    """`[::]` is route's spelling of `::`; a dotted quad is the IPv4-mapped address (RHEL's
    `unreachable ::ffff:0.0.0.0/96` prints as `0.0.0.0/96`)."""
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if bare in _IPV6_NAMES:
        return _IPV6_NAMES[bare], None
    if ":" not in bare and not bare.replace(".", "").isdigit():
        return None, text
    try:
        address = ip_address(bare if ":" in bare else f"::ffff:{bare}")
    except ValueError:
        raise LineError(f"{text} is not an IPv6 address", token.column) from None
    return address, None


def _network(
    address: IPv4Address | IPv6Address, prefix: int, token: Token, warnings: list[tuple[str, int | None]]
) -> IPv4Network | IPv6Network:
    network_type = IPv4Network if address.version == 4 else IPv6Network
    try:
        return network_type((address, prefix))
    except ValueError:
        network = network_type((address, prefix), strict=False)
        warnings.append((f"{address}/{prefix} has host bits set; read as {network}", token.column))
        return network


def _letters(flags: int, table: list[tuple[int, str]]) -> list[str]:
    return [letter for bit, letter in table if flags & bit]


def _route_type(family: int, flags: list[str], no_device: bool) -> str:
    """`!` is a reject route: unreachable or prohibit, which route cannot tell apart (and for
    IPv6 also blackhole). An IPv4 route without a device (`*`) is a blackhole; an IPv6 `Un`
    route (no next hop, not a gateway) is a local address."""
    if "!" in flags:
        return "unreachable"
    if family == 4 and no_device:
        return "blackhole"
    if family == 6 and "n" in flags and "G" not in flags:
        return "local"
    return "unicast"


def _device(token: Token) -> str | None:
    return None if token.type == "NONE" else str(token)


class _ToFacts(Transformer):
    def title(self, children):
        return ("title", 6 if str(children[0]) == "IPv6" else 4)

    def columns(self, children):
        names = tuple(str(child) for child in children)
        layout = _HEADERS.get(names)
        if layout is None:
            raise LineError(
                f"not a routing table header netlint knows: {' '.join(names)}", children[0].column
            )
        return ("columns", layout)

    def heading(self, children):
        return children[0]

    def _ipv4_row(self, children) -> Row:
        destination, gateway, genmask, flags_token, *rest = children
        iface = rest[3]
        values = [_number(token) for token in rest[:3] + rest[4:]]
        warnings: list[tuple[str, int | None]] = []
        prefix = _prefix_of_mask(int(_ipv4(genmask)), genmask)
        address, destination_name = _ipv4_or_name(destination)
        network = None if address is None else _network(address, prefix, destination, warnings)
        gateway_address, gateway_name = _ipv4_or_name(gateway)
        if gateway_address is not None and int(gateway_address) == 0:
            gateway_address = None
        flags = list(str(flags_token))
        return Row(
            family=4, destination=network, destination_name=destination_name,
            prefix_length=prefix if network is None else None, gateway=gateway_address,
            gateway_name=gateway_name, flags=flags, values=values, dev=_device(iface),
            type=_route_type(4, flags, str(iface) == "*"), warnings=warnings,
        )

    route_row = _ipv4_row
    route_wide_row = _ipv4_row

    def route6_row(self, children):
        prefix_token, next_hop, *rest = children
        flags = list(str(rest.pop(0))) if rest[0].type == "FLAGS" else []
        *value_tokens, iface = rest
        text, _, length = str(prefix_token).rpartition("/")
        prefix = int(length) if len(length) <= 3 else 999
        if prefix > 128:
            raise LineError(f"prefix length {prefix} is over 128", prefix_token.column)
        warnings: list[tuple[str, int | None]] = []
        address, destination_name = _ipv6_or_name(text, prefix_token)
        network = None if address is None else _network(address, prefix, prefix_token, warnings)
        gateway, gateway_name = _ipv6_or_name(str(next_hop), next_hop)
        if gateway is not None and int(gateway) == 0:
            gateway = None
        return Row(
            family=6, destination=network, destination_name=destination_name,
            prefix_length=prefix if network is None else None, gateway=gateway,
            gateway_name=gateway_name, flags=flags, values=[_number(token) for token in value_tokens],
            dev=_device(iface), type=_route_type(6, flags, iface.type == "NONE"), warnings=warnings,
        )

    def proc_route_row(self, children):
        iface, destination, gateway, flags_token, refcnt, use, metric, mask, mtu, window, irtt = children

        def address(token: Token, what: str) -> IPv4Address:
            return IPv4Address(int.from_bytes(_hex(token, 8, what).to_bytes(4, "big"), "little"))

        netmask = address(mask, "mask")
        prefix = _prefix_of_mask(int(netmask), mask)
        warnings: list[tuple[str, int | None]] = []
        network = _network(address(destination, "destination"), prefix, destination, warnings)
        gateway_address = address(gateway, "gateway")
        bits = _hex(flags_token, None, "flags")
        letters = _letters(bits, _IPV4_LETTERS)
        if "!" in letters:
            letters = ["!", *(letter for letter in letters if letter not in "UG!")]
        return Row(
            family=4, destination=network, destination_name=None, prefix_length=None,
            gateway=gateway_address if int(gateway_address) else None, gateway_name=None, flags=letters,
            values=[_number(token) for token in (refcnt, use, metric, mtu, window, irtt)],
            dev=_device(iface), type=_route_type(4, letters, str(iface) == "*"), warnings=warnings,
        )

    def proc_ipv6_route_row(self, children):
        destination, length, source, source_length, next_hop, metric, refcnt, use, flags_token, iface = (
            children
        )

        def address(token: Token, what: str) -> IPv6Address:
            return IPv6Address(_hex(token, 32, what))

        def prefix_length(token: Token) -> int:
            value = _hex(token, 2, "prefix length")
            if value > 128:
                raise LineError(f"prefix length {value} is over 128", token.column)
            return value

        warnings: list[tuple[str, int | None]] = []
        network = _network(address(destination, "destination"), prefix_length(length), destination, warnings)
        source_prefix = prefix_length(source_length)
        source_network = _network(address(source, "source"), source_prefix, source, warnings)
        gateway = address(next_hop, "next hop")
        bits = _hex(flags_token, 8, "flags")
        letters = _letters(bits, _IPV6_LETTERS)
        if bits & _RTF_REJECT:
            route_type = "unreachable"
        elif bits & _RTF_LOCAL:
            route_type = "local"
        elif bits & _RTF_ANYCAST:
            route_type = "anycast"
        else:
            route_type = "unicast"
        values: list[int | None] = [_hex(metric, 8, "metric"), _hex(refcnt, 8, "refcnt"), _hex(use, 8, "use")]
        return Row(
            family=6, destination=network, destination_name=None, prefix_length=None,
            gateway=gateway if int(gateway) else None, gateway_name=None, flags=letters, values=values,
            dev=_device(iface), type=route_type, source=source_network if source_prefix else None,
            warnings=warnings,
        )


@dataclass(frozen=True, slots=True)
class Layout:
    """A table's shape: the command that prints it, the grammar rule of its rows, and the
    option names of the rows' numeric columns in line order (`metric` becomes `Route.metric`)."""

    command: str
    grammar: Grammar
    columns: tuple[str, ...]
    wide: bool = False


def _rule(name: str) -> Grammar:
    return Grammar("route", name, _ToFacts)


_HEADING = _rule("heading")
ROUTE_N = Layout("route -n", _rule("route_row"), ("metric", "ref", "use"))
NETSTAT_RN = Layout("netstat -rn", _rule("route_row"), ("mss", "window", "irtt"))
ROUTE_EE = Layout(
    "route -ee", _rule("route_wide_row"), ("metric", "ref", "use", "mss", "window", "irtt"), wide=True
)
ROUTE_6 = Layout("route -6 -n", _rule("route6_row"), ("metric", "ref", "use"))
PROC_ROUTE = Layout(
    "/proc/net/route", _rule("proc_route_row"), ("ref", "use", "metric", "mtu", "window", "irtt")
)
PROC_IPV6_ROUTE = Layout("/proc/net/ipv6_route", _rule("proc_ipv6_route_row"), ("metric", "ref", "use"))

_IPV4_COLUMNS = ("Destination", "Gateway", "Genmask", "Flags")
_PROC_ROUTE_COLUMNS = (
    "Iface",
    "Destination",
    "Gateway",
    "Flags",
    "RefCnt",
    "Use",
    "Metric",
    "Mask",
    "MTU",
    "Window",
    "IRTT",
)
_HEADERS = {
    (*_IPV4_COLUMNS, "Metric", "Ref", "Use", "Iface"): ROUTE_N,
    (*_IPV4_COLUMNS, "MSS", "Window", "irtt", "Iface"): NETSTAT_RN,
    (*_IPV4_COLUMNS, "Metric", "Ref", "Use", "Iface", "MSS", "Window", "irtt"): ROUTE_EE,
    ("Destination", "Next Hop", "Flag", "Met", "Ref", "Use", "If"): ROUTE_6,
    _PROC_ROUTE_COLUMNS: PROC_ROUTE,
}

# First words of the lines that are headings, or that start a table netlint does not read
# (`route -C`'s `Source Destination Gateway ...`), so that its rows are not taken for routes.
_HEADING_WORDS = {"Kernel", "Destination", "Iface", "Source"}


def _is_ipv6_route_row(words: list[str]) -> bool:
    """/proc/net/ipv6_route has no header: its rows are known by their 32-digit addresses."""
    return len(words) == 10 and len(words[0]) == 32 and all(c in "0123456789abcdefABCDEF" for c in words[0])


def _headerless_layout(line: Line, words: list[str], ipv4: Layout) -> Layout:
    if "/" in words[0]:
        return ROUTE_6
    if len(words) == 11:
        return PROC_ROUTE if "\t" in line.text else ROUTE_EE
    return ipv4


def _unsigned_metric(value: int | None) -> int | None:
    """net-tools prints the 32-bit metric signed: `-1` is 4294967295."""
    if value is not None and -(2**31) <= value < 0:
        return value + 2**32
    return value


def _route(row: Row, layout: Layout, ctx: Context, line: Line) -> Route:
    values = dict(zip(layout.columns, row.values))
    metric = _unsigned_metric(values.pop("metric", None))
    options: dict[str, int | str] = {}
    if row.prefix_length is not None:
        options["prefix_length"] = row.prefix_length
    options.update((name, value) for name, value in values.items() if value is not None)
    return Route(
        family=row.family,
        destination=row.destination,
        origin=ctx.origin(line.number),
        type=row.type,
        gateway=row.gateway,
        dev=row.dev,
        metric=metric,
        flags=row.flags,
        destination_name=row.destination_name,
        gateway_name=row.gateway_name,
        options=options,
        from_=row.source,
    )


def read_tables(source: Source, ipv4: Layout) -> ParseResult:
    """Every route of every table in `source`. `ipv4` is the layout of an IPv4 table whose
    column header is missing (a pasted fragment): the columns the command prints by default."""
    ctx = Context(source)
    data = RoutesData()
    layout: Layout | None = None
    known = True
    noted: set[str] = set()

    def note_once(key: str, line: Line, message: str) -> None:
        if key not in noted:
            noted.add(key)
            ctx.note(line.number, message, line.text)

    for line in ctx.lines():
        words = line.text.split()
        if not words:
            continue
        if words[0] in _HEADING_WORDS:
            heading = ctx.try_parse(_HEADING, line)
            known = heading is not None
            if heading is not None:
                kind, value = heading
                layout = value if kind == "columns" else (ROUTE_6 if value == 6 else ipv4)
            continue
        if _is_ipv6_route_row(words):
            row_layout = PROC_IPV6_ROUTE
        elif not known:
            ctx.report(line, "row of a table whose header was not understood")
            continue
        elif layout is None:
            layout = row_layout = _headerless_layout(line, words, ipv4)
            note_once(
                "header", line, f"no column header before this row; read as the columns of `{layout.command}`"
            )
        else:
            row_layout = layout
        row = ctx.try_parse(row_layout.grammar, line)
        if row is None:
            continue
        for message, column in row.warnings:
            ctx.report(line, message, column, Severity.WARNING)
        if row.destination_name is not None or row.gateway_name is not None:
            note_once(
                "names",
                line,
                "names printed instead of addresses are kept as names; "
                "`route -n` / `netstat -rn` shows the addresses",
            )
        if row_layout.wide and row.dev is not None and len(row.dev) == 6:
            note_once(
                "iface", line, f"this table cuts interface names to 6 characters: `{row.dev}` may be longer"
            )
        data.routes.append(_route(row, row_layout, ctx, line))
    return ctx.result(data)
