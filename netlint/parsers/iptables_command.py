"""What an iptables command line says that its output does not: the table (`-t nat`) and the
family (`ip6tables`). Intake knows the command from a ticket's prompt or a sosreport's file name."""

from __future__ import annotations

import re

from ..model.firewall import BUILTIN_CHAINS


def command_table(command: str | None) -> str | None:
    """The table an `iptables … -t T …` command names."""
    m = re.search(r"(?:^|\s)(?:-t\s*|--table[= ])(\w+)", command or "")
    return m.group(1) if m and m.group(1) in BUILTIN_CHAINS else None


def command_family(command: str | None) -> int | None:
    """6 for ip6tables, 4 for iptables, None when there is no command."""
    words = [w for w in (command or "").split() if w != "sudo"]
    if not words:
        return None
    return 6 if words[0].startswith("ip6tables") else 4 if words[0].startswith("iptables") else None
