"""Rules over one host: each rule's scope items filtered by `when`, checked by `assert`, and
the failures turned into findings that point at dump lines.

A rule over flows fails once per representative flow; the flows one cause blocks (same rule,
same fact) become one finding that lists them as `paths`, so forwarding turned off is one error
naming the sysctl line and every guest path it blocks, not twenty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..host import Host
from ..model import Origin
from ..model.finding import Finding, Location, Outcome, RuleResult
from .expr import ExprError, Scope, truth
from .facts import DnatCase, Facts, FlowCase, Functions, SCOPES, StepView, TraceView, display, identity
from .loader import RuleSpec


class RuleRuntimeError(Exception):
    """A rule that fails on this dump's facts (a type error the loader cannot see)."""


@dataclass(slots=True)
class Evaluation:
    findings: list[Finding]
    results: list[RuleResult]


class Quoter:
    """The text of a dump line, for quoting it under a finding."""

    def __init__(self, host: Host):
        self._pieces: dict[str, list[tuple[int, list[str]]]] = {}
        for result in host.inputs:
            source = result.source
            self._pieces.setdefault(source.file, []).append((source.first_line, source.text.split("\n")))

    def line(self, origin: Origin) -> str | None:
        if origin.line is None:
            return None
        for first, lines in self._pieces.get(origin.file, []):
            if first <= origin.line < first + len(lines):
                return lines[origin.line - first].rstrip()
        return None


def evaluate(host: Host, rules: list[RuleSpec], facts: Facts | None = None) -> Evaluation:
    facts = facts or Facts(host)
    functions = Functions(facts)
    base = Scope(facts.globals(), functions=functions)
    quoter = Quoter(host)
    findings: list[Finding] = []
    results: dict[str, RuleResult] = {}
    # Catch-all rules run last and keep only the paths no other finding explains.
    for rule in sorted(rules, key=lambda r: r.fallback):
        explained = _Explained(findings) if rule.fallback else None
        try:
            made, result = _run(rule, facts, base, quoter, explained)
        except ExprError as error:
            raise RuleRuntimeError(f"{rule.doc.path}: rule {rule.id} failed on {host.path}: {error}") from None
        findings.extend(made)
        results[rule.id] = result
    return Evaluation(findings, [results[r.id] for r in rules])


class _Explained:
    """What the findings so far cover: a catch-all rule leaves these paths alone, whether a
    finding lists the path or points at the line that decides it."""

    def __init__(self, findings: list[Finding]):
        self.paths = {p for f in findings for p in f.paths}
        self.lines = {loc.origin for f in findings for loc in f.locations if loc.origin.line is not None}
        self.files = {loc.origin.file for f in findings for loc in f.locations if loc.origin.line is None}

    def covers(self, item: Any) -> bool:
        trace = _trace_of(item)
        if trace is None:
            return False
        if trace.summary in self.paths:
            return True
        step = trace.decisive
        origin = step.origin if step is not None else None
        return origin is not None and (origin in self.lines or (origin.line is None and origin.file in self.files))


def _run(rule: RuleSpec, facts: Facts, base: Scope, quoter: Quoter,
         explained: _Explained | None = None) -> tuple[list[Finding], RuleResult]:
    name = SCOPES[rule.doc.scope]
    items = facts.scope_items(rule.doc.scope)
    grouped: dict[str, Finding] = {}
    applicable = unknown = 0
    why_unknown = ""
    for item in items:
        scope = Scope(_Lets(name, item, rule.lets), base)
        scope.names.scope = scope
        if rule.when is not None:
            selected = truth(rule.when(scope))
            if selected is None:
                unknown += 1
                why_unknown = why_unknown or f"the dump cannot tell whether {display(item)} concerns it"
                continue
            if not selected:
                continue
        applicable += 1
        verdict = truth(rule.check(scope))
        if verdict is None:
            unknown += 1
            why_unknown = why_unknown or f"the dump cannot tell for {display(item)}"
            continue
        if verdict or (explained is not None and explained.covers(item)):
            continue
        finding = _finding(rule, item, scope, quoter)
        known = grouped.get(finding.key)
        if known is None:
            grouped[finding.key] = finding
        else:
            known.paths.extend(p for p in finding.paths if p not in known.paths)
            known.locations.extend(loc for loc in finding.locations if loc not in known.locations)
    findings = list(grouped.values())
    if findings:
        result = RuleResult(rule.id, Outcome.FAILED, f"{len(findings)} finding(s)")
    elif unknown:
        result = RuleResult(rule.id, Outcome.UNKNOWN, why_unknown)
    elif not applicable:
        result = RuleResult(rule.id, Outcome.NOT_APPLICABLE, f"nothing in the dump for scope {rule.doc.scope}")
    else:
        result = RuleResult(rule.id, Outcome.PASSED)
    return findings, result


class _Lets(dict):
    """The scope item and the rule's `let` names, each evaluated the first time it is read."""

    def __init__(self, name: str, item: Any, lets: list):
        super().__init__({name: item})
        self._lets = dict(lets)
        self.scope: Scope | None = None

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in self._lets

    def __missing__(self, name: str) -> Any:
        value = self[name] = self._lets[name](self.scope)
        return value


def _trace_of(item: Any) -> TraceView | None:
    return item.trace if isinstance(item, (FlowCase, DnatCase)) else None


def _finding(rule: RuleSpec, item: Any, scope: Scope, quoter: Quoter) -> Finding:
    trace = _trace_of(item)
    targets = _targets(rule.at(scope) if rule.at is not None else _default_at(item, trace))
    locations: list[Location] = []
    facts_at: list[Any] = []
    for target in targets:
        origin = _origin(target)
        if origin is None:
            continue
        location = Location(origin, quoter.line(origin))
        if location not in locations:
            locations.append(location)
            facts_at.append(target)
    if not locations:
        locations.append(Location(Origin("")))
    if rule.key is not None:
        key = rule.key.render(scope, display)
    elif facts_at and isinstance(facts_at[0], StepView) and facts_at[0].fact is None and locations[0].text:
        key = f"{locations[0].origin.file}: {locations[0].text.strip()}"  # the line's content, not its number
    elif facts_at and not isinstance(facts_at[0], (Origin, str)):
        key = identity(facts_at[0])
    else:
        key = identity(item)
    return Finding(rule=rule.id, severity=rule.doc.severity, title=rule.doc.title, category=rule.doc.category,
                   message=rule.message.render(scope, display), fix=rule.fix.render(scope, display), key=key,
                   locations=locations, paths=[trace.summary] if trace is not None else [],
                   trace=trace.trace if trace is not None else None)


def _default_at(item: Any, trace: TraceView | None) -> Any:
    if trace is not None:
        step = trace.decisive or trace.uncertain
        return step
    return item


def _targets(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v is not None]
    return [value]


def _origin(value: Any) -> Origin | None:
    """Where a value points: a fact's origin, a trace step's, or a file named by a string
    (something absent points at the file where it would be)."""
    if isinstance(value, Origin):
        return value
    if isinstance(value, str):
        return Origin(value)
    if isinstance(value, StepView):
        return value.origin
    if isinstance(value, TraceView):
        step = value.decisive
        return step.origin if step is not None else None
    origin = getattr(value, "origin", None)
    return origin if isinstance(origin, Origin) else None
