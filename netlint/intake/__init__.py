"""Intake: turn a path into `Source`s (name, kind, text, origin), sniffing kinds by content."""

from .files import (CANONICAL_NAMES, MAX_INPUT_BYTES, InputError, read_dump, read_file, read_input, read_stdin,
                    source_from_bytes)
from .sniff import sniff

__all__ = ["CANONICAL_NAMES", "MAX_INPUT_BYTES", "InputError", "read_dump", "read_file", "read_input", "read_stdin",
           "sniff", "source_from_bytes"]
