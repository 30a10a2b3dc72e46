"""The codec of a model: load, load into an instance, dump, validate, what changed.

``codec_for(Todo)`` is built once per model class. It is the only place that knows
how a record's wire JSON maps to the model's attributes (with kintorm's converter,
kintorm.orm.convert, whose hooks keep the undeclared keys of nested objects,
kintorm.orm.codec.nested) and where the mapper's state of a record is kept
(kintorm.orm.state): the persistence operations (kintorm.orm.persist) and the
query set only call it.

Loading has two strategies: the generated one (kintorm.orm.codec.fast) for the
records that fit a model whose ``__init__`` only stores values, and the reference
(kintorm.orm.codec.reference) for the rest. The codec picks the generated one only
while the converter has no hooks registered after make_converter(), looked at each
time a loader is asked for (once per query, not per record). A listing read whole
may also be decoded by the typed strategy (kintorm.orm.codec.typed), which makes
the instances of a page whose records all fit exactly as it decodes the page, and
leaves any other page to the two others.

The snapshot is what was decoded, frozen (kintorm.orm.codec.frozen). What changed
is found by comparing each field's wire form with it, without validation; a dump
for sending validates only the fields that differ from the snapshot (the others
were loaded from the server, and a PATCH does not send them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from kintorm.client.decoding import collector_paused
from kintorm.client.exceptions import MalformedResponse
from kintorm.client.patch import MergePatch, PatchType
from kintorm.orm.codec.checks import fits
from kintorm.orm.codec.fast import Loader, generate, is_native
from kintorm.orm.codec.frozen import freeze, same_frozen, thaw
from kintorm.orm.codec.nested import Pins, collecting, emitting, reaches_unweakrefable
from kintorm.orm.codec.reference import load_reference
from kintorm.orm.codec.typed import Loaded, PageDecoder, TypedPages, typed_pages
from kintorm.orm.containers import holds_set, set_order
from kintorm.orm.convert import converter, unstructure_value
from kintorm.orm.exceptions import InvalidRecord
from kintorm.orm.state import (
    DEFERRED,
    DELETED,
    EXTRAS,
    PERMISSIONS,
    PINS,
    RESERVED,
    SNAPSHOT,
    SNAPSHOT_PERMISSIONS,
    STATE_ATTRIBUTES,
    data_fields,
    json_copy,
    normalize_permissions,
    state,
)
from kintorm.orm.tracking import PatchMode, diff_documents

if TYPE_CHECKING:
    from kintorm.client.base import BaseClient
    from kintorm.orm.state import RecordLike

__all__ = ["Codec", "codec_for"]

JSONDict = dict[str, Any]
_ATOMIC = frozenset({str, int, float, bool, type(None)})
_CODEC = "_kintorm_codec"


def codec_for(model: type[RecordLike]) -> Codec:
    """The codec of ``model``, made on first use."""
    found: Codec | None = model.__dict__.get(_CODEC)
    if found is None:
        found = Codec(model)
        setattr(model, _CODEC, found)
    return found


class Codec:
    """Wire JSON <-> instances of one model (see the module docstring)."""

    EXTRAS = EXTRAS

    def __init__(self, model: type[RecordLike], *, reference: Loader | None = None) -> None:
        """The codec of ``model`` (``codec_for(model)`` makes and keeps it). ``reference``:
        the loading strategy for what the generated one does not take, instead of
        kintorm.orm.codec.reference's (a test gives one that fails, to see a record
        taken by the generated loader alone)."""
        self.model = model
        self.fields: tuple[attrs.Attribute[Any], ...] = data_fields(model)
        #: the record keys that are not undeclared fields
        self.names = frozenset({"id", "last_modified", *(f.name for f in self.fields)})
        self._native = {f.name: is_native(f.type) for f in self.fields}
        self._sets = frozenset(f.name for f in self.fields if holds_set(f.type))
        self._pins = any(reaches_unweakrefable(f.type) for f in self.fields)
        self._generated: dict[bool, Loader | None] = {}
        #: ``load(data, permissions, partial, client[, into])`` through cattrs and the
        #: model's ``__init__``: the records the generated loader does not take
        self.reference: Loader = reference or self._reference

    # --- loading -----------------------------------------------------------------

    def _reference(
        self, data: JSONDict, permissions: Any, partial: bool, client: Any, into: Any = None
    ) -> Any:
        """Load through cattrs and ``__init__`` (kintorm.orm.codec.reference)."""
        if self._pins:
            pins: Pins = {}
            with collecting(pins):
                obj = load_reference(self, data, permissions, partial, client)
            if pins:
                object.__setattr__(obj, PINS, pins)
            return obj
        return load_reference(self, data, permissions, partial, client)

    def generated(self, owned: bool = False) -> Loader | None:
        """The generated loader (kintorm.orm.codec.fast), None for a model whose
        ``__init__`` does more than store the values."""
        if owned not in self._generated:
            load = generate(self.model, self.reference, owned=owned)
            if load is not None and self._pins:
                load = _pinning(load)
            self._generated[owned] = load
        return self._generated[owned]

    def loader(self, owned: bool = False) -> Loader:
        """``load(data, permissions, partial, client)``, for a loop over records: the
        generated loader unless the converter has hooks of its user's, or the model
        does not allow it. ``owned``: the caller gives ``data`` up."""
        if not converter.customized:
            found = self.generated(owned)
            if found is not None:
                return found
        return self.reference

    def page_decoder(self, client: BaseClient | None) -> PageDecoder | None:
        """The typed strategy's decoder of whole pages read with ``client``
        (kintorm.orm.codec.typed), or None for a model it does not serve or while the
        converter has hooks of its user's: each page is then decoded as plain JSON and
        given to load_list."""
        typed = None if converter.customized else self._typed_pages
        return typed.decoder(client) if typed is not None else None

    @functools.cached_property
    def _typed_pages(self) -> TypedPages | None:
        return typed_pages(self.model, self.fields)

    def load(
        self,
        data: JSONDict,
        permissions: Any = None,
        *,
        partial: bool = False,
        client: BaseClient | None = None,
        owned: bool = False,
    ) -> Any:
        """An instance from a record's ``data`` (and ``permissions``). With ``partial``
        (a listing with ``_fields``) the fields that did not come back stay unset."""
        return self.loader(owned)(data, permissions, partial, client)

    def load_list(
        self,
        items: Iterable[JSONDict],
        partial: bool,
        client: BaseClient | None,
        invalid: Callable[[InvalidRecord], None],
    ) -> list[Any]:
        """The instances of a listing's records, which the caller gives up (``owned``):
        tombstones (``"deleted"``) skipped, ``invalid(exc)`` called for a record that
        does not fit (it may raise). The cyclic garbage collector is paused meanwhile:
        the loop makes no cycles, and the collector's passes over a heap that grows by
        a record each step made the cost of a record grow with the listing. A page the
        typed strategy loaded already (:class:`Loaded`) is given back as it is."""
        if isinstance(items, Loaded):
            return items
        load = self.loader(owned=True)
        found: list[Any] = []
        append = found.append
        with collector_paused():
            for item in items:
                if item.get("deleted"):
                    continue
                try:
                    append(load(item, None, partial, client))
                except InvalidRecord as exc:
                    invalid(exc)
        return found

    def load_into(
        self, obj: Any, data: JSONDict, permissions: Any, client: BaseClient | None
    ) -> None:
        """Make ``obj`` the record ``data`` (the server's answer to a save or a read):
        its fields, snapshot, undeclared fields, client."""
        if self._pins:
            object.__setattr__(obj, PINS, None)
        loaded = self.loader()(data, permissions, False, client, obj)
        if loaded is not obj:  # the reference made an instance: take its values
            for name in (*RESERVED, *(f.name for f in self.fields), *STATE_ATTRIBUTES):
                if name in ("permissions", PINS, DELETED):
                    continue
                object.__setattr__(obj, name, getattr(loaded, name))
            object.__setattr__(obj, "permissions", loaded.permissions)
        if self._pins:
            object.__setattr__(obj, PINS, getattr(loaded, PINS))

    def apply(self, obj: Any, body: JSONDict, client: BaseClient | None) -> None:
        """Make ``obj`` the server's version ``body`` (``{"data", "permissions"}``: the
        answer to a write or a read); permissions the answer leaves out stay as they are.
        MalformedResponse when ``body`` holds no record."""
        data = body.get("data")
        if not isinstance(data, dict):
            raise MalformedResponse(f"expected a record, got {body!r}")
        permissions = body.get("permissions")
        if permissions is None:
            permissions = obj.permissions
        self.load_into(obj, data, permissions, client)

    # --- dumping -----------------------------------------------------------------

    def _wire(self, obj: Any, field: attrs.Attribute[Any]) -> Any:
        """The field's value as wire JSON, unchecked (DEFERRED when not loaded)."""
        value = getattr(obj, field.name, DEFERRED)
        if value is DEFERRED or (type(value) in _ATOMIC and self._native[field.name]):
            return value
        return converter.unstructure(value, unstructure_as=field.type)

    def dump(self, obj: Any, *, checked: bool = True, extras: JSONDict | None = None) -> JSONDict:
        """``{"data": {...}, "permissions": {...}}`` as it would be sent; with
        ``checked``, ValidationError naming the first field whose value does not fit
        its type or is not JSON (only fields changed since the snapshot are checked:
        the others are what the server sent). ``extras``: instead of the record's."""
        return self._dump(obj, checked, getattr(obj, SNAPSHOT), extras)

    def validate(self, obj: Any) -> JSONDict:
        """dump(), checking every field, also those equal to the snapshot."""
        return self._dump(obj, True, None, None)

    def _dump(
        self, obj: Any, checked: bool, snapshot: JSONDict | None, extras: JSONDict | None
    ) -> JSONDict:
        if extras is None:
            extras = getattr(obj, EXTRAS) or {}
        data: JSONDict = dict(extras)
        with emitting(getattr(obj, PINS)):  # nested objects' undeclared keys
            for field in self.fields:
                name = field.name
                value = getattr(obj, name, DEFERRED)  # unset: not loaded by only()
                if value is DEFERRED:
                    continue
                if not checked:
                    data[name] = self._wire(obj, field)
                    continue
                if snapshot is not None and name in snapshot:
                    try:
                        wire = self._wire(obj, field)
                    except Exception:
                        wire = DEFERRED
                    if wire is not DEFERRED and self._same(name, wire, snapshot[name]):
                        data[name] = thaw(snapshot[name]) if name in self._sets else wire
                        continue
                if self._native[name] and fits(value, field.type):
                    data[name] = json_copy(value)  # what unstructure_value would give
                else:
                    data[name] = unstructure_value(value, field.type, name)
        permissions = getattr(obj, PERMISSIONS) or {}  # unset: empty (not made here)
        return {"data": data, "permissions": normalize_permissions(permissions)}

    def _same(self, name: str, wire: Any, frozen: Any) -> bool:
        """Whether the field's ``wire`` value is its snapshot's ``frozen`` one; for a
        set, in whatever order the snapshot has its items."""
        if same_frozen(wire, frozen):
            return True
        if name not in self._sets or type(wire) is not list or type(frozen) is not tuple:
            return False
        items = set_order([thaw(item) for item in frozen])
        return same_frozen(wire, tuple([freeze(item) for item in items]))

    # --- changes -----------------------------------------------------------------

    def changed(self, obj: Any) -> set[str]:
        """Names of the fields (and ``"permissions"``) changed since the snapshot, all
        of them for a new record; nothing is validated."""
        snapshot: JSONDict | None = getattr(obj, SNAPSHOT)
        permissions = normalize_permissions(getattr(obj, PERMISSIONS) or {})
        if snapshot is None:
            data = self.dump(obj, checked=False)["data"]
            return set(data) | ({"permissions"} if permissions else set())
        keys: set[str] = set()
        extras: JSONDict = getattr(obj, EXTRAS) or {}
        current = set(extras)
        with emitting(getattr(obj, PINS)):
            for field in self.fields:
                name = field.name
                try:
                    wire = self._wire(obj, field)
                except Exception:  # a value the converter cannot take: changed
                    keys.add(name)
                    continue
                if wire is DEFERRED:
                    continue
                current.add(name)
                if name in snapshot and not self._same(name, wire, snapshot[name]):
                    keys.add(name)
        for name, value in extras.items():
            if name in snapshot and not same_frozen(value, snapshot[name]):
                keys.add(name)
        keys |= current ^ snapshot.keys()
        if not same_frozen(permissions, getattr(obj, SNAPSHOT_PERMISSIONS) or {}):
            keys.add("permissions")
        return keys

    def is_dirty(self, obj: Any) -> bool:
        """Would save() send something (always for a new record)?"""
        return getattr(obj, SNAPSHOT) is None or bool(self.changed(obj))

    def pending(self, obj: Any, mode: PatchMode = "auto") -> PatchType | None:
        """What save() would send: a patch, the whole document of a new record, or
        None; ValidationError for a changed value that does not fit."""
        doc = self.dump(obj)
        snapshot = state(obj).snapshot
        if snapshot is None:
            return MergePatch(data=doc["data"], permissions=doc["permissions"] or None)
        return diff_documents(snapshot, doc, mode)


def _pinning(load: Loader) -> Loader:
    """``load``, keeping the undeclared keys of nested objects that cannot be weakly
    referenced in the state of the record loaded (see kintorm.orm.codec.nested)."""

    def pinning(*args: Any) -> Any:
        pins: Pins = {}
        with collecting(pins):
            obj = load(*args)
        if pins:
            object.__setattr__(obj, PINS, pins)
        return obj

    return pinning
