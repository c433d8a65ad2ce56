"""Archives read in place: a sosreport or a dump folder packed as .tar, .tar.gz, .tar.xz or
.tar.bz2 gives the same sources as the folder packed in it (the archive is the report: a
source is named `sos_commands/kernel/sysctl_-a`), read as a stream, never extracted.

Archives are untrusted: path traversal, absolute names, links and devices where netlint
reads an output, and decompression bombs are refused with one line naming the archive and
the member, and nothing is written anywhere (every test runs in a temporary folder and
checks that nothing appeared in it, above it or at the absolute path).
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
import tarfile
import time
from pathlib import Path

import pytest

from netlint.host import load_host
from netlint.intake import InputError, read_dump
from netlint.intake.archive import is_archive
from netlint.model import Kind, Role
from tests.test_cli import netlint
from tests.test_sosreport import (SEED, SOS_36, TOP, facts, kernel_outputs, seed_text, seeded,  # noqa: F401
                                  sos_454, write_report)

SYSCTL_PATH = "sos_commands/kernel/sysctl_-a"
SYSCTL = f"{TOP}/{SYSCTL_PATH}"  # the member
MB = 1 << 20


def pack(folder: Path, archive: Path, mode: str) -> Path:
    """`folder`'s contents (links kept as links) in a tar archive, as `tar -C folder .` would."""
    with tarfile.open(archive, mode) as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    return archive


def shown(sources) -> list[tuple]:
    return [(s.file, s.kind, s.role, s.text, s.first_line, s.empty_reason,
             [(d.message, d.severity) for d in s.diagnostics]) for s in sources]


def report_folder(base: Path) -> Path:
    """The seed at sos 3.6's paths, with what a real report has that netlint does not read:
    the root's shortcut links, libvirt's autostart link, ip_address beside ip_-d_address."""
    root = write_report(base, {**seeded(SOS_36), "sos_commands/networking/ip_address": seed_text("ip-addr.txt"),
                               "sos_logs/sos.log": "collected\n"})
    (root / "ip_addr").symlink_to("sos_commands/networking/ip_address")
    (root / "etc/libvirt/qemu/networks/autostart").mkdir()
    (root / "etc/libvirt/qemu/networks/autostart/default.xml").symlink_to("../default.xml")
    return base


