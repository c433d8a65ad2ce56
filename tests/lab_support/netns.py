"""Throwaway network namespaces in which the installed iptables (nf_tables or legacy) restores
and saves rulesets, so that the kernel, not netlint, says what a ruleset means.

Every namespace is named `nlt-kern-<pid>-<n>` and removed by `Lab.close()`, which callers run
in a `finally`/fixture finalizer so a failing test leaves nothing behind.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess

_TIMEOUT = 120  # seconds: the 6000-rule corpus files restore in well under one
_CHAIN_COUNTERS = re.compile(r"[ \t]+\[\d+:\d+\][ \t]*$")
_RULE_COUNTERS = re.compile(r"^\[\d+:\d+\][ \t]+")
_COMMENT_MATCH = re.compile(r' -m comment --comment (?:"(?:[^"\\]|\\.)*"|\S+)')
_TOOLS = ("ip", "iptables", "iptables-save", "iptables-restore", "ip6tables-save", "ip6tables-restore")


def tool(name: str, family: int | None) -> str:
    """`iptables-restore` for IPv4 (or an unknown family), `ip6tables-restore` for IPv6."""
    return "ip6" + name[2:] if family == 6 else name


def backend() -> str:
    """What `iptables --version` names: `nf_tables` or `legacy` (iptables < 1.8 prints neither)."""
    out = subprocess.run(["iptables", "--version"], check=False, capture_output=True, text=True,
                         timeout=_TIMEOUT).stdout
    m = re.search(r"\((\w+)\)", out)
    return m.group(1) if m else "legacy"


def missing_requirement() -> str | None:
    """Why namespaces with iptables cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and iptables-restore)"
    for name in _TOOLS:
        if shutil.which(name) is None:
            return f"{name} is not installed"
    lab = Lab(f"nlt-kern-{os.getpid()}-probe")
    try:
        ns = lab.namespace()
        probe = lab.run(ns, ["iptables-save"])
        if probe.returncode != 0:
            return f"iptables-save fails in a namespace: {probe.stderr.strip()}"
    except LabError as error:
        return f"`ip netns` does not work here: {error}"
    finally:
        lab.close()
    return None


class LabError(RuntimeError):
    pass


class Lab:
    """Creates namespaces on demand and runs commands in them."""

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix or f"nlt-kern-{os.getpid()}"
        self._numbers = itertools.count(1)
        self.live: list[str] = []

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def namespace(self) -> str:
        name = f"{self.prefix}-{next(self._numbers)}"
        done = subprocess.run(["ip", "netns", "add", name], check=False, capture_output=True, text=True,
                              timeout=_TIMEOUT)
        if done.returncode != 0:
            raise LabError(f"ip netns add {name}: {done.stderr.strip()}")
        self.live.append(name)
        return name

    def remove(self, name: str) -> None:
        if name in self.live:
            self.live.remove(name)
            subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True, timeout=_TIMEOUT)

    def close(self) -> None:
        for name in list(self.live):
            self.remove(name)

    def run(self, ns: str, argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", ns, *argv], check=False, input=stdin, capture_output=True,
                              text=True, timeout=_TIMEOUT)

    def check(self, ns: str, argv: list[str], stdin: str | None = None) -> str:
        done = self.run(ns, argv, stdin)
        if done.returncode != 0:
            raise LabError(f"{' '.join(argv)} in {ns}: {done.stderr.strip()}")
        return done.stdout

    def restore(self, ns: str, family: int | None, text: str) -> subprocess.CompletedProcess:
        return self.run(ns, [tool("iptables-restore", family)], text)

    def save(self, ns: str, family: int | None, counters: bool = False) -> str:
        return self.check(ns, [tool("iptables-save", family), *(["-c"] if counters else [])])


def normalize(text: str) -> dict[str, list[str]]:
    """`iptables-save` text per table, without what restoring does not carry over: `# ` lines,
    `[packets:bytes]` counters and `-m comment --comment …` matches."""
    tables: dict[str, list[str]] = {}
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            lines = tables.setdefault(line[1:], [])
            continue
        lines.append(_COMMENT_MATCH.sub("", _RULE_COUNTERS.sub("", _CHAIN_COUNTERS.sub("", line))))
    return tables
