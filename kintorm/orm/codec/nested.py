"""Keys of nested objects that their class does not declare, kept per object.

A record's top-level keys that the model does not declare are kept in its state
(``extra_fields``). A nested attrs object (an ``Author`` in ``authors:
list[Author]``) may hold keys its class does not declare either, written by
another program (``"twitter"``). The converter's hooks for attrs classes keep
them here when the object is structured from the wire, and put them back when
it is unstructured, so they travel with the object itself: moved, reordered,
inserted elsewhere or kept in another record, the object keeps its keys; a new
instance (``Author(...)``, ``attrs.evolve``, a copy) has none.

Nested classes are user classes, often slotted and unhashable (``eq=True``): no
attribute can be added to them and they cannot key a WeakKeyDictionary. The table
is keyed by ``id(obj)`` and holds a weak reference whose callback removes the
entry when the object dies, before its id can be reused; a lookup also checks
that the reference still points at the object asked about.

Objects of a class that cannot be weakly referenced (``weakref_slot=False``)
are pinned instead, strongly, in the state of the record being loaded; they keep
their keys within that record (see kintorm/orm/codec/core.py).
"""

from __future__ import annotations

import contextlib
import functools
import typing
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, Literal, NoReturn

import attrs
import cattrs

from kintorm.orm.state import json_copy

__all__ = [
    "Undeclared",
    "collecting",
    "emitting",
    "install",
    "nested_extras",
    "reaches_unweakrefable",
    "undeclared",
]

JSONDict = dict[str, Any]
#: id(obj) -> (a weak reference to obj, its undeclared keys)
_TABLE: dict[int, tuple[weakref.ref[Any], JSONDict]] = {}
#: id(obj) -> (obj, its undeclared keys), for objects that cannot be weakly referenced
Pins = dict[int, tuple[Any, JSONDict]]
#: the pins of the record being loaded (True: new pins go there) or unstructured (False)
_PINS: ContextVar[tuple[Pins, bool] | None] = ContextVar("kintorm_nested_pins", default=None)
#: what the hooks do with undeclared keys (see :func:`undeclared`)
Undeclared = Literal["keep", "ignore", "forbid"]
_UNDECLARED: ContextVar[Undeclared] = ContextVar("kintorm_nested_undeclared", default="keep")


def _forget(key: int, ref: weakref.ref[Any]) -> None:
    found = _TABLE.get(key)
    if found is not None and found[0] is ref:
        del _TABLE[key]


def _keep(obj: Any, extras: JSONDict) -> None:
    key = id(obj)
    try:
        ref = weakref.ref(obj, functools.partial(_forget, key))
    except TypeError:  # a slotted class without __weakref__
        active = _PINS.get()
        if active is not None and active[1]:  # not in document(): its checks make copies
            active[0][key] = (obj, extras)
        return
    _TABLE[key] = (ref, extras)


def _extras_of(obj: Any) -> JSONDict | None:
    found = _TABLE.get(id(obj))
    if found is not None and found[0]() is obj:
        return found[1]
    active = _PINS.get()
    if active is not None:
        pinned = active[0].get(id(obj))
        if pinned is not None and pinned[0] is obj:
            return pinned[1]
    return None


def nested_extras(obj: Any) -> JSONDict:
    """The keys of the nested attrs object ``obj`` that its class does not declare,
    as a live dict: what is changed in it is saved with the object."""
    if not attrs.has(type(obj)):
        raise TypeError(f"expected an attrs instance, got {type(obj).__name__}")
    found = _extras_of(obj)
    if found is None:
        found = {}
        _keep(obj, found)
        if _extras_of(obj) is not found:
            raise TypeError(
                f"{type(obj).__name__} cannot be weakly referenced (weakref_slot=False): "
                "its undeclared keys are kept only for the objects a load made"
            )
    return found


@contextlib.contextmanager
def collecting(pins: Pins) -> Iterator[None]:
    """While a record is loaded: objects that cannot be weakly referenced go to ``pins``."""
    token = _PINS.set((pins, True))
    try:
        yield
    finally:
        _PINS.reset(token)


