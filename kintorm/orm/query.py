"""Lazy, immutable query sets and their pure compiler.

A :class:`QuerySet` only holds a :class:`QuerySpec`. :func:`compile_query` turns a
spec into the ``(method, path, params)`` of a Kinto request without any I/O;
evaluation goes through the client's operations.
"""

from __future__ import annotations

import collections.abc
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union, get_args, get_origin

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import KintoException
from kintorm.client.protocol import (
    JSON_CONTENT_TYPE,
    Op,
    Request,
    collect,
    encode_json,
    quote_etag,
)
from kintorm.orm._requests import batch_op, count_op, records_stream
from kintorm.orm.bulk import BulkResult, Outcome
from kintorm.orm.connection import run_sync, stream_sync
from kintorm.orm.convert import converter, unstructure_value
from kintorm.orm.exceptions import (
    ConflictError,
    DoesNotExist,
    FieldError,
    UnsupportedQuery,
)
from kintorm.orm.lookups import FLAG_LOOKUPS, LOOKUPS, encode_value
from kintorm.orm.persist import client_for, document, from_wire, location, save_op, translate
from kintorm.orm.state import data_fields, state

if TYPE_CHECKING:
    from kintorm.orm.model import Record

__all__ = ["Change", "CompiledRequest", "QuerySet", "QuerySpec", "compile_query"]

M = TypeVar("M", bound="Record")
Params = tuple[tuple[str, str], ...]

#: how many ids go in one in_id filter (URLs stay short)
IN_BULK_CHUNK = 100


