"""Reading a sosreport (design.md §2, form 2): its outputs are found by path, not by content.

A sosreport holds thousands of files; netlint reads only those its path table
(`sos_paths.py`) names, one per kind: the first present that holds output, best first.
The choice is a note (`info`) on the source read, so `netlint parse` shows which file
was read instead of which. Sources are named by their path relative to the folder the user
gave (in an archive: to the report's root), so a finding points at
`sos_commands/kernel/sysctl_-a` line N.

The same choice serves unpacked folders (here) and archives (`archive.py`), which hand in
the files they hold as `Entry`s.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..model import Diagnostic, Kind, Origin, Severity, Source
from .files import MAX_INPUT_BYTES, InputError, source_from_bytes
from .sniff import sniff
from .sos_paths import HOST_SLOTS, NAMESPACE_FOLDER, NAMESPACE_SLOTS, ROOT_MARKERS, Candidate, Slot

MEGABYTE = 1 << 20


def cap_text(max_bytes: int) -> str:
    """The input cap as people set it: `--max-input-mb`."""
    return f"the {max_bytes / MEGABYTE:g} MB input cap (--max-input-mb raises it)"


def _is_root(folder: Path) -> bool:
    return (folder / "sos_commands").is_dir() or (folder / "version.txt").is_file()


def find_root(path: Path) -> Path | None:
    """The report root: the folder holding `sos_commands/` or `version.txt`, `path` itself
    or one folder inside it (an unpacked `sosreport-host-date/`); None when neither is.
    Several reports side by side are an InputError: which one is meant is the user's call."""
    if not path.is_dir():
        return None
    if _is_root(path):
        return path
    inside = sorted(child for child in path.iterdir() if child.is_dir() and _is_root(child))
    if len(inside) > 1:
        names = ", ".join(child.name for child in inside)
        raise InputError(f"{path}: holds several sosreports ({names}); name one of them")
    return inside[0] if inside else None


def report_roots(names: Iterable[str]) -> list[str]:
    """The roots (`""` or `"top/"`) a list of archive member names shows a report at."""
    roots: set[str] = set()
    for name in names:
        parts = name.split("/")
        if parts[0] in ROOT_MARKERS:
            roots.add("")
        elif len(parts) > 1 and parts[1] in ROOT_MARKERS:
            roots.add(parts[0] + "/")
    return sorted(roots)


def _mangle(name: str) -> str:
    """A name as sos spells it inside an output file's name."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", name)


def _pattern(candidate: Candidate, namespace: str | None) -> re.Pattern[str]:
    """`{net}` captures a network's name; `{ns}` is the namespace asked for, or captures it."""
    out, seen_ns = [], False
    for piece in re.split(r"(\{net\}|\{ns\})", candidate.path):
        if piece == "{net}":
            out.append(r"(?P<net>[^/]+)")
        elif piece == "{ns}" and namespace is not None:
            # the folder keeps the name as it is; a file name holds it mangled
            out.append(re.escape(_mangle(namespace) if seen_ns else namespace))
            seen_ns = True
        elif piece == "{ns}":
            out.append(r"(?P=ns)" if seen_ns else r"(?P<ns>[^/]+?)")
            seen_ns = True
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out))


@cache
def _table(namespace: str | None) -> tuple[tuple[Slot, tuple[re.Pattern[str], ...]], ...]:
    slots = HOST_SLOTS if namespace is None else NAMESPACE_SLOTS
    return tuple((slot, tuple(_pattern(c, namespace) for c in slot.candidates)) for slot in slots)


def wanted(relative: str, namespace: str | None = None) -> bool:
    """Whether `relative` (a path in the report) is one the table names."""
    return any(p.fullmatch(relative) for _, patterns in _table(namespace) for p in patterns)


@cache
def _namespace_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(_pattern(c, None) for slot in NAMESPACE_SLOTS for c in slot.candidates)


def namespaces_in(relatives: Iterable[str]) -> list[str]:
    """The network namespaces whose outputs a report holds, by name."""
    found: set[str] = set()
    for relative in relatives:
        folder = relative.removeprefix(NAMESPACE_FOLDER + "/")
        if folder != relative and folder:
            found.add(folder.split("/")[0])
            continue
        for pattern in _namespace_patterns():
            m = pattern.fullmatch(relative)
            if m is not None:
                found.add(m.group("ns"))
                break
    return sorted(found)


@dataclass(slots=True)
class Entry:
    """A file of the report: its name as sources show it, and how to get its bytes, or
    why it cannot be read (a link leading out of the report, a FIFO)."""

    name: str
    read: Callable[[], bytes] | None
    problem: str | None = None


def _source(entry: Entry, kind: Kind) -> Source:
    """One file as a source of the table's kind. Sniffing checks the content: an error
    text is empty with its reason; another command's output is a warning."""
    if entry.read is None:
        return Source(entry.name, kind, "", empty_reason=entry.problem)
    source = source_from_bytes(entry.read(), entry.name, kind)
    if source.empty_reason is None:
        found = sniff(source.text)
        if found not in (kind, Kind.UNKNOWN):
            source.diagnostics.append(Diagnostic(
                Origin(entry.name), f"the content reads as {found.value} output, but sos writes {kind.value} "
                                    f"output at this path: read as {kind.value}", "", Severity.WARNING))
    return source


