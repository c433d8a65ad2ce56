"""Parsers: one module per dump format, each `parse(source) -> ParseResult`.

The only stage that touches Lark trees of dump formats. A module is imported (and its
grammar built) the first time a source of its kind is parsed.
"""

from __future__ import annotations

from importlib import import_module

from ..model import Diagnostic, Kind, Origin, ParseResult, Source

_MODULES: dict[Kind, str] = {
    Kind.IP_ADDR: "ip_addr",
    Kind.IFCONFIG: "ifconfig",
    Kind.BRCTL_SHOW: "brctl_show",
    Kind.BRIDGE_LINK: "bridge_link",
    Kind.ROUTE: "route",
    Kind.NETSTAT_RN: "netstat_rn",
    Kind.ROUTE_PRINT: "route_print",
    Kind.IP_ROUTE: "ip_route",
    Kind.IP_RULE: "ip_rule",
    Kind.SYSCTL: "sysctl",
    Kind.LIBVIRT_NETWORK_XML: "libvirt_network_xml",
    Kind.IPTABLES_SAVE: "iptables_save",
    Kind.IPTABLES_LIST: "iptables_list",
}


def supported_kinds() -> list[Kind]:
    """Kinds that have a parser."""
    return list(_MODULES)


def parse(source: Source) -> ParseResult:
    """Facts of `source`. A source of a kind without a parser is `failed`, with a problem
    that says so: listed, never dropped."""
    if source.empty_reason is not None:
        return ParseResult(source, None, list(source.diagnostics))
    if source.kind is Kind.PROSE:
        # A person's words: accounted for, never facts.
        return ParseResult(source, None, list(source.diagnostics), recognized=source.last_line - source.first_line + 1)
    module = _MODULES.get(source.kind)
    if module is None:
        if source.kind is Kind.UNKNOWN:
            message = "not recognized as the output of any command netlint reads"
        else:
            message = f"netlint does not read {source.kind.value} output yet"
        first = source.text.split("\n", 1)[0]
        problem = Diagnostic(Origin(source.file, source.first_line), message, first)
        return ParseResult(source, None, [*source.diagnostics, problem])
    return import_module(f"{__name__}.{module}").parse(source)
