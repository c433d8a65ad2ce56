"""Reading a dump: a folder of saved outputs, or one file.

Files are recognized by content, not by name (design.md §2). The canonical names that
`netlint collect` writes are listed in `CANONICAL_NAMES` for people and docs; any other name
works as well.
"""

from __future__ import annotations

from pathlib import Path

from ..model import Kind, Role, Source
from .decode import decode
from .sniff import empty_reason, segment, sniff

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
    a person's words, one per output and `prose` pieces. With `kind` given, the whole file is
    that kind."""
    source = source_from_bytes(data, file, kind, role)
    if kind is not None or source.empty_reason is not None:
        return [source]
    found = segment(source.text)
    if len(found) < 2:
        return [source]
    lines = source.text.split("\n")
    return [Source(file, piece_kind, "\n".join(lines[first:last + 1]) + "\n", first_line=first + 1, role=role,
                   diagnostics=[d for d in source.diagnostics if first < d.origin.line <= last + 1])
            for first, last, piece_kind in found]


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


def read_dump(path: Path, kind: Kind | None = None) -> list[Source]:
    """Every source of a dump: a folder (each file, sorted, named relative to the folder)
    or a single file."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
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