def _choose(slot: Slot, label: str, present: list[tuple[Candidate, Entry]]) -> Source:
    """The first candidate that holds output (else the first), with a note naming the
    files it was chosen over; those after it are not read at all."""
    tried: list[tuple[Candidate, Source]] = []
    for candidate, entry in present:
        tried.append((candidate, _source(entry, slot.kind)))
        if tried[-1][1].empty_reason is None:
            break
    candidate, source = next((t for t in tried if t[1].empty_reason is None), tried[0])
    source.command = slot.command
    others = [f"{s.file} ({s.empty_reason})" for _, s in tried if s is not source]
    others += [entry.name for _, entry in present[len(tried):]]
    if others:
        source.diagnostics.append(Diagnostic(
            Origin(source.file), f"{label}: read from this file (sos {candidate.sos}), not from {', '.join(others)}",
            "", Severity.INFO))
    return source


def select(entries: dict[str, Entry], namespace: str | None = None) -> list[Source]:
    """The sources of a report whose files (by path relative to its root) are `entries`:
    per slot of the table, the first candidate present that holds output."""
    sources: list[Source] = []
    for slot, patterns in _table(namespace):
        groups: dict[str, list[tuple[int, Candidate, Entry]]] = {}
        for relative, entry in entries.items():
            for index, pattern in enumerate(patterns):
                m = pattern.fullmatch(relative)
                if m is not None:
                    network = _mangle(m.group("net")) if "net" in pattern.groupindex else ""
                    groups.setdefault(network, []).append((index, slot.candidates[index], entry))
        read = [s for s in sources if s.kind is slot.only_without and s.empty_reason is None]
        for network in sorted(groups):
            present = [(c, e) for _, c, e in sorted(groups[network], key=lambda item: (item[0], item[2].name))]
            if read:
                names = ", ".join(e.name for _, e in present)
                read[0].diagnostics.append(Diagnostic(
                    Origin(read[0].file), f"{slot.label}: {names} not read: the firewall is taken from the "
                                          f"{slot.only_without.value} outputs", "", Severity.INFO))
                continue
            sources.append(_choose(slot, slot.label.replace("{net}", network), present))
    return sources


def _folders(namespace: str | None) -> set[str]:
    """The report's folders the table's paths are in."""
    folders = set()
    for slot in HOST_SLOTS if namespace is None else NAMESPACE_SLOTS:
        for candidate in slot.candidates:
            folder = candidate.path.rsplit("/", 1)[0]
            folders.add(folder.replace("{ns}", namespace or ""))
    return folders


@dataclass(slots=True)
class _Budget:
    """What is left of the input cap while an unpacked report's files are read."""

    path: Path
    max_bytes: int
    left: int

    def take(self, name: str, size: int) -> None:
        if size > self.left:
            raise InputError(f"{self.path}: {name} is {size / MEGABYTE:.1f} MB; reading it would pass "
                             f"{cap_text(self.max_bytes)}")
        self.left -= size


def _entry(file: Path, name: str, root: Path, budget: _Budget) -> Entry:
    """A file of an unpacked report: read only if it stays inside the report and is regular."""
    real = Path(os.path.realpath(file))
    if not real.is_relative_to(Path(os.path.realpath(root))):
        return Entry(name, None, "a link leading out of the sosreport: not read")
    if not real.is_file():
        return Entry(name, None, "not a regular file (a link to nothing, a FIFO or a device)")

    def read() -> bytes:
        budget.take(name, real.stat().st_size)
        try:
            return real.read_bytes()
        except OSError as error:
            raise InputError(f"{budget.path}: {name}: cannot read: {error.strerror or error}") from None

    return Entry(name, read)


def namespaces(root: Path) -> list[str]:
    """The network namespaces an unpacked report holds outputs of."""
    relatives = [f"{NAMESPACE_FOLDER}/{p.name}" for p in _files_in(root, NAMESPACE_FOLDER) if p.is_dir()]
    relatives += [f"sos_commands/networking/{p.name}" for p in _files_in(root, "sos_commands/networking")]
    return namespaces_in(relatives)


def _files_in(root: Path, folder: str) -> list[Path]:
    try:
        return sorted((root / folder).iterdir())
    except OSError:
        return []


def read_sosreport(path: Path, root: Path, max_bytes: int = MAX_INPUT_BYTES,
                   namespace: str | None = None) -> list[Source]:
    """The sources of an unpacked report at `root` (which is `path` or inside it), named
    relative to `path`. With `namespace`, that network namespace's outputs instead of the
    host's: a namespace is another host."""
    held = namespaces(root) if namespace is not None else []
    if namespace is not None and namespace not in held:
        raise InputError(f"{path}: the sosreport has no namespace {namespace} "
                         f"(it has: {', '.join(held) or 'none'})")
    prefix = "" if root == path else root.relative_to(path).as_posix() + "/"
    budget = _Budget(path, max_bytes, max_bytes)
    entries = {}
    for folder in sorted(_folders(namespace)):
        for file in _files_in(root, folder):
            relative = f"{folder}/{file.name}"
            if wanted(relative, namespace):
                entries[relative] = _entry(file, prefix + relative, root, budget)
    sources = select(entries, namespace)
    if not sources:
        raise InputError(f"{path}: a sosreport, but without any output netlint reads "
                         "(sos_commands/networking, sos_commands/kernel/sysctl_-a)")
    return sources
