"""The routing decision: local delivery (weak host model), `ip rule` order, longest prefix
match with metric as the tie-break, and the route types that end a packet."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from ..host import Host
from ..model import IpRule, Route

# Without `ip rule` output the kernel's defaults apply: local, main, default.
_DEFAULT_TABLES = ("local", "main", "default")
# Rule options that filter a lookup's result rather than select packets.
_POST_LOOKUP = frozenset({"suppress_prefixlength"})


@dataclass(slots=True)
class Decision:
    """`kind`: local, unicast, unreachable, prohibit, blackhole, or none (no route at all).
    `rule` is the `ip rule` that chose the table, when the dump has them."""

    kind: str
    route: Route | None = None
    dev: str | None = None
    gateway: IPv4Address | None = None
    table: str = "main"
    rule: IpRule | None = None
    uncertain: bool = False


def _table_of(route: Route) -> str:
    if route.table is not None:
        return route.table
    return "local" if route.type in ("local", "broadcast") else "main"


class Router:
    def __init__(self, host: Host):
        self.host = host
        self.tables: dict[str, list[Route]] = {}
        for route in host.routes:
            if route.destination is not None and route.destination.version == 4:
                self.tables.setdefault(_table_of(route), []).append(route)
        self.rules = sorted(host.rules, key=lambda r: r.priority)

    def lookup(self, dst: IPv4Address, src: IPv4Address | None = None, iif: str | None = None,
               mark: int | None = 0) -> Decision:
        if self.host.local_address(dst) is not None or dst.is_loopback:
            return Decision("local", dev="lo", table="local")
        if not self.rules:
            for table in _DEFAULT_TABLES:
                decision = self._table(table, dst)
                if decision is not None and decision.kind != "throw":
                    return decision
            return Decision("none")
        uncertain = False
        for rule in self.rules:
            hit = self._selects(rule, dst, src, iif, mark)
            if hit is False:
                continue
            if hit is None:
                uncertain = True
            if rule.action in ("blackhole", "unreachable", "prohibit"):
                return Decision(rule.action, rule=rule, uncertain=uncertain)
            if rule.action != "lookup" or rule.table is None:
                continue
            decision = self._table(rule.table, dst)
            if decision is not None and self._suppressed(rule, decision):
                continue
            if decision is not None and decision.kind != "throw":
                decision.rule, decision.uncertain = rule, uncertain
                return decision
        return Decision("none", uncertain=uncertain)

    @staticmethod
    def _suppressed(rule: IpRule, decision: Decision) -> bool:
        """`suppress_prefixlength N`: the kernel discards a result whose prefix is N bits or
        shorter and goes on to the next rule (wg-quick keeps every main route but the default)."""
        limit = rule.options.get("suppress_prefixlength")
        if limit is None or decision.route is None or decision.route.destination is None:
            return False
        try:
            return decision.route.destination.prefixlen <= int(limit)
        except ValueError:
            return False

    def _selects(self, rule: IpRule, dst, src, iif, mark) -> bool | None:
        result: bool | None = True
        if rule.from_ is not None:
            result = None if src is None else (src in rule.from_)
        if result is not False and rule.to is not None:
            result = result if dst in rule.to else False
        if result is not False and rule.iif is not None:
            result = result if iif == rule.iif else False
        if result is not False and rule.fwmark is not None:
            value, _, mask = rule.fwmark.partition("/")
            try:
                wanted, bits = int(value, 0), int(mask, 0) if mask else 0xFFFFFFFF
            except ValueError:
                return None
            result = None if mark is None else (result if mark & bits == wanted else False)
        if result is not False and (rule.oif is not None or rule.tos is not None
                                    or set(rule.options) - _POST_LOOKUP):
            result = None  # selectors the walk does not model
        if result is None:
            return None
        return result != rule.invert

    def _table(self, table: str, dst: IPv4Address) -> Decision | None:
        best: Route | None = None
        for route in self.tables.get(table, ()):
            if dst not in route.destination:
                continue
            if best is None or route.destination.prefixlen > best.destination.prefixlen or (
                    route.destination.prefixlen == best.destination.prefixlen
                    and (route.metric or 0) < (best.metric or 0)):
                best = route
        if best is None:
            return None
        kind = best.type
        if kind in ("local", "broadcast"):
            return Decision("local", best, dev=best.dev, table=table)
        if kind == "throw":
            return Decision("throw", best, table=table)
        if kind in ("unreachable", "prohibit", "blackhole"):
            return Decision(kind, best, table=table)
        gateway, dev = best.gateway, best.dev
        if best.nexthops:
            gateway, dev = best.nexthops[0].gateway, best.nexthops[0].dev
        if dev is None and gateway is not None:
            dev = self.dev_for(gateway)
        return Decision("unicast", best, dev=dev, gateway=gateway, table=table)

    def dev_for(self, gateway: IPv4Address) -> str | None:
        """The interface whose connected subnet holds `gateway`."""
        for name in self.host.interfaces:
            if any(gateway in addr.network for addr in self.host.connected(name)):
                return name
        return None
