"""Intake: turn a path into `Source`s (name, kind, text, origin), sniffing kinds by content."""

from .files import CANONICAL_NAMES, InputError, read_dump, read_file, source_from_bytes
from .sniff import sniff

__all__ = ["CANONICAL_NAMES", "InputError", "read_dump", "read_file", "sniff", "source_from_bytes"]
