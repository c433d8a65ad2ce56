"""`netlint check`'s work: each dump read, merged and judged by the selected rules.

Dumps are independent, so `jobs > 1` checks them in worker processes (forked: the compiled
rules are inherited, not pickled).
"""

from __future__ import annotations

import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path

from .. import __version__
from ..host import load_host
from ..intake import MAX_INPUT_BYTES, InputError
from ..model import Severity, Status
from ..model.finding import CheckReport, DumpReport
from .config import Config, Selection, apply, exit_code, find_config, load_config, resolve_fail_on, validate
from .engine import RuleRuntimeError, evaluate
from .facts import Facts
from .loader import RuleSpec, load_rules

# What forked workers check each dump with (inherited, not pickled).
_JOB: tuple = ()


def check_dump(path: str, rules: list[RuleSpec], upstream_knows: list[IPv4Network] | None = None,
               max_bytes: int = MAX_INPUT_BYTES, namespace: str | None = None) -> DumpReport:
    """One dump's report; a dump netlint cannot read at all carries `error` instead.
    `upstream_knows` are networks the upstream routers route back to the host (as for trace)."""
    try:
        host = load_host(path, max_bytes, namespace)
        # The parsed facts live until the report is written; the cyclic collector would walk
        # them again and again (40% of a check on a 100k-rule host) for nothing.
        gc.freeze()
    except InputError as error:
        return DumpReport(path, error=str(error))
    except OSError as error:
        return DumpReport(path, error=f"{path}: {error.strerror or error}")
    report = DumpReport(path, inputs=host.inputs)
    if not any(r.status in (Status.PARSED, Status.PARTIAL) for r in host.inputs):
        report.error = f"{path}: nothing in it is a command output netlint reads"
    evaluation = evaluate(host, rules, Facts(host, upstream_knows))
    report.findings = evaluation.findings
    report.results = evaluation.results
    return report


def _worker(path: str) -> DumpReport:
    try:
        return check_dump(path, *_JOB)
    except RuleRuntimeError as error:
        return DumpReport(path, error=str(error))


def check_dumps(paths: list[str], rules: list[RuleSpec], jobs: int = 1,
                upstream_knows: list[IPv4Network] | None = None, max_bytes: int = MAX_INPUT_BYTES,
                namespace: str | None = None) -> CheckReport:
    """Every dump, in the order given. A rule that breaks on one dump's facts is that dump's
    error (exit 2), not a crash of the whole run."""
    report = CheckReport(__version__, rules=[r.doc for r in rules])
    if jobs <= 1 or len(paths) <= 1:
        for path in paths:
            try:
                report.dumps.append(check_dump(path, rules, upstream_knows, max_bytes, namespace))
            except RuleRuntimeError as error:
                report.dumps.append(DumpReport(path, error=str(error)))
        return report
    global _JOB
    _JOB = (rules, upstream_knows, max_bytes, namespace)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=context) as pool:
        report.dumps.extend(pool.map(_worker, paths))
    return report


@dataclass(slots=True)
class CheckRequest:
    """What `netlint check` was asked: the flags, unresolved (None = not given)."""

    paths: list[str]
    rule_dirs: list[Path] = field(default_factory=list)
    select: str | None = None
    ignore: str | None = None
    fail_on: Severity | None = None
    jobs: int = 1
    upstream_knows: list[IPv4Network] = field(default_factory=list)
    max_bytes: int = MAX_INPUT_BYTES
    namespace: str | None = None
    cwd: Path = field(default_factory=Path.cwd)


def run(request: CheckRequest) -> tuple[CheckReport, int]:
    """Configuration (closest netlint.toml / pyproject.toml), rules (catalog + --rules, then the
    selection), every dump checked, suppressions and overrides applied; the exit code of
    design.md §5. Raises ConfigError / RuleError for the user to fix (exit 2)."""
    config_path = find_config(request.cwd)
    config = load_config(config_path) if config_path else Config()
    rules = load_rules(request.rule_dirs)
    validate(config, [r.doc for r in rules])
    chosen = {doc.id for doc in Selection.build(config, request.select, request.ignore).selected([r.doc for r in rules])}
    report = check_dumps(request.paths, [r for r in rules if r.id in chosen], request.jobs,
                         request.upstream_knows, request.max_bytes, request.namespace)
    for dump in report.dumps:
        apply(dump, config)
    return report, exit_code(report, resolve_fail_on(request.fail_on, config))
