"""Trace time on a host with a big ruleset: the seed host of examples/ with a generated
kube-proxy-like iptables-save of N rules (libvirt's and Docker's rules included), in process.

Run by hand: `python bench/trace.py [--rules 100000] [--repeat 5]`. Reports the time of the
parse (once) and, for each flow, the best of N traces, against the 0.5 s target per trace.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import sys
import tempfile
import time
from ipaddress import ip_address
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "centos7-forwarding-off"
TARGET_S = 0.5

# And a flow to a Kubernetes service of the generated rules (DNAT through KUBE-SVC/KUBE-SEP).
FLOWS = [("192.168.122.2", "8.8.8.8", "icmp", None), ("192.168.122.2", "172.230.1.1", "tcp", 443),
         ("192.168.122.2", "192.168.50.201", "icmp", None), ("203.0.113.7", "192.168.50.201", "tcp", 22)]


def _generator():
    spec = importlib.util.spec_from_file_location("bench_iptables", REPO / "bench" / "iptables.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.generate


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from netlint.host import load_host
    from netlint.model.trace import Flow
    from netlint.trace import trace

    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "host"
        shutil.copytree(SEED, dump)
        rules_text = _generator()(args.rules, args.seed)
        (dump / "iptables-save.txt").write_text(rules_text)
        sysctl = dump / "sysctl.txt"
        sysctl.write_text(sysctl.read_text().replace("forwarding = 0", "forwarding = 1")
                          .replace("ip_forward = 0", "ip_forward = 1"))
        start = time.perf_counter()
        host = load_host(str(dump))
        loaded = time.perf_counter() - start
    rules = sum(1 for _ in host.firewall.rules())
    service = re.search(r"-A KUBE-SERVICES -d ([\d.]+)/32 -p (tcp|udp) .*--dport (\d+) -j KUBE-SVC-", rules_text)
    flows = FLOWS + ([("192.168.122.2", service.group(1), service.group(2), int(service.group(3)))] if service else [])
    print(f"host: the seed host with {rules} iptables rules; load (read, parse, merge) {loaded:.2f} s")
    print(f"{'flow':<44} {'verdict':<12} {'best s':>8} {'target':>7}")
    worst = 0.0
    for src, dst, proto, dport in flows:
        flow = Flow(ip_address(src), ip_address(dst), proto, None, dport)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = trace(host, flow)
            best = min(best, time.perf_counter() - start)
        worst = max(worst, best)
        name = f"{proto} {src} -> {dst}" + (f":{dport}" if dport else "")
        print(f"{name:<44} {result.verdict.value:<12} {best:>8.3f} {'PASS' if best < TARGET_S else 'FAIL':>7}")
    print(f"slowest trace {worst:.3f} s: {'PASS' if worst < TARGET_S else 'FAIL'} (target {TARGET_S} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
