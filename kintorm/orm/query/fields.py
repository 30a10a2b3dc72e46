"""Field resolution: ``a__b`` checked against the model, with the JSON kind it travels as.

:func:`resolve_field` follows a ``__`` path through the model's attrs classes and
gives the Kinto path (``a.b``) and the Python type; :func:`target` adds what the
lookups need to know (:class:`Target`): its JSON kind, its values when finite, and
whether Kinto always sets it. Pure: the model class is passed in.
"""

from __future__ import annotations

import collections.abc
import datetime
import enum
import types
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

import attrs

from kintorm.orm.attachments.value import ATTACHMENT_KEY, Attachment
from kintorm.orm.exceptions import FieldError
from kintorm.orm.state import attachment_field, data_fields

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = [
    "Target",
    "check_fields",
    "element_type",
    "is_open",
    "kind_of_value",
    "resolve_field",
    "target",
    "unwrap_optional",
]


@attrs.frozen
class Target:
    """A resolved field: its Kinto path, type, JSON kind (``string``, ``number``,
    ``boolean``, ``array``, ``object`` or ``open``) and whether Kinto always sets it
    (``id``, ``last_modified``)."""

    path: str
    type: Any
    kind: str
    always_set: bool = False
    #: every value the field can hold when it is a finite set (bool, enum, Literal)
    choices: tuple[Any, ...] | None = None
    #: an object's field that is always set to a non-null value (required, not Optional)
    required_key: str | None = None


def unwrap_optional(type_: Any) -> Any:
    """``X`` for ``X | None`` (and ``Optional[X]``); any other type unchanged."""
    if get_origin(type_) in (Union, types.UnionType):
        args = [a for a in get_args(type_) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return type_


def is_open(type_: Any) -> bool:
    """A type whose sub-fields cannot be checked (dicts, Any)."""
    origin = get_origin(type_) or type_
    return type_ is Any or origin in (dict, Mapping, collections.abc.Mapping, object)


def element_type(type_: Any) -> Any:
    """The item type of a list field (``contains`` takes items), else Any."""
    args = get_args(unwrap_optional(type_))
    origin = get_origin(unwrap_optional(type_))
    return args[0] if origin in (list, tuple, set, frozenset) and args else Any


#: Python values -> their JSON kind, checked in this order (a bool is no number)
_VALUE_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (str, "string"),
    (bool, "boolean"),
    ((int, float), "number"),
    ((list, tuple), "array"),
    (dict, "object"),
)


def kind_of_value(value: Any) -> str:
    """The JSON kind of a Python value (``open`` when it is none of them)."""
    for types_, kind in _VALUE_KINDS:
        if isinstance(value, types_):
            return kind
    return "open"


#: Python types -> the JSON kind they travel as (see kintorm.orm.convert)
_KINDS: Mapping[Any, str] = {
    str: "string",
    datetime.date: "string",
    datetime.datetime: "string",
    uuid.UUID: "string",
    bool: "boolean",
    int: "number",
    float: "number",
}


