"""`netlint check` configuration: which rules run, at what severity, what is suppressed and why,
and the exit code. Read from the closest `netlint.toml` or `pyproject.toml` `[tool.netlint]`
(docs/configuration.md describes the format).

Dumps are checked in CI and read by machines, so a suppression lives here with a required reason,
never as a comment inside a dump.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from ..model.diagnostic import Severity
from ..model.finding import SEVERITY_RANK, CheckReport, DumpReport, Finding, Outcome, RuleDoc, Suppressed
from ..model.origin import Origin

CONFIG_NAME = "netlint.toml"
PYPROJECT_NAME = "pyproject.toml"

_TOP_KEYS = ("select", "ignore", "fail-on", "severity", "suppress")
_SUPPRESS_KEYS = ("rule", "reason", "dump", "key", "file")
_SEVERITIES = ", ".join(s.value for s in Severity)


class ConfigError(Exception):
    """A configuration or selection the user must fix: one line, naming the file and line when
    the mistake comes from a file."""

    def __init__(self, message: str, origin: Origin | None = None):
        super().__init__(f"{origin}: {message}" if origin else message)
        self.origin = origin


@dataclass(frozen=True, slots=True)
class Suppression:
    """Findings of `rule` (an id or a category) to set aside; each optional glob narrows it to
    the dump path, the finding's key, or the file of its first location."""

    rule: str
    reason: str
    dump: str | None = None
    key: str | None = None
    file: str | None = None


@dataclass(slots=True)
class Config:
    """What a configuration file says; the empty Config is "no file". `where` is where each
    rule id or category is first named, so a later check against the catalog can point at it."""

    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: Severity | None = None
    severity: dict[str, Severity] = field(default_factory=dict)
    suppress: list[Suppression] = field(default_factory=list)
    path: Path | None = None
    where: dict[str, Origin] = field(default_factory=dict)


