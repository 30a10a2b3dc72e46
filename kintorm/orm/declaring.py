"""How a model class is made: subclassing ``Record`` turns the class into an attrs
class (``attrs.define(slots=False)``, seen by type checkers through
``dataclass_transform``), records where it lives (:class:`~kintorm.orm.state.Meta`),
gives it its own ``DoesNotExist`` and ``MultipleObjectsReturned``, and refuses, when
the class is defined, what the mapper could not load or send (unions the converter
cannot take, a second attachment field).
"""

from __future__ import annotations

import sys
import types
import typing
from typing import TYPE_CHECKING, Any, ClassVar, dataclass_transform

import attrs
import cattrs

from kintorm.orm.attachments.field import declare as declare_attachment
from kintorm.orm.convert import converter
from kintorm.orm.exceptions import DoesNotExist, MultipleObjectsReturned
from kintorm.orm.state import Meta

__all__ = ["ModelBase", "refuse_unsupported_unions"]

#: the exceptions every model gets its own subclass of (``Todo.DoesNotExist``)
_PER_MODEL: dict[str, type[Exception]] = {
    "DoesNotExist": DoesNotExist,
    "MultipleObjectsReturned": MultipleObjectsReturned,
}


@dataclass_transform(field_specifiers=(attrs.field,))
class ModelBase:
    """Turns every subclass into an attrs class and records its binding."""

    _meta: ClassVar[Meta]
    if TYPE_CHECKING:
        __attrs_attrs__: ClassVar[tuple[attrs.Attribute[Any], ...]]

    def __init_subclass__(
        cls,
        *,
        bucket: str | None = None,
        collection: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if "__attrs_attrs__" in cls.__dict__:
            declare_attachment(cls)  # its view again, if the new class dropped it
            return  # re-created by an @attrs.define on top: already done
        if ModelBase not in cls.__bases__:  # a model (not Record itself)
            parent: Meta | None = getattr(cls, "_meta", None)
            # The namespace of the class statement, to resolve string annotations of
            # classes defined in functions or exec'd code (from __future__ import annotations).
            frame = sys._getframe(1)
            cls._meta = Meta(
                bucket=bucket or (parent.bucket if parent else None),
                collection=collection or cls.__name__.lower(),
                client=parent.client if parent else None,
                namespace=(frame.f_globals, dict(frame.f_locals)),
            )
            qualname = cls.__qualname__
            for name, base in _PER_MODEL.items():
                setattr(cls, name, type(name, (base,), {"__qualname__": f"{qualname}.{name}"}))
        # No generated __setattr__ (on_setattr hooks): it would stop an @attrs.define on
        # top from working. Values are checked when saved, not when assigned.
        # repr=False: Record.__repr__ shows a field only() did not load as <deferred>.
        attrs.define(slots=False, on_setattr=attrs.setters.NO_OP, repr=False)(cls)
        if ModelBase not in cls.__bases__:
            refuse_unsupported_unions(cls)
            declare_attachment(cls)


_UNIONS = (typing.Union, types.UnionType)


def _has_union(type_: Any) -> bool:
    return typing.get_origin(type_) in _UNIONS or any(
        _has_union(arg) for arg in typing.get_args(type_)
    )


def refuse_unsupported_unions(cls: type[ModelBase]) -> None:
    """TypeError now, naming the field, for a union the converter cannot load (``int |
    Author``), rather than a valid value refused at save time. Annotations that cannot be
    resolved yet (forward references) are left to the first save or load."""
    globalns, localns = cls._meta.namespace or ({}, {})
    try:
        # as locals only: each base class keeps its own module globals
        hints = typing.get_type_hints(cls, None, {**globalns, **localns, cls.__name__: cls})
    except Exception:
        return
    for field in attrs.fields(cls):
        type_ = hints.get(field.name)
        if type_ is None or not _has_union(type_):
            continue
        try:
            converter.get_structure_hook(type_)
        except cattrs.errors.StructureHandlerNotFoundError:
            raise TypeError(
                f"{cls.__name__}.{field.name}: {type_} is not a supported union: use a "
                "union of JSON types (str, int, float, bool, None), of attrs classes, or "
                "X | None, or register a structure hook for it on kintorm.orm.converter "
                "before defining the model"
            ) from None
