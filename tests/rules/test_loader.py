"""Rule files: the catalog loads; a bad rule file is one line naming file:line (exit 2); a user's
rule folder works through `--rules` with no Python change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netlint.rules.errors import RuleError
from netlint.rules.loader import load_rule, load_rules
from tests.conftest import FIXTURES

SEED_OFF = FIXTURES / "dumps" / "ip-forward-off"
GOOD = """\
id: {id}
title: Forwarding of virbr0 is off
severity: warning
category: site
scope: host
description: Our site wants virbr0 forwarding on, whatever the catalog thinks.
assert: sysctl("net.ipv4.conf.virbr0.forwarding").value == 1
at: sysctl("net.ipv4.conf.virbr0.forwarding")
message: "{{sysctl('net.ipv4.conf.virbr0.forwarding')}} on {{dump}}"
fix: sysctl -w net.ipv4.conf.virbr0.forwarding=1
"""


def _netlint(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netlint.cli", *args], capture_output=True, text=True, cwd=cwd)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_the_catalog_loads_and_ids_are_file_names():
    rules = load_rules()
    assert rules, "the catalog is empty"
    for rule in rules:
        assert Path(rule.doc.path).stem == rule.id


@pytest.mark.parametrize("text, line, message", [
    ("id: x\ntitle: [unclosed\n", 2, "not valid YAML"),
    ("- a list\n", 1, "one mapping"),
    (GOOD.format(id="bad").replace("severity: warning", "severity: fatal"), 3, "severity: 'fatal' is not one of"),
    (GOOD.format(id="bad").replace("fix: sysctl", "fixx: sysctl"), 10, "unknown field 'fixx' (did you mean fix?)"),
    (GOOD.format(id="bad").replace("assert: sysctl(", "assert: sysctl(("), 7, "assert: cannot read"),
    (GOOD.format(id="bad").replace("assert: sysctl(", "assert: sysctll("), 7, "unknown function sysctll"),
    (GOOD.format(id="bad").replace("at: sysctl(", "at: iface.name or sysctl("), 8, "unknown name iface"),
    (GOOD.format(id="bad").replace("message: \"{sysctl", "message: \"{{sysctl").replace("on {dump}", "on {dump"),
     9, "message"),
    (GOOD.format(id="other"), 1, "differs from the file name"),
    (GOOD.format(id="bad") + "fallback: true\n", 11, "only a flow or dnat rule can be a catch-all"),
    (GOOD.format(id="bad") + "when: !!python/object/apply:os.system ['true']\n", 11, "not valid YAML"),
])
def test_a_bad_rule_file_is_one_line_with_file_and_line(tmp_path, text, line, message):
    path = _write(tmp_path, "bad", text)
    with pytest.raises(RuleError) as caught:
        load_rule(path)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{path}:{line}:"), text
    assert message in text, text


def test_a_bad_rule_file_exits_2_with_one_line(tmp_path):
    _write(tmp_path / "rules", "bad", GOOD.format(id="bad").replace("scope: host", "scope: galaxy"))
    done = _netlint("check", str(SEED_OFF), "--rules", str(tmp_path / "rules"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"netlint: error: {tmp_path / 'rules' / 'bad.yaml'}:5:"), done.stderr


def test_a_user_rule_cannot_take_a_catalog_id(tmp_path):
    catalog_id = load_rules()[0].id
    _write(tmp_path, catalog_id, GOOD.format(id=catalog_id))
    with pytest.raises(RuleError, match="already defined"):
        load_rules([tmp_path])


def test_user_rules_run_like_shipped_ones(tmp_path):
    _write(tmp_path / "site", "site-virbr0-forwarding", GOOD.format(id="site-virbr0-forwarding"))
    done = _netlint("check", str(SEED_OFF), "--rules", str(tmp_path / "site"), "--select", "site",
                    "--fail-on", "warning", "--format", "json")
    assert done.returncode == 1, done.stderr
    import json

    (dump,) = json.loads(done.stdout)["dumps"]
    (finding,) = dump["findings"]
    assert finding["rule"] == "site-virbr0-forwarding"
    assert finding["message"] == f"net.ipv4.conf.virbr0.forwarding = 0 on {SEED_OFF}"
    line = next(n for n, text in enumerate((SEED_OFF / "sysctl.txt").read_text().splitlines(), 1)
                if text.startswith("net.ipv4.conf.virbr0.forwarding"))
    assert finding["locations"][0] == {"file": "sysctl.txt", "line": line} | {
        k: v for k, v in finding["locations"][0].items() if k not in ("file", "line")}
    listed = _netlint("rules", "--rules", str(tmp_path / "site"))
    assert "site-virbr0-forwarding" in listed.stdout


def test_let_names_are_computed_once_and_shared_by_every_field(tmp_path):
    text = GOOD.format(id="site-let").replace(
        'assert: sysctl("net.ipv4.conf.virbr0.forwarding").value == 1',
        'let:\n  key: \'"net.ipv4.conf." + ifkey("virbr0") + ".forwarding"\'\n  entry: sysctl(key)\n'
        'assert: entry.value == 1').replace('at: sysctl("net.ipv4.conf.virbr0.forwarding")', "at: entry")
    _write(tmp_path / "site", "site-let", text)
    done = _netlint("check", str(SEED_OFF), "--rules", str(tmp_path / "site"), "--select", "site-let",
                    "--fail-on", "warning", "--format", "json")
    assert done.returncode == 1, done.stderr
    import json

    (finding,) = json.loads(done.stdout)["dumps"][0]["findings"]
    assert finding["locations"][0]["file"] == "sysctl.txt"
    shadow = text.replace("  entry: sysctl(key)", "  dump: sysctl(key)")
    _write(tmp_path / "bad", "site-let", shadow)
    with pytest.raises(RuleError, match=r"site-let.yaml:\d+: let.dump: the name is taken"):
        load_rule(tmp_path / "bad" / "site-let.yaml")
    later = text.replace('  key: \'"net.ipv4.conf." + ifkey("virbr0") + ".forwarding"\'\n  entry: sysctl(key)',
                         '  entry: sysctl(key)\n  key: "x"')
    _write(tmp_path / "later", "site-let", later)
    with pytest.raises(RuleError, match="let.entry: unknown name key"):
        load_rule(tmp_path / "later" / "site-let.yaml")


def test_rules_test_runs_user_fixtures_and_fails_on_a_broken_case(tmp_path):
    _write(tmp_path / "site", "site-virbr0-forwarding", GOOD.format(id="site-virbr0-forwarding"))
    cases = tmp_path / "fixtures" / "site-virbr0-forwarding"
    cases.mkdir(parents=True)
    on = FIXTURES / "dumps" / "seed-forwarding-on"
    (cases / "cases.yaml").write_text(f"must:\n  - dump: {SEED_OFF}\n    why: virbr0 forwarding 0\n"
                                      f"must-not:\n  - dump: {on}\n    why: forwarding on\n")
    args = ("rules", "--rules", str(tmp_path / "site"), "--test", str(tmp_path / "fixtures"))
    done = _netlint(*args)
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == "2 of 2 cases pass over 1 rules"
    (cases / "cases.yaml").write_text(f"must:\n  - dump: {on}\n    why: deliberately wrong\n"
                                      f"must-not:\n  - dump: {SEED_OFF}\n    why: deliberately wrong\n")
    broken = _netlint(*args)
    assert broken.returncode == 1
    failed = [line for line in broken.stdout.splitlines() if line.startswith("FAIL site-virbr0-forwarding")]
    assert len(failed) == 2, broken.stdout
