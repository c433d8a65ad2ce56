"""The topology graph of real dumps, the walk's helpers over it, and its DOT/Mermaid/JSON renderings
checked by the tools that read them (Graphviz's `dot`, networkx) or by Mermaid's id rules."""

from __future__ import annotations

import html
import json
import operator
import re
import shutil
import subprocess
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import networkx as nx
import pytest

from netlint.host import Host, build_host, load_host
from netlint.model import Origin, Route
from netlint.report.graph import mermaid_ids, render_dot, render_json, render_mermaid
from netlint.topology import bridge_ports, build_graph, unenslaved_taps


def guest_ports(graph, bridge):
    """Guest-facing ports of a bridge not known to be down or without carrier."""
    return [p for p in bridge_ports(graph, bridge)
            if graph.nodes[p]["kind"] == "tap" and graph.nodes[p]["up"] is not False
            and graph.nodes[p]["carrier"] is not False]


def egress(graph, dev):
    """Where a link's next-hop edges lead."""
    if dev not in graph:
        return []
    return sorted({v for _, v, kind in graph.out_edges(dev, data="kind") if kind == "next-hop"})
from tests.conftest import FIXTURES, IN_CI, REPO, parse_text

EXAMPLE = REPO / "examples" / "centos7-forwarding-off"
BR0_HOST = FIXTURES / "topology" / "br0-host"
STRAY_TAP = FIXTURES / "topology" / "stray-tap"
DUMPS = [EXAMPLE, BR0_HOST, STRAY_TAP]


def graph_of(path: Path) -> nx.MultiDiGraph:
    return build_graph(load_host(str(path)))


def edges(graph: nx.MultiDiGraph, u: str, v: str, kind: str) -> list[dict]:
    return [attrs for attrs in graph.get_edge_data(u, v, default={}).values() if attrs["kind"] == kind]


def line_at(dump: Path, origin: str) -> str:
    file, line = origin.rsplit(":", 1)
    return (dump / file).read_text().splitlines()[int(line) - 1]


# --- the example dump -------------------------------------------------------------------------


def test_example_guest_reaches_bridge_and_its_tap_with_origins():
    graph = graph_of(EXAMPLE)
    guest = "guest:192.168.122.0/24"
    assert graph.nodes[guest] == {"kind": "guest", "label": "guests 192.168.122.0/24", "origin": "ip-addr.txt:21",
                                       "network": "192.168.122.0/24", "gateway": "192.168.122.1", "bridge": "virbr0"}
    (link,) = edges(graph, guest, "virbr0", "guest-link")
    assert link["origin"] == "ip-addr.txt:21"
    assert line_at(EXAMPLE, link["origin"]).strip().startswith("inet 192.168.122.1/24")
    (member,) = edges(graph, "vnet0", "virbr0", "l2-member")
    assert member["origin"] == "brctl-show.txt:3" and line_at(EXAMPLE, member["origin"]).strip() == "vnet0"
    assert graph.nodes["vnet0"]["kind"] == "tap" and graph.nodes["vnet0"]["master"] == "virbr0"
    assert graph.nodes["virbr0"]["kind"] == "bridge" and graph.nodes["virbr0"]["addresses"] == ["192.168.122.1/24"]
    assert guest_ports(graph, "virbr0") == ["vnet0"]


def test_example_virbr0_nic_is_a_dummy_port_never_a_guest_port():
    graph = graph_of(EXAMPLE)
    nic = graph.nodes["virbr0-nic"]
    assert nic["kind"] == "interface" and nic["dummy"] is True
    assert nic["up"] is True and nic["carrier"] is False and nic["state"] == "DOWN"
    assert bridge_ports(graph, "virbr0") == ["virbr0-nic", "vnet0"]
    assert "virbr0-nic" not in guest_ports(graph, "virbr0")
    (member,) = edges(graph, "virbr0-nic", "virbr0", "l2-member")
    assert member["origin"] == "brctl-show.txt:2"


