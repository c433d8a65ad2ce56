"""README.md stays true: its first two commands are the ones the issue asks for, and its rule
table lists the catalog as shipped."""

from __future__ import annotations

import re

from netlint.rules.loader import load_rules
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_opens_with_install_and_check_then_the_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README, re.S)[:2]
    assert commands == ["pip install . && netlint check examples/centos7-forwarding-off",
                        "pip install -e '.[test]' && python -m pytest"]


def test_rule_table_matches_the_catalog():
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| (error|warning|info) \|", README, re.M))
    assert rows == {r.id: r.doc.severity.value for r in load_rules()}
