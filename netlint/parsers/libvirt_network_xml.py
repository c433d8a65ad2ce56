"""Parser for a libvirt network's XML (kind `libvirt-network-xml`): `virsh net-dumpxml NAME`
or `/etc/libvirt/qemu/networks/NAME.xml`.

XML is not a line format, so this parser does not use Lark: the standard library's expat
reads it, hardened. A DTD (`<!DOCTYPE`, hence any `<!ENTITY`) is refused before anything in
it is read, so no entity is ever expanded or fetched (billion laughs, external entities);
libvirt never writes one. Malformed XML is a problem at expat's line and column; the
elements before it are still read. Each element counts as one recognized unit: it is
understood, or a note names it (an element or attribute netlint does not read is kept as a
note, never an error).

Output schema (`data`)::

    {"network": {"name": "default", "uuid": "…", "connections": null, "line": 1,
                 "forward_mode": "nat", "forward_dev": null, "forward_pf": null,
                 "forward_interfaces": [],
                 "nat_address_start": null, "nat_address_end": null,
                 "nat_port_start": 1024, "nat_port_end": 65535, "nat_ipv6": null,
                 "bridge": "virbr0", "bridge_stp": true, "bridge_delay": 0, "bridge_zone": null,
                 "mac": "52:54:00:0a:cd:21", "mtu": null, "domain": null,
                 "ips": [{"address": "192.168.122.1/24", "line": 9,
                          "dhcp_ranges": [{"start": "192.168.122.2", "end": "192.168.122.254", "line": 11}],
                          "dhcp_hosts": [{"mac": "52:54:00:6c:3c:01", "id": null, "name": "web",
                                          "ip": "192.168.122.10", "line": 12}]}],
                 "routes": [{"destination": "192.168.222.0/24", "gateway": "192.168.122.2",
                             "metric": null, "line": 15}]}}

`network` is null when the text holds no `<network>` element. `forward_mode` is null for an
isolated network (no `<forward>`); `<forward>` without `mode` is `nat`. An `<ip>` without
`prefix` or `netmask` gets libvirt's default (the IPv4 class's mask, /64 for IPv6), with a note.
"""

from __future__ import annotations

import re
import uuid as uuid_module
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface, ip_address
from xml.parsers import expat

from ..model import (DhcpHost, DhcpRange, LibvirtIp, LibvirtNetwork, LibvirtNetworkData, LibvirtRoute, Origin,
                     ParseResult, Severity, Source)
from .base import Context, Line

_FORWARD_MODES = {"nat", "route", "open", "bridge", "passthrough", "private", "vepa", "hostdev"}
_YES_NO = {"yes": True, "no": False}
_ON_OFF = {"on": True, "off": False}
_MAC = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")
_NUMBER = re.compile(r"\d{1,9}")


