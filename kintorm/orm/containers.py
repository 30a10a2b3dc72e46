"""Container fields take only what JSON has: arrays for lists, tuples and sets,
objects for dicts.

cattrs builds a ``list[str]`` from any iterable and a ``dict`` from any mapping, so
``"home"`` given for ``tags: list[str]`` would become ``["h", "o", "m", "e"]`` (and an
object its keys): a value another program stored, a request body or an attribute set
by hand would be silently rewritten, then saved so. These hooks run before cattrs'
own and refuse such a value, naming what was expected; cattrs' factories then build
the value as they always did (called directly: the converter's own ``gen_*`` methods
register what they build for the type, which would then be found before these
checks).

One table, :data:`CONTAINERS`: for each kind of container type, the values it
accepts when read (wire JSON, ``from_dict``) and when sent (attributes), and the
cattrs hooks that do the work.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import cattrs
from cattrs.cols import (
    homogenous_tuple_structure_factory,
    is_any_set,
    is_defaultdict,
    is_mapping,
    is_mutable_sequence,
    is_sequence,
    iterable_unstructure_factory,
    list_structure_factory,
    mapping_structure_factory,
    mapping_unstructure_factory,
)
from cattrs.gen import make_hetero_tuple_unstructure_fn

__all__ = ["CONTAINERS", "check_sent", "holds_set", "install", "set_order"]

Hook = Callable[[Any, Any], Any]
Unhook = Callable[[Any], Any]

_ARRAYS = (list, tuple)
_SETS = (*_ARRAYS, set, frozenset)


def _is_hetero_tuple(type_: Any) -> bool:
    args = typing.get_args(type_)
    return typing.get_origin(type_) is tuple and bool(args) and args[-1] is not Ellipsis


def _set_hook(type_: Any, conv: cattrs.Converter) -> Hook:
    """A set or frozenset built from an array (JSON has no sets); an array that repeats
    an item is refused, as the set would silently drop the repeats."""
    args = typing.get_args(type_)
    as_list_type: Any = list.__class_getitem__(args[0]) if args else list
    as_list = list_structure_factory(as_list_type, conv)
    build = frozenset if (typing.get_origin(type_) or type_) is frozenset else set

    def structure(value: Any, _: Any) -> Any:
        items = as_list(value, as_list_type)
        built = build(items)
        if len(built) != len(items):
            raise ValueError(f"expected a list without repeated items, got {value!r}")
        return built

    return structure


def _json_text(item: Any) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), default=repr)


def set_order(items: list[Any]) -> list[Any]:
    """A set's items (as wire JSON) in the order they are sent, so that every process
    sends a set the same way (a set's own order depends on string hashing): sorted,
    or by their JSON text where they do not compare (objects, mixed types)."""
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=_json_text)


def _set_unhook(type_: Any, conv: cattrs.Converter) -> Unhook:
    """A set or frozenset as an array, its items in :func:`set_order`."""
    as_list = iterable_unstructure_factory(type_, conv, unstructure_to=list)
    return lambda value: set_order(as_list(value))


def holds_set(type_: Any) -> bool:
    """Whether a field of ``type_`` holds a set (also as ``set[...] | None``): its
    array's order means nothing, so a change of order alone is no change."""
    if typing.get_origin(type_) in (typing.Union, types.UnionType):
        return any(holds_set(arg) for arg in typing.get_args(type_))
    kind = _kind(type_)
    return kind is not None and kind.matches is is_any_set


@attrs.frozen
class Container:
    """One kind of container type: which values it takes, and cattrs' hooks for it."""

    what: str  #: what the error says was expected
    matches: Callable[[Any], bool]
    read: tuple[type, ...]  #: values accepted from the wire or from_dict
    sent: tuple[type, ...]  #: attribute values accepted when sent
    structure: Callable[[Any, cattrs.Converter], Hook]
    unstructure: Callable[[Any, cattrs.Converter], Unhook]


#: In the order they are tried: the first whose ``matches`` accepts the type.
CONTAINERS: tuple[Container, ...] = (
    Container(
        "an object",
        lambda t: is_mapping(t) and not is_defaultdict(t),
        (Mapping,),
        (Mapping,),
        lambda t, c: mapping_structure_factory(t, c, dict),
        lambda t, c: mapping_unstructure_factory(t, c, unstructure_to=dict),
    ),
    Container(
        "a list",
        _is_hetero_tuple,
        _ARRAYS,
        _ARRAYS,
        lambda t, c: c.gen_structure_hetero_tuple(t),
        lambda t, c: make_hetero_tuple_unstructure_fn(t, c, unstructure_to=tuple),
    ),
    Container(
        "a list",
        is_mutable_sequence,
        _ARRAYS,
        _ARRAYS,
        list_structure_factory,
        lambda t, c: iterable_unstructure_factory(t, c, unstructure_to=list),
    ),
    Container(
        "a list",
        is_any_set,
        _SETS,
        _SETS,
        _set_hook,
        _set_unhook,
    ),
    Container(
        "a list",
        is_sequence,
        _ARRAYS,
        _ARRAYS,
        homogenous_tuple_structure_factory,
        lambda t, c: iterable_unstructure_factory(t, c, unstructure_to=list),
    ),
)


def _kind(type_: Any) -> Container | None:
    if isinstance(type_, type) and issubclass(type_, str | bytes):
        return None
    return next((kind for kind in CONTAINERS if kind.matches(type_)), None)


def _refuse(what: str, value: Any) -> TypeError:
    return TypeError(f"expected {what}, got {type(value).__name__} {value!r}")


def check_sent(value: Any, type_: Any) -> None:
    """TypeError when ``value``, about to be sent as a ``type_``, is not a container of
    that kind (a string for a list, say). Nested values of parametrised containers are
    checked by the converter's hooks; this covers a bare ``list`` or ``dict`` too."""
    kind = _kind(type_)
    if kind is not None and (isinstance(value, str | bytes) or not isinstance(value, kind.sent)):
        raise _refuse(kind.what, value)


def _parametrised(type_: Any) -> bool:
    """``list[str]``, not ``list``: a bare class is also what cattrs dispatches on for
    a value of unknown type (``Any``), which then is that class (no check needed, and
    each wrapper would cost a Python frame per level of nesting)."""
    if type_ in (set, frozenset):  # a bare set too: JSON has none, cattrs keeps it one
        return True
    return bool(typing.get_args(type_)) and _kind(type_) is not None


def install(conv: cattrs.Converter) -> None:
    """Put the checks on ``conv``, ahead of the hooks it has (call it last)."""

    def structure_factory(type_: Any) -> Hook:
        kind = _kind(type_)
        assert kind is not None
        build, accepted, what = kind.structure(type_, conv), kind.read, kind.what

        def structure(value: Any, _: Any) -> Any:
            if isinstance(value, str | bytes) or not isinstance(value, accepted):
                raise _refuse(what, value)
            return build(value, type_)

        return structure

    def unstructure_factory(type_: Any) -> Unhook:
        kind = _kind(type_)
        assert kind is not None
        build, sent, what = kind.unstructure(type_, conv), kind.sent, kind.what

        def unstructure(value: Any) -> Any:
            if isinstance(value, str | bytes) or not isinstance(value, sent):
                raise _refuse(what, value)  # check_sent's rule, the kind found once
            return build(value)

        return unstructure

    conv.register_structure_hook_factory(lambda t: _kind(t) is not None, structure_factory)
    conv.register_unstructure_hook_factory(_parametrised, unstructure_factory)
