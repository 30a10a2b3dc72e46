"""Lazy, immutable query sets and their pure compiler.

The package, by layer (each imports only those above it):

- ``fields``: ``a__b`` resolved against the model, with its JSON kind;
- ``guards``: the parameters that keep null and missing fields out of a comparison,
  and the rules of the ``isnull`` / ``exists`` / ``null`` lookups;
- ``lookups``: the lookup table, one row per lookup (prefixes, guards, value check,
  encoding);
- ``filters``: ``filter()`` / ``exclude()`` keywords -> querystring parameters;
- ``spec``: :class:`QuerySpec` and the pure compiler (:func:`compile_query`);
- ``reads``, ``changes``, ``writes``: what listing, ``changes()`` and the bulk
  writes do once compiled;
- ``base`` and ``queryset``: :class:`QuerySet`, whose methods that talk to the server
  are each one action, run as ``name()`` or awaited as ``aname()``
  (:mod:`kintorm.orm.twins`).
"""

from kintorm.orm.query.changes import Change
from kintorm.orm.query.fields import resolve_field
from kintorm.orm.query.filters import compile_lookups
from kintorm.orm.query.queryset import QuerySet
from kintorm.orm.query.spec import CompiledRequest, QuerySpec, compile_queries, compile_query

__all__ = [
    "Change",
    "CompiledRequest",
    "QuerySet",
    "QuerySpec",
    "compile_lookups",
    "compile_queries",
    "compile_query",
    "resolve_field",
]
