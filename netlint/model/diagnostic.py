"""Diagnostics: what a stage has to say about its input, each tied to an origin."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .origin import Origin


class Severity(str, Enum):
    """`error`: a line was not understood (the file becomes `partial`);
    `warning`: understood, but suspicious or damaged (bad bytes, conflicts);
    `info`: a note (an inference netlint made, something an output cannot show)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    origin: Origin
    message: str
    text: str = ""
    severity: Severity = Severity.ERROR