def find_config(start: Path) -> Path | None:
    """The closest configuration from `start` up through its parents; within a folder
    netlint.toml wins over pyproject.toml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        candidate = folder / PYPROJECT_NAME
        if candidate.is_file() and _has_netlint_table(candidate):
            return candidate
    return None


def _has_netlint_table(pyproject: Path) -> bool:
    """Whether a pyproject.toml holds `[tool.netlint]`. One that never says "netlint" cannot, so
    an unrelated broken pyproject.toml above the working directory does not stop a check."""
    text = _read(pyproject)
    if "netlint" not in text:
        return False
    tool = _parse(pyproject, text).get("tool")
    return isinstance(tool, dict) and "netlint" in tool


def load_config(path: Path) -> Config:
    """Read and check the shape of a configuration file (rule ids are checked by `validate`)."""
    text = _read(path)
    data = _parse(path, text)
    locator = _Locator(path, text)
    if path.name == PYPROJECT_NAME:
        tool = data.get("tool")
        if not isinstance(tool, dict) or not isinstance(tool.get("netlint"), dict):
            raise ConfigError("no [tool.netlint] table", Origin(str(path)))
        data = tool["netlint"]
    return _build(data, locator)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror or e}", Origin(str(path))) from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 text (byte {e.start})", Origin(str(path))) from e


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        position = _TOML_POSITION.search(message)
        if position:
            origin = Origin(str(path), int(position[1]), int(position[2]))
            message = message[:position.start()]
        else:
            origin = Origin(str(path), len(text.splitlines()) or 1)
            message = message.replace(" (at end of document)", "")
        raise ConfigError(f"invalid TOML: {message}", origin) from e


class _Locator:
    """Finds the line of a key or value in the file's text. tomllib gives no positions, so this
    is a search: the first non-comment line naming it after the place it belongs to."""

    def __init__(self, path: Path, text: str):
        self.path = str(path)
        self.lines = text.splitlines()
        self.prefix = r"(?:tool\.netlint\.)?" if path.name == PYPROJECT_NAME else ""
        self.start = 0
        if path.name == PYPROJECT_NAME:
            self.start = self._find(re.compile(r"^\s*\[\[?\s*tool\.netlint\b"), 0) or 0

    def key(self, name: str, entry: int | None = None) -> Origin:
        """A key of the netlint table or of its `entry`-th suppression (a sub-table's header
        counts as its key)."""
        key = re.escape(name)
        pattern = re.compile(rf"^\s*\[+\s*{self.prefix}{key}\s*\]|(?:^|[\s{{,.])[\"']?{key}[\"']?\s*=")
        return self._origin(pattern, self._entry_start(entry))

    def value(self, text: str) -> Origin:
        """A rule id or category, written as a quoted value or as a key of the severity table."""
        quoted = re.escape(text)
        return self._origin(re.compile(rf"[\"']{quoted}[\"']|^\s*{quoted}\s*="), self.start)

    def entry(self, entry: int) -> Origin:
        """The `entry`-th suppression: its `[[suppress]]` header, or the `suppress` key."""
        start = self._entry_start(entry)
        if start != self.start:
            return Origin(self.path, start + 1)
        return self.key("suppress")

    def _entry_start(self, entry: int | None) -> int:
        if entry is None:
            return self.start
        header = re.compile(rf"^\s*\[\[\s*{self.prefix}suppress\s*\]\]")
        line = self.start
        for _ in range(entry + 1):
            found = self._find(header, line)
            if found is None:
                return self.start
            line = found + 1
        return line - 1

    def _origin(self, pattern: re.Pattern[str], start: int) -> Origin:
        line = self._find(pattern, start)
        if line is None:
            line = self._find(pattern, 0)
        return Origin(self.path, None if line is None else line + 1)

    def _find(self, pattern: re.Pattern[str], start: int) -> int | None:
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if not line.lstrip().startswith("#") and pattern.search(line):
                return number
        return None


def _build(data: dict[str, Any], at: _Locator) -> Config:
    _no_unknown_keys(data, _TOP_KEYS, at, None)
    config = Config(path=Path(at.path))
    config.select = _ids(data, "select", at)
    config.ignore = _ids(data, "ignore", at)
    if "fail-on" in data:
        config.fail_on = _severity(data["fail-on"], "fail-on", at.key("fail-on"))
    overrides = data.get("severity", {})
    if not isinstance(overrides, dict):
        raise ConfigError("severity must be a table of rule id = severity", at.key("severity"))
    for rule, value in overrides.items():
        config.severity[rule] = _severity(value, f"severity.{rule}", at.key(rule))
    entries = data.get("suppress", [])
    if not isinstance(entries, list):
        raise ConfigError("suppress must be an array of tables ([[suppress]])", at.key("suppress"))
    config.suppress = [_suppression(entry, n, at) for n, entry in enumerate(entries)]
    named = [*config.select, *config.ignore, *config.severity, *(s.rule for s in config.suppress)]
    config.where = {name: at.value(name) for name in dict.fromkeys(named)}
    return config


def _no_unknown_keys(table: dict[str, Any], known: tuple[str, ...], at: _Locator, entry: int | None) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(known)}"
            what = f"suppress entry {entry + 1}: unknown key" if entry is not None else "unknown key"
            raise ConfigError(f"{what} '{key}' ({hint})", at.key(key, entry))


def _ids(data: dict[str, Any], name: str, at: _Locator) -> list[str]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{name} must be a list of rule ids or categories", at.key(name))
    return value


def _severity(value: Any, name: str, origin: Origin) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not one of {_SEVERITIES}", origin) from None


def _suppression(entry: Any, n: int, at: _Locator) -> Suppression:
    if not isinstance(entry, dict):
        raise ConfigError("each suppress entry must be a table with rule and reason", at.entry(n))
    _no_unknown_keys(entry, _SUPPRESS_KEYS, at, n)
    for required in ("rule", "reason"):
        if required not in entry:
            raise ConfigError(f"suppress entry {n + 1}: a suppression needs a {required}", at.entry(n))
    for key, value in entry.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"suppress entry {n + 1}: {key} must be a non-empty string", at.key(key, n))
    return Suppression(rule=entry["rule"], reason=entry["reason"].strip(), dump=entry.get("dump"),
                       key=entry.get("key"), file=entry.get("file"))


def validate(config: Config, rules: list[RuleDoc]) -> None:
    """Every rule id or category the configuration names exists among `rules` (the shipped
    catalog plus `--rules DIR`): a misspelt id would otherwise silently do nothing."""
    known = _known(rules)
    for name in config.where:
        if name not in known:
            raise _unknown(name, known, config.where[name])


def _known(rules: list[RuleDoc]) -> set[str]:
    return {r.id for r in rules} | {r.category for r in rules}


def _unknown(name: str, known: set[str], origin: Origin | None, flag: str = "") -> ConfigError:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"{flag}unknown rule or category '{name}'{hint}", origin)


@dataclass(frozen=True, slots=True)
class Selection:
    """The rules a check runs: `select` empty means all, `ignore` removes; both hold rule ids or
    categories. `origins` are the configuration's places for ids taken from it."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    origins: dict[str, Origin] = field(default_factory=dict)

    @classmethod
    def build(cls, config: Config, select: str | None = None, ignore: str | None = None) -> Selection:
        """`select`/`ignore` are the comma-separated command-line values (None when the flag is
        absent); a flag given replaces the configuration's list of the same name."""
        chosen = _split(select) if select is not None else tuple(config.select)
        dropped = _split(ignore) if ignore is not None else tuple(config.ignore)
        from_config = [*(config.select if select is None else ()), *(config.ignore if ignore is None else ())]
        origins = {name: config.where[name] for name in from_config if name in config.where}
        return cls(chosen, dropped, origins)

    def selected(self, rules: list[RuleDoc]) -> list[RuleDoc]:
        known = _known(rules)
        for flag, names in (("--select: ", self.select), ("--ignore: ", self.ignore)):
            for name in names:
                if name not in known:
                    origin = self.origins.get(name)
                    raise _unknown(name, known, origin, "" if origin else flag)
        chosen = set(self.select)
        dropped = set(self.ignore)
        return [r for r in rules
                if (not chosen or r.id in chosen or r.category in chosen)
                and r.id not in dropped and r.category not in dropped]


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def apply(dump: DumpReport, config: Config) -> None:
    """Apply severity overrides (a rule's own beats its category's), then move suppressed findings
    to `dump.suppressed`; a rule left with only suppressed findings ends SUPPRESSED."""
    for finding in dump.findings:
        override = config.severity.get(finding.rule, config.severity.get(finding.category))
        if override is not None:
            finding.severity = override
    kept: list[Finding] = []
    for finding in dump.findings:
        match = next((s for s in config.suppress if _suppresses(s, dump.path, finding)), None)
        if match is None:
            kept.append(finding)
        else:
            dump.suppressed.append(Suppressed(finding, match.reason))
    dump.findings = kept
    firing = {f.rule for f in dump.findings}
    reasons: dict[str, dict[str, None]] = {}
    for s in dump.suppressed:
        reasons.setdefault(s.finding.rule, {})[s.reason] = None
    for result in dump.results:
        if result.rule in reasons and result.rule not in firing:
            result.outcome = Outcome.SUPPRESSED
            result.reason = "; ".join(reasons[result.rule])


