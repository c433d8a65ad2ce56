"""A `Source` is one piece of input text of one kind, as intake found it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from .diagnostic import Diagnostic


class Kind(str, Enum):
    """The kinds of design.md §1: used in JSON, in `--kind` and by sniffing."""

    IP_ADDR = "ip-addr"
    IP_ROUTE = "ip-route"
    IP_RULE = "ip-rule"
    BRCTL_SHOW = "brctl-show"
    BRIDGE_LINK = "bridge-link"
    ROUTE = "route"
    NETSTAT_RN = "netstat-rn"
    ROUTE_PRINT = "route-print"
    IFCONFIG = "ifconfig"
    SYSCTL = "sysctl"
    IPTABLES_SAVE = "iptables-save"
    IPTABLES_LIST = "iptables-list"
    NFT_RULESET = "nft-ruleset"
    LIBVIRT_NETWORK_XML = "libvirt-network-xml"
    PROSE = "prose"
    UNKNOWN = "unknown"


class Role(str, Enum):
    """Whose output it is: the host's, or a guest's (`guest/` or `guest-*` in a dump)."""

    HOST = "host"
    GUEST = "guest"


@dataclass(slots=True)
class Source:
    """`text` has `\\n` line ends; its first line is line `first_line` of `file`.

    `empty_reason` is set when the output is really an error text or nothing at all
    ("command not found", an empty file): such a source is not parsed.
    `diagnostics` carries what intake noticed while reading (undecodable bytes).
    `command` is the command that printed it, when the input says (a ticket's prompt, a
    sosreport's file name): `iptables -t nat -nvL` names the table a listing does not.
    """

    file: str
    kind: Kind
    text: str
    first_line: int = 1
    role: Role = Role.HOST
    empty_reason: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    command: str | None = None

    @property
    def last_line(self) -> int:
        return self.first_line + max(self.text.count("\n") - (1 if self.text.endswith("\n") else 0), 0)