class _Refused(Exception):
    """A construct netlint will not read (a DTD), at expat's position."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.line, self.column = line, column


class _Element:
    """An element as expat delivered it, with its position (1-based line and column)."""

    __slots__ = ("tag", "attrs", "line", "column", "children", "text", "text_line", "size", "closed")

    def __init__(self, tag: str, attrs: dict[str, str], line: int, column: int):
        self.tag, self.attrs, self.line, self.column = tag, attrs, line, column
        self.children: list[_Element] = []
        self.text = ""
        self.text_line: int | None = None
        self.size = 1  # this element and all inside it
        self.closed = False  # its end tag was read (malformed XML may stop expat inside it)


def _read_tree(text: str) -> tuple[_Element | None, _Refused | expat.ExpatError | None]:
    """The element tree of `text` (as far as it is well-formed) and what stopped expat."""
    parser = expat.ParserCreate(encoding="UTF-8")  # the text is already decoded: ignore the declaration
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Element] = []
    roots: list[_Element] = []

    def position() -> tuple[int, int]:
        return parser.CurrentLineNumber, parser.CurrentColumnNumber + 1

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = _Element(tag, attrs, *position())
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        done = stack.pop()
        done.closed = True
        if stack:
            stack[-1].size += done.size

    def characters(data: str) -> None:
        if stack:
            stack[-1].text += data
            if stack[-1].text_line is None and data.strip():
                stack[-1].text_line = parser.CurrentLineNumber + data[:len(data) - len(data.lstrip())].count("\n")

    def refuse_dtd(*_args: object) -> None:
        raise _Refused("a DTD (<!DOCTYPE>) is refused: netlint never expands or fetches entities, "
                       "and libvirt never writes one", *position())

    def refuse_entity(*_args: object) -> None:
        raise _Refused("an entity declaration is refused: netlint never expands entities", *position())

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_entity
    try:
        parser.Parse(text.encode("utf-8", "surrogatepass"), True)
    except (_Refused, expat.ExpatError) as error:
        return (roots[0] if roots else None), error
    return (roots[0] if roots else None), None


class _Reader:
    """Reads the element tree into a `LibvirtNetwork`, accounting for every element."""

    def __init__(self, ctx: Context, lines: dict[int, Line], skipped: int):
        self.ctx, self.lines, self.skipped = ctx, lines, skipped

    # -- accounting ---------------------------------------------------------------------

    def line(self, number: int) -> Line:
        """The source line of expat's line `number`."""
        number = self.ctx.source.first_line + self.skipped + number - 1
        return self.lines.get(number) or Line(number, "")

    def origin(self, element: _Element) -> Origin:
        return self.ctx.origin(self.line(element.line).number)

    def problem(self, element: _Element, message: str, severity: Severity = Severity.ERROR) -> None:
        self.ctx.report(self.line(element.line), message, element.column, severity)

    def note(self, element: _Element, message: str) -> None:
        line = self.line(element.line)
        self.ctx.note(line.number, message, line.text)

    def understood(self, element: _Element, attributes: tuple[str, ...] = (), holds_text: bool = False) -> None:
        """Count `element` as read; name its attributes outside `attributes` in notes, and
        report text where libvirt's format has none."""
        self.ctx.ok()
        for name, value in element.attrs.items():
            if name not in attributes and name != "xmlns" and not name.startswith("xmlns:"):
                self.note(element, f"attribute {name}={value[:60]!r} of <{element.tag}> is not read by netlint")
        if not holds_text and element.text_line is not None:
            message = f"text inside <{element.tag}> is not part of libvirt's format"
            self.ctx.report(self.line(element.text_line), message, None, Severity.WARNING)

    def not_read(self, element: _Element, parent: str) -> None:
        inside = element.size - 1
        more = f" (nor the {inside} element{'s' if inside != 1 else ''} inside it)" if inside else ""
        self.note(element, f"<{element.tag}> in <{parent}> is not read by netlint{more}")

    def children(self, element: _Element, readers: dict[str, Callable[[_Element], None]]) -> None:
        for child in element.children:
            reader = readers.get(child.tag)
            if reader is None:
                self.not_read(child, element.tag)
            else:
                reader(child)

    # -- values -------------------------------------------------------------------------

    def flag(self, element: _Element, name: str, words: dict[str, bool]) -> bool | None:
        value = element.attrs.get(name)
        if value is None:
            return None
        if value not in words:
            self.problem(element, f"{name}={value[:60]!r} of <{element.tag}> is not one of {'/'.join(words)}")
            return None
        return words[value]

    def number(self, element: _Element, name: str) -> int | None:
        value = element.attrs.get(name)
        if value is None:
            return None
        if not _NUMBER.fullmatch(value):
            self.problem(element, f"{name}={value[:60]!r} of <{element.tag}> is not a number")
            return None
        return int(value)

    def address(self, element: _Element, name: str) -> IPv4Address | IPv6Address | None:
        value = element.attrs.get(name)
        if value is None:
            return None
        try:
            return ip_address(value)
        except ValueError:
            self.problem(element, f"{name}={value[:60]!r} of <{element.tag}> is not an IP address")
            return None

    def single(self, element: _Element, seen: set[str]) -> bool:
        """libvirt reads the first of an element that may appear once; say so of the others."""
        if element.tag in seen:
            self.ctx.ok()
            inside = f" (and the {element.size - 1} elements inside it)" if element.size > 1 else ""
            self.problem(element, f"a second <{element.tag}>: libvirt reads only the first one, "
                                  f"netlint ignores this one{inside}", Severity.WARNING)
            return False
        seen.add(element.tag)
        return True

    # -- the network --------------------------------------------------------------------

    def network(self, root: _Element) -> LibvirtNetwork:
        network = LibvirtNetwork(None, self.origin(root))
        self.understood(root, ("connections",))
        network.connections = self.number(root, "connections")
        seen: set[str] = set()

        def name(element: _Element) -> None:
            if self.single(element, seen):
                self.understood(element, holds_text=True)
                network.name = element.text.strip() or None
                if network.name is None and element.closed:
                    self.problem(element, "<name> is empty")

        def uuid(element: _Element) -> None:
            if self.single(element, seen):
                self.understood(element, holds_text=True)
                network.uuid = element.text.strip() or None
                try:
                    uuid_module.UUID(network.uuid or "")
                except ValueError:
                    if element.closed:
                        self.problem(element, f"{element.text.strip()[:60]!r} is not a UUID", Severity.WARNING)

        def bridge(element: _Element) -> None:
            if self.single(element, seen):
                self.understood(element, ("name", "stp", "delay", "zone"))
                network.bridge = element.attrs.get("name")
                network.bridge_stp = self.flag(element, "stp", _ON_OFF)
                network.bridge_delay = self.number(element, "delay")
                network.bridge_zone = element.attrs.get("zone")

        def mac(element: _Element) -> None:
            if self.single(element, seen):
                self.understood(element, ("address",))
                network.mac = element.attrs.get("address")
                if network.mac is not None and not _MAC.fullmatch(network.mac):
                    self.problem(element, f"{network.mac[:60]!r} is not a MAC address", Severity.WARNING)

        def mtu(element: _Element) -> None:
            if self.single(element, seen):
                self.understood(element, ("size",))
                network.mtu = self.number(element, "size")

        def domain(element: _Element) -> None:
            if self.single(element, seen):
                self.understood(element, ("name",))
                network.domain = element.attrs.get("name")

        def forward(element: _Element) -> None:
            if self.single(element, seen):
                self.forward(element, network)

        def ip(element: _Element) -> None:
            read = self.ip(element)
            if read is not None:
                network.ips.append(read)

        def route(element: _Element) -> None:
            read = self.route(element)
            if read is not None:
                network.routes.append(read)

        self.children(root, {"name": name, "uuid": uuid, "bridge": bridge, "mac": mac, "mtu": mtu,
                             "domain": domain, "forward": forward, "ip": ip, "route": route})
        if "name" not in seen:
            self.problem(root, "<network> has no <name>", Severity.WARNING)
        return network

    def forward(self, element: _Element, network: LibvirtNetwork) -> None:
        self.understood(element, ("mode", "dev"))
        mode = element.attrs.get("mode", "nat")
        if mode not in _FORWARD_MODES:
            self.problem(element, f"forward mode {mode[:60]!r} is not one libvirt knows")
        network.forward_mode = mode
        network.forward_dev = element.attrs.get("dev")

        def interface(child: _Element) -> None:
            self.understood(child, ("dev",))
            if "dev" in child.attrs:
                network.forward_interfaces.append(child.attrs["dev"])
            else:
                self.problem(child, "<interface> has no dev=")
            self.children(child, {})

        def pf(child: _Element) -> None:
            self.understood(child, ("dev",))
            network.forward_pf = child.attrs.get("dev")
            self.children(child, {})

        def nat(child: _Element) -> None:
            self.understood(child, ("ipv6",))
            network.nat_ipv6 = self.flag(child, "ipv6", _YES_NO)
            self.children(child, {"address": nat_address, "port": nat_port})

        def nat_address(child: _Element) -> None:
            self.understood(child, ("start", "end"))
            start, end = self.address(child, "start"), self.address(child, "end")
            if isinstance(start, IPv4Address) and isinstance(end, IPv4Address):
                network.nat_address_start, network.nat_address_end = start, end
            else:
                self.problem(child, "<address> of <nat> needs IPv4 start= and end=")
            self.children(child, {})

        def nat_port(child: _Element) -> None:
            self.understood(child, ("start", "end"))
            network.nat_port_start, network.nat_port_end = self.number(child, "start"), self.number(child, "end")
            self.children(child, {})

        self.children(element, {"interface": interface, "pf": pf, "nat": nat})

    def ip(self, element: _Element) -> LibvirtIp | None:
        self.understood(element, ("address", "netmask", "prefix", "family"))
        address = self._interface(element)
        read = LibvirtIp(address, self.origin(element)) if address is not None else None

        def dhcp(child: _Element) -> None:
            self.understood(child)
            self.children(child, {"range": dhcp_range, "host": host})

        def dhcp_range(child: _Element) -> None:
            self.understood(child, ("start", "end"))
            start, end = self.address(child, "start"), self.address(child, "end")
            if start is None or end is None or start.version != end.version:
                self.problem(child, "<range> needs start= and end= of one address family")
            elif read is not None:
                read.dhcp_ranges.append(DhcpRange(start, end, self.origin(child)))
            self.children(child, {})

        def host(child: _Element) -> None:
            self.understood(child, ("mac", "id", "name", "ip"))
            reservation = DhcpHost(self.origin(child), child.attrs.get("mac"), child.attrs.get("id"),
                                   child.attrs.get("name"), self.address(child, "ip"))
            if read is not None:
                read.dhcp_hosts.append(reservation)
            self.children(child, {})

        self.children(element, {"dhcp": dhcp})
        return read

    def _interface(self, element: _Element) -> IPv4Interface | IPv6Interface | None:
        """The `<ip>`'s address with its prefix, as libvirt derives it."""
        address = self.address(element, "address")
        if address is None:
            if "address" not in element.attrs:
                self.problem(element, "<ip> has no address=")
            return None
        family = element.attrs.get("family")
        if family not in (None, "ipv4", "ipv6"):
            self.problem(element, f"family={family[:60]!r} of <ip> is not ipv4 or ipv6")
        elif (family == "ipv6") != (address.version == 6):
            self.problem(element, f"address {address} does not fit family={family or 'ipv4'}", Severity.WARNING)
        if "prefix" in element.attrs:
            prefix = self.number(element, "prefix")
            mask = None if prefix is None else str(prefix)
        elif "netmask" in element.attrs:
            mask = element.attrs["netmask"]
        else:
            mask = _default_prefix(address)
            if mask is None:
                self.problem(element, f"<ip> has no prefix= or netmask=, and {address} has no default one")
            else:
                self.note(element, f"<ip> has no prefix= or netmask=: libvirt uses /{mask} for {address}")
        if mask is None:
            return None
        try:
            return IPv4Interface(f"{address}/{mask}") if address.version == 4 else IPv6Interface(f"{address}/{mask}")
        except ValueError:
            self.problem(element, f"{mask[:60]!r} is not a valid prefix or netmask for {address}")
            return None

    def route(self, element: _Element) -> LibvirtRoute | None:
        self.understood(element, ("address", "prefix", "netmask", "gateway", "family", "metric"))
        self.children(element, {})
        address, gateway = self.address(element, "address"), self.address(element, "gateway")
        metric = self.number(element, "metric")
        if address is None or gateway is None:
            self.problem(element, "<route> needs address= and gateway=")
            return None
        mask = element.attrs.get("prefix", element.attrs.get("netmask", str(address.max_prefixlen)))
        try:
            if address.version == 4:
                destination = IPv4Interface(f"{address}/{mask}").network
            else:
                destination = IPv6Interface(f"{address}/{mask}").network
        except ValueError:
            self.problem(element, f"{mask[:60]!r} is not a valid prefix or netmask for {address}")
            return None
        return LibvirtRoute(destination, gateway, self.origin(element), metric)