def _suppresses(s: Suppression, dump_path: str, finding: Finding) -> bool:
    if s.rule not in (finding.rule, finding.category):
        return False
    if s.dump is not None and not _glob(dump_path, s.dump):
        return False
    if s.key is not None and not fnmatchcase(finding.key, s.key):
        return False
    if s.file is not None:
        return bool(finding.locations) and _glob(finding.locations[0].origin.file, s.file)
    return True


def _glob(path: str, pattern: str) -> bool:
    """gitignore-like: a pattern without '/' matches the last path component, one with '/' the
    whole path (`*` crosses '/'). Paths are compared without './' and trailing slashes."""
    normal = PurePosixPath(path.replace("\\", "/")).as_posix()
    if "/" not in pattern.rstrip("/"):
        return fnmatchcase(PurePosixPath(normal).name, pattern.rstrip("/"))
    return fnmatchcase(normal, pattern.rstrip("/").removeprefix("./"))


def resolve_fail_on(command_line: Severity | None, config: Config) -> Severity:
    """The command line beats the configuration, which beats the default: only errors fail."""
    return command_line or config.fail_on or Severity.ERROR


def exit_code(report: CheckReport, fail_on: Severity) -> int:
    """design.md §5: 2 when a dump could not be read (it wins), 1 when a finding left after
    suppression is at or above `fail_on`, else 0."""
    if any(d.error is not None for d in report.dumps):
        return 2
    threshold = SEVERITY_RANK[fail_on]
    if any(SEVERITY_RANK[f.severity] >= threshold for d in report.dumps for f in d.findings):
        return 1
    return 0
