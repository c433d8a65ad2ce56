"""The rulesets of libvirt and Docker + libvirt hosts, built by running the daemons' iptables
commands in a fresh namespace and saved as the real `iptables-save` prints them.

libvirt's commands are its own test lists (corpus `libvirt-rules/`, read in place): each is a
series of `iptables …`/`ip6tables …` commands, a trailing backslash continuing a line, in the
order libvirt runs them (`--insert` puts a rule at the head, so the saved order is reversed).
`virbr0` and `enp0s7` need not exist: iptables matches interfaces by name.

Docker's commands are written here from its documented behaviour (Docker 20.10–27, classic
`iptables` backend, default bridge docker0 172.17.0.0/16, one container 172.17.0.2 publishing
`-p 8080:80`).
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from .netns import Lab

DOCKER = "docker"

# Docker's daemon start, then its default bridge, then one container with a published port.
DOCKER_COMMANDS = r"""
iptables -t nat -N DOCKER
iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
iptables -t filter -N DOCKER
iptables -t filter -N DOCKER-ISOLATION-STAGE-1
iptables -t filter -N DOCKER-ISOLATION-STAGE-2
iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
iptables -t nat -I DOCKER -i docker0 -j RETURN
iptables -t filter -I FORWARD -i docker0 -o docker0 -j ACCEPT
iptables -t filter -I FORWARD -i docker0 ! -o docker0 -j ACCEPT
iptables -t filter -I FORWARD -o docker0 -j DOCKER
iptables -t filter -I FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -t filter -I DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
iptables -t filter -I DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
iptables -t filter -A DOCKER-ISOLATION-STAGE-1 -j RETURN
iptables -t filter -A DOCKER-ISOLATION-STAGE-2 -j RETURN
iptables -t filter -I FORWARD -j DOCKER-ISOLATION-STAGE-1
iptables -t filter -N DOCKER-USER
iptables -t filter -A DOCKER-USER -j RETURN
iptables -t filter -I FORWARD -j DOCKER-USER
iptables -t filter -P FORWARD DROP
iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
iptables -t filter -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
"""

# A few datagrams over loopback so that `iptables-save -c` shows counters that are not all zero.
_TRAFFIC = "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n" \
           "for _ in range(3):\n    s.sendto(b'netlint', ('127.0.0.1', 9))\n"


@dataclass(frozen=True)
class Fixture:
    """One saved ruleset: `steps` are libvirt corpus lists (or DOCKER) run in this order."""

    stem: str
    steps: tuple[str, ...]
    ip6: bool = False
    counters: bool = False

    def files(self) -> list[str]:
        return [f"{self.stem}.txt", *([f"{self.stem}-ip6.txt"] if self.ip6 else [])]


_LIBVIRT_NAT = ("base.iptables", "nat-default-linux.5.1-private-chains.args")

FIXTURES = (
    Fixture("libvirt-4.5-nat-default", ("nat-default-linux.pre-5.1.args",)),
    Fixture("libvirt-5.1-nat-default", _LIBVIRT_NAT, ip6=True),
    Fixture("libvirt-route-default", ("base.iptables", "route-default-linux.args")),
    Fixture("libvirt-isolated", ("base.iptables", "isolated-linux.iptables"), ip6=True),
    Fixture("libvirt-forward-dev", ("base.iptables", "forward-dev-linux.iptables")),
    # libvirt starts last: its jumps are inserted ahead of Docker's in FORWARD.
    Fixture("docker-libvirt-host", (DOCKER, *_LIBVIRT_NAT)),
    # Docker starts last: its inserted rules come before libvirt's jumps.
    Fixture("docker-libvirt-host-docker-last", (*_LIBVIRT_NAT, DOCKER)),
    Fixture("docker-libvirt-host-counters", (DOCKER, *_LIBVIRT_NAT), counters=True),
)


def commands(text: str) -> list[list[str]]:
    """The argument lists of a command list; every command must be iptables or ip6tables."""
    joined = text.replace("\\\n", " ")
    out = [shlex.split(line) for line in joined.splitlines() if line.strip()]
    for argv in out:
        if argv[0] not in ("iptables", "ip6tables"):
            raise ValueError(f"not an iptables command: {' '.join(argv)}")
    return out


def step_commands(step: str, libvirt_rules: Path) -> list[list[str]]:
    return commands(DOCKER_COMMANDS if step == DOCKER else (libvirt_rules / step).read_text())


def build(lab: Lab, libvirt_rules: Path, fixture: Fixture) -> dict[str, str]:
    """The `iptables-save` (and `ip6tables-save`) output of the fixture's host, by file name."""
    ns = lab.namespace()
    try:
        for step in fixture.steps:
            for argv in step_commands(step, libvirt_rules):
                lab.check(ns, argv)
        if fixture.counters:
            lab.check(ns, ["ip", "link", "set", "lo", "up"])
            lab.check(ns, [sys.executable, "-c", _TRAFFIC])
        texts = [lab.save(ns, 4, fixture.counters)]
        if fixture.ip6:
            texts.append(lab.save(ns, 6, fixture.counters))
        return dict(zip(fixture.files(), texts))
    finally:
        lab.remove(ns)
