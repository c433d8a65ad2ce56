"""Bytes to text: never fails, and says where it had to guess."""

from __future__ import annotations

from ..model import Diagnostic, Origin, Severity

_MAX_REPORTED = 20


def _damaged(data: bytes) -> tuple[str, str] | None:
    """The character that marks damage in the decoded text, and what to say of it."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "\ufffd", "bytes that are not UTF-8 were replaced by U+FFFD"
    if b"\x00" in data:
        return "\x00", "NUL bytes in the text: the file may be binary or damaged"
    return None


def decode(data: bytes, file: str) -> tuple[str, list[Diagnostic]]:
    """UTF-8 text with `\\n` line ends. Undecodable bytes become U+FFFD, and each line holding
    one (or a NUL) is reported: a warning, the line is still read. A UTF-8 BOM is dropped."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    damage = _damaged(data)
    if damage is None:
        return text, []
    mark, message = damage
    lines = text.split("\n")
    bad = [n for n, line in enumerate(lines, 1) if mark in line]
    diagnostics = [Diagnostic(Origin(file, n, lines[n - 1].index(mark) + 1), message, lines[n - 1], Severity.WARNING)
                   for n in bad[:_MAX_REPORTED]]
    if len(bad) > _MAX_REPORTED:
        diagnostics.append(Diagnostic(Origin(file, bad[_MAX_REPORTED]),
                                      f"{len(bad) - _MAX_REPORTED} more lines like these", "", Severity.WARNING))
    return text, diagnostics
