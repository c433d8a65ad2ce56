"""Parser for iproute2's `bridge link` (kind `bridge-link`): `bridge link show`,
`bridge -d link show` and `bridge -s -s -d link show` (what sosreport collects).

Output schema (`data`)::

    {"ports": [{"name": "vnet0", "line": 2, "index": 7, "peer": null,
                "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": 1500,
                "master": "virbr0", "state": "forwarding", "priority": 32, "cost": 100,
                "operstate": null, "hwmode": null,
                "options": {"hairpin": "off", "learning": "on", ...}, "vlans": []}]}

`state` is the STP port state; `operstate` the link state only old iproute2 printed
(`3: vnet0 state UP : <...>`). `options` and `vlans` come from the `-d` lines that follow a
port. bridge's own messages (`RTNETLINK answers: ...`) are kept as notes.
"""

from __future__ import annotations

from lark import Transformer

from ..model import BridgeLink, BridgeLinkData, ParseResult, Source
from .base import Context, Grammar, LineError


def _number(token) -> int:
    text = str(token)
    if len(text) > 10:
        raise LineError(f"number {text[:20]} is out of range", token.column)
    return int(text)


class _ToFacts(Transformer):
    def link(self, children):
        index, name, *rest = children
        fields: dict = {"index": _number(index), "options": {}, "vlans": []}
        for kind, value in rest:
            if kind == "option":
                fields["options"].update(value)
            elif kind == "vlan":
                fields["vlans"].append(value)
            else:
                fields[kind] = value
        return ("link", str(name), fields)

    def operstate(self, children):
        return ("operstate", str(children[0]))

    def peer(self, children):
        return ("peer", str(children[0]))

    def flags(self, children):
        return ("flags", [str(flag) for flag in children])

    def mtu(self, children):
        return ("mtu", _number(children[0]))

    def master(self, children):
        return ("master", str(children[0]))

    def port_state(self, children):
        return ("state", str(children[0]))

    def priority(self, children):
        return ("priority", _number(children[0]))

    def cost(self, children):
        return ("cost", _number(children[0]))

    def hwmode(self, children):
        return ("hwmode", str(children[0]))

    def option(self, children):
        key, value = children
        return (str(key), str(value))

    def vlan(self, children):
        return ("vlan", " ".join(str(part) for part in children))

    def detail(self, children):
        if children[0][0] == "vlan":
            return children[0]
        return ("option", dict(children))

    def bridge_message(self, children):
        return ("message", str(children[0]).strip())

    def entry(self, children):
        return children[0]


_ENTRY = Grammar("bridge_link", start="entry", transformer=_ToFacts)
_DETAIL = Grammar("bridge_link", start="detail", transformer=_ToFacts)


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    data = BridgeLinkData()
    current: BridgeLink | None = None
    for line in ctx.lines():
        if not line.text.strip():
            continue
        if line.text[0] in " \t":
            if current is None:
                ctx.report(line, "detail line before any port", 1)
                continue
            fact = ctx.try_parse(_DETAIL, line)
            if fact is None:
                continue
            if fact[0] == "vlan":
                current.vlans.append(fact[1])
            else:
                current.options.update(fact[1])
            continue
        fact = ctx.try_parse(_ENTRY, line)
        if fact is None:
            continue
        if fact[0] == "message":
            ctx.note(line.number, f"bridge reported: {fact[1]}", line.text)
            continue
        _, name, fields = fact
        current = BridgeLink(name, ctx.origin(line.number), **fields)
        data.ports.append(current)
    return ctx.result(data)
