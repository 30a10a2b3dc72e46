"""A query as plain values (:class:`QuerySpec`) and its pure compiler.

:func:`compile_queries` turns a spec into the ``(method, path, params)`` of its
Kinto requests without any I/O: one, or one per branch of a union (see
``QuerySpec.branches``). Tested by asserting the request it emits (as peewee's
``assertSQL``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Literal

import attrs

from kintorm.client.protocol import Request
from kintorm.orm.exceptions import InvalidRecord, UnsupportedQuery
from kintorm.orm.query.filters import Branches, merge_filters

__all__ = [
    "UNION_SORTS",
    "CompiledRequest",
    "OnInvalid",
    "Params",
    "QuerySpec",
    "check_union_order",
    "compile_queries",
    "compile_query",
    "direct_id",
    "sliced",
    "union_descending",
]

Params = tuple[tuple[str, str], ...]
#: "raise", "skip", or a function called with each InvalidRecord skipped
OnInvalid = Literal["raise", "skip"] | Callable[[InvalidRecord], object]

#: the orders in which the results of a union's queries can be merged exactly:
#: last_modified is unique in a collection, and Kinto sorts by it the same way on
#: every backend (other fields tie, and PostgreSQL orders strings by its collation)
UNION_SORTS = frozenset({(), ("last_modified",), ("-last_modified",)})


@attrs.frozen
class QuerySpec:
    """Everything a query set says, as plain values (compiled querystring filters)."""

    filters: Params = ()
    #: a union of disjoint queries: a record matches ``filters`` and exactly one
    #: branch (``()``: no union). ``isnull=True`` on a str, number or list field is
    #: ``f=null`` or ``f`` missing, which Kinto cannot say in one querystring.
    branches: Branches = ()
    sort: tuple[str, ...] = ()
    fields: tuple[str, ...] | None = None
    since: int | None = None
    before: int | None = None
    start: int = 0
    stop: int | None = None
    #: what loading does with a stored record that does not fit the model
    on_invalid: OnInvalid = "raise"

    @property
    def sliced(self) -> bool:
        """Whether a slice (``qs[a:b]``) limits this query."""
        return self.start != 0 or self.stop is not None


@attrs.frozen
class CompiledRequest:
    """A request as data: ``method``, ``path`` and querystring ``params`` (in order)."""

    method: str
    path: str
    params: Params = ()

    @property
    def query(self) -> dict[str, str]:
        """The querystring parameters as a dict."""
        return dict(self.params)

    def request(self) -> Request:
        """The client's Request value of this request."""
        return Request(self.method, self.path, self.params)


def compile_query(
    spec: QuerySpec, path: str, method: str = "GET", *, page_size: int | None = None
) -> CompiledRequest:
    """The Kinto request for ``spec`` on the plural endpoint ``path``. Pure.

    GET carries filters, ``_since``/``_before``, ``_sort``, ``_fields`` and ``_limit``
    (the slice's stop: offsets are skipped client-side); HEAD (count) and DELETE
    only the filters and ``_since``/``_before``. A union (``spec.branches``) is
    several requests: UnsupportedQuery here, see :func:`compile_queries`.
    """
    if spec.branches:
        raise UnsupportedQuery(
            f"this query is a union of {len(spec.branches)} Kinto queries (null or "
            "missing): compile it with compile_queries() / QuerySet.compile_all()"
        )
    params = list(spec.filters)
    if spec.since is not None:
        params.append(("_since", str(spec.since)))
    if spec.before is not None:
        params.append(("_before", str(spec.before)))
    if method == "GET":
        if spec.sort:
            params.append(("_sort", ",".join(spec.sort)))
        if spec.fields is not None:
            params.append(("_fields", ",".join(spec.fields)))
        limit = spec.stop
        if page_size is not None:
            limit = page_size if limit is None else min(limit, page_size)
        if limit is not None:
            params.append(("_limit", str(limit)))
    return CompiledRequest(method, path, tuple(params))


def compile_queries(
    spec: QuerySpec, path: str, method: str = "GET", *, page_size: int | None = None
) -> tuple[CompiledRequest, ...]:
    """Every request of ``spec``: one, or one per branch of a union (its parameters
    added to the filters). Pure. The branches are disjoint, so their counts add up and
    their listings merge without duplicates."""
    if not spec.branches:
        return (compile_query(spec, path, method, page_size=page_size),)
    return tuple(
        compile_query(
            attrs.evolve(spec, filters=merge_filters(spec.filters, branch), branches=()),
            path,
            method,
            page_size=page_size,
        )
        for branch in spec.branches
    )


def union_descending(spec: QuerySpec) -> bool:
    """Whether a union's branches are merged newest first: in Kinto's default order
    (``-last_modified``) and ``order_by("-last_modified")``, not ``order_by("last_modified")``."""
    return spec.sort != ("last_modified",)


def check_union_order(spec: QuerySpec) -> None:
    """UnsupportedQuery when ``spec`` is a union whose results cannot be merged in its
    order (only ``last_modified`` is unique and sorted alike on every backend)."""
    if spec.branches and spec.sort not in UNION_SORTS:
        raise UnsupportedQuery(
            f"order_by({', '.join(map(repr, spec.sort))}) on a query sent as "
            f"{len(spec.branches)} Kinto queries (isnull=True on a field Kinto cannot ask "
            "'null or missing' of in one query): their results can only be merged in "
            "Kinto's exact order by last_modified, unique in a collection; use the default "
            "order or order_by('last_modified') / order_by('-last_modified'), or ask "
            "f__null=True and f__exists=False apart"
        )


def sliced(spec: QuerySpec, start: int, stop: int | None) -> QuerySpec:
    """``spec`` limited to ``[start:stop]`` of its results (a slice of a slice narrows)."""
    new_start = spec.start + start
    new_stop = None if stop is None else spec.start + stop
    if spec.stop is not None:
        new_stop = spec.stop if new_stop is None else min(new_stop, spec.stop)
    if new_stop is not None:
        new_start = min(new_start, new_stop)
    return attrs.evolve(spec, start=new_start, stop=new_stop)


def direct_id(spec: QuerySpec) -> str | None:
    """The id when ``spec`` is exactly ``id=<x>`` (``get()`` sends a single-object GET)."""
    if len(spec.filters) != 1 or spec.branches or spec.fields is not None or spec.sliced:
        return None
    if spec.since is not None or spec.before is not None:
        return None
    key, value = spec.filters[0]
    if key != "id":
        return None
    decoded = json.loads(value)
    return decoded if isinstance(decoded, str) else None
