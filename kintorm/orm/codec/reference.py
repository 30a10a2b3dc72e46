"""The reference loading strategy: each value through cattrs, then ``__init__``.

It takes every record: the fast strategy (kintorm.orm.codec.fast) hands it those
that do not fit, and it alone loads models whose ``__init__`` does more than store
the values (validators, converters, ``__attrs_post_init__``...). It raises the
InvalidRecord naming every field that does not fit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import attrs

from kintorm.orm.codec import construct
from kintorm.orm.codec.fast import settle
from kintorm.orm.codec.frozen import freeze
from kintorm.orm.convert import structure_value
from kintorm.orm.exceptions import InvalidRecord, ValidationError
from kintorm.orm.state import Permissions, RecordLike, normalize_permissions

if TYPE_CHECKING:
    from kintorm.client.base import BaseClient

__all__ = ["ModelCodec", "load_reference"]

JSONDict = dict[str, Any]


class ModelCodec(Protocol):
    """What this strategy uses of the model's codec (kintorm.orm.codec.core.Codec)."""

    model: type[RecordLike]
    fields: tuple[attrs.Attribute[Any], ...]
    names: frozenset[str]

    def dump(self, obj: Any, *, checked: bool = True, extras: JSONDict | None = None) -> JSONDict:
        """The record's document (see Codec.dump)."""
        ...


def load_reference(
    codec: ModelCodec,
    data: JSONDict,
    permissions: Any,
    partial: bool,
    client: BaseClient | None,
) -> Any:
    """An instance of ``codec.model`` from a record's ``data`` (left unchanged)."""
    model = codec.model
    kwargs: JSONDict = {}  # by __init__ name
    values: JSONDict = {}  # by field name
    pairs: list[tuple[str | None, str]] = []
    first: str | None = None  # the first field at fault (pairs hold paths within it)
    for field in codec.fields:
        if not field.init:
            continue
        if field.name in data:
            try:
                value = structure_value(data[field.name], field.type, field.name)
            except ValidationError as exc:
                pairs += exc.field_errors
                first = first or field.name
                continue
            kwargs[field.alias or field.name] = values[field.name] = value
        elif not partial and field.default is attrs.NOTHING:
            pairs.append((field.name, "required field missing"))
            first = first or field.name
    obj = None
    if not pairs:
        reserved = {
            "id": data.get("id"),
            "last_modified": data.get("last_modified"),
            "permissions": permissions or {},
        }
        if partial:  # fields only() left out stay unset; their checks do not run
            obj, pairs = construct.partial(model, values, reserved)
        else:
            obj, pairs = construct.construct(model, kwargs, reserved)
        first = next((where for where, _ in pairs if where), None)
    if obj is None:
        errors = [f"{message} @ {where}" if where else message for where, message in pairs]
        raise InvalidRecord(
            f"record {data.get('id')!r} does not fit {model.__name__}: "
            + "; ".join(errors)
            + " (the stored document is the error's .data; a query set with "
            + "on_invalid('skip') reads past such records)",
            record_id=data.get("id"),
            data=data,
            field=first,
            errors=errors,
            field_errors=[(where or "", message) for where, message in pairs],
        )
    names = codec.names
    extras = {k: v for k, v in data.items() if k not in names}
    doc = codec.dump(obj, checked=False, extras=extras)
    perms = obj.permissions
    if type(perms) is Permissions and not perms:
        object.__delattr__(obj, "permissions")  # made again when read, as a fast load
    settle(obj, freeze(doc["data"]), freeze(normalize_permissions(perms)), client, extras)
    return obj
