"""Reading a dump: a folder of saved outputs, or one file.

Files are recognized by content, not by name (design.md §2). The canonical names that
`netlint collect` writes are listed in `CANONICAL_NAMES` for people and docs; any other name
works as well.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..model import Kind, Role, Source
from .decode import decode
from .sniff import empty_reason, sniff
from .ticket import segment

CANONICAL_NAMES: dict[str, str] = {
    "ip-addr.txt": "`ip addr` (also `ip -d addr`, `ip -o addr`, `ip -s link`)",
    "brctl-show.txt": "`brctl show`",
    "bridge-link.txt": "`bridge link` / `bridge -d link show`",
    "route-n.txt": "`route -n` or plain `route`",
    "ip-route.txt": "`ip route show table all`",
    "ip-rule.txt": "`ip rule`",
    "iptables-save.txt": "`iptables-save` (with or without `-c`)",
    "ip6tables-save.txt": "`ip6tables-save`",
    "nft-ruleset.txt": "`nft list ruleset`",
    "sysctl.txt": "`sysctl -a` or any subset",
    "manifest.json": "what `netlint collect` ran: command, exit status, stderr of each",
    "stderr.txt": "the error output of the README's collection one-liner (not read)",
    "guest/": "outputs taken inside a guest (also files named `guest-*`)",
}

# Files in a dump folder that are not command output: `netlint collect`'s manifest, and the
# error log of the README's shell one-liner.
_NOT_OUTPUT = {"manifest.json", "stderr.txt"}


class InputError(Exception):
    """A dump or file that cannot be read at all; the message names it."""


def role_of(relative: Path) -> Role:
    """Outputs under `guest/` or named `guest-*` belong to a guest."""
    if relative.parts[0] == "guest" and len(relative.parts) > 1 or relative.name.startswith("guest-"):
        return Role.GUEST
    return Role.HOST


def source_from_bytes(data: bytes, file: str, kind: Kind | None = None, role: Role = Role.HOST) -> Source:
    """One source from raw bytes: decoded, checked for error texts, sniffed unless `kind` is given."""
    text, diagnostics = decode(data, file)
    reason = empty_reason(text)
    found = kind if kind is not None else (Kind.UNKNOWN if reason else sniff(text))
    return Source(file, found, text, role=role, empty_reason=reason, diagnostics=diagnostics)


def pieces_from_bytes(data: bytes, file: str, kind: Kind | None = None, role: Role = Role.HOST) -> list[Source]:
    """The pieces of one file: one for a plain output; for a paste holding several outputs and
    a person's words (a ticket, a markdown page, a chat log), one per output and `prose` pieces,
    each at its lines of the file and attached to the host or the guest. With `kind` given, the
    whole file is that kind; a file under `guest/` is the guest's whole."""
    source = source_from_bytes(data, file, kind, role)
    if kind is not None or source.empty_reason is not None:
        return [source]
    found = segment(source.text)
    if len(found) == 1 and found[0].text == source.text:
        return [source]
    pieces = []
    for piece in found:
        first, last = piece.first + 1, piece.last + 1
        reason = empty_reason(piece.text) if piece.kind is Kind.UNKNOWN else None
        pieces.append(Source(file, piece.kind, piece.text, first_line=first,
                             role=Role.GUEST if role is Role.GUEST else piece.role, empty_reason=reason,
                             diagnostics=[d for d in source.diagnostics if first <= d.origin.line <= last],
                             command=piece.command))
    return pieces


def read_stdin(data: bytes, name: str = "-") -> list[Source]:
    """The pieces of text read from standard input (design.md §2, form 4): read like one pasted
    file named `name`."""
    return pieces_from_bytes(data, name)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None


def read_file(path: Path, kind: Kind | None = None, name: str | None = None) -> list[Source]:
    """The sources of one file (one piece for a plain output file)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    if not path.is_file():
        # A FIFO or device would block or never end: saved output is a regular file.
        raise InputError(f"{path}: is not a regular file")
    return pieces_from_bytes(_read_bytes(path), name or str(path), kind, role_of(Path(path.name)))


# The most a dump archive may expand to, and a sosreport's outputs may total: a
# decompression bomb stops here (`--max-input-mb`).
MAX_INPUT_BYTES = 200 << 20


def read_dump(path: Path, kind: Kind | None = None, max_bytes: int = MAX_INPUT_BYTES,
              namespace: str | None = None) -> list[Source]:
    """Every source of a dump: a tar archive (of a sosreport or a dump folder), a sosreport
    folder (or a folder holding one), a folder (each file, sorted, named relative to the
    folder) or a single file. `namespace` reads that network namespace of a sosreport as
    the host. `max_bytes` caps what an archive expands to and what a sosreport's read
    outputs total."""
    # Imported here: both read sources with this module's helpers.
    from .archive import is_archive, read_archive
    from .sosreport import find_root, read_sosreport

    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_file() and is_archive(path):
        return read_archive(path, kind, max_bytes, namespace)
    root = find_root(path)
    if root is not None:
        if kind is not None:
            raise InputError(f"{path}: a sosreport's outputs are known by their paths; a kind names one file's")
        return read_sosreport(path, root, max_bytes, namespace)
    if namespace is not None:
        raise InputError(f"{path}: not a sosreport, so it has no namespace {namespace}")
    if not path.is_dir():
        return read_file(path, kind)
    sources: list[Source] = []
    for file in sorted(p for p in path.rglob("*") if not p.is_dir()):
        relative = file.relative_to(path)
        if relative.name in _NOT_OUTPUT or any(part.startswith(".") for part in relative.parts):
            continue
        if file.is_file():
            sources.extend(pieces_from_bytes(_read_bytes(file), relative.as_posix(), kind, role_of(relative)))
        else:
            sources.append(Source(relative.as_posix(), Kind.UNKNOWN, "", role=role_of(relative),
                                  empty_reason="not a regular file (a link to nothing, a FIFO or a device)"))
    if not sources:
        raise InputError(f"{path}: the folder holds no files")
    return sources


def read_input(path: str, max_bytes: int = MAX_INPUT_BYTES, namespace: str | None = None) -> list[Source]:
    """A dump as the command line names it: `-` is standard input (a paste), anything else a
    path (archive, sosreport, folder or file)."""
    if path == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputError(f"-: standard input holds more than {max_bytes >> 20} MB (raise --max-input-mb)")
        return read_stdin(data)
    return read_dump(Path(path), max_bytes=max_bytes, namespace=namespace)

