"""``to_dict()`` and ``from_dict()``: a record as JSON-ready data, and data checked
into a record.

Both go through what reads from and writes to Kinto: the model's codec
(kintorm.orm.codec) and kintorm's converter (kintorm.orm.convert). ``to_dict()``
gives the data ``save()`` would send (dates and datetimes as ISO strings, enums as
their values, nested attrs objects as dicts); ``from_dict()`` checks its input with
the model's own rules (the converter's strict types, the class's validators and
converters, the checks of a value about to be sent) and raises one
ValidationError listing every error with its path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import attrs

from kintorm.client.endpoints import check_id
from kintorm.orm.attachments.value import ATTACHMENT_KEY
from kintorm.orm.codec.core import codec_for
from kintorm.orm.codec.nested import Undeclared, undeclared
from kintorm.orm.convert import structure_value, unstructure_value
from kintorm.orm.exceptions import ValidationError
from kintorm.orm.state import attachment_field, data_fields, json_copy, state

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["Undeclared", "from_dict", "to_dict"]

M = TypeVar("M", bound="RecordLike")
Errors = list[tuple[str, str]]
_UNDECLARED = ("forbid", "ignore", "keep")
_QUOTED = re.compile(r"'(\w+)'")


def to_dict(
    obj: RecordLike,
    *,
    id: bool = True,
    last_modified: bool = True,
    permissions: bool = False,
    extra_fields: bool = False,
) -> dict[str, Any]:
    """The record as JSON-ready data (see ``Record.to_dict``)."""
    codec = codec_for(type(obj))
    with undeclared("keep" if extra_fields else "ignore"):
        doc = codec.dump(obj, extras=None if extra_fields else {})
    result: dict[str, Any] = {}
    if id:
        result["id"] = obj.id
    if last_modified:
        result["last_modified"] = obj.last_modified
    result.update(json_copy(doc["data"]))
    attached = attachment_field(type(obj))
    if attached is not None:  # the record's attachment key, under the field's name
        result.pop(ATTACHMENT_KEY, None)
        attachment = getattr(obj, attached)
        result[attached] = None if attachment is None else attachment.to_wire()
    if permissions:
        if "permissions" in result:
            raise ValueError(
                f"{type(obj).__name__} {obj.id!r} has an undeclared field named "
                "'permissions': ask for permissions or for extra_fields, not both"
            )
        result["permissions"] = doc["permissions"]
    return result


def _check_id(value: Any) -> str | None:
    return None if value is None else check_id("record", value)


def _check_timestamp(value: Any) -> int | None:
    if value is None or (type(value) is int and value >= 0):
        return value
    raise ValueError(f"expected a timestamp (an integer, at least 0), got {value!r}")


def _check_permissions(value: Any) -> dict[str, list[str]]:
    checked: dict[str, list[str]] = structure_value(
        value, dict[str, list[str]], "permissions", given=True
    )
    return checked


#: the keys every record has, and their checks
_META: dict[str, Callable[[Any], Any]] = {
    "id": _check_id,
    "last_modified": _check_timestamp,
    "permissions": _check_permissions,
}


def _pairs(exc: Exception, path: str) -> Errors:
    if isinstance(exc, ValidationError):
        return exc.field_errors
    return [(path, str(exc))]


def _init_error(model: type[RecordLike], exc: Exception) -> tuple[str, str]:
    """An error of the class's ``__init__`` (a validator, a converter,
    ``__attrs_post_init__``): its first message, and the field it names: an
    ``attrs.Attribute`` among its arguments (``instance_of``), or the quoted field
    name attrs' validators start their messages with (``'n' must be >= 0: -1``)."""
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    field = next((a.name for a in exc.args if isinstance(a, attrs.Attribute)), None)
    if field is None:
        quoted = _QUOTED.match(message)
        names = {f.name for f in attrs.fields(model)}
        field = quoted.group(1) if quoted and quoted.group(1) in names else ""
    return field, message or type(exc).__name__


