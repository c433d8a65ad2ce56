"""`netlint check --format github`: GitHub Actions workflow commands, one annotation per finding.

Files are named as in SARIF (the dump's path joined with the file inside it). Values are
escaped as the runner unescapes them: `%`, CR and LF everywhere, and `:` `,` in properties,
which would otherwise end a property early. Other control characters from a damaged dump are
shown as `\\xNN`, so an annotation cannot colour the job log.
"""

from __future__ import annotations

from ..model import Severity
from ..model.finding import CheckReport
from .sarif import artifact_path, finding_locations

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f]}
COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").translate(_CONTROL)


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: CheckReport) -> str:
    """One line per finding, at its first location (an annotation has one place), and one per
    dump that could not be read."""
    lines = []
    for dump in report.dumps:
        if dump.error is not None:
            lines.append(f"::error file={escape_property(artifact_path(dump.path, dump.path))},title=netlint::"
                         f"{escape_data(dump.error)}")
        for finding in dump.findings:
            origin = finding_locations(dump, finding)[0].origin
            props = [f"file={escape_property(artifact_path(dump.path, origin.file))}"]
            if origin.line is not None:
                props.append(f"line={origin.line}")
            props.append(f"title={escape_property(finding.rule)}")
            lines.append(f"::{COMMANDS[finding.severity]} {','.join(props)}::{escape_data(finding.message)}")
    return "".join(line + "\n" for line in lines)
