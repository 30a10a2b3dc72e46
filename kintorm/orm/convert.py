"""The cattrs converter between wire JSON and model attributes.

Dates and datetimes travel as ISO-8601 strings, enums as their values, nested
attrs classes as objects. Primitive types are checked strictly (``"5"`` is not
an ``int``, ``1`` is not a ``str``) so that a wrong value is reported instead of
being silently coerced; unions of them (``int | str``) take a value of any of
their types, as it is.

Datetimes are sent in one form, UTC with microseconds
(``2026-01-01T00:00:00.000000+00:00``), so that Kinto's string comparisons and
sorting order them in time; a naive datetime (no ``tzinfo``) is refused when
sent. One read from the server loads as it is (naive if stored naive).
"""

from __future__ import annotations

import contextvars
import datetime
import json
import math
import types
import typing
from collections.abc import Callable
from typing import Any

import cattrs
from cattrs.errors import AttributeValidationNote
from cattrs.v import format_exception

from kintorm.client.protocol import MAX_JSON_DEPTH, check_encoded, check_json
from kintorm.orm.attachments.value import Attachment
from kintorm.orm.codec.nested import install as install_nested
from kintorm.orm.containers import check_sent
from kintorm.orm.containers import install as install_containers
from kintorm.orm.exceptions import ValidationError

__all__ = [
    "Converter",
    "converter",
    "field_errors",
    "make_converter",
    "structure_value",
    "unstructure_value",
]


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


#: set while unstructure_value() checks a value that is about to be sent
_SENDING: contextvars.ContextVar[bool] = contextvars.ContextVar("kintorm_sending", default=False)
#: set while structure_value() reads values that do not come from the server
_INPUT: contextvars.ContextVar[bool] = contextvars.ContextVar("kintorm_input", default=False)


class _StoredDatetime(datetime.datetime):
    """A datetime read from the server in another form than kintorm's (another
    program's naive or offset value): sent back unchanged, it keeps the string it was
    stored as, so loading and saving other fields neither refuses nor rewrites it. A
    value derived from it (``replace()``, arithmetic) has no stored form."""

    stored: str