class Untouched:
    """Fails if anything appears in the temporary folder or next to it, or at /etc/evil."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.before = self.snapshot()

    def snapshot(self) -> set[Path]:
        return set(self.tmp_path.parent.glob("*")) | set(self.tmp_path.rglob("*"))

    def check(self) -> None:
        assert self.snapshot() == self.before
        assert not Path("/etc/evil").exists() and not (self.tmp_path.parent / "evil").exists()


def refused(tmp_path: Path, archive: Path, **options) -> str:
    """The one-line message read_dump refuses `archive` with, run from an empty folder."""
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    guard = Untouched(tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        with pytest.raises(InputError) as error:
            read_dump(archive, **options)
    guard.check()
    assert list(cwd.iterdir()) == []
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{archive}: ")
    return message


@pytest.mark.parametrize("mode, suffix", [("w:xz", ".tar.xz"), ("w:gz", ".tar.gz"), ("w:bz2", ".tar.bz2"),
                                          ("w", ".tar")])
def test_a_packed_sosreport_reads_like_the_report_folder(tmp_path, mode, suffix):
    folder = report_folder(tmp_path / "unpacked")
    archive = pack(folder, tmp_path / f"sos{suffix}", mode)
    assert is_archive(archive)
    from_archive = read_dump(archive)
    assert shown(from_archive) == shown(read_dump(folder / TOP))
    assert [s.file for s in from_archive if s.kind is Kind.SYSCTL] == [SYSCTL_PATH]


def test_a_report_at_the_top_of_the_archive(tmp_path):
    archive = pack(report_folder(tmp_path / "unpacked") / TOP, tmp_path / "sos.tgz", "w:gz")
    assert shown(read_dump(archive)) == shown(read_dump(tmp_path / "unpacked" / TOP))
    assert not is_archive(tmp_path / "unpacked" / TOP / "version.txt")


def test_check_on_a_tar_xz_reports_forwarding_off_at_the_sos_sysctl_line(tmp_path):
    archive = pack(report_folder(tmp_path / "unpacked"), tmp_path / "sos.tar.xz", "w:xz")
    run = netlint("check", str(archive), "--format", "json")
    assert run.returncode == 1, run.stderr
    (dump,) = json.loads(run.stdout)["dumps"]
    (finding,) = [f for f in dump["findings"] if f["rule"] == "fwd-ipv4-forwarding-off"]
    line = seed_text("sysctl.txt").splitlines().index("net.ipv4.ip_forward = 0") + 1
    assert (finding["locations"][0]["file"], finding["locations"][0]["line"]) == (SYSCTL_PATH, line)


@pytest.mark.root
def test_a_packed_sos_454_report_gives_the_seed_host(tmp_path, kernel_outputs):  # noqa: F811
    archive = pack(sos_454(tmp_path / "unpacked", kernel_outputs), tmp_path / "sos.tar.xz", "w:xz")
    assert facts(load_host(str(archive))) == facts(load_host(str(SEED)))


def test_a_dump_folder_packed_like_netlint_collect_reads_like_the_folder(tmp_path):
    with tarfile.open(tmp_path / "host1.tar.gz", "w:gz") as tar:
        for path in sorted(p for p in SEED.rglob("*") if p.is_file()):
            tar.add(path, arcname=f"host1/{path.relative_to(SEED).as_posix()}")
    assert shown(read_dump(tmp_path / "host1.tar.gz")) == shown(read_dump(SEED))
    assert Role.GUEST in {s.role for s in read_dump(tmp_path / "host1.tar.gz")}
    host, seed = load_host(str(tmp_path / "host1.tar.gz")), load_host(str(SEED))
    assert facts(host) == facts(seed)
    assert [str(r.destination) for r in host.guest_routes] == [str(r.destination) for r in seed.guest_routes]


def test_a_kind_applies_to_a_dump_folder_archive_not_to_a_sosreport(tmp_path):
    with tarfile.open(tmp_path / "one.tar", "w") as tar:
        tar.add(SEED / "sysctl.txt", arcname="d/a.txt")
    (source,) = read_dump(tmp_path / "one.tar", Kind.SYSCTL)
    assert source.kind is Kind.SYSCTL and source.file == "a.txt"
    sos = pack(report_folder(tmp_path / "unpacked"), tmp_path / "sos.tar", "w")
    with pytest.raises(InputError, match="known by their paths"):
        read_dump(sos, Kind.SYSCTL)


def test_a_namespace_of_a_packed_report(tmp_path):
    ns = "qrouter-1"
    inner = f"sos_commands/networking/namespaces/{ns}/ip_netns_exec_{ns}_"
    write_report(tmp_path / "unpacked", {**seeded(SOS_36), f"{inner}iptables-save": seed_text("iptables-save.txt")})
    archive = pack(tmp_path / "unpacked", tmp_path / "sos.tar.xz", "w:xz")
    (source,) = read_dump(archive, namespace=ns)
    assert (source.file, source.kind) == (f"{inner}iptables-save", Kind.IPTABLES_SAVE)
    assert "it has: qrouter-1" in refused(tmp_path, archive, namespace="other")


# ---- what is refused -------------------------------------------------------------------

def member(tar: tarfile.TarFile, name: str, data: bytes = b"x\n", **fields) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data) if fields.get("type", tarfile.REGTYPE) == tarfile.REGTYPE else 0
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if info.size else None)


def sos_archive(path: Path, extra, mode: str = "w:xz") -> Path:
    """A small sosreport archive; `extra(tar)` adds the members under test."""
    with tarfile.open(path, mode) as tar:
        member(tar, f"{TOP}/version.txt", b"sosreport: 4.5.4\n")
        member(tar, f"{TOP}/sos_commands/networking/ip_route_show_table_all", seed_text("ip-route.txt").encode())
        extra(tar)
    return path


@pytest.mark.parametrize("name, says", [
    ("../evil", "has `..` in its path (it leads out of the archive)"),
    (f"{TOP}/../../evil", "has `..` in its path (it leads out of the archive)"),
    ("/etc/evil", "has an absolute path"),
])
def test_a_name_leading_out_of_the_archive_is_refused(tmp_path, name, says):
    archive = sos_archive(tmp_path / "evil.tar.xz", lambda tar: member(tar, name, b"pwned\n"))
    assert refused(tmp_path, archive) == f"{archive}: member {name} {says}: refused"


@pytest.mark.parametrize("fields, what", [
    ({"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, "a symbolic link to /etc/passwd"),
    ({"type": tarfile.LNKTYPE, "linkname": f"{TOP}/version.txt"}, f"a hard link to {TOP}/version.txt"),
    ({"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}, "a device"),
    ({"type": tarfile.BLKTYPE, "devmajor": 8, "devminor": 0}, "a device"),
    ({"type": tarfile.FIFOTYPE}, "a FIFO"),
])
def test_a_link_or_device_where_an_output_is_read_is_refused(tmp_path, fields, what):
    archive = sos_archive(tmp_path / "link.tar.xz", lambda tar: member(tar, SYSCTL, **fields))
    assert refused(tmp_path, archive) == f"{archive}: member {SYSCTL} is {what}, where netlint reads an output: refused"


def test_a_link_in_a_dump_folder_archive_is_refused(tmp_path):
    with tarfile.open(tmp_path / "dump.tar.gz", "w:gz") as tar:
        member(tar, "host1/sysctl.txt", seed_text("sysctl.txt").encode())
        member(tar, "host1/ip-addr.txt", type=tarfile.SYMTYPE, linkname="/etc/shadow")
    assert "member host1/ip-addr.txt is a symbolic link to /etc/shadow" in refused(tmp_path, tmp_path / "dump.tar.gz")


def test_links_netlint_does_not_read_are_passed_over(tmp_path):
    def extra(tar):
        member(tar, f"{TOP}/ip_route", type=tarfile.SYMTYPE, linkname="/etc/shadow")
        member(tar, f"{TOP}/dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    (source,) = read_dump(sos_archive(tmp_path / "sos.tar.xz", extra))
    assert source.file == "sos_commands/networking/ip_route_show_table_all" and source.kind is Kind.IP_ROUTE


class Zeros(io.RawIOBase):
    """`size` zero bytes, made as they are read: a bomb is built without holding it."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def test_a_decompression_bomb_is_refused_at_the_default_cap(tmp_path):
    archive = tmp_path / "bomb.tar.xz"
    with tarfile.open(archive, "w:xz", preset=0) as tar:
        info = tarfile.TarInfo(SYSCTL)
        info.size = 300 * MB
        tar.addfile(info, io.BufferedReader(Zeros(info.size), MB))
    assert archive.stat().st_size < MB  # 300 MB of zeros, small on disk
    start = time.monotonic()
    message = refused(tmp_path, archive)
    assert time.monotonic() - start < 5  # stopped at the member's header, not after inflating it
    assert message == (f"{archive}: member {SYSCTL} is 300.0 MB uncompressed, past the 200 MB input cap "
                       "(--max-input-mb raises it): refused as a possible decompression bomb")


