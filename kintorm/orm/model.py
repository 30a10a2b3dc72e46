"""``Record``: attrs model classes bound to a Kinto bucket and collection.

::

    class Todo(Record, bucket="blog", collection="todos"):
        title: str
        done: bool = False

Subclassing makes an attrs class (kintorm.orm.declaring: ``attrs.define(slots=False)``,
seen by type checkers through ``dataclass_transform``); ``@attrs.define`` on top works
too. Every record has the keyword-only fields ``id``, ``last_modified`` and
``permissions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.patch import PatchType
from kintorm.orm.attachments.methods import AttachmentMethods
from kintorm.orm.codec.core import codec_for
from kintorm.orm.conflicts import save_merging_op
from kintorm.orm.declaring import ModelBase
from kintorm.orm.drive import Action, run_async, run_sync
from kintorm.orm.exceptions import (
    DeferredFieldError,
    DoesNotExist,
    MultipleObjectsReturned,
    ValidationError,
)
from kintorm.orm.hooks import hooked_op, save_action
from kintorm.orm.manager import ManagerDescriptor
from kintorm.orm.persist import (
    delete_op,
    history_op,
    refresh_op,
    save_op,
)
from kintorm.orm.schema.build import json_schema
from kintorm.orm.scope import resolve
from kintorm.orm.serialisation import Undeclared, from_dict, to_dict
from kintorm.orm.state import (
    DEFERRED,
    RESERVED,
    Permissions,
    PermissionsAttribute,
    state,
    to_permissions,
)
from kintorm.orm.tracking import PatchMode

if TYPE_CHECKING:
    from kintorm.client.resources import JSONDict

__all__ = ["Record"]

T = TypeVar("T")
OnConflict = Literal["raise", "merge"]


class Record(ModelBase, AttachmentMethods):
    """A record of a Kinto collection, as an attrs class with typed fields.

    Declare a model by subclassing, with its location in Kinto::

        class Todo(Record, bucket="blog", collection="todos"):
            title: str
            done: bool = False

    Every model also has the keyword-only fields ``id`` (``str | None``: ``None``
    until saved, unless you give one), ``last_modified`` (the server's version,
    used for ``If-Match``) and ``permissions`` (``{"read": [...], "write": [...]}``);
    ``pk`` is the id typed ``str``, for code after a ``save()`` or a load.

    - Queries: ``Todo.objects.filter(done=False).order_by("-last_modified")``,
      ``Todo.objects.get(id=...)``, ``Todo.objects.create(title=...)``; the
      manager's ``using(client)`` picks a client, else a ``kintorm.using(client)``
      scope, else the model's (``bind()``), else ``kintorm.connect()``'s.
    - Saving: ``save()`` creates (``If-None-Match: *``) or sends only what changed
      (``If-Match``), ``delete()``, ``refresh()``; on an AsyncClient the same with
      ``a`` in front: ``asave()``, ``adelete()``, ``arefresh()``.
    - Changes: ``is_dirty``, ``changed_fields``, ``diff()`` (the PATCH save() sends).
    - A file (kinto-attachment): a field ``photo: Attachment | None = None`` is the
      record's ``attachment`` key; ``attach()``, ``detach()``, ``download()`` (and
      ``aattach()``...) upload, remove and fetch it (docs/attachments.md).
    - Fields the server has that the model does not declare are kept in
      ``extra_fields`` and written back; fields that ``only()`` did not load raise
      :class:`DeferredFieldError` when read, and are never sent.
    - Errors: ``Todo.DoesNotExist``, ``Todo.MultipleObjectsReturned``,
      :class:`ConflictError` (412, see ``save(on_conflict="merge")``),
      :class:`ValidationError` (a value that does not fit its type).
    """

    id: str | None = attrs.field(default=None, kw_only=True)
    last_modified: int | None = attrs.field(default=None, kw_only=True)
    permissions: dict[str, list[str]] = attrs.field(
        factory=Permissions, kw_only=True, converter=to_permissions, eq=False
    )

    # The mapper's state of a record (kintorm.orm.state): an instance stores only
    # those it was given.
    _kintorm_permissions: ClassVar[Any] = None
    _kintorm_snapshot: ClassVar[Any] = None
    _kintorm_snapshot_permissions: ClassVar[Any] = None
    _kintorm_client: ClassVar[Any] = None
    _kintorm_extras: ClassVar[Any] = None
    _kintorm_deleted: ClassVar[Any] = None
    _kintorm_pins: ClassVar[Any] = None

    if not TYPE_CHECKING:  # type checkers keep reporting unknown attributes

        def __getattr__(self, name: str) -> Any:
            # Only called for an attribute the instance does not have: a field that
            # only() did not load (the codec leaves it unset).
            cls = type(self)
            if name in attrs.fields_dict(cls) and name not in RESERVED:
                raise DeferredFieldError(
                    f"{cls.__name__}.{name} was not loaded: the query's only() left it "
                    f"out; add {name!r} to only(...) or call refresh() to load it"
                )
            raise AttributeError(f"{cls.__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        parts = []
        for field in attrs.fields(type(self)):
            if not field.repr:
                continue
            try:
                value = getattr(self, field.name, DEFERRED)  # unset: not loaded by only()
            except ValidationError:  # a stored attachment object that is not one
                parts.append(f"{field.name}=<invalid>")
                continue
            shown = field.repr(value) if callable(field.repr) else repr(value)
            parts.append(f"{field.name}={shown}")
        name = type(self).__qualname__.rsplit(">.", 1)[-1]  # as attrs shows it
        return f"{name}({', '.join(parts)})"

    @property
    def pk(self) -> str:
        """The id, typed ``str``: set on every record that was saved, created or loaded.
        ValueError on a new record without one (``id`` is ``str | None``)."""
        record_id = self.id
        if record_id is None:
            raise ValueError(
                f"this {type(self).__name__} has no id yet: save() it first (or give id=)"
            )
        return record_id

    objects: ClassVar[ManagerDescriptor] = ManagerDescriptor()
    DoesNotExist: ClassVar[type[DoesNotExist]] = DoesNotExist
    MultipleObjectsReturned: ClassVar[type[MultipleObjectsReturned]] = MultipleObjectsReturned

    # --- binding ------------------------------------------------------------------

    @classmethod
    def bind(cls, client: BaseClient | None) -> None:
        """Use ``client`` for this model (and its subclasses without their own),
        instead of the default client of ``connect()``; ``None`` unbinds."""
        cls._meta.client = client

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON schema (draft 7) of this model's records, as Kinto validates them:
        see docs/schema.md. SchemaError (a TypeError) names a field it cannot express."""
        return json_schema(cls)

    # --- change tracking ----------------------------------------------------------

    @property
    def is_dirty(self) -> bool:
        """True when save() would send something (always for a new record); compares
        the fields with the snapshot, without validating them."""
        return codec_for(type(self)).is_dirty(self)

    @property
    def changed_fields(self) -> set[str]:
        """Names of the fields (and ``"permissions"``) changed since load or save."""
        return codec_for(type(self)).changed(self)

    def diff(self, patch: PatchMode = "auto") -> PatchType | None:
        """The PATCH save() would send (a MergePatch or JSONPatch), None when unchanged;
        for a new record, the whole document as a MergePatch."""
        return codec_for(type(self)).pending(self, patch)

    # --- persistence --------------------------------------------------------------
    # Each method and its ``a``-prefixed twin run the same action (kintorm.orm.persist)
    # on the record's client, sync or async.

    def _sync(self, name: str, make: Callable[..., Action[T]], *args: Any) -> T:
        client = resolve(type(self), self)
        noun = type(self).__name__.lower()
        return run_sync(client, make(self, client, *args), f"{name}()", f"await {noun}.a{name}()")

    async def _async(self, name: str, make: Callable[..., Action[T]], *args: Any) -> T:
        client = resolve(type(self), self)
        noun = type(self).__name__.lower()
        return await run_async(client, make(self, client, *args), f"a{name}()", f"{noun}.{name}()")

    def save(
        self, *, patch: PatchMode = "auto", force: bool = False, on_conflict: OnConflict = "raise"
    ) -> Self:
        """Create the record (``If-None-Match: *``) or send what changed (``If-Match``).

        ``patch="json"`` sends a JSON-patch; by default a merge-patch, or a JSON-patch
        where merge-patch cannot express the change. ``force=True`` skips the
        precondition and overwrites. A 412 raises :class:`ConflictError`, unless
        ``on_conflict="merge"``: then the record is reloaded and the local changes
        are re-applied on top of the server's version when they touch other fields
        than the server's changes (ConflictError when a field changed on both sides).
        """
        self._sync("save", _save_action, patch, force, on_conflict)
        return self

    async def asave(
        self, *, patch: PatchMode = "auto", force: bool = False, on_conflict: OnConflict = "raise"
    ) -> Self:
        """``await record.asave()``: save(), on an AsyncClient."""
        await self._async("save", _save_action, patch, force, on_conflict)
        return self

    def delete(self, *, force: bool = False) -> None:
        """Delete the record (``If-Match`` on its ``last_modified`` unless ``force``)."""
        self._sync("delete", _delete_action, force)

    async def adelete(self, *, force: bool = False) -> None:
        """``await record.adelete()``: delete(), on an AsyncClient."""
        await self._async("delete", _delete_action, force)

    def refresh(self) -> Self:
        """Reload from the server, discarding local changes. Costs a 304 when the record
        did not change (``If-None-Match``)."""
        self._sync("refresh", refresh_op)
        return self

    async def arefresh(self) -> Self:
        """``await record.arefresh()``: refresh(), on an AsyncClient."""
        await self._async("refresh", refresh_op)
        return self

    def history(self) -> list[JSONDict]:
        """This record's entries in the bucket history (needs Kinto's history plugin)."""
        return self._sync("history", history_op)

    async def ahistory(self) -> list[JSONDict]:
        """``await record.ahistory()``: history(), on an AsyncClient."""
        return await self._async("history", history_op)

    @property
    def extra_fields(self) -> dict[str, Any]:
        """Fields the server has that the model does not declare (kept and written back)."""
        return state(self).extras

    # --- serialisation (kintorm.orm.serialisation) ----------------------------------

    def to_dict(
        self,
        *,
        id: bool = True,
        last_modified: bool = True,
        permissions: bool = False,
        extra_fields: bool = False,
    ) -> dict[str, Any]:
        """The record as JSON-ready data, as save() sends it (ISO dates, enum values,
        nested objects as dicts): ``id`` and ``last_modified`` unless turned off,
        ``permissions`` and undeclared fields (at every depth) when asked. See
        docs/serialisation.md."""
        return to_dict(
            self,
            id=id,
            last_modified=last_modified,
            permissions=permissions,
            extra_fields=extra_fields,
        )

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        id: bool = True,
        last_modified: bool = True,
        permissions: bool = False,
        extra_fields: Undeclared = "forbid",
    ) -> Self:
        """A new (unsaved) record from JSON-like ``data`` (a request's body), checked
        with the model's own rules. ``id``, ``last_modified``, ``permissions``: taken
        from ``data`` or not; undeclared keys at any depth: ``extra_fields="forbid"``
        (errors), ``"ignore"`` or ``"keep"``. One ValidationError lists every error:
        ``exc.field_errors`` as ``(path, message)``, ``exc.to_dict()`` for a 400. See
        docs/serialisation.md."""
        return from_dict(
            cls,
            data,
            id=id,
            last_modified=last_modified,
            permissions=permissions,
            extra_fields=extra_fields,
        )


# attrs took the field's class attribute away; assignments now go through it
setattr(Record, "permissions", PermissionsAttribute())  # noqa: B010 - typed as the field


def _save_action(
    obj: Record, client: BaseClient, patch: PatchMode, force: bool, on_conflict: OnConflict
) -> Action[bool]:
    """save_op, or save_merging_op for ``on_conflict="merge"`` (kintorm.orm.conflicts),
    with the record's hooks around it (once, however many attempts a merge takes)."""
    if on_conflict not in ("raise", "merge"):
        raise ValueError(f"on_conflict must be 'raise' or 'merge', not {on_conflict!r}")
    if on_conflict == "merge" and not force:
        write = save_merging_op(obj, client, patch)
    else:
        write = save_op(obj, client, patch, force)
    return hooked_op(obj, client, save_action(obj), "save", write)


def _delete_action(obj: Record, client: BaseClient, force: bool) -> Action[bool]:
    """delete_op with the record's hooks around it."""
    return hooked_op(obj, client, "delete", "delete", delete_op(obj, client, force))
