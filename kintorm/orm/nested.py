"""Kept for the callers of its names until the merge: the undeclared keys of nested
objects are kept by the codec's hooks, kintorm.orm.codec.nested."""

from __future__ import annotations

from kintorm.orm.codec.nested import (
    _TABLE,
    Pins,
    collecting,
    emitting,
    install,
    nested_extras,
    reaches_unweakrefable,
)

__all__ = [
    "_TABLE",
    "Pins",
    "collecting",
    "emitting",
    "install",
    "nested_extras",
    "reaches_unweakrefable",
]
