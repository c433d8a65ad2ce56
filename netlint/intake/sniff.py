"""Light content signatures that tell which command printed a text (placeholder until written)."""

from __future__ import annotations

from ..model import Kind


def empty_reason(text: str) -> str | None:
    if not text.strip():
        return "the file is empty"
    return None


def sniff(text: str) -> Kind:
    return Kind.UNKNOWN
