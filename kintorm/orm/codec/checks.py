"""The check of a JSON-native value about to be sent, without converting it.

``convert.unstructure_value`` checks a value three ways (unstructured, structured
back, encoded as JSON). For a field of a JSON-native type (kintorm.orm.codec.fast
``is_native``: ``str``, ``int``, ``float``, ``bool``, ``X | None``, ``list[X]``,
``dict[str, X]``), :func:`fits` says in one walk whether the value would pass them
all: exact types, finite floats, integers Kinto keeps exactly, strings that encode
as UTF-8. A value that does not fit goes through unstructure_value, which names the
error.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any

from kintorm.client.protocol import KINTO_INT_RANGE

__all__ = ["fits"]

_LOW, _HIGH = KINTO_INT_RANGE
_UNIONS = (typing.Union, types.UnionType)


def _str(value: Any) -> bool:
    if type(value) is not str:
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _int(value: Any) -> bool:
    return type(value) is int and _LOW <= value <= _HIGH


def _float(value: Any) -> bool:
    if type(value) is float:
        return math.isfinite(value)
    return _int(value)  # the hook takes an int for a float


def _bool(value: Any) -> bool:
    return type(value) is bool


_SCALARS = {str: _str, int: _int, float: _float, bool: _bool}


def fits(value: Any, type_: Any) -> bool:
    """Would ``value`` pass unstructure_value for the JSON-native ``type_`` unchanged?"""
    scalar = _SCALARS.get(type_)
    if scalar is not None:
        return scalar(value)
    origin, args = typing.get_origin(type_), typing.get_args(type_)
    if origin in _UNIONS:  # X | None
        inner = next(a for a in args if a is not type(None))
        return value is None or fits(value, inner)
    if origin is list:
        return type(value) is list and all(fits(item, args[0]) for item in value)
    if origin is dict:
        return type(value) is dict and all(
            _str(key) and fits(item, args[1]) for key, item in value.items()
        )
    return False
