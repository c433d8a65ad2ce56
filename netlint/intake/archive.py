"""Reading a dump packed as a tar archive (.tar, .tar.gz/.tgz, .tar.xz, .tar.bz2) in place:
members are streamed and read into memory, never extracted to disk (design.md §2).

An archive holds a sosreport (a folder holding `sos_commands/` or `version.txt`, at the
top or one folder down: only the table's paths are read, as for an unpacked report) or a
dump folder such as `netlint collect -o x.tar.gz` writes (every regular file is read).

Archives are untrusted. One line naming the archive and the member refuses it when:
- a member's name is absolute or holds `..`, whichever member it is: nothing is written
  anywhere, but such an archive was made to harm;
- a member netlint reads (a path of the sosreport table; any file of a dump folder) is a
  symbolic or hard link, a device or a FIFO. Members netlint does not read are passed over
  unread whatever they are: sosreports hold links (`./ip_addr`, libvirt's `autostart/`);
- it expands past `max_bytes`: each member's declared size is checked before its data is
  read, and the decompressed stream is counted as it is read (headers included), so a
  decompression bomb stops at the cap.

A stream reads once, so the archive is read twice: the member names first (where the
report root is, or that it is a dump folder), then the data of the wanted members only.
netlint decompresses the stream itself and hands tarfile the counted result (`r|` mode):
tarfile's own `r|*` decompression cannot be counted.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..model import Kind, Source
from .files import _NOT_OUTPUT, MAX_INPUT_BYTES, InputError, pieces_from_bytes, role_of
from .sosreport import MEGABYTE, Entry, cap_text, namespaces_in, report_roots, select, wanted

_HEAD = 512
_BOMB = "refused as a possible decompression bomb"
_ZSTD = b"\x28\xb5\x2f\xfd"


def _decompressor(head: bytes) -> Callable[[BinaryIO], BinaryIO] | None:
    """How to read the tar stream out of a file starting with `head`; None: not a tar archive."""
    if head.startswith(b"\x1f\x8b"):
        return lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile
    if head.startswith(b"BZh") and head[4:10] == b"1AY&SY":
        return bz2.BZ2File
    if head[257:262] == b"ustar":
        return lambda raw: raw
    return None


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(_HEAD)
    except OSError:
        return b""


def is_archive(path: Path) -> bool:
    """Whether `path` is a tar archive (compressed or not), by its first bytes, not its name."""
    head = _head(path)
    return head.startswith(_ZSTD) or _decompressor(head) is not None


class _OverCap(Exception):
    pass


class _Counted:
    """The decompressed stream, counted as tarfile reads it: past `limit` bytes, _OverCap."""

    def __init__(self, stream: BinaryIO, limit: int):
        self.stream, self.limit, self.count = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        room = self.limit - self.count + 1
        data = self.stream.read(room if size is None or size < 0 else min(size, room))
        self.count += len(data)
        if self.count > self.limit:
            raise _OverCap
        return data


@dataclass(frozen=True, slots=True)
class _Member:
    name: str
    is_dir: bool
    not_regular: str | None  # what it is instead: "a symbolic link to /etc/passwd"


def _shown(text: str) -> str:
    """A member name on one line of a message."""
    return re.sub(r"[\x00-\x1f\x7f]", "?", text)


def _what(info: tarfile.TarInfo) -> str | None:
    if info.isreg() or info.isdir():
        return None
    if info.issym():
        return f"a symbolic link to {_shown(info.linkname)}"
    if info.islnk():
        return f"a hard link to {_shown(info.linkname)}"
    if info.ischr() or info.isblk():
        return "a device"
    return "a FIFO" if info.isfifo() else "not a regular file"


class _Reader:
    """One archive, read as a stream with every safety check, as often as needed."""

    def __init__(self, path: Path, max_bytes: int):
        self.path, self.max_bytes = path, max_bytes
        head = _head(path)
        if head.startswith(_ZSTD):
            raise InputError(f"{path}: zstd-compressed; netlint reads .tar, .tar.gz, .tar.xz and .tar.bz2 "
                             "(unpack it with `zstd -d`)")
        self.decompress = _decompressor(head)
        if self.decompress is None:
            raise InputError(f"{path}: not a tar archive")

    def refuse(self, member: str, why: str, verdict: str = "refused") -> InputError:
        return InputError(f"{self.path}: member {_shown(member)} {why}: {verdict}")

    def _name(self, info: tarfile.TarInfo) -> str:
        if info.name.startswith("/"):
            raise self.refuse(info.name, "has an absolute path")
        parts = [part for part in info.name.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise self.refuse(info.name, "has `..` in its path (it leads out of the archive)")
        return "/".join(parts)

    def members(self, read: Callable[[str], bool]) -> Iterator[tuple[_Member, bytes | None]]:
        """Every member, checked, with its data when `read(name)` wants it (regular files only)."""
        current = None
        try:
            with (self.path.open("rb") as raw, self.decompress(raw) as stream,
                  tarfile.open(fileobj=_Counted(stream, self.max_bytes), mode="r|") as tar):
                for info in tar:
                    name = current = self._name(info)
                    end = info.offset_data + info.size
                    if end > self.max_bytes:
                        size = info.size if info.size > self.max_bytes else end
                        what = "is" if info.size > self.max_bytes else "takes the archive to"
                        raise self.refuse(name, f"{what} {size / MEGABYTE:.1f} MB uncompressed, past "
                                                f"{cap_text(self.max_bytes)}", _BOMB)
                    member = _Member(name, info.isdir(), _what(info))
                    data = None
                    if member.not_regular is None and not member.is_dir and read(name):
                        data = tar.extractfile(info).read()
                    yield member, data
        except _OverCap:
            where = f" at member {_shown(current)}" if current else ""
            raise InputError(f"{self.path}: expands past {cap_text(self.max_bytes)}{where}: {_BOMB}") from None
        except (tarfile.TarError, EOFError, OSError, lzma.LZMAError, zlib.error) as error:
            message = " ".join(str(error).split()) or type(error).__name__
            raise InputError(f"{self.path}: not a readable tar archive: {message}") from None

    def names(self) -> dict[str, _Member]:
        """Pass one: every member by name (a name given twice: the last, as tar extracts)."""
        return {member.name: member for member, _ in self.members(lambda name: False)}

    def data(self, wanted_names: set[str]) -> dict[str, bytes]:
        """Pass two: the data of the wanted members."""
        found = {member.name: data for member, data in self.members(wanted_names.__contains__)
                 if data is not None}
        missing = sorted(wanted_names - found.keys())
        if missing:
            raise InputError(f"{self.path}: changed while being read (member {_shown(missing[0])} is gone)")
        return found


def read_archive(path: Path, kind: Kind | None = None, max_bytes: int = MAX_INPUT_BYTES,
                 namespace: str | None = None) -> list[Source]:
    """The sources of a tar archive of a sosreport or of a dump folder, named as when the
    folder packed in it is read (`sos_commands/kernel/sysctl_-a`: the archive is the report).
    `kind` applies to every file of a dump folder; `namespace` reads that network namespace
    of a sosreport as the host."""
    reader = _Reader(path, max_bytes)
    members = reader.names()
    roots = report_roots(members)
    if len(roots) > 1:
        raise InputError(f"{path}: holds several sosreports ({', '.join(r.rstrip('/') for r in roots)})")
    if roots:
        return _sosreport(reader, members, roots[0], kind, namespace)
    if namespace is not None:
        raise InputError(f"{path}: not a sosreport, so it has no namespace {namespace}")
    return _dump_folder(reader, members, kind)


def _checked(reader: _Reader, member: _Member) -> str:
    """A member netlint reads: refused unless it is a regular file."""
    if member.not_regular is not None:
        raise reader.refuse(member.name, f"is {member.not_regular}, where netlint reads an output")
    return member.name


def _sosreport(reader: _Reader, members: dict[str, _Member], root: str, kind: Kind | None,
               namespace: str | None) -> list[Source]:
    if kind is not None:
        raise InputError(f"{reader.path}: a sosreport's outputs are known by their paths; a kind names one file's")
    relatives = {name[len(root):]: member for name, member in members.items()
                 if name.startswith(root) and not member.is_dir}
    if namespace is not None and namespace not in namespaces_in(relatives):
        held = ", ".join(namespaces_in(relatives)) or "none"
        raise InputError(f"{reader.path}: the sosreport has no namespace {namespace} (it has: {held})")
    chosen = {relative: _checked(reader, member) for relative, member in relatives.items()
              if wanted(relative, namespace)}
    data = reader.data(set(chosen.values()))
    entries = {relative: Entry(relative, lambda name=name: data[name]) for relative, name in chosen.items()}
    sources = select(entries, namespace)
    if not sources:
        raise InputError(f"{reader.path}: a sosreport, but without any output netlint reads "
                         "(sos_commands/networking, sos_commands/kernel/sysctl_-a)")
    return sources


def _dump_folder(reader: _Reader, members: dict[str, _Member], kind: Kind | None) -> list[Source]:
    """Every file, as for a folder: the one top folder `netlint collect` packs a dump in is
    the dump's folder."""
    files = sorted(name for name, member in members.items() if not member.is_dir)
    tops = {name.split("/")[0] for name in files}
    top = next(iter(tops)) + "/" if len(tops) == 1 and all("/" in name for name in files) else ""
    chosen: dict[str, Path] = {}
    for name in files:
        relative = Path(name.removeprefix(top))
        if relative.name in _NOT_OUTPUT or any(part.startswith(".") for part in relative.parts):
            continue
        chosen[_checked(reader, members[name])] = relative
    data = reader.data(set(chosen))
    sources = [piece for name, relative in chosen.items()
               for piece in pieces_from_bytes(data[name], relative.as_posix(), kind, role_of(relative))]
    if not sources:
        raise InputError(f"{reader.path}: the archive holds no files")
    return sources
