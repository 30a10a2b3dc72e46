"""Lazy, immutable query sets and their pure compiler.

A :class:`QuerySet` only holds a :class:`QuerySpec`. :func:`compile_queries` turns a
spec into the ``(method, path, params)`` of its Kinto requests without any I/O (one,
or one per branch of a union, see ``QuerySpec.branches``);
evaluation goes through the client's operations. Each evaluating method builds an
action (``_*_op``) that its sync form and its ``a``-prefixed twin (``count`` /
``acount``) run through ``kintorm.orm.drive``.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import KintoException
from kintorm.client.operation import Stream
from kintorm.client.protocol import (
    JSON_CONTENT_TYPE,
    Op,
    Request,
    collect,
    encode_json,
    quote_etag,
)
from kintorm.orm._requests import (
    batch_op,
    count_op,
    each_item,
    merged_records_stream,
    records_stream,
)
from kintorm.orm.bulk import BulkResult, Outcome
from kintorm.orm.codec.core import codec_for
from kintorm.orm.convert import converter, unstructure_value
from kintorm.orm.drive import (
    CONCURRENCY,
    Action,
    Fanout,
    run_async,
    run_sync,
    stream_async,
    stream_sync,
)
from kintorm.orm.exceptions import (
    ConflictError,
    DoesNotExist,
    FieldError,
    InvalidRecord,
    UnsupportedQuery,
)
from kintorm.orm.lookup_compile import (
    Branches,
    check_fields,
    combine_branches,
    compile_filter,
    compile_lookups,
    merge_filters,
    resolve_field,
)
from kintorm.orm.persist import (
    client_for,
    document,
    from_wire,
    loader,
    location,
    save_op,
    translate,
)
from kintorm.orm.state import data_fields, state

if TYPE_CHECKING:
    from kintorm.orm.model import Record

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

M = TypeVar("M", bound="Record")
T = TypeVar("T")
Params = tuple[tuple[str, str], ...]
#: "raise", "skip", or a function called with each InvalidRecord skipped
OnInvalid = Literal["raise", "skip"] | Callable[[InvalidRecord], object]

#: how many ids go in one in_id filter (URLs stay short)
IN_BULK_CHUNK = 100

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
        return self.start != 0 or self.stop is not None


@attrs.frozen
class CompiledRequest:
    """A request as data: ``method``, ``path`` and querystring ``params`` (in order)."""

    method: str
    path: str
    params: Params = ()

    @property
    def query(self) -> dict[str, str]:
        return dict(self.params)

    def request(self) -> Request:
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


def _check_union_order(spec: QuerySpec) -> None:
    if spec.branches and spec.sort not in UNION_SORTS:
        raise UnsupportedQuery(
            f"order_by({', '.join(map(repr, spec.sort))}) on a query sent as "
            f"{len(spec.branches)} Kinto queries (isnull=True on a field Kinto cannot ask "
            "'null or missing' of in one query): their results can only be merged in "
            "Kinto's exact order by last_modified, unique in a collection; use the default "
            "order or order_by('last_modified') / order_by('-last_modified'), or ask "
            "f__null=True and f__exists=False apart"
        )


# --- results -----------------------------------------------------------------------


@attrs.frozen
class Change(Generic[M]):
    """One change of ``changes()``: a record created or updated (``record``), or
    deleted (``deleted=True``, ``record=None``)."""

    id: str
    last_modified: int
    deleted: bool
    record: M | None


# --- the query set -----------------------------------------------------------------


class QuerySet(Generic[M]):
    """A lazy, immutable, chainable query on a model's collection."""

    def __init__(
        self, model: type[M], spec: QuerySpec | None = None, client: BaseClient | None = None
    ) -> None:
        self.model = model
        self.spec = spec or QuerySpec()
        self._client = client
        self._cache: list[M] | None = None

    # --- building -------------------------------------------------------------------

    def _clone(self, **changes: Any) -> QuerySet[M]:
        return QuerySet(self.model, attrs.evolve(self.spec, **changes), self._client)

    def _not_sliced(self, what: str) -> None:
        if self.spec.sliced:
            raise TypeError(f"cannot {what} a query set once it has been sliced")

    def all(self) -> QuerySet[M]:
        return self._clone()

    def using(self, client: BaseClient) -> QuerySet[M]:
        """The same query on another client (server, user or bucket)."""
        return QuerySet(self.model, self.spec, client)

    def _add_filters(self, compiled: tuple[list[tuple[str, str]], Branches]) -> QuerySet[M]:
        params, branches = compiled
        filters = merge_filters(self.spec.filters, params)
        union = combine_branches(self.spec.branches, branches)
        for branch in union:
            merge_filters(filters, branch)  # a contradiction raises now, not when sent
        spec = attrs.evolve(self.spec, filters=filters, branches=union)
        _check_union_order(spec)
        return QuerySet(self.model, spec, self._client)

    def filter(self, **lookups: Any) -> QuerySet[M]:
        """Records matching every lookup (``done=False``, ``n__gt=3``, ``a__b__in=[...]``)."""
        self._not_sliced("filter")
        return self._add_filters(compile_filter(self.model, lookups))

    def exclude(self, **lookups: Any) -> QuerySet[M]:
        """Records not matching the lookup (one per call: Kinto has no OR)."""
        self._not_sliced("filter")
        return self._add_filters(compile_filter(self.model, lookups, negate=True))

    def order_by(self, *fields: str) -> QuerySet[M]:
        """``_sort``; ``-field`` descends. Kinto always appends ``-last_modified``.
        A union (``isnull=True`` sent as two queries) takes only ``last_modified``."""
        self._not_sliced("reorder")
        checked = tuple(
            ("-" if f.startswith("-") else "") + resolve_field(self.model, f.lstrip("-"))[0]
            for f in fields
        )
        _check_union_order(attrs.evolve(self.spec, sort=checked))
        return self._clone(sort=checked)

    def only(self, *fields: str) -> QuerySet[M]:
        """``_fields``: load only these fields; the others are deferred and never sent
        back by save() unless assigned."""
        return self._clone(fields=check_fields(self.model, fields))

    def on_invalid(self, action: OnInvalid) -> QuerySet[M]:
        """What loading does with a stored record that does not fit the model:
        ``"raise"`` (the default) raises :class:`InvalidRecord` (naming the record, the
        field, and holding the stored document as ``.data``), ``"skip"`` leaves it out,
        and a function is called with each such InvalidRecord, then the record is left
        out (raise from it to stop). Applies to iteration, ``iterator()``, ``first()``,
        ``get()``, ``values()``, ``in_bulk()`` and ``changes()``; ``count()`` counts
        every record."""
        if action not in ("raise", "skip") and not callable(action):
            raise ValueError(f"on_invalid takes 'raise', 'skip' or a function, not {action!r}")
        return self._clone(on_invalid=action)

    def since(self, timestamp: int) -> QuerySet[M]:
        """Records modified after ``timestamp`` (``_since``)."""
        return self._clone(since=int(timestamp))

    def before(self, timestamp: int) -> QuerySet[M]:
        """Records modified before ``timestamp`` (``_before``)."""
        return self._clone(before=int(timestamp))

    def __or__(self, other: object) -> QuerySet[M]:
        raise UnsupportedQuery(
            "Kinto cannot OR two queries; for alternatives on one field use field__in=[...]"
        )

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, int):
            if key < 0:
                raise ValueError("negative indexing is not supported")
            if self._cache is not None:
                return self._cache[key]
            found = list(self._slice(key, key + 1))
            if not found:
                raise IndexError(key)
            return found[0]
        if (key.start or 0) < 0 or (key.stop is not None and key.stop < 0):
            raise ValueError("negative indexing is not supported")
        if key.step not in (None, 1):
            return list(self)[key]
        return self._slice(key.start or 0, key.stop)

    def _slice(self, start: int, stop: int | None) -> QuerySet[M]:
        new_start = self.spec.start + start
        new_stop = None if stop is None else self.spec.start + stop
        if self.spec.stop is not None:
            new_stop = self.spec.stop if new_stop is None else min(new_stop, self.spec.stop)
        if new_stop is not None:
            new_start = min(new_start, new_stop)
        return self._clone(start=new_start, stop=new_stop)

    # --- compiling ------------------------------------------------------------------

    def _resolve_client(self) -> BaseClient:
        return self._client or client_for(self.model)

    def _path(self, client: BaseClient | None) -> str:
        bucket, collection = location(self.model, client)
        return endpoint("records", bucket=bucket, collection=collection)

    def compile(self, method: str = "GET", *, page_size: int | None = None) -> CompiledRequest:
        """The request this query set sends (no I/O). Without a client, a model with no
        bucket of its own is shown in the ``default`` bucket. A union of queries
        (``isnull=True`` on a str, number or list field) raises UnsupportedQuery: see
        :meth:`compile_all`."""
        return compile_query(self.spec, self._compile_path(), method, page_size=page_size)

    def compile_all(
        self, method: str = "GET", *, page_size: int | None = None
    ) -> tuple[CompiledRequest, ...]:
        """Every request this query set sends (no I/O): one, or one per branch of a
        union, whose results are added up (count) or merged (listings)."""
        return compile_queries(self.spec, self._compile_path(), method, page_size=page_size)

    def _compile_path(self) -> str:
        client = self._client or self.model._meta.client
        if client is None and self.model._meta.bucket is None:
            from kintorm.orm import connection

            client = connection._default
        if client is None and self.model._meta.bucket is None:
            return endpoint("records", bucket="default", collection=self.model._meta.collection)
        return self._path(client)

    def __repr__(self) -> str:
        try:
            urls = " + ".join(c.request().path_url for c in self.compile_all())
            return f"<QuerySet {self.model.__name__} GET {urls}>"
        except Exception:
            return f"<QuerySet {self.model.__name__}>"

    # --- running --------------------------------------------------------------------
    # Every evaluation is an action (a generator, see kintorm.orm.drive) built by a
    # ``_*_op`` method; the public method and its ``a``-prefixed twin hand the same
    # action to the sync or the async driver.

    def _sync(self, name: str, make: Callable[..., Action[T]], *args: Any) -> T:
        client = self._resolve_client()
        return run_sync(client, make(client, *args), f"{name}()", f"await qs.a{name}()")

    async def _async(self, name: str, make: Callable[..., Action[T]], *args: Any) -> T:
        client = self._resolve_client()
        return await run_async(client, make(client, *args), f"a{name}()", f"qs.{name}()")

    # --- evaluating -----------------------------------------------------------------

    def _instances(self, raw: Iterable[dict[str, Any]], client: BaseClient) -> Iterator[M]:
        partial = self.spec.fields is not None
        load = loader(self.model, owned=True)  # the page's records are ours
        for item in raw:
            if item.get("deleted"):
                continue  # a tombstone (filters on last_modified return them)
            try:
                yield load(item, None, partial, client)
            except InvalidRecord as exc:
                self._invalid(exc)

    def _invalid(self, exc: InvalidRecord) -> None:
        """Raise ``exc``, or note it and return (the record is skipped): ``on_invalid``."""
        action = self.spec.on_invalid
        if action == "raise":
            raise exc
        if callable(action):
            action(exc)

    def _raw_stream(self, client: BaseClient, page_size: int | None = None) -> Stream:
        compiled = compile_queries(self.spec, self._path(client), "GET", page_size=page_size)
        spec = self.spec
        if len(compiled) == 1:
            return records_stream(client, compiled[0].request(), spec.start, spec.stop)
        descending = spec.sort != ("last_modified",)  # Kinto's default: -last_modified
        requests = [c.request() for c in compiled]
        return merged_records_stream(client, requests, descending, spec.start, spec.stop)

    def _fetch_op(self, client: BaseClient) -> Op[list[M]]:
        raw = yield from collect(self._raw_stream(client))
        partial = self.spec.fields is not None  # the loop of _instances, GC paused:
        return codec_for(self.model).load_list(raw, partial, client, self._invalid)

    def _results_op(self, client: BaseClient) -> Op[list[M]]:
        """The records, fetched once and cached."""
        if self._cache is None:
            self._cache = yield from self._fetch_op(client)
        return self._cache

    def _fetch(self) -> list[M]:
        if self._cache is not None:  # also after 'async for'
            return self._cache
        client = self._resolve_client()
        return run_sync(
            client,
            self._results_op(client),
            "iterating a query set (for, list(), len(), bool())",
            "'async for' ([x async for x in qs])",
        )

    def __iter__(self) -> Iterator[M]:
        return iter(self._fetch())

    async def __aiter__(self) -> AsyncIterator[M]:
        """``async for record in qs``: the records, fetched once (every page) and cached."""
        client = self._resolve_client()
        records = await run_async(client, self._results_op(client), "'async for'", "a plain 'for'")
        for record in records:
            yield record

    def __len__(self) -> int:
        return len(self._fetch())

    def __bool__(self) -> bool:
        return bool(self._fetch())

    def _instance_stream(self, client: BaseClient, page_size: int | None) -> Stream:
        """Emit each record, page after page (``_limit=page_size``)."""
        pages = self._raw_stream(client, page_size)
        return each_item(pages, lambda page: self._instances(page, client))

    def iterator(self, page_size: int | None = None) -> Iterator[M]:
        """Stream the records page by page (``_limit=page_size``), caching nothing.
        A union of queries (``isnull=True`` on a str, number or list field) fetches
        every branch (page by page) before the first record, to merge them in order."""
        client = self._resolve_client()
        stream = self._instance_stream(client, page_size)
        return stream_sync(client, stream, "iterator()", "'async for x in qs.aiterator()'")

    def aiterator(self, page_size: int | None = None) -> AsyncIterator[M]:
        """``async for record in qs.aiterator(page_size)``: iterator(), on an AsyncClient."""
        client = self._resolve_client()
        stream = self._instance_stream(client, page_size)
        return stream_async(client, stream, "aiterator()", "'for x in qs.iterator()'")

    def _count_op(self, client: BaseClient) -> Op[int]:
        if self._cache is not None:
            return len(self._cache)
        total = 0
        for compiled in compile_queries(self.spec, self._path(client), "HEAD"):
            total += yield from count_op(client, compiled.path, compiled.params)
        if self.spec.stop is not None:
            total = min(total, self.spec.stop)
        return max(0, total - self.spec.start)

    def count(self) -> int:
        """The number of matching records, from a HEAD request (``Total-Objects``);
        no record is downloaded. A union of queries adds up one HEAD per branch."""
        return self._sync("count", self._count_op)

    def _exists_op(self, client: BaseClient) -> Op[bool]:
        if self._cache is not None:
            return bool(self._cache)
        if self.spec.since is not None or self.spec.before is not None:
            return (yield from self._count_op(client)) > 0  # listings include tombstones
        return bool((yield from self.only("id")._slice(0, 1)._fetch_op(client)))

    def exists(self) -> bool:
        return self._sync("exists", self._exists_op)

    def _first_op(self, client: BaseClient) -> Op[M | None]:
        if self._cache is not None:
            return self._cache[0] if self._cache else None
        found = yield from self._slice(0, 1)._fetch_op(client)
        return found[0] if found else None

    def first(self) -> M | None:
        """The first record in this query set's order (``-last_modified`` by default)."""
        return self._sync("first", self._first_op)

    def _direct_id(self) -> str | None:
        """The id when this query set is exactly ``id=<x>`` (a single-object GET)."""
        spec = self.spec
        if len(spec.filters) != 1 or spec.branches or spec.fields is not None or spec.sliced:
            return None
        if spec.since is not None or spec.before is not None:
            return None
        key, value = spec.filters[0]
        if key != "id":
            return None
        decoded = converter.structure(__import__("json").loads(value), str)
        return str(decoded)

    def _get_op(self, client: BaseClient, lookups: Mapping[str, Any] | None = None) -> Op[M]:
        if lookups:
            return (yield from self.filter(**lookups)._get_op(client))
        record_id = self._direct_id()
        if record_id is not None:
            bucket, collection = location(self.model, client)
            try:
                body = yield from BaseClient.get_record.op(
                    client, id=record_id, bucket=bucket, collection=collection
                )
            except KintoException as exc:
                if getattr(exc.response, "status_code", None) == 404:
                    raise self.model.DoesNotExist(
                        f"{self.model.__name__} {record_id!r} does not exist in "
                        f"bucket {bucket!r}, collection {collection!r}"
                    ) from exc
                raise
            try:
                return from_wire(self.model, body["data"], body.get("permissions"), client=client)
            except InvalidRecord as exc:
                self._invalid(exc)
                raise self.model.DoesNotExist(
                    f"{self.model.__name__} {record_id!r} does not fit the model and was "
                    "skipped (on_invalid)"
                ) from exc
        found = yield from self._slice(0, 2)._fetch_op(client)
        if not found:
            raise self.model.DoesNotExist(f"no {self.model.__name__} matches {self!r}")
        if len(found) > 1:
            raise self.model.MultipleObjectsReturned(
                f"more than one {self.model.__name__} matches {self!r}"
            )
        return found[0]

    def get(self, **lookups: Any) -> M:
        """The one record matching; DoesNotExist / MultipleObjectsReturned otherwise.
        ``get(id=...)`` alone is a single-object GET (which also returns permissions)."""
        return self._sync("get", self._get_op, lookups)

    def _values_op(self, client: BaseClient, fields: tuple[str, ...]) -> Op[list[dict[str, Any]]]:
        qs = self.only(*fields) if fields else self
        names = list(fields) or [
            "id",
            "last_modified",
            *(f.name for f in data_fields(self.model)),
        ]
        records = yield from qs._results_op(client)
        return [{name: getattr(obj, name) for name in names} for obj in records]

    def values(self, *fields: str) -> list[dict[str, Any]]:
        """Dicts of field values (``_fields`` when fields are named)."""
        return self._sync("values", self._values_op, fields)

    def _values_list_op(
        self, client: BaseClient, fields: tuple[str, ...], flat: bool
    ) -> Op[list[Any]]:
        if flat and len(fields) != 1:
            raise TypeError("values_list(flat=True) takes exactly one field")
        rows = yield from self._values_op(client, fields)
        if flat:
            return [row[fields[0]] for row in rows]
        return [tuple(row.values()) for row in rows]

    def values_list(self, *fields: str, flat: bool = False) -> list[Any]:
        """Tuples of field values, or single values with ``flat=True`` (one field)."""
        return self._sync("values_list", self._values_list_op, fields, flat)

    # --- writing --------------------------------------------------------------------

    def _bind(self, obj: M, client: BaseClient) -> M:
        state(obj).client = client
        return obj

    def _create_op(self, client: BaseClient, fields: Mapping[str, Any]) -> Op[M]:
        obj = self._bind(self.model(**fields), client)
        yield from save_op(obj, client, "auto", False)
        return obj

    def create(self, **fields: Any) -> M:
        """Make and save a record (``If-None-Match: *``)."""
        return self._sync("create", self._create_op, fields)

    @staticmethod
    def _exact(lookups: Mapping[str, Any]) -> dict[str, Any]:
        values = {}
        for key, value in lookups.items():
            parts = key.split("__")
            if parts[-1] in ("exact", "eq"):
                parts.pop()
            if len(parts) == 1:
                values[parts[0]] = value
        return values

    def _get_or_create_op(
        self, client: BaseClient, defaults: Mapping[str, Any] | None, lookups: Mapping[str, Any]
    ) -> Op[tuple[M, bool]]:
        try:
            return (yield from self._get_op(client, lookups)), False
        except DoesNotExist:
            pass
        try:
            fields = {**self._exact(lookups), **(defaults or {})}
            return (yield from self._create_op(client, fields)), True
        except ConflictError:  # created meanwhile by someone else (same id)
            return (yield from self._get_op(client, lookups)), False

    def get_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[M, bool]:
        """``(record, created)``: the record matching ``lookups``, or a new one made of
        the exact lookups and ``defaults``."""
        return self._sync("get_or_create", self._get_or_create_op, defaults, lookups)

    def _update_or_create_op(
        self, client: BaseClient, defaults: Mapping[str, Any] | None, lookups: Mapping[str, Any]
    ) -> Op[tuple[M, bool]]:
        try:
            obj = yield from self._get_op(client, lookups)
        except DoesNotExist:
            fields = {**self._exact(lookups), **(defaults or {})}
            return (yield from self._create_op(client, fields)), True
        for key, value in (defaults or {}).items():
            setattr(obj, key, value)
        yield from save_op(obj, client, "auto", False)
        return obj, False

    def update_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[M, bool]:
        """``(record, created)``: the matching record updated with ``defaults``, or a new one."""
        return self._sync("update_or_create", self._update_or_create_op, defaults, lookups)

    def _in_bulk_op(self, client: BaseClient, ids: Iterable[str]) -> Action[dict[str, M]]:
        wanted = list(dict.fromkeys(ids))
        chunks = [
            wanted[start : start + IN_BULK_CHUNK] for start in range(0, len(wanted), IN_BULK_CHUNK)
        ]
        found: list[list[M]] = yield Fanout(
            [self.filter(id__in=c)._fetch_op(client) for c in chunks]
        )
        return {obj.id: obj for objs in found for obj in objs if obj.id is not None}

    def in_bulk(self, ids: Iterable[str]) -> dict[str, M]:
        """``{id: record}`` for the given ids that exist (``in_id`` filters, 100 ids
        each, concurrent on an AsyncClient)."""
        return self._sync("in_bulk", self._in_bulk_op, ids)

    def _delete_op(self, client: BaseClient) -> Op[BulkResult[M]]:
        bucket, collection = location(self.model, client)
        tombstones: list[dict[str, Any]] = []
        for compiled in compile_queries(self.spec, self._path(client), "DELETE"):  # disjoint
            tombstones += yield from BaseClient.delete_records.op(
                client, bucket=bucket, collection=collection, **_any(dict(compiled.params))
            )
        return BulkResult(tuple(Outcome(t.get("id"), True) for t in tombstones))

    def delete(self) -> BulkResult[M]:
        """Delete every matching record with one filtered DELETE (Kinto pages it), one
        per branch of a union of queries; the result lists the deleted ids."""
        self._not_sliced("delete")
        return self._sync("delete", self._delete_op)

    def _update_data(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The wire values of ``changes``, checked before anything is sent."""
        fields = {f.name: f for f in data_fields(self.model)}
        data = {}
        for key, value in changes.items():
            if key not in fields:
                raise FieldError(f"{self.model.__name__} has no field {key!r} to update")
            data[key] = unstructure_value(value, fields[key].type, key)
        return data

    def update(self, *, raise_on_error: bool = True, **changes: Any) -> BulkResult[M]:
        """Set ``changes`` on every matching record: the matching ids are listed, then
        each record is patched (``If-Match`` on the version listed) through batch.

        A record changed or deleted meanwhile fails alone; BulkError names the failed
        ones (the others are done) unless ``raise_on_error=False``.
        """
        data = self._update_data(changes)
        return self._sync("update", self._update_op, data, raise_on_error, CONCURRENCY)

    def _update_op(
        self, client: BaseClient, data: dict[str, Any], raise_on_error: bool, concurrency: int
    ) -> Action[BulkResult[M]]:
        bucket, collection = location(self.model, client)
        targets = yield from collect(
            self.only("id")._raw_stream(client)  # id and last_modified come back
        )
        targets = [t for t in targets if not t.get("deleted")]
        if not data or not targets:
            return BulkResult(tuple(Outcome(t["id"], True) for t in targets))
        body = encode_json({"data": data})
        requests = [
            Request(
                "PATCH",
                endpoint("record", bucket=bucket, collection=collection, id=t["id"]),
                headers={
                    "Content-Type": JSON_CONTENT_TYPE,
                    "If-Match": quote_etag(t["last_modified"]),
                },
                body=body,
            )
            for t in targets
        ]
        results = yield from batch_op(client, requests, limit=concurrency)
        outcomes = tuple(
            Outcome[M](t["id"], r.error is None, error=r.error)
            for t, r in zip(targets, results, strict=True)
        )
        result = BulkResult(outcomes)
        return result.raise_for_failures("update()") if raise_on_error else result

    def bulk_create(self, objs: Sequence[M], *, raise_on_error: bool = True) -> BulkResult[M]:
        """Create ``objs`` through batch (``If-None-Match: *`` each, chunked at the
        server's ``batch_max_requests``). Every value is checked before anything is
        sent. Kinto does not roll back the others when one fails: BulkError names the
        failed ones unless ``raise_on_error=False``."""
        return self._sync(
            "bulk_create", self._bulk_create_op, list(objs), raise_on_error, CONCURRENCY
        )

    def _bulk_create_op(
        self, client: BaseClient, objs: list[M], raise_on_error: bool, concurrency: int
    ) -> Action[BulkResult[M]]:
        import uuid

        bucket, collection = location(self.model, client)
        documents = [document(obj) for obj in objs]  # ValidationError before any request
        requests = []
        for obj, doc in zip(objs, documents, strict=True):
            if obj.id is None:
                obj.id = str(uuid.uuid4())
            payload: dict[str, Any] = {"data": doc["data"]}
            if doc["permissions"]:
                payload["permissions"] = doc["permissions"]
            requests.append(
                Request(
                    "PUT",
                    endpoint("record", bucket=bucket, collection=collection, id=obj.id),
                    headers={"Content-Type": JSON_CONTENT_TYPE, "If-None-Match": "*"},
                    body=encode_json(payload),
                )
            )
        results = (
            yield from batch_op(client, requests, limit=concurrency) if requests else _nothing()
        )
        outcomes = []
        for obj, doc, result in zip(objs, documents, results, strict=True):
            if result.error is None and isinstance(result.body, dict):
                from kintorm.orm.persist import _apply

                _apply(obj, result.body, client)
                outcomes.append(Outcome(obj.id, True, obj))
            else:
                error = result.error
                if error is not None:
                    mapped = translate(
                        error, obj, bucket, collection, client, action="create", changes=doc
                    )
                    error = mapped if isinstance(mapped, KintoException) else error
                outcomes.append(Outcome(obj.id, False, obj, error))
        result_set = BulkResult(tuple(outcomes))
        return result_set.raise_for_failures("bulk_create()") if raise_on_error else result_set

    # --- changes --------------------------------------------------------------------

    def _change(self, item: dict[str, Any], client: BaseClient) -> Change[M] | None:
        """The change of ``item``; None for a record skipped by ``on_invalid``."""
        record = None
        if not item.get("deleted"):
            partial = self.spec.fields is not None
            try:
                record = from_wire(self.model, item, partial=partial, client=client)
            except InvalidRecord as exc:
                self._invalid(exc)
                return None
        return Change(item["id"], item["last_modified"], record is None, record)

    def _changes_query(self, since: int) -> tuple[BaseClient, Stream]:
        qs = self._clone(since=int(since), sort=("last_modified",))
        client = qs._resolve_client()
        pages = qs._raw_stream(client)

        def changes(page: list[Any]) -> Iterable[Change[M]]:
            return filter(None, (qs._change(item, client) for item in page))

        return client, each_item(pages, changes)

    def changes(self, since: int = 0) -> Iterator[Change[M]]:
        """Every change after ``since`` in ``last_modified`` order, deletions included
        (Kinto's tombstones). Data filters of this query set drop tombstones."""
        return stream_sync(
            *self._changes_query(since), "changes()", "'async for c in qs.achanges()'"
        )

    def achanges(self, since: int = 0) -> AsyncIterator[Change[M]]:
        """``async for change in qs.achanges(since)``: changes(), on an AsyncClient."""
        return stream_async(*self._changes_query(since), "achanges()", "'for c in qs.changes()'")

    # --- async twins: the same actions, awaited on an AsyncClient ---------------------

    async def acount(self) -> int:
        return await self._async("count", self._count_op)

    async def aexists(self) -> bool:
        return await self._async("exists", self._exists_op)

    async def afirst(self) -> M | None:
        return await self._async("first", self._first_op)

    async def aget(self, **lookups: Any) -> M:
        return await self._async("get", self._get_op, lookups)

    async def avalues(self, *fields: str) -> list[dict[str, Any]]:
        return await self._async("values", self._values_op, fields)

    async def avalues_list(self, *fields: str, flat: bool = False) -> list[Any]:
        return await self._async("values_list", self._values_list_op, fields, flat)

    async def acreate(self, **fields: Any) -> M:
        return await self._async("create", self._create_op, fields)

    async def aget_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[M, bool]:
        return await self._async("get_or_create", self._get_or_create_op, defaults, lookups)

    async def aupdate_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[M, bool]:
        return await self._async("update_or_create", self._update_or_create_op, defaults, lookups)

    async def ain_bulk(self, ids: Iterable[str]) -> dict[str, M]:
        return await self._async("in_bulk", self._in_bulk_op, ids)

    async def adelete(self) -> BulkResult[M]:
        self._not_sliced("delete")
        return await self._async("delete", self._delete_op)

    async def aupdate(
        self, *, raise_on_error: bool = True, concurrency: int = CONCURRENCY, **changes: Any
    ) -> BulkResult[M]:
        """update(), its batch chunks sent ``concurrency`` at a time."""
        data = self._update_data(changes)
        return await self._async("update", self._update_op, data, raise_on_error, concurrency)

    async def abulk_create(
        self, objs: Sequence[M], *, raise_on_error: bool = True, concurrency: int = CONCURRENCY
    ) -> BulkResult[M]:
        """bulk_create(), its batch chunks sent ``concurrency`` at a time."""
        return await self._async(
            "bulk_create", self._bulk_create_op, list(objs), raise_on_error, concurrency
        )


def _any(params: dict[str, str]) -> dict[str, Any]:
    return params


def _nothing() -> Generator[Any, Any, list[Any]]:
    return []
    yield  # pragma: no cover
