"""The lazy, immutable, chainable :class:`QuerySet` (reads, and its write methods).

A query set only holds a :class:`~kintorm.orm.query.spec.QuerySpec`; building
methods (``filter``, ``order_by``, slicing...) return a new one. Each method that
talks to the server is written once as an action (``def count(self, client) ->
Op[int]``); :mod:`kintorm.orm.twins` makes it the sync method and its
``a``-prefixed twin (``count`` / ``acount``), run by :mod:`kintorm.orm.drive` on
the query set's client. The bulk writes are in :mod:`kintorm.orm.query.writes`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.operation import Stream
from kintorm.client.protocol import Op
from kintorm.orm._requests import each_item
from kintorm.orm.bulk import BulkResult
from kintorm.orm.drive import (
    CONCURRENCY,
    Action,
    Fanout,
    stream_async,
    stream_sync,
)
from kintorm.orm.exceptions import UnsupportedQuery
from kintorm.orm.hooks import hooked_op
from kintorm.orm.persist import save_op
from kintorm.orm.query import reads, writes
from kintorm.orm.query.base import QueryBase
from kintorm.orm.query.changes import Change, changes_stream
from kintorm.orm.query.fields import check_fields, resolve_field
from kintorm.orm.query.filters import (
    Branches,
    combine_branches,
    compile_filter,
    exact_values,
    merge_filters,
)
from kintorm.orm.query.pages import CursorPage, check_page, page_op
from kintorm.orm.query.spec import (
    OnInvalid,
    check_union_order,
    direct_id,
    sliced,
)
from kintorm.orm.state import RESERVED, state
from kintorm.orm.twins import Runner, twin

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["IN_BULK_CHUNK", "QuerySet"]

M = TypeVar("M", bound="RecordLike")

#: how many ids go in one in_id filter (URLs stay short)
IN_BULK_CHUNK = 100

#: query sets run their actions on their own client, else their model's
RUNS = Runner(client=lambda qs: qs._resolve_client(), noun=lambda qs: "qs")


class QuerySet(QueryBase[M]):
    """A lazy, immutable, chainable query on a model's collection."""

    # --- building -------------------------------------------------------------------

    def _clone(self, **changes: Any) -> QuerySet[M]:
        return QuerySet(self.model, attrs.evolve(self.spec, **changes), self._client)

    def all(self) -> QuerySet[M]:
        """A copy of this query set to evaluate again: its records are read anew, at the
        cost of a 304 while the collection is unchanged (the listings this query set
        read are revalidated with ``If-None-Match``; see docs/webapps.md)."""
        qs = self._clone()
        qs._memo = self._own_memo()
        return qs

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
        check_union_order(spec)
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
        check_union_order(attrs.evolve(self.spec, sort=checked))
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
        return QuerySet(self.model, sliced(self.spec, start, stop), self._client)

    # --- streams: each form one line on one stream -----------------------------------

    def _instance_stream(self, page_size: int | None) -> tuple[BaseClient, Stream]:
        """Each record, page after page (``_limit=page_size``), on the query's client."""
        client = self._resolve_client()
        pages = self._raw_stream(client, page_size)
        return client, each_item(pages, lambda page: self._instances(page, client))

    def iterator(self, page_size: int | None = None) -> Iterator[M]:
        """Stream the records page by page (``_limit=page_size``), caching nothing.
        A union of queries (``isnull=True`` on a str, number or list field) fetches
        every branch (page by page) before the first record, to merge them in order."""
        return stream_sync(
            *self._instance_stream(page_size), "iterator()", "'async for x in qs.aiterator()'"
        )

    def aiterator(self, page_size: int | None = None) -> AsyncIterator[M]:
        """``async for record in qs.aiterator(page_size)``: iterator(), on an AsyncClient."""
        return stream_async(
            *self._instance_stream(page_size), "aiterator()", "'for x in qs.iterator()'"
        )

    def _changes_stream(self, since: int) -> tuple[BaseClient, Stream]:
        qs = self._clone(since=int(since), sort=("last_modified",))
        client = qs._resolve_client()
        partial = qs.spec.fields is not None
        stream = changes_stream(
            qs.model, self._client, qs._raw_stream(client), partial=partial, invalid=qs._invalid
        )
        return client, stream

    def changes(self, since: int = 0) -> Iterator[Change[M]]:
        """Every change after ``since`` in ``last_modified`` order, deletions included
        (Kinto's tombstones). Data filters of this query set drop tombstones."""
        return stream_sync(
            *self._changes_stream(since), "changes()", "'async for c in qs.achanges()'"
        )

    def achanges(self, since: int = 0) -> AsyncIterator[Change[M]]:
        """``async for change in qs.achanges(since)``: changes(), on an AsyncClient."""
        return stream_async(*self._changes_stream(since), "achanges()", "'for c in qs.changes()'")

    # --- reading: each an action, run as ``name()`` and awaited as ``aname()`` ---------

    @RUNS.method
    def count(self, client: BaseClient) -> Op[int]:
        """The number of matching records, from a HEAD request (``Total-Objects``);
        no record is downloaded. A union of queries adds up one HEAD per branch."""
        if self._cache is not None:
            return len(self._cache)
        return (yield from reads.count_op(client, self._compiled(client, "HEAD"), self.spec))

    acount = twin(count)

    @RUNS.method
    def exists(self, client: BaseClient) -> Action[bool]:
        """Whether any record matches: one record's id is listed (``_limit=1``), or
        the records are counted when a timestamp filter would list tombstones."""
        if self._cache is not None:
            return bool(self._cache)
        if self.spec.since is not None or self.spec.before is not None:
            return (yield from QuerySet.count.action(self, client)) > 0  # tombstones listed
        return bool((yield from self.only("id")._slice(0, 1)._fetch_op(client)))

    aexists = twin(exists)

    @RUNS.method
    def first(self, client: BaseClient) -> Op[M | None]:
        """The first record in this query set's order (``-last_modified`` by default)."""
        if self._cache is not None:
            return self._cache[0] if self._cache else None
        found = yield from self._slice(0, 1)._fetch_op(client)
        return found[0] if found else None

    afirst = twin(first)

    @RUNS.method
    def get(self, client: BaseClient, /, **lookups: Any) -> Op[M]:
        """The one record matching; DoesNotExist / MultipleObjectsReturned otherwise.
        ``get(id=...)`` alone is a single-object GET (which also returns permissions)."""
        return (self.filter(**lookups) if lookups else self)._get_op(client)

    aget = twin(get)

    def _get_op(self, client: BaseClient) -> Op[M]:
        record_id = direct_id(self.spec)
        if record_id is not None:
            by_id = reads.get_by_id_op(self.model, client, record_id, self._invalid, self._client)
            return (yield from by_id)
        found = yield from self._slice(0, 2)._fetch_op(client)
        if not found:
            raise self.model.DoesNotExist(f"no {self.model.__name__} matches {self!r}")
        if len(found) > 1:
            raise self.model.MultipleObjectsReturned(
                f"more than one {self.model.__name__} matches {self!r}"
            )
        return found[0]

    @RUNS.method
    def values(self, client: BaseClient, *fields: str) -> Op[list[dict[str, Any]]]:
        """Dicts of field values (``_fields`` when fields are named)."""
        qs = self.only(*fields) if fields else self
        declared = (f.name for f in attrs.fields(self.model) if f.name not in RESERVED)
        names = list(fields) or ["id", "last_modified", *declared]
        records = yield from qs._results_op(client)
        return [{name: getattr(obj, name) for name in names} for obj in records]

    avalues = twin(values)

    @RUNS.method
    def values_list(
        self, client: BaseClient, *fields: str, flat: bool = False
    ) -> Action[list[Any]]:
        """Tuples of field values, or single values with ``flat=True`` (one field)."""
        if flat and len(fields) != 1:
            raise TypeError("values_list(flat=True) takes exactly one field")
        rows = yield from QuerySet.values.action(self, client, *fields)
        if flat:
            return [row[fields[0]] for row in rows]
        return [tuple(row.values()) for row in rows]

    avalues_list = twin(values_list)

    @RUNS.method
    def in_bulk(self, client: BaseClient, ids: Iterable[str]) -> Action[dict[str, M]]:
        """``{id: record}`` for the given ids that exist (``in_id`` filters, 100 ids
        each, concurrent on an AsyncClient)."""
        wanted = list(dict.fromkeys(ids))
        chunks = [
            wanted[start : start + IN_BULK_CHUNK] for start in range(0, len(wanted), IN_BULK_CHUNK)
        ]
        found: list[list[M]] = yield Fanout(
            [self.filter(id__in=c)._fetch_op(client) for c in chunks]
        )
        return {obj.id: obj for objs in found for obj in objs if obj.id is not None}

    ain_bulk = twin(in_bulk)

    @RUNS.method
    def page(
        self, client: BaseClient, size: int, cursor: str | None = None
    ) -> Action[CursorPage[M]]:
        """The ``size`` records that follow ``cursor`` (the first ones without), and the
        cursor of the next page (``None`` on the last): see docs/cursors.md. A cursor
        only works with the query that made it: InvalidCursor otherwise, InvalidPageSize
        for a size that is not an int from 1 to 10,000, both before any request."""
        check_page(self.model, self.spec, size)
        self._not_sliced("page")
        compiled, load = self._compiled(client, "GET"), self._instances
        return page_op(self.model, client, compiled, self.spec, size, cursor, load)

    apage = twin(page)

    # --- writing --------------------------------------------------------------------

    def _create_op(self, client: BaseClient, fields: Mapping[str, Any], via: str) -> Op[M]:
        obj = self.model(**fields)
        state(obj).client = self._client
        yield from hooked_op(obj, client, "create", via, save_op(obj, client, "auto", False))
        return obj

    @RUNS.method
    def create(self, client: BaseClient, /, **fields: Any) -> Op[M]:
        """Make and save a record (``If-None-Match: *``)."""
        return self._create_op(client, fields, "create")

    acreate = twin(create)

    @RUNS.method
    def get_or_create(
        self, client: BaseClient, /, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> Action[tuple[M, bool]]:
        """``(record, created)``: the record matching ``lookups``, or a new one made of
        the exact lookups and ``defaults``."""
        fields = {**exact_values(lookups), **(defaults or {})}
        return writes.get_or_create_op(
            lambda: QuerySet.get.action(self, client, **lookups),
            lambda: self._create_op(client, fields, "get_or_create"),
        )

    aget_or_create = twin(get_or_create)

    @RUNS.method
    def update_or_create(
        self, client: BaseClient, /, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> Action[tuple[M, bool]]:
        """``(record, created)``: the matching record updated with ``defaults``, or a new one."""
        fields = {**exact_values(lookups), **(defaults or {})}
        return writes.update_or_create_op(
            lambda: QuerySet.get.action(self, client, **lookups),
            lambda: self._create_op(client, fields, "update_or_create"),
            client,
            defaults or {},
        )

    aupdate_or_create = twin(update_or_create)

    @RUNS.method
    def delete(self, client: BaseClient) -> Op[BulkResult[M]]:
        """Delete every matching record with one filtered DELETE (Kinto pages it), one
        per branch of a union of queries; the result lists the deleted ids."""
        self._not_sliced("delete")
        return writes.delete_op(self.model, client, self._compiled(client, "DELETE"))

    adelete = twin(delete)

    @RUNS.method
    def update(
        self,
        client: BaseClient,
        /,
        *,
        raise_on_error: bool = True,
        concurrency: int = CONCURRENCY,
        **changes: Any,
    ) -> Action[BulkResult[M]]:
        """Set ``changes`` on every matching record: the matching ids are listed, then
        each record is patched (``If-Match`` on the version listed) through batch.

        A record changed or deleted meanwhile fails alone; BulkError names the failed
        ones (the others are done) unless ``raise_on_error=False``. ``concurrency`` is
        how many batch chunks are in flight at once on an AsyncClient; a Client sends
        them in turn (the value is still checked: at least 1).
        """
        data = writes.update_data(self.model, changes)
        listing = self.only("id")._raw_stream(client, whole=True)
        return writes.update_op(self.model, client, listing, data, raise_on_error, concurrency)

    aupdate = twin(update)

    @RUNS.method
    def bulk_create(
        self,
        client: BaseClient,
        objs: Sequence[M],
        *,
        raise_on_error: bool = True,
        concurrency: int = CONCURRENCY,
    ) -> Action[BulkResult[M]]:
        """Create ``objs`` through batch (``If-None-Match: *`` each, chunked at the
        server's ``batch_max_requests``). Every value is checked before anything is
        sent. Kinto does not roll back the others when one fails: BulkError names the
        failed ones unless ``raise_on_error=False``. ``concurrency`` is how many batch
        chunks are in flight at once on an AsyncClient; a Client sends them in turn
        (the value is still checked: at least 1)."""
        objs = list(objs)
        for obj in objs:
            state(obj).client = self._client  # remembered: see kintorm.orm.scope
        return writes.bulk_create_op(self.model, client, objs, raise_on_error, concurrency)

    abulk_create = twin(bulk_create)
