"""Cursor pages for APIs: ``qs.page(size, cursor)`` (see docs/cursors.md).

A page is one ``GET`` of the query with ``_limit=size`` (more when the server
serves fewer records per response than asked: ``kinto.paginate_by``), and the
``_token`` of its ``Next-Page`` link sealed into a cursor (:mod:`kintorm.orm.cursor`)
bound to the query: its model and its requests (path, filters, order, fields).
Kinto's token is keyset pagination: the values of the sort fields of the page's
last record and its ``last_modified``, unique in a collection.

A union of queries (``isnull=True`` on a str, number or list field, see
:mod:`kintorm.orm.query.filters`) is ordered by ``last_modified`` only: its
position is the ``last_modified`` of the page's last record, each branch continues
after it (Kinto's token form, written here), and the branches' pages are merged.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
import heapq
import json
import types
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, Union, get_args, get_origin
from urllib.parse import parse_qsl, urlsplit

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.effects import Action, Fanout, Op
from kintorm.client.exceptions import MalformedResponse
from kintorm.orm._requests import last_modified_of, listing_page_op
from kintorm.orm.cursor import InvalidCursor, InvalidPageSize, seal, unseal
from kintorm.orm.exceptions import UnsupportedQuery
from kintorm.orm.query.fields import kind_of_value, resolve_field, unwrap_optional
from kintorm.orm.query.spec import CompiledRequest, QuerySpec, union_descending

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["MAX_PAGE_SIZE", "CursorPage", "check_page", "page_op", "query_context"]

M = TypeVar("M", bound="RecordLike")

#: the largest page: Kinto's own cap on one response (``storage_max_fetch_size``)
MAX_PAGE_SIZE = 10_000


@attrs.frozen
class CursorPage(Generic[M]):
    """One page of :meth:`QuerySet.page`: ``items``, the instances in the query's
    order, and ``next_cursor``, the text that asks for the following page (``None``
    on the last one). Iterating a page iterates its items; ``len()`` counts them."""

    items: list[M]
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[M]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


# --- checks, before any request ------------------------------------------------------


def _check_size(size: object) -> None:
    if isinstance(size, bool) or not isinstance(size, int):
        raise InvalidPageSize(f"a page size is an int, not {type(size).__name__}")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidPageSize(f"a page size is between 1 and {MAX_PAGE_SIZE}, not {size}")


#: types whose values travel as JSON strings, numbers or booleans (kintorm.orm.convert)
_SCALARS = (str, int, float, bool, datetime.date, datetime.datetime, uuid.UUID)


def _scalar(type_: Any) -> bool:
    """Whether every value of ``type_`` (a field's type) travels as a JSON scalar."""
    plain = unwrap_optional(type_)
    if get_origin(plain) in (Union, types.UnionType):
        return all(_scalar(arg) for arg in get_args(plain) if arg is not type(None))
    if get_origin(plain) is Literal:
        values: Iterable[Any] = get_args(plain)
    elif isinstance(plain, type) and issubclass(plain, enum.Enum):
        values = (member.value for member in plain)
    else:
        return isinstance(plain, type) and issubclass(plain, _SCALARS)
    return all(v is None or kind_of_value(v) in ("string", "number", "boolean") for v in values)


def check_page(model: type[RecordLike], spec: QuerySpec, size: object) -> None:
    """Refuse, before any request, a page size (InvalidPageSize) and an order Kinto
    cannot page through (UnsupportedQuery): Kinto refuses its own pagination token
    when the page's last record holds a list or an object in a sort field."""
    _check_size(size)
    for key in spec.sort:
        path, type_ = resolve_field(model, key.lstrip("-").replace(".", "__"))
        if not _scalar(type_):
            raise UnsupportedQuery(
                f"page() cannot order by {path!r}: it may hold a list or an object, and "
                "Kinto refuses to continue a listing after a record whose sort field holds "
                "one; order by fields of str, number, bool, date or enum types"
            )


# --- positions: what a cursor holds ---------------------------------------------------

#: Kinto's token, stored as the JSON its base64 encodes / as its text
_TOKEN_JSON, _TOKEN_TEXT = b"j", b"t"
#: a union's position: the last_modified of the page's last record (8 bytes)
_AFTER = b"u"


def query_context(model: type[RecordLike], compiled: Sequence[CompiledRequest]) -> bytes:
    """What a cursor is bound to: the model and the query's requests (path, filters,
    ``_since``/``_before``, ``_sort``, ``_fields``; not the page size)."""
    requests = [[c.path, sorted(c.params)] for c in compiled]
    described = ["kintorm page 1", f"{model.__module__}.{model.__qualname__}", requests]
    return json.dumps(described, separators=(",", ":")).encode("utf-8")


def _token_position(token: str) -> bytes:
    try:
        decoded = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is not None and base64.b64encode(decoded).decode("ascii") == token:
        return _TOKEN_JSON + decoded
    return _TOKEN_TEXT + token.encode("utf-8")


#: a position's kind byte -> Kinto's token
_TOKENS: dict[bytes, Callable[[bytes], str]] = {
    _TOKEN_JSON: lambda rest: base64.b64encode(rest).decode("ascii"),
    _TOKEN_TEXT: lambda rest: rest.decode("utf-8"),
}


def _kinto_token(position: bytes) -> str:
    decode = _TOKENS.get(position[:1])
    if decode is None:
        raise InvalidCursor("invalid cursor: made for another kind of query")
    return decode(position[1:])


def _after(position: bytes) -> int:
    if position[:1] != _AFTER or len(position) != 9:
        raise InvalidCursor("invalid cursor: made for another kind of query")
    return int.from_bytes(position[1:], "big")


def _after_token(last_modified: int) -> str:
    """Kinto's token continuing a ``last_modified`` order after ``last_modified``."""
    token = {"last_object": {"last_modified": last_modified}, "offset": 0, "nonce": "kintorm"}
    return base64.b64encode(json.dumps(token).encode("utf-8")).decode("ascii")


def _next_token(next_page: str) -> str:
    token = dict(parse_qsl(urlsplit(next_page).query, keep_blank_values=True)).get("_token")
    if not token:
        raise MalformedResponse(f"a Next-Page link without a _token: {next_page[:200]!r}")
    return token


# --- fetching ---------------------------------------------------------------------------


def _fill(
    client: BaseClient, query: CompiledRequest, size: int, token: str | None
) -> Op[tuple[list[Any], str | None]]:
    """Up to ``size`` records of ``query`` after ``token``, and the token after them
    (``None`` at the end): several requests when the server serves fewer per response
    (``paginate_by``, ``storage_max_fetch_size``), each continuing the last."""
    rows: list[Any] = []
    while True:
        params = (*query.params, ("_limit", str(size - len(rows))))
        if token is not None:
            params += (("_token", token),)
        request = attrs.evolve(query, params=params).request()
        data, next_page = yield from listing_page_op(client, request)
        rows.extend(data)
        token = None if next_page is None else _next_token(next_page)
        if token is None or not data or len(rows) >= size:
            return rows, token


def _union(
    client: BaseClient,
    compiled: Sequence[CompiledRequest],
    size: int,
    after: int | None,
    descending: bool,
) -> Action[tuple[list[Any], int | None]]:
    """The first ``size`` records of the branches' listings merged by ``last_modified``
    (after ``after``), and the position after them (``None`` at the end)."""
    token = None if after is None else _after_token(after)
    fetched: list[tuple[list[Any], str | None]] = yield Fanout(
        [_fill(client, query, size, token) for query in compiled]
    )
    merged = list(
        heapq.merge(*(rows for rows, _ in fetched), key=last_modified_of, reverse=descending)
    )
    rows = merged[:size]
    more = len(merged) > size or any(following is not None for _, following in fetched)
    return rows, (last_modified_of(rows[-1]) if rows and more else None)


def page_op(
    model: type[RecordLike],
    client: BaseClient,
    compiled: Sequence[CompiledRequest],
    spec: QuerySpec,
    size: int,
    cursor: str | None,
    load: Callable[[list[Any], BaseClient], list[M]],
) -> Action[CursorPage[M]]:
    """The page of ``size`` records of the query ``compiled`` after ``cursor``
    (InvalidCursor, before any request, for a cursor not made for this query), its
    records loaded by ``load(rows, client)``; ``check_page`` has checked ``size`` and the order."""
    context = query_context(model, compiled)
    position = None if cursor is None else unseal(cursor, context)
    following: bytes | None = None
    if len(compiled) == 1:
        token = None if position is None else _kinto_token(position)
        rows, token = yield from _fill(client, compiled[0], size, token)
        if token is not None:
            following = _token_position(token)
    else:
        descending = union_descending(spec)
        after = None if position is None else _after(position)
        rows, last = yield from _union(client, compiled, size, after, descending)
        if last is not None:
            following = _AFTER + last.to_bytes(8, "big")
    next_cursor = None if following is None else seal(following, context)
    return CursorPage(load(rows, client), next_cursor)
