"""Kernel parameters as `sysctl` printed them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .origin import Origin


@dataclass(slots=True)
class Sysctl:
    """`key` in dotted form (`net.ipv4.conf.eth0/100.forwarding`: sysctl writes a dot
    inside an interface name as `/`); `value` verbatim."""

    key: str
    value: str
    origin: Origin


@dataclass(slots=True)
class SysctlData:
    """Every entry in output order. A key printed on several lines (a multi-line value such
    as `dev.cdrom.info`) appears once per line."""

    entries: list[Sysctl] = field(default_factory=list)

    def get(self, key: str) -> Sysctl | None:
        """The last entry for `key` (what the kernel holds), or None if the output lacks it."""
        for entry in reversed(self.entries):
            if entry.key == key:
                return entry
        return None