def test_example_routes_next_hops_and_the_way_out():
    graph = graph_of(EXAMPLE)
    (route,) = [r for r in edges(graph, "host", "eno2", "route") if r["destination"] == "172.230.0.0/16"]
    assert route == {"kind": "route", "origin": "ip-route.txt:3", "destination": "172.230.0.0/16",
                     "gateway": "172.28.20.1", "metric": None, "table": None, "type": "unicast"}
    (default,) = [r for r in edges(graph, "host", "eno1", "route") if r["destination"] == "0.0.0.0/0"]
    assert default["gateway"] == "192.168.50.1" and default["metric"] == 100 and default["origin"] == "ip-route.txt:1"
    assert [e["origin"] for e in edges(graph, "eno2", "gw:172.28.20.1", "next-hop")] == ["ip-route.txt:3"]
    (out,) = edges(graph, "gw:192.168.50.1", "outside", "next-hop")
    assert out["origin"] == "ip-route.txt:1"
    assert not graph.has_edge("gw:172.28.20.1", "outside")
    assert egress(graph, "eno1") == ["gw:192.168.50.1"] and egress(graph, "virbr0") == []
    assert graph.nodes["gw:192.168.50.1"]["kind"] == "gateway"
    assert nx.shortest_path(graph, "guest:192.168.122.0/24", "outside") == [
        "guest:192.168.122.0/24", "virbr0", "host", "eno1", "gw:192.168.50.1", "outside"]


def test_example_addresses_and_no_local_table_routes():
    graph = graph_of(EXAMPLE)
    (addr,) = edges(graph, "eno1", "host", "address")
    assert addr == {"kind": "address", "address": "192.168.50.201/24", "origin": "ip-addr.txt:9"}
    assert [a["address"] for a in edges(graph, "lo", "host", "address")] == ["127.0.0.1/8"]
    routes = [d for _, _, d in graph.edges(data=True) if d["kind"] == "route"]
    assert len(routes) == 5 and all(r["table"] is None for r in routes)
    assert not graph.has_edge("host", "lo")


@pytest.mark.parametrize("dump", DUMPS, ids=lambda p: p.name)
def test_every_origin_names_a_real_line_of_the_dump(dump):
    graph = graph_of(dump)
    origins = [d["origin"] for _, d in graph.nodes(data=True)] + [d["origin"] for *_, d in graph.edges(data=True)]
    for origin in filter(None, origins):
        assert line_at(dump, origin).strip(), origin
    assert all(d["origin"] for *_, d in graph.edges(data=True))


# --- a host bridge with its physical uplink -----------------------------------------------------


def test_host_bridge_with_physical_port_and_taps():
    graph = graph_of(BR0_HOST)
    assert graph.nodes["br0"]["kind"] == "bridge"
    assert bridge_ports(graph, "br0") == ["eno1", "vm-web", "vnet0"]
    assert graph.nodes["eno1"]["kind"] == "interface"
    # `ip -d` says vm-web is a tap (libvirt's <target dev='vm-web'/>): the name does not matter.
    assert graph.nodes["vm-web"]["kind"] == "tap" and graph.nodes["vm-web"]["link_kind"] == "tun"
    assert guest_ports(graph, "br0") == ["vm-web", "vnet0"]
    assert [e["origin"] for e in edges(graph, "eno1", "br0", "l2-member")] == ["bridge-link.txt:1"]
    assert [e["origin"] for e in edges(graph, "vnet0", "br0", "l2-member")] == ["bridge-link.txt:2"]
    assert [e["origin"] for e in edges(graph, "guest:10.20.0.0/24", "br0", "guest-link")] == ["ip-d-addr.txt:12"]
    (out,) = edges(graph, "gw:10.20.0.1", "outside", "next-hop")
    assert out["origin"] == "ip-route.txt:1"
    assert unenslaved_taps(graph) == []


def test_tun_device_is_an_uplink_and_a_default_without_gateway_leads_outside():
    graph = graph_of(BR0_HOST)
    assert graph.nodes["tun0"]["kind"] == "interface"
    assert graph.nodes["tun0"]["addresses"] == ["10.8.0.1/32"]
    (table_default,) = [r for r in edges(graph, "host", "tun0", "route") if r["table"] == "100"]
    assert table_default["destination"] == "0.0.0.0/0" and table_default["gateway"] is None
    assert egress(graph, "tun0") == ["gw:10.8.0.2", "outside"]
    assert [e["origin"] for e in edges(graph, "tun0", "outside", "next-hop")] == ["ip-route.txt:6"]
    assert not graph.has_edge("gw:10.8.0.2", "outside")


