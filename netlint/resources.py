"""Where netlint's data files (grammars, rule catalog) are.

In a built wheel they sit inside the package (`netlint/_data/`); in a source checkout or an
editable install they are the top-level `grammars/` and `rules/` folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_PACKAGED = _PACKAGE / "_data"
_DATA_ROOT = _PACKAGED if _PACKAGED.is_dir() else _PACKAGE.parent


def grammar_path(name: str) -> Path:
    """Path of `grammars/<name>.lark`."""
    return _DATA_ROOT / "grammars" / f"{name}.lark"


def rules_dir() -> Path:
    """The shipped rule catalog."""
    return _DATA_ROOT / "rules"
