"""One host's saved outputs in every form a support engineer meets (design.md §2): a pasted
ticket, a sosreport directory in sos 3.x and in sos 4.x layout, and either as a .tar.xz.

Each builder takes a dump folder (netlint's canonical names) and returns a `Form`: the path to
give `netlint check`, and for every line of the folder the place that line has in the form, so
a test can say which file and line a finding must cite there.

Nothing is invented. A ticket holds the folder's outputs verbatim under the prompts that
printed them. A sosreport holds them at the paths sos writes (`../shared/corpus/sosreport-paths/
sos-network-paths-by-version.tsv`), and where sos runs another command than the dump's, that
command's output is printed by the real tool from the dump's facts in a fresh network namespace:
- the firewall: sos never runs `iptables-save` in the host namespace; it keeps `iptables -t
  <table> -nvL` per table, `iptables -vnxL` and, on an nf_tables host, `nft list ruleset`. The
  dump's ruleset is restored with its counters and listed by iptables (and nft);
- the bridge ports in sos 3.7+, which runs `bridge -s -s -d link show` instead of `brctl
  show`: the bridges and ports `brctl show` lists are built, each port with the MTU, UP flag and
  carrier `ip addr` gives it, and iproute2 shows them (with the namespace's interface indexes).

What a sosreport does not carry is left out of it: the guest's outputs (`guest/…`: sos runs on
the host only), `route -n` in sos 4.5.4+ (dropped upstream, commit c207d439; the routes are in
`ip route`) and `brctl show` in sos 3.7+.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HOST_PROMPT = "[root@kvm01 ~]# "
GUEST_PROMPTS = {"route-print": "PS C:\\Users\\Administrator> ", "linux": "[root@guest ~]# "}
SYSCTL_GREP = "forwarding|ip_forward|rp_filter|bridge-nf-call"
BRIDGE_LINK = "sos_commands/networking/bridge_-s_-s_-d_link_show"

# The command that printed each canonical file, in the order a customer runs them.
HOST_COMMANDS = {
    "ip-addr.txt": "ip addr",
    "brctl-show.txt": "brctl show",
    "bridge-link.txt": "bridge link",
    "ip-route.txt": "ip route show table all",
    "route-n.txt": "route -n",
    "ip-rule.txt": "ip rule",
    "sysctl.txt": f"sysctl -a 2>/dev/null | grep -E '{SYSCTL_GREP}'",
    "iptables-save.txt": "iptables-save",
    "default-network.xml": "virsh net-dumpxml {network}",
}
GUEST_COMMANDS = {
    "route-print.txt": ("route-print", "route print"),
    "ip-addr.txt": ("linux", "ip addr"),
    "route-n.txt": ("linux", "route -n"),
}


class NamespaceUnavailable(RuntimeError):
    """The outputs sos runs cannot be printed here (not root, no `unshare`, a tool or kernel
    support missing): the sosreport forms cannot be built."""


@dataclass(frozen=True)
class Place:
    """A location as `netlint check` reports it: a file of the form (None: the dump itself) and a
    1-based line (None: the whole file)."""

    file: str | None
    line: int | None


@dataclass
class Form:
    """One form of a dump: what to check, and where each line of the dump folder went."""

    name: str
    path: Path
    carries_guest: bool
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lines: dict[tuple[str, int], tuple[Place, ...]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def places(self, file: str | None, line: int | None) -> tuple[Place, ...]:
        """Where a location of the dump folder sits in this form; empty when nothing carries it."""
        if file is None:
            return (Place(None, None),)
        if line is None:
            return tuple(Place(target, None) for target in self.files.get(file, ()))
        return self.lines.get((file, line), ())

    def place(self, file: str | None, line: int | None) -> Place:
        """A location reported on this form, with the ticket named one way however netlint names it."""
        return Place(self.aliases.get(file, file) if file is not None else None, line)

    def carry(self, dump_file: str, target: str, lines: dict[int, int]) -> None:
        self.files[dump_file] = self.files.get(dump_file, ()) + (target,)
        for line, there in lines.items():
            self.lines[(dump_file, line)] = self.lines.get((dump_file, line), ()) + (Place(target, there),)

    def moved(self, name: str, path: Path) -> Form:
        """The same content at another path (the report packed as an archive)."""
        return Form(name, path, self.carries_guest, dict(self.files), dict(self.lines), dict(self.aliases))


def dump_files(dump: Path) -> dict[str, str]:
    """The dump's files by their path inside it (`guest/route-print.txt`), with their text."""
    return {p.relative_to(dump).as_posix(): p.read_text() for p in sorted(dump.rglob("*")) if p.is_file()}


