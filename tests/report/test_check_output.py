"""The renderers of `netlint check`, over reports built from real scenario dumps: findings cite
the origins the parsers gave the facts, quote the dump's real lines, and carry a real trace."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest

from netlint import __version__
from netlint.host import load_host
from netlint.model import Origin, Severity, Status
from netlint.model.finding import (CheckReport, DumpReport, Finding, Location, Outcome, RuleDoc, RuleResult,
                                   Suppressed)
from netlint.model.trace import Flow
from netlint.report.check_json import check_json, render_json
from netlint.report.check_text import render_text, use_color
from netlint.report.github import render_github
from netlint.report.junit import render_junit
from netlint.report.parse_output import piece_json
from netlint.report.sarif import artifact_path, render_sarif, sarif_json
from netlint.report.trace_output import trace_json
from netlint.trace import trace
from tests.conftest import FIXTURES, IN_CI, REPO

DUMPS = FIXTURES / "dumps"
REFERENCE = REPO.parent / "shared" / "reference"
GUEST, OUTSIDE = ip_address("192.168.122.2"), ip_address("8.8.8.8")
SGR = re.compile(r"\x1b\[[0-9;]*m")

RULES = [
    RuleDoc("forwarding-disabled", "Forwarding is off for guest traffic", Severity.ERROR, "forwarding", "host",
            "The kernel forwards a packet only when its ingress interface forwards.",
            "sysctl -w net.ipv4.ip_forward=1"),
    RuleDoc("rp-filter-strict", "Strict reverse-path filter on a bridge", Severity.WARNING, "routing", "interface",
            "Strict rp_filter drops replies that come back by another route.", "set rp_filter to 2 (loose)"),
    RuleDoc("bridge-netfilter-unknown", "Whether bridged traffic meets iptables is unknown", Severity.INFO,
            "evidence", "host", "Without the net.bridge keys br_netfilter is not loaded.", "collect lsmod"),
    RuleDoc("uplink-forwarding-off", "Forwarding is off on an uplink", Severity.WARNING, "forwarding", "interface",
            "Replies leave by the uplink.", "enable forwarding on the uplink"),
    RuleDoc("libvirt-rejects-inbound", "libvirt rejects new connections into a NAT network", Severity.INFO,
            "firewall", "guest-network", "libvirt's NAT network admits only replies from outside.",
            "use a routed network or a port forward"),
    RuleDoc("masquerade-missing", "No MASQUERADE for a NAT network", Severity.ERROR, "nat", "guest-network",
            "Guests' private addresses must be translated.", "restart the libvirt network"),
    RuleDoc("guest-gateway", "The guest's gateway is not the host", Severity.ERROR, "routing", "guest-network",
            "A guest must route through its bridge's address.", "fix the guest's default route"),
]


def require_reference() -> Path:
    """The SARIF schema beside the checkout; skips where it is absent, fails in CI."""
    if not (REFERENCE / "sarif-schema-2.1.0.json").is_file():
        if IN_CI:
            pytest.fail(f"CI=true but {REFERENCE} is missing")
        pytest.skip(f"{REFERENCE} is absent (it is laid beside the checkout in this project's CI)")
    return REFERENCE


def _at(dump: str, origin: Origin) -> Location:
    """A location quoting the real line the origin names (read where the SARIF URI says)."""
    lines = Path(artifact_path(dump, origin.file)).read_text().split("\n")
    return Location(origin, lines[origin.line - 1])


def _forwarding_off(dump: str) -> DumpReport:
    """What the rules would say about the forwarding-off host, built from its facts' origins."""
    host = load_host(dump)
    virbr0 = host.sysctl("net.ipv4.conf.virbr0.forwarding")
    switch = host.sysctl("net.ipv4.ip_forward")
    strict = host.sysctl("net.ipv4.conf.virbr0.rp_filter")
    uplink = host.sysctl("net.ipv4.conf.eno2.forwarding")
    walk = trace(host, Flow(GUEST, OUTSIDE))
    error = Finding("forwarding-disabled", Severity.ERROR, RULES[0].title, "forwarding",
                    f"{virbr0.key} = {virbr0.value}: packets from guests on virbr0 are not forwarded", RULES[0].fix,
                    "virbr0", [_at(dump, virbr0.origin), _at(dump, switch.origin)],
                    [f"icmp {GUEST} -> 8.8.8.{n}: FORWARDING_DISABLED" for n in range(8)], walk)
    warning = Finding("rp-filter-strict", Severity.WARNING, RULES[1].title, "routing",
                      f"{strict.key} = {strict.value}", RULES[1].fix, "virbr0", [_at(dump, strict.origin)])
    info = Finding("bridge-netfilter-unknown", Severity.INFO, RULES[2].title, "evidence",
                   "no net.bridge.bridge-nf-call-* keys in the sysctl output", RULES[2].fix, "host",
                   [Location(Origin(virbr0.origin.file))])
    quiet = Finding("uplink-forwarding-off", Severity.WARNING, RULES[3].title, "forwarding",
                    f"{uplink.key} = {uplink.value}", RULES[3].fix, "eno2", [_at(dump, uplink.origin)])
    results = [RuleResult("forwarding-disabled", Outcome.FAILED), RuleResult("rp-filter-strict", Outcome.FAILED),
               RuleResult("bridge-netfilter-unknown", Outcome.FAILED),
               RuleResult("uplink-forwarding-off", Outcome.SUPPRESSED),
               RuleResult("masquerade-missing", Outcome.PASSED),
               RuleResult("guest-gateway", Outcome.UNKNOWN, "no route output from the guest"),
               RuleResult("libvirt-rejects-inbound", Outcome.NOT_APPLICABLE, "no flow from outside was asked")]
    # The info first: renderers must order by severity themselves.
    return DumpReport(dump, host.inputs, [info, warning, error], results,
                      [Suppressed(quiet, "eno2 is the storage network, routed by design")])


