"""The parameters that say *where* a value is on one field: guards and flag rules.

Kinto JSON-parses filter values (KINTO-NOTES §1) and orders every JSON value
(§12: null < strings < numbers < booleans < arrays < objects < missing, on both
backends). A *guard* is one more querystring parameter on the same field, so that
a null or missing field never matches a comparison:

- ``"null"`` drops explicit nulls: ``gt_f=null`` (null is the lowest JSON value);
- ``"missing"`` drops absent fields: ``lt_f=<a value above the field's JSON type>``
  (``0`` above strings, ``false`` above numbers, ``[0]`` above booleans), or
  ``has_f=true`` for objects and fields of open type;
- on arrays both are ``contains_f=[]``, true of every array only (PostgreSQL sorts
  an empty array below null, so ``gt_f=null`` would drop it);
- ``"text"`` keeps string values only (``gt_f=null`` and ``lt_f=0``), which also
  keeps Kinto's memory backend from evaluating ``like_`` on a non-string (500).

The *flag rules* (:func:`isnull`, :func:`exists`, :func:`null`) build the
parameters of the ``isnull`` / ``exists`` / ``null`` lookups from the field and the
boolean asked for, or an :class:`Either` of disjoint alternatives when one
querystring cannot say it (``isnull=True`` on a string, number, list or open
field: ``f=null``, or ``f`` missing), which the query set sends as one request each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from kintorm.orm.query.fields import Target

__all__ = ["ABOVE", "GUARDS", "Either", "exists", "guard_params", "isnull", "null", "scalar"]

Param = tuple[str, str]

#: a JSON value sorting above every value of the JSON type, in Kinto's order
#: (null < strings < numbers < booleans < arrays < objects < missing, on both backends;
#: not ``[]``: PostgreSQL sorts an empty top-level array below null)
ABOVE: Mapping[str, str] = {"string": "0", "number": "false", "boolean": "[0]", "array": "{}"}


@attrs.frozen
class Either:
    """Disjoint alternatives: a record matches exactly one of them, or none. Each
    alternative is a list of parameters that Kinto ANDs (one request each)."""

    alternatives: tuple[tuple[Param, ...], ...]


def scalar(value: Any) -> str:
    """``value`` as Kinto parses it back: JSON. Strings are quoted (unquoted ``2`` or
    ``true`` would be read as a number or a bool)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _no_null(t: Target) -> list[Param]:
    if t.kind == "array":  # PostgreSQL sorts [] below null: gt_f=null would drop it
        return [_an_array(t)]
    return [(f"gt_{t.path}", "null")]


def _an_array(t: Target) -> Param:
    """``contains_f=[]``: true of every array, of nothing else (null, missing)."""
    return (f"contains_{t.path}", "[]")


def _no_missing(t: Target) -> list[Param]:
    if t.kind == "array":
        return [_an_array(t)]
    if t.kind in ABOVE:
        return [(f"lt_{t.path}", ABOVE[t.kind])]
    return [(f"has_{t.path}", "true")]


def _present(t: Target) -> list[Param]:
    """Stored, possibly as null (``has_f=true``)."""
    if t.kind == "array":
        return [(f"lt_{t.path}", "{}")]  # objects sort above arrays, and above null
    return _no_missing(t)


def _only_missing(t: Target) -> list[Param]:
    if t.kind == "array":
        return [(f"gt_{t.path}", "{}")]
    if t.kind in ABOVE:
        return [(f"gt_{t.path}", ABOVE[t.kind])]
    return [(f"has_{t.path}", "false")]


def _text(t: Target) -> list[Param]:
    return [(f"gt_{t.path}", "null"), (f"lt_{t.path}", ABOVE["string"])]


#: the guards a lookup row names, by name
GUARDS: Mapping[str, Callable[[Target], list[Param]]] = {
    "null": _no_null,
    "missing": _no_missing,
    "text": _text,
}


def guard_params(target: Target, guards: tuple[str, ...]) -> list[Param]:
    """The querystring parameters of ``guards`` on ``target`` (none on id/last_modified)."""
    if target.always_set:
        return []
    return list(dict.fromkeys(param for name in guards for param in GUARDS[name](target)))


# --- the flag rules: (field, flag) -> parameters -------------------------------------


def isnull(t: Target, flag: bool) -> list[Param] | Either:
    """``f__isnull``: null or missing (True), or a value (False)."""
    if not flag:  # a value: neither null nor missing
        return list(dict.fromkeys(_no_null(t) + _no_missing(t)))
    if t.choices is not None and all(
        not (isinstance(c, str) and "," in c) for c in t.choices
    ):  # null or missing = none of the values it can hold
        return [(f"exclude_{t.path}", ",".join(scalar(c) for c in t.choices))]
    if t.required_key is not None:  # an object without its required key is no object
        return [(f"has_{t.path}.{t.required_key}", "false")]
    # Kinto cannot say "null or missing" in one querystring for these kinds (only
    # not_/exclude_ keep both, and each removes finitely many values): two disjoint
    # queries, stored as null (f=null) and absent (as exists=False)
    return Either((tuple(null(t, True)), tuple(_only_missing(t))))


def exists(t: Target, flag: bool) -> list[Param]:
    """``f__exists``: stored, possibly as null (True), or absent (False)."""
    return _present(t) if flag else _only_missing(t)


def null(t: Target, flag: bool) -> list[Param]:
    """``f__null``: stored as null (True), or not null, a missing field included (False)."""
    return [(t.path, "null")] if flag else [(f"not_{t.path}", "null")]
