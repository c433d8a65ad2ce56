"""Parser for `brctl show` (kind `brctl-show`), with tabs or with spaces.

Output schema (`data`)::

    {"bridges": [{"name": "virbr0", "line": 2, "bridge_id": "8000.525400c368e6",
                  "stp_enabled": true,
                  "ports": [{"name": "virbr0-nic", "line": 2}, {"name": "vnet0", "line": 3}]}]}

A port keeps the line it is printed on (the bridge's own line for the first port, a
continuation line for each further one). A bridge brctl could not read
(`br0  can't get info ...`) has `bridge_id` and `stp_enabled` null. brctl's own messages
(`device vnet0 is not a bridge!`, `can't get port info: ...`) are kept as notes: they say
what the output cannot show.
"""

from __future__ import annotations

from lark import Transformer

from ..model import BrctlData, Bridge, BridgePort, ParseResult, Source
from .base import Context, Grammar


class _ToFacts(Transformer):
    def header(self, children):
        return ("header",)

    def bridge(self, children):
        name, bridge_id, stp, *rest = children
        port = next((c for c in rest if c[0] == "port"), None)
        error = next((c[1] for c in rest if c[0] == "port_error"), None)
        return ("bridge", str(name), str(bridge_id), str(stp) == "yes", port and port[1], error)

    def bridge_without_info(self, children):
        name, error = children
        return ("bridge", str(name), None, None, None, str(error).strip())

    def brctl_message(self, children):
        return ("message", str(children[0]).strip())

    def port_name(self, children):
        return ("port", str(children[0]))

    def port_error(self, children):
        return ("port_error", str(children[0]).strip())

    def continuation(self, children):
        port = children[0][1]
        error = children[1][1] if len(children) > 1 else None
        return ("continuation", port, error)

    def row(self, children):
        return children[0]


_ROW = Grammar("brctl_show", start="row", transformer=_ToFacts)
_CONTINUATION = Grammar("brctl_show", start="continuation", transformer=_ToFacts)


def parse(source: Source) -> ParseResult:
    ctx = Context(source)
    data = BrctlData()
    current: Bridge | None = None
    for line in ctx.lines():
        if not line.text.strip():
            continue
        indented = line.text[0] in " \t"
        if indented and current is None:
            ctx.report(line, "port line before any bridge", 1)
            continue
        fact = ctx.try_parse(_CONTINUATION if indented else _ROW, line)
        if fact is None:
            continue
        kind = fact[0]
        if kind == "bridge":
            _, name, bridge_id, stp, port, error = fact
            current = Bridge(name, ctx.origin(line.number), bridge_id, stp)
            data.bridges.append(current)
            if port is not None:
                current.ports.append(BridgePort(port, ctx.origin(line.number)))
            if error is not None:
                ctx.note(line.number, f"brctl reported for bridge {name}: {error}", line.text)
        elif kind == "continuation":
            _, port, error = fact
            current.ports.append(BridgePort(port, ctx.origin(line.number)))
            if error is not None:
                ctx.note(line.number, f"brctl reported for bridge {current.name}: {error}", line.text)
        elif kind == "message":
            ctx.note(line.number, f"brctl reported: {fact[1]}", line.text)
    return ctx.result(data)
