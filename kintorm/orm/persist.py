"""A record's writes and reads: save, delete, refresh and history as operations, and
the mapper's reading of a failed write (``translate``). Documents and loading are
the model's codec's (kintorm.orm.codec).

Every network action is an operation (a generator of effects) composed from the
client's own operations, so the sync methods of ``Record`` and their future
async twins run the same code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import CollectionNotFound, KintoException, PreconditionFailed
from kintorm.client.protocol import Op
from kintorm.client.writes import missing_collection, new_record_id
from kintorm.orm._requests import get_if_modified_op
from kintorm.orm.codec.core import codec_for
from kintorm.orm.exceptions import ConflictError, PermissionDenied, ValidationError
from kintorm.orm.server_checks import warn_unless_atomic_op
from kintorm.orm.state import DEFERRED, data_fields, state
from kintorm.orm.tracking import PatchMode, diff_documents

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

M = TypeVar("M", bound="RecordLike")
JSONDict = dict[str, Any]

__all__ = [
    "delete_op",
    "history_op",
    "location",
    "refresh_op",
    "save_op",
    "translate",
]


# --- where ---------------------------------------------------------------------


def location(model: type[RecordLike], client: BaseClient | None) -> tuple[str, str]:
    bucket = model._meta.bucket or (client.bucket_name if client is not None else None)
    if not bucket:
        raise ValueError(
            f"{model.__name__} has no bucket: give one (class {model.__name__}(Record, "
            "bucket=...)) or use a client with a default bucket"
        )
    return bucket, model._meta.collection


def _status(exc: KintoException) -> int:
    return int(getattr(exc.response, "status_code", 0) or 0)


def _body(exc: KintoException) -> JSONDict:
    try:
        body = exc.response.json()
    except Exception:
        return {}
    return body if isinstance(body, dict) else {}


def translate(
    exc: KintoException,
    obj: RecordLike,
    bucket: str,
    collection: str,
    client: BaseClient,
    *,
    action: str,
    changes: Any = None,
) -> Exception:
    """The mapper's exception for a failed write of ``obj``."""
    model = type(obj)
    what = f"{model.__name__} {obj.id!r}"
    where = f"bucket {bucket!r}, collection {collection!r}"
    status, body = _status(exc), _body(exc)
    if isinstance(exc, PreconditionFailed):
        existing = exc.existing
        current = None
        if existing is not None:
            try:
                current = codec_for(model).load(existing, client=state(obj).client)
            except ValidationError:
                current = None
        if action == "create":
            message = f"{what} already exists in {where}"
        elif existing is None:
            message = f"{what} was deleted on the server since it was loaded"
        else:
            message = (
                f"{what} was modified on the server since it was loaded "
                f"(local last_modified {obj.last_modified}, "
                f"server {existing.get('last_modified')}); see .current and .changes, "
                "or save(force=True) to overwrite"
            )
        return ConflictError(message, exc, current=current, local=obj, changes=changes)
    if status == 400:
        message = str(body.get("message") or exc)
        pairs = _server_field_errors(body.get("details"), message)
        return ValidationError(
            f"the server rejected {what}: {message}",
            field=pairs[0][0] or None,
            errors=[message],
            response=exc.response,
            field_errors=pairs,
        )
    if status == 403:
        return PermissionDenied(
            f"cannot {action} {what} in {where}: the bucket or collection does not exist, "
            "or you are not allowed to write to it (403)",
            exc,
        )
    if missing_collection(exc) is not None:  # Kinto's errno 111, read by the client
        return CollectionNotFound(f"cannot {action} {what}: no {where} (404)", exc)
    if status == 404 and action == "update":
        message = f"{what} was deleted on the server since it was loaded"
        return ConflictError(message, exc, current=None, local=obj, changes=changes)
    if status == 404:
        return model.DoesNotExist(f"{what} does not exist in {where}")
    return exc


def _server_field_errors(details: Any, message: str) -> list[tuple[str, str]]:
    """``(field, message)`` of each item of a Kinto 400's ``details``. Kinto's schema
    validation names the innermost key of the path, an int for a list item
    (kinto.schema_validation.validate_schema); ``("", message)`` without details."""
    items = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    pairs = [
        ("" if d.get("name") is None else str(d["name"]), str(d.get("description") or message))
        for d in items
    ]
    return pairs or [("", message)]