def test_route_without_device_loops_on_the_host():
    graph = graph_of(BR0_HOST)
    (blackhole,) = edges(graph, "host", "host", "route")
    assert blackhole["type"] == "blackhole" and blackhole["destination"] == "10.99.0.0/16"
    assert blackhole["origin"] == "ip-route.txt:5"


# --- a libvirt host after a network restart ------------------------------------------------------


def test_tap_left_without_a_bridge():
    graph = graph_of(STRAY_TAP)
    assert unenslaved_taps(graph) == ["vnet0"]
    assert graph.nodes["vnet0"]["kind"] == "tap" and graph.nodes["vnet0"]["master"] is None
    assert graph.nodes["vnet0"]["origin"] == "ip-addr.txt:23"


def test_bridges_without_usable_guest_ports():
    graph = graph_of(STRAY_TAP)
    assert bridge_ports(graph, "virbr0") == ["virbr0-nic"] and guest_ports(graph, "virbr0") == []
    assert bridge_ports(graph, "virbr1") == ["virbr1-nic", "vnet2"] and guest_ports(graph, "virbr1") == []
    assert graph.nodes["vnet2"]["carrier"] is False and graph.nodes["vnet2"]["up"] is True
    # `<BROADCAST,MULTICAST>` with no UP: down, and silent about the carrier.
    nic = graph.nodes["virbr1-nic"]
    assert nic["dummy"] is True and nic["up"] is False and nic["carrier"] is None
    assert graph.nodes["virbr0"]["carrier"] is False
    assert guest_ports(graph, "no-such-bridge") == [] and egress(graph, "no-such-link") == []


def test_route_n_routes_with_their_origins():
    graph = graph_of(STRAY_TAP)
    (default,) = [r for r in edges(graph, "host", "ens3", "route") if r["destination"] == "0.0.0.0/0"]
    assert default["gateway"] == "203.0.113.1" and default["origin"] == "route-n.txt:3"
    assert [e["origin"] for e in edges(graph, "gw:203.0.113.1", "outside", "next-hop")] == ["route-n.txt:3"]


# --- facts from fewer outputs ------------------------------------------------------------------


BRCTL_ONLY = "bridge name\tbridge id\t\tSTP enabled\tinterfaces\nvirbr0\t\t8000.525400c368e6\tyes\t\tvirbr0-nic\n" \
             "\t\t\t\t\t\t\tvnet0\n"


def test_ports_only_brctl_names_have_unknown_state_and_still_count():
    host = build_host("dump", [parse_text("brctl-show", BRCTL_ONLY, "brctl-show.txt")])
    graph = build_graph(host)
    assert graph.nodes["vnet0"] == {"kind": "tap", "label": "vnet0", "origin": None, "up": None, "carrier": None,
                                         "state": None, "dummy": False, "master": "virbr0", "link_kind": None,
                                         "addresses": []}
    assert graph.nodes["virbr0"]["origin"] == "brctl-show.txt:2"
    assert graph.nodes["virbr0-nic"]["dummy"] is True
    assert guest_ports(graph, "virbr0") == ["vnet0"]
    assert list(graph.successors("outside")) == [] and list(graph.predecessors("outside")) == []


def test_multipath_default_has_an_edge_per_nexthop():
    text = "default proto static metric 50 \n\tnexthop via 10.0.0.1 dev eth0 weight 1 \n" \
           "\tnexthop via 10.0.1.1 dev eth1 weight 1 \n"
    graph = build_graph(build_host("dump", [parse_text("ip-route", text, "ip-route.txt")]))
    assert [e["origin"] for e in edges(graph, "host", "eth0", "route")] == ["ip-route.txt:2"]
    assert [e["gateway"] for e in edges(graph, "host", "eth1", "route")] == ["10.0.1.1"]
    assert graph.has_edge("gw:10.0.0.1", "outside") and graph.has_edge("gw:10.0.1.1", "outside")
    assert graph.nodes["eth0"]["up"] is None


