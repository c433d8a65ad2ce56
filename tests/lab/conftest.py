"""The lab's pytest plumbing: `--lab-seeds`, and whether namespaces can be made here.

`--lab-seeds` is read when pytest starts from this folder or one below it
(`pytest tests/lab --lab-seeds 5,77,123`); `NETLINT_LAB_SEEDS=5,77,123` works from anywhere.
"""

from __future__ import annotations

import os

import pytest

from .harness import missing_requirement

IN_CI = os.environ.get("CI") == "true"


def pytest_addoption(parser):
    parser.addoption("--lab-seeds", default=None, metavar="N,N,...",
                     help="generator seeds to build and probe instead of the fixed list (tests/lab)")


def seeds_option(config) -> list[int] | None:
    """The seeds a person asked for (option, else NETLINT_LAB_SEEDS), or None for the fixed list."""
    text = config.getoption("lab_seeds", default=None) or os.environ.get("NETLINT_LAB_SEEDS")
    if not text:
        return None
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise pytest.UsageError(f"--lab-seeds takes integers separated by commas, not {text!r}") from None


@pytest.fixture(scope="session", autouse=True)
def lab_namespaces():
    """Skip the lab where namespaces cannot be made (not root, no `ip netns`); fail in CI."""
    reason = missing_requirement()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true but the lab cannot run: {reason}")
        pytest.skip(f"lab: {reason}")
