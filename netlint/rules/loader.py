"""Rule files: YAML (safe_load only), validated against rules/schema.json, expressions compiled
once. A bad rule file is a `RuleError` naming file:line, never a traceback."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from ..model import Severity
from ..model.finding import RuleDoc
from ..resources import rules_dir
from .errors import RuleError
from .expr import Expression, ExprError, Template, compile_expression, compile_template
from .facts import DERIVED, GLOBALS, SCOPES, Functions


@dataclass(slots=True)
class RuleSpec:
    doc: RuleDoc
    lets: list[tuple[str, Expression]]
    when: Expression | None
    check: Expression
    at: Expression | None
    key: Template | None
    message: Template
    fix: Template
    fallback: bool = False

    @property
    def id(self) -> str:
        return self.doc.id


# libyaml's safe loader when PyYAML has it (the same documents, several times faster); safe either way.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads((rules_dir() / "schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _lines(node: yaml.Node) -> dict[tuple, yaml.Node]:
    """Each path in the document (as jsonschema names it) to its YAML node, for line numbers."""
    out: dict[tuple, yaml.Node] = {(): node}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            for path, sub in _lines(value).items():
                out[(key.value, *path)] = sub
            out.setdefault(("<key>", key.value), key)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            for path, sub in _lines(value).items():
                out[(index, *path)] = sub
    return out


def load_rule(path: Path) -> RuleSpec:
    text = _read(path)
    try:
        node = yaml.compose(text, Loader=_SafeLoader)
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is not None and mark.index >= len(text.rstrip()):   # at the end: say where it opened
            mark = getattr(error, "context_mark", None) or mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RuleError(f"{path}{line}: not valid YAML: {problem}") from None
    if not isinstance(data, dict) or node is None:
        raise RuleError(f"{path}:1: a rule file holds one mapping (id, title, severity, …)")
    nodes = _lines(node)

    def line_of(*keys) -> int:
        for n in range(len(keys), -1, -1):
            found = nodes.get(tuple(keys[:n]))
            if found is not None:
                return found.start_mark.line + 1
        return 1

    for mapping, where in ((data, ()), (data.get("let"), ("let",))):
        for key in mapping if isinstance(mapping, dict) else ():
            if not isinstance(key, str):
                raise RuleError(f"{path}:{line_of(*where)}: {'.'.join(where) or 'the rule'}: the key {key!r} is not a "
                                "name (YAML reads on/off/yes/no as booleans: quote it or pick another name)")
    fields = _validator().schema["properties"]
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, 1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise RuleError(f"{path}:{line_of('<key>', key)}: unknown field {key!r}{hint}")
    errors = sorted(_validator().iter_errors(data), key=lambda e: (line_of(*e.absolute_path), e.message))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "the rule"
        raise RuleError(f"{path}:{line_of(*first.absolute_path)}: {where}: {first.message}")
    if data.get("fallback") and data["scope"] not in ("flow", "dnat"):
        raise RuleError(f"{path}:{line_of('fallback')}: fallback: only a flow or dnat rule can be a catch-all")
    if data["id"] != path.stem:
        raise RuleError(f"{path}:{line_of('id')}: id {data['id']!r} differs from the file name {path.stem!r}")
    scope_name = SCOPES[data["scope"]]
    known = set(GLOBALS | {scope_name})

    def compile_field(field: str, template: bool = False, *within: str):
        keys = (field, *within)
        if (keys[-1] if within else field) not in (data[field] if within else data):
            return None
        text = data[field][within[0]] if within else data[field]
        value_node = nodes[keys]
        where = ".".join(keys)
        try:
            compiled = (compile_template if template else compile_expression)(text, Functions.NAMES, DERIVED)
        except ExprError as error:
            raise RuleError(f"{path}:{_value_line(value_node, text, error.column)}: {where}: {error}") from None
        unknown = sorted(compiled.names - known)
        if unknown:
            raise RuleError(f"{path}:{value_node.start_mark.line + 1}: {where}: unknown name {unknown[0]} (scope "
                            f"{data['scope']} names its item {scope_name}; see rules/README.md for the others)")
        return compiled

    lets = []
    for name in data.get("let", {}):
        if name in known or name in Functions.NAMES:
            raise RuleError(f"{path}:{line_of('let', name)}: let.{name}: the name is taken (a global, the scope "
                            "item, a function or an earlier let)")
        lets.append((name, compile_field("let", False, name)))
        known.add(name)

    doc = RuleDoc(id=data["id"], title=data["title"], severity=Severity(data["severity"]), category=data["category"],
                  scope=data["scope"], description=data["description"].strip(), fix=data["fix"].strip(),
                  normal=list(data.get("normal", [])), example=data.get("example", "").rstrip(),
                  references=list(data.get("references", [])), path=str(path))
    return RuleSpec(doc, lets, compile_field("when"), compile_field("assert"), compile_field("at"),
                compile_field("key", template=True), compile_field("message", template=True),
                compile_field("fix", template=True), bool(data.get("fallback", False)))


def _value_line(node: yaml.Node, text: str, column: int | None) -> int:
    """The file line of a column inside a (possibly multi-line) expression."""
    start = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        start += 1
    if column is None:
        return start
    return start + text[:column - 1].count("\n") if node.style == "|" else start


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RuleError(f"{path}:1: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise RuleError(f"{path}: {error.strerror or error}") from None


def load_rules(extra: list[Path] | None = None, builtin: bool = True) -> list[RuleSpec]:
    """The shipped catalog and every `*.yaml` of the `--rules` folders, ordered by id. A user
    rule may not reuse a shipped id: ids are stable names, not overrides."""
    folders = ([rules_dir()] if builtin else []) + list(extra or [])
    rules: dict[str, RuleSpec] = {}
    for folder in folders:
        if not folder.is_dir():
            raise RuleError(f"{folder}: not a folder of rules")
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            rule = load_rule(path)
            if rule.id in rules:
                raise RuleError(f"{path}:1: rule {rule.id} is already defined in {rules[rule.id].doc.path}")
            rules[rule.id] = rule
    return [rules[k] for k in sorted(rules)]