def test_route_without_device_goes_out_of_the_link_holding_its_gateway():
    addrs = parse_text("ip-addr", "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n"
                       "    link/ether 52:54:00:01:02:03 brd ff:ff:ff:ff:ff:ff\n"
                       "    inet 198.51.100.7/24 brd 198.51.100.255 scope global eth0\n", "ip-addr.txt")
    host = build_host("dump", [addrs])
    host.routes = [Route(4, IPv4Network("0.0.0.0/0"), Origin("netstat-rn.txt", 4), gateway=IPv4Address("198.51.100.1"))]
    graph = build_graph(host)
    assert [e["gateway"] for e in edges(graph, "host", "eth0", "route")] == ["198.51.100.1"]
    assert egress(graph, "eth0") == ["gw:198.51.100.1"] and graph.has_edge("gw:198.51.100.1", "outside")


# --- renderers ---------------------------------------------------------------------------------


def odd_graph() -> nx.MultiDiGraph:
    """Names that trip renderers: punctuation, ids that collide once sanitized, Mermaid's `end`."""
    host = Host('dump "odd" \\ <x>')
    graph = build_graph(host)
    for name in ("eth0.100", "eth0_100", "end", "br-ex"):
        graph.add_node(name, kind="interface", label=f'{name} "q" <b>|#', origin=None, up=True, carrier=False,
                       state="DOWN", dummy=False, master=None, link_kind=None, addresses=["10.0.0.1/24", "fe80::1/64"])
        graph.add_edge("host", name, kind="route", origin="r.txt:1", destination="10.0.0.0/8", gateway=None,
                       metric=None, table="a|b", type="unreachable")
    graph.add_edge("eth0.100", "eth0_100", kind="l2-member", origin=None)
    return graph


def all_graphs() -> list[nx.MultiDiGraph]:
    return [graph_of(d) for d in DUMPS] + [odd_graph()]


