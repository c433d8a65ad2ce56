"""The rule expression language (grammars/rule_expr.lark), compiled to closures once per rule.

Nothing here runs Python a rule wrote: a rule can read facts (dataclass fields and the few
derived attributes `facts.py` declares, never a name with an underscore), call the functions of
`Functions`, compare and quantify. Logic is three-valued: a fact the dump does not show is
`null`, a comparison with `null` is `null`, and a rule whose `assert` ends `null` has found
nothing either way (the evidence rules say what to collect).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from ipaddress import (IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network,
                       ip_address, ip_interface, ip_network)
from typing import Any, Callable

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from ..resources import grammar_path

Value = Any
Compiled = Callable[["Scope"], Value]

_ADDRESS_ATTRS = frozenset({"prefixlen", "network_address", "broadcast_address", "ip", "network", "is_private",
                            "is_global", "is_link_local", "is_loopback", "is_multicast", "version", "netmask"})
_ADDRESSES = (IPv4Address, IPv6Address, IPv4Network, IPv6Network)


class ExprError(Exception):
    """A rule expression that does not parse or names what does not exist. `column` is 1-based
    within the expression text."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column


class Scope:
    """Names visible to an expression: a rule's globals, its scope item, quantifier variables."""

    __slots__ = ("names", "parent", "functions")

    def __init__(self, names: dict[str, Value], parent: Scope | None = None, functions: Any = None):
        self.names = names
        self.parent = parent
        self.functions = functions if functions is not None else (parent.functions if parent else None)

    def lookup(self, name: str) -> Value:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        raise ExprError(f"unknown name {name}")


# ---- values ------------------------------------------------------------------------------------

def truth(value: Value) -> bool | None:
    """Kleene truth: null stays unknown, everything else by Python's truthiness."""
    if value is None or isinstance(value, bool):
        return value
    return bool(value)


def plain(value: Value) -> Value:
    """What a rule sees of a fact: enums as their strings."""
    return value.value if isinstance(value, Enum) else value


def _coerce(a: Value, b: Value) -> tuple[Value, Value]:
    """Compare like with like: an address fact with the string a rule wrote, a number with a
    sysctl's text value."""
    if isinstance(a, str) and isinstance(b, _ADDRESSES + (IPv4Interface, IPv6Interface)):
        b, a = _coerce(b, a)
        return a, b
    if isinstance(a, (IPv4Interface, IPv6Interface)) and isinstance(b, str):
        try:
            return a, (ip_interface(b) if "/" in b else ip_address(b))
        except ValueError:
            return str(a), b
    if isinstance(a, (IPv4Network, IPv6Network)) and isinstance(b, str):
        try:
            return a, ip_network(b, strict=False)
        except ValueError:
            return str(a), b
    if isinstance(a, (IPv4Address, IPv6Address)) and isinstance(b, str):
        try:
            return a, ip_address(b)
        except ValueError:
            return str(a), b
    if isinstance(a, int) and not isinstance(a, bool) and isinstance(b, str) and re.fullmatch(r"-?\d+", b.strip()):
        return a, int(b)
    if isinstance(b, int) and not isinstance(b, bool) and isinstance(a, str) and re.fullmatch(r"-?\d+", a.strip()):
        return int(a), b
    return a, b


