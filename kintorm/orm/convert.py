"""The cattrs converter between wire JSON and model attributes.

Dates and datetimes travel as ISO-8601 strings, enums as their values, nested
attrs classes as objects. Primitive types are checked strictly (``"5"`` is not
an ``int``, ``1`` is not a ``str``) so that a wrong value is reported instead of
being silently coerced.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable
from typing import Any

import cattrs

from kintorm.orm.exceptions import ValidationError
from kintorm.orm.nested import install as install_nested

__all__ = ["Converter", "converter", "make_converter", "structure_value", "unstructure_value"]


def _strict(kind: type, *accepted: type) -> Callable[[Any, Any], Any]:
    names = " or ".join(t.__name__ for t in accepted)

    def hook(value: Any, type_: Any) -> Any:
        if type_ is not kind and isinstance(type_, type):  # IntEnum, str enums, subclasses
            return type_(value)
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {names}, got bool {value!r}")
        if not isinstance(value, accepted):
            raise TypeError(f"expected {names}, got {type(value).__name__} {value!r}")
        if kind is float and isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be sent as JSON")
        return kind(value)

    return hook


def _structure_date(value: Any, _: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)
    raise TypeError(f"expected an ISO date string, got {type(value).__name__} {value!r}")


def _structure_datetime(value: Any, _: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value)
    raise TypeError(f"expected an ISO datetime string, got {type(value).__name__} {value!r}")


class Converter(cattrs.Converter):
    """A cattrs converter that knows whether hooks were registered on it after
    :func:`make_converter`: the generated record loaders (kintorm.orm.loading) check
    JSON-native values inline, as kintorm's own hooks would, only while it is False."""

    #: set by every register_* call; make_converter() clears it once its hooks are in
    customized: bool = True


def _noting(name: str) -> Callable[..., Any]:
    """``Converter.<name>``: cattrs' method, after noting that a hook was registered."""
    method = getattr(cattrs.Converter, name)

    def register(self: Converter, *args: Any, **kwargs: Any) -> Any:
        self.customized = True
        return method(self, *args, **kwargs)

    return register


for _name in (
    "register_structure_hook",
    "register_structure_hook_func",
    "register_structure_hook_factory",
    "register_unstructure_hook",
    "register_unstructure_hook_func",
    "register_unstructure_hook_factory",
):
    setattr(Converter, _name, _noting(_name))


def make_converter() -> Converter:
    """A fresh converter with kintorm's hooks; register your own hooks on it if needed."""
    conv = Converter()
    for kind, accepted in (
        (str, (str,)),
        (int, (int,)),
        (float, (int, float)),
        (bool, (bool,)),
    ):
        hook = _strict(kind, *accepted)
        conv.register_structure_hook(kind, hook)
    conv.register_structure_hook_func(lambda t: t is object, lambda value, _: value)
    conv.register_structure_hook(datetime.datetime, _structure_datetime)
    conv.register_structure_hook(datetime.date, _structure_date)
    conv.register_unstructure_hook(datetime.datetime, lambda v: v.isoformat())
    conv.register_unstructure_hook(datetime.date, lambda v: v.isoformat())
    install_nested(conv)  # attrs objects keep the keys their class does not declare
    conv.customized = False
    return conv


converter = make_converter()


def _messages(exc: BaseException, path: str) -> list[str]:
    if isinstance(exc, cattrs.BaseValidationError):
        return list(cattrs.transform_error(exc, path=path))
    return [f"{exc} @ {path}"]


def structure_value(value: Any, type_: Any, field: str) -> Any:
    """``value`` (wire JSON) as ``type_``; ValidationError naming ``field`` otherwise."""
    try:
        return converter.structure(value, type_)
    except Exception as exc:
        errors = _messages(exc, field)
        raise ValidationError(
            f"invalid value for {field!r}: {'; '.join(errors)}", field=field, errors=errors
        ) from exc


def unstructure_value(value: Any, type_: Any, field: str) -> Any:
    """``value`` as wire JSON, checked against ``type_`` and JSON-serialisable."""
    try:
        wire = converter.unstructure(value, unstructure_as=type_)
        converter.structure(wire, type_)  # type check: what we send must read back
        json.dumps(wire, allow_nan=False, ensure_ascii=False).encode()  # no lone surrogate
    except Exception as exc:
        errors = _messages(exc, field)
        raise ValidationError(
            f"invalid value for {field!r}: {'; '.join(errors)}", field=field, errors=errors
        ) from exc
    return wire
