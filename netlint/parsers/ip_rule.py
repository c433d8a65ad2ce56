"""Parser for `ip rule` (kind `ip-rule`): `ip rule`, `ip rule show`, `ip -6 rule`, `ip -d rule`.

Output schema (`data`)::

    {"rules": [{"priority": 100, "line": 2, "invert": false, "from": null,
                "to": "198.51.100.0/24", "iif": null, "oif": null, "fwmark": "0x1/0xff",
                "tos": null, "action": "lookup", "table": "200", "options": {},
                "family": 4, "goto": null, "flags": []}, ...]}

`from all`/`to all` are null, like a selector the line does not have; a `from` address
without `/len` is a host prefix. `invert` is the leading `not`. `fwmark` (`0x1/0xff`) and
`tos` (also `dsfield`) are verbatim. `table` is the `lookup` table as printed (`main`, `200`,
`red_mgmt`); `lookup [l3mdev-table]` leaves it null with the flag `l3mdev`. `goto` is the
target priority of a `goto` rule. `family` is 4 or 6 when an address on the line says so.
`flags`: `iif-detached`/`oif-detached`, `unresolved`, `l3mdev`. `options` holds the other
selectors and attributes verbatim as strings: `ipproto`, `sport`, `dport` (`5000-5100`),
`uidrange`, `suppress_prefixlength`, `suppress_ifgroup`, `realms`, `proto` (also `protocol`),
`tun_id`, and any unknown `word value` pair. An old kernel's NAT rule (`map-to 10.5.0.0`) has
the action `nat` and the address in `options['map-to']`.
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

from lark import Token, Transformer

from ..model import IpRule, IpRulesData, ParseResult, Source
from .base import Context, Grammar, LineError

_UINT32 = 2**32 - 1


def _shown(text: str) -> str:
    return repr(text if len(text) <= 48 else text[:45] + "...")


def _u32(token: Token, text: str) -> int:
    if len(text) > 10 or int(text) > _UINT32:
        raise LineError(f"{_shown(text)} is out of range", token.column)
    return int(text)


def _selector(token: Token):
    if token.type == "ALL":
        return None
    try:
        return ip_network(str(token), strict=False)
    except ValueError:
        raise LineError(f"{_shown(str(token))} is not an IP address or prefix", token.column) from None


class _ToFacts(Transformer):
    """Each item becomes a `(key, value)` pair; `start` returns the priority and the pairs."""

    def from_(self, children):
        return ("from_", _selector(children[0]))

    def to(self, children):
        return ("to", _selector(children[0]))

    def iif(self, children):
        return ("iif", (str(children[0]), len(children) == 2))

    def oif(self, children):
        return ("oif", (str(children[0]), len(children) == 2))

    def fwmark(self, children):
        return ("fwmark", str(children[0]))

    def tos(self, children):
        return ("tos", str(children[0]))

    def lookup(self, children):
        return ("lookup", str(children[0]))

    def goto(self, children):
        return ("goto", (_u32(children[0], str(children[0])), len(children) == 2))

    def action(self, children):
        return ("action", str(children[0]))

    def nat(self, children):
        return ("nat", str(children[0]))

    def l3mdev(self, children):
        return ("l3mdev", None)

    def invert(self, children):
        return ("invert", None)

    def option(self, children):
        key = str(children[0])
        return ("option", ("proto" if key == "protocol" else key, str(children[1])))

    unknown = option

    def option_name(self, children):
        return children[0]

    def start(self, children):
        priority, *items = children
        # iproute2 always prints the source (`from all`): without it this is no rule.
        if not any(key == "from_" for key, _ in items):
            raise LineError("no `from` selector: not an ip rule", len(priority) + 1)
        return _u32(priority, str(priority)[:-1]), items


def _apply(rule: IpRule, items: list[tuple[str, Any]]) -> None:
    for key, value in items:
        if key in ("from_", "to", "fwmark", "tos"):
            setattr(rule, key, value)
        elif key in ("iif", "oif"):
            name, detached = value
            setattr(rule, key, name)
            if detached:
                rule.flags.append(f"{key}-detached")
        elif key == "lookup":
            rule.action = "lookup"
            if value == "[l3mdev-table]":
                rule.flags.append("l3mdev")
            else:
                rule.table = value
        elif key == "goto":
            rule.action, rule.goto = "goto", value[0]
            if value[1]:
                rule.flags.append("unresolved")
        elif key == "action":
            rule.action = value
        elif key == "nat":
            rule.action = "nat"
            rule.options["map-to"] = value
        elif key == "l3mdev":
            rule.flags.append("l3mdev")
        elif key == "invert":
            rule.invert = True
        else:
            rule.options[value[0]] = value[1]


_GRAMMAR = Grammar("ip_rule", transformer=_ToFacts)


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    data = IpRulesData()
    for line in ctx.lines():
        if not line.text.strip():
            continue
        fact = ctx.try_parse(_GRAMMAR, line)
        if fact is None:
            continue
        priority, items = fact
        rule = IpRule(priority, ctx.origin(line.number))
        _apply(rule, items)
        families = {net.version for net in (rule.from_, rule.to) if net is not None}
        if len(families) == 1:
            rule.family = families.pop()
        data.rules.append(rule)
    return ctx.result(data)
