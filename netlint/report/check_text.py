"""`netlint check --format text`: what a person at a terminal reads, dump by dump.

Everything quoted from a dump (lines, names in messages) may hold control characters from a
damaged capture; they are shown escaped, so a dump can never colour or move the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import ParseResult, Severity, Status
from ..model.finding import SEVERITY_RANK, CheckReport, DumpReport, Finding
from .sarif import artifact_path

PATHS_SHOWN = 5
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f]}
_STYLES = {"bold": "1", "dim": "2", "red": "1;31", "yellow": "1;33", "cyan": "1;36", "green": "32"}
_SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def use_color(stream: Any, environ: Mapping[str, str]) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set to anything (no-color.org)."""
    if environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False


class _Out:
    """Lines being written; `paint` escapes what it is given before colouring it."""

    def __init__(self, color: bool) -> None:
        self.color = color
        self.lines: list[str] = []

    def paint(self, text: Any, style: str | None = None) -> str:
        clean = str(text).translate(_CONTROL)
        if not self.color or style is None:
            return clean
        return f"\x1b[{_STYLES[style]}m{clean}\x1b[0m"

    def add(self, *parts: str) -> None:
        self.lines.append("".join(parts))


def _indented(text: str, indent: str) -> str:
    """A text of several lines, its later lines lined up under the first."""
    return text.replace("\n", "\n" + indent)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 or word == "info" else f"{count} {word}s"


def _input_status(result: ParseResult) -> str:
    source = result.source
    if result.status is Status.EMPTY:
        return f"empty: {source.empty_reason}"
    unread = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    first = unread[0]
    return (f"{result.status.value}: {_plural(len(unread), 'unrecognized line')}, "
            f"first at line {first.origin.line}: {first.message}")


def _inputs(out: _Out, dump: DumpReport) -> None:
    for result in dump.inputs:
        if result.status is Status.PARSED:
            continue
        source = result.source
        span = f"{source.first_line}-{source.last_line}"
        where = f"lines {span}" if artifact_path(dump.path, source.file) == artifact_path(dump.path, dump.path) \
            else f"{source.file}:{span}"
        out.add("  ", out.paint(where), "  ", out.paint(source.kind.value), "  ",
                out.paint(_input_status(result), "yellow" if result.status is not Status.PARTIAL else None))


def _finding(out: _Out, dump: DumpReport, finding: Finding) -> None:
    out.add(out.paint(finding.severity.value, _SEVERITY_STYLE[finding.severity]), " ",
            out.paint(finding.rule, "bold"), "  ", out.paint(finding.title))
    out.add("  ", _indented(out.paint(finding.message), "  "))
    for location in finding.locations:
        origin = location.origin
        where = artifact_path(dump.path, origin.file) + ("" if origin.line is None else f":{origin.line}")
        out.add("  ", out.paint(where, "dim"))
        if location.text is not None:
            out.add("      ", out.paint(location.text.rstrip()))
    if finding.paths:
        out.add("  flows:")
        for path in finding.paths[:PATHS_SHOWN]:
            out.add("    ", out.paint(path))
        if len(finding.paths) > PATHS_SHOWN:
            out.add(f"    … and {len(finding.paths) - PATHS_SHOWN} more")
    out.add("  ", out.paint("fix:", "green"), " ", _indented(out.paint(finding.fix), "       "))


def _counts(dump: DumpReport) -> str:
    return (f"{_plural(dump.count(Severity.ERROR), 'error')}, {_plural(dump.count(Severity.WARNING), 'warning')}, "
            f"{_plural(dump.count(Severity.INFO), 'info')}, {len(dump.suppressed)} suppressed")


def _dump(out: _Out, dump: DumpReport) -> None:
    out.add(out.paint(dump.path, "bold"))
    if dump.error is not None:
        out.add("  ", out.paint("not read:", "red"), " ", out.paint(dump.error))
        out.add("")
        return
    _inputs(out, dump)
    out.add("")
    ordered = sorted(dump.findings, key=lambda f: -SEVERITY_RANK[f.severity])
    for finding in ordered:
        _finding(out, dump, finding)
        out.add("")
    out.add(out.paint(dump.path), ": ", out.paint(_counts(dump), "bold"))
    out.add("")


def _table(out: _Out, dumps: list[DumpReport]) -> None:
    width = max(len(out.paint(d.path)) for d in dumps)
    out.add(f"{'dump':<{width}}  errors  warnings  info  suppressed")
    for dump in dumps:
        name = out.paint(dump.path)
        if dump.error is not None:
            out.add(f"{name:<{width}}  ", out.paint("not read", "red"))
            continue
        out.add(f"{name:<{width}}  {dump.count(Severity.ERROR):>6}  {dump.count(Severity.WARNING):>8}  "
                f"{dump.count(Severity.INFO):>4}  {len(dump.suppressed):>10}")


def render_text(report: CheckReport, color: bool) -> str:
    out = _Out(color)
    for dump in report.dumps:
        _dump(out, dump)
    if len(report.dumps) > 1:
        _table(out, report.dumps)
    return "\n".join(out.lines).rstrip("\n") + "\n"
