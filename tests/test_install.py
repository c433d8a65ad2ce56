"""A plain (non-editable) `pip install .` into a fresh venv finds its grammars from anywhere."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv

import pytest

from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "centos7-forwarding-off"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("install")
    # Build from a copy so nothing of the working tree's caches or editable metadata leaks in.
    tree = root / "src"
    shutil.copytree(REPO, tree, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".pytest_cache",
                                                              ".hypothesis", "build", "dist", ".venv"))
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    run = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(tree)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    shutil.rmtree(tree)  # the installed package must not need the source tree
    return env_dir


def test_installed_netlint_parses_from_another_directory(installed, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    run = subprocess.run([str(installed / "bin" / "netlint"), "parse", str(EXAMPLE), "--format", "json"],
                         capture_output=True, text=True, cwd=outside)
    assert run.returncode == 0, run.stderr
    pieces = json.loads(run.stdout)
    assert {p["kind"] for p in pieces} >= {"ip-addr", "brctl-show", "route", "sysctl", "route-print"}


def test_grammars_and_rules_ship_inside_the_package(installed):
    code = ("import netlint.resources as r, pathlib, sys; "
            "print(r.grammar_path('sysctl')); print(r.rules_dir())")
    run = subprocess.run([str(installed / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd="/")
    grammar, rules = run.stdout.split()
    assert str(installed) in grammar and grammar.endswith("netlint/_data/grammars/sysctl.lark")
    assert str(installed) in rules and rules.endswith("netlint/_data/rules")
    assert sys.executable not in grammar


def test_installed_netlint_checks_with_the_shipped_catalog(installed, tmp_path):
    """The wheel carries the rules and their schema: `check` finds the seed host's fault from
    another directory, with no source tree around."""
    run = subprocess.run([str(installed / "bin" / "netlint"), "check", str(EXAMPLE), "--format", "json"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    (dump,) = json.loads(run.stdout)["dumps"]
    assert "fwd-ipv4-forwarding-off" in {f["rule"] for f in dump["findings"]}
    listed = subprocess.run([str(installed / "bin" / "netlint"), "rules"], capture_output=True, text=True,
                            cwd=tmp_path)
    assert listed.returncode == 0 and "fwd-ipv4-forwarding-off" in listed.stdout
