"""Making an instance of a model whose ``__init__`` does more than store the values
(attrs validators, converters, ``__attrs_post_init__``), for the reference loading
strategy, with every failure reported as ``(field, message)`` pairs.

A whole record goes through the class's own ``__init__``. When it refuses the values,
:func:`failures` runs each field's converter and validator on its own to name the
fields at fault (attrs' messages do not always name them).

A record read with ``only()`` lacks some fields, which ``__init__`` would require or
hand to their validators: :func:`partial` builds it without ``__init__``, the way
attrs' own does for the fields that came back (converter, then validators, then
``__attrs_post_init__``) and leaving the others unset (reading one raises
DeferredFieldError). Fields that ``__init__`` does not take get their defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Failure", "construct", "failures", "partial"]

#: ``(field, message)``; field None when no single field is at fault
Failure = tuple[str | None, str]


def _message(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else ""
    return text or type(exc).__name__


def _convert(field: attrs.Attribute[Any], value: Any, obj: Any) -> Any:
    converter: Any = field.converter
    if converter is None:
        return value
    if isinstance(converter, attrs.Converter):  # may take the instance and the field
        extra = ([obj] if converter.takes_self else []) + (  # type: ignore[attr-defined]
            [field] if converter.takes_field else []  # type: ignore[attr-defined]
        )
        return converter.converter(value, *extra)  # type: ignore[attr-defined]
    return converter(value)


def _default(field: attrs.Attribute[Any], obj: Any) -> Any:
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory(obj) if default.takes_self else default.factory()
    return default


def _build(
    model: type[Any], values: Mapping[str, Any], reserved: Mapping[str, Any]
) -> tuple[Any, list[Failure]]:
    """An instance holding ``values`` (by field name, converted and validated one by
    one), the others left unset; and what failed."""
    obj = object.__new__(model)
    found: list[Failure] = []
    for name, value in reserved.items():
        setattr(obj, name, value)  # permissions through their descriptor
    fields = [f for f in attrs.fields(model) if f.name not in reserved]
    held: dict[str, Any] = {}
    for field in fields:
        if field.name in values:
            try:
                held[field.name] = _convert(field, values[field.name], obj)
            except Exception as exc:
                found.append((field.name, _message(exc)))
                continue
        elif not field.init and field.default is not attrs.NOTHING:
            held[field.name] = _default(field, obj)
        else:
            continue
        object.__setattr__(obj, field.name, held[field.name])
    for field in fields:
        if field.validator is not None and field.name in held:
            try:
                field.validator(obj, field, held[field.name])
            except Exception as exc:
                found.append((field.name, _message(exc)))
    return obj, found


def failures(model: type[Any], values: Mapping[str, Any], exc: BaseException) -> list[Failure]:
    """Why ``model(**values)`` raised ``exc``: each field whose converter or validator
    refuses its value, else ``exc`` itself (``__attrs_post_init__``, say)."""
    by_name = {f.alias or f.name: f.name for f in attrs.fields(model)}
    _, found = _build(model, {by_name.get(k, k): v for k, v in values.items()}, {})
    return found or [(None, _message(exc))]


def construct(
    model: type[Any], values: Mapping[str, Any], reserved: Mapping[str, Any]
) -> tuple[Any, list[Failure]]:
    """``model(**values, **reserved)`` (``values`` by ``__init__`` name), or the failures
    that stopped it."""
    try:
        return model(**values, **reserved), []
    except Exception as exc:
        return None, failures(model, values, exc)


def partial(
    model: type[Any], values: Mapping[str, Any], reserved: Mapping[str, Any]
) -> tuple[Any, list[Failure]]:
    """An instance of the fields in ``values`` (by field name) only, as ``__init__``
    would make it, without requiring or validating the others; or the failures."""
    obj, found = _build(model, values, reserved)
    if found:
        return None, found
    post_init = getattr(obj, "__attrs_post_init__", None)
    if post_init is not None:
        try:
            post_init()
        except Exception as exc:
            return None, [(None, _message(exc))]
    return obj, []
