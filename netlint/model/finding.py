"""What the rules conclude about a dump: findings, each rule's outcome, and the rule documentation
the reports carry (SARIF's `tool.driver.rules`, `netlint rules ID`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .diagnostic import Severity
from .origin import Origin
from .parse_result import ParseResult

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the dump a finding points at; `text` is the quoted line (None when the finding is
    about something absent, which points at a file or at the dump without a line)."""

    origin: Origin
    text: str | None = None


@dataclass(slots=True)
class RuleDoc:
    """A rule as a person reads it: ruff-style what / why / normal cases / fix / references."""

    id: str
    title: str
    severity: Severity
    category: str
    scope: str
    description: str
    fix: str
    normal: list[str] = field(default_factory=list)
    example: str = ""
    references: list[str] = field(default_factory=list)
    path: str = ""


@dataclass(slots=True)
class Finding:
    """One thing a rule found. `key` names the fact it is about (an interface, a sysctl, a
    network): with the rule id it makes the fingerprint, which survives line renumbering.
    `paths` are the representative flows the finding blocks, one short line each; `trace` is the
    first of them, whole."""

    rule: str
    severity: Severity
    title: str
    category: str
    message: str
    fix: str
    key: str
    locations: list[Location] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    trace: Any = None

    @property
    def fingerprint(self) -> str:
        import hashlib

        return hashlib.sha256(f"{self.rule}\0{self.key}".encode()).hexdigest()[:32]


class Outcome(str, Enum):
    """How a rule ended on one dump: JUnit's passed / failed / skipped."""

    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"        # the dump cannot tell (evidence missing): a skipped test case
    NOT_APPLICABLE = "not-applicable"   # nothing in the dump for this rule to look at
    SUPPRESSED = "suppressed"  # every finding it made was suppressed by configuration


@dataclass(slots=True)
class RuleResult:
    rule: str
    outcome: Outcome
    reason: str = ""


@dataclass(slots=True)
class Suppressed:
    """A finding configuration suppressed, with the reason the configuration gave."""

    finding: Finding
    reason: str


@dataclass(slots=True)
class DumpReport:
    """Everything `netlint check` says about one dump. `error` is set when the dump could not be
    read at all (exit 2); `inputs` are its parse results, as `netlint parse` reports them."""

    path: str
    inputs: list[ParseResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    results: list[RuleResult] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    error: str | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


@dataclass(slots=True)
class CheckReport:
    """One `netlint check` run: the dumps in the order given and the rules that ran."""

    version: str
    dumps: list[DumpReport] = field(default_factory=list)
    rules: list[RuleDoc] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {s.value: sum(d.count(s) for d in self.dumps) for s in (Severity.ERROR, Severity.WARNING,
                                                                        Severity.INFO)}
