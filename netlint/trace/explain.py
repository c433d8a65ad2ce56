"""One sentence a person can act on, for a trace: what happened, where, and what to change
or collect."""

from __future__ import annotations

from ..model.firewall import Rule
from ..model.trace import Disposition, Leg, Trace, Verdict

_LEG_NAMES = {"forward": "the request", "reply": "the reply", "established": "the connection's later packets"}


def nat_detail(rule: Rule, packet) -> str:
    if rule.target.name in ("DNAT", "REDIRECT"):
        port = f":{packet.dport}" if packet.dport is not None else ""
        return f"{rule.target.name} to {packet.dst}{port}: {rule.render()}"
    return f"{rule.target.name} to {packet.src}: {rule.render()}"


def _where(leg: Leg) -> str:
    step = leg.decisive_step
    if step is None or step.origin is None:
        return ""
    return f" ({step.origin})" if step.origin.line is not None else f" ({step.origin.file})"


_FIXES = {
    Disposition.FORWARDING_DISABLED: "enable forwarding (sysctl -w net.ipv4.ip_forward=1, and persist it)",
    Disposition.DENIED: "add an ACCEPT for this flow before that rule, or fix the chain's policy",
    Disposition.REJECTED: "move or remove that REJECT, or accept this flow before it",
    Disposition.NO_ROUTE: "add a route for the destination",
    Disposition.NULL_ROUTED: "remove the blackhole route",
    Disposition.RP_FILTERED: "make the routing symmetric or set rp_filter to 2 (loose) on that interface",
    Disposition.LINK_DOWN: "bring the link up (ip link set … up) or attach the guest's tap to the bridge",
    Disposition.NEIGHBOR_UNREACHABLE: "use a gateway on a connected subnet of that interface (or `onlink`)",
    Disposition.GUEST_NO_GATEWAY: "set the guest's default gateway to the bridge's address",
    Disposition.NO_RETURN_ROUTE: "masquerade the guest subnet on that uplink, or route it upstream",
}


def sentence(trace: Trace) -> str:
    flow = trace.flow
    what = f"{flow.proto} from {flow.src} to {flow.dst}" + (f":{flow.dport}" if flow.dport else "")
    legs = [("forward", trace.forward), ("reply", trace.reply), ("established", trace.established)]
    if trace.verdict is Verdict.REACHABLE:
        how = "delivered to the host itself" if trace.forward.disposition is Disposition.DELIVERED else \
            "leaves the host and its reply comes back"
        if trace.forward.disposition is Disposition.DELIVERED and trace.forward.steps and \
                trace.forward.steps[-1].node == "guest":
            how = "reaches the guest and its reply comes back"
        return f"{what} is reachable: it is {how}." if "delivered" in how else f"{what} is reachable: it {how}."
    for name, leg in legs:
        if leg is None:
            continue
        if not leg.disposition.success and leg.disposition is not Disposition.UNKNOWN:
            step = leg.decisive_step
            detail = step.detail if step else leg.disposition.value
            fix = _FIXES.get(leg.disposition)
            return (f"{what} is unreachable: {_LEG_NAMES[name]} stops with {leg.disposition.value}"
                    f"{_where(leg)}: {detail}" + (f"; {fix}." if fix else "."))
    for name, leg in legs:
        if leg is not None and leg.disposition is Disposition.UNKNOWN:
            step = leg.decisive_step
            return (f"{what} may or may not be reachable: {_LEG_NAMES[name]} depends on what the dump does not "
                    f"show: {step.detail if step else 'unknown'}.")
    return f"{what}: {trace.verdict.value}."
