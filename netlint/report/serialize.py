"""Facts to JSON-ready values: dataclass fields as snake_case keys, numbers as numbers,
addresses as strings, an `origin` as its line number (the piece already names the file)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from ..model import Origin

_RENAMED = {"from_": "from"}
# Interfaces (`192.168.122.1/24`) are subclasses of the address types.
_ADDRESSES = (IPv4Address, IPv6Address, IPv4Network, IPv6Network)


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Origin):
        return value.line
    if isinstance(value, _ADDRESSES):
        return str(value)
    if is_dataclass(value):
        # A class with a TYPE (the iptables matches) says which it is: `{"type": "ports", …}`.
        out: dict[str, Any] = {"type": value.TYPE} if hasattr(value, "TYPE") else {}
        for field in fields(value):
            key = "line" if field.name == "origin" else _RENAMED.get(field.name, field.name)
            out[key] = to_jsonable(getattr(value, field.name))
        return out
    if isinstance(value, dict):
        # Facts kept by name for lookup (tables, chains) are lists of objects in JSON.
        if value and all(is_dataclass(v) for v in value.values()):
            return [to_jsonable(v) for v in value.values()]
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return str(value)
