"""`netlint rules`: the catalog as a list, one rule's documentation, and fixture results."""

from __future__ import annotations

import textwrap

from ..model.finding import RuleDoc

_ORDER = {"error": 0, "warning": 1, "info": 2}


def render_list(rules: list[RuleDoc]) -> str:
    width = max((len(r.id) for r in rules), default=10)
    lines = [f"{'rule':<{width}}  {'severity':<8}  {'category':<10}  title"]
    for rule in sorted(rules, key=lambda r: (r.category == "evidence", _ORDER[r.severity.value], r.id)):
        lines.append(f"{rule.id:<{width}}  {rule.severity.value:<8}  {rule.category:<10}  {rule.title}")
    lines.append(f"\n{len(rules)} rules; `netlint rules ID` prints one rule's documentation.")
    return "\n".join(lines) + "\n"


def _wrap(text: str, indent: str = "  ") -> list[str]:
    out = []
    for paragraph in text.strip().split("\n\n"):
        out.extend(textwrap.wrap(" ".join(paragraph.split()), 96, initial_indent=indent, subsequent_indent=indent))
        out.append("")
    return out[:-1]


def render_doc(rule: RuleDoc) -> str:
    """ruff-style: what it finds and why it matters, what is normal, an example, the fix."""
    lines = [f"{rule.id}: {rule.title}", f"severity {rule.severity.value} · category {rule.category} · "
                                         f"checks each {rule.scope}", "", "What it finds, and why it matters"]
    lines += _wrap(rule.description)
    if rule.normal:
        lines += ["", "Normal (the rule stays silent)"]
        for case in rule.normal:
            wrapped = _wrap(case, "    ")
            lines += ["  - " + wrapped[0].strip(), *wrapped[1:]]
    if rule.example:
        lines += ["", "Example", *("    " + line for line in rule.example.splitlines())]
    lines += ["", "Fix"]
    lines += _wrap(rule.fix)
    if rule.references:
        lines += ["", "References", *(f"  - {ref}" for ref in rule.references)]
    return "\n".join(lines) + "\n"


def render_test_results(results, missing: list[str]) -> str:
    lines = []
    failed = [r for r in results if not r.ok]
    for result in failed:
        case = result.case
        lines.append(f"FAIL {case.name}: {result.detail}")
        lines.append(f"     ({case.dump}; {case.why})")
    for rule in missing:
        lines.append(f"FAIL {rule}: needs at least one must and one must-not case")
    rules = len({r.case.rule for r in results})
    lines.append(f"{len(results) - len(failed)} of {len(results)} cases pass over {rules} rules"
                 + (f"; {len(missing)} rules lack fixtures" if missing else ""))
    return "\n".join(lines) + "\n"