def test_members_that_together_pass_a_small_cap_are_refused(tmp_path):
    def extra(tar):
        for n in range(3):
            info = tarfile.TarInfo(f"{TOP}/var/log/part{n}")
            info.size = MB // 2
            tar.addfile(info, io.BufferedReader(Zeros(info.size)))
    archive = sos_archive(tmp_path / "parts.tar.xz", extra)
    message = refused(tmp_path, archive, max_bytes=MB)
    assert f"member {TOP}/var/log/part1 takes the archive to 1.0 MB uncompressed, past the 1 MB input cap" in message
    assert len(read_dump(archive, max_bytes=2 * MB)) == 1  # under a larger cap the same archive reads


def test_a_header_holding_more_than_the_cap_is_stopped_while_streaming(tmp_path):
    # A GNU long-name header claiming 2 MB: tarfile reads it whole before any member is seen,
    # so only counting the decompressed stream can stop it.
    long_name = tarfile.TarInfo("././@LongLink")
    long_name.type, long_name.size = tarfile.GNUTYPE_LONGNAME, 2 * MB
    archive = tmp_path / "longname.tar.xz"
    with lzma.open(archive, "wb") as out:
        out.write(long_name.tobuf(format=tarfile.GNU_FORMAT))
        out.write(b"a" * (2 * MB))
        out.write(tarfile.TarInfo("x").tobuf(format=tarfile.GNU_FORMAT))
        out.write(bytes(1024))
    assert "expands past the 1 MB input cap" in refused(tmp_path, archive, max_bytes=MB)


def test_a_wanted_member_over_the_cap_is_refused(tmp_path):
    big = b"net.ipv4.ip_forward = 0\n" * (MB // 8)
    archive = sos_archive(tmp_path / "big.tar.gz", lambda tar: member(tar, SYSCTL, big), "w:gz")
    assert f"member {SYSCTL} is 3.0 MB uncompressed, past the 2 MB input cap" in refused(tmp_path, archive,
                                                                                           max_bytes=2 * MB)


def test_damaged_or_unsupported_archives_are_one_line_errors(tmp_path):
    good = sos_archive(tmp_path / "good.tar.xz", lambda tar: None)
    truncated = tmp_path / "truncated.tar.xz"
    truncated.write_bytes(good.read_bytes()[:200])
    assert "not a readable tar archive" in refused(tmp_path, truncated)
    gzipped_text = tmp_path / "notes.gz"
    gzipped_text.write_bytes(gzip.compress(b"just some text\n" * 40))
    assert "not a readable tar archive" in refused(tmp_path, gzipped_text)
    zstd = tmp_path / "sos.tar.zst"
    zstd.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(100))
    assert "zstd-compressed" in refused(tmp_path, zstd)


def test_the_cli_says_why_in_one_line(tmp_path):
    archive = sos_archive(tmp_path / "evil.tar.xz", lambda tar: member(tar, "../evil"))
    run = netlint("parse", str(archive))
    assert run.returncode == 2
    assert run.stderr == (f"netlint: error: {archive}: member ../evil has `..` in its path "
                          "(it leads out of the archive): refused\n")
