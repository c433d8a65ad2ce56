"""`netlint graph` output: the topology graph (netlint/topology.py) as Graphviz DOT, a Mermaid
flowchart, or networkx node-link JSON. Pure functions of the graph.

Drawn, a node shows its name and IPv4 addresses (the JSON keeps every attribute); an interface
that is down or has no carrier is dashed red, libvirt's dummy `-nic` port is greyed. Route edges
carry `destination via gateway`, address edges the address. The symmetric relations (port and
bridge, interface and host) are drawn without a direction.
"""

from __future__ import annotations

import json
import re

import networkx as nx

_DOT_SHAPES = {"guest": "box3d", "tap": "ellipse", "bridge": "box", "interface": "box", "host": "doubleoctagon",
               "gateway": "diamond", "outside": "egg"}
_SYMMETRIC = {"l2-member", "address"}


def render_dot(graph: nx.MultiDiGraph) -> str:
    lines = [f"digraph {_dot_quote(graph.graph.get('path') or 'netlint')} {{", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];']
    for node in sorted(graph.nodes):
        attrs = graph.nodes[node]
        style = {"shape": _DOT_SHAPES[attrs["kind"]], "label": "\n".join(_label_lines(attrs))}
        looks = ["rounded", "bold"] if attrs["kind"] == "bridge" else []
        if _is_down(attrs):
            looks.append("dashed")
            style["color"] = "red"
        if looks:
            style["style"] = ",".join(looks)
        if attrs.get("dummy"):
            style["fontcolor"] = "gray50"
        if attrs["origin"]:
            style["tooltip"] = attrs["origin"]
        lines.append(f"  {_dot_quote(node)} [{_dot_attrs(style)}];")
    for u, v, _, attrs in _sorted_edges(graph):
        style = {"label": _edge_label(attrs)}
        if attrs["kind"] in _SYMMETRIC:
            style["dir"] = "none"
        if attrs["kind"] == "address":
            style["constraint"] = "false"  # keep the layout in the packet's order, uplinks right of host
        if attrs["kind"] == "guest-link":
            style["style"] = "dashed"
        if attrs["origin"]:
            style["tooltip"] = attrs["origin"]
        lines.append(f"  {_dot_quote(u)} -> {_dot_quote(v)} [{_dot_attrs(style)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_MERMAID_SHAPES = {"guest": ('(["', '"])'), "tap": ('("', '")'), "bridge": ('[["', '"]]'), "interface": ('["', '"]'),
                   "host": ('[("', '")]'), "gateway": ('{{"', '"}}'), "outside": ('(("', '"))')}


def render_mermaid(graph: nx.MultiDiGraph) -> str:
    ids = mermaid_ids(graph)
    lines = ["flowchart LR"]
    down = []
    for node in sorted(graph.nodes):
        attrs = graph.nodes[node]
        opening, closing = _MERMAID_SHAPES[attrs["kind"]]
        label = "<br/>".join(_mermaid_text(line) for line in _label_lines(attrs))
        lines.append(f"  {ids[node]}{opening}{label}{closing}")
        if _is_down(attrs):
            down.append(ids[node])
    for u, v, _, attrs in _sorted_edges(graph):
        arrow = "---" if attrs["kind"] in _SYMMETRIC else "-->"
        label = _edge_label(attrs)
        text = f'|"{_mermaid_text(label)}"|' if label else ""
        lines.append(f"  {ids[u]} {arrow}{text} {ids[v]}")
    if down:
        lines.append("  classDef down stroke:#c00,stroke-width:2px,stroke-dasharray:5 5")
        lines.append(f"  class {','.join(down)} down")
    return "\n".join(lines) + "\n"


def mermaid_ids(graph: nx.MultiDiGraph) -> dict[str, str]:
    """Mermaid-safe ids (`[A-Za-z0-9_]+`, never a keyword such as `end`), unique even when two
    names differ only in punctuation (`eth0.100` and `eth0_100`)."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for node in sorted(graph.nodes):
        base = "n_" + re.sub(r"[^A-Za-z0-9]", "_", node)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        ids[node] = candidate
    return ids


def render_json(graph: nx.MultiDiGraph) -> str:
    """networkx node-link data (`nx.node_link_graph(data, edges="edges")` reads it back), nodes
    and edges sorted so the same dump always prints the same text."""
    data = nx.node_link_data(graph, edges="edges")
    data["nodes"].sort(key=lambda n: n["id"])
    data["edges"].sort(key=lambda e: (e["source"], e["target"], e["key"]))
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _sorted_edges(graph: nx.MultiDiGraph):
    return sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2]))


def _label_lines(attrs: dict) -> list[str]:
    lines = [attrs["label"]]
    lines += [a for a in attrs.get("addresses", []) if ":" not in a]
    if attrs.get("dummy"):
        lines.append("(dummy)")
    return lines


def _is_down(attrs: dict) -> bool:
    return attrs.get("up") is False or attrs.get("carrier") is False


def _edge_label(attrs: dict) -> str:
    kind = attrs["kind"]
    if kind == "address":
        return attrs["address"]
    if kind != "route":
        return ""
    text = attrs["destination"] or "?"
    if attrs["gateway"]:
        text += f" via {attrs['gateway']}"
    if attrs["type"] != "unicast":
        text = f"{attrs['type']} {text}"
    if attrs["table"] not in (None, "main"):
        text += f" table {attrs['table']}"
    return text


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_attrs(style: dict[str, str]) -> str:
    return ", ".join(f"{key}={_dot_quote(value)}" for key, value in style.items())


def _mermaid_text(text: str) -> str:
    """Entity codes for the characters that end or mark up a quoted Mermaid label."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;")):
        text = text.replace(char, code)
    return text