_COMPARE: dict[str, Callable[[Value, Value], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def compare(op: str, a: Value, b: Value) -> bool | None:
    if a is None or b is None:
        return None
    a, b = _coerce(plain(a), plain(b))
    if isinstance(a, (IPv4Interface, IPv6Interface)) and isinstance(b, (IPv4Address, IPv6Address)):
        a = a.ip
    try:
        return _COMPARE[op](a, b)
    except TypeError:
        if op in ("==", "!="):
            return _COMPARE[op](a, b)
        raise ExprError(f"cannot compare {type(a).__name__} {op} {type(b).__name__}") from None


def contains(item: Value, collection: Value) -> bool | None:
    """`item in collection`: membership, an address in a network, a network inside another,
    a substring."""
    if item is None or collection is None:
        return None
    item, collection = plain(item), plain(collection)
    if isinstance(collection, str) and isinstance(item, str):
        try:
            collection = ip_network(collection, strict=False)
        except ValueError:
            return item in collection
    if isinstance(collection, (IPv4Interface, IPv6Interface)):
        collection = collection.network
    if isinstance(collection, str):
        try:
            collection = ip_network(collection, strict=False)
        except ValueError:
            return False
    if isinstance(collection, (IPv4Network, IPv6Network)):
        if isinstance(item, str):
            item = ip_network(item, strict=False) if "/" in item else ip_address(item)
        if isinstance(item, (IPv4Interface, IPv6Interface)):
            item = item.ip
        if isinstance(item, (IPv4Network, IPv6Network)):
            return item.version == collection.version and item.subnet_of(collection)
        return item.version == collection.version and item in collection
    if isinstance(collection, dict):
        return any(compare("==", item, v) for v in collection.values())
    if isinstance(collection, (list, tuple, set, frozenset)):
        return any(compare("==", item, v) for v in collection)
    if hasattr(collection, "__contains__"):   # a port set
        return int(item) in collection
    raise ExprError(f"cannot look inside {type(collection).__name__}")


def glob(text: Value, pattern: Value) -> bool | None:
    """`name matches "vnet*"`: shell glob (a list of patterns matches if any does)."""
    if text is None or pattern is None:
        return None
    patterns = pattern if isinstance(pattern, list) else [pattern]
    return any(fnmatch.fnmatchcase(str(plain(text)), str(p)) for p in patterns)


def attribute(obj: Value, name: str, derived: dict[type, dict[str, Callable[[Any], Value]]]) -> Value:
    """A fact's attribute, if a rule may read it; null on null (a missing fact has no parts)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return plain(obj.get(name))
    if name in getattr(type(obj), "RULE_ATTRS", ()):
        return plain(getattr(obj, name))
    for cls in type(obj).__mro__:
        extra = derived.get(cls)
        if extra is not None and name in extra:
            return plain(extra[name](obj))
    if is_dataclass(obj) and name in {f.name for f in fields(obj)}:
        return plain(getattr(obj, name))
    if isinstance(obj, _ADDRESSES + (IPv4Interface, IPv6Interface)) and name in _ADDRESS_ATTRS:
        return getattr(obj, name)
    raise ExprError(f"{type(obj).__name__} has no attribute {name}")


def iterate(collection: Value) -> list[Value] | None:
    if collection is None:
        return None
    if isinstance(collection, dict):
        return list(collection.values())
    if isinstance(collection, (list, tuple, set, frozenset)):
        return list(collection)
    raise ExprError(f"cannot iterate over {type(collection).__name__}")


# ---- compiling ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression and the text it came from; `names` are the free names it reads."""

    text: str
    run: Compiled
    names: frozenset[str]

    def __call__(self, scope: Scope) -> Value:
        return self.run(scope)


_parser: Lark | None = None


def _lark() -> Lark:
    global _parser
    if _parser is None:
        _parser = Lark(grammar_path("rule_expr").read_text(encoding="utf-8"), parser="lalr",
                       lexer="contextual", propagate_positions=False, maybe_placeholders=True, cache=True)
    return _parser


def compile_expression(text: str, functions: frozenset[str], derived: dict[type, dict[str, Callable]]) -> Expression:
    """Parse and compile `text`; unknown functions are errors now, unknown names when checked
    against the rule's scope (`Expression.names`)."""
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as error:
        near = text[error.pos_in_stream:error.pos_in_stream + 12] if error.pos_in_stream is not None else ""
        expected = getattr(error, "expected", None) or getattr(error, "allowed", None) or ()
        hint = f"; expected {', '.join(sorted(str(e) for e in expected)[:6])}" if expected else ""
        raise ExprError(f"cannot read the expression at {near!r}{hint}" if near else
                        f"the expression ends too early{hint}", error.column) from None
    free: set[str] = set()
    run = _Compiler(functions, derived, free).build(tree, frozenset())
    return Expression(text, run, frozenset(free))


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


class _Compiler:
    def __init__(self, functions: frozenset[str], derived: dict[type, dict[str, Callable]], free: set[str]):
        self.functions = functions
        self.derived = derived
        self.free = free

    def build(self, node: Tree | Token, bound: frozenset[str]) -> Compiled:
        if isinstance(node, Token):
            raise ExprError(f"unexpected {node}")
        method = getattr(self, f"_{node.data}", None)
        if method is None:
            raise ExprError(f"unsupported expression {node.data}")
        return method(node.children, bound)

    def _number(self, children, bound):
        value = int(children[0])
        return lambda scope: value

    def _string(self, children, bound):
        value = _unquote(str(children[0]))
        return lambda scope: value

    def _true(self, children, bound):
        return lambda scope: True

    def _false(self, children, bound):
        return lambda scope: False

    def _null(self, children, bound):
        return lambda scope: None

    def _list_(self, children, bound):
        items = [self.build(c, bound) for c in children if c is not None]
        return lambda scope: [item(scope) for item in items]

    def _name(self, children, bound):
        name = str(children[0])
        if name not in bound:
            self.free.add(name)
        return lambda scope: scope.lookup(name)

    def _attribute(self, children, bound):
        obj, name = self.build(children[0], bound), str(children[1])
        if name.startswith("_"):
            raise ExprError(f"attribute {name} is private")
        derived = self.derived
        return lambda scope: attribute(obj(scope), name, derived)

    def _index(self, children, bound):
        obj, key = self.build(children[0], bound), self.build(children[1], bound)

        def run(scope):
            container, k = obj(scope), key(scope)
            if container is None or k is None:
                return None
            if isinstance(container, dict):
                return plain(container.get(k))
            if isinstance(container, (list, tuple)) and isinstance(k, int):
                return plain(container[k]) if -len(container) <= k < len(container) else None
            raise ExprError(f"cannot index {type(container).__name__} with {type(k).__name__}")
        return run

    def _call(self, children, bound):
        name = str(children[0])
        if name not in self.functions:
            raise ExprError(f"unknown function {name}")
        args: list[Compiled] = []
        kwargs: dict[str, Compiled] = {}
        if children[1] is not None:
            for arg in children[1].children:
                if isinstance(arg, Tree) and arg.data == "keyword":
                    kwargs[str(arg.children[0])] = self.build(arg.children[1], bound)
                elif kwargs:
                    raise ExprError(f"{name}(): a positional argument after a keyword one")
                else:
                    args.append(self.build(arg, bound))

        def run(scope):
            return plain(scope.functions.call(name, [a(scope) for a in args], {k: v(scope) for k, v in kwargs.items()}))
        return run

    def _quantifier(self, children, bound):
        kind, var = str(children[0]), str(children[1])
        collection = self.build(children[2], bound)
        condition = self.build(children[3], bound | {var})

        def run(scope):
            items = iterate(collection(scope))
            if items is None:
                return None
            if kind == "each":
                return [plain(condition(Scope({var: item}, scope))) for item in items]
            results = []
            for item in items:
                value = truth(condition(Scope({var: item}, scope)))
                if kind == "first" and value or kind == "any" and value is True:
                    return item if kind == "first" else True
                if kind == "all" and value is False:
                    return False
                results.append((item, value))
            if kind == "any":
                return True if any(v for _, v in results) else (None if any(v is None for _, v in results) else False)
            if kind == "all":
                return False if any(v is False for _, v in results) else (None if any(v is None for _, v in results)
                                                                          else True)
            if kind == "count":
                return sum(1 for _, v in results if v)
            if kind == "select":
                return [item for item, v in results if v]
            return None
        return run

    def _not_(self, children, bound):
        inner = self.build(children[0], bound)

        def run(scope):
            value = truth(inner(scope))
            return None if value is None else not value
        return run

    def _and_(self, children, bound):
        return self._junction(children, bound, decisive=False)

    def _or_(self, children, bound):
        return self._junction(children, bound, decisive=True)

    def _junction(self, children, bound, decisive: bool):
        """Kleene `and` (decided by a false) and `or` (decided by a true): otherwise unknown if
        any part is, else the other value."""
        parts = [self.build(c, bound) for c in children]

        def run(scope):
            unknown = False
            for part in parts:
                value = truth(part(scope))
                if value is decisive:
                    return decisive
                unknown |= value is None
            return None if unknown else not decisive
        return run

    def _if_else(self, children, bound):
        then, cond, other = (self.build(c, bound) for c in children)

        def run(scope):
            return then(scope) if truth(cond(scope)) else other(scope)
        return run

    def _compare(self, children, bound):
        left, op, right = self.build(children[0], bound), str(children[1]), self.build(children[2], bound)
        return lambda scope: compare(op, left(scope), right(scope))

    def _in_(self, children, bound):
        left, right = self.build(children[0], bound), self.build(children[1], bound)
        return lambda scope: contains(left(scope), right(scope))

    def _not_in(self, children, bound):
        left, right = self.build(children[0], bound), self.build(children[1], bound)

        def run(scope):
            value = contains(left(scope), right(scope))
            return None if value is None else not value
        return run

    def _matches(self, children, bound):
        left, right = self.build(children[0], bound), self.build(children[1], bound)
        return lambda scope: glob(left(scope), right(scope))

    def _add(self, children, bound):
        left, right = self.build(children[0], bound), self.build(children[1], bound)

        def run(scope):
            a, b = left(scope), right(scope)
            if a is None or b is None:
                return None
            if isinstance(a, str) or isinstance(b, str):
                return f"{a}{b}"
            return a + b
        return run

    def _sub(self, children, bound):
        left, right = self.build(children[0], bound), self.build(children[1], bound)

        def run(scope):
            a, b = left(scope), right(scope)
            return None if a is None or b is None else a - b
        return run


# ---- message templates ---------------------------------------------------------------------------

_HOLE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A message with `{expression}` holes (`{{` and `}}` are braces)."""

    text: str
    parts: tuple[str | Expression, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset().union(*(p.names for p in self.parts if isinstance(p, Expression)))

    def render(self, scope: Scope, show: Callable[[Value], str]) -> str:
        return "".join(p if isinstance(p, str) else show(p(scope)) for p in self.parts)


def compile_template(text: str, functions: frozenset[str], derived: dict[type, dict[str, Callable]]) -> Template:
    parts: list[str | Expression] = []
    last = 0
    for hole in _HOLE.finditer(text):
        parts.append(text[last:hole.start()])
        if hole.group(0) in ("{{", "}}"):
            parts.append(hole.group(0)[0])
        else:
            try:
                parts.append(compile_expression(hole.group(1), functions, derived))
            except ExprError as error:
                column = hole.start(1) + (error.column or 1)
                raise ExprError(f"in {{{hole.group(1)}}}: {error}", column) from None
        last = hole.end()
    tail = text[last:]
    if "{" in tail or "}" in tail:
        raise ExprError("unbalanced brace in the message (write {{ or }} for a brace)", last + 1)
    parts.append(tail)
    return Template(text, tuple(p for p in parts if p != ""))