def is_guest(name: str) -> bool:
    return name.startswith(("guest/", "guest-"))


def folder(dump: Path) -> Form:
    """The dump folder itself, every line where it is."""
    form = Form("folder", dump, carries_guest=True)
    for name, text in dump_files(dump).items():
        form.carry(name, name, {n: n for n in range(1, len(text.splitlines()) + 1)})
    return form


# --- a pasted ticket -----------------------------------------------------------------------

_OPENING = [
    "Hi,",
    "",
    "since the maintenance window on Tuesday none of the VMs on kvm01 can reach anything outside",
    "the hypervisor. They get their 192.168.122.x address from libvirt and can ping the host, but",
    "nothing beyond it. We did not change the libvirt config as far as I know. Here is what I",
    "collected on the host, as root:",
    "",
]
_BEFORE = {
    "ip-addr.txt": "First the interfaces:",
    "brctl-show.txt": "The bridge and its ports:",
    "bridge-link.txt": "Bridge ports as iproute2 shows them:",
    "ip-route.txt": "Routing table (all tables):",
    "route-n.txt": "Same with the old tool, in case it helps:",
    "ip-rule.txt": "Policy routing rules, nothing custom there I think:",
    "sysctl.txt": "Kernel settings, filtered a bit because the full list is huge:",
    "iptables-save.txt": "The firewall. We do not manage it ourselves, libvirt and whatever the OS ships:",
    "default-network.xml": "And the libvirt network definition:",
}
_GUEST_INTRO = "Inside the guest the routes look fine to me:"
_CLOSING = ["Let me know if you need anything else, we can run more commands.", "", "Thanks,", "Marek"]


def ticket(dump: Path, dest: Path) -> Form:
    """`dest/ticket.md`: the customer's words, then every output under the prompt that printed
    it, in a fence with its prompt, after its prompt in a fence, or bare, in turn, with prose
    between; the guest's outputs under the guest's own prompt."""
    files = dump_files(dump)
    unknown = sorted(n for n in files if n not in HOST_COMMANDS and not (is_guest(n) and _guest_command(n)))
    if unknown:
        raise ValueError(f"{dump}: no command known for {unknown}")
    path = dest / "ticket.md"
    form = Form("ticket", path, carries_guest=True, aliases={str(path): path.name, path.name: path.name})
    out = list(_OPENING)
    host = [(n, HOST_PROMPT, _host_command(n, files[n]), _BEFORE[n]) for n in HOST_COMMANDS if n in files]
    guest = [(n, *_guest_command(n), None) for n in files if is_guest(n)]
    if guest:
        guest[0] = (*guest[0][:3], _GUEST_INTRO)
    for index, (name, prompt, command, intro) in enumerate(host + guest):
        if intro:
            out += [intro, ""]
        style = index % 3
        out += [["```", prompt + command], [prompt + command, "```text"], [prompt + command]][style]
        lines = files[name].splitlines()
        form.carry(name, path.name, {n: len(out) + n for n in range(1, len(lines) + 1)})
        out += lines
        if style == 0:
            out += [prompt.rstrip(), "```"] if index == 0 else ["```"]  # the first copy ends at the next prompt
        elif style == 1:
            out += ["```"]
        out.append("")
    out += _CLOSING
    text = "\n".join(out) + "\n"
    path.write_text(text)
    written = text.splitlines()
    for (name, line), (place,) in form.lines.items():
        assert written[place.line - 1] == files[name].splitlines()[line - 1], (name, line)
    return form


def _host_command(name: str, text: str) -> str:
    if name == "sysctl.txt":
        stray = [line for line in text.splitlines() if not re.search(SYSCTL_GREP, line)]
        if stray:
            raise ValueError(f"sysctl.txt has lines the ticket's grep would not print: {stray[:3]}")
    if name == "default-network.xml":
        return HOST_COMMANDS[name].format(network=_network_name(text))
    return HOST_COMMANDS[name]


def _guest_command(name: str) -> tuple[str, str] | None:
    known = GUEST_COMMANDS.get(name.split("/", 1)[-1].removeprefix("guest-"))
    return (GUEST_PROMPTS[known[0]], known[1]) if known else None


def _network_name(xml: str) -> str:
    return ET.fromstring(xml).findtext("name")