def _canonical(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def _unstructure_datetime(value: datetime.datetime) -> str:
    """UTC with microseconds: one length and one offset, so string order is time order."""
    stored = getattr(value, "stored", None)
    if stored is not None:
        return str(stored)
    if value.utcoffset() is None:
        if _SENDING.get():
            raise ValueError(
                f"naive datetime {value.isoformat()!r}: give it a time zone (e.g. "
                "tzinfo=datetime.timezone.utc); it is stored in UTC"
            )
        return value.isoformat()  # read so from the server: kept as it was
    return _canonical(value)


_PRIMITIVES = frozenset({str, int, float, bool, type(None)})


def _is_primitive_union(type_: Any) -> bool:
    """``int | str``, ``str | float | None``...: two or more JSON primitive types."""
    if typing.get_origin(type_) not in (typing.Union, types.UnionType):
        return False
    args = typing.get_args(type_)
    return all(a in _PRIMITIVES for a in args) and len(set(args) - {type(None)}) > 1


def _structure_primitive_union(value: Any, type_: Any) -> Any:
    """A value of one of the union's types, as it is (``int`` to ``float`` when the
    union has ``float`` but not ``int``)."""
    members = typing.get_args(type_)
    kind = type(value)
    if kind is float and not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be sent as JSON")
    if kind in members:
        return value
    if kind is int and float in members:
        return float(value)
    names = " or ".join("None" if m is type(None) else m.__name__ for m in members)
    raise TypeError(f"expected {names}, got {kind.__name__} {value!r}")


def _structure_datetime(value: Any, _: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        parsed = datetime.datetime.fromisoformat(value)
        if _INPUT.get() or (parsed.utcoffset() is not None and _canonical(parsed) == value):
            return parsed
        kept = _StoredDatetime.fromisoformat(value)
        kept.stored = value
        return kept
    raise TypeError(f"expected an ISO datetime string, got {type(value).__name__} {value!r}")


class Converter(cattrs.Converter):
    """A cattrs converter that knows whether hooks were registered on it after
    :func:`make_converter`: the codec (kintorm.orm.codec.core) loads records with its
    generated loaders, which check JSON-native values inline as kintorm's own hooks
    would, only while :attr:`customized` is False."""

    #: the hooks as make_converter() left them (see _hooks_state); None: not made so
    _made: tuple[Any, ...] | None = None
    #: set to force :attr:`customized`
    _forced: bool | None = None

    def _hooks_state(self) -> tuple[Any, ...]:
        """The hooks registered on the converter, by identity: those of predicates and
        factories, and those of classes (cattrs caches its own in a third table)."""
        structure, unstructure = self._structure_func, self._unstructure_func
        return (  # the hooks themselves: compared by identity, and kept alive
            tuple(structure._function_dispatch._handler_pairs),
            tuple(structure._single_dispatch.registry.values()),
            tuple(unstructure._function_dispatch._handler_pairs),
            tuple(unstructure._single_dispatch.registry.values()),
        )

    @property
    def customized(self) -> bool:
        """Were hooks registered on it since make_converter()? (Assigning forces it.)"""
        if self._forced is not None:
            return self._forced
        return self._made is None or self._hooks_state() != self._made

    @customized.setter
    def customized(self, value: bool) -> None:
        self._forced = value


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
    conv.register_structure_hook_func(_is_primitive_union, _structure_primitive_union)
    conv.register_unstructure_hook(datetime.datetime, _unstructure_datetime)
    conv.register_unstructure_hook(datetime.date, lambda v: v.isoformat())
    install_nested(conv)  # attrs objects keep the keys their class does not declare
    # an attachment travels as the object kinto-attachment stores (its extra keys inline)
    conv.register_structure_hook(Attachment, lambda value, _: Attachment.from_wire(value))
    conv.register_unstructure_hook(Attachment, Attachment.to_wire)
    install_containers(conv)  # a list takes an array, not a string's characters
    conv._made = conv._hooks_state()
    return conv


converter = make_converter()


def _describe(exc: BaseException, type_: Any) -> str:
    """One error's message: the exception's own (kintorm's hooks say what they
    expected and got), else cattrs' description."""
    text = str(exc) if isinstance(exc, TypeError | ValueError) else ""
    return text or format_exception(exc, type_)


def field_errors(exc: BaseException, path: str, type_: Any = None) -> list[tuple[str, str]]:
    """``(path, message)`` for each error in ``exc`` (cattrs' validation errors are
    groups, with a path note for each item and attribute): ``path`` extended by
    ``.name``, ``[index]`` and ``['key']`` as cattrs.transform_error extends it; one
    pair per undeclared key (``author.twitter``) where they are forbidden."""
    if isinstance(exc, cattrs.IterableValidationError | cattrs.ClassValidationError):
        found: list[tuple[str, str]] = []
        with_notes, without = exc.group_exceptions()
        for inner, note in with_notes:
            if isinstance(note, AttributeValidationNote):
                found += field_errors(inner, f"{path}.{note.name}", note.type)
            else:
                found += field_errors(inner, f"{path}[{note.index!r}]", note.type)
        for inner in without:
            found += field_errors(inner, path)
        return found
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        owner = getattr(exc.cl, "__name__", str(exc.cl))
        return [(f"{path}.{key}", f"not a field of {owner}") for key in sorted(exc.extra_fields)]
    if isinstance(exc, KeyError):
        return [(path, "required field missing")]
    return [(path, _describe(exc, type_))]


def _raise(exc: BaseException, field: str) -> typing.NoReturn:
    pairs = field_errors(exc, field)
    errors = [f"{message} @ {where}" for where, message in pairs]
    raise ValidationError(
        f"invalid value for {field!r}: {'; '.join(errors)}",
        field=field,
        errors=errors,
        field_errors=pairs,
    ) from exc


def structure_value(value: Any, type_: Any, field: str, *, given: bool = False) -> Any:
    """``value`` (wire JSON) as ``type_``; ValidationError naming ``field`` otherwise.
    ``given``: the value comes from elsewhere than the server (``from_dict``), so a
    datetime string is parsed as such rather than kept in its stored form."""
    token = _INPUT.set(True) if given else None
    try:
        return converter.structure(value, type_)
    except Exception as exc:
        _raise(exc, field)
    finally:
        if token is not None:
            _INPUT.reset(token)


#: How deep a field's value may nest: with the document and a batch around it, the
#: body stays within the client's MAX_JSON_DEPTH.
MAX_VALUE_DEPTH = MAX_JSON_DEPTH - 20


def unstructure_value(value: Any, type_: Any, field: str) -> Any:
    """``value`` as wire JSON, checked against ``type_`` and JSON-serialisable: also no
    naive datetime, no integer Kinto would store as a float, no nesting Kinto cannot
    store (kintorm.client.protocol.check_json)."""
    token = _SENDING.set(True)
    try:
        check_sent(value, type_)  # a bare list or dict too (the hooks check the rest)
        wire = converter.unstructure(value, unstructure_as=type_)
        converter.structure(wire, type_)  # type check: what we send must read back
        text = json.dumps(wire, allow_nan=False, ensure_ascii=False)
        data = text.encode()  # no lone surrogate
        check_encoded(wire, data, path=field, max_depth=MAX_VALUE_DEPTH)
    except RecursionError:
        _raise_too_deep(value, field)
    except Exception as exc:
        _raise(exc, field)
    finally:
        _SENDING.reset(token)
    return wire


def _raise_too_deep(value: Any, field: str) -> typing.NoReturn:
    """The ValidationError of a value too deep to convert (a RecursionError on the way)."""
    try:
        check_json(value, path=field, max_depth=MAX_VALUE_DEPTH)
        message = f"nested too deep to convert @ {field}"
    except ValueError as exc:
        message = f"{exc} @ {field}"
    raise ValidationError(
        f"invalid value for {field!r}: {message}", field=field, errors=[message]
    ) from None
