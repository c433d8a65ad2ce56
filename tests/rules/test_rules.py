"""Every rule of the catalog on its fixtures (tests/rules/README.md): each must case triggers it
where `expect` says, each must-not case and each shared healthy host leaves it silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from netlint.rules.fixtures import Runner, collect_cases, missing_fixtures
from netlint.rules.loader import load_rules

ROOT = Path(__file__).resolve().parent
RULES = load_rules()
CASES = collect_cases(ROOT, RULES)


@pytest.fixture(scope="module")
def runner() -> Runner:
    return Runner(RULES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(runner, case):
    result = runner.run(case)
    assert result.ok, f"{case.name} ({case.why}): {result.detail}"


def test_every_rule_has_must_and_must_not_cases():
    assert missing_fixtures(ROOT, RULES) == []


def test_every_case_folder_is_listed():
    """A dump folder beside cases.yaml that no case names is a fixture nobody runs."""
    listed = {c.dump for c in CASES}
    for folder in ROOT.iterdir():
        if (folder / "cases.yaml").is_file():
            for dump in folder.iterdir():
                if dump.is_dir() and not dump.name.startswith(("_", ".")):
                    used = any(d == dump.resolve() or dump.resolve() in d.parents for d in listed)
                    assert used, f"{dump} is not a case of {folder.name}/cases.yaml"
