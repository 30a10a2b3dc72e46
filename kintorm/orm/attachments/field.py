"""A model's attachment field: ``photo: Attachment | None = None``.

kinto-attachment keeps one file per record and describes it in the record's
``attachment`` key, whatever the model calls it: a model declares at most one
field typed ``Attachment | None`` (default ``None``), under any name, and that
field *is* the record's ``attachment`` key. :func:`declare` checks this when the
class is defined (TypeError naming the fields otherwise) and puts an
:class:`AttachmentView` in the field's place.

The codec does not load or dump the field: the ``attachment`` key stays among the
record's undeclared keys (``state(obj).extras``), in the snapshot like any of
them, so a ``save()`` neither sends it as a change nor drops it. The view reads
it from there; only the server changes it (``attach()`` / ``detach()``, which
update the instance with the server's answer), so assigning another value is
refused. Queries name the field by its Python name (``only("photo")``,
``filter(photo__size__gt=...)``) and get the ``attachment`` path
(kintorm.orm.query.fields), and ``json_schema()`` describes the key.
"""

from __future__ import annotations

import contextlib
import types
import typing
from typing import Any

import attrs

from kintorm.orm.attachments.value import ATTACHMENT_KEY, Attachment
from kintorm.orm.exceptions import ValidationError
from kintorm.orm.state import ATTACHMENT_FIELD, EXTRAS, attachment_field

__all__ = ["AttachmentView", "attachment_field", "declare", "require_attachment_field"]

_UNIONS = (typing.Union, types.UnionType)
_MALFORMED: Any = object()


class AttachmentView:
    """The attachment field of a model's instances: the record's ``attachment`` key as
    an :class:`Attachment` (``None`` without a file); assigning it another value is
    refused (AttributeError), as only the server changes it."""

    def __init__(self, model: str, name: str) -> None:
        self.model = model
        self.name = name

    def __repr__(self) -> str:
        return f"<attachment field {self.model}.{self.name}: the record's {ATTACHMENT_KEY!r} key>"

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        extras = getattr(obj, EXTRAS)
        stored = extras.get(ATTACHMENT_KEY) if extras else None
        if stored is None:
            return None
        return Attachment.from_wire(stored, where=f"{self.model}.{self.name}")

    def __set__(self, obj: Any, value: Any) -> None:
        if isinstance(value, AttachmentView):
            value = None  # the default of a class re-made by @attrs.define on top: this view
        if value is not None and not isinstance(value, Attachment):
            raise TypeError(
                f"{self.model}.{self.name} is an Attachment or None, not {type(value).__name__}"
            )
        try:
            current = self.__get__(obj)
        except ValidationError:
            current = _MALFORMED
        if value == current:
            return  # what it holds (the None that __init__ stores on a new record)
        noun = self.model.lower()
        raise AttributeError(
            f"{self.model}.{self.name} describes the file the server keeps for the record: "
            f"upload one with {noun}.attach(...), remove it with {noun}.detach()"
        )

    def __delete__(self, obj: Any) -> None:
        raise AttributeError(f"{self.model}.{self.name} cannot be deleted: use detach()")


def _mentions(type_: Any) -> bool:
    return type_ is Attachment or any(_mentions(arg) for arg in typing.get_args(type_))


def _is_optional_attachment(type_: Any) -> bool:
    return typing.get_origin(type_) in _UNIONS and set(typing.get_args(type_)) == {
        Attachment,
        type(None),
    }


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The resolved annotation of each field (None for one that cannot be resolved yet:
    a forward reference to a class defined later)."""
    meta = getattr(cls, "_meta", None)
    globalns, localns = (meta.namespace if meta is not None else None) or ({}, {})
    scope = {**globalns, **localns, cls.__name__: cls}
    with contextlib.suppress(Exception):  # as locals only: base classes keep their globals
        return typing.get_type_hints(cls, None, scope)
    return {f.name: _evaluated(f.type, scope) for f in attrs.fields(cls)}


def _evaluated(annotation: Any, scope: dict[str, Any]) -> Any:
    if not isinstance(annotation, str):
        return annotation
    with contextlib.suppress(Exception):
        return eval(annotation, dict(scope))  # noqa: S307 - the class's own annotation
    return None


def declare(cls: type[Any]) -> None:
    """At class definition: find the model's attachment field and put its view in place;
    TypeError naming the fields when there are two, when one is not declared as
    ``Attachment | None = None``, or when another field is named ``attachment``."""
    hints = _hints(cls)
    fields = [f for f in attrs.fields(cls) if _mentions(hints.get(f.name))]
    if not fields:
        return
    names = ", ".join(f.name for f in fields)
    if len(fields) > 1:
        raise TypeError(
            f"{cls.__name__} declares {len(fields)} Attachment fields ({names}): "
            f"kinto-attachment keeps one file per record, in its {ATTACHMENT_KEY!r} key"
        )
    field = fields[0]
    default = None if isinstance(field.default, AttachmentView) else field.default
    if not _is_optional_attachment(hints[field.name]) or default is not None:
        raise TypeError(
            f"{cls.__name__}.{field.name}: declare it as `{field.name}: Attachment | None = "
            "None` (a record has no file until attach(); one file per record)"
        )
    clash = attrs.fields_dict(cls).get(ATTACHMENT_KEY)
    if clash is not None and clash is not field:
        raise TypeError(
            f"{cls.__name__} declares both {field.name} (an Attachment) and "
            f"{ATTACHMENT_KEY}: both would be the record's {ATTACHMENT_KEY!r} key"
        )
    setattr(cls, ATTACHMENT_FIELD, field.name)
    setattr(cls, field.name, AttachmentView(cls.__name__, field.name))


def require_attachment_field(model: type[Any], call: str) -> str:
    """The model's attachment field; TypeError naming ``call`` when it has none."""
    name = attachment_field(model)
    if name is None:
        raise TypeError(
            f"{call}: {model.__name__} declares no attachment field (add one, e.g. "
            "`photo: Attachment | None = None`)"
        )
    return name
