"""`netlint check --format junit`: one test suite per dump, one test case per rule, so CI
systems show which rule failed on which host, and which could not tell (skipped)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..model import Severity
from ..model.finding import SEVERITY_RANK, CheckReport, DumpReport, Finding, Outcome, RuleResult
from .sarif import artifact_path, finding_locations

# Characters XML 1.0 cannot hold even escaped (damaged dumps carry them): shown as \xNN.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _finding_text(dump: DumpReport, finding: Finding) -> str:
    lines = [f"{finding.severity.value}: {finding.message}"]
    for location in finding_locations(dump, finding):
        origin = location.origin
        where = artifact_path(dump.path, origin.file)
        lines.append(f"  at {where}" if origin.line is None else f"  at {where}:{origin.line}")
        if location.text is not None:
            lines.append(f"    {location.text}")
    lines.append(f"  fix: {finding.fix}")
    return "\n".join(lines)


def _failure(case: ET.Element, dump: DumpReport, result: RuleResult) -> None:
    findings = [f for f in dump.findings if f.rule == result.rule]
    worst = max((f.severity for f in findings), key=SEVERITY_RANK.__getitem__, default=Severity.ERROR)
    if not findings:
        message = result.reason or result.outcome.value
    elif len(findings) == 1:
        message = findings[0].message
    else:
        message = f"{len(findings)} findings, the first: {findings[0].message}"
    failure = ET.SubElement(case, "failure", message=_xml(message), type=worst.value)
    failure.text = _xml("\n\n".join(_finding_text(dump, f) for f in findings) or message)


def _suite(dump: DumpReport) -> tuple[ET.Element, dict[str, int]]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suite = ET.Element("testsuite", name=_xml(dump.path))
    if dump.error is not None:
        case = ET.SubElement(suite, "testcase", classname=_xml(dump.path), name="read-dump")
        ET.SubElement(case, "error", message=_xml(dump.error), type="input-error")
        counts["tests"] += 1
        counts["errors"] += 1
    for result in dump.results:
        case = ET.SubElement(suite, "testcase", classname=_xml(dump.path), name=_xml(result.rule))
        counts["tests"] += 1
        if result.outcome is Outcome.FAILED:
            _failure(case, dump, result)
            counts["failures"] += 1
        elif result.outcome in (Outcome.UNKNOWN, Outcome.NOT_APPLICABLE):
            ET.SubElement(case, "skipped", message=_xml(result.reason or result.outcome.value))
            counts["skipped"] += 1
    suite.attrib.update({k: str(v) for k, v in counts.items()})
    return suite, counts


def render_junit(report: CheckReport) -> str:
    root = ET.Element("testsuites", name="netlint")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for dump in report.dumps:
        suite, counts = _suite(dump)
        root.append(suite)
        for key, value in counts.items():
            totals[key] += value
    root.attrib.update({k: str(v) for k, v in totals.items()})
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
