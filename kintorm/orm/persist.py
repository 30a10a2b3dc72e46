"""Records on the wire: documents, loading, and the save/delete/refresh operations.

Every network action is an operation (a generator of effects) composed from the
client's own operations, so the sync methods of ``Record`` and their future
async twins run the same code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import CollectionNotFound, KintoException, PreconditionFailed
from kintorm.client.patch import MergePatch, PatchType
from kintorm.client.protocol import Op
from kintorm.orm._requests import get_if_modified_op
from kintorm.orm.connection import get_default_client
from kintorm.orm.convert import converter, structure_value, unstructure_value
from kintorm.orm.exceptions import (
    ConflictError,
    InvalidRecord,
    PermissionDenied,
    ValidationError,
)
from kintorm.orm.loading import Loader, build_loader
from kintorm.orm.nested import Pins, collecting, emitting, reaches_unweakrefable
from kintorm.orm.server_checks import warn_unless_atomic_op
from kintorm.orm.state import (
    DEFERRED,
    data_fields,
    normalize_permissions,
    state,
    unset_deferred,
)
from kintorm.orm.tracking import PatchMode, changed_keys, diff_documents

if TYPE_CHECKING:
    from kintorm.orm.model import Record

M = TypeVar("M", bound="Record")
JSONDict = dict[str, Any]

__all__ = [
    "client_for",
    "delete_op",
    "document",
    "from_wire",
    "load_reference",
    "loader",
    "location",
    "refresh_op",
    "save_op",
]


# --- where ---------------------------------------------------------------------


def client_for(model: type[Record], instance: Record | None = None) -> BaseClient:
    """The client of an instance, else of its model, else the default one."""
    if instance is not None and state(instance).client is not None:
        found = state(instance).client
        assert found is not None
        return found
    return model._meta.client or get_default_client()


def location(model: type[Record], client: BaseClient | None) -> tuple[str, str]:
    bucket = model._meta.bucket or (client.bucket_name if client is not None else None)
    if not bucket:
        raise ValueError(
            f"{model.__name__} has no bucket: give one (class {model.__name__}(Record, "
            "bucket=...)) or use a client with a default bucket"
        )
    return bucket, model._meta.collection


# --- documents -------------------------------------------------------------------


def document(obj: Record, *, checked: bool = True) -> JSONDict:
    """``{"data": {...}, "permissions": {...}}`` as it would be sent; ValidationError
    naming the field when a value does not fit its type or is not JSON.

    ``checked=False`` skips the checks, for values just read from the server."""
    st = state(obj)
    data: JSONDict = dict(st.extras)
    with emitting(st.pins):  # nested objects' undeclared keys: kintorm.orm.nested
        for field in data_fields(type(obj)):
            value = getattr(obj, field.name, DEFERRED)  # unset: not loaded by only()
            if value is DEFERRED:
                continue
            if checked:
                data[field.name] = unstructure_value(value, field.type, field.name)
            else:
                data[field.name] = converter.unstructure(value, unstructure_as=field.type)
    return {"data": data, "permissions": normalize_permissions(obj.permissions)}


def from_wire(
    model: type[M],
    data: JSONDict,
    permissions: Any = None,
    *,
    partial: bool = False,
    client: BaseClient | None = None,
) -> M:
    """An instance of ``model`` from a record's ``data`` (and ``permissions``).

    With ``partial`` (a listing with ``_fields``), fields that did not come back are
    left DEFERRED and are never sent back unless assigned.
    """
    obj: M = loader(model)(data, permissions, partial, client)
    return obj


_LOADER = "_kintorm_loader"


def loader(model: type[Record], *, owned: bool = False) -> Loader:
    """``load(data, permissions, partial, client)``: from_wire for ``model``, built
    once per class (kintorm.orm.loading); loops over records call it directly.
    ``owned``: the caller gives ``data`` up (it becomes the snapshot's)."""
    cached: list[Loader | None] | None = model.__dict__.get(_LOADER)
    if cached is None:
        cached = [None, None]
        setattr(model, _LOADER, cached)
    found = cached[owned]
    if found is None:

        def reference(data: JSONDict, permissions: Any, partial: bool, client: Any) -> Any:
            return load_reference(model, data, permissions, partial=partial, client=client)

        found = build_loader(model, reference, owned=owned)
        if _pins_needed(model):
            found = _pinning(found)  # records of it may pin nested objects
        cached[owned] = found
    return found


_PINS_NEEDED = "_kintorm_pins_needed"


def _pins_needed(model: type[Record]) -> bool:
    """Can a record of ``model`` hold nested objects that cannot be weakly referenced?"""
    found: bool | None = model.__dict__.get(_PINS_NEEDED)
    if found is None:
        found = any(reaches_unweakrefable(f.type) for f in data_fields(model))
        setattr(model, _PINS_NEEDED, found)
    return found


def _pinning(load: Callable[..., Any]) -> Callable[..., Any]:
    """``load``, keeping the undeclared keys of nested objects that cannot be weakly
    referenced in the state of the record loaded (see kintorm.orm.nested)."""

    def pinning(*args: Any) -> Any:
        pins: Pins = {}
        with collecting(pins):
            obj = load(*args)
        if pins:
            state(obj).pins = pins
        return obj

    return pinning


def load_reference(
    model: type[M],
    data: JSONDict,
    permissions: Any = None,
    *,
    partial: bool = False,
    client: BaseClient | None = None,
) -> M:
    """from_wire through cattrs and ``__init__``: the reference of the generated
    loaders, which hand it every record they do not take."""
    if _pins_needed(model):
        obj: M = _pinning(_load_reference)(model, data, permissions, partial, client)
        return obj
    return _load_reference(model, data, permissions, partial, client)


def _load_reference(
    model: type[M], data: JSONDict, permissions: Any, partial: bool, client: BaseClient | None
) -> M:
    kwargs: JSONDict = {}
    errors: list[str] = []
    first: str | None = None
    names = set()
    for field in data_fields(model):
        names.add(field.name)
        if not field.init:
            continue
        alias = field.alias or field.name
        if field.name in data:
            try:
                kwargs[alias] = structure_value(data[field.name], field.type, field.name)
            except ValidationError as exc:
                errors += exc.errors
                first = first or field.name
        elif partial:
            kwargs[alias] = DEFERRED
        elif field.default is attrs.NOTHING:
            errors.append(f"required field missing @ {field.name}")
            first = first or field.name
    if errors:
        raise InvalidRecord(
            f"record {data.get('id')!r} does not fit {model.__name__}: "
            + "; ".join(errors)
            + " (the stored document is the error's .data; a query set with "
            + "on_invalid('skip') reads past such records)",
            record_id=data.get("id"),
            data=data,
            field=first,
            errors=errors,
        )
    obj = model(
        **kwargs,
        id=data.get("id"),
        last_modified=data.get("last_modified"),
        permissions=permissions or {},
    )
    if partial:
        unset_deferred(obj)
    st = state(obj)
    st.extras = {
        k: v for k, v in data.items() if k not in names and k not in ("id", "last_modified")
    }
    st.client = client
    st.remember(document(obj, checked=False))
    return obj


def _apply(obj: Record, body: JSONDict, client: BaseClient) -> None:
    """Make ``obj`` the server's version ``body`` (``{"data", "permissions"}``)."""
    data = body.get("data")
    if not isinstance(data, dict):
        raise KintoException(f"expected a record, got {body!r}")
    permissions = body.get("permissions")
    if permissions is None:
        permissions = obj.permissions
    fresh = from_wire(type(obj), data, permissions, client=client)
    for field in attrs.fields(type(obj)):
        object.__setattr__(obj, field.name, getattr(fresh, field.name))
    st, new = state(obj), state(fresh)
    st.extras, st.snapshot, st.client, st.pins = new.extras, new.snapshot, client, new.pins


# --- tracking --------------------------------------------------------------------


def pending(obj: Record, mode: PatchMode = "auto") -> PatchType | None:
    """What save() would send: a patch, the whole document of a new record, or None."""
    doc = document(obj)
    snapshot = state(obj).snapshot
    if snapshot is None:
        return MergePatch(data=doc["data"], permissions=doc["permissions"] or None)
    return diff_documents(snapshot, doc, mode)


def changed(obj: Record) -> set[str]:
    snapshot = state(obj).snapshot
    doc = document(obj)
    if snapshot is None:
        return set(doc["data"]) | ({"permissions"} if doc["permissions"] else set())
    return changed_keys(snapshot, doc)


# --- errors ----------------------------------------------------------------------


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
    obj: Record,
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
                current = from_wire(model, existing, client=client)
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
        details = body.get("details")
        name = None
        if isinstance(details, list) and details and isinstance(details[0], dict):
            name = details[0].get("name")
        message = body.get("message") or str(exc)
        return ValidationError(
            f"the server rejected {what}: {message}",
            field=name,
            errors=[str(message)],
            response=exc.response,
        )
    if status == 403:
        return PermissionDenied(
            f"cannot {action} {what} in {where}: the bucket or collection does not exist, "
            "or you are not allowed to write to it (403)",
            exc,
        )
    if status == 404 and body.get("errno") == 111:
        return CollectionNotFound(f"cannot {action} {what}: no {where} (404)", exc)
    if status == 404 and action == "update":
        message = f"{what} was deleted on the server since it was loaded"
        return ConflictError(message, exc, current=None, local=obj, changes=changes)
    if status == 404:
        return model.DoesNotExist(f"{what} does not exist in {where}")
    return exc


# --- operations ------------------------------------------------------------------


def save_op(obj: Record, client: BaseClient, mode: PatchMode, force: bool) -> Op[None]:
    model = type(obj)
    bucket, collection = location(model, client)
    st = state(obj)
    if st.deleted is not None and st.deleted == obj.id and not force:
        raise model.DoesNotExist(
            f"{model.__name__} {obj.id!r} was deleted with delete(): save(force=True) "
            "creates it again under the same id, or set id = None to save it as a new record"
        )
    doc = document(obj)  # validates before anything is sent
    if st.snapshot is None:
        if obj.id is None:
            obj.id = str(uuid.uuid4())  # a client id makes the create safe to retry
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
        changes = diff_documents(st.snapshot, doc, mode)
        if changes is None:
            return
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
    _apply(obj, body, client)
    st.deleted = None


def delete_op(obj: Record, client: BaseClient, force: bool) -> Op[None]:
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


def refresh_op(obj: Record, client: BaseClient) -> Op[None]:
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
        assert st.snapshot is not None
        snapshot = st.snapshot
        data = {**snapshot["data"], "id": obj.id, "last_modified": obj.last_modified}
        body = {"data": data, "permissions": snapshot["permissions"]}
    _apply(obj, body, client)


def history_op(obj: Record, client: BaseClient) -> Op[list[JSONDict]]:
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
