"""`netlint trace` output: the JSON of design.md §5, and the hop-by-hop story for a person."""

from __future__ import annotations

import json
from typing import Any

from ..model.trace import Leg, Step, Trace


def _step_json(step: Step) -> dict[str, Any]:
    return {
        "node": step.node, "stage": step.stage, "table": step.table, "chain": step.chain,
        "action": step.action, "detail": step.detail, "uncertain": step.uncertain,
        "origin": None if step.origin is None else {"file": step.origin.file, "line": step.origin.line},
    }


def _leg_json(leg: Leg | None) -> dict[str, Any] | None:
    if leg is None:
        return None
    return {"disposition": leg.disposition.value, "decisive": leg.decisive,
            "steps": [_step_json(s) for s in leg.steps]}


def trace_json(trace: Trace) -> dict[str, Any]:
    flow = trace.flow
    out = {
        "flow": {"src": str(flow.src), "dst": str(flow.dst), "proto": flow.proto, "sport": flow.sport,
                 "dport": flow.dport},
        "verdict": trace.verdict.value,
        "forward": _leg_json(trace.forward),
        "reply": _leg_json(trace.reply),
        "explanation": trace.explanation,
        "assumptions": trace.assumptions,
    }
    if flow.proto == "tcp":
        out["established"] = _leg_json(trace.established)
    return out


def render_json(trace: Trace) -> str:
    return json.dumps(trace_json(trace), indent=2) + "\n"


_TITLES = {"forward": "request", "reply": "reply", "established": "later packets (ESTABLISHED)"}


def _leg_text(name: str, leg: Leg) -> list[str]:
    out = [f"{_TITLES[name]}: {leg.disposition.value}"]
    for index, step in enumerate(leg.steps):
        mark = ">>" if index == leg.decisive else "  "
        where = f"{step.table} {step.chain}: " if step.table else ""
        doubt = " (?)" if step.uncertain else ""
        out.append(f" {mark} {step.node:<8} {step.stage:<9} {step.action:<8}{doubt} {where}{step.detail}")
        if index == leg.decisive and step.origin is not None:
            out.append(f"{'':15}at {step.origin}")
    return out


def render_text(trace: Trace) -> str:
    flow = trace.flow
    port = f" port {flow.dport}" if flow.dport else ""
    out = [f"{flow.proto} {flow.src} -> {flow.dst}{port}: {trace.verdict.value.upper()}", ""]
    for name in ("forward", "reply", "established"):
        leg = getattr(trace, name)
        if leg is not None:
            out.extend(_leg_text(name, leg))
            out.append("")
    out.append(trace.explanation)
    if trace.assumptions:
        out.append("")
        out.append("assumed:")
        out.extend(f"  - {a}" for a in trace.assumptions)
    return "\n".join(out) + "\n"
