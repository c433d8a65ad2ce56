"""Parser for `ip addr` / `ip link` output (kind `ip-addr`): iproute2 old and new, BusyBox,
with `-d`, `-s` (`-s -s`), `-o`, `-4`/`-6`, and partial pastes that start at any interface.

Output schema (`data`)::

    {"interfaces": [
      {"name": "veth1", "index": 10, "peer": "if5", "line": 14,
       "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": 1500, "qdisc": "noqueue",
       "master": "virbr0", "state": "UP", "mode": null, "group": "default", "qlen": 1000,
       "link_type": "ether", "mac": "8a:3e:4b:01:02:03", "broadcast_mac": "ff:ff:ff:ff:ff:ff",
       "link_peer": null, "permaddr": null, "link_netnsid": 0, "link_netns": null,
       "altnames": [], "alias": null,
       "link_kind": "veth", "details": [],
       "slave_kind": "bridge_slave", "slave_details": ["state", "forwarding", "priority", "32"],
       "link_options": ["promiscuity", "1", "minmtu", "68", "maxmtu", "65535"],
       "vfs": [{"index": 0, "link_type": "ether", "mac": "…", "broadcast_mac": "…",
                "options": ["spoof checking on", "link-state auto"], "stats": {…}, "line": 30}],
       "addresses": [{"family": 4, "address": "192.168.122.1/24", "peer": null,
                      "broadcast": "192.168.122.255", "scope": "global", "label": "virbr0",
                      "flags": ["secondary"], "valid_lft": "forever", "preferred_lft": 86391,
                      "metric": null, "proto": null, "line": 16}],
       "stats": {"rx": {"bytes": 48067, "packets": 769, "errors": 0, "dropped": 4,
                        "missed": 0, "mcast": 0},
                 "tx": {…}, "rx_errors": {"length": 0, "crc": 0, …}, "tx_errors": {…}}},
      …]}

`link_type` is the word after `link/` (`ether`, `loopback`, `none`, `[65534]`, `gre`…) and
`mac` the link-layer address as printed (a tunnel's is an IP address; `link_peer` its far
end). `valid_lft`/`preferred_lft` are seconds or `"forever"`. Stats keys are the column names
as printed (`overrun` in old iproute2, `missed` in new). `ip -o addr` lines of one interface
merge into one interface without flags. A detail line beyond the kind's and the port role's
is appended to `details`, its kind first. A header row of counters belongs to the VF line
above it, if any, else to the interface. Lines `ip` adds to its own output (`Message truncated`, an
echoed `# ip a` prompt) and a long line hard-wrapped by a terminal or mailer are recognized and
noted; so is an address hidden by whoever pasted it (`[PUBLIC IP HERE]`, `fe80::XXXX:…`), which
is not kept.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Interface, IPv6Interface, ip_address, ip_interface
from typing import Any, NamedTuple

from lark import Token, Transformer
from lark.exceptions import LarkError

from ..model import Address, Interface, InterfacesData, ParseResult, Severity, Source, VirtualFunction
from .base import Context, Grammar, Line, LineError, describe

# A counter is at most 64 bits (20 digits); ifindex, mtu and qlen are 32-bit.
_MAX_DIGITS = 20
# A line this long that is followed by an unindented fragment was most likely hard-wrapped
# (terminals and mailers wrap at 72 to 80 columns, far beyond most `ip` lines but -d/-o ones).
_WRAP_WIDTH = 72
# A mailer wraps at a word boundary and drops the blank there: the line is shorter, but its
# next word would have passed this margin.
_MAIL_MARGIN = 70


def _may_be_wrapped(line: str, fragment: str) -> bool:
    next_word = fragment.split(None, 1)[0] if fragment.strip() else ""
    return len(line) >= _WRAP_WIDTH or len(line) + 1 + len(next_word) > _MAIL_MARGIN
_ONELINE_RECORD = re.compile(r"\s*[0-9]+:\s")
_REDACTED_ADDRESS = re.compile(r"[0-9A-Fa-f:.]*[Xx][0-9A-Fa-fXx:.]*(?:/[0-9]+)?")


class _Redacted(NamedTuple):
    text: str


class _Header(NamedTuple):
    index: int
    name: str
    peer: str | None
    flags: list[str]
    attrs: dict[str, Any]


class _Addr(NamedTuple):
    family: int
    address: IPv4Interface | IPv6Interface | _Redacted
    attrs: dict[str, Any]
    flags: list[str]
    label: str | None


class _Link(NamedTuple):
    link_type: str
    mac: str | None
    attrs: dict[str, Any]
    options: list[str]


def _int(token: Token) -> int:
    text = str(token)
    if len(text) > _MAX_DIGITS:
        raise LineError(f"number {text[:24]}… is too large", token.column)
    return int(text)


def _interface(token: Token, family: int) -> IPv4Interface | IPv6Interface | _Redacted:
    text = str(token)
    try:
        value = ip_interface(text)
    except ValueError:
        if _REDACTED_ADDRESS.fullmatch(text):
            return _Redacted(text)
        raise LineError(f"{text[:60]!r} is not an IP address", token.column) from None
    if value.version != family:
        raise LineError(f"{text[:60]!r} is not an IPv{family} address", token.column)
    return value


class _ToFacts(Transformer):
    def start(self, children):
        return children[0]

    # --- the interface header ---
    def link_header(self, children):
        index, name, *rest = children
        peer = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "IFNAME":
            peer = str(rest.pop(0))
        flags = [str(c) for c in rest if isinstance(c, Token) and c.type == "FLAG"]
        attrs = dict(c for c in rest if isinstance(c, tuple))
        return _Header(_int(index), str(name), peer, flags, attrs)

    def mtu(self, children):
        return ("mtu", _int(children[0]))

    def qlen(self, children):
        return ("qlen", _int(children[0]))

    def qdisc(self, children):
        return ("qdisc", str(children[0]))

    def master(self, children):
        return ("master", str(children[0]))

    def state(self, children):
        return ("state", str(children[0]))

    def mode(self, children):
        return ("mode", str(children[0]))

    def group(self, children):
        return ("group", str(children[0]))

    # --- the link/ line ---
    def link_line(self, children):
        link_type, *rest = children
        mac = str(rest.pop(0)) if rest and isinstance(rest[0], Token) else None
        attrs: dict[str, Any] = {}
        options: list[str] = []
        for child in rest:
            if isinstance(child, list):
                options = child
            else:
                attrs[child[0]] = child[1]
        return _Link(str(link_type).removeprefix("link/"), mac, attrs, options)

    def brd(self, children):
        token = children[0]
        if token.type == "LLADDR":
            return ("broadcast_mac", str(token))
        return ("broadcast", self._plain_address(token))

    def link_peer(self, children):
        return ("link_peer", str(children[0]))

    def permaddr(self, children):
        return ("permaddr", str(children[0]))

    def link_netnsid(self, children):
        return ("link_netnsid", _int(children[0]))

    def link_netns(self, children):
        return ("link_netns", str(children[0]))

    def link_options(self, children):
        return [str(c) for c in children]

    # --- inet/inet6 ---
    def address_line(self, children):
        return children[0]

    def oneline_address(self, children):
        index, name, address = children
        return ("oneline", _int(index), str(name), address)

    def address_body(self, children):
        family_token, address_token, *rest = children
        family = 6 if str(family_token) == "inet6" else 4
        if address_token.type == "REDACTED":
            address: Any = _Redacted(str(address_token))
        else:
            address = _interface(address_token, family)
        attrs: dict[str, Any] = {}
        flags: list[str] = []
        label = None
        for child in rest:
            if isinstance(child, Token):
                label = str(child)
            elif child[0] == "flag":
                flags.append(child[1])
            else:
                attrs[child[0]] = child[1]
        peer = attrs.get("peer")
        if isinstance(peer, (IPv4Interface, IPv6Interface)) and peer.version != family:
            raise LineError(f"peer {peer} is not an IPv{family} address")
        return _Addr(family, address, attrs, flags, label)

    def peer(self, children):
        token = children[0]
        try:
            return ("peer", ip_interface(str(token)))
        except ValueError:
            raise LineError(f"{str(token)[:60]!r} is not an IP address", token.column) from None

    def _plain_address(self, token: Token):
        try:
            return ip_address(str(token))
        except ValueError:
            raise LineError(f"{str(token)[:60]!r} is not an IP address", token.column) from None

    def scope(self, children):
        return ("scope", str(children[0]))

    def metric(self, children):
        return ("metric", _int(children[0]))

    def proto(self, children):
        return ("proto", str(children[0]))

    def hex_flags(self, children):
        return ("flag", f"flags {children[0]}")

    def addr_flag(self, children):
        return ("flag", str(children[0]))

    def lifetimes(self, children):
        valid, preferred = (self._lifetime(c) for c in children)
        return ("lifetimes", valid, preferred)

    @staticmethod
    def _lifetime(token: Token) -> int | str:
        text = str(token)
        if text == "forever":
            return text
        if len(text) > _MAX_DIGITS + 3:
            raise LineError(f"lifetime {text[:24]}… is too large", token.column)
        return int(text.removesuffix("sec"))

    # --- counters ---
    def stats_header(self, children):
        label, *columns = children
        key = str(label).rstrip(":").lower().replace(" ", "_")
        return ("stats_header", key, [str(c) for c in columns])

    def stats_values(self, children):
        return ("stats_values", [(_int(c), c.column) for c in children])

    # --- the other lines of a link ---
    def altname_line(self, children):
        return ("altname", str(children[0]))

    def alias_line(self, children):
        return ("alias", str(children[0]).strip() if children else "")

    def vf_line(self, children):
        index, address, *options = children
        return ("vf", _int(index), address, [str(o).strip() for o in options])

    def vf_link(self, children):
        link_type, mac, *brd = children
        return (str(link_type).removeprefix("link/"), str(mac), str(brd[0]) if brd else None)

    def vf_mac(self, children):
        return (None, str(children[0]), None)

    def detail_line(self, children):
        kind, *words = children
        return ("detail", str(kind), [str(w) for w in words])

    def prompt_line(self, children):
        return ("prompt", str(children[0]).strip())

    def ip_message(self, children):
        return ("message", str(children[0]).strip())


_GRAMMAR = Grammar("ip_addr", transformer=_ToFacts)


class _PieceError(Exception):
    def __init__(self, message: str, column: int | None):
        super().__init__(message)
        self.column = column


def _pieces(text: str) -> list[tuple[int, str]]:
    """The logical lines in one physical line, with their offsets: an `ip -o` record is split
    at its `\\` separators."""
    if "\\" in text and _ONELINE_RECORD.match(text):
        out, offset = [], 0
        for piece in text.split("\\"):
            if piece.strip():
                out.append((offset, piece))
            offset += len(piece) + 1
        return out
    return [(0, text)]


def _read(text: str) -> Any:
    """The fact of one logical line; raises `_PieceError` with a 1-based column."""
    try:
        return _GRAMMAR.parse(text.rstrip())
    except (LarkError, ValueError) as error:
        message, column = describe(error)
        raise _PieceError(message, column) from None


def _is_fragment(text: str) -> bool:
    """Whether an unindented line reads as nothing by itself but the rest of a wrapped one."""
    if not text.strip() or text[0].isspace() or _ONELINE_RECORD.match(text):
        return False
    try:
        return _is_detail(_read(text))
    except _PieceError:
        return True


def _is_detail(fact: Any) -> bool:
    return isinstance(fact, tuple) and fact[0] == "detail"


class _Assembler:
    """Applies the facts of each line, in order, to the interface they belong to."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.data = InterfacesData()
        self.current: Interface | None = None
        self.vf: VirtualFunction | None = None
        self.last_address: Address | _Redacted | None = None
        self.pending: tuple[Line, str, list[str]] | None = None
        self.noted_redacted_mac = False

    def line(self, line: Line) -> None:
        recognized = False
        for offset, piece in _pieces(line.text):
            try:
                fact = _read(piece)
            except _PieceError as error:
                column = None if error.column is None else error.column + offset
                self.ctx.report(line, str(error), column)
                continue
            if _is_detail(fact) and not piece[:1].isspace():
                # Only an indented line is a detail line; unindented it is most likely prose.
                self.ctx.report(line, "not understood (an `ip -d` detail line is indented)", offset + 1)
                continue
            recognized = True
            self.apply(fact, line)
        if recognized:
            self.ctx.ok()

    def wrapped(self, line: Line, fragment: Line) -> bool:
        """Reads `line` and the `fragment` that continues it as one line, if that works."""
        for glue in ("", " "):  # a terminal cuts anywhere; a mailer drops the blank it breaks at
            try:
                facts = [_read(piece) for _, piece in _pieces(line.text.rstrip("\r") + glue + fragment.text)]
                break
            except _PieceError:
                continue
        else:
            return False
        for fact in facts:
            self.apply(fact, line)
        self.ctx.ok()
        self.ctx.ok()
        self.ctx.note(fragment.number, f"continues line {line.number}: the output was wrapped there",
                      fragment.text)
        return True

    def apply(self, fact: Any, line: Line) -> None:
        if isinstance(fact, _Header):
            self.header(fact, line)
            return
        if isinstance(fact, _Addr):
            self.address(fact, line, self.current)
            return
        if isinstance(fact, _Link):
            self.link(fact, line)
            return
        kind = fact[0]
        if kind == "oneline":
            self.oneline(fact, line)
        elif kind == "prompt":
            self.ctx.note(line.number, f"command line: {fact[1]}", line.text)
        elif kind == "message":
            self.message(fact[1], line)
        elif self.current is None:
            self.ctx.report(line, "belongs to an interface, but no interface header comes before it")
        elif kind == "lifetimes":
            self.lifetimes(fact, line)
        elif kind == "stats_header":
            self.stats_header(fact, line)
        elif kind == "stats_values":
            self.stats_values(fact, line)
        elif kind == "altname":
            self.current.altnames.append(fact[1])
        elif kind == "alias":
            self.current.alias = fact[1]
        elif kind == "vf":
            self.virtual_function(fact, line)
        else:
            self.detail(fact)

    def close_counters(self) -> None:
        if self.pending is not None:
            header = self.pending[0]
            self.ctx.report(header, "counter names without a row of values under them",
                            severity=Severity.WARNING)
            self.pending = None

    def header(self, fact: _Header, line: Line) -> None:
        self.close_counters()
        attrs = fact.attrs
        self.current = Interface(
            fact.name, self.ctx.origin(line.number), index=fact.index, peer=fact.peer,
            flags=fact.flags, mtu=attrs.get("mtu"), qdisc=attrs.get("qdisc"),
            master=attrs.get("master"), state=attrs.get("state"), mode=attrs.get("mode"),
            group=attrs.get("group"), qlen=attrs.get("qlen"))
        self.data.interfaces.append(self.current)
        self.vf = None
        self.last_address = None

    def oneline(self, fact: tuple, line: Line) -> None:
        _, index, name, address = fact
        if self.current is None or (self.current.index, self.current.name) != (index, name):
            self.close_counters()
            self.current = next((i for i in self.data.interfaces if (i.index, i.name) == (index, name)), None)
            if self.current is None:
                self.current = Interface(name, self.ctx.origin(line.number), index=index)
                self.data.interfaces.append(self.current)
            self.vf = None
        self.address(address, line, self.current)

    def link(self, fact: _Link, line: Line) -> None:
        interface = self.current
        if interface is None:
            self.ctx.report(line, "a link/ line, but no interface header comes before it")
            return
        if interface.link_type is not None:
            self.ctx.report(line, f"a second link/ line for {interface.name}")
            return
        interface.link_type = fact.link_type
        interface.mac = fact.mac
        attrs = fact.attrs
        interface.broadcast_mac = attrs.get("broadcast_mac")
        interface.link_peer = attrs.get("link_peer")
        interface.permaddr = attrs.get("permaddr")
        interface.link_netnsid = attrs.get("link_netnsid")
        interface.link_netns = attrs.get("link_netns")
        interface.link_options = fact.options
        if fact.mac and "X" in fact.mac.upper() and not self.noted_redacted_mac:
            self.noted_redacted_mac = True
            self.ctx.note(line.number, "hardware addresses are redacted in this output (kept as printed)",
                          line.text)

    def address(self, fact: _Addr, line: Line, interface: Interface | None) -> None:
        if interface is None:
            self.ctx.report(line, "an address, but no interface header comes before it")
            return
        if isinstance(fact.address, _Redacted):
            self.last_address = fact.address
            self.ctx.note(line.number, f"address {fact.address.text} is redacted in this output: not kept",
                          line.text)
            return
        local = fact.address
        peer = fact.attrs.get("peer")
        if peer is not None and local.network.prefixlen == local.max_prefixlen:
            # `inet 10.11.64.69 peer 10.11.64.70/30`: the printed prefix is the peer's.
            local = ip_interface(f"{local.ip}/{peer.network.prefixlen}")
        address = Address(
            fact.family, local, self.ctx.origin(line.number), peer=peer,
            broadcast=fact.attrs.get("broadcast"), scope=fact.attrs.get("scope"), label=fact.label,
            flags=fact.flags, metric=fact.attrs.get("metric"), proto=fact.attrs.get("proto"))
        interface.addresses.append(address)
        self.last_address = address

    def lifetimes(self, fact: tuple, line: Line) -> None:
        address = self.last_address
        if address is None:
            self.ctx.report(line, "address lifetimes, but no address comes before them")
        elif isinstance(address, Address):
            address.valid_lft, address.preferred_lft = fact[1], fact[2]

    def stats_header(self, fact: tuple, line: Line) -> None:
        self.close_counters()
        self.pending = (line, fact[1], fact[2])

    def stats_values(self, fact: tuple, line: Line) -> None:
        if self.pending is None:
            self.ctx.report(line, "a row of counters without the names above it")
            return
        _, key, columns = self.pending
        self.pending = None
        values = fact[1]
        if len(values) != len(columns):
            column = values[len(columns)][1] if len(values) > len(columns) else None
            self.ctx.report(line, f"{len(values)} counters under {len(columns)} names", column)
            return
        target = self.vf.stats if self.vf is not None else self.current.stats
        target[key] = {name: value for name, (value, _) in zip(columns, values)}

    def virtual_function(self, fact: tuple, line: Line) -> None:
        _, index, (link_type, mac, broadcast), options = fact
        self.close_counters()
        self.vf = VirtualFunction(index, self.ctx.origin(line.number), link_type=link_type, mac=mac,
                                  broadcast_mac=broadcast, options=options)
        self.current.vfs.append(self.vf)

    def detail(self, fact: tuple) -> None:
        _, kind, words = fact
        interface = self.current
        taken = False
        if interface.link_kind is None:
            interface.link_kind, interface.details = kind, words
            taken = True
        if kind.endswith("_slave") and interface.slave_kind is None:
            interface.slave_kind, interface.slave_details = kind, words
            taken = True
        if not taken:
            interface.details.extend([kind, *words])

    def message(self, text: str, line: Line) -> None:
        if text.startswith("Message truncated"):
            self.ctx.note(line.number, "ip printed 'Message truncated': the kernel's answer was cut, "
                          "interfaces may be missing from this output", line.text)
        else:
            self.ctx.note(line.number, f"ip printed: {text}", line.text)


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    assembler = _Assembler(ctx)
    lines = [line for line in ctx.lines() if line.text.strip()]
    i = 0
    while i < len(lines):
        line = lines[i]
        following = lines[i + 1] if i + 1 < len(lines) else None
        if (following is not None and following.number == line.number + 1
                and _may_be_wrapped(line.text, following.text) and _is_fragment(following.text)
                and assembler.wrapped(line, following)):
            i += 2
            continue
        assembler.line(line)
        i += 1
    assembler.close_counters()
    return ctx.result(assembler.data)