@contextlib.contextmanager
def emitting(pins: Pins | None) -> Iterator[None]:
    """While a record's document is made: the pinned objects' keys are put back."""
    if not pins:
        yield
        return
    token = _PINS.set((pins, False))
    try:
        yield
    finally:
        _PINS.reset(token)


@contextlib.contextmanager
def undeclared(mode: Undeclared) -> Iterator[None]:
    """What the hooks do meanwhile with the undeclared keys of nested objects:
    ``"keep"`` them (the default: structuring keeps them, unstructuring puts them
    back), ``"ignore"`` them (neither), or ``"forbid"`` them (structuring raises
    cattrs' ForbiddenExtraKeysError, which cattrs reports with the object's path)."""
    token = _UNDECLARED.set(mode)
    try:
        yield
    finally:
        _UNDECLARED.reset(token)


# --- the converter's hooks ---------------------------------------------------------


def _structure_factory(conv: cattrs.Converter) -> Callable[[Any], Any]:
    def factory(cl: Any) -> Callable[[Any, Any], Any]:
        base = conv.gen_structure_attrs_fromdict(cl)
        use_alias = getattr(conv, "use_alias", False)
        declared = frozenset(
            (a.alias if use_alias else a.name) for a in attrs.fields(typing.get_origin(cl) or cl)
        )

        def structure(value: Mapping[str, Any], type_: Any) -> Any:
            if declared.issuperset(value):
                return base(value, type_)
            mode = _UNDECLARED.get()
            if mode == "forbid":
                _forbid(base, value, type_, set(value) - declared)
            obj = base(value, type_)
            if mode == "keep":
                _keep(obj, {k: json_copy(v) for k, v in value.items() if k not in declared})
            return obj

        return structure

    return factory


def _forbid(
    base: Callable[[Any, Any], Any], value: Mapping[str, Any], type_: Any, extra: set[str]
) -> NoReturn:
    """Raise the undeclared keys ``extra`` of ``value``, with the errors of its values."""
    forbidden = cattrs.ForbiddenExtraKeysError("", typing.get_origin(type_) or type_, extra)
    try:
        base(value, type_)
    except cattrs.ClassValidationError as exc:
        raise cattrs.ClassValidationError(
            exc.message, [*exc.exceptions, forbidden], exc.cl
        ) from None
    raise forbidden


def _unstructure_factory(conv: cattrs.Converter) -> Callable[[Any], Any]:
    def factory(cl: Any) -> Callable[[Any], Any]:
        base = conv.gen_unstructure_attrs_fromdict(cl)

        def unstructure(obj: Any) -> Any:
            wire = base(obj)
            if (_TABLE or _PINS.get() is not None) and _UNDECLARED.get() == "keep":
                extras = _extras_of(obj)
                if extras:
                    wire = {**extras, **wire}  # a declared key wins over an undeclared one
            return wire

        return unstructure

    return factory


def install(conv: cattrs.Converter) -> None:
    """Register the hooks that keep and restore undeclared keys of attrs objects."""
    conv.register_structure_hook_factory(attrs.has, _structure_factory(conv))
    conv.register_unstructure_hook_factory(attrs.has, _unstructure_factory(conv))


# --- which models need pins --------------------------------------------------------


def reaches_unweakrefable(type_: Any, seen: set[int] | None = None) -> bool:
    """Can a value of ``type_`` hold an attrs object that cannot be weakly referenced?"""
    seen = set() if seen is None else seen
    if id(type_) in seen:
        return False
    seen.add(id(type_))
    if isinstance(type_, type) and attrs.has(type_):
        if getattr(type_, "__weakrefoffset__", 1) == 0:
            return True
        try:
            attrs.resolve_types(type_)
        except Exception:  # an annotation that does not resolve: cattrs will say so
            return False
        return any(reaches_unweakrefable(a.type, seen) for a in attrs.fields(type_))
    return any(reaches_unweakrefable(arg, seen) for arg in typing.get_args(type_))
