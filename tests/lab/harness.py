"""The kernel as netlint's oracle: build a scenario (tests/lab/FORMAT.md) from real network
namespaces, probe it with real ping and TCP echo conversations, collect the host's dump with
`netlint collect`, and trace every probe with netlint in-process.

Safety: every namespace is named `nl<pid><abc>-<n>-<logical>` (unique per run), veth pairs are
created from inside a scenario namespace straight into another one, so nothing ever touches the
root namespace. `Lab.close()` (run in a `finally`) kills every process inside the lab's
namespaces and deletes them; an `atexit` hook (also reached on SIGTERM) removes whatever this
run still owns, and namespaces of earlier runs whose process is gone are removed before the
first build. Namespaces of another live run, or named otherwise, are never touched.
"""

from __future__ import annotations

import atexit
import itertools
import os
import random
import re
import signal
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Interface, ip_address, ip_interface, ip_network
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PREFIX = f"nl{os.getpid()}{''.join(random.choices(string.ascii_lowercase, k=3))}-"
# Any run's namespaces: the pid of the run that made them, then three letters.
_OURS = re.compile(r"^nl(\d+)[a-z]{3}-\d+-[a-z0-9_-]+$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_IFNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")

ROLES = ("host", "guest", "router", "remote")
OUTCOMES = ("reachable", "unreachable")
SCENARIO_KEYS = {"description", "namespaces", "links", "bridges", "addresses", "routes", "down", "sysctls",
                 "iptables", "servers", "probes", "guest_dump"}
REQUIRED_KEYS = {"namespaces", "links", "addresses", "probes"}
PROBE_KEYS = {"from", "src", "dst", "proto", "dport", "expect", "in", "upstream_knows"}
ROUTE_KEYS = {"ns", "to", "via", "dev", "metric", "type"}