def _default_prefix(address: IPv4Address | IPv6Address) -> str | None:
    """libvirt's prefix for an `<ip>` that gives none: the IPv4 class's, or 64 for IPv6."""
    if address.version == 6:
        return "64"
    first = int(address) >> 24
    return "8" if first < 128 else "16" if first < 192 else "24" if first < 224 else None


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    lines = {line.number: line for line in ctx.lines()}
    # Blank lines before the XML (a ticket piece, an editor's) would put an `<?xml?>`
    # declaration off the start, where XML forbids it; expat reads from the first text.
    text = source.text
    first = len(text) - len(text.lstrip())
    first = text.rfind("\n", 0, first) + 1
    reader = _Reader(ctx, lines, text.count("\n", 0, first))
    root, error = _read_tree(text[first:])
    data = LibvirtNetworkData()
    if root is not None:
        if root.tag == "network":
            data.network = reader.network(root)
        else:
            reader.problem(root, f"the root element is <{root.tag}>, not a libvirt <network>")
    if isinstance(error, _Refused):
        line = reader.line(error.line)
        start = line.text.find("<!")  # expat stands at the subset's `[`; point at its `<!DOCTYPE`
        ctx.report(line, str(error), start + 1 if start >= 0 else error.column)
    elif error is not None:
        reason = expat.ErrorString(error.code)
        if root is None:
            message = f"not XML: {reason}"
        else:
            message = f"malformed XML: {reason}; what comes before it was read"
        ctx.report(reader.line(error.lineno), message, error.offset + 1)
    return ctx.result(data)
