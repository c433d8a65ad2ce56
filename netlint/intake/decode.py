"""Bytes to text: never fails, and says where it had to guess."""

from __future__ import annotations

import re

from ..model import Diagnostic, Origin, Severity

_MAX_REPORTED = 20
# The terminal codes a capture picks up: colours (`ip -c`, `grep --color`'s `ESC[m ESC[K`) and
# mode switches (a `script` typescript's bracketed paste, `ESC[?2004h`). Any other escape is
# no part of an output: it stays, and the parser reports the line.
_ANSI = re.compile(r"\x1b\[[0-9;]*[mK]|\x1b\[\?[0-9;]*[hl]")
_CARRIAGE = re.compile(r"[^\n]*\r[^\n]*")


def _returned(match: re.Match[str]) -> str:
    """A line holding a carriage return shows what was written after the last one (a
    typescript's `ESC[?2004l\r1: lo: …`), or the line without it when nothing follows."""
    after = match.group().rsplit("\r", 1)[1]
    return after if after.strip() else match.group().replace("\r", "")


def _lines(text: str) -> str:
    """`\n` line ends, one line per line a person sees in an editor or `grep -n`: CRLF and a
    CR-only file's CRs end lines; a CR inside a line is a terminal's carriage return."""
    text = text.replace("\r\n", "\n")
    if "\n" not in text:
        return text.replace("\r", "\n")
    return _CARRIAGE.sub(_returned, text) if "\r" in text else text


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
    """UTF-8 text with `\\n` line ends and no colour codes, line for line the file's.
    Undecodable bytes become U+FFFD, and each line holding one (or a NUL) is reported: a
    warning, the line is still read. A UTF-8 BOM is dropped."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    text = _lines(_ANSI.sub("", text) if "\x1b" in text else text)
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
