"""Where sos puts the outputs netlint reads: netlint's own path table, by sos version.

The facts come from reading sos's plugins (networking, firewall_tables, kernel, virsh,
libvirt, xen) at releases 2.2 to 4.x; the project keeps them, with their sources, in
../shared/corpus/sosreport-paths/. sos names a command's output file after the command:
the program's directory dropped, runs of other characters than `[A-Za-z0-9_.-/]` turned
into `_`, so `ip -d address` is `ip_-d_address`.

Each `Slot` is one output netlint reads at most once per host, with the paths it may be
at, best first; the first one present that holds output is read. Two slots of different
kinds may both be read: `route -n` beside `ip route`, `brctl show` beside `bridge link`
(the host merge prefers the richer and compares them). Newer sos writes neither `route -n`
(4.5.4) nor `brctl show` (3.7): routes then come from `ip route`, bridge ports from
`bridge link` or the `master X` of `ip addr`.

sos never runs `iptables-save` in the host namespace: the host's firewall is the per-table
`iptables -t T -nvL` listings (or `iptables -vnxL`, the filter table with exact counters),
read as one firewall; `nft list ruleset` only when there is no listing (with iptables-nft it
says again what the listings say, and sos 4.1+ lists just the tables nft shows).
`etc/sysconfig/iptables` is the rules file loaded at boot, not the live firewall (libvirt's
rules are not in it): not read. A listing names neither its table nor its family, so each
source carries the command sos ran (`iptables -t security -nvL`, `ip6tables -vnxL`) and the
listing parser takes both from it.

Network namespaces (sos 3.5+) are extra hosts, read only on request: `NAMESPACE_SLOTS`,
with `{ns}` standing for the namespace's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Kind


@dataclass(frozen=True, slots=True)
class Candidate:
    """A path relative to the report root (`{net}` stands for a libvirt network's name,
    `{ns}` for a namespace's), and the sos versions that write it."""

    path: str
    sos: str


@dataclass(frozen=True, slots=True)
class Slot:
    """`only_without`: read only when no output of that kind was (a fallback across kinds)."""

    label: str
    kind: Kind
    candidates: tuple[Candidate, ...]
    only_without: Kind | None = None

    @property
    def command(self) -> str | None:
        """The command sos ran, for the parser (a listing names neither its table nor its family)."""
        return self.label if self.kind is Kind.IPTABLES_LIST else None


_NET = "sos_commands/networking"
_FW = "sos_commands/firewall_tables"


def _listing(table: str, *extra: Candidate) -> Slot:
    return Slot(f"iptables -t {table} -nvL", Kind.IPTABLES_LIST, (
        Candidate(f"{_FW}/iptables_-t_{table}_-nvL", "4.1+"),
        Candidate(f"{_NET}/iptables_-t_{table}_-nvL", "2.2-4.0"),
        *extra,
    ))


HOST_SLOTS: tuple[Slot, ...] = (
    Slot("ip addr", Kind.IP_ADDR, (
        Candidate(f"{_NET}/ip_-d_address", "3.5+"),
        Candidate(f"{_NET}/ip_address", "2.2-3.4"),
        Candidate(f"{_NET}/ip_-o_addr", "3.3+"),
    )),
    Slot("ip route", Kind.IP_ROUTE, (Candidate(f"{_NET}/ip_route_show_table_all", "2.2+"),)),
    Slot("route -n", Kind.ROUTE, (Candidate(f"{_NET}/route_-n", "2.2-4.5.3"),)),
    Slot("ip rule", Kind.IP_RULE, (
        Candidate(f"{_NET}/ip_-4_rule_list", "4.5+"),
        Candidate(f"{_NET}/ip_-4_rule", "3.5-4.4"),
    )),
    Slot("brctl show", Kind.BRCTL_SHOW, (
        Candidate(f"{_NET}/brctl_show", "3.0-3.6"),
        Candidate("sos_commands/xen/brctl_show", "2.2, xen plugin"),
    )),
    Slot("bridge link", Kind.BRIDGE_LINK, (Candidate(f"{_NET}/bridge_-s_-s_-d_link_show", "3.7+"),)),
    _listing("filter",
             Candidate(f"{_FW}/iptables_-vnxL", "4.1+"),
             Candidate(f"{_NET}/iptables_-vnxL", "3.5-4.0")),
    _listing("nat"),
    _listing("mangle"),
    _listing("raw"),
    _listing("security"),
    Slot("ip6tables -vnxL", Kind.IPTABLES_LIST, (
        Candidate(f"{_FW}/ip6tables_-vnxL", "4.1+"),
        Candidate(f"{_NET}/ip6tables_-vnxL", "3.5-4.0"),
    )),
    Slot("nft list ruleset", Kind.NFT_RULESET, (
        Candidate(f"{_FW}/nft_-a_list_ruleset", "4.1+"),
        Candidate(f"{_FW}/nft_list_ruleset", "4.1+"),
        Candidate(f"{_NET}/nft_list_ruleset", "3.5-4.0"),
    ), only_without=Kind.IPTABLES_LIST),
    Slot("sysctl -a", Kind.SYSCTL, (Candidate("sos_commands/kernel/sysctl_-a", "2.2+"),)),
    # One slot per libvirt network: the live definition, else the configuration file.
    Slot("libvirt network {net}", Kind.LIBVIRT_NETWORK_XML, (
        Candidate("sos_commands/virsh/virsh_-r_net-dumpxml_{net}", "3.5+, virsh plugin"),
        Candidate("etc/libvirt/qemu/networks/{net}.xml", "all, libvirt plugin"),
    )),
)

_NS = f"{_NET}/namespaces/{{ns}}/ip_netns_exec_{{ns}}_"
_NS_FLAT = f"{_NET}/ip_netns_exec_{{ns}}_"

NAMESPACE_SLOTS: tuple[Slot, ...] = (
    Slot("ip addr", Kind.IP_ADDR, (
        Candidate(f"{_NS}ip_-d_address_show", "4.3+"),
        Candidate(f"{_NS_FLAT}ip_address_show", "3.x-4.2"),
    )),
    Slot("ip route", Kind.IP_ROUTE, (
        Candidate(f"{_NS}ip_route_show_table_all", "4.3+"),
        Candidate(f"{_NS_FLAT}ip_route_show_table_all", "3.x-4.2"),
    )),
    Slot("ip rule", Kind.IP_RULE, (
        Candidate(f"{_NS}ip_-4_rule_list", "4.3+"),
        Candidate(f"{_NS_FLAT}ip_rule_list", "4.x before 4.3"),
    )),
    Slot("iptables-save", Kind.IPTABLES_SAVE, (
        Candidate(f"{_NS}iptables-save", "4.3+"),
        Candidate(f"{_NS_FLAT}iptables-save", "3.x-4.2"),
    )),
    Slot("sysctl -a", Kind.SYSCTL, (Candidate(f"{_NS}sysctl_-a", "4.5.4+"),)),
)

# What marks a report root: sos writes both (version.txt since 3.x).
ROOT_MARKERS = ("sos_commands", "version.txt")
# Where namespaces show up, to list them: a folder each (4.3+), or their outputs' names.
NAMESPACE_FOLDER = f"{_NET}/namespaces"
NAMESPACE_FILE = "ip_netns_exec_{ns}_"
