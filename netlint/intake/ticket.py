"""Cutting a pasted ticket, chat log or markdown page into pieces (design.md §2, forms 3 and 4).

A paste mixes a person's words, markdown and the outputs of commands, some partial, grep-filtered
or cut mid-line. Its structure says where a piece may start or end: shell prompts of every style,
bare command lines, fences, HTML comments and markup, blank lines. Each run of lines between is
sniffed by content, with the command above it as evidence of the kind when the content is too
short or too cut to tell. The rules, applied everywhere:

- A text that is one output (a saved file; a few stray words beside it) is one piece, its
  parser accounting for each line. Otherwise every non-blank line is in one piece, and a piece
  starts and ends on a non-blank line. Lines are never added or removed, so a piece's lines are
  the file's lines (line N of a piece is line `first + N` of the file). A piece's text is
  cleaned for its parser only where markdown wraps an output: an inline-code backtick at a
  line's start or end, the indentation of an indented code block.
- `prose` is everything that is no output: a person's words, markup, command lines, and pasted
  text with no command shown that is no output netlint reads (a config file, a version string).
  The output under a command netlint does not read (`nmcli`, `ss`) is `unknown`.
- A prompt line is prose, except an echoed `#`/`$` prompt running `ip` right above `ip addr`
  output: the ip-addr parser reads that line and notes it, so it opens the piece. No other
  parser reads a command line.
- A piece belongs to the guest when it is Windows' (`route print`, a `PS C:\\>` prompt), when its
  prompt names another host than the host's (or a guest's name such as `vm`), or when the line
  leading into it says it was taken in the VM; else to the host. Prose is nobody's: host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from ..model import Kind, Role
from .sniff import (
    KNOWN_COMMANDS,
    SHELL_WRAPPERS,
    command_kind,
    command_words,
    empty_reason,
    fits,
    marker_kind,
    sniff,
)


@dataclass(frozen=True, slots=True)
class Piece:
    """Lines `first`..`last` (0-based, inclusive) of a text: one output, or prose. `text` is
    what its parser reads, one line per line of the text."""

    first: int
    last: int
    kind: Kind
    role: Role
    text: str
    command: str | None = None  # the command line above it, when the paste shows one


@dataclass(frozen=True, slots=True)
class _Command:
    """A command line: with a prompt (the host it names, Windows' or not) or bare."""

    command: str
    host: str | None = None
    windows: bool = False
    indent: int = 0
    echoed_for_ip: bool = False  # a `#`/`$` prompt running `ip`: the ip-addr parser reads it


# Shell builtins that print nothing worth reading (`exit` echoes `exit`).
_QUIET = (["exit"], ["logout"], ["cd"], ["clear"], ["export"])


class _Type(Enum):
    BLANK = auto()
    TEXT = auto()  # an output's line or a person's
    FENCE = auto()
    MARKUP = auto()  # HTML comments and tags, front matter
    COMMAND = auto()


# ---- prompts and command lines ----

_ARG = r"""(?:[^\s'"()]+|'[^']*'|"[^"]*")"""
_PROMPTS = [
    # [root@host ~]# cmd    [user@host dir]$ cmd
    re.compile(r"(?P<indent>\s*)\[(?:[^\]@\s]+@)?(?P<host>[^\]\s]+)[^\]]*\]\s?[#$](?:\s+(?P<cmd>.*))?$"),
    # root@host:~# cmd    user@host:/etc$ cmd    vm:~$ cmd    :~# cmd (host name removed)
    re.compile(r"(?P<indent>\s*)(?:\([^)\s]*\)\s*)?(?:[\w.-]+@)?(?P<host>[\w.-]*):[^\s#$]*[#$](?:\s+(?P<cmd>.*))?$"),
    # user@host ~ $ cmd (Gentoo)
    re.compile(r"(?P<indent>\s*)[\w.-]+@(?P<host>[\w.-]+)\s+\S+\s+[#$](?:\s+(?P<cmd>.*))?$"),
]
_WINDOWS_PROMPT = re.compile(r"(?P<indent>\s*)(?:PS )?[A-Za-z]:\\[^>]*>\s*(?P<cmd>.*)$")
# `$ cmd`, fish/starship `❯ cmd`, zsh `➜  dir cmd`; `# cmd` only for a known command (a markdown
# heading is `# Words`).
_BARE_PROMPT = re.compile(r"(?P<indent>\s*)(?:(?P<sign>[$#❯])|➜\s+\S+)\s+(?P<cmd>.*)$")
_COMMAND_START = re.compile(r"[A-Za-z./~]")
_BARE_COMMAND = re.compile(r"(?P<indent>\s*)(?P<cmd>(?:sudo\s+)?[a-z][\w.-]*(?:\s+" + _ARG + r"|\s+\|){0,12})\s*$")
_GUEST_NAME = re.compile(r"(^|[-_.])(vm|guest|domu|win)\d*($|[-_.])", re.I)


# Programs whose first argument is a subcommand word (`# ip a`, `# brctl show`).
_SUBCOMMANDS = {"ip", "brctl", "bridge", "nft", "virsh", "nmcli", "docker", "podman", "systemctl", "route"}
_INTERFACE = re.compile(r"[a-z]+[\d.]+\w*$")
# The echoed command line the ip-addr parser reads (grammars/ip_addr.lark, PROMPT_LINE).
_IP_ECHO = re.compile(r"(?:\[[^\]\n]*\]|[^\s#$]*)[#$][ \t]*(?:sudo[ \t]+)?ip(?:[ \t].*)?$")


def _args_look_like_a_command(words: list[str]) -> bool:
    """`# ip -4 a s` is a root prompt; `# sysctl settings are defined here` a comment line."""
    if len(words) < 2:
        return True
    first = words[1]
    return (words[0] in _SUBCOMMANDS or first.startswith(("-", "/", "|")) or any(c in first for c in ".:=")
            or bool(_INTERFACE.match(first)))


def _bare_command(command: str) -> bool:
    """A line that is a command with its arguments, not a sentence about one: `ip route show
    table all` is, `ping works fine from the host` is not."""
    words = command_words(command)
    if not words or words[0] not in KNOWN_COMMANDS or words[1:2] == ["="]:
        return False  # `bridge = "br0"` in a config file
    if _COLUMNS.search(command) or marker_kind(command) is not None:
        return False  # a table's header (`bridge name  bridge id  STP enabled`)
    return not _sentence(command) or command_kind(command) is not Kind.UNKNOWN and len(words) <= 6


# Every prompt holds one of these.
_PROMPT_SIGNS = re.compile(r"[#$>❯➜]")


def _prompt(line: str) -> _Command | None:
    """The command after a shell prompt, if `line` starts with one."""
    for pattern in _PROMPTS:
        found = pattern.match(line)
        if found:
            return _Command((found["cmd"] or "").strip(), found["host"] or None, indent=len(found["indent"]),
                            echoed_for_ip=bool(_IP_ECHO.match(line)))
    found = _WINDOWS_PROMPT.match(line)
    if found:
        return _Command(found["cmd"].strip(), windows=True, indent=len(found["indent"]))
    found = _BARE_PROMPT.match(line)
    if found and _COMMAND_START.match(found["cmd"]):
        words = command_words(found["cmd"])
        if found["sign"] != "#" or words and words[0] in KNOWN_COMMANDS and _args_look_like_a_command(words):
            return _Command(found["cmd"].strip(), indent=len(found["indent"]), echoed_for_ip=bool(_IP_ECHO.match(line)))
    return None


def _command(line: str) -> _Command | None:
    """The command line `line` is, with a prompt or bare, if it is one."""
    if _PROMPT_SIGNS.search(line) and (prompt := _prompt(line)) is not None:
        return prompt
    if line.split(None, 1)[0] not in KNOWN_COMMANDS | SHELL_WRAPPERS:
        return None
    found = _BARE_COMMAND.match(line)
    if found and _bare_command(found["cmd"]):
        return _Command(found["cmd"].strip(), indent=len(found["indent"]))
    return None


# ---- markup ----

_FENCE = re.compile(r"\s*(`{3,}|~{3,})\s*[\w+#.-]*\s*$")
# The frame `script` writes around a typescript.
_SCRIPT_FRAME = re.compile(r"Script (started|done) on \d")
_TAG = re.compile(r"\s*</?(details|summary|pre|code|br|p|div|kbd|b|i|em|strong|sub|sup|hr)\b[^>]*>\s*$", re.I)


def _scan(lines: list[str]) -> tuple[list[_Type], dict[int, _Command]]:
    """The type of each line, and the command line each COMMAND line is."""
    types: list[_Type] = []
    commands: dict[int, _Command] = {}
    in_comment = False
    front = bool(lines) and lines[0].strip() == "---"
    for index, line in enumerate(lines):
        stripped = line.strip()
        if front:
            types.append(_Type.MARKUP)
            front = index == 0 or stripped != "---"
        elif in_comment or stripped.startswith("<!--"):
            types.append(_Type.MARKUP)
            in_comment = "-->" not in stripped
        elif not stripped:
            types.append(_Type.BLANK)
        elif stripped[:3] in ("```", "~~~") and _FENCE.match(line):
            types.append(_Type.FENCE)
        elif stripped[0] in "<S" and (_TAG.match(line) or _SCRIPT_FRAME.match(line)):
            types.append(_Type.MARKUP)
        elif (command := _command(line)) is not None:
            types.append(_Type.COMMAND)
            commands[index] = command
        else:
            types.append(_Type.TEXT)
    return types, commands


# ---- a person's words ----

_CJK = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")
_PLAIN_WORD = re.compile(r"[(\"'*_`]*[A-Za-z][a-z'’]*[)\"'*_`,.;:!?]*$")
_COLUMNS = re.compile(r"\S(?: {2,}|\t)\S")
_WORD = re.compile(r"\b[A-Za-z]{2,}\b")
# Fewer words than this beside a single output are more likely a line of that output
# (`eth9: error fetching interface information: Device not found`) than a person's.
_PROSE_WORDS = 8


def _sentence(line: str) -> bool:
    """A line a person wrote: mostly plain words, not in aligned columns (or CJK text)."""
    if _CJK.search(line):
        return True
    stripped = line.strip()
    if not stripped or _COLUMNS.search(stripped):
        return False
    tokens = stripped.split()
    words = sum(1 for token in tokens if _PLAIN_WORD.match(token))
    return words >= 3 and words * 5 >= len(tokens) * 3


_LEAD_IN = re.compile(r"[*_`]*[A-Za-z][^:]*:[*_`]*$")


def _is_prose(lines: list[str]) -> bool:
    """Most lines read as sentences, or it is one line leading into what follows (`My config:`);
    and it is not markup, such as the comment libvirt writes above a network's XML."""
    if lines[0].lstrip().startswith("<"):
        return False
    if len(lines) == 1 and _LEAD_IN.match(lines[0].strip()):
        return True
    return sum(1 for line in lines if _sentence(line)) * 2 >= len(lines)


# ---- outputs ----

_STRAY = None  # a block of no known kind that does not read as sentences


def _confident(kind: Kind, lines: list[str]) -> bool:
    """One matching line is not enough to call a block an output (a stray line inside an output
    could look like something else); a marker is."""
    seen = 0
    for line in lines:
        if marker_kind(line) is kind:
            return True
        seen += fits(kind, line)
        if seen == 2:
            return True
    return False


def _block_kind(lines: list[str], evidence: Kind | None) -> Kind | None:
    """The kind of one blank-line-separated block; `evidence` is the kind its command prints
    (`unknown` for a command netlint does not read, None without a command)."""
    text = "\n".join(lines)
    kind = sniff(text)
    if kind is not Kind.UNKNOWN and _confident(kind, lines):
        return kind
    if evidence is not None and empty_reason(text) is not None:
        return _STRAY  # the command's error (`-bash: brctl: command not found`), not a person's words
    if evidence not in (None, Kind.UNKNOWN) and any(fits(evidence, line) for line in lines):
        return evidence
    if kind is not Kind.UNKNOWN and evidence is not None:
        return kind
    return Kind.PROSE if _is_prose(lines) else _STRAY


def _trim(lines: list[str], kind: Kind) -> tuple[int, int]:
    """The output inside a block: sentences at its edges (`**Output of ifconfig in the VM:**`
    with no blank line under it) are a person's."""
    def words(line: str) -> bool:
        return not line[:1].isspace() and _sentence(line) and not fits(kind, line)
    first, last = 0, len(lines) - 1
    while first <= last and words(lines[first]):
        first += 1
    while last >= first and words(lines[last]):
        last -= 1
    return first, last


# Lines of an output enough to tell its kind (sniff reads no more than 200).
_SNIFF_WINDOW = 200


def _split_at_markers(lines: list[str]) -> list[int]:
    """Offsets where a block holding two outputs back to back (no blank line, no prompt) turns
    from one kind to another at a marker (`Kernel IP routing table`, `Chain INPUT (policy …)`)."""
    starts = [0]
    for offset, line in enumerate(lines):
        found = marker_kind(line)
        if found is not None and offset > starts[-1]:
            before = sniff("\n".join(lines[starts[-1]:min(offset, starts[-1] + _SNIFF_WINDOW)]))
            if before not in (Kind.UNKNOWN, found):
                starts.append(offset)
    return starts


# ---- cleaning for the parser ----

_DEDENT = 4


def _unquote(line: str) -> str:
    """Drop the backtick of an inline-code span that opens or closes at the line's edge."""
    if line.count("`") == 1:
        if line.startswith("`"):
            return line[1:]
        if line.endswith("`"):
            return line[:-1]
    return line


def _code_indented(line: str) -> bool:
    return line.startswith("\t") or line[:_DEDENT] == " " * _DEDENT


def _dedent(line: str, width: int) -> str:
    return line[width:] if line[:width].isspace() else line


# ---- roles ----

_GUEST_WORDS = re.compile(r"\b(vms?|guests?|domu|virtual machines?)\b", re.I)
_HOST_WORDS = re.compile(r"\b(hosts?|hypervisor|dom0|locally|local|bare[- ]metal)\b", re.I)


def _lead_in_role(line: str) -> Role | None:
    guest, host = _GUEST_WORDS.search(line), _HOST_WORDS.search(line)
    if guest and not host:
        return Role.GUEST
    if host and not guest:
        return Role.HOST
    return None


# ---- segmentation ----


@dataclass(slots=True)
class _Part:
    """Lines `first`..`last`: an output of `kind`, prose, or (kind None) a stray block."""

    first: int
    last: int
    kind: Kind | None
    command: _Command | None = None


class _Segmenter:
    """Cuts the lines of a paste into parts and says whose each part is."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.clean = list(lines)
        self.types, self.commands = _scan(lines)
        self.parts: list[_Part] = []

    def command_before(self, start: int) -> tuple[int, _Command] | tuple[None, None]:
        """The command line an output starting at `start` was printed by: above it, with only
        fences and blank lines between."""
        index = start - 1
        while index >= 0 and self.types[index] in (_Type.BLANK, _Type.FENCE):
            index -= 1
        if index >= 0 and self.types[index] is _Type.COMMAND:
            return index, self.commands[index]
        return None, None

    def regions(self) -> list[tuple[int, int]]:
        """Runs of text and blank lines between prompts, fences and markup."""
        found, start = [], None
        for index, kind in enumerate([*self.types, _Type.FENCE]):
            if kind in (_Type.TEXT, _Type.BLANK):
                start = index if start is None else start
            elif start is not None:
                found.append((start, index - 1))
                start = None
        return found

    def blocks(self, first: int, last: int) -> list[tuple[int, int]]:
        """Runs of non-blank lines within lines `first`..`last`."""
        found, start = [], None
        for index in range(first, last + 2):
            blank = index > last or self.types[index] is _Type.BLANK
            if not blank and start is None:
                start = index
            elif blank and start is not None:
                found.append((start, index - 1))
                start = None
        return found

    def region(self, first: int, last: int) -> None:
        """The pieces of a run of lines between prompts, fences and markup."""
        prompt_at, command = self.command_before(first)
        if command is not None and command_words(command.command)[:1] in ([], *_QUIET):
            command = None  # a bare prompt, `exit`: what follows is no output of a command
        evidence = command_kind(command.command) if command else None
        for index in range(first, last + 1):
            line = _unquote(self.lines[index])
            self.clean[index] = _dedent(line, command.indent) if command and command.indent else line
        blocks = [part for a, b in self.blocks(first, last) for part in self.block(a, b, evidence)]
        parts = _joined(blocks, commanded=command is not None)
        for part in parts:
            part.command = command if part.kind is not Kind.PROSE else None
        outputs = [p for p in parts if p.kind is not Kind.PROSE]
        if (command is not None and command.echoed_for_ip and outputs and outputs[0].kind is Kind.IP_ADDR
                and all(self.types[i] is _Type.BLANK for i in range(prompt_at + 1, outputs[0].first))):
            outputs[0].first = prompt_at  # the ip-addr parser reads the echoed prompt
        self.parts.extend(parts)

    def block(self, first: int, last: int, evidence: Kind | None) -> list[_Part]:
        """One blank-line-separated block, cut where it turns from one output to another and
        where a person's sentences sit at its edges."""
        lines = self.clean[first:last + 1]
        if evidence is None and all(_code_indented(line) for line in lines) and sniff("\n".join(lines)) is Kind.UNKNOWN:
            dedented = [line[1:] if line.startswith("\t") else line[_DEDENT:] for line in lines]
            if sniff("\n".join(dedented)) is not Kind.UNKNOWN:
                self.clean[first:last + 1] = lines = dedented  # a markdown indented code block
        starts = _split_at_markers(lines)
        parts = []
        for start, end in zip(starts, [*starts[1:], len(lines)]):
            chunk = lines[start:end]
            kind = _block_kind(chunk, evidence)
            if kind in (_STRAY, Kind.PROSE):
                parts.append(_Part(first + start, first + end - 1, kind))
                continue
            head, tail = _trim(chunk, kind)
            if head > tail:
                parts.append(_Part(first + start, first + end - 1, Kind.PROSE))
                continue
            if head:
                parts.append(_Part(first + start, first + start + head - 1, Kind.PROSE))
            parts.append(_Part(first + start + head, first + start + tail, kind))
            if tail < len(chunk) - 1:
                parts.append(_Part(first + start + tail + 1, first + end - 1, Kind.PROSE))
        return parts

    def run(self) -> list[_Part]:
        """Every part, in order: outputs, and prose between them (markup, prompts, words)."""
        for first, last in self.regions():
            self.region(first, last)
        taken = {i for p in self.parts for i in range(p.first, p.last + 1)}
        for index, kind in enumerate(self.types):
            if kind is not _Type.BLANK and index not in taken:
                self.parts.append(_Part(index, index, Kind.PROSE))
        self.parts.sort(key=lambda p: p.first)
        merged: list[_Part] = []
        for part in self.parts:
            if merged and merged[-1].kind is Kind.PROSE and part.kind is Kind.PROSE:
                merged[-1].last = part.last
            else:
                merged.append(part)
        for part in merged:  # a prose piece ends on a non-blank line
            while part.last > part.first and self.types[part.last] is _Type.BLANK:
                part.last -= 1
        return merged

    def roles(self, parts: list[_Part]) -> list[Role]:
        """Whose each part is: the host, whose name the first prompt that names no guest gives,
        or the guest."""
        named = [c.host for c in self.commands.values() if c.host]
        host_name = next((name for name in named if not _GUEST_NAME.search(name)), None)
        roles: list[Role] = []
        previous: Role | None = None
        for number, part in enumerate(parts):
            if part.kind is Kind.PROSE:
                roles.append(Role.HOST)
                continue
            command = part.command
            if part.kind is Kind.ROUTE_PRINT or command is not None and command.windows:
                role = Role.GUEST
            elif command is not None and command.host:
                guest = _GUEST_NAME.search(command.host) or host_name and command.host != host_name
                role = Role.GUEST if guest else Role.HOST
            else:
                role = self.lead_in(parts, number, previous)
            roles.append(role)
            previous = role
        return roles

    def lead_in(self, parts: list[_Part], number: int, previous: Role | None) -> Role:
        """The role the words leading into an output give it (`ifconfig within the vm`); an
        output with no words before it since the last output is that output's company."""
        before = parts[number - 1] if number else None
        if before is None or before.kind is not Kind.PROSE:
            return previous or Role.HOST
        for index in range(before.last, before.first - 1, -1):
            if self.types[index] is _Type.TEXT:
                return _lead_in_role(self.lines[index]) or Role.HOST
        return previous or Role.HOST


def _joined(parts: list[_Part], commanded: bool) -> list[_Part]:
    """One region's blocks as parts. Neighbours of one kind join. A stray block (no kind, no
    sentences) belongs to the output before it; before any output it is the output of the
    command above (`unknown`), or without a command joins the output right after it or is prose."""
    joined: list[_Part] = []
    pending: _Part | None = None
    for part in parts:
        previous = joined[-1] if joined else None
        if part.kind is _STRAY:
            if previous is not None and previous.kind is not Kind.PROSE:
                previous.last = part.last
            elif commanded and previous is None:
                joined.append(_Part(part.first, part.last, Kind.UNKNOWN))
            elif pending is None:
                pending = part
            else:
                pending.last = part.last
            continue
        if pending is not None:
            if part.kind is Kind.PROSE:
                joined.append(_Part(pending.first, pending.last, Kind.PROSE))
            else:
                part.first = pending.first
            pending, previous = None, joined[-1] if joined else None
        if previous is not None and previous.kind is part.kind and part.kind is not Kind.PROSE:
            previous.last = part.last
        else:
            joined.append(part)
    if pending is not None:
        joined.append(_Part(pending.first, pending.last, Kind.PROSE))
    return joined


def _plain(lines: list[str], types: list[_Type]) -> Kind | None:
    """The kind of a text that is one output and nothing else (a stray line of no kind, a few
    words), or None. A file of one output stays one piece: its parser accounts for each line."""
    if any(t not in (_Type.BLANK, _Type.TEXT) for t in types):
        return None
    kinds, words, start = set(), 0, None
    for index, line in enumerate([*lines, ""]):
        if line.strip() and start is None:
            start = index
        elif not line.strip() and start is not None:
            block = lines[start:index]
            kind = _block_kind(block, None)
            if kind is Kind.PROSE:
                words += len(_WORD.findall(" ".join(block)))
            elif kind is not _STRAY:
                kinds.add(kind)
                head, tail = _trim(block, kind)
                words += len(_WORD.findall(" ".join(block[:head] + block[tail + 1:])))
            start = None
    if len(kinds) < 2 and (not kinds or words < _PROSE_WORDS):
        return next(iter(kinds), Kind.UNKNOWN)
    return None


def segment(text: str) -> list[Piece]:
    """The pieces of a text holding outputs and a person's words, in order. A text that is one
    output (the common case of a saved file) is one piece covering every line."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    segmenter = _Segmenter(lines)
    whole = _plain(lines, segmenter.types)
    if whole is not None:
        return [Piece(0, max(len(lines) - 1, 0), whole, Role.HOST, text)]
    parts = segmenter.run()
    pieces = []
    for part, role in zip(parts, segmenter.roles(parts)):
        source = segmenter.lines if part.kind is Kind.PROSE else segmenter.clean
        pieces.append(Piece(part.first, part.last, part.kind, role,
                            "\n".join(source[part.first:part.last + 1]) + "\n",
                            part.command.command if part.command is not None else None))
    return pieces
