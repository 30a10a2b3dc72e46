"""What the mapper keeps about model classes (Meta) and instances (State)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Protocol

import attrs

from kintorm.client.base import BaseClient
from kintorm.orm.codec.frozen import freeze, thaw
from kintorm.orm.exceptions import DoesNotExist, MultipleObjectsReturned

__all__ = [
    "DEFERRED",
    "RESERVED",
    "Meta",
    "Permissions",
    "RecordLike",
    "State",
    "data_fields",
    "state",
]

#: Fields every record has; they are not part of the data sent in a PATCH.
RESERVED = ("id", "last_modified", "permissions")


class _Deferred:
    """The value of a field that ``only()`` did not load."""

    _instance: _Deferred | None = None

    def __new__(cls) -> _Deferred:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<deferred>"

    def __bool__(self) -> bool:
        return False

    def __deepcopy__(self, memo: Any) -> _Deferred:
        return self


DEFERRED: Any = _Deferred()


class Permissions(dict[str, list[str]]):
    """A record's permissions: ``{"read": [principals], "write": [...]}``.

    A missing permission reads as an empty list that is kept, so
    ``todo.permissions["read"].append("system.Everyone")`` just works.
    """

    def __missing__(self, key: str) -> list[str]:
        value: list[str] = []
        self[key] = value
        return value


class PermissionsAttribute:
    """``Record.permissions``: an assigned value becomes a Permissions, kept in the
    instance's ``_kintorm_permissions``; an empty one is made when first read (a
    loaded record has none until then). A descriptor rather than a ``__setattr__``, so
    that storing any other attribute costs what it costs on a plain object."""

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        found = obj._kintorm_permissions
        if found is None:
            found = obj._kintorm_permissions = Permissions()
        return found

    def __set__(self, obj: Any, value: Any) -> None:
        obj._kintorm_permissions = to_permissions(value)

    def __delete__(self, obj: Any) -> None:
        del obj._kintorm_permissions


_PRINCIPAL_LISTS = (list, tuple, set, frozenset)


def to_permissions(value: Mapping[str, Iterable[str]] | None) -> Permissions:
    """``value`` as Permissions; TypeError for anything but a mapping of lists (a
    string of principals would otherwise become a list of its characters)."""
    if isinstance(value, Permissions):
        return value
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(f"permissions must be an object of lists, not {value!r}")
    for name, principals in (value or {}).items():
        if not isinstance(principals, _PRINCIPAL_LISTS):
            raise TypeError(
                f"permissions[{name!r}] must be a list of principals, not "
                f"{type(principals).__name__} {principals!r}"
            )
    return Permissions({k: list(v) for k, v in (value or {}).items()})


def normalize_permissions(value: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Sorted, de-duplicated principals; empty permissions dropped (they mean none)."""
    return {k: sorted(set(v)) for k, v in sorted(value.items()) if v}


@attrs.define
class Meta:
    """Where a model lives: ``bucket`` (None: the client's bucket), ``collection``,
    and the client bound with ``Model.bind(client)``."""

    bucket: str | None
    collection: str
    client: BaseClient | None = None
    #: (globals, locals) where the class was defined, to resolve string annotations
    namespace: tuple[dict[str, Any], dict[str, Any]] | None = attrs.field(
        default=None, repr=False, eq=False
    )


class RecordLike(Protocol):
    """A model's record as the mapper's modules below ``kintorm.orm.model`` see it:
    they are written for any class with these members, so that they need not import
    the module of ``Record`` (which imports them). ``Record`` is the one such class."""

    _meta: ClassVar[Meta]
    __attrs_attrs__: ClassVar[tuple[attrs.Attribute[Any], ...]]
    DoesNotExist: ClassVar[type[DoesNotExist]]
    MultipleObjectsReturned: ClassVar[type[MultipleObjectsReturned]]
    id: str | None
    last_modified: int | None
    permissions: dict[str, list[str]]

    def __init__(self, **fields: Any) -> None: ...


#: The mapper's state of a record, kept on the instance itself in these attributes (no
#: separate object, and the instance's ``__dict__`` is never made: CPython keeps the
#: attributes inline, so a loaded record is one object to the garbage collector).
#: Record sets each to None at class level: an instance has only those it needs.
PERMISSIONS = "_kintorm_permissions"  #: Record.permissions (PermissionsAttribute)
SNAPSHOT = "_kintorm_snapshot"  #: the data as last loaded or saved (frozen); None: new
SNAPSHOT_PERMISSIONS = "_kintorm_snapshot_permissions"  #: frozen, None when empty
CLIENT = "_kintorm_client"  #: the client the record was loaded or saved with
EXTRAS = "_kintorm_extras"  #: fields the server has that the model does not declare
DELETED = "_kintorm_deleted"  #: the id delete() deleted: save() does not create it again
PINS = "_kintorm_pins"  #: nested objects that cannot be weakly referenced (nested.py)
STATE_ATTRIBUTES = (SNAPSHOT, SNAPSHOT_PERMISSIONS, CLIENT, EXTRAS, DELETED, PINS)

