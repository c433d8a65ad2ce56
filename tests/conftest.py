"""Shared test helpers: the real-output corpus beside the checkout, and a way to parse text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from netlint.model import Kind, ParseResult, Role, Source
from netlint.parsers import parse

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = REPO.parent / "shared" / "corpus"
IN_CI = os.environ.get("CI") == "true"


def require_corpus() -> Path:
    """The corpus folder; skips outside this project's CI when it is absent, fails in CI."""
    if not CORPUS.is_dir():
        if IN_CI:
            pytest.fail(f"CI=true but the corpus {CORPUS} is missing")
        pytest.skip(f"{CORPUS} is absent (it is laid beside the checkout in this project's CI)")
    return CORPUS


@pytest.fixture
def corpus() -> Path:
    return require_corpus()


def pytest_sessionfinish(session, exitstatus):
    """In CI nothing may skip: a skipped corpus, root or namespace test would hide a gap."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"CI=true: {skipped} test(s) skipped; every test must run in CI", red=True)
        session.exitstatus = 1


def parse_text(kind: Kind | str, text: str, file: str = "fixture.txt", role: Role = Role.HOST) -> ParseResult:
    """Parse `text` as if it were a file of `kind` in a dump."""
    return parse(Source(file, Kind(kind), text, role=role))


def parse_file(kind: Kind | str, path: Path) -> ParseResult:
    from netlint.intake import read_file

    (source,) = read_file(path, kind=Kind(kind))
    return parse(source)
