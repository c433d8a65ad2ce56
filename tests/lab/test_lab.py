"""netlint's trace against the kernel: every probe of every scenario in tests/lab/scenarios/ and
of the generator's fixed seeds (or `--lab-seeds`) is one test. A scenario is built, probed twice,
collected and torn down once, by the first of its probes to run; its probes then read the
result. A probe whose two rounds disagree fails with both rounds and is not scored.

`NETLINT_LAB_REPORT=FILE` appends one line per scored probe: scenario, probe, kernel, netlint
(tab-separated).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import seeds_option
from .generator import generate
from .harness import (
    Run,
    Scenario,
    ScenarioError,
    load_scenario,
    run_scenario,
    scenario_from_dict,
)

pytestmark = pytest.mark.lab

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
# Fixed, so CI is reproducible; explore others with --lab-seeds.
SEEDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)

_scenarios: dict[str, Scenario | str] = {}  # name -> scenario, or why it could not be read
_runs: dict[str, Run | str] = {}  # name -> run, or why it could not be built


def _cases(config) -> list[tuple[str, int | None]]:
    """(scenario, probe index) for every probe; (scenario, None) for a scenario that cannot be read."""
    if not _scenarios:
        for path in sorted(SCENARIOS.glob("*.yaml")):
            try:
                _scenarios[path.stem] = load_scenario(path)
            except (OSError, ValueError, ScenarioError) as error:
                _scenarios[path.stem] = f"{path}: {error}"
        for seed in seeds_option(config) or SEEDS:
            _scenarios[f"seed-{seed}"] = scenario_from_dict(f"seed-{seed}", generate(seed))
    return [(name, index) for name, scenario in _scenarios.items()
            for index in (range(len(scenario.probes)) if isinstance(scenario, Scenario) else [None])]


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = _cases(metafunc.config)
        ids = [f"{name}:{_scenarios[name].probes[i].slug}" if i is not None else f"{name}:unreadable"
               for name, i in cases]
        metafunc.parametrize("case", cases, ids=ids)


def _run(name: str) -> Run:
    if name not in _runs:
        try:
            _runs[name] = run_scenario(_scenarios[name])
        except Exception as error:  # every probe of the scenario reports why it was not built
            _runs[name] = f"{type(error).__name__}: {error}"
    run = _runs[name]
    if isinstance(run, str):
        pytest.fail(f"scenario {name} could not be built, probed or collected: {run}", pytrace=False)
    return run


def _report(line: str) -> None:
    path = os.environ.get("NETLINT_LAB_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def test_probe(case):
    name, index = case
    scenario = _scenarios[name]
    if isinstance(scenario, str):
        pytest.fail(f"scenario {name} cannot be read: {scenario}", pytrace=False)
    result = _run(name).results[index]
    probe = result.probe
    head = f"scenario {name} ({scenario.description})\nprobe {probe.index}: {probe.label}"
    rounds = "\n".join(f"  round {n}: {r.outcome} ({r.detail})" for n, r in enumerate(result.rounds, 1))
    kernel = result.kernel
    if kernel is None:
        pytest.fail(f"{head}\nthe kernel's two rounds disagree, so the probe is not scored:\n{rounds}",
                    pytrace=False)
    _report(f"{name}\t{probe.label}\t{kernel}\t{result.verdict}")
    problems = []
    if probe.expect is not None and kernel != probe.expect:
        problems.append(f"the scenario expects {probe.expect}, but the kernel says {kernel}: the scenario's "
                        f"author misread the kernel (or the scenario is built wrong)\n{rounds}")
    if result.verdict != kernel:
        problems.append(f"netlint says {result.verdict}, the kernel says {kernel}\n{rounds}\n"
                        f"netlint's trace:\n{result.story}")
    if problems:
        pytest.fail(f"{head}\n" + "\n".join(problems), pytrace=False)
