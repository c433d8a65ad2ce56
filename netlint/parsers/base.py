"""What every dump-format parser shares: a Lark grammar built once, and a walk over the
lines of a source that accounts for each one (parsed, or reported with its column)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from lark import Lark, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..model import Diagnostic, Origin, ParseResult, Severity, Source
from ..resources import grammar_path


class LineError(ValueError):
    """Raised by a transformer callback for a line that fits the grammar but not the facts
    (a bad address, a port out of range); `column` is 1-based where known."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column


@cache
def _build(name: str, start: str, transformer_type: type[Transformer] | None) -> Lark:
    return Lark(
        grammar_path(name).read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        start=start,
        transformer=transformer_type() if transformer_type else None,
        maybe_placeholders=False,
        cache=True,
    )


class Grammar:
    """A Lark LALR parser for `grammars/<name>.lark`, built on first use and then reused.
    With a transformer the parser builds facts directly, no tree in between."""

    def __init__(self, name: str, start: str = "start", transformer: type[Transformer] | None = None):
        self.name, self.start, self.transformer = name, start, transformer

    def parse(self, text: str) -> Any:
        return _build(self.name, self.start, self.transformer).parse(text)


def describe(error: Exception) -> tuple[str, int | None]:
    """A one-line message and a 1-based column for a Lark or transformer error."""
    if isinstance(error, LineError):
        return str(error), error.column
    if isinstance(error, UnexpectedCharacters):
        return f"unexpected character {error.char!r}", error.column
    if isinstance(error, UnexpectedEOF):
        return "line ends too early", None
    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == "$END":
            return "line ends too early", None
        expected = sorted(error.expected) if len(error.expected) <= 4 else []
        hint = f" (expected {', '.join(expected)})" if expected else ""
        return f"unexpected {str(token).strip()[:60]!r}{hint}", getattr(token, "column", None)
    if isinstance(error, UnexpectedInput):
        return "not understood", getattr(error, "column", None)
    inner = getattr(error, "orig_exc", None)
    if inner is not None:
        return describe(inner)
    return str(error) or type(error).__name__, None


@dataclass(slots=True)
class Line:
    number: int
    text: str


class Context:
    """The walk over one source: yields its lines with their numbers in the file, builds
    origins, and collects diagnostics and the count of recognized lines."""

    def __init__(self, source: Source):
        self.source = source
        self.diagnostics: list[Diagnostic] = list(source.diagnostics)
        self.recognized = 0

    def lines(self) -> Iterator[Line]:
        text = self.source.text
        if text.endswith("\n"):
            text = text[:-1]
        for offset, raw in enumerate(text.split("\n")):
            yield Line(self.source.first_line + offset, raw)

    def origin(self, line: int | None, column: int | None = None) -> Origin:
        return Origin(self.source.file, line, column)

    def ok(self) -> None:
        self.recognized += 1

    def report(self, line: Line, message: str, column: int | None = None,
               severity: Severity = Severity.ERROR) -> None:
        self.diagnostics.append(Diagnostic(self.origin(line.number, column), message, line.text, severity))

    def note(self, line: int | None, message: str, text: str = "") -> None:
        self.diagnostics.append(Diagnostic(self.origin(line), message, text, Severity.INFO))

    def try_parse(self, grammar: Grammar, line: Line, text: str | None = None) -> Any | None:
        """Parse one line; on failure report it as unrecognized and return None."""
        try:
            value = grammar.parse(line.text if text is None else text)
        except (LarkError, ValueError) as error:
            message, column = describe(error)
            self.report(line, message, column)
            return None
        self.ok()
        return value

    def result(self, data: Any) -> ParseResult:
        return ParseResult(self.source, data, self.diagnostics, self.recognized)


Parser = Callable[[Source], ParseResult]
