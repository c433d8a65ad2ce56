"""`netlint trace` and `netlint graph` as a user runs them: the seed host of the project, the
JSON contract of design.md §5, the hop-by-hop story, exit codes and errors."""

from __future__ import annotations

import json
import shutil

from tests.conftest import FIXTURES
from tests.test_cli import EXAMPLE, netlint

GUEST = "192.168.122.2"


def trace_json(*args: str) -> tuple[int, dict]:
    run = netlint("trace", *args, "--format", "json")
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


def test_seed_host_reaches_its_own_addresses_but_nothing_beyond():
    for dst in ("192.168.50.201", "172.28.20.231"):
        code, out = trace_json(str(EXAMPLE), "--src", GUEST, "--dst", dst)
        assert (code, out["verdict"], out["forward"]["disposition"]) == (0, "reachable", "DELIVERED")
        assert out["reply"]["disposition"] == "DELIVERED"
    for dst in ("172.230.1.1", "8.8.8.8"):
        code, out = trace_json(str(EXAMPLE), "--src", GUEST, "--dst", dst)
        assert (code, out["verdict"], out["forward"]["disposition"]) == (1, "unreachable", "FORWARDING_DISABLED")
        decisive = out["forward"]["steps"][out["forward"]["decisive"]]
        assert decisive["origin"] == {"file": "sysctl.txt", "line": 14}
        assert decisive["stage"] == "sysctl" and "net.ipv4.conf.virbr0.forwarding = 0" in decisive["detail"]
        assert out["reply"] is None
        assert "sysctl.txt:14" in out["explanation"]


def test_json_contract_fields(tmp_path):
    _, out = trace_json(str(EXAMPLE), "--src", GUEST, "--dst", "192.168.50.201", "--proto", "tcp", "--dport", "22")
    assert set(out) == {"flow", "verdict", "forward", "reply", "established", "explanation", "assumptions"}
    assert out["flow"] == {"src": GUEST, "dst": "192.168.50.201", "proto": "tcp", "sport": None, "dport": 22}
    for leg in ("forward", "reply", "established"):
        assert set(out[leg]) == {"disposition", "decisive", "steps"}
        for step in out[leg]["steps"]:
            assert set(step) >= {"node", "stage", "table", "chain", "action", "detail", "origin"}
            assert step["node"] in ("guest", "host", "upstream")
            assert step["stage"] in ("guest", "link", "bridge", "netfilter", "routing", "sysctl", "nat", "conntrack",
                                     "local", "upstream")
    # The example dump holds the guest's `route print`: its gateway is known, not assumed.
    assert not any("routing table of the guest" in a for a in out["assumptions"])
    icmp = trace_json(str(EXAMPLE), "--src", GUEST, "--dst", "192.168.50.201")[1]
    assert "established" not in icmp


def test_missing_sysctl_is_unknown_and_says_what_to_collect(tmp_path):
    dump = tmp_path / "host"
    shutil.copytree(EXAMPLE, dump)
    (dump / "sysctl.txt").unlink()
    code, out = trace_json(str(dump), "--src", GUEST, "--dst", "8.8.8.8")
    assert (code, out["verdict"], out["forward"]["disposition"]) == (1, "unknown", "UNKNOWN")
    decisive = out["forward"]["steps"][out["forward"]["decisive"]]
    assert decisive["origin"] is None and "collect `sysctl -a`" in decisive["detail"]


def test_text_story_marks_and_quotes_the_decisive_step():
    run = netlint("trace", str(EXAMPLE), "--src", GUEST, "--dst", "8.8.8.8")
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[0] == f"icmp {GUEST} -> 8.8.8.8: UNREACHABLE"
    marked = [i for i, line in enumerate(lines) if line.lstrip().startswith(">>")]
    assert len(marked) == 1 and "net.ipv4.conf.virbr0.forwarding = 0" in lines[marked[0]]
    assert lines[marked[0] + 1].strip() == "at sysctl.txt:14"
    assert "enable forwarding" in run.stdout