@attrs.frozen
class QuerySpec:
    """Everything a query set says, as plain values (compiled querystring filters)."""

    filters: Params = ()
    sort: tuple[str, ...] = ()
    fields: tuple[str, ...] | None = None
    since: int | None = None
    before: int | None = None
    start: int = 0
    stop: int | None = None

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
    only the filters and ``_since``/``_before``.
    """
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


# --- field names -------------------------------------------------------------------


def _unwrap_optional(type_: Any) -> Any:
    if get_origin(type_) in (Union, getattr(__import__("types"), "UnionType", Union)):
        args = [a for a in get_args(type_) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return type_


def _is_open(type_: Any) -> bool:
    """A type whose sub-fields cannot be checked (dicts, Any)."""
    origin = get_origin(type_) or type_
    return type_ is Any or origin in (dict, Mapping, collections.abc.Mapping, object)


def resolve_field(model: type[Record], name: str) -> tuple[str, Any]:
    """``author__name`` -> (``"author.name"``, its type); FieldError for unknown names."""
    parts = name.split("__")
    if parts[0] in ("id", "last_modified"):
        if len(parts) > 1:
            raise FieldError(f"{parts[0]} has no sub-field {'__'.join(parts[1:])!r}")
        return parts[0], str if parts[0] == "id" else int
    current: Any = model
    seen: list[str] = []
    for part in parts:
        type_ = _unwrap_optional(current)
        if attrs.has(type_):
            if type_ is model:
                fields = {f.name: f for f in data_fields(model)}
            else:
                attrs.resolve_types(type_)
                fields = {f.name: f for f in attrs.fields(type_)}
            if part not in fields:
                where = model.__name__ if not seen else f"{model.__name__}.{'.'.join(seen)}"
                known = ", ".join(sorted(fields)) or "none"
                raise FieldError(
                    f"{where} has no field {part!r} (known: {known}); Kinto would silently "
                    "match nothing"
                )
            current = fields[part].type
        elif _is_open(type_):
            current = Any
        else:
            raise FieldError(
                f"{model.__name__}.{'.'.join(seen)} is {type_!r}: it has no field {part!r}"
            )
        seen.append(part)
    return ".".join(seen), current


def compile_lookups(
    model: type[Record], lookups: Mapping[str, Any], *, negate: bool = False
) -> list[tuple[str, str]]:
    """``{"done": False, "n__gt": 3}`` -> ``[("done", "false"), ("gt_n", "3")]``."""
    if negate and len(lookups) > 1:
        raise UnsupportedQuery(
            "exclude() with several conditions means NOT (a AND b) = (NOT a) OR (NOT b), "
            "and Kinto cannot OR across fields; chain exclude() calls to exclude each"
        )
    params = []
    for key, value in lookups.items():
        parts = key.split("__")
        op = "exact"
        if len(parts) > 1 and parts[-1] in LOOKUPS:
            op = parts.pop()
        name, _ = resolve_field(model, "__".join(parts))
        lookup = LOOKUPS[op]
        prefix: str | None = lookup.prefix
        if op in FLAG_LOOKUPS and not isinstance(value, bool):
            raise UnsupportedQuery(f"{key} takes True or False, not {value!r}")
        if negate:
            prefix = lookup.negation
            if prefix is None:
                raise UnsupportedQuery(f"Kinto cannot negate {op!r}: exclude({key}=...)")
            if op in FLAG_LOOKUPS:
                value = not value
        if op == "isnull":
            prefix = "" if value else "not_"
        wire = converter.unstructure(value)
        if isinstance(wire, tuple | set | frozenset):
            wire = list(wire)
        params.append((f"{prefix}{name}", encode_value(lookup, wire)))
    return params


def _check_fields(model: type[Record], names: Iterable[str]) -> tuple[str, ...]:
    return tuple(resolve_field(model, name)[0] for name in names)


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

    def _add_filters(self, params: list[tuple[str, str]]) -> QuerySet[M]:
        existing = dict(self.spec.filters)
        merged = list(self.spec.filters)
        for key, value in params:
            if key in existing:
                if existing[key] == value:
                    continue
                raise UnsupportedQuery(
                    f"the filter {key} is given twice with different values; Kinto keeps one"
                )
            existing[key] = value
            merged.append((key, value))
        return self._clone(filters=tuple(merged))

    def filter(self, **lookups: Any) -> QuerySet[M]:
        """Records matching every lookup (``done=False``, ``n__gt=3``, ``a__b__in=[...]``)."""
        self._not_sliced("filter")
        return self._add_filters(compile_lookups(self.model, lookups))

    def exclude(self, **lookups: Any) -> QuerySet[M]:
        """Records not matching the lookup (one per call: Kinto has no OR)."""
        self._not_sliced("filter")
        return self._add_filters(compile_lookups(self.model, lookups, negate=True))

    def order_by(self, *fields: str) -> QuerySet[M]:
        """``_sort``; ``-field`` descends. Kinto always appends ``-last_modified``."""
        self._not_sliced("reorder")
        checked = tuple(
            ("-" if f.startswith("-") else "") + resolve_field(self.model, f.lstrip("-"))[0]
            for f in fields
        )
        return self._clone(sort=checked)

    def only(self, *fields: str) -> QuerySet[M]:
        """``_fields``: load only these fields; the others are deferred and never sent
        back by save() unless assigned."""
        return self._clone(fields=_check_fields(self.model, fields))

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
        bucket of its own is shown in the ``default`` bucket."""
        client = self._client or self.model._meta.client
        if client is None and self.model._meta.bucket is None:
            from kintorm.orm import connection

            client = connection._default
        if client is None and self.model._meta.bucket is None:
            path = endpoint("records", bucket="default", collection=self.model._meta.collection)
        else:
            path = self._path(client)
        return compile_query(self.spec, path, method, page_size=page_size)

    def __repr__(self) -> str:
        try:
            request = self.compile().request()
            return f"<QuerySet {self.model.__name__} GET {request.path_url}>"
        except Exception:
            return f"<QuerySet {self.model.__name__}>"

    # --- evaluating -----------------------------------------------------------------

    def _instances(self, raw: Iterable[dict[str, Any]], client: BaseClient) -> Iterator[M]:
        partial = self.spec.fields is not None
        for item in raw:
            if item.get("deleted"):
                continue  # a tombstone (filters on last_modified return them)
            yield from_wire(self.model, item, partial=partial, client=client)

    def _raw_stream(self, client: BaseClient, page_size: int | None = None) -> Any:
        compiled = compile_query(self.spec, self._path(client), "GET", page_size=page_size)
        return records_stream(client, compiled.request(), stop=self.spec.stop)

    def _fetch_op(self, client: BaseClient) -> Op[list[M]]:
        raw = yield from collect(self._raw_stream(client))
        return list(self._instances(raw[self.spec.start :], client))

    def _fetch(self) -> list[M]:
        if self._cache is None:
            client = self._resolve_client()
            self._cache = run_sync(client, self._fetch_op(client))
        return self._cache

    def __iter__(self) -> Iterator[M]:
        return iter(self._fetch())

    def __len__(self) -> int:
        return len(self._fetch())

    def __bool__(self) -> bool:
        return bool(self._fetch())

    def iterator(self, page_size: int | None = None) -> Iterator[M]:
        """Stream the records page by page (``_limit=page_size``), caching nothing."""
        client = self._resolve_client()
        skip = self.spec.start
        pages = stream_sync(client, self._raw_stream(client, page_size))
        for page in pages:
            if skip:
                taken, page = page[:skip], page[skip:]
                skip -= len(taken)
            yield from self._instances(page, client)

    def count(self) -> int:
        """The number of matching records, from a HEAD request (``Total-Objects``);
        no record is downloaded."""
        if self._cache is not None:
            return len(self._cache)
        client = self._resolve_client()
        compiled = compile_query(self.spec, self._path(client), "HEAD")
        total = run_sync(client, count_op(client, compiled.path, compiled.params))
        if self.spec.stop is not None:
            total = min(total, self.spec.stop)
        return max(0, total - self.spec.start)

    def exists(self) -> bool:
        if self._cache is not None:
            return bool(self._cache)
        if self.spec.since is not None or self.spec.before is not None:
            return self.count() > 0  # listings would include tombstones
        return bool(list(self.only("id")._slice(0, 1)))

    def first(self) -> M | None:
        """The first record in this query set's order (``-last_modified`` by default)."""
        if self._cache is not None:
            return self._cache[0] if self._cache else None
        found = list(self._slice(0, 1))
        return found[0] if found else None

    def _direct_id(self) -> str | None:
        """The id when this query set is exactly ``id=<x>`` (a single-object GET)."""
        spec = self.spec
        if len(spec.filters) != 1 or spec.fields is not None or spec.sliced:
            return None
        if spec.since is not None or spec.before is not None:
            return None
        key, value = spec.filters[0]
        if key != "id":
            return None
        decoded = converter.structure(__import__("json").loads(value), str)
        return str(decoded)

    def _get_op(self, client: BaseClient) -> Op[M]:
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
            return from_wire(self.model, body["data"], body.get("permissions"), client=client)
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
        qs = self.filter(**lookups) if lookups else self
        client = qs._resolve_client()
        return run_sync(client, qs._get_op(client))

    # --- writing --------------------------------------------------------------------

    def _bind(self, obj: M, client: BaseClient) -> M:
        state(obj).client = client
        return obj

    def create(self, **fields: Any) -> M:
        """Make and save a record (``If-None-Match: *``)."""
        client = self._resolve_client()
        obj = self._bind(self.model(**fields), client)
        run_sync(client, save_op(obj, client, "auto", False))
        return obj

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

    def get_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[M, bool]:
        """``(record, created)``: the record matching ``lookups``, or a new one made of
        the exact lookups and ``defaults``."""
        try:
            return self.get(**lookups), False
        except DoesNotExist:
            pass
        try:
            return self.create(**{**self._exact(lookups), **(defaults or {})}), True
        except ConflictError:  # created meanwhile by someone else (same id)
            return self.get(**lookups), False

    def update_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[M, bool]:
        """``(record, created)``: the matching record updated with ``defaults``, or a new one."""
        try:
            obj = self.get(**lookups)
        except DoesNotExist:
            return self.create(**{**self._exact(lookups), **(defaults or {})}), True
        for key, value in (defaults or {}).items():
            setattr(obj, key, value)
        obj.save()
        return obj, False

    def in_bulk(self, ids: Iterable[str]) -> dict[str, M]:
        """``{id: record}`` for the given ids that exist (``in_id`` filters)."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, M] = {}
        for start in range(0, len(wanted), IN_BULK_CHUNK):
            chunk = wanted[start : start + IN_BULK_CHUNK]
            for obj in self.filter(id__in=chunk):
                assert obj.id is not None
                found[obj.id] = obj
        return found

    def values(self, *fields: str) -> list[dict[str, Any]]:
        """Dicts of field values (``_fields`` when fields are named)."""
        qs = self.only(*fields) if fields else self
        names = list(fields) or [
            "id",
            "last_modified",
            *(f.name for f in data_fields(self.model)),
        ]
        return [{name: getattr(obj, name) for name in names} for obj in qs]

    def values_list(self, *fields: str, flat: bool = False) -> list[Any]:
        """Tuples of field values, or single values with ``flat=True`` (one field)."""
        if flat and len(fields) != 1:
            raise TypeError("values_list(flat=True) takes exactly one field")
        rows = self.values(*fields)
        if flat:
            return [row[fields[0]] for row in rows]
        return [tuple(row.values()) for row in rows]

    def delete(self) -> BulkResult[M]:
        """Delete every matching record with one filtered DELETE (Kinto pages it);
        the result lists the deleted ids."""
        self._not_sliced("delete")
        client = self._resolve_client()
        bucket, collection = location(self.model, client)
        compiled = compile_query(self.spec, self._path(client), "DELETE")
        tombstones = run_sync(
            client,
            BaseClient.delete_records.op(
                client, bucket=bucket, collection=collection, **_any(dict(compiled.params))
            ),
        )
        return BulkResult(tuple(Outcome(t.get("id"), True) for t in tombstones))

    def update(self, *, raise_on_error: bool = True, **changes: Any) -> BulkResult[M]:
        """Set ``changes`` on every matching record: the matching ids are listed, then
        each record is patched (``If-Match`` on the version listed) through batch.

        A record changed or deleted meanwhile fails alone; BulkError names the failed
        ones (the others are done) unless ``raise_on_error=False``.
        """
        fields = {f.name: f for f in data_fields(self.model)}
        data = {}
        for key, value in changes.items():
            if key not in fields:
                raise FieldError(f"{self.model.__name__} has no field {key!r} to update")
            data[key] = unstructure_value(value, fields[key].type, key)
        client = self._resolve_client()
        return run_sync(client, self._update_op(client, data, raise_on_error))

    def _update_op(
        self, client: BaseClient, data: dict[str, Any], raise_on_error: bool
    ) -> Op[BulkResult[M]]:
        bucket, collection = location(self.model, client)
        targets = yield from collect(
            self.only("id")._raw_stream(client)  # id and last_modified come back
        )
        targets = [t for t in targets[self.spec.start :] if not t.get("deleted")]
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
        results = yield from batch_op(client, requests)
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
        client = self._resolve_client()
        return run_sync(client, self._bulk_create_op(client, list(objs), raise_on_error))

    def _bulk_create_op(
        self, client: BaseClient, objs: list[M], raise_on_error: bool
    ) -> Op[BulkResult[M]]:
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
        results = yield from batch_op(client, requests) if requests else _nothing()
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

    def changes(self, since: int = 0) -> Iterator[Change[M]]:
        """Every change after ``since`` in ``last_modified`` order, deletions included
        (Kinto's tombstones). Data filters of this query set drop tombstones."""
        qs = self._clone(since=int(since), sort=("last_modified",))
        client = qs._resolve_client()
        partial = qs.spec.fields is not None
        for page in stream_sync(client, qs._raw_stream(client)):
            for item in page:
                if item.get("deleted"):
                    yield Change(item["id"], item["last_modified"], True, None)
                else:
                    record = from_wire(self.model, item, partial=partial, client=client)
                    yield Change(item["id"], item["last_modified"], False, record)


def _any(params: dict[str, str]) -> dict[str, Any]:
    return params


def _nothing() -> Generator[Any, Any, list[Any]]:
    return []
    yield  # pragma: no cover