_set = setattr


class State:
    """A view of the mapper's state of one record (its attributes listed above)."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    @property
    def snapshot(self) -> dict[str, Any] | None:
        """The document (see tracking.py) as last loaded or saved, as a new copy; None:
        never saved."""
        data = getattr(self._obj, SNAPSHOT)
        if data is None:
            return None
        permissions = getattr(self._obj, SNAPSHOT_PERMISSIONS)
        return {"data": thaw(data), "permissions": thaw(permissions) if permissions else {}}

    @snapshot.setter
    def snapshot(self, document: dict[str, Any] | None) -> None:
        if document is None:
            _set(self._obj, SNAPSHOT, None)
            _set(self._obj, SNAPSHOT_PERMISSIONS, None)
        else:
            self.remember(document)

    def remember(self, document: dict[str, Any]) -> None:
        """Take ``document`` (``{"data", "permissions"}``) as the snapshot (a copy)."""
        _set(self._obj, SNAPSHOT, freeze(document["data"]))
        _set(self._obj, SNAPSHOT_PERMISSIONS, freeze(document["permissions"]) or None)

    @property
    def extras(self) -> dict[str, Any]:
        """Fields the server has that the model does not declare (a live dict)."""
        found: dict[str, Any] | None = getattr(self._obj, EXTRAS)
        if found is None:
            found = {}
            _set(self._obj, EXTRAS, found)
        return found

    @extras.setter
    def extras(self, value: dict[str, Any]) -> None:
        _set(self._obj, EXTRAS, value or None)

    @property
    def client(self) -> BaseClient | None:
        """The client the record was loaded or saved with."""
        found: BaseClient | None = getattr(self._obj, CLIENT)
        return found

    @client.setter
    def client(self, value: BaseClient | None) -> None:
        _set(self._obj, CLIENT, value)

    @property
    def deleted(self) -> str | None:
        """The id deleted with delete(): save() does not create it again unless forced."""
        found: str | None = getattr(self._obj, DELETED)
        return found

    @deleted.setter
    def deleted(self, value: str | None) -> None:
        _set(self._obj, DELETED, value)

    @property
    def pins(self) -> dict[int, tuple[Any, dict[str, Any]]] | None:
        """Nested objects that cannot be weakly referenced, with their undeclared keys
        (kintorm.orm.codec.nested); None when there are none."""
        found: dict[int, tuple[Any, dict[str, Any]]] | None = getattr(self._obj, PINS)
        return found

    @pins.setter
    def pins(self, value: dict[int, tuple[Any, dict[str, Any]]] | None) -> None:
        _set(self._obj, PINS, value or None)


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars); 4x cheaper than deepcopy."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    return value


def state(obj: RecordLike) -> State:
    """The mapper's state of ``obj`` (a view: reading and setting it is cheap)."""
    return State(obj)


_DATA_FIELDS = "_kintorm_data_fields"
#: the class attribute naming a model's attachment field (kintorm.orm.attachments)
ATTACHMENT_FIELD = "_kintorm_attachment_field"


def attachment_field(cls: type[Any]) -> str | None:
    """The name of the model's ``Attachment`` field, if it declares one."""
    name: str | None = getattr(cls, ATTACHMENT_FIELD, None)
    return name


def data_fields(cls: type[RecordLike]) -> tuple[attrs.Attribute[Any], ...]:
    """The model's declared fields, with types resolved, without the reserved ones and
    the attachment field (a view of the record's ``attachment`` key, which the codec
    keeps among the undeclared keys: see kintorm.orm.attachments)."""
    cached: tuple[attrs.Attribute[Any], ...] | None = cls.__dict__.get(_DATA_FIELDS)
    if cached is not None:
        return cached
    fields = _resolved_data_fields(cls)
    setattr(cls, _DATA_FIELDS, fields)
    return fields


def _resolved_data_fields(cls: type[RecordLike]) -> tuple[attrs.Attribute[Any], ...]:
    if getattr(cls, "__attrs_types_resolved__", None) is not cls:
        meta: Meta | None = getattr(cls, "_meta", None)
        if meta is not None and meta.namespace is not None:
            globalns, localns = meta.namespace
            # as locals only: each base class keeps its own module globals
            attrs.resolve_types(cls, None, {**globalns, **localns, cls.__name__: cls})
        else:
            attrs.resolve_types(cls)
    skipped = (*RESERVED, attachment_field(cls))
    return tuple(f for f in attrs.fields(cls) if f.name not in skipped)
