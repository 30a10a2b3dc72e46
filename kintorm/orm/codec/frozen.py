"""The snapshot's form of JSON values: lists become tuples, dicts stay dicts.

A record's snapshot is kept for as long as the record lives. In this form it costs
the cyclic garbage collector nothing: CPython stops tracking a tuple of atomic values
at its first collection, and a dict holding only atomic values and such tuples at
the next full one, so a loaded record adds only its instance and its lists to every
collection's pass. JSON has no tuples, so :func:`thaw` gives back the exact value.
"""

from __future__ import annotations

from typing import Any

__all__ = ["freeze", "same_frozen", "thaw"]


def freeze(value: Any) -> Any:
    """``value`` (JSON-like) with its lists as tuples; dicts are copied."""
    kind = type(value)
    if kind is list:
        return tuple([freeze(item) for item in value])
    if kind is dict:
        return {key: freeze(item) for key, item in value.items()}
    return value


def thaw(value: Any) -> Any:
    """The JSON value of a frozen one (a new copy of its lists and dicts)."""
    kind = type(value)
    if kind is tuple:
        return [thaw(item) for item in value]
    if kind is dict:
        return {key: thaw(item) for key, item in value.items()}
    return value


def same_frozen(value: Any, frozen: Any) -> bool:
    """JSON equality of ``value`` and the frozen ``frozen`` (``1``, ``1.0`` and
    ``True`` are different values), as ``tracking.same(value, thaw(frozen))``."""
    kind = type(value)
    if kind is list:
        if type(frozen) is not tuple or len(value) != len(frozen):
            return False
        return all(same_frozen(a, b) for a, b in zip(value, frozen, strict=True))
    if kind is not type(frozen):
        return False
    if kind is dict:
        return value.keys() == frozen.keys() and all(
            same_frozen(item, frozen[key]) for key, item in value.items()
        )
    return bool(value == frozen)
