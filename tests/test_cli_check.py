"""`netlint check` as CI and people run it: the seed host with forwarding off and on, exit
codes, formats, selection, configuration, many dumps and jobs."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

from tests.conftest import FIXTURES
from tests.test_cli import EXAMPLE, netlint

DUMPS = FIXTURES / "dumps"
FORWARDING_ON = DUMPS / "seed-forwarding-on"


def _line_of(path, prefix: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(prefix))


def check_json(*args: str, cwd=None) -> tuple[int, dict]:
    run = netlint("check", *args, "--format", "json", cwd=cwd)
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


def test_seed_host_forwarding_off_is_an_error_at_the_ip_forward_line_naming_the_blocked_paths():
    code, out = check_json(str(EXAMPLE))
    assert code == 1
    (dump,) = out["dumps"]
    errors = [f for f in dump["findings"] if f["severity"] == "error"]
    off = [f for f in errors if f["rule"] == "fwd-ipv4-forwarding-off"]
    assert len(off) == 1, errors
    finding = off[0]
    line = _line_of(EXAMPLE / "sysctl.txt", "net.ipv4.ip_forward = 0")
    assert finding["locations"][0]["file"] == "sysctl.txt" and finding["locations"][0]["line"] == line
    assert "net.ipv4.ip_forward = 0" in finding["message"]
    # the blocked guest paths: the internet behind the default route and 172.230.0.0/16 behind eno2
    paths = " ".join(finding["paths"])
    assert "192.168.122.2 → 8.8.8.8" in paths and "192.168.122.2 → 172.230.0.1" in paths
    assert finding["trace"]["forward"]["disposition"] == "FORWARDING_DISABLED"
    assert out["summary"]["error"] >= 1


def test_seed_host_with_forwarding_on_is_clean():
    code, out = check_json(str(FORWARDING_ON))
    assert code == 0
    assert out["summary"]["error"] == 0
    assert [f for f in out["dumps"][0]["findings"] if f["severity"] != "info"] == []


def test_text_report_quotes_the_line_and_gives_the_fix():
    run = netlint("check", str(EXAMPLE))
    assert run.returncode == 1
    assert "\x1b[" not in run.stdout  # not a TTY: no colour
    assert "sysctl.txt:" in run.stdout and "net.ipv4.ip_forward = 0" in run.stdout
    assert "fix:" in run.stdout


def test_fail_on_select_and_ignore():
    assert netlint("check", str(EXAMPLE), "--ignore", "fwd-ipv4-forwarding-off,fwd-return-iface-forwarding-off",
                   "--select", "forwarding").returncode == 0
    code, out = check_json(str(EXAMPLE), "--select", "evidence")
    assert code == 0 and all(f["rule"].startswith(("evidence", "input", "path")) for f in out["dumps"][0]["findings"])
    assert netlint("check", str(DUMPS / "seed-no-sysctl"), "--select", "evidence").returncode == 0
    assert netlint("check", str(DUMPS / "seed-no-sysctl"), "--select", "evidence", "--fail-on",
                   "info").returncode == 1
    bad = netlint("check", str(EXAMPLE), "--select", "no-such-rule")
    assert bad.returncode == 2 and bad.stderr.startswith("netlint: error: --select: unknown rule")


def test_an_unreadable_dump_exits_2_even_with_findings(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("")
    run = netlint("check", str(EXAMPLE), str(empty), "--format", "json")
    assert run.returncode == 2
    out = json.loads(run.stdout)
    assert [d["path"] for d in out["dumps"]] == [str(EXAMPLE), str(empty)]
    assert out["dumps"][1]["error"] and "netlint: error:" in run.stderr
    missing = netlint("check", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_configuration_suppresses_with_a_reason(tmp_path):
    (tmp_path / "netlint.toml").write_text(
        '[[suppress]]\nrule = "fwd-ipv4-forwarding-off"\nreason = "lab host, forwarding off on purpose"\n'
        '[[suppress]]\nrule = "fwd-return-iface-forwarding-off"\nreason = "same lab host"\n')
    code, out = check_json(str(EXAMPLE), cwd=tmp_path)
    assert code == 0, out["dumps"][0]["findings"]
    reasons = [s["reason"] for s in out["dumps"][0]["suppressed"]]
    assert "lab host, forwarding off on purpose" in reasons
    (tmp_path / "netlint.toml").write_text('[[suppress]]\nrule = "fwd-ipv4-forwarding-off"\n')
    run = netlint("check", str(EXAMPLE), cwd=tmp_path)
    assert run.returncode == 2 and "reason" in run.stderr and "netlint.toml" in run.stderr


def test_many_dumps_with_jobs_give_the_same_report_as_one_by_one(tmp_path):
    paths = []
    for n, source in enumerate([EXAMPLE, FORWARDING_ON, DUMPS / "seed-no-sysctl", DUMPS / "masquerade-missing"]):
        target = tmp_path / f"host{n}"
        shutil.copytree(source, target)
        paths.append(str(target))
    serial = netlint("check", *paths, "--format", "json")
    parallel = netlint("check", *paths, "--format", "json", "--jobs", "2")
    assert serial.returncode == parallel.returncode == 1
    assert json.loads(serial.stdout) == json.loads(parallel.stdout)
    summary = netlint("check", *paths, "--jobs", "2").stdout.splitlines()[-len(paths):]
    for path, line in zip(paths, summary):
        assert path in line, summary


def test_output_formats_write_to_a_file(tmp_path):
    out = tmp_path / "report.xml"
    run = netlint("check", str(EXAMPLE), str(FORWARDING_ON), "--format", "junit", "-o", str(out))
    assert run.returncode == 1 and run.stdout == ""
    suites = ET.parse(out).getroot()
    names = {s.get("name") for s in suites.iter("testsuite")}
    assert names == {str(EXAMPLE), str(FORWARDING_ON)}
    failed = {c.get("name") for s in suites.iter("testsuite") if s.get("name") == str(EXAMPLE)
              for c in s.iter("testcase") if c.find("failure") is not None}
    assert "fwd-ipv4-forwarding-off" in failed
    github = netlint("check", str(EXAMPLE), "--format", "github").stdout
    line = _line_of(EXAMPLE / "sysctl.txt", "net.ipv4.ip_forward = 0")
    assert f"::error file={EXAMPLE}/sysctl.txt,line={line},title=fwd-ipv4-forwarding-off" in github
    sarif = json.loads(netlint("check", str(EXAMPLE), "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    hit = next(r for r in results if r["ruleId"] == "fwd-ipv4-forwarding-off")
    location = hit["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("centos7-forwarding-off/sysctl.txt")
    assert location["region"]["startLine"] == line


def test_a_ticket_without_sysctl_says_unknown_and_what_to_collect():
    """The seed ticket as customers paste it: no sysctl output. Not clean, not broken: unknown."""
    code, out = check_json(str(DUMPS / "seed-no-sysctl"))
    assert code == 0  # nothing at error level: netlint does not guess
    (dump,) = out["dumps"]
    evidence = next(f for f in dump["findings"] if f["rule"] == "evidence-sysctl-missing")
    assert "sysctl -a" in evidence["fix"] and evidence["locations"][0]["file"] is None
    outcomes = {r["rule"]: r["outcome"] for r in dump["results"]}
    assert outcomes["fwd-ipv4-forwarding-off"] == "unknown"
    assert outcomes["fwd-return-iface-forwarding-off"] == "unknown"
    junit = ET.fromstring(netlint("check", str(DUMPS / "seed-no-sysctl"), "--format", "junit").stdout)
    case = next(c for c in junit.iter("testcase") if c.get("name") == "fwd-ipv4-forwarding-off")
    assert case.find("skipped") is not None


def _shared_example(name: str):
    from tests.conftest import require_corpus

    path = require_corpus().parent / "examples" / name
    assert path.is_file(), path
    return path


def test_the_seed_ticket_as_pasted_reads_its_outputs_and_says_what_is_unknown():
    """The blog post the project started from: partial ip addr, brctl show, the guest's route
    print and iptables fragments between Chinese prose. No sysctl: forwarding is unknown."""
    ticket = _shared_example("centos7-kvm-forwarding-ticket.md")
    code, out = check_json(str(ticket))
    assert code == 0
    (dump,) = out["dumps"]
    kinds = {(i["kind"], i["role"]) for i in dump["inputs"] if i["kind"] != "prose"}
    assert kinds == {("ip-addr", "host"), ("brctl-show", "host"), ("route-print", "guest"),
                     ("iptables-save", "host")}
    assert all(i["status"] == "parsed" for i in dump["inputs"])
    rules = {f["rule"]: f for f in dump["findings"]}
    layout = rules["evidence-libvirt-xml-missing"]["message"]
    assert "libvirt's nat network" in layout and "libvirt < 5.1" in layout
    assert "sysctl -a" in rules["evidence-sysctl-missing"]["fix"]
    outcomes = {r["rule"]: r["outcome"] for r in dump["results"]}
    assert outcomes["fwd-ipv4-forwarding-off"] == "unknown"


def test_standard_input_is_a_paste_and_its_size_is_capped():
    text = "\n".join((EXAMPLE / name).read_text() for name in ("sysctl.txt", "ip-addr.txt", "route-n.txt",
                                                                         "iptables-save.txt"))
    run = netlint("check", "-", "--format", "json", stdin=text)
    assert run.returncode == 1, run.stderr
    (dump,) = json.loads(run.stdout)["dumps"]
    off = next(f for f in dump["findings"] if f["rule"] == "fwd-ipv4-forwarding-off")
    assert off["locations"][0]["file"] == "-"
    big = netlint("check", "-", "--max-input-mb", "1", stdin="x" * (1 << 20) + "y")
    assert big.returncode == 2 and big.stderr.count("\n") == 1 and "--max-input-mb" in big.stderr