# --- operations ------------------------------------------------------------------


def save_op(obj: RecordLike, client: BaseClient, mode: PatchMode, force: bool) -> Op[bool]:
    """Create or patch ``obj``; False when there was nothing to send."""
    model = type(obj)
    bucket, collection = location(model, client)
    st = state(obj)
    if st.deleted is not None and st.deleted == obj.id and not force:
        raise model.DoesNotExist(
            f"{model.__name__} {obj.id!r} was deleted with delete(): save(force=True) "
            "creates it again under the same id, or set id = None to save it as a new record"
        )
    codec = codec_for(model)
    doc = codec.dump(obj)  # validates before anything is sent
    snapshot = st.snapshot
    if snapshot is None:
        if obj.id is None:
            obj.id = new_record_id()  # a client id makes the create safe to retry
        try:
            body = yield from BaseClient.create_record.op(
                client,
                id=obj.id,
                bucket=bucket,
                collection=collection,
                data=doc["data"],
                permissions=doc["permissions"] or None,
                safe=not force,
            )
        except KintoException as exc:
            raise translate(
                exc, obj, bucket, collection, client, action="create", changes=doc
            ) from exc
    else:
        changes = diff_documents(snapshot, doc, mode)
        if changes is None:
            return False
        if not force:  # an If-Match save: only as safe as the server's check
            yield from warn_unless_atomic_op(client)
        try:
            body = yield from BaseClient.patch_record.op(
                client,
                id=obj.id,
                bucket=bucket,
                collection=collection,
                changes=changes,
                if_match=obj.last_modified,
                safe=not force,
            )
        except KintoException as exc:
            raise translate(
                exc, obj, bucket, collection, client, action="update", changes=changes
            ) from exc
    codec.apply(obj, body, st.client)  # the client it remembers stays (kintorm.orm.scope)
    st.deleted = None
    return True


def delete_op(obj: RecordLike, client: BaseClient, force: bool) -> Op[bool]:
    """Delete ``obj``; True once deleted (the server applied it)."""
    if obj.id is None:
        raise ValueError(f"cannot delete an unsaved {type(obj).__name__} (it has no id)")
    bucket, collection = location(type(obj), client)
    try:
        yield from BaseClient.delete_record.op(
            client,
            id=obj.id,
            bucket=bucket,
            collection=collection,
            if_match=obj.last_modified,
            safe=not force,
        )
    except KintoException as exc:
        raise translate(exc, obj, bucket, collection, client, action="delete") from exc
    st = state(obj)
    st.snapshot = None
    st.deleted = obj.id
    obj.last_modified = None
    return True


def refresh_op(obj: RecordLike, client: BaseClient) -> Op[None]:
    if obj.id is None:
        raise ValueError(f"cannot refresh an unsaved {type(obj).__name__} (it has no id)")
    model = type(obj)
    bucket, collection = location(model, client)
    st = state(obj)
    complete = all(getattr(obj, f.name, DEFERRED) is not DEFERRED for f in data_fields(model))
    etag = obj.last_modified if st.snapshot is not None and complete else None
    path = endpoint("record", bucket=bucket, collection=collection, id=obj.id)
    try:
        body = yield from get_if_modified_op(client, path, etag)
    except KintoException as exc:
        raise translate(exc, obj, bucket, collection, client, action="read") from exc
    if body is None:  # 304: the snapshot is the server's version
        snapshot = st.snapshot
        assert snapshot is not None
        data = {**snapshot["data"], "id": obj.id, "last_modified": obj.last_modified}
        body = {"data": data, "permissions": snapshot["permissions"]}
    codec_for(type(obj)).apply(obj, body, st.client)


def history_op(obj: RecordLike, client: BaseClient) -> Op[list[JSONDict]]:
    bucket, collection = location(type(obj), client)
    return (
        yield from BaseClient.get_history.op(
            client,
            bucket=bucket,
            resource_name="record",
            collection_id=collection,
            record_id=obj.id,
        )
    )
