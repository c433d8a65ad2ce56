"""`netlint collect` in a real network namespace: what it writes parses, what it cannot run
is recorded, and a missing iptables-save falls back to nft."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid

import pytest

from netlint.intake import read_dump
from netlint.model import Kind, Status
from netlint.parsers import parse
from tests.conftest import IN_CI, REPO

pytestmark = pytest.mark.root


def _require_netns() -> None:
    reason = None
    if os.geteuid() != 0:
        reason = "needs root to create network namespaces"
    elif shutil.which("ip") is None:
        reason = "needs iproute2's ip"
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)


@pytest.fixture
def netns():
    _require_netns()
    name = f"nlt-collect-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for command in (["ip", "link", "set", "lo", "up"],
                        ["ip", "link", "add", "virbr0", "type", "bridge"],
                        ["ip", "link", "add", "vnet0", "type", "veth", "peer", "name", "guest0"],
                        ["ip", "link", "set", "vnet0", "master", "virbr0"],
                        ["ip", "addr", "add", "192.168.122.1/24", "dev", "virbr0"],
                        ["ip", "link", "set", "virbr0", "up"], ["ip", "link", "set", "vnet0", "up"],
                        ["iptables", "-A", "FORWARD", "-i", "virbr0", "-j", "ACCEPT"]):
            subprocess.run(["ip", "netns", "exec", name, *command], check=True, capture_output=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def collect_in(netns: str, destination, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"PATH": path} if path else {})}
    return subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-m", "netlint.cli", "collect", "-o",
                           str(destination)], capture_output=True, text=True, cwd=REPO, env=env)


def test_every_collected_file_netlint_reads_is_parsed(netns, tmp_path):
    run = collect_in(netns, tmp_path / "dump")
    assert run.returncode == 0, run.stderr
    sources = read_dump(tmp_path / "dump")
    kinds = {s.file: s.kind for s in sources}
    assert {"ip-addr.txt": Kind.IP_ADDR, "ip-route.txt": Kind.IP_ROUTE, "sysctl.txt": Kind.SYSCTL,
            "iptables-save.txt": Kind.IPTABLES_SAVE}.items() <= kinds.items()
    for source in sources:
        assert parse(source).status is Status.PARSED, source.file
    manifest = json.loads((tmp_path / "dump" / "manifest.json").read_text())
    assert [c["file"] for c in manifest["commands"]][:3] == ["ip-addr.txt", "ip-route.txt", "ip-rule.txt"]
    for record in manifest["commands"]:
        assert record["written"] == (tmp_path / "dump" / record["file"]).exists()
        assert record["written"] or record["reason"]
    # The namespace's own state, not the machine's: its bridge, and its sysctl copy.
    assert "virbr0" in (tmp_path / "dump" / "ip-addr.txt").read_text()
    assert "-A FORWARD -i virbr0 -j ACCEPT" in (tmp_path / "dump" / "iptables-save.txt").read_text()


def test_missing_tools_are_recorded_and_nft_stands_in(netns, tmp_path):
    if shutil.which("nft") is None and not IN_CI:
        pytest.skip("needs nft for the fallback")
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("ip", "sysctl", "nft", "bridge"):
        os.symlink(shutil.which(tool), tools / tool)
    run = collect_in(netns, tmp_path / "dump", path=str(tools))
    assert run.returncode == 0, run.stderr
    records = {r["file"]: r for r in json.loads((tmp_path / "dump" / "manifest.json").read_text())["commands"]}
    assert records["brctl-show.txt"]["reason"] == "brctl is not installed"
    assert records["iptables-save.txt"]["reason"] == "iptables-save is not installed"
    assert records["nft-ruleset.txt"]["written"] and "virbr0" in (tmp_path / "dump" / "nft-ruleset.txt").read_text()
    assert "not collected: " in run.stderr and "brctl-show.txt (brctl is not installed)" in run.stderr


def test_tar_gz_holds_one_folder(netns, tmp_path):
    run = collect_in(netns, tmp_path / "host1.tar.gz")
    assert run.returncode == 0, run.stderr
    with tarfile.open(tmp_path / "host1.tar.gz") as archive:
        names = archive.getnames()
    assert "host1/manifest.json" in names and "host1/ip-addr.txt" in names
    assert all(n.startswith("host1/") for n in names)
