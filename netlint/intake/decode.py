"""Bytes to text: never fails, and says where it had to guess."""

from __future__ import annotations

from ..model import Diagnostic, Origin, Severity

_MAX_REPORTED = 20


def decode(data: bytes, file: str) -> tuple[str, list[Diagnostic]]:
    """UTF-8 text with `\\n` line ends. Undecodable bytes become U+FFFD and each line holding
    one is reported (a warning: the line is still read). A UTF-8 BOM is dropped."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    diagnostics: list[Diagnostic] = []
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        lines = text.split("\n")
        bad = [n for n, line in enumerate(lines, 1) if "\ufffd" in line]
        for number in bad[:_MAX_REPORTED]:
            line = lines[number - 1]
            diagnostics.append(Diagnostic(
                Origin(file, number, line.index("\ufffd") + 1),
                "bytes that are not UTF-8 were replaced by U+FFFD", line, Severity.WARNING))
        if len(bad) > _MAX_REPORTED:
            diagnostics.append(Diagnostic(
                Origin(file, bad[_MAX_REPORTED]),
                f"{len(bad) - _MAX_REPORTED} more lines hold bytes that are not UTF-8", "", Severity.WARNING))
    return text, diagnostics