def test_upstream_knows_and_ingress_flags():
    masq = FIXTURES / "dumps" / "masquerade-missing"
    assert trace_json(str(masq), "--src", GUEST, "--dst", "8.8.8.8")[1]["reply"]["disposition"] == "NO_RETURN_ROUTE"
    code, out = trace_json(str(masq), "--src", GUEST, "--dst", "8.8.8.8", "--upstream-knows", "192.168.122.0/24")
    assert (code, out["verdict"]) == (0, "reachable")
    assert any("--upstream-knows" in a for a in out["assumptions"])
    rp = FIXTURES / "dumps" / "rp-filter-asymmetric"
    _, out = trace_json(str(rp), "--src", "10.8.0.5", "--dst", "172.28.20.231", "--proto", "tcp", "--dport", "22",
                        "--in", "eno2")
    assert out["forward"]["disposition"] == "RP_FILTERED"


def test_trace_errors_are_one_line_with_exit_2(tmp_path):
    for args, words in [(["--src", "nonsense", "--dst", "8.8.8.8"], "nonsense"),
                        (["--src", GUEST, "--dst", "fe80::1"], "IPv4"),
                        (["--src", GUEST, "--dst", "8.8.8.8", "--dport", "22"], "--proto"),
                        (["--src", GUEST, "--dst", "8.8.8.8", "--upstream-knows", "x"], "CIDR")]:
        run = netlint("trace", str(EXAMPLE), *args)
        assert run.returncode == 2 and run.stderr.startswith("netlint: error: ") and words in run.stderr
        assert len(run.stderr.splitlines()) == 1
    missing = netlint("trace", str(tmp_path / "none"), "--src", GUEST, "--dst", "8.8.8.8")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_graph_formats():
    dot = netlint("graph", str(EXAMPLE))
    assert dot.returncode == 0 and dot.stdout.startswith("digraph")
    mermaid = netlint("graph", str(EXAMPLE), "--format", "mermaid")
    assert mermaid.stdout.startswith("flowchart LR")
    data = json.loads(netlint("graph", str(EXAMPLE), "--format", "json").stdout)
    ids = {n["id"] for n in data["nodes"]}
    assert {"guest:192.168.122.0/24", "virbr0", "vnet0", "host", "eno1", "eno2", "gw:192.168.50.1",
            "outside"} <= ids


def test_in_names_the_guests_tap(tmp_path):
    dump = tmp_path / "host"
    shutil.copytree(EXAMPLE, dump)
    with open(dump / "ip-addr.txt", "a") as f:
        f.write("10: vnet1: <BROADCAST,MULTICAST> mtu 1500 qdisc pfifo_fast master virbr0 state DOWN group default "
                "qlen 1000\n    link/ether fe:54:00:11:22:33 brd ff:ff:ff:ff:ff:ff\n")
    with open(dump / "brctl-show.txt", "a") as f:
        f.write("\t\t\t\t\t\t\tvnet1\n")
    _, any_tap = trace_json(str(dump), "--src", GUEST, "--dst", "192.168.50.201")
    assert any_tap["verdict"] == "reachable"
    assert any("vnet0, vnet1" in a and "vnet0 is taken" in a for a in any_tap["assumptions"])
    code, named = trace_json(str(dump), "--src", GUEST, "--dst", "192.168.50.201", "--in", "vnet1")
    assert (code, named["forward"]["disposition"]) == (1, "LINK_DOWN")
    decisive = named["forward"]["steps"][named["forward"]["decisive"]]
    assert decisive["origin"] == {"file": "ip-addr.txt", "line": 29} and "vnet1" in decisive["detail"]


def test_rp_filter_missing_matters_only_for_an_asymmetric_flow(tmp_path):
    dump = tmp_path / "host"
    shutil.copytree(FIXTURES / "dumps" / "rp-filter-asymmetric", dump)
    sysctl = dump / "sysctl.txt"
    sysctl.write_text("".join(line for line in sysctl.read_text().splitlines(keepends=True) if "rp_filter" not in line))
    _, asymmetric = trace_json(str(dump), "--src", "10.8.0.5", "--dst", "172.28.20.231", "--proto", "tcp",
                               "--dport", "22", "--in", "eno2")
    assert (asymmetric["verdict"], asymmetric["forward"]["disposition"]) == ("unknown", "UNKNOWN")
    decisive = asymmetric["forward"]["steps"][asymmetric["forward"]["decisive"]]
    assert "rp_filter of eno2 is not in the dump" in decisive["detail"]
    _, symmetric = trace_json(str(dump), "--src", GUEST, "--dst", "8.8.8.8")
    assert symmetric["verdict"] == "reachable"