def _healthy(dump: str) -> DumpReport:
    host = load_host(dump)
    reject = host.firewall.tables["filter"].chains["LIBVIRT_FWI"].rules[-1]
    info = Finding("libvirt-rejects-inbound", Severity.INFO, RULES[4].title, "firewall",
                   "new connections from outside into 192.168.122.0/24 are rejected", RULES[4].fix, "virbr0",
                   [_at(dump, reject.origin)])
    results = [RuleResult(r.id, Outcome.FAILED if r.id == info.rule else Outcome.PASSED) for r in RULES]
    return DumpReport(dump, host.inputs, [info], results)


def _report(*dumps: DumpReport) -> CheckReport:
    return CheckReport(__version__, list(dumps), RULES)


@pytest.fixture(scope="module")
def two_hosts() -> CheckReport:
    return _report(_forwarding_off(str(DUMPS / "ip-forward-off")), _healthy(str(DUMPS / "healthy-libvirt-5.1")))


def _copy(name: str, where: Path) -> Path:
    target = where / name
    shutil.copytree(DUMPS / name, target)
    return target


def _ticket(where: Path) -> Path:
    """A pasted ticket: a person's words and two outputs of the forwarding-off host, with prompts."""
    source = DUMPS / "ip-forward-off"
    sysctls = "".join(line for line in (source / "sysctl.txt").read_text().splitlines(True)
                      if "forward" in line or "rp_filter" in line)
    ticket = where / "ticket 4711.md"
    ticket.write_text("Guests lost the internet after a reboot. Output below.\n\n"
                      "[root@kvm01 ~]# sysctl -a | grep -e forward -e rp_filter\n" + sysctls + "\n"
                      "[root@kvm01 ~]# ip addr\n" + (source / "ip-addr.txt").read_text())
    return ticket


# JSON


def test_json_keeps_the_contract_keys_of_design_5(two_hosts):
    out = json.loads(render_json(two_hosts))
    assert out == check_json(two_hosts)
    assert out["netlint"] == __version__
    assert out["summary"] == {"error": 1, "warning": 1, "info": 2}
    assert [d["path"] for d in out["dumps"]] == [d.path for d in two_hosts.dumps]
    for dump in out["dumps"]:
        assert {"path", "inputs", "findings"} <= set(dump)
        for piece in dump["inputs"]:
            assert {"file", "kind", "lines", "status", "problems"} <= set(piece)
        for finding in dump["findings"]:
            assert {"rule", "severity", "message", "locations", "fix", "trace"} <= set(finding)
            assert finding["severity"] in ("error", "warning", "info")
            for location in finding["locations"]:
                assert {"file", "line"} <= set(location)
    first = out["dumps"][0]
    error = next(f for f in first["findings"] if f["rule"] == "forwarding-disabled")
    assert error["locations"][0] == {"file": "sysctl.txt", "line": 14, "column": None,
                                     "text": "net.ipv4.conf.virbr0.forwarding = 0"}
    absent = first["findings"][0]["locations"][0]
    assert (absent["file"], absent["line"]) == ("sysctl.txt", None)
    assert first["suppressed"][0]["rule"] == "uplink-forwarding-off"
    assert first["suppressed"][0]["reason"].startswith("eno2 is the storage network")


