"""`netlint check --format sarif`: SARIF 2.1.0 for code scanning (design.md §5).

Every URI is the dump's path as given joined with the file inside it, so the same file name on
two hosts never collides; fingerprints come from the rule and the fact, not from line numbers, so
an alert survives a dump whose lines moved.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from ..model import Origin, Severity
from ..model.finding import CheckReport, DumpReport, Finding, Location, RuleDoc

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "netlint/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def artifact_path(dump: str, file: str) -> str:
    """Where `file` (as the dump names it) is for a reader outside the dump, with forward
    slashes. A file that is the dump itself (a ticket, or a note about the whole dump) is the
    dump's path."""
    base = PurePath(dump).as_posix()
    if PurePath(file).as_posix() == base:
        return posixpath.normpath(base)
    return posixpath.normpath(posixpath.join(base, file))


def finding_locations(dump: DumpReport, finding: Finding) -> list[Location]:
    """The places a finding points at; one without any points at the dump itself, since code
    scanning and annotations need a file."""
    return finding.locations or [Location(Origin(dump.path))]


def _rule_name(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def _rule_json(rule: RuleDoc) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": _rule_name(rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {"text": f"{rule.description}\n\nFix: {rule.fix}"},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"category": rule.category, "scope": rule.scope, "tags": [rule.category],
                       "references": rule.references},
    }


def _location_json(dump: str, location: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(artifact_path(dump, location.origin.file))}}
    if location.origin.line is not None:
        region: dict[str, Any] = {"startLine": location.origin.line}
        if location.text is not None:
            region["snippet"] = {"text": location.text}
        physical["region"] = region
    return {"physicalLocation": physical}


def _result_json(dump: DumpReport, finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"ruleId": finding.rule}
    if finding.rule in index:
        out["ruleIndex"] = index[finding.rule]
    out.update({
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location_json(dump.path, loc) for loc in finding_locations(dump, finding)],
        "partialFingerprints": {FINGERPRINT: finding.fingerprint},
        "properties": {"title": finding.title, "category": finding.category, "key": finding.key,
                       "fix": finding.fix, "paths": finding.paths},
    })
    return out


def _invocation(report: CheckReport) -> dict[str, Any]:
    """A dump that could not be read at all makes the run unsuccessful (exit 2)."""
    unread = [d for d in report.dumps if d.error is not None]
    out: dict[str, Any] = {"executionSuccessful": not unread}
    if unread:
        out["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": d.error},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": quote(artifact_path(d.path, d.path))}}}]}
            for d in unread]
    return out


def sarif_json(report: CheckReport) -> dict[str, Any]:
    index = {rule.id: i for i, rule in enumerate(report.rules)}
    results = []
    for dump in report.dumps:
        results.extend(_result_json(dump, f, index) for f in dump.findings)
        for quiet in dump.suppressed:
            result = _result_json(dump, quiet.finding, index)
            result["suppressions"] = [{"kind": "external", "justification": quiet.reason}]
            results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "netlint", "version": report.version, "semanticVersion": report.version,
                                "rules": [_rule_json(r) for r in report.rules]}},
            "invocations": [_invocation(report)],
            "results": results,
        }],
    }


def render_sarif(report: CheckReport) -> str:
    return json.dumps(sarif_json(report), indent=2) + "\n"
