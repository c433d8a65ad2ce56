"""Parser for net-tools `ifconfig` / `ifconfig -a` (kind `ifconfig`), both layouts: net-tools
2.x (`eth0: flags=4163<UP,...>  mtu 1500`) and net-tools 1.60 / busybox
(`eth0      Link encap:Ethernet  HWaddr ...`).

Output schema (`data`), the same as `ip-addr`'s::

    {"interfaces": [{"name": "eth0", "line": 1, "flags": ["UP", "BROADCAST", "RUNNING", "MULTICAST"],
                     "mtu": 1500, "qlen": 1000, "link_type": "ether", "mac": "52:54:00:12:34:56",
                     "addresses": [{"family": 4, "address": "10.0.0.5/24", "line": 2,
                                    "broadcast": "10.0.0.255", "peer": null, "scope": null,
                                    "label": "eth0", ...},
                                   {"family": 6, "address": "fe80::5054:ff:fe12:3456/64", "line": 3,
                                    "scope": "link", "label": null, ...}],
                     "stats": {"rx": {"packets": 10, "bytes": 796, "errors": 0, "dropped": 0,
                                      "overruns": 0, "frame": 0},
                               "tx": {"packets": 11, "bytes": 962, "errors": 0, "dropped": 0,
                                      "overruns": 0, "carrier": 0, "collisions": 0}},
                     "details": ["interrupt 16", "memory 0xf7100000-f7120000"],
                     "index": null, "state": null, "master": null, ...}]}

Fields ifconfig cannot show (`index`, `state`, `master`, `qdisc`…) stay null. An alias block
(`eth0:1`) is not an interface of its own: its IPv4 address joins the interface before the
colon with `label` `eth0:1`, as `ip addr` shows it. A point-to-point address keeps its
`destination`/`P-t-P` as `peer`, with the address's prefix. `link_type` uses iproute2's
words (`ether`, `loopback`, `unspec`, `ppp`, `sit`…); `mac` is lower case. What has no
field goes to `details` as `key value` (`metric 1`, `interrupt 19`, `base 0x2000`,
`hwaddr 00-00-...` for a link address that is not a MAC). ifconfig's own complaints
(`eth5: error fetching interface information: Device not found`) are kept as notes.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Interface, IPv6Interface

from lark import Transformer

from ..model import Address, Interface, InterfacesData, ParseResult, Source
from .base import Context, Grammar, LineError

_LINK_TYPES = {
    "loop": "loopback", "tunnel": "ipip",
    "ethernet": "ether", "local loopback": "loopback", "point-to-point protocol": "ppp",
    "ipip tunnel": "ipip", "ipv6-in-ipv4": "sit", "serial line ip": "slip", "vj serial line ip": "cslip",
}
_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2})+")
# net-tools 1.60 prints names in a 9-wide column and cuts longer ones.
_OLD_NAME_WIDTH = 9


def _number(token) -> int:
    text = str(token)
    if len(text) > 20:
        raise LineError(f"number {text[:24]}... is out of range", getattr(token, "column", None))
    return int(text)


def _link_type(name: str) -> str:
    key = name.lower()
    return _LINK_TYPES.get(key, key.replace(" ", "-"))


def _ip(factory, text: str, column: int | None):
    try:
        return factory(text)
    except ValueError as error:
        raise LineError(str(error), column) from None


class _ToFacts(Transformer):
    # ---- headers ----
    def new_header(self, children):
        # The number after `flags=` is the bit mask the `<...>` list spells out.
        name, _, *rest = children
        flags = [str(c) for c in rest if not isinstance(c, tuple) and c.type == "FLAG"]
        mtu = next(c for c in rest if not isinstance(c, tuple) and c.type == "NUMBER")
        options = [f"{key} {value}" for key, value in (c for c in rest if isinstance(c, tuple))]
        return ("header", str(name), flags, _number(mtu), options, None)

    def header_option(self, children):
        return (str(children[0]), _number(children[1]))

    def old_header(self, children):
        name, title, *rest = children
        hardware = next((str(c) for c in rest if c.type == "HW_ADDRESS"), None)
        details = [f"media {c}" for c in rest if c.type == "MEDIA"]
        return ("header", str(name), None, None, details, ("link", _link_type(str(title)), hardware, None))

    def fetch_error(self, children):
        return ("message", f"{children[0]}: {str(children[1]).strip()}")

    def warning(self, children):
        return ("message", str(children[0]).strip())

    def header(self, children):
        return children[0]

    # ---- addresses ----
    def _inet(self, children):
        ip, *options = children
        values = dict(options)
        netmask = values.get("netmask")
        prefix = f"/{netmask}" if netmask else ""
        address = _ip(IPv4Interface, f"{ip}{prefix}", ip.column)
        peer = _ip(IPv4Interface, f"{values['destination']}{prefix}", ip.column) if "destination" in values else None
        broadcast = _ip(IPv4Address, values["broadcast"], ip.column) if "broadcast" in values else None
        return ("inet", address, peer, broadcast)

    new_inet = old_inet = _inet

    def netmask(self, children):
        return ("netmask", str(children[0]))

    def broadcast(self, children):
        return ("broadcast", str(children[0]))

    def destination(self, children):
        return ("destination", str(children[0]))

    def new_inet6(self, children):
        address, prefix, *scope = children
        value = _ip(IPv6Interface, f"{address}/{_number(prefix)}", address.column)
        names = [str(s) for s in scope if s.type == "SCOPE_NAME"]
        return ("inet6", value, names[0].lower() if names else None)

    def old_inet6(self, children):
        address, scope = children
        return ("inet6", _ip(IPv6Interface, str(address), address.column), str(scope).lower())

    # ---- link ----
    def new_link(self, children):
        hw_name, *rest = children
        hardware = next((str(c) for c in rest if c.type == "HW_ADDRESS"), None)
        qlen = next((_number(c) for c in rest if c.type == "NUMBER"), None)
        return ("link", _link_type(str(hw_name)), hardware, qlen)

    def old_flags(self, children):
        flags = [str(c) for c in children if c.type == "OLD_FLAG"]
        numbers = [_number(c) for c in children if c.type == "NUMBER"]
        details = [f"metric {numbers[1]}"]
        if len(numbers) == 4:
            details += [f"outfill {numbers[2]}", f"keepalive {numbers[3]}"]
        return ("flags", flags, numbers[0], details)

    # ---- counters ----
    def counter(self, children):
        return (str(children[0]), _number(children[1]))

    def old_counter(self, children):
        return (str(children[0]).rstrip(":"), _number(children[1]))

    def new_traffic(self, children):
        direction, packets, size, *_ = children
        return ("counters", str(direction).lower(), {"packets": _number(packets), "bytes": _number(size)})

    def new_errors(self, children):
        direction, errors, *counters = children
        return ("counters", str(direction).lower(), {"errors": _number(errors), **dict(counters)})

    def old_counters(self, children):
        direction, packets, *counters = children
        return ("counters", str(direction).lower(), {"packets": _number(packets), **dict(counters)})

    def old_compressed(self, children):
        return ("counters", "rx", {"compressed": _number(children[0])})

    def old_collisions(self, children):
        collisions, *rest = children
        tx = {"collisions": _number(collisions)}
        qlen = None
        for kind, value in rest:
            if kind == "compressed":
                tx["compressed"] = value
            else:
                qlen = value
        return ("collisions", tx, qlen)

    def old_tx_compressed(self, children):
        return ("compressed", _number(children[0]))

    def old_txqueuelen(self, children):
        return ("qlen", _number(children[0]))

    def byte_count(self, children):
        return (str(children[0]).lower(), _number(children[1]))

    def old_bytes(self, children):
        return ("bytes", children)

    # ---- hardware resources ----
    def new_device(self, children):
        return ("details", [f"{key} {value}" for key, value in zip(children[::2], children[1::2])])

    def interrupt(self, children):
        return f"interrupt {children[0]}"

    def base(self, children):
        return f"base {children[0]}"

    def memory(self, children):
        return f"memory {children[0]}"

    def dma(self, children):
        return f"dma {children[0]}"

    def old_map(self, children):
        return ("details", list(children))

    def detail(self, children):
        return children[0]


_HEADER = Grammar("ifconfig", start="header", transformer=_ToFacts)
_DETAIL = Grammar("ifconfig", start="detail", transformer=_ToFacts)


class _Block:
    """The interface a header opened. An alias block (`eth0:1`) adds its address to the
    interface before the colon and leaves that interface's link facts alone."""

    def __init__(self, interface: Interface, label: str, owns_link: bool):
        self.interface, self.label, self.owns_link = interface, label, owns_link


