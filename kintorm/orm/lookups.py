"""Django-style lookups as data: how ``field__lookup=value`` becomes a Kinto filter.

Each :class:`Lookup` names Kinto's querystring prefix for ``filter()``, the one
for ``exclude()`` (``None`` when Kinto has no negation) and how the value is
encoded (Kinto JSON-parses filter values, see KINTO-NOTES §1).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from kintorm.orm.exceptions import UnsupportedQuery

__all__ = ["LOOKUPS", "Lookup", "encode_value"]


def _scalar(value: Any) -> str:
    # Strings are quoted: unquoted "2" or "true" would be parsed as a number or a bool.
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _items(value: Any) -> str:
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
        raise UnsupportedQuery(f"__in expects a list of values, not {value!r}")
    parts = []
    for item in value:
        if isinstance(item, str) and "," in item:
            raise UnsupportedQuery(
                f"Kinto's in_/exclude_ split their value on commas: {item!r} cannot be expressed"
            )
        parts.append(_scalar(item))
    if not parts:
        raise UnsupportedQuery("__in of an empty list would match nothing; Kinto cannot say it")
    return ",".join(parts)


def _array(value: Any) -> str:
    return _scalar(list(value) if isinstance(value, list | tuple | set | frozenset) else [value])


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise UnsupportedQuery(f"like lookups take a string, not {value!r}")
    return _scalar(value)


def _null(value: Any) -> str:
    # isnull=True -> f=null; isnull=False -> not_f=null (see compile_lookups)
    return "null"


def _flag(value: Any) -> str:
    return "true" if value else "false"


def _identity(value: Any) -> Any:
    return value


@attrs.frozen
class Lookup:
    #: Kinto prefix used by filter() ("" is plain equality)
    prefix: str
    #: prefix used by exclude(), None when Kinto cannot negate it
    negation: str | None
    encode: Callable[[Any], str] = _scalar
    #: rewrites the Python value first (startswith -> "v*", isnull -> not v)
    transform: Callable[[Any], Any] = _identity
    #: the value is a list of field values (in), not one value
    many: bool = False


def _negate_flag(value: Any) -> bool:
    return not value


LOOKUPS: Mapping[str, Lookup] = {
    "exact": Lookup("", "not_"),
    "eq": Lookup("", "not_"),
    "ne": Lookup("not_", "eq_"),
    "gt": Lookup("gt_", "max_"),
    "gte": Lookup("min_", "lt_"),
    "lt": Lookup("lt_", "min_"),
    "lte": Lookup("max_", "gt_"),
    "in": Lookup("in_", "exclude_", _items, many=True),
    "contains": Lookup("contains_", None, _array, many=True),
    "contains_any": Lookup("contains_any_", None, _array, many=True),
    "like": Lookup("like_", None, _text),
    "icontains": Lookup("like_", None, _text, lambda v: f"*{v}*" if isinstance(v, str) else v),
    "startswith": Lookup("like_", None, _text, lambda v: f"{v}*" if isinstance(v, str) else v),
    "istartswith": Lookup("like_", None, _text, lambda v: f"{v}*" if isinstance(v, str) else v),
    "endswith": Lookup("like_", None, _text, lambda v: f"*{v}" if isinstance(v, str) else v),
    "iendswith": Lookup("like_", None, _text, lambda v: f"*{v}" if isinstance(v, str) else v),
    "isnull": Lookup("", "", _null, _negate_flag),
    "exists": Lookup("has_", "has_", _flag),
}

#: exclude() of these flips the flag instead of changing the prefix
FLAG_LOOKUPS = frozenset({"isnull", "exists"})


def encode_value(lookup: Lookup, value: Any) -> str:
    """The querystring value for ``lookup`` applied to an already unstructured value."""
    return lookup.encode(lookup.transform(value))