_TIMEOUT = 30  # seconds for one setup command
_SETTLE = 3.0  # seconds at most for bridge ports to forward and neighbours to resolve
_PING_WAIT = 1  # seconds ping waits for its reply
_TCP_TIMEOUT = 2  # seconds the TCP client waits to connect, and then for the echo
_BASELINE = ("net.ipv4.ip_forward=0", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")

# A TCP echo server: one line in, the same line out. "ready" once it listens.
ECHO_SERVER = r"""
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
print("ready", flush=True)
def echo(c):
    with c:
        c.settimeout(10)
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = c.recv(4096)
                if not chunk:
                    return
                data += chunk
            c.sendall(data)
        except OSError:
            pass
while True:
    conn, _ = s.accept()
    threading.Thread(target=echo, args=(conn,), daemon=True).start()
"""

# A TCP conversation: connect from src, send a line, read it back. A connect alone only proves
# the SYN and SYN-ACK passed; the echo proves the established direction too.
ECHO_CLIENT = r"""
import socket, sys
src, dst, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
line = ("netlint-lab %s -> %s:%d\n" % (src, dst, port)).encode()
try:
    s = socket.create_connection((dst, port), timeout=timeout, source_address=(src, 0))
except OSError as error:
    sys.exit("unreachable: connect: %s" % (error or type(error).__name__))
got = b""
try:
    s.sendall(line)
    while not got.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
except OSError as error:
    sys.exit("unreachable: connected, then %s" % (error or type(error).__name__))
if got != line:
    sys.exit("unreachable: connected, but the echo was %r" % got)
print("reachable: connected and echoed")
"""


class LabError(RuntimeError):
    pass


class ScenarioError(ValueError):
    pass


# ---- scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    index: int
    ns: str
    src: str
    dst: str
    proto: str
    dport: int | None = None
    expect: str | None = None
    ingress: str | None = None
    upstream_knows: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        port = f":{self.dport}" if self.dport else ""
        extra = f" --in {self.ingress}" if self.ingress else ""
        extra += "".join(f" --upstream-knows {n}" for n in self.upstream_knows)
        return f"{self.proto} {self.ns}:{self.src} -> {self.dst}{port}{extra}"

    @property
    def slug(self) -> str:
        port = f"-{self.dport}" if self.dport else ""
        return f"p{self.index}-{self.proto}-{self.src}-{self.dst}{port}"


@dataclass
class Scenario:
    name: str
    data: dict
    probes: list[Probe]

    @property
    def description(self) -> str:
        return str(self.data.get("description", ""))


def load_scenario(path: Path) -> Scenario:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return scenario_from_dict(path.stem, data)


def _endpoint(text, namespaces: dict, where: str) -> tuple[str, str]:
    ns, sep, ifname = str(text).partition(":")
    if not sep or ns not in namespaces or not _IFNAME.match(ifname):
        raise ScenarioError(f"{where}: {text!r} is not `ns:ifname` with a declared namespace")
    return ns, ifname


def scenario_from_dict(name: str, data) -> Scenario:
    """Check a scenario's shape (FORMAT.md) so that a typo is an error, not a silent no-op."""
    if not isinstance(data, dict):
        raise ScenarioError("a scenario is a mapping")
    unknown = set(data) - SCENARIO_KEYS
    missing = REQUIRED_KEYS - set(data)
    if unknown or missing:
        raise ScenarioError(f"unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    namespaces = data["namespaces"]
    if not isinstance(namespaces, dict) or not all(_NAME.match(str(n)) for n in namespaces):
        raise ScenarioError("namespaces: a mapping of lowercase names to roles")
    if any(role not in ROLES for role in namespaces.values()):
        raise ScenarioError(f"namespaces: roles are {', '.join(ROLES)}")
    if list(namespaces.values()).count("host") != 1:
        raise ScenarioError("namespaces: exactly one `host`")
    for pair in data["links"]:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ScenarioError(f"links: {pair!r} is not a pair")
        for end in pair:
            _endpoint(end, namespaces, "links")
    for bridge in data.get("bridges") or []:
        if set(bridge) != {"ns", "name", "ports"} or bridge["ns"] not in namespaces:
            raise ScenarioError(f"bridges: {bridge!r} needs ns, name, ports")
    for end, cidrs in data["addresses"].items():
        _endpoint(end, namespaces, "addresses")
        for cidr in cidrs:
            ip_interface(cidr)
    for route in data.get("routes") or []:
        if not set(route) <= ROUTE_KEYS or "to" not in route or route.get("ns") not in namespaces:
            raise ScenarioError(f"routes: {route!r} needs ns and to (optional via, dev, metric, type)")
    for end in data.get("down") or []:
        _endpoint(end, namespaces, "down")
    for ns in list(data.get("sysctls") or {}) + list(data.get("iptables") or {}):
        if ns not in namespaces:
            raise ScenarioError(f"sysctls/iptables: unknown namespace {ns!r}")
    for server in data.get("servers") or []:
        if len(server) != 3 or server[0] not in namespaces:
            raise ScenarioError(f"servers: {server!r} is not [ns, address, port]")
        ip_address(server[1])
    if "guest_dump" in data and namespaces.get(data["guest_dump"]) != "guest":
        raise ScenarioError(f"guest_dump: {data['guest_dump']!r} is not a namespace of role guest")
    probes = []
    for index, raw in enumerate(data["probes"]):
        if not isinstance(raw, dict) or not set(raw) <= PROBE_KEYS:
            raise ScenarioError(f"probe {index}: keys are {', '.join(sorted(PROBE_KEYS))}")
        if raw.get("from") not in namespaces or raw.get("proto") not in ("icmp", "tcp"):
            raise ScenarioError(f"probe {index}: needs from (a namespace) and proto icmp|tcp")
        if (raw["proto"] == "tcp") != (raw.get("dport") is not None):
            raise ScenarioError(f"probe {index}: a tcp probe needs dport, an icmp probe has none")
        if raw.get("expect") not in (None, *OUTCOMES):
            raise ScenarioError(f"probe {index}: expect is reachable or unreachable")
        ip_address(raw["src"])
        ip_address(raw["dst"])
        knows = tuple(str(ip_network(n)) for n in raw.get("upstream_knows") or ())
        probes.append(Probe(index, raw["from"], str(raw["src"]), str(raw["dst"]), raw["proto"],
                            int(raw["dport"]) if raw.get("dport") is not None else None, raw.get("expect"),
                            raw.get("in"), knows))
    return Scenario(name, data, probes)


# ---- results ------------------------------------------------------------------------------------


@dataclass
class Round:
    outcome: str  # reachable | unreachable
    detail: str


@dataclass
class ProbeResult:
    probe: Probe
    rounds: list[Round]
    verdict: str | None = None  # netlint's: reachable | unreachable | unknown | error
    story: str = ""

    @property
    def kernel(self) -> str | None:
        """The kernel's outcome, or None when the two rounds disagree (never scored)."""
        outcomes = {r.outcome for r in self.rounds}
        return outcomes.pop() if len(outcomes) == 1 else None


@dataclass
class Run:
    scenario: Scenario
    results: list[ProbeResult] = field(default_factory=list)


# ---- namespaces ---------------------------------------------------------------------------------


def _run(argv: list[str], stdin: str | None = None, timeout: float = _TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)


def _check(argv: list[str], stdin: str | None = None) -> str:
    done = _run(argv, stdin)
    if done.returncode != 0:
        shown = f"\n{stdin}" if stdin else ""
        raise LabError(f"`{' '.join(argv)}` failed ({done.returncode}): {done.stderr.strip()}{shown}")
    return done.stdout


def _list_namespaces() -> list[str]:
    out = _run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _destroy(ns: str) -> None:
    """Kill what runs inside `ns`, then delete it."""
    for pid in _run(["ip", "netns", "pids", ns]).stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    _run(["ip", "netns", "delete", ns])


def remove_stale() -> list[str]:
    """Delete namespaces a crashed earlier run left behind: ours by name, their run's pid gone."""
    removed = []
    for ns in _list_namespaces():
        m = _OURS.match(ns)
        if m and not ns.startswith(PREFIX) and not _alive(int(m.group(1))):
            _destroy(ns)
            removed.append(ns)
    return removed


def _remove_this_run() -> None:
    try:
        for ns in _list_namespaces():
            if ns.startswith(PREFIX):
                _destroy(ns)
    except (OSError, subprocess.SubprocessError):
        pass


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


_numbers = itertools.count(1)
_guarded = False


def _guard() -> None:
    """Before this run's first namespace: remove stale ones, and make sure ours go at exit
    (SIGTERM becomes SystemExit, so `finally` blocks and `atexit` run)."""
    global _guarded
    if _guarded:
        return
    _guarded = True
    remove_stale()
    atexit.register(_remove_this_run)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def missing_requirement() -> str | None:
    """Why lab namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth, bridges, iptables-restore)"
    for tool in ("ip", "bridge", "ping", "iptables-restore", "sysctl"):
        if _run(["sh", "-c", f"command -v {tool}"]).returncode != 0:
            return f"`{tool}` is not installed"
    lab = Lab({"probe": "host"})
    try:
        lab.add_namespaces()
        lab.check("probe", ["iptables-save"])
        if lab.run("probe", ["sysctl", "net.bridge.bridge-nf-call-iptables"]).returncode != 0:
            return "br_netfilter is not loaded (net.bridge.bridge-nf-call-iptables is absent; modprobe br_netfilter)"
    except (LabError, OSError, subprocess.SubprocessError) as error:
        return f"`ip netns` does not work here: {error}"
    finally:
        lab.close()
    return None


class Lab:
    """One scenario's namespaces, from creation to teardown."""

    def __init__(self, namespaces: dict[str, str]):
        self.roles = dict(namespaces)
        self.number = next(_numbers)
        self.created: list[str] = []
        self.servers: list[subprocess.Popen] = []

    def ns(self, logical: str) -> str:
        return f"{PREFIX}{self.number}-{logical}"

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, logical: str, argv: list[str], stdin: str | None = None,
            timeout: float = _TIMEOUT) -> subprocess.CompletedProcess:
        return _run(["ip", "netns", "exec", self.ns(logical), *argv], stdin, timeout)

    def check(self, logical: str, argv: list[str], stdin: str | None = None) -> str:
        return _check(["ip", "netns", "exec", self.ns(logical), *argv], stdin)

    def ip_batch(self, logical: str, lines: list[str]) -> None:
        if lines:
            _check(["ip", "-n", self.ns(logical), "-batch", "-"], "\n".join(lines) + "\n")

    def add_namespaces(self) -> None:
        _guard()
        for logical in self.roles:
            name = self.ns(logical)
            _check(["ip", "netns", "add", name])
            self.created.append(name)
            # The kernel's defaults, whatever the root namespace was given at boot (new
            # namespaces copy its IPv4 `all`/`default` settings).
            self.check(logical, ["sysctl", "-q", "-w", *_BASELINE])
            self.ip_batch(logical, ["link set lo up"])

    def close(self) -> None:
        for server in self.servers:
            server.kill()
        for server in self.servers:
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.servers.clear()
        for name in reversed(self.created):
            _destroy(name)
        self.created.clear()

    # ---- build ----------------------------------------------------------------------------

    def build(self, data: dict) -> None:
        self.add_namespaces()
        batches: dict[str, list[str]] = {ns: [] for ns in self.roles}
        ups: dict[str, list[str]] = {ns: [] for ns in self.roles}
        for left, right in data["links"]:
            (lns, lif), (rns, rif) = (str(left).split(":", 1), str(right).split(":", 1))
            batches[lns].append(f"link add {lif} type veth peer name {rif} netns {self.ns(rns)}")
            ups[lns].append(lif)
            ups[rns].append(rif)
        for ns, lines in batches.items():
            self.ip_batch(ns, lines)
        batches = {ns: [] for ns in self.roles}
        for bridge in data.get("bridges") or []:
            ns, name = bridge["ns"], bridge["name"]
            batches[ns].append(f"link add {name} type bridge stp_state 0 forward_delay 0")
            batches[ns].extend(f"link set {port} master {name}" for port in bridge["ports"])
            ups[ns].append(name)
        for end, cidrs in data["addresses"].items():
            ns, ifname = str(end).split(":", 1)
            batches[ns].extend(f"addr add {cidr} dev {ifname}" for cidr in cidrs)
        for ns, names in ups.items():
            batches[ns].extend(f"link set {name} up" for name in names)
        for ns, lines in batches.items():
            self.ip_batch(ns, lines)
        batches = {ns: [] for ns in self.roles}
        for route in data.get("routes") or []:
            argv = ["route", "add", *([route["type"]] if route.get("type") else []), str(route["to"])]
            if route.get("via"):
                argv += ["via", str(route["via"])]
            if route.get("dev"):
                argv += ["dev", str(route["dev"])]
            if route.get("metric") is not None:
                argv += ["metric", str(route["metric"])]
            batches[route["ns"]].append(" ".join(argv))
        for ns, lines in batches.items():
            self.ip_batch(ns, lines)
        self.settle(data)
        batches = {ns: [] for ns in self.roles}
        for end in data.get("down") or []:
            ns, ifname = str(end).split(":", 1)
            batches[ns].append(f"link set {ifname} down")
        for ns, lines in batches.items():
            self.ip_batch(ns, lines)
        sysctls = data.get("sysctls") or {}
        for ns, role in self.roles.items():
            settings = [f"{k}={v}" for k, v in (sysctls.get(ns) or {}).items()]
            if role == "router":
                settings.insert(0, "net.ipv4.ip_forward=1")
            if settings:
                self.check(ns, ["sysctl", "-q", "-w", *settings])
        for ns, text in (data.get("iptables") or {}).items():
            self.check(ns, ["iptables-restore"], text)
        for ns, address, port in data.get("servers") or []:
            self.serve(ns, str(address), int(port))

    def settle(self, data: dict) -> None:
        """Bridge ports forwarding (STP off: at once), then one ping to every neighbour so that
        ARP is resolved before the probes (and before any firewall rule could refuse it)."""
        deadline = time.monotonic() + _SETTLE
        for bridge in data.get("bridges") or []:
            while time.monotonic() < deadline:
                out = self.run(bridge["ns"], ["bridge", "link", "show"]).stdout
                states = [line for line in out.splitlines() if f"master {bridge['name']}" in line]
                carrying = [line for line in states if "LOWER_UP" in line]
                if all("state forwarding" in line for line in carrying):
                    break
                time.sleep(0.05)
        addresses = [(str(end).split(":", 1)[0], ip_interface(cidr)) for end, cidrs in data["addresses"].items()
                     for cidr in cidrs]
        pairs = [(ns, a, b) for i, (ns, a) in enumerate(addresses) for other, b in addresses[i + 1:]
                 if other != ns and isinstance(a, IPv4Interface) and b.ip in a.network and a.ip in b.network]
        wait = max(1, int(deadline - time.monotonic()))
        pings = [subprocess.Popen(["ip", "netns", "exec", self.ns(ns), "ping", "-n", "-q", "-c", "1", "-W", str(wait),
                                   "-I", str(a.ip), str(b.ip)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for ns, a, b in pairs]
        for ping in pings:
            try:
                ping.wait(timeout=_SETTLE + 2)
            except subprocess.TimeoutExpired:
                ping.kill()
                ping.wait()

    def serve(self, logical: str, address: str, port: int) -> None:
        server = subprocess.Popen(["ip", "netns", "exec", self.ns(logical), sys.executable, "-c", ECHO_SERVER,
                                   address, str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.servers.append(server)
        ready = server.stdout.readline().strip()
        if ready != "ready":
            server.kill()
            raise LabError(f"echo server {logical} {address}:{port} did not start: {server.stderr.read().strip()}")

    # ---- probes ---------------------------------------------------------------------------

    def _probe_argv(self, probe: Probe) -> list[str]:
        prefix = ["ip", "netns", "exec", self.ns(probe.ns)]
        if probe.proto == "icmp":
            return [*prefix, "ping", "-n", "-c", "1", "-W", str(_PING_WAIT), "-I", probe.src, probe.dst]
        return [*prefix, sys.executable, "-c", ECHO_CLIENT, probe.src, probe.dst, str(probe.dport),
                str(_TCP_TIMEOUT)]

    def probe_round(self, probes: list[Probe]) -> list[Round]:
        """Every probe once, all at the same time (each its own ping id or TCP port)."""
        started = [subprocess.Popen(self._probe_argv(p), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                   for p in probes]
        rounds = []
        for probe, proc in zip(probes, started):
            try:
                out, _ = proc.communicate(timeout=3 * _TCP_TIMEOUT + 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise LabError(f"probe {probe.label} hung")
            lines = [line.strip() for line in out.splitlines() if line.strip()]
            if probe.proto == "icmp":  # the reply or ICMP error, and the loss summary
                lines = [line for line in lines if "bytes from" in line or "icmp_seq" in line
                         or "packet loss" in line] or lines
            rounds.append(Round("reachable" if proc.returncode == 0 else "unreachable", "; ".join(lines)))
        return rounds

    def collect(self, out_dir: Path) -> None:
        done = subprocess.run(["ip", "netns", "exec", self.ns(self.host), sys.executable, "-m", "netlint.cli",
                               "collect", "-o", str(out_dir)], cwd=REPO, capture_output=True, text=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            raise LabError(f"netlint collect failed ({done.returncode}): {done.stderr.strip()}")

    @property
    def host(self) -> str:
        return next(ns for ns, role in self.roles.items() if role == "host")


# ---- one scenario, end to end -------------------------------------------------------------------


def trace_probe(host, probe: Probe) -> tuple[str, str]:
    """netlint's verdict for `probe` and its story (`error` with the traceback if it crashed)."""
    import traceback

    from netlint.model.trace import Flow
    from netlint.report.trace_output import render_text
    from netlint.trace import trace

    flow = Flow(ip_address(probe.src), ip_address(probe.dst), probe.proto, None, probe.dport)
    try:
        result = trace(host, flow, upstream_knows=[ip_network(n) for n in probe.upstream_knows],
                       ingress=probe.ingress)
    except Exception:  # a crash is a disagreement to report, with its traceback
        return "error", traceback.format_exc()
    return result.verdict.value, render_text(result)


def run_scenario(scenario: Scenario) -> Run:
    """Build, probe twice, collect, tear down; then trace every probe with netlint."""
    from netlint.host import load_host

    run = Run(scenario)
    with tempfile.TemporaryDirectory(prefix="netlint-lab-") as tmp:
        dump = Path(tmp) / "dump"
        with Lab(scenario.data["namespaces"]) as lab:
            lab.build(scenario.data)
            first = lab.probe_round(scenario.probes)
            second = lab.probe_round(scenario.probes)
            run.results = [ProbeResult(p, [a, b]) for p, a, b in zip(scenario.probes, first, second)]
            lab.collect(dump)
            if "guest_dump" in scenario.data:
                (dump / "guest").mkdir(exist_ok=True)
                (dump / "guest" / "ip-route.txt").write_text(lab.check(scenario.data["guest_dump"], ["ip", "route"]))
        host = load_host(str(dump))
        for result in run.results:
            result.verdict, result.story = trace_probe(host, result.probe)
    return run