# --- sosreports ----------------------------------------------------------------------------

@dataclass(frozen=True)
class SosLayout:
    """Where one sos version puts each canonical output (None: that version does not collect it)."""

    version: str
    root: str
    paths: dict[str, str | None]
    firewall_dir: str
    nft: tuple[str, str]  # where `nft list ruleset` goes, and the command sos runs
    links: dict[str, str]
    same_backend: bool  # True: listings by the dump's own iptables; False: by iptables-nft


SOS_3 = SosLayout(
    version="3.6",
    root="sosreport-kvm01-2019-03-14-xkzqvbn",
    paths={
        "ip-addr.txt": "sos_commands/networking/ip_-d_address",
        "ip-route.txt": "sos_commands/networking/ip_route_show_table_all",
        "route-n.txt": "sos_commands/networking/route_-n",
        "brctl-show.txt": "sos_commands/networking/brctl_show",
        "bridge-link.txt": None,  # `bridge link` replaced brctl in 3.7
        "ip-rule.txt": "sos_commands/networking/ip_-4_rule",
        "sysctl.txt": "sos_commands/kernel/sysctl_-a",
        "default-network.xml": "etc/libvirt/qemu/networks/{network}.xml",
    },
    firewall_dir="sos_commands/networking",
    nft=("sos_commands/networking/nft_list_ruleset", "nft list ruleset"),
    links={"route": "sos_commands/networking/route_-n"},
    same_backend=True,
)
# sos 4.x lists a table only when `nft list ruleset` shows it, i.e. on an iptables-nft host: its
# listings are printed by iptables-nft whatever the dump's own iptables was.
SOS_4 = SosLayout(
    version="4.5.4",
    root="sosreport-kvm01-2023-06-20-qpjruzl",
    paths={
        "ip-addr.txt": "sos_commands/networking/ip_-d_address",
        "ip-route.txt": "sos_commands/networking/ip_route_show_table_all",
        "route-n.txt": None,  # removed in 4.5.4
        "brctl-show.txt": None,  # removed in 3.7: the ports are in `bridge link`
        "bridge-link.txt": BRIDGE_LINK,
        "ip-rule.txt": "sos_commands/networking/ip_-4_rule_list",
        "sysctl.txt": "sos_commands/kernel/sysctl_-a",
        "default-network.xml": "etc/libvirt/qemu/networks/{network}.xml",
    },
    firewall_dir="sos_commands/firewall_tables",
    nft=("sos_commands/firewall_tables/nft_-a_list_ruleset", "nft -a list ruleset"),
    links={"ip_route": "sos_commands/networking/ip_route_show_table_all"},
    same_backend=False,
)
LAYOUTS = {layout.version: layout for layout in (SOS_3, SOS_4)}


def sosreport(dump: Path, dest: Path, layout: SosLayout) -> Form:
    """`dest/<sosreport-…>/`: the dump's host outputs where `layout`'s sos version writes them."""
    root = dest / layout.root
    form = Form(f"sos-{layout.version}", root, carries_guest=False)
    files = dump_files(dump)
    for name, text in files.items():
        if is_guest(name):
            continue
        if name == "iptables-save.txt":
            _firewall(form, layout, text)
            continue
        if name not in layout.paths:
            raise ValueError(f"{dump}: sos {layout.version} has no place for {name}")
        target = layout.paths[name]
        if target is None:
            continue
        if "{network}" in target:
            target = target.format(network=_network_name(text))
        _write(root / target, text)
        form.carry(name, target, {n: n for n in range(1, len(text.splitlines()) + 1)})
    if layout.paths["bridge-link.txt"] and "bridge-link.txt" not in files and "brctl-show.txt" in files:
        _bridge_ports(form, layout.paths["bridge-link.txt"], files["brctl-show.txt"], files["ip-addr.txt"])
    for link, target in layout.links.items():
        if (root / target).is_file():
            os.symlink(os.path.relpath(target, Path(link).parent), root / link)
    _write(root / "version.txt", f"sosreport: {layout.version}\n")
    return form


