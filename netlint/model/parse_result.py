"""What a parser returns for one source: typed facts, diagnostics and a Batfish-like status."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .diagnostic import Diagnostic, Severity
from .source import Source


class Status(str, Enum):
    PARSED = "parsed"
    PARTIAL = "partial"
    FAILED = "failed"
    EMPTY = "empty"


@dataclass(slots=True)
class ParseResult:
    """`recognized` counts the lines the parser understood; with it the status says whether
    nothing (`failed`), some (`partial`) or all (`parsed`) of a file was read."""

    source: Source
    data: Any
    diagnostics: list[Diagnostic] = field(default_factory=list)
    recognized: int = 0

    @property
    def status(self) -> Status:
        if self.source.empty_reason is not None:
            return Status.EMPTY
        if not any(d.severity is Severity.ERROR for d in self.diagnostics):
            return Status.PARSED
        return Status.PARTIAL if self.recognized else Status.FAILED