def render_svg(dot_text: str) -> str:
    dot = shutil.which("dot")
    if dot is None:
        if IN_CI:
            pytest.fail("CI=true but Graphviz `dot` is not installed (.ci/run installs it)")
        pytest.skip("Graphviz `dot` is not installed")
    run = subprocess.run([dot, "-Tsvg"], check=False, input=dot_text, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "", run.stderr
    return run.stdout


@pytest.mark.parametrize("index", range(4), ids=["example", "br0-host", "stray-tap", "odd-names"])
def test_dot_renders_to_svg_with_graphviz(index):
    graph = all_graphs()[index]
    svg = render_svg(render_dot(graph))
    assert "<svg" in svg
    titles = {html.unescape(t) for t in re.findall(r"<title>(.*?)</title>", svg)}
    assert set(graph.nodes) <= titles


def test_dot_styles_and_labels():
    text = render_dot(graph_of(EXAMPLE))
    assert '"virbr0-nic" [shape="box", label="virbr0-nic\\n(dummy)", color="red", style="dashed"' in text
    assert '"host" -> "eno2" [label="172.230.0.0/16 via 172.28.20.1", tooltip="ip-route.txt:3"];' in text
    assert '"vnet0" -> "virbr0" [label="", dir="none", tooltip="brctl-show.txt:3"];' in text
    assert '"guest:192.168.122.0/24" [shape="box3d"' in text
    assert "fe80::" not in text
    stray = render_dot(graph_of(STRAY_TAP))
    assert '"virbr0" [shape="box", label="virbr0\\n192.168.122.1/24", color="red", style="rounded,bold,dashed"' in stray


# A node: its id, then one of the opening brackets the renderer uses, a quoted label, a closing one.
_MERMAID_NODE = re.compile(r'  ([A-Za-z0-9_]+)(?:\(\[|\(\(|\[\[|\[\(|\{\{|\[|\()'
                           r'"([^"]*)"(?:\]\)|\)\)|\]\]|\)\]|\}\}|\]|\))$')
_MERMAID_EDGE = re.compile(r"  ([A-Za-z0-9_]+) (-->|---)(?:\|\"([^\"]*)\"\|)? ([A-Za-z0-9_]+)$")


@pytest.mark.parametrize("index", range(4), ids=["example", "br0-host", "stray-tap", "odd-names"])
def test_mermaid_is_structurally_valid(index):
    graph = all_graphs()[index]
    lines = render_mermaid(graph).splitlines()
    assert lines[0] == "flowchart LR"
    declared, edge_count, classed = [], 0, []
    for line in lines[1:]:
        if node := _MERMAID_NODE.match(line):
            declared.append(node[1])
        elif edge := _MERMAID_EDGE.match(line):
            assert edge[1] in declared and edge[4] in declared, line
            edge_count += 1
        elif line.startswith("  classDef down "):
            continue
        else:
            match = re.fullmatch(r"  class ([A-Za-z0-9_,]+) down", line)
            assert match, line
            classed = match[1].split(",")
    assert len(declared) == len(set(declared)) == graph.number_of_nodes()
    assert edge_count == graph.number_of_edges()
    assert set(classed) <= set(declared)
    assert "end" not in declared


def test_mermaid_ids_are_distinct_after_sanitizing():
    ids = mermaid_ids(odd_graph())
    assert ids["eth0.100"] != ids["eth0_100"]
    assert set(ids) == set(odd_graph().nodes) and len(set(ids.values())) == len(ids)
    assert ids["end"] == "n_end" and ids["br-ex"] == "n_br_ex"
    text = render_mermaid(odd_graph())
    assert '#quot;q#quot; #lt;b#gt;#124;#35;' in text
    assert '"unreachable 10.0.0.0/8 table a#124;b"' in text


def test_mermaid_of_the_example():
    text = render_mermaid(graph_of(EXAMPLE))
    assert '  n_guest_192_168_122_0_24(["guests 192.168.122.0/24"])' in text
    assert '  n_host -->|"172.230.0.0/16 via 172.28.20.1"| n_eno2' in text
    assert "  n_vnet0 --- n_virbr0" in text
    assert "  n_gw_192_168_50_1 --> n_outside" in text
    assert "  class n_virbr0_nic down" in text


@pytest.mark.parametrize("index", range(4), ids=["example", "br0-host", "stray-tap", "odd-names"])
def test_json_round_trips_to_the_same_graph(index):
    graph = all_graphs()[index]
    text = render_json(graph)
    back = nx.node_link_graph(json.loads(text), edges="edges")
    assert isinstance(back, nx.MultiDiGraph) and back.graph == graph.graph
    assert dict(back.nodes(data=True)) == dict(graph.nodes(data=True))
    assert sorted(back.edges(keys=True, data=True), key=repr) == sorted(graph.edges(keys=True, data=True), key=repr)
    assert nx.is_isomorphic(back, graph, node_match=operator.eq, edge_match=lambda a, b: dict(a) == dict(b))


def test_json_is_stable_and_sorted():
    text = render_json(graph_of(EXAMPLE))
    assert text == render_json(graph_of(EXAMPLE))
    data = json.loads(text)
    ids = [n["id"] for n in data["nodes"]]
    assert ids == sorted(ids)
    (route,) = [e for e in data["edges"] if e["kind"] == "route" and e["destination"] == "172.230.0.0/16"]
    assert route["source"] == "host" and route["target"] == "eno2" and route["origin"] == "ip-route.txt:3"


BOND_AND_BRIDGE = """\
2: eno1: <BROADCAST,MULTICAST,SLAVE,UP,LOWER_UP> mtu 1500 qdisc mq master bond0 state UP group default qlen 1000
    link/ether 0c:c4:7a:31:5e:10 brd ff:ff:ff:ff:ff:ff
3: bond0: <BROADCAST,MULTICAST,MASTER,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether 0c:c4:7a:31:5e:10 brd ff:ff:ff:ff:ff:ff
    inet 192.168.50.201/24 brd 192.168.50.255 scope global bond0
       valid_lft forever preferred_lft forever
4: virbr0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether 52:54:00:c3:68:e6 brd ff:ff:ff:ff:ff:ff
    inet 192.168.122.1/24 brd 192.168.122.255 scope global virbr0
       valid_lft forever preferred_lft forever
9: vnet0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast master virbr0 state UNKNOWN group default qlen 1000
    link/ether fe:54:00:dc:a4:d5 brd ff:ff:ff:ff:ff:ff
"""


def test_plain_ip_addr_tells_a_bridge_from_a_bond_by_the_master_flag():
    """A paste with only `ip addr` (no brctl, no -d): `master virbr0` is bridge membership, since
    a bridge carries no MASTER flag; `master bond0` is not."""
    host = build_host("paste", [parse_text("ip-addr", BOND_AND_BRIDGE, "ip-addr.txt")])
    assert set(host.bridges) == {"virbr0"}
    assert list(host.bridges["virbr0"].ports) == ["vnet0"]
    assert [str(n.network) for n in host.guest_networks] == ["192.168.122.0/24"]
