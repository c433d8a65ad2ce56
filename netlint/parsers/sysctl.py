"""Parser for `sysctl -a` and any subset of it (kind `sysctl`).

Output schema (`data`)::

    {"entries": [{"key": "net.ipv4.ip_forward", "value": "1", "line": 812}, ...]}

Keys are dotted as sysctl prints them; `/proc/sys/net/ipv4/ip_forward:1` lines (from
`grep . /proc/sys/...`) become `net.ipv4.ip_forward`. sysctl's own messages
(`sysctl: permission denied on key ...`) are kept as notes: they say which keys the dump
cannot tell.
"""

from __future__ import annotations

from lark import Transformer

from ..model import ParseResult, Source, Sysctl, SysctlData
from .base import Context, Grammar


def _proc_key(path: str) -> str:
    # /proc/sys/net/ipv4/conf/eth0.100/forwarding -> net.ipv4.conf.eth0/100.forwarding
    return ".".join(part.replace(".", "/") for part in path.removeprefix("/proc/sys/").split("/"))


class _ToFacts(Transformer):
    def assignment(self, children):
        key, *value = children
        return ("entry", str(key), str(value[0]).rstrip() if value else "")

    def proc_assignment(self, children):
        path, *value = children
        return ("entry", _proc_key(str(path)), str(value[0]).rstrip() if value else "")

    def sysctl_message(self, children):
        return ("message", str(children[0]).strip())

    def start(self, children):
        return children[0]


_GRAMMAR = Grammar("sysctl", transformer=_ToFacts)


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    data = SysctlData()
    for line in ctx.lines():
        if not line.text.strip():
            continue
        fact = ctx.try_parse(_GRAMMAR, line)
        if fact is None:
            continue
        if fact[0] == "entry":
            data.entries.append(Sysctl(fact[1], fact[2], ctx.origin(line.number)))
        else:
            ctx.note(line.number, f"sysctl reported: {fact[1]}", line.text)
    return ctx.result(data)