def _open_block(data: InterfacesData, names: dict[str, Interface], name: str, origin) -> _Block:
    base = name.split(":", 1)[0]
    if base != name and base in names:
        return _Block(names[base], name, owns_link=False)
    interface = Interface(base, origin)
    data.interfaces.append(interface)
    names[base] = interface
    return _Block(interface, name, owns_link=True)


def _set_link(interface: Interface, link_type: str, hardware: str | None, qlen: int | None) -> None:
    interface.link_type = link_type
    if hardware is not None:
        if _MAC.fullmatch(hardware.lower()):
            interface.mac = hardware.lower()
        else:
            interface.details.append(f"hwaddr {hardware}")
    if qlen is not None:
        interface.qlen = qlen


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    data = InterfacesData()
    names: dict[str, Interface] = {}
    block: _Block | None = None
    for line in ctx.lines():
        if not line.text.strip():
            continue
        if line.text[0] not in " \t":
            fact = ctx.try_parse(_HEADER, line)
            if fact is None:
                continue
            if fact[0] == "message":
                ctx.note(line.number, f"ifconfig reported: {fact[1]}", line.text)
                continue
            _, name, flags, mtu, details, link = fact
            block = _open_block(data, names, name, ctx.origin(line.number))
            if block.owns_link:
                if flags is not None:
                    block.interface.flags, block.interface.mtu = flags, mtu
                block.interface.details.extend(details)
                if link is not None:
                    _set_link(block.interface, *link[1:])
            if link is not None and len(name) == _OLD_NAME_WIDTH:
                ctx.note(line.number, f"net-tools 1.60 cuts interface names to {_OLD_NAME_WIDTH} characters: "
                         f"{name} may be the start of a longer name", line.text)
            continue
        if block is None:
            ctx.report(line, "interface detail before any interface header", 1)
            continue
        fact = ctx.try_parse(_DETAIL, line)
        if fact is None:
            continue
        _apply(fact, block, ctx.origin(line.number))
    return ctx.result(data)


def _apply(fact: tuple, block: _Block, origin) -> None:
    interface, kind = block.interface, fact[0]
    if kind == "inet":
        _, address, peer, broadcast = fact
        interface.addresses.append(Address(4, address, origin, peer=peer, broadcast=broadcast, label=block.label))
    elif kind == "inet6":
        _, address, scope = fact
        interface.addresses.append(Address(6, address, origin, scope=scope))
    elif not block.owns_link:
        return
    elif kind == "link":
        _set_link(interface, *fact[1:])
    elif kind == "flags":
        _, interface.flags, interface.mtu, details = fact
        interface.details.extend(details)
    elif kind == "counters":
        interface.stats.setdefault(fact[1], {}).update(fact[2])
    elif kind == "collisions":
        interface.stats.setdefault("tx", {}).update(fact[1])
        if fact[2] is not None:
            interface.qlen = fact[2]
    elif kind == "bytes":
        for direction, count in fact[1]:
            interface.stats.setdefault(direction, {})["bytes"] = count
    elif kind == "details":
        interface.details.extend(fact[1])