def archive(form: Form, dest: Path) -> Form:
    """`dest/<sosreport-…>.tar.xz`: the report as sos packs it, its folder at the top."""
    path = dest / f"{form.path.name}.tar.xz"
    with tarfile.open(path, "w:xz") as tar:
        tar.add(form.path, arcname=form.path.name)
    return form.moved(f"{form.name}.tar.xz", path)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _firewall(form: Form, layout: SosLayout, save: str) -> None:
    tool = backend_tool(save) if layout.same_backend else "iptables-nft"
    nft = layout.nft[1] if tool == "iptables-nft" else None
    outputs = firewall_outputs(save, tool, nft)
    files = {key: f"{layout.firewall_dir}/iptables_-t_{key}_-nvL" for key in outputs if key not in ("-vnxL", "nft")}
    files["-vnxL"] = f"{layout.firewall_dir}/iptables_-vnxL"
    for key, target in files.items():
        _write(form.path / target, outputs[key])
        form.files["iptables-save.txt"] = form.files.get("iptables-save.txt", ()) + (target,)
    for line, spots in _listing_places(save, outputs).items():
        form.lines[("iptables-save.txt", line)] = tuple(Place(files[key], there) for key, there in spots)
    if nft:
        _write(form.path / layout.nft[0], outputs["nft"])


def backend_tool(save: str) -> str:
    """The iptables that printed `save`: iptables-nft when its header says nf_tables."""
    first = next((line for line in save.splitlines() if line.startswith("# Generated by")), "")
    return "iptables-nft" if "(nf_tables)" in first else "iptables-legacy"


_RULE = re.compile(r"^(?:\[\d+:\d+\]\s+)?-A (\S+)")


def _listing_places(save: str, listings: dict[str, str]) -> dict[int, list[tuple[str, int]]]:
    """For each line of `save` that a listing shows: (listing key, line) pairs. A chain line is
    the listing's `Chain` header; a rule is its row, the rules keeping their order. The filter
    table is also listed by `iptables -vnxL`."""
    places: dict[int, list[tuple[str, int]]] = {}
    table, count = None, {}
    for number, line in enumerate(save.splitlines(), 1):
        if line.startswith("*"):
            table, count = line[1:].strip(), {}
            continue
        rule = _RULE.match(line)
        chain = rule.group(1) if rule else line[1:].split()[0] if line.startswith(":") else None
        if chain is None:
            continue
        if rule:
            count[chain] = count.get(chain, 0) + 1
        keys = [table, "-vnxL"] if table == "filter" else [table]
        places[number] = [(key, _listing_line(listings[key], chain, count.get(chain, 0) if rule else 0))
                          for key in keys]
    return places


def _listing_line(listing: str, chain: str, rule: int) -> int:
    lines = listing.splitlines()
    header = next(n for n, text in enumerate(lines, 1) if text.startswith(f"Chain {chain} ("))
    if rule == 0:
        return header
    row = header + 1 + rule
    assert row <= len(lines) and lines[row - 1].strip() and not lines[row - 1].startswith("Chain "), \
        f"rule {rule} of {chain} is not at line {row} of its listing"
    return row


@functools.cache
def firewall_outputs(save: str, tool: str, nft: str | None) -> dict[str, str]:
    """What sos collects of the firewall `save` describes, printed by `tool` after restoring
    `save` with its counters into a fresh network namespace: `<tool> -t <table> -nvL` per table
    (key: the table), `<tool> -vnxL` (key: "-vnxL") and, given its command, the nft ruleset
    (key: "nft"). Each with its stderr, as sos keeps it. Computed once per ruleset."""
    _require(tool, f"{tool}-restore", *(["nft"] if nft else []), probe=(tool, "-nL"))
    tables = [line[1:].strip() for line in save.splitlines() if line.startswith("*")]
    commands = {table: f"{tool} -t {table} -nvL" for table in tables}
    commands["-vnxL"] = f"{tool} -vnxL"
    if nft:
        commands["nft"] = nft
    with tempfile.TemporaryDirectory(prefix="netlint-listing-") as out:
        script = [f"{tool}-restore -c"]
        script += [f"{command} > {shlex.quote(os.path.join(out, key))} 2>&1" for key, command in commands.items()]
        run = subprocess.run(["unshare", "-n", "sh", "-e", "-c", "\n".join(script)], input=save, text=True,
                             capture_output=True, timeout=60, check=False)
        if run.returncode != 0:
            raise RuntimeError(f"{tool} could not restore and list the ruleset: {run.stderr.strip()}")
        return {key: Path(out, key).read_text() for key in commands}


# --- bridge ports as `bridge link` shows them ----------------------------------------------

