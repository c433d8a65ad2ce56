"""Random KVM hosts for the lab: a seed gives one scenario dict in FORMAT.md's shape.

Every host starts as the project's example: a guest 192.168.122.2 on virbr0 (tap vnet0), eno1
192.168.50.201/24 with the default route via the router up1 (192.168.50.1), eno2
172.28.20.231/24 with a static route via the router up2 (172.28.20.1); the remote hosts
203.0.113.10 (behind up1) and 198.51.100.10 (behind up2). The routers are joined by a transit
link, so either delivers to any remote (netlint's assumption), and they route back to each
other's connected subnets but not to the guest network, unless the host was given "routers
know the guest network" (then every probe carries `upstream_knows`, and the host's routes are
kept symmetric so that a reply comes back by the interface it left).

Then random choices: forwarding (global and per interface), libvirt's rule layout (built-in
chains as before 5.1, or the LIBVIRT_* chains), MASQUERADE (present, missing, for a wrong
subnet, pinned to one uplink), the FORWARD policy, a stray REJECT/DROP above the accepts, a
RHEL-style host firewall, rp_filter modes, the default route, a tap (or its guest end) down,
a second guest with bridge-nf-call-iptables, and whether the dump holds the guest's routing table.
Probes carry no `expect`: the kernel decides.
"""

from __future__ import annotations

import random

GUEST_NET = "192.168.122.0/24"
ADDR = {
    "virbr0": "192.168.122.1", "guest": "192.168.122.2", "guest2": "192.168.122.3",
    "eno1": "192.168.50.201", "up1": "192.168.50.1", "eno2": "172.28.20.231", "up2": "172.28.20.1",
    "net1": "203.0.113.10", "net2": "198.51.100.10",
}
PORTS = {"net1": 443, "net2": 443, "host": 22, "guest": 80, "guest2": 80}


def _nat(layout: str, masquerade: str) -> list[str]:
    chain = "POSTROUTING" if layout == "old" else "LIBVIRT_PRT"
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":POSTROUTING ACCEPT [0:0]"]
    if layout == "new":
        lines += [":LIBVIRT_PRT - [0:0]", "-A POSTROUTING -j LIBVIRT_PRT"]
    subnet = "192.168.123.0/24" if masquerade == "wrong-subnet" else GUEST_NET
    out = f" -o {masquerade.split(':')[1]}" if masquerade.startswith("pinned:") else ""
    lines += [f"-A {chain} -s {GUEST_NET} -d 224.0.0.0/24 -j RETURN",
              f"-A {chain} -s {GUEST_NET} -d 255.255.255.255/32 -j RETURN"]
    if masquerade != "missing":
        lines += [f"-A {chain} -s {subnet} ! -d {subnet}{out} -p tcp -j MASQUERADE --to-ports 1024-65535",
                  f"-A {chain} -s {subnet} ! -d {subnet}{out} -p udp -j MASQUERADE --to-ports 1024-65535",
                  f"-A {chain} -s {subnet} ! -d {subnet}{out} -j MASQUERADE"]
    return [*lines, "COMMIT"]


def _mangle(layout: str) -> list[str]:
    lines = ["*mangle", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]",
             ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
    if layout == "new":
        lines += [":LIBVIRT_PRT - [0:0]", "-A POSTROUTING -j LIBVIRT_PRT"]
    chain = "POSTROUTING" if layout == "old" else "LIBVIRT_PRT"
    return [*lines, f"-A {chain} -o virbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill", "COMMIT"]


