"""The writes of a query set: ``update()``, ``delete()``, ``bulk_create()``, and
``get_or_create()`` / ``update_or_create()`` composed from a get and a create.

Each is an action (see :mod:`kintorm.orm.drive`). The per-record requests go
through ``POST /batch`` (chunked at the server's ``batch_max_requests``; the chunks
``concurrency`` at a time on an AsyncClient, in turn on a Client) and every item
gets its own :class:`~kintorm.orm.bulk.Outcome`. The requests are made by the
client's builders (:mod:`kintorm.client.writes`), as the client's own verbs make
theirs, and so are the new ids.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import KintoException
from kintorm.client.operation import Stream
from kintorm.client.protocol import Op, collect
from kintorm.client.writes import create_request, new_record_id, patch_request
from kintorm.orm._requests import batch_op
from kintorm.orm.bulk import BulkResult, Outcome
from kintorm.orm.codec.core import codec_for
from kintorm.orm.convert import unstructure_value
from kintorm.orm.drive import Action
from kintorm.orm.exceptions import ConflictError, DoesNotExist, FieldError
from kintorm.orm.hooks import hooked_op, run_after_op, run_before_op
from kintorm.orm.persist import location, save_op, translate
from kintorm.orm.query.spec import CompiledRequest
from kintorm.orm.state import attachment_field, data_fields, state

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = [
    "bulk_create_op",
    "delete_op",
    "get_or_create_op",
    "update_data",
    "update_op",
    "update_or_create_op",
]

M = TypeVar("M", bound="RecordLike")


def _record_path(bucket: str, collection: str, record_id: str) -> str:
    return endpoint("record", bucket=bucket, collection=collection, id=record_id)


# --- get_or_create / update_or_create -------------------------------------------------


def get_or_create_op(
    get: Callable[[], Action[M]], create: Callable[[], Action[M]]
) -> Action[tuple[M, bool]]:
    """``(record, created)``: what ``get`` finds, else what ``create`` makes; when
    someone else created it meanwhile (the same id: 412), what ``get`` finds then."""
    try:
        return (yield from get()), False
    except DoesNotExist:
        pass
    try:
        return (yield from create()), True
    except ConflictError:
        return (yield from get()), False


def update_or_create_op(
    get: Callable[[], Action[M]],
    create: Callable[[], Action[M]],
    client: BaseClient,
    defaults: Mapping[str, Any],
) -> Action[tuple[M, bool]]:
    """``(record, created)``: what ``get`` finds, ``defaults`` set and saved; else
    what ``create`` makes."""
    try:
        obj = yield from get()
    except DoesNotExist:
        return (yield from create()), True
    for key, value in defaults.items():
        setattr(obj, key, value)
    save = save_op(obj, client, "auto", False)
    yield from hooked_op(obj, client, "update", "update_or_create", save)
    return obj, False


# --- update ------------------------------------------------------------------------


def update_data(model: type[RecordLike], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The wire values of ``changes``, checked before anything is sent."""
    fields = {f.name: f for f in data_fields(model)}
    data = {}
    for key, value in changes.items():
        if key not in fields:
            if key == attachment_field(model):
                raise FieldError(f"{model.__name__}.{key} changes only with attach() / detach()")
            raise FieldError(f"{model.__name__} has no field {key!r} to update")
        data[key] = unstructure_value(value, fields[key].type, key)
    return data


def update_op(
    model: type[M],
    client: BaseClient,
    listing: Stream,
    data: dict[str, Any],
    raise_on_error: bool,
    concurrency: int,
) -> Action[BulkResult[M]]:
    """Patch ``data`` into every record of ``listing`` (ids and versions), one batch
    sub-request each."""
    bucket, collection = location(model, client)
    targets = yield from collect(listing)  # id and last_modified come back
    targets = [t for t in targets if not t.get("deleted")]
    if not data or not targets:
        return BulkResult(tuple(Outcome(t["id"], True) for t in targets))
    requests = [
        patch_request(
            _record_path(bucket, collection, t["id"]), data=data, if_match=t["last_modified"]
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


# --- delete ------------------------------------------------------------------------


def delete_op(
    model: type[M], client: BaseClient, queries: Sequence[CompiledRequest]
) -> Op[BulkResult[M]]:
    """One filtered DELETE per query (the disjoint branches of a union)."""
    bucket, collection = location(model, client)
    tombstones: list[dict[str, Any]] = []
    for compiled in queries:
        params: dict[str, Any] = dict(compiled.params)
        tombstones += yield from BaseClient.delete_records.op(
            client, bucket=bucket, collection=collection, **params
        )
    return BulkResult(tuple(Outcome(t.get("id"), True) for t in tombstones))


# --- bulk_create -------------------------------------------------------------------


def bulk_create_op(
    model: type[M], client: BaseClient, objs: list[M], raise_on_error: bool, concurrency: int
) -> Action[BulkResult[M]]:
    """Create ``objs``, one ``PUT`` each; every document is checked first."""
    bucket, collection = location(model, client)
    codec = codec_for(model)
    yield from run_before_op(objs, client, "create", "bulk_create")
    documents = [codec.dump(obj) for obj in objs]  # ValidationError before any request
    requests = []
    for obj, doc in zip(objs, documents, strict=True):
        if obj.id is None:
            obj.id = new_record_id()
        path = _record_path(bucket, collection, obj.id)
        requests.append(create_request(path, doc["data"], doc["permissions"] or None))
    results = yield from batch_op(client, requests, limit=concurrency) if requests else _nothing()
    outcomes = []
    for obj, doc, result in zip(objs, documents, results, strict=True):
        if result.error is None and isinstance(result.body, dict):
            codec.apply(obj, result.body, state(obj).client)
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
    yield from run_after_op(result_set.instances, client, "create", "bulk_create", result_set)
    return result_set.raise_for_failures("bulk_create()") if raise_on_error else result_set


def _nothing() -> Generator[Any, Any, list[Any]]:
    return []
    yield  # pragma: no cover