def _finite_kind(values: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    kinds = {kind_of_value(v) for v in values}
    return (kinds.pop() if len(kinds) == 1 else "open"), values


def _kind(type_: Any) -> tuple[str, tuple[Any, ...] | None]:
    """(JSON kind, every value when finite) of a model type, Optional unwrapped."""
    plain = unwrap_optional(type_)
    if plain is bool:
        return "boolean", (True, False)
    if isinstance(plain, type) and issubclass(plain, enum.Enum):
        return _finite_kind(tuple(member.value for member in plain))
    if get_origin(plain) is Literal:
        return _finite_kind(get_args(plain))
    origin = get_origin(plain) or plain
    if origin in (list, tuple, set, frozenset, collections.abc.Sequence):
        return "array", None
    if attrs.has(plain) or (is_open(plain) and plain is not Any and plain is not object):
        return "object", None
    if isinstance(plain, type):
        for base, kind in _KINDS.items():
            if issubclass(plain, base) and not (base is int and issubclass(plain, bool)):
                return kind, None
    return "open", None


def _lookup_hint(where: str, part: str, type_: Any, lookup_names: str) -> str:
    shown = getattr(type_, "__name__", None) or repr(type_)
    return f"unknown lookup {part!r} on {where} ({shown}); the lookups are: {lookup_names}"


def resolve_field(
    model: type[RecordLike], name: str, *, lookup_expected: bool = False, lookup_names: str = ""
) -> tuple[str, Any]:
    """``author__name`` -> (``"author.name"``, its type); FieldError for unknown names.

    With ``lookup_expected`` (a filter keyword), an unknown last part is reported as
    an unknown lookup, with the list of the valid ones (``lookup_names``)."""
    parts = name.split("__")
    if parts[0] in ("id", "last_modified"):
        if len(parts) > 1:
            if lookup_expected and len(parts) == 2:
                type_ = str if parts[0] == "id" else int
                raise FieldError(_lookup_hint(parts[0], parts[1], type_, lookup_names))
            raise FieldError(f"{parts[0]} has no sub-field {'__'.join(parts[1:])!r}")
        return parts[0], str if parts[0] == "id" else int
    current: Any = model
    seen: list[str] = []
    for index, part in enumerate(parts):
        type_ = unwrap_optional(current)
        last = lookup_expected and index == len(parts) - 1 and index > 0
        where = model.__name__ if not seen else f"{model.__name__}.{'.'.join(seen)}"
        if attrs.has(type_):
            if type_ is model:
                fields = {f.name: f for f in data_fields(model)}
                attached = attachment_field(model)
                if attached is not None:  # the record's attachment key
                    fields[attached] = attrs.fields_dict(model)[attached]
            else:
                attrs.resolve_types(type_)
                fields = {f.name: f for f in attrs.fields(type_)}
                if type_ is Attachment:  # its extra keys are the object's own
                    del fields["extra"]
            if part not in fields:
                known = ", ".join(sorted(fields)) or "none"
                if last:
                    raise FieldError(
                        f"{where} has no field {part!r} (known: {known}), and {part!r} is "
                        f"not a lookup either (lookups: {lookup_names})"
                    )
                raise FieldError(
                    f"{where} has no field {part!r} (known: {known}); Kinto would silently "
                    "match nothing"
                )
            current = fields[part].type
        elif is_open(type_):
            current = Any
        else:
            if last:
                raise FieldError(_lookup_hint(where, part, type_, lookup_names))
            raise FieldError(f"{where} is {type_!r}: it has no field {part!r}")
        seen.append(ATTACHMENT_KEY if not seen and part == attachment_field(model) else part)
    return ".".join(seen), current


def target(
    model: type[RecordLike], name: str, *, lookup_expected: bool = False, lookup_names: str = ""
) -> Target:
    """The resolved field ``name`` with its JSON kind (see :class:`Target`)."""
    path, type_ = resolve_field(
        model, name, lookup_expected=lookup_expected, lookup_names=lookup_names
    )
    if path in ("id", "last_modified"):
        return Target(path, type_, "string" if path == "id" else "number", always_set=True)
    kind, choices = _kind(type_)
    return Target(path, type_, kind, choices=choices, required_key=_required_key(type_))


def _required_key(type_: Any) -> str | None:
    """A field of the attrs class ``type_`` that every valid object holds, non-null."""
    plain = unwrap_optional(type_)
    if not attrs.has(plain):
        return None
    attrs.resolve_types(plain)
    for field in attrs.fields(plain):
        optional = type(None) in get_args(field.type)
        if field.default is attrs.NOTHING and not optional and field.type is not Any:
            return str(field.name)
    return None


def check_fields(model: type[RecordLike], names: Iterable[str]) -> tuple[str, ...]:
    """The Kinto paths of ``names`` (``only()``, ``values()``); FieldError for unknown ones.
    The record's ``attachment`` key comes too, when the model has an attachment field:
    its view cannot tell a key left out from a record without a file."""
    paths = tuple(resolve_field(model, name)[0] for name in names)
    if attachment_field(model) is not None and ATTACHMENT_KEY not in paths:
        paths += (ATTACHMENT_KEY,)
    return paths