def _filter(layout: str, policy: str, stray: str | None, firewall: str) -> list[str]:
    lines = ["*filter", ":INPUT ACCEPT [0:0]", f":FORWARD {policy} [0:0]", ":OUTPUT ACCEPT [0:0]"]
    libvirt_input = [f"-i virbr0 -p {p} -m {p} --dport {port} -j ACCEPT" for port in (53, 67) for p in ("udp", "tcp")]
    forward_in = [f"-d {GUEST_NET} -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                  "-o virbr0 -j REJECT --reject-with icmp-port-unreachable"]
    forward_out = [f"-s {GUEST_NET} -i virbr0 -j ACCEPT", "-i virbr0 -j REJECT --reject-with icmp-port-unreachable"]
    cross = ["-i virbr0 -o virbr0 -j ACCEPT"]
    output = ["-o virbr0 -p udp -m udp --dport 68 -j ACCEPT"]
    if layout == "new":
        lines += [f":{c} - [0:0]" for c in ("LIBVIRT_FWI", "LIBVIRT_FWO", "LIBVIRT_FWX", "LIBVIRT_INP", "LIBVIRT_OUT")]
        lines += ["-A INPUT -j LIBVIRT_INP"]
    else:
        lines += [f"-A INPUT {r}" for r in libvirt_input]
    if firewall == "rhel":
        lines += ["-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT", "-A INPUT -p icmp -j ACCEPT",
                  "-A INPUT -i lo -j ACCEPT", "-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT",
                  "-A INPUT -j REJECT --reject-with icmp-host-prohibited"]
    if stray is not None and not stray.startswith("LIBVIRT_FWO "):
        lines.append(f"-A FORWARD {stray}")
    if layout == "new":
        lines += ["-A FORWARD -j LIBVIRT_FWX", "-A FORWARD -j LIBVIRT_FWI", "-A FORWARD -j LIBVIRT_FWO"]
    else:
        lines += [f"-A FORWARD {r}" for r in (forward_in[0], forward_out[0], cross[0], forward_in[1], forward_out[1])]
    if firewall == "rhel":
        lines.append("-A FORWARD -j REJECT --reject-with icmp-host-prohibited")
    if layout == "new":
        lines += ["-A OUTPUT -j LIBVIRT_OUT"]
        lines += [f"-A LIBVIRT_FWI {r}" for r in forward_in]
        if stray is not None and stray.startswith("LIBVIRT_FWO "):
            lines.append(f"-A {stray}")
        lines += [f"-A LIBVIRT_FWO {r}" for r in forward_out]
        lines += [f"-A LIBVIRT_FWX {r}" for r in cross]
        lines += [f"-A LIBVIRT_INP {r}" for r in libvirt_input]
        lines += [f"-A LIBVIRT_OUT {r}" for r in output]
    else:
        lines += [f"-A OUTPUT {r}" for r in output]
    return [*lines, "COMMIT"]


STRAYS = (
    "-d 203.0.113.0/24 -j REJECT --reject-with icmp-host-prohibited",
    "-p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset",
    f"-s {GUEST_NET} -j REJECT --reject-with icmp-port-unreachable",
    "-i eno2 -j REJECT --reject-with icmp-port-unreachable",
    "-p icmp -j DROP",
    "-d 198.51.100.10/32 -j DROP",
)


def generate(seed: int) -> dict:
    """The scenario of `seed` (the same dict for the same seed, on any machine)."""
    rng = random.Random(seed)
    layout = rng.choice(["old", "new"])
    masquerade = rng.choice(["present", "present", "missing", "wrong-subnet", "pinned:eno1", "pinned:eno2"])
    policy = rng.choice(["ACCEPT", "DROP"])
    stray = rng.choice(STRAYS) if rng.random() < 0.4 else None
    if stray is not None and layout == "new" and rng.random() < 0.5:
        stray = f"LIBVIRT_FWO {stray}"
    firewall = rng.choice(["none", "rhel"])
    default_route = rng.random() < 0.8
    static = rng.choice(["198.51.100.0/24", "198.51.100.0/24", "172.29.0.0/16"])
    knows = static == "198.51.100.0/24" and rng.random() < 0.3
    pair = rng.random() < 0.4
    tap_down = rng.choice([None, None, None, None, "host:vnet0", "guest:eth0"])
    forward = rng.choice([1, 1, 1, 0])
    per_iface = {name: 1 - forward for name in ("virbr0", "eno1", "eno2") if rng.random() < 0.25}
    rp_all = rng.choice([0, 0, 1, 2])
    rp_iface = {name: rng.choice([0, 1, 2]) for name in ("virbr0", "eno1", "eno2") if rng.random() < 0.5}
    bridge_nf = (1 if rng.random() < 0.7 else 0) if pair else rng.choice([0, 1])

    namespaces = {"host": "host", "guest": "guest", "up1": "router", "up2": "router", "net1": "remote",
                  "net2": "remote"}
    links = [["guest:eth0", "host:vnet0"], ["host:eno1", "up1:eth0"], ["host:eno2", "up2:eth0"],
             ["up1:eth1", "net1:eth0"], ["up2:eth1", "net2:eth0"], ["up1:eth2", "up2:eth2"]]
    ports = ["vnet0"]
    addresses = {
        "host:virbr0": [f"{ADDR['virbr0']}/24"], "host:eno1": [f"{ADDR['eno1']}/24"],
        "host:eno2": [f"{ADDR['eno2']}/24"], "guest:eth0": [f"{ADDR['guest']}/24"],
        "up1:eth0": [f"{ADDR['up1']}/24"], "up1:eth1": ["203.0.113.1/24"], "up1:eth2": ["10.255.0.1/30"],
        "up2:eth0": [f"{ADDR['up2']}/24"], "up2:eth1": ["198.51.100.1/24"], "up2:eth2": ["10.255.0.2/30"],
        "net1:eth0": [f"{ADDR['net1']}/24"], "net2:eth0": [f"{ADDR['net2']}/24"],
    }
    routes = [
        {"ns": "guest", "to": "default", "via": ADDR["virbr0"]},
        {"ns": "host", "to": static, "via": ADDR["up2"]},
        {"ns": "up1", "to": "198.51.100.0/24", "via": "10.255.0.2"},
        {"ns": "up1", "to": "172.28.20.0/24", "via": "10.255.0.2"},
        {"ns": "up2", "to": "203.0.113.0/24", "via": "10.255.0.1"},
        {"ns": "up2", "to": "192.168.50.0/24", "via": "10.255.0.1"},
        {"ns": "net1", "to": "default", "via": "203.0.113.1"},
        {"ns": "net2", "to": "default", "via": "198.51.100.1"},
    ]
    if default_route:
        routes.insert(1, {"ns": "host", "to": "default", "via": ADDR["up1"]})
    if knows:
        routes += [{"ns": "up1", "to": GUEST_NET, "via": ADDR["eno1"]},
                   {"ns": "up2", "to": GUEST_NET, "via": ADDR["eno2"]}]
    if pair:
        namespaces["guest2"] = "guest"
        links.insert(1, ["guest2:eth0", "host:vnet1"])
        ports.append("vnet1")
        addresses["guest2:eth0"] = [f"{ADDR['guest2']}/24"]
        routes.insert(1, {"ns": "guest2", "to": "default", "via": ADDR["virbr0"]})

    host_sysctls = {"net.ipv4.ip_forward": forward}
    host_sysctls.update({f"net.ipv4.conf.{name}.forwarding": value for name, value in per_iface.items()})
    host_sysctls["net.ipv4.conf.all.rp_filter"] = rp_all
    host_sysctls.update({f"net.ipv4.conf.{name}.rp_filter": value for name, value in rp_iface.items()})
    host_sysctls["net.bridge.bridge-nf-call-iptables"] = bridge_nf

    iptables = "\n".join([*_mangle(layout), *_nat(layout, masquerade), *_filter(layout, policy, stray, firewall)])

    guest_in = "vnet0" if pair else None
    candidates = [
        ("guest", ADDR["guest"], ADDR["net1"], "icmp", None, guest_in),
        ("guest", ADDR["guest"], ADDR["net1"], "tcp", PORTS["net1"], guest_in),
        ("guest", ADDR["guest"], ADDR["net2"], "icmp", None, guest_in),
        ("guest", ADDR["guest"], ADDR["net2"], "tcp", PORTS["net2"], guest_in),
        ("guest", ADDR["guest"], ADDR["virbr0"], "icmp", None, guest_in),
        ("guest", ADDR["guest"], ADDR["virbr0"], "tcp", PORTS["host"], guest_in),
        ("guest", ADDR["guest"], ADDR["eno1"], "icmp", None, guest_in),
        ("guest", ADDR["guest"], ADDR["up2"], "icmp", None, guest_in),
        ("net1", ADDR["net1"], ADDR["eno1"], "icmp", None, "eno1"),
        ("net1", ADDR["net1"], ADDR["eno1"], "tcp", PORTS["host"], "eno1"),
        ("net1", ADDR["net1"], ADDR["eno2"], "icmp", None, "eno2"),
        ("net2", ADDR["net2"], ADDR["eno2"], "tcp", PORTS["host"], "eno2"),
        ("net2", ADDR["net2"], ADDR["eno1"], "icmp", None, "eno1"),
    ]
    if pair:
        candidates += [("guest", ADDR["guest"], ADDR["guest2"], "icmp", None, guest_in),
                       ("guest", ADDR["guest"], ADDR["guest2"], "tcp", PORTS["guest2"], guest_in)]
    if knows:
        candidates += [("net1", ADDR["net1"], ADDR["guest"], "tcp", PORTS["guest"], "eno1"),
                       ("net2", ADDR["net2"], ADDR["guest"], "icmp", None, "eno2")]
    chosen = sorted(rng.sample(range(len(candidates)), k=min(len(candidates), rng.randint(6, 9))))
    probes, servers = [], []
    for ns, src, dst, proto, dport, ingress in (candidates[i] for i in chosen):
        probe = {"from": ns, "src": src, "dst": dst, "proto": proto}
        if dport is not None:
            probe["dport"] = dport
            owner = next(name for name, address in ADDR.items() if address == dst)
            server = ["host", "0.0.0.0", dport] if owner in ("virbr0", "eno1", "eno2") else [owner, dst, dport]
            if server not in servers:
                servers.append(server)
        if ingress is not None:
            probe["in"] = ingress
        if knows:
            probe["upstream_knows"] = [GUEST_NET]
        probes.append(probe)

    chains = "<5.1 built-in chains" if layout == "old" else "LIBVIRT_* chains"
    description = (f"random host, seed {seed}: libvirt {chains}, MASQUERADE {masquerade}, FORWARD policy {policy}, stray rule {stray or 'none'}, "
                   f"host firewall {firewall}, default route {'present' if default_route else 'missing'}, "
                   f"static route {static} via {ADDR['up2']}, ip_forward {forward} {per_iface or ''}, "
                   f"rp_filter all={rp_all} {rp_iface or ''}, bridge-nf-call-iptables {bridge_nf}, "
                   f"{'second guest, ' if pair else ''}{'tap down ' + tap_down + ', ' if tap_down else ''}"
                   f"routers {'know' if knows else 'do not know'} {GUEST_NET}")
    scenario = {
        "description": description,
        "namespaces": namespaces,
        "links": links,
        "bridges": [{"ns": "host", "name": "virbr0", "ports": ports}],
        "addresses": addresses,
        "routes": routes,
        "down": [tap_down] if tap_down else [],
        "sysctls": {"host": host_sysctls},
        "iptables": {"host": iptables + "\n"},
        "servers": servers,
        "probes": probes,
    }
    if rng.random() < 0.5:
        scenario["guest_dump"] = "guest"
    return scenario
