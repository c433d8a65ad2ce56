"""`netlint parse` as a user runs it: a real process, its output and its exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, REPO

EXAMPLE = REPO / "examples" / "centos7-forwarding-off"


def netlint(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netlint.cli", *args], capture_output=True, text=True,
                          input=stdin, cwd=cwd or REPO)


def test_parse_json_shape_of_one_file():
    run = netlint("parse", str(FIXTURES / "sysctl" / "grep-forward.txt"), "--format", "json")
    assert run.returncode == 0, run.stderr
    (piece,) = json.loads(run.stdout)
    assert set(piece) >= {"file", "kind", "lines", "status", "problems", "data"}
    assert piece["kind"] == "sysctl" and piece["status"] == "parsed" and piece["lines"] == [1, 9]
    assert piece["data"]["entries"][4] == {"key": "net.ipv4.ip_forward", "value": "1", "line": 5}
    (note,) = piece["problems"]
    assert note["line"] == 8 and note["severity"] == "info"


def test_parse_example_dump_folder_every_file_parsed():
    run = netlint("parse", str(EXAMPLE), "--format", "json")
    assert run.returncode == 0, run.stdout + run.stderr
    pieces = {p["file"]: p for p in json.loads(run.stdout)}
    assert all(p["status"] == "parsed" for p in pieces.values()), {f: p["problems"] for f, p in pieces.items()}
    assert pieces["guest/route-print.txt"]["role"] == "guest"


def test_parse_text_summary_names_interfaces_bridges_routes():
    run = netlint("parse", str(EXAMPLE), "--format", "text")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "192.168.122.1/24" in out
    assert "ports: virbr0-nic, vnet0" in out
    assert "172.230.0.0/16 via 172.28.20.1 dev eno2" in out


def test_partial_file_exits_1_and_reports_the_line(tmp_path):
    path = tmp_path / "sysctl.txt"
    path.write_text("net.ipv4.ip_forward = 0\nnot a sysctl line\n")
    run = netlint("parse", str(path), "--format", "json")
    assert run.returncode == 1
    (piece,) = json.loads(run.stdout)
    assert piece["status"] == "partial"
    assert piece["problems"][0]["line"] == 2 and piece["problems"][0]["text"] == "not a sysctl line"


def test_errors_are_one_line_with_exit_2(tmp_path):
    missing = netlint("parse", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [f"netlint: error: {tmp_path / 'nope.txt'}: no such file or directory"]
    unknown = tmp_path / "prose.txt"
    unknown.write_text("my vm has no internet, please help\n")
    run = netlint("parse", str(unknown))
    assert run.returncode == 2 and "--kind" in run.stderr and len(run.stderr.splitlines()) == 1
    bad_flag = netlint("parse", str(unknown), "--kind", "nonsense")
    assert bad_flag.returncode == 2 and bad_flag.stderr.startswith("netlint: error: ")
    assert "Traceback" not in missing.stderr + run.stderr + bad_flag.stderr


def test_json_is_the_default_format():
    run = netlint("parse", str(FIXTURES / "sysctl" / "grep-forward.txt"))
    assert json.loads(run.stdout)[0]["kind"] == "sysctl"


def test_kind_flag_overrides_sniffing(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("net.ipv4.ip_forward = 0\n")
    run = netlint("parse", str(path), "--kind", "sysctl", "--format", "json")
    assert json.loads(run.stdout)[0]["kind"] == "sysctl"


def test_empty_output_file_in_a_dump(tmp_path):
    (tmp_path / "brctl-show.txt").write_text("bash: brctl: command not found\n")
    (tmp_path / "sysctl.txt").write_text("net.ipv4.ip_forward = 0\n")
    run = netlint("parse", str(tmp_path), "--format", "json")
    pieces = {p["file"]: p for p in json.loads(run.stdout)}
    assert pieces["brctl-show.txt"]["status"] == "empty"
    assert "command not found" in pieces["brctl-show.txt"]["reason"]
    assert pieces["sysctl.txt"]["status"] == "parsed"
    assert run.returncode == 1
