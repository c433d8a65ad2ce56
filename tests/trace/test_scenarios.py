"""Every scenario dump under tests/fixtures/dumps/ traces as its expectation file says: the
verdict, the leg and disposition that decide it, and the dump line the decisive step cites."""

from __future__ import annotations

from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest
import yaml

from netlint.host import load_host
from netlint.model.trace import Flow, Trace
from netlint.trace import trace
from tests.conftest import FIXTURES

DUMPS = FIXTURES / "dumps"
SCENARIOS = sorted(p.stem for p in DUMPS.glob("*.yaml"))
CASES = [(name, index) for name in SCENARIOS
         for index, _ in enumerate(yaml.safe_load((DUMPS / f"{name}.yaml").read_text())["flows"])]


@pytest.fixture(scope="module")
def hosts():
    return {}


def _run(hosts, name: str, spec: dict) -> Trace:
    if name not in hosts:
        hosts[name] = load_host(str(DUMPS / name))
    flow = Flow(ip_address(spec["src"]), ip_address(spec["dst"]), spec.get("proto") or "icmp", None,
                spec.get("dport"))
    knows = [ip_network(c) for c in spec.get("upstream_knows") or []]
    return trace(hosts[name], flow, knows, spec.get("in"))


def _origin(step):
    return None if step is None or step.origin is None else (Path(step.origin.file).name if "/" not in
                                                             step.origin.file else step.origin.file, step.origin.line)


def _story(result: Trace) -> str:
    from netlint.report.trace_output import render_text

    return render_text(result)


@pytest.mark.parametrize("name, index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_scenario_flow(hosts, name, index):
    spec = yaml.safe_load((DUMPS / f"{name}.yaml").read_text())["flows"][index]
    result = _run(hosts, name, spec)
    story = _story(result)
    assert result.verdict.value == spec["verdict"], story
    if spec["verdict"] == "reachable":
        assert result.forward.disposition.value == spec["disposition"], story
    else:
        leg = getattr(result, spec["leg"])
        assert leg is not None, story
        assert leg.disposition.value == spec["disposition"], story
        decisive = spec.get("decisive")
        step = leg.decisive_step
        if decisive is not None:
            assert _origin(step) == (decisive["file"], decisive["line"]), story
        else:
            assert step is None or step.origin is None or step.origin.line is None, story
    steps = [s for leg in (result.forward, result.reply, result.established) if leg for s in leg.steps]
    if spec.get("cause"):
        cause = (spec["cause"]["file"], spec["cause"]["line"])
        assert cause in [_origin(s) for s in steps], story
    if spec.get("egress"):
        assert any(s.stage == "link" and s.detail == f"out of {spec['egress']}" for s in result.forward.steps), story
    if "snat" in spec:
        nat_to = [s.detail.split(":")[0].split(" to ")[-1] for s in result.forward.steps
                  if s.stage == "nat" and s.action in ("MASQUERADE", "SNAT")]
        assert nat_to == ([spec["snat"]] if spec["snat"] else []), story


def test_every_scenario_folder_has_expectations():
    folders = sorted(p.name for p in DUMPS.iterdir() if p.is_dir())
    assert folders == SCENARIOS
    assert len(CASES) >= 60
