"""`netlint check --format json`: the shape of design.md §5. Fields may be added, never renamed.

Inputs are `netlint parse`'s pieces without their `data`: a check report says how each file
was read, not every fact in it (a large ruleset would be megabytes per host).
"""

from __future__ import annotations

import json
from typing import Any

from ..model import Severity
from ..model.finding import CheckReport, DumpReport, Finding, Location
from .parse_output import input_json
from .trace_output import trace_json

_SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def _location_json(location: Location) -> dict[str, Any]:
    origin = location.origin
    # A finding about something absent from the dump points at the dump itself: file null.
    return {"file": origin.file or None, "line": origin.line, "column": origin.column, "text": location.text}


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "message": finding.message,
        "locations": [_location_json(loc) for loc in finding.locations],
        "fix": finding.fix,
        "trace": None if finding.trace is None else trace_json(finding.trace),
        "title": finding.title,
        "category": finding.category,
        "key": finding.key,
        "fingerprint": finding.fingerprint,
        "paths": finding.paths,
    }


def _summary(dump: DumpReport) -> dict[str, int]:
    return {s.value: dump.count(s) for s in _SEVERITIES}


def dump_json(dump: DumpReport) -> dict[str, Any]:
    return {
        "path": dump.path,
        "error": dump.error,
        "inputs": [input_json(r) for r in dump.inputs],
        "findings": [finding_json(f) for f in dump.findings],
        "suppressed": [{**finding_json(s.finding), "reason": s.reason} for s in dump.suppressed],
        "results": [{"rule": r.rule, "outcome": r.outcome.value, "reason": r.reason} for r in dump.results],
        "summary": _summary(dump),
    }


def check_json(report: CheckReport) -> dict[str, Any]:
    return {"netlint": report.version, "dumps": [dump_json(d) for d in report.dumps], "summary": report.summary()}


def render_json(report: CheckReport) -> str:
    return json.dumps(check_json(report), indent=2) + "\n"