_BRIDGE_ROW = re.compile(r"^(\S+)\t+\S+\t+(?:yes|no)\t*(\S*)\s*$")
_PORT_ROW = re.compile(r"^\t+(\S+)\s*$")
_LINK = re.compile(r"^\d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)> mtu (\d+)")
# Run by Python inside the namespace: a tap whose flags say it has a carrier is held open (a tap
# has a carrier while a process holds it, as qemu does); the bridge runs without STP, so a
# port with a carrier forwards at once.
_BRIDGE_SCRIPT = """
import fcntl, json, os, struct, subprocess, sys
held = []
def ip(*args):
    subprocess.run(["ip", *args], check=True)
for bridge, ports in json.load(sys.stdin):
    ip("link", "add", bridge, "type", "bridge")
    ip("link", "set", bridge, "up")
    for name, carrier, up, mtu in ports:
        if carrier:
            fd = os.open("/dev/net/tun", os.O_RDWR)
            fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", name.encode(), 0x1002))  # TUNSETIFF: TAP, NO_PI
            held.append(fd)
        else:
            ip("tuntap", "add", "dev", name, "mode", "tap")
        ip("link", "set", name, "mtu", str(mtu), "master", bridge)
        if up:
            ip("link", "set", name, "up")
sys.stdout.write(subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout)
"""


def _bridge_ports(form: Form, target: str, brctl: str, ip_addr: str) -> None:
    """sos 3.7+ has no `brctl show`: the ports it lists are in `bridge -s -s -d link show`. A
    port row of `brctl show` sits at its port's line there (a bridge's own name has none)."""
    output = bridge_link_output(brctl, ip_addr)
    _write(form.path / target, output)
    rows = {m.group(1): n for n, line in enumerate(output.splitlines(), 1) if (m := _LINK.match(line))}
    form.carry("brctl-show.txt", target,
               {line: rows[port] for _, ports in _brctl_bridges(brctl) for line, port in ports})


def _brctl_bridges(brctl: str) -> list[tuple[str, list[tuple[int, str]]]]:
    """Each bridge of `brctl show` with its ports' (line, name); a bridge's first port shares its row."""
    bridges: list[tuple[str, list[tuple[int, str]]]] = []
    for number, line in enumerate(brctl.splitlines()[1:], 2):
        if m := _BRIDGE_ROW.match(line):
            bridges.append((m.group(1), []))
            port = m.group(2)
        else:
            port = m.group(1) if (m := _PORT_ROW.match(line)) else ""
        if port:
            bridges[-1][1].append((number, port))
    return bridges


@functools.cache
def bridge_link_output(brctl: str, ip_addr: str) -> str:
    """`bridge -s -s -d link show` of the bridges and ports `brctl show` lists, each port with
    the MTU, UP flag and carrier `ip addr` gives it, printed by iproute2 in a fresh network
    namespace (the interface indexes are the namespace's own)."""
    _require("ip", "bridge")
    if not Path("/dev/net/tun").exists():
        raise NamespaceUnavailable("/dev/net/tun is missing (no taps)")
    links = {m.group(1): (m.group(2).split(","), int(m.group(3)))
             for line in ip_addr.splitlines() if (m := _LINK.match(line))}
    spec = [(bridge, [(port, "LOWER_UP" in links[port][0], "UP" in links[port][0], links[port][1])
                      for _, port in ports]) for bridge, ports in _brctl_bridges(brctl)]
    run = subprocess.run(["unshare", "-n", sys.executable, "-c", _BRIDGE_SCRIPT, "bridge", "-s", "-s", "-d",
                          "link", "show"], input=json.dumps(spec), text=True, capture_output=True, timeout=60,
                         check=False)
    if run.returncode != 0:
        raise RuntimeError(f"could not build the bridges in a namespace: {run.stderr.strip()}")
    return run.stdout


@functools.cache
def _require(*tools: str, probe: tuple[str, ...] = ("true",)) -> None:
    """Root, `unshare` and `tools`, and `probe` runs in a fresh network namespace; else why not."""
    if os.geteuid() != 0:
        raise NamespaceUnavailable("needs root (a network namespace to rebuild the host's outputs in)")
    for name in ("unshare", *tools):
        if shutil.which(name) is None:
            raise NamespaceUnavailable(f"{name} is not installed")
    run = subprocess.run(["unshare", "-n", *probe], capture_output=True, text=True, timeout=30, check=False)
    if run.returncode != 0:
        raise NamespaceUnavailable(f"`unshare -n {' '.join(probe)}` fails here: {run.stderr.strip()}")