def test_json_inputs_are_the_parse_pieces_without_their_facts(two_hosts):
    out = check_json(two_hosts)
    for dump, rendered in zip(two_hosts.dumps, out["dumps"], strict=True):
        expected = [{k: v for k, v in piece_json(r).items() if k != "data"} for r in dump.inputs]
        assert rendered["inputs"] == expected
        assert {p["file"] for p in rendered["inputs"]} >= {"ip-addr.txt", "sysctl.txt", "iptables-save.txt"}


def test_json_trace_is_the_trace_output_and_null_without_one(two_hosts):
    findings = check_json(two_hosts)["dumps"][0]["findings"]
    error = next(f for f in findings if f["rule"] == "forwarding-disabled")
    source = next(f for f in two_hosts.dumps[0].findings if f.rule == "forwarding-disabled")
    assert error["trace"] == trace_json(source.trace)
    assert error["trace"]["verdict"] == "unreachable"
    assert error["trace"]["forward"]["disposition"] == "FORWARDING_DISABLED"
    assert all(f["trace"] is None for f in findings if f["rule"] != "forwarding-disabled")


# SARIF


def test_sarif_validates_against_the_2_1_0_schema(two_hosts, tmp_path):
    schema = json.loads((require_reference() / "sarif-schema-2.1.0.json").read_text())
    unread = DumpReport(str(tmp_path / "missing"), error=f"{tmp_path / 'missing'}: no such file or directory")
    for report in (two_hosts, _report(*two_hosts.dumps, unread), _report()):
        document = json.loads(render_sarif(report))
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_sarif_rules_results_levels_and_suppressions(two_hosts):
    (run,) = sarif_json(two_hosts)["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "netlint" and driver["version"] == __version__
    assert [r["id"] for r in driver["rules"]] == [r.id for r in RULES]
    notes = next(r for r in driver["rules"] if r["id"] == "bridge-netfilter-unknown")
    assert notes["defaultConfiguration"]["level"] == "note"
    assert notes["shortDescription"]["text"] == RULES[2].title
    assert RULES[2].description in notes["help"]["text"] and RULES[2].fix in notes["help"]["text"]
    assert notes["properties"]["category"] == "evidence"
    assert run["invocations"] == [{"executionSuccessful": True}]
    results = run["results"]
    assert len(results) == 5  # four findings and one suppressed
    for result in results:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels == {"forwarding-disabled": "error", "rp-filter-strict": "warning", "bridge-netfilter-unknown": "note",
                      "uplink-forwarding-off": "warning", "libvirt-rejects-inbound": "note"}
    (quiet,) = [r for r in results if "suppressions" in r]
    assert quiet["ruleId"] == "uplink-forwarding-off"
    assert quiet["suppressions"] == [{"kind": "external",
                                      "justification": "eno2 is the storage network, routed by design"}]
    absent = next(r for r in results if r["ruleId"] == "bridge-netfilter-unknown")
    assert "region" not in absent["locations"][0]["physicalLocation"]


def test_sarif_locations_are_the_real_lines_they_quote(two_hosts):
    results = sarif_json(two_hosts)["runs"][0]["results"]
    for result in results:
        for location in result["locations"]:
            physical = location["physicalLocation"]
            path = Path(unquote(physical["artifactLocation"]["uri"]))
            assert path.is_file(), path
            if "region" in physical:
                quoted = path.read_text().split("\n")[physical["region"]["startLine"] - 1]
                assert physical["region"]["snippet"]["text"] == quoted
    forwarding = next(r for r in results if r["ruleId"] == "forwarding-disabled")
    regions = [loc["physicalLocation"]["region"]["startLine"] for loc in forwarding["locations"]]
    assert regions == [14, 20]


def test_sarif_same_files_on_two_hosts_never_collide(tmp_path):
    twin = _copy("ip-forward-off", tmp_path)
    report = _report(_forwarding_off(str(DUMPS / "ip-forward-off")), _forwarding_off(str(twin)))
    results = sarif_json(report)["runs"][0]["results"]
    half = len(results) // 2
    uris = [{loc["physicalLocation"]["artifactLocation"]["uri"] for r in part for loc in r["locations"]}
            for part in (results[:half], results[half:])]
    assert {Path(unquote(u)).name for u in uris[0]} == {Path(unquote(u)).name for u in uris[1]} == {"sysctl.txt"}
    assert not uris[0] & uris[1]
    assert all(Path(unquote(u)).is_relative_to(twin) for u in uris[1])


def test_sarif_uri_is_the_path_as_given_with_forward_slashes_and_percent_encoding(tmp_path, monkeypatch):
    host_dir = _copy("ip-forward-off", tmp_path / "site a")
    monkeypatch.chdir(tmp_path)
    for given in ("site a/ip-forward-off", "site a/ip-forward-off/", "./site a/ip-forward-off"):
        results = sarif_json(_report(_forwarding_off(given)))["runs"][0]["results"]
        result = next(r for r in results if r["ruleId"] == "rp-filter-strict")
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "site%20a/ip-forward-off/sysctl.txt"
        assert (tmp_path / unquote(uri)).samefile(host_dir / "sysctl.txt")


def test_sarif_fingerprints_survive_renumbered_lines(tmp_path):
    moved = _copy("ip-forward-off", tmp_path)
    sysctl = moved / "sysctl.txt"
    sysctl.write_text("net.core.somaxconn = 128\nnet.ipv4.ip_local_port_range = 32768\t60999\n" + sysctl.read_text())
    before = sarif_json(_report(_forwarding_off(str(DUMPS / "ip-forward-off"))))["runs"][0]["results"]
    after = sarif_json(_report(_forwarding_off(str(moved))))["runs"][0]["results"]
    shifted = 0
    for old, new in zip(before, after, strict=True):
        assert old["ruleId"] == new["ruleId"]
        assert old["partialFingerprints"] == new["partialFingerprints"]
        for was, now in zip(old["locations"], new["locations"], strict=True):
            if "region" in was["physicalLocation"]:
                old_line = was["physicalLocation"]["region"]["startLine"]
                assert now["physicalLocation"]["region"]["startLine"] == old_line + 2
                shifted += 1
    assert shifted == 4
    assert len({r["partialFingerprints"]["netlint/v1"] for r in after}) == len(after)


def test_sarif_ticket_dump_points_at_the_ticket_itself(tmp_path):
    ticket = _ticket(tmp_path)
    dump = _forwarding_off(str(ticket))
    result = next(r for r in sarif_json(_report(dump))["runs"][0]["results"] if r["ruleId"] == "forwarding-disabled")
    physical = result["locations"][0]["physicalLocation"]
    assert unquote(physical["artifactLocation"]["uri"]) == ticket.as_posix()
    expected = ticket.read_text().split("\n").index("net.ipv4.conf.virbr0.forwarding = 0") + 1
    assert physical["region"]["startLine"] == expected


def test_sarif_unreadable_dump_makes_the_run_unsuccessful(tmp_path):
    missing = str(tmp_path / "nope")
    (invocation,) = sarif_json(_report(DumpReport(missing, error=f"{missing}: no such file or directory")))["runs"][0][
        "invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"].endswith("no such file or directory")


# JUnit


def _counts(element: ET.Element) -> dict[str, int]:
    return {k: int(element.get(k)) for k in ("tests", "failures", "errors", "skipped")}


def test_junit_suites_cases_and_counts(two_hosts, tmp_path):
    missing = str(tmp_path / "nope")
    report = _report(*two_hosts.dumps, DumpReport(missing, error=f"{missing}: no such file or directory"))
    root = ET.fromstring(render_junit(report))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [d.path for d in report.dumps]
    for suite in suites:
        cases = suite.findall("testcase")
        assert _counts(suite) == {"tests": len(cases), "failures": len(suite.findall("testcase/failure")),
                                  "errors": len(suite.findall("testcase/error")),
                                  "skipped": len(suite.findall("testcase/skipped"))}
        assert all(c.get("classname") == suite.get("name") for c in cases)
    assert [_counts(s) for s in suites] == [{"tests": 7, "failures": 3, "errors": 0, "skipped": 2},
                                            {"tests": 7, "failures": 1, "errors": 0, "skipped": 0},
                                            {"tests": 1, "failures": 0, "errors": 1, "skipped": 0}]
    assert _counts(root) == {"tests": 15, "failures": 4, "errors": 1, "skipped": 2}
    cases = {c.get("name"): c for c in suites[0].findall("testcase")}
    failure = cases["forwarding-disabled"].find("failure")
    assert failure.get("type") == "error"
    assert failure.get("message").startswith("net.ipv4.conf.virbr0.forwarding = 0")
    assert f"{DUMPS / 'ip-forward-off' / 'sysctl.txt'}:14" in failure.text
    assert cases["rp-filter-strict"].find("failure").get("type") == "warning"
    assert cases["guest-gateway"].find("skipped").get("message") == "no route output from the guest"
    assert list(cases["uplink-forwarding-off"]) == [] and list(cases["masquerade-missing"]) == []
    assert suites[2].find("testcase/error").get("message").endswith("no such file or directory")


def test_junit_holds_markup_and_damaged_bytes(tmp_path):
    damaged = _copy("ip-forward-off", tmp_path)
    (damaged / "sysctl.txt").write_text((damaged / "sysctl.txt").read_text() + "\x00\x1b[2J<br> & \"x\"\n")
    host = load_host(str(damaged))
    piece = next(r for r in host.inputs if r.source.file == "sysctl.txt")
    assert piece.status is Status.PARTIAL
    problem = next(d for d in piece.diagnostics if d.severity is Severity.ERROR)
    finding = Finding("input-partial", Severity.INFO, "A file was read in part", "evidence",
                      f"line not recognized: {problem.text}", "check the capture", "sysctl.txt",
                      [Location(problem.origin, problem.text)])
    dump = DumpReport(str(damaged), host.inputs, [finding], [RuleResult("input-partial", Outcome.FAILED)])
    root = ET.fromstring(render_junit(_report(dump)))
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("message") == "line not recognized: \\x00\\x1b[2J<br> & \"x\""
    assert f"sysctl.txt:{problem.origin.line}" in failure.text


# GitHub


def _annotation(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command parsed as the runner does: properties split at `,` and `=`, then unescaped."""
    match = re.fullmatch(r"::(\w+) ([^:]*)::(.*)", line)
    assert match, line

    def unescape(text: str) -> str:
        for code, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
            text = text.replace(code, char)
        return text

    props = dict(p.split("=", 1) for p in match.group(2).split(","))
    return match.group(1), {k: unescape(v) for k, v in props.items()}, unescape(match.group(3))


def test_github_one_annotation_per_finding_with_file_and_line(two_hosts):
    lines = render_github(two_hosts).splitlines()
    assert len(lines) == sum(len(d.findings) for d in two_hosts.dumps) == 4
    parsed = [_annotation(line) for line in lines]
    by_rule = {props["title"]: (command, props, message) for command, props, message in parsed}
    command, props, message = by_rule["forwarding-disabled"]
    assert command == "error"
    assert props["file"] == str(DUMPS / "ip-forward-off" / "sysctl.txt") and props["line"] == "14"
    assert message == "net.ipv4.conf.virbr0.forwarding = 0: packets from guests on virbr0 are not forwarded"
    assert by_rule["rp-filter-strict"][0] == "warning"
    assert by_rule["libvirt-rejects-inbound"][0] == "notice"
    assert by_rule["libvirt-rejects-inbound"][1]["file"] == str(DUMPS / "healthy-libvirt-5.1" / "iptables-save.txt")
    assert "line" not in by_rule["bridge-netfilter-unknown"][1]


def test_github_escapes_data_and_properties(tmp_path):
    odd = _copy("ip-forward-off", tmp_path / "rack 3,kvm:01")
    dump = _forwarding_off(str(odd))
    text = "50% of guests fail,\nsee: virbr0\r\nthen eno1"
    dump.findings[0].message = text
    (line,) = [row for row in render_github(_report(dump)).splitlines() if "bridge-netfilter-unknown" in row]
    assert "\n" not in line and "\r" not in line
    assert line.endswith("::50%25 of guests fail,%0Asee: virbr0%0D%0Athen eno1")
    command, props, message = _annotation(line)
    assert (command, message) == ("notice", text)
    assert set(props) == {"file", "title"}
    assert props["file"] == str(odd / "sysctl.txt")
    assert "%2C" in line and "%3A" in line


# Text


def test_text_reads_as_a_story_per_dump(two_hosts):
    text = render_text(two_hosts, color=False)
    lines = text.splitlines()
    first = str(DUMPS / "ip-forward-off")
    assert lines[0] == first
    order = [next(i for i, row in enumerate(lines) if row.startswith(f"{s} ")) for s in ("error", "warning", "info")]
    assert order == sorted(order)
    where = lines.index(f"  {first}/sysctl.txt:14")
    assert lines[where + 1] == "      net.ipv4.conf.virbr0.forwarding = 0"
    assert lines[where + 2] == f"  {first}/sysctl.txt:20"
    assert lines[where + 3] == "      net.ipv4.ip_forward = 0"
    assert f"  {first}/sysctl.txt" in lines  # the finding about something absent: a file, no line
    flows = lines.index("  flows:")
    assert lines[flows + 1:flows + 7] == [f"    icmp {GUEST} -> 8.8.8.{n}: FORWARDING_DISABLED" for n in range(5)] + \
        ["    … and 3 more"]
    assert "  fix: sysctl -w net.ipv4.ip_forward=1" in lines
    assert f"{first}: 1 error, 1 warning, 1 info, 1 suppressed" in lines
    assert f"{DUMPS / 'healthy-libvirt-5.1'}: 0 errors, 0 warnings, 1 info, 0 suppressed" in lines
    table = lines[lines.index(next(row for row in lines if row.startswith("dump "))):]
    assert len(table) == 3
    assert table[1].split() == [first, "1", "1", "1", "1"]
    assert table[2].split() == [str(DUMPS / "healthy-libvirt-5.1"), "0", "0", "1", "0"]


def test_text_one_dump_has_no_table_and_header_lists_only_unread_inputs(tmp_path):
    host_dir = _copy("ip-forward-off", tmp_path)
    (host_dir / "route-n.txt").write_text("-bash: route: command not found\n")
    lines = render_text(_report(_forwarding_off(str(host_dir))), color=False).splitlines()
    header = lines[1:lines.index("")]
    assert len(header) == 1
    assert header[0].split()[:3] == ["route-n.txt:1-1", "unknown", "empty:"]
    assert "command not found" in header[0]
    assert not any(row.startswith("dump ") for row in lines)


def test_text_ticket_names_its_unread_pieces_by_lines(tmp_path):
    ticket = _ticket(tmp_path)
    dump = _forwarding_off(str(ticket))
    lines = render_text(_report(dump), color=False).splitlines()
    header = lines[1:lines.index("")]
    unread = [r for r in dump.inputs if r.status is not Status.PARSED]
    assert [row.split()[:2] for row in header] == [["lines", f"{r.source.first_line}-{r.source.last_line}"]
                                                for r in unread]
    row = ticket.read_text().split("\n").index("net.ipv4.conf.virbr0.forwarding = 0") + 1
    assert f"  {ticket}:{row}" in lines


def test_text_colour_only_when_asked_and_dump_bytes_never_reach_the_terminal(tmp_path, two_hosts):
    damaged = _copy("ip-forward-off", tmp_path)
    (damaged / "sysctl.txt").write_text((damaged / "sysctl.txt").read_text() + "\x1b]0;owned\x07\x1b[2J\n")
    host = load_host(str(damaged))
    problem = next(d for r in host.inputs for d in r.diagnostics if d.severity is Severity.ERROR)
    finding = Finding("input-partial", Severity.INFO, "A file was read in part", "evidence",
                      f"line {problem.origin.line} not recognized", "check the capture", "sysctl.txt",
                      [Location(problem.origin, problem.text)])
    report = _report(DumpReport(str(damaged), host.inputs, [finding]), *two_hosts.dumps)
    plain = render_text(report, color=False)
    assert "\x1b" not in plain and "\x07" not in plain
    assert "      \\x1b]0;owned\\x07\\x1b[2J" in plain.splitlines()
    coloured = render_text(report, color=True)
    assert SGR.search(coloured)
    assert "\x07" not in coloured and "\x1b]" not in coloured
    assert SGR.sub("", coloured) == plain


def test_use_color_honours_no_color_and_tty():
    main, secondary = os.openpty()
    try:
        with open(secondary, "w", closefd=False) as tty:
            assert use_color(tty, {}) is True
            assert use_color(tty, {"NO_COLOR": ""}) is True
            assert use_color(tty, {"NO_COLOR": "1"}) is False
            assert use_color(tty, {"TERM": "xterm", "NO_COLOR": "yes"}) is False
    finally:
        os.close(main)
        os.close(secondary)
    assert use_color(io.StringIO(), {}) is False
    closed = io.StringIO()
    closed.close()
    assert use_color(closed, {}) is False
    assert use_color(object(), {}) is False
