"""`netlint collect`: run the standard commands on this host (or the network namespace it runs
in) and write the dump folder of design.md §2, with a manifest of what ran and how.

Only the standard tools are used, each with its canonical file name; a tool that is missing is
skipped (and a fallback tried: no `iptables-save`, then `nft list ruleset`), and every absence,
failure and stderr is recorded in `manifest.json`, so a dump says what it could not know.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import __version__

_TIMEOUT_S = 60


@dataclass(frozen=True, slots=True)
class Command:
    file: str
    argv: tuple[str, ...]
    fallback_for: str | None = None  # run only when the command writing this file was missing


COMMANDS: tuple[Command, ...] = (
    Command("ip-addr.txt", ("ip", "-d", "address", "show")),
    Command("ip-route.txt", ("ip", "route", "show", "table", "all")),
    Command("ip-rule.txt", ("ip", "rule", "show")),
    Command("route-n.txt", ("route", "-n")),
    Command("brctl-show.txt", ("brctl", "show")),
    Command("bridge-link.txt", ("bridge", "-d", "link", "show")),
    Command("iptables-save.txt", ("iptables-save",)),
    Command("ip6tables-save.txt", ("ip6tables-save",)),
    Command("nft-ruleset.txt", ("nft", "list", "ruleset"), fallback_for="iptables-save.txt"),
    Command("sysctl.txt", ("sysctl", "-a")),
)


@dataclass(slots=True)
class Record:
    """One command in the manifest: `written` is False when no output file was written (the
    tool is missing, or it failed without output); `reason` says why."""

    file: str
    command: str
    exit_status: int | None = None
    stderr: str = ""
    duration_s: float = 0.0
    written: bool = False
    reason: str | None = None


@dataclass(slots=True)
class Manifest:
    netlint: str
    hostname: str
    collected_at: str
    commands: list[Record] = field(default_factory=list)


def _run(command: Command) -> tuple[Record, bytes]:
    record = Record(command.file, " ".join(command.argv))
    if shutil.which(command.argv[0]) is None:
        record.reason = f"{command.argv[0]} is not installed"
        return record, b""
    start = time.monotonic()
    try:
        done = subprocess.run(command.argv, capture_output=True, timeout=_TIMEOUT_S, stdin=subprocess.DEVNULL,
                              env={**os.environ, "LC_ALL": "C"})
    except subprocess.TimeoutExpired:
        record.reason = f"did not finish in {_TIMEOUT_S} s"
        record.duration_s = round(time.monotonic() - start, 3)
        return record, b""
    except OSError as error:
        record.reason = f"could not run: {error.strerror or error}"
        return record, b""
    record.duration_s = round(time.monotonic() - start, 3)
    record.exit_status = done.returncode
    record.stderr = done.stderr.decode("utf-8", errors="replace")[-4000:]
    if not done.stdout.strip():
        record.reason = "no output" if done.returncode == 0 else f"exit status {done.returncode} and no output"
        return record, b""
    record.written = True
    return record, done.stdout


def collect() -> tuple[Manifest, dict[str, bytes]]:
    """Run every command; the manifest and the outputs by file name."""
    manifest = Manifest(__version__, socket.gethostname(), datetime.now(timezone.utc).isoformat(timespec="seconds"))
    outputs: dict[str, bytes] = {}
    for command in COMMANDS:
        if command.fallback_for is not None:
            first = next(r for r in manifest.commands if r.file == command.fallback_for)
            if first.written:
                continue
        record, data = _run(command)
        manifest.commands.append(record)
        if record.written:
            outputs[command.file] = data
    return manifest, outputs


def _manifest_json(manifest: Manifest) -> bytes:
    return (json.dumps(asdict(manifest), indent=2) + "\n").encode()


def write(destination: Path, manifest: Manifest, outputs: dict[str, bytes]) -> Path:
    """A folder, or a `.tar.gz` holding one folder named like the archive."""
    files = {**outputs, "manifest.json": _manifest_json(manifest)}
    name = destination.name
    if name.endswith(".tar.gz") or name.endswith(".tgz"):
        top = name.removesuffix(".tar.gz").removesuffix(".tgz")
        with tarfile.open(destination, "w:gz") as archive:
            for file, data in files.items():
                info = tarfile.TarInfo(f"{top}/{file}")
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                archive.addfile(info, io.BytesIO(data))
        return destination
    destination.mkdir(parents=True, exist_ok=True)
    for file, data in files.items():
        (destination / file).write_bytes(data)
    return destination


def default_destination() -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(f"netlint-dump-{socket.gethostname()}-{stamp}")