def from_dict(
    model: type[M],
    data: Any,
    *,
    id: bool = True,
    last_modified: bool = True,
    permissions: bool = False,
    extra_fields: Undeclared = "forbid",
) -> M:
    """A new instance of ``model`` from JSON-like ``data`` (see ``Record.from_dict``)."""
    if extra_fields not in _UNDECLARED:
        raise ValueError(f"extra_fields must be one of {_UNDECLARED}, not {extra_fields!r}")
    if not isinstance(data, Mapping):
        _raise(model, [("", f"expected a JSON object, got {type(data).__name__}")])
    accepted = {"id": id, "last_modified": last_modified, "permissions": permissions}
    fields = data_fields(model)
    errors: Errors = []
    values: dict[str, Any] = {}
    with undeclared(extra_fields):
        for field in fields:
            if field.name in data:
                try:
                    values[field.name] = structure_value(
                        data[field.name], field.type, field.name, given=True
                    )
                except ValidationError as exc:
                    errors += exc.field_errors
            elif field.init and field.default is attrs.NOTHING:
                errors.append((field.name, "required field missing"))
    meta: dict[str, Any] = {}
    for key, check in _META.items():
        if accepted[key] and key in data:
            try:
                meta[key] = check(data[key])
            except (ValueError, ValidationError) as exc:
                errors += _pairs(exc, key)
    extras = _undeclared(model, data, accepted, extra_fields, errors)
    if errors:
        _raise(model, errors)
    obj = _construct(model, fields, values, meta, errors)
    with undeclared(extra_fields):  # the checks of a value about to be sent
        for field in fields:
            if field.name in values:
                try:
                    unstructure_value(getattr(obj, field.name), field.type, field.name)
                except ValidationError as exc:
                    errors += exc.field_errors
    if errors:
        _raise(model, errors)
    if extras:
        state(obj).extras = extras
    return obj


def _undeclared(
    model: type[RecordLike],
    data: Mapping[Any, Any],
    accepted: dict[str, bool],
    mode: Undeclared,
    errors: Errors,
) -> dict[str, Any]:
    """The keys of ``data`` that are not fields of ``model``: kept (checked as JSON
    Kinto stores) and returned, ignored, or added to ``errors`` as ``mode`` says. An
    ``id`` or ``last_modified`` not accepted is never kept."""
    names = {f.name for f in data_fields(model)}
    attached = attachment_field(model)  # read-only (set by attach()): ignored
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key in names or key == attached or accepted.get(key):
            continue
        if mode == "ignore":
            continue
        if key in ("id", "last_modified") or (attached and key == ATTACHMENT_KEY):
            errors.append((key, "not accepted here"))
        elif mode == "forbid" or not isinstance(key, str):
            errors.append((str(key), f"not a field of {model.__name__}"))
        else:
            try:
                kept[key] = unstructure_value(value, object, key)
            except ValidationError as exc:
                errors += exc.field_errors
    return kept


def _construct(
    model: type[M],
    fields: tuple[attrs.Attribute[Any], ...],
    values: dict[str, Any],
    meta: dict[str, Any],
    errors: Errors,
) -> M:
    """``model(...)`` with ``values`` and ``meta``; the fields without ``init`` set after."""
    kwargs = {(f.alias or f.name): values[f.name] for f in fields if f.init and f.name in values}
    try:
        obj = model(**kwargs, **meta)
    except Exception as exc:
        errors.append(_init_error(model, exc))
        _raise(model, errors)
    for field in fields:
        if not field.init and field.name in values:
            setattr(obj, field.name, values[field.name])
    return obj


def _raise(model: type[RecordLike], errors: Errors) -> NoReturn:
    shown = "; ".join(f"{path or '(record)'}: {message}" for path, message in errors)
    raise ValidationError(
        f"invalid {model.__name__}: {shown}",
        field=errors[0][0] or None,
        errors=[f"{message} @ {path}" for path, message in errors],
        field_errors=errors,
    )
