"""Rule fixtures (tests/rules/README.md): dumps that must trigger a rule and dumps that must
not. `netlint rules --test` and pytest run the same cases through this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import yaml

from ..host import load_host
from ..model.finding import Finding
from .engine import evaluate
from .facts import Facts
from .loader import RuleError, RuleSpec

EVIDENCE = "evidence"


@dataclass(slots=True)
class Case:
    rule: str
    kind: str            # "must" | "must-not" | "healthy"
    dump: Path
    why: str
    expect: list[dict[str, Any]] = field(default_factory=list)
    count: int | None = None
    upstream_knows: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.rule}:{self.kind}:{self.dump.name}"


@dataclass(slots=True)
class CaseResult:
    case: Case
    ok: bool
    detail: str = ""


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise RuleError(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML") from None


def collect_cases(root: Path, rules: list[RuleSpec]) -> list[Case]:
    """Every case under `root` for `rules`; the shared healthy hosts (`healthy.yaml`) apply to
    every rule outside the evidence category."""
    cases: list[Case] = []
    healthy_file = root / "healthy.yaml"
    healthy = (_load_yaml(healthy_file) or {}).get("healthy", []) if healthy_file.is_file() else []
    for rule in rules:
        folder = root / rule.id
        spec_file = folder / "cases.yaml"
        if spec_file.is_file():
            spec = _load_yaml(spec_file) or {}
            for kind in ("must", "must-not"):
                for entry in spec.get(kind) or []:
                    if not entry.get("why"):
                        raise RuleError(f"{spec_file}: a {kind} case ({entry.get('dump')}) has no `why`")
                    cases.append(Case(rule.id, kind, (folder / entry["dump"]).resolve(), entry["why"],
                                      list(entry.get("expect") or []), entry.get("count"),
                                      tuple(entry.get("upstream_knows") or ())))
        if rule.doc.category != EVIDENCE:
            for entry in healthy:
                cases.append(Case(rule.id, "healthy", (root / entry["dump"]).resolve(), entry.get("why", ""),
                                  upstream_knows=tuple(entry.get("upstream_knows") or ())))
    return cases


def missing_fixtures(root: Path, rules: list[RuleSpec]) -> list[str]:
    """Rules without at least one must and one must-not case of their own."""
    out = []
    for rule in rules:
        spec_file = root / rule.id / "cases.yaml"
        spec = (_load_yaml(spec_file) or {}) if spec_file.is_file() else {}
        if not spec.get("must") or not spec.get("must-not"):
            out.append(rule.id)
    return out


def _matches(finding: Finding, expect: dict[str, Any]) -> bool:
    first = finding.locations[0].origin if finding.locations else None
    # a dump that is one file (a ticket) names its pieces by the path it was given
    if "file" in expect and (first is None or (first.file != expect["file"]
                                               and not first.file.endswith("/" + expect["file"]))):
        return False
    if "line" in expect and (first is None or first.line != expect["line"]):
        return False
    wanted = expect.get("message") or []
    for text in [wanted] if isinstance(wanted, str) else wanted:
        if text not in finding.message:
            return False
    if "severity" in expect and finding.severity.value != expect["severity"]:
        return False
    return True


def _describe(findings: list[Finding]) -> str:
    return "; ".join(f"{f.locations[0].origin if f.locations else '-'}: {f.message}" for f in findings) or "none"


class Runner:
    """Runs cases, loading each dump once."""

    def __init__(self, rules: list[RuleSpec]):
        self.rules = {r.id: r for r in rules}
        self._hosts: dict[Path, Any] = {}

    def run(self, case: Case) -> CaseResult:
        if not case.dump.exists():
            return CaseResult(case, False, f"{case.dump} does not exist")
        host = self._hosts.get(case.dump)
        if host is None:
            host = self._hosts[case.dump] = load_host(str(case.dump))
        facts = Facts(host, [ip_network(n) for n in case.upstream_knows] or None)
        rule = self.rules[case.rule]
        # a catch-all reports what no other rule explains: it needs the others beside it
        run = list(self.rules.values()) if rule.fallback else [rule]
        findings = [f for f in evaluate(host, run, facts).findings if f.rule == case.rule]
        if case.kind != "must":
            ok = not findings
            return CaseResult(case, ok, "" if ok else f"triggered: {_describe(findings)}")
        if not findings:
            return CaseResult(case, False, "did not trigger")
        for expect in case.expect:
            if not any(_matches(f, expect) for f in findings):
                return CaseResult(case, False, f"no finding matches {expect}; found: {_describe(findings)}")
        if case.count is not None and len(findings) != case.count:
            return CaseResult(case, False, f"{len(findings)} findings, expected {case.count}: {_describe(findings)}")
        return CaseResult(case, True)


def run_all(root: Path, rules: list[RuleSpec]) -> list[CaseResult]:
    runner = Runner(rules)
    return [runner.run(case) for case in collect_cases(root, rules)]
