"""The fast loading strategy: one function generated per model (and per ownership).

The reference strategy (kintorm.orm.codec.reference) checks each value with cattrs
and calls the model's ``__init__``. The loader generated here does the same for a
record that fits the model, in about a microsecond:

* values of JSON-native fields (``str``, ``int``, ``float``, ``bool``, ``X | None``,
  ``list[X]``, ``dict[str, X]`` of those) are checked inline, by exact type, where
  kintorm's strict hooks (kintorm/orm/convert.py) would accept them unchanged
  (``int`` for ``float`` is converted, as the hook does); other fields go through
  the converter, as in the reference (whose hooks keep the undeclared keys of nested
  attrs objects, kintorm/orm/codec/nested.py: both strategies keep them alike);
* the instance is made without ``__init__``, only for models whose ``__init__``
  would just store the values (no validators, converters, post-init, init=False
  fields, or custom ``__setattr__``/``__new__``), with ``object.__setattr__``, so
  that CPython never makes its ``__dict__``; an empty ``permissions`` is made when
  first read;
* the snapshot is what was decoded: a listing's record itself (``owned``), its lists
  frozen into tuples (kintorm.orm.codec.frozen), the instance taking the lists.

A record that does not fit exactly (or a missing required field) goes to the
reference, which gives the same instance or raises the same ValidationError. The
codec (kintorm.orm.codec.core) uses the reference alone while hooks registered
after make_converter() are on the converter.
"""

from __future__ import annotations

import linecache
import math
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from kintorm.orm.codec.frozen import freeze
from kintorm.orm.convert import converter
from kintorm.orm.state import (
    CLIENT,
    EXTRAS,
    PERMISSIONS,
    RESERVED,
    SNAPSHOT,
    SNAPSHOT_PERMISSIONS,
    Permissions,
    data_fields,
    json_copy,
    normalize_permissions,
    to_permissions,
)

if TYPE_CHECKING:
    from kintorm.client.base import BaseClient
    from kintorm.orm.state import RecordLike

__all__ = ["Loader", "define", "eligible", "frozen_source", "generate", "is_native", "settle"]

#: ``load(data, permissions, partial, client[, into])``: an instance (see
#: persist.from_wire); ``into``: an instance of the model to load into (a save's or a
#: refresh's answer), returned unless the record goes to the reference loader
Loader = Callable[..., Any]

_set = object.__setattr__


def settle(
    obj: Any,
    data: dict[str, Any],
    permissions: dict[str, Any] | None,
    client: BaseClient | None,
    extras: dict[str, Any] | None,
) -> None:
    """Store the mapper's state of a record just loaded on it: the snapshot (``data``
    and ``permissions``, frozen), its client and its undeclared fields
    (kintorm.orm.state). Every loading strategy stores them so, in this order, and
    only those that differ from the class's None."""
    _set(obj, SNAPSHOT, data)
    if permissions:
        _set(obj, SNAPSHOT_PERMISSIONS, permissions)
    _set(obj, CLIENT, client)
    if extras:
        _set(obj, EXTRAS, extras)


_SCALARS: tuple[type, ...] = (str, int, bool, float)
_UNIONS = (typing.Union, types.UnionType)


def _optional_of(type_: Any) -> Any:
    """``X`` for ``X | None`` (one X), else None."""
    if typing.get_origin(type_) not in _UNIONS:
        return None
    args = typing.get_args(type_)
    others = [a for a in args if a is not type(None)]
    if len(others) == 1 and len(args) == 2:
        return others[0]
    return None


def is_native(type_: Any, scalars: tuple[type, ...] = _SCALARS) -> bool:
    """Can values of ``type_`` be checked inline (see the module docstring)? JSON
    values of ``scalars``, ``X | None``, lists and string-keyed dicts of them."""
    if type_ in scalars:
        return True
    inner = _optional_of(type_)
    if inner is not None:
        return is_native(inner, scalars)
    origin, args = typing.get_origin(type_), typing.get_args(type_)
    if origin is list and len(args) == 1:
        return is_native(args[0], scalars)
    if origin is dict and len(args) == 2:
        return args[0] is str and is_native(args[1], scalars)
    return False


def _is_container(type_: Any) -> bool:
    inner = _optional_of(type_)
    if inner is not None:
        return _is_container(inner)
    return typing.get_origin(type_) in (list, dict)


def _is_flat(type_: Any) -> bool:
    """A list or dict (or None) of immutable values: one shallow copy suffices."""
    inner = _optional_of(type_)
    if inner is not None:
        return _is_flat(inner)
    args = typing.get_args(type_)
    return bool(args) and not _is_container(args[-1])


class _Source:
    """Lines of generated Python, with fresh local names."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def add(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


def _check(src: _Source, type_: Any, var: str, indent: int, top: bool) -> None:
    """Lines that hand the record to the reference unless ``var`` fits ``type_`` as
    kintorm's hooks would return it unchanged; at the top level an ``int`` for a
    ``float`` is converted in place (the hook's ``float(value)``)."""
    fallback = "return _fallback(data, permissions, partial, client)"
    if type_ is float:
        if top:
            src.add(indent, f"if type({var}) is int:")
            src.add(indent + 1, "try:")
            src.add(indent + 2, f"{var} = float({var})")
            src.add(indent + 1, "except OverflowError:")
            src.add(indent + 2, fallback)
            src.add(indent, f"elif type({var}) is not float or not _isfinite({var}):")
        else:
            src.add(indent, f"if type({var}) is not float or not _isfinite({var}):")
        src.add(indent + 1, fallback)
        return
    if type_ in _SCALARS:
        src.add(indent, f"if type({var}) is not {type_.__name__}:")
        src.add(indent + 1, fallback)
        return
    inner = _optional_of(type_)
    if inner is not None:
        src.add(indent, f"if {var} is not None:")
        _check(src, inner, var, indent + 1, top)
        return
    origin, args = typing.get_origin(type_), typing.get_args(type_)
    item = src.name("e")
    if origin is list:
        src.add(indent, f"if type({var}) is not list:")
        src.add(indent + 1, fallback)
        src.add(indent, f"for {item} in {var}:")
    else:
        key = src.name("k")
        src.add(indent, f"if type({var}) is not dict:")
        src.add(indent + 1, fallback)
        src.add(indent, f"for {key}, {item} in {var}.items():")
        src.add(indent + 1, f"if type({key}) is not str:")
        src.add(indent + 2, fallback)
    _check(src, args[-1], item, indent + 1, top=False)


def _copy(type_: Any, var: str) -> str:
    """An expression copying ``var`` (checked to fit ``type_``) as cattrs would."""
    if not _is_container(type_):
        return var
    if _is_flat(type_):
        copy = f"{var}.copy()"
        return f"(None if {var} is None else {copy})" if _optional_of(type_) else copy
    return f"_json_copy({var})"


def frozen_source(type_: Any, var: str) -> str:
    """An expression giving the snapshot's (frozen) form of ``var``, checked to fit."""
    if not _is_container(type_):
        return var
    if _is_flat(type_):
        inner = _optional_of(type_) or type_
        copy = f"tuple({var})" if typing.get_origin(inner) is list else f"{var}.copy()"
        return f"(None if {var} is None else {copy})" if _optional_of(type_) else copy
    return f"_freeze({var})"


def eligible(model: type[RecordLike]) -> bool:
    """Does the model's ``__init__`` only store the values from_wire gives it?"""
    init = model.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    if code is None or not code.co_filename.startswith("<attrs generated"):
        return False
    if model.__setattr__ is not object.__setattr__ or model.__new__ is not object.__new__:
        return False
    if hasattr(model, "__attrs_pre_init__") or hasattr(model, "__attrs_post_init__"):
        return False
    for field in attrs.fields(model):
        if not field.init or field.validator is not None:
            return False
        if field.name == "permissions":
            if field.converter is not to_permissions:
                return False
        elif field.converter is not None:
            return False
    names = {f.name for f in attrs.fields(model)}
    return all(name in names for name in RESERVED)


def generate(model: type[RecordLike], reference: Loader, *, owned: bool = False) -> Loader | None:
    """The generated loader of ``model``, or None when its ``__init__`` does more than
    store the values (see :func:`eligible`); ``reference`` loads the records that do
    not fit the fast path.

    ``owned``: the caller gives up ``data`` (a record of a listing just decoded):
    it becomes the snapshot (``id`` and ``last_modified`` popped, lists frozen), and
    its lists and dicts become the instance's. Otherwise ``data`` is left alone."""
    if not eligible(model):
        return None
    fields = data_fields(model)
    src = _Source()
    env: dict[str, Any] = {
        "_model": model,
        "_fallback": reference,
        "_structure": converter.structure,
        "_unstructure": converter.unstructure,
        "_json_copy": json_copy,
        "_freeze": freeze,
        "_isfinite": math.isfinite,
        "_SKIP": object(),
        "_new": object.__new__,
        "_set": _set,
        "_Permissions": Permissions,
        "_to_permissions": to_permissions,
        "_normalize": normalize_permissions,
        "_known": frozenset({"id", "last_modified", *(f.name for f in fields)}),
    }
    fallback = "return _fallback(data, permissions, partial, client)"
    src.add(0, "def load(data, permissions, partial, client, into=None):")
    src.add(1, "full = True")
    src.add(1, "skipped = missing = False")
    values: dict[str, str] = {}  # field name -> local holding the instance's value
    snaps: dict[str, str] = {}  # field name -> local holding the snapshot's value
    rewritten: list[str] = []  # fields whose snapshot value may not be the wire value
    for n, field in enumerate(fields):
        key = repr(field.name)
        var, inst, snap = f"v{n}", f"i{n}", f"s{n}"
        values[field.name], snaps[field.name] = inst, snap
        env[f"_type{n}"] = field.type
        present = _Source()  # the lines run when the record has the key
        present.count = src.count
        if is_native(field.type):
            _check(present, field.type, var, 2, top=True)
            if _is_container(field.type):
                rewritten.append(field.name)  # frozen
                present.add(2, f"{inst} = {var if owned else _copy(field.type, var)}")
                present.add(2, f"{snap} = {frozen_source(field.type, var)}")
            else:
                if field.type is float or _optional_of(field.type) is float:
                    rewritten.append(field.name)  # an int became a float
                present.add(2, f"{inst} = {snap} = {var}")
        else:
            rewritten.append(field.name)
            present.add(2, "try:")
            present.add(3, f"{inst} = _structure({var}, _type{n})")
            present.add(2, "except Exception:")
            present.add(3, fallback)
            present.add(2, f"{snap} = _freeze(_unstructure({inst}, unstructure_as=_type{n}))")
        src.count = present.count
        src.add(1, "try:")  # one lookup when the key is there, as it mostly is
        src.add(2, f"{var} = data[{key}]")
        src.add(1, "except KeyError:")
        src.add(2, "full = False")
        src.add(2, "if partial:")
        src.add(3, f"{inst} = {snap} = _SKIP")
        src.add(3, "skipped = True")
        src.add(2, "else:")
        default: Any = field.default
        factory: Any = default if isinstance(default, attrs.Factory) else None  # type: ignore[arg-type]
        if default is attrs.NOTHING or (factory is not None and factory.takes_self):
            # required: the reference raises (outside the handler: no KeyError context)
            src.add(3, f"{inst} = {snap} = _SKIP")
            src.add(3, "missing = True")
        else:
            if factory is not None:
                env[f"_factory{n}"] = factory.factory
                src.add(3, f"{inst} = _factory{n}()")
            else:
                env[f"_default{n}"] = default
                src.add(3, f"{inst} = _default{n}")
            src.add(3, f"{snap} = _freeze(_unstructure({inst}, unstructure_as=_type{n}))")
        src.add(1, "else:")
        src.lines += present.lines
    src.add(1, "if missing:")
    src.add(2, fallback)
    # every value fits: from here on, no fallback (``data`` may be changed)
    src.add(1, "if permissions:")
    src.add(2, "perms = _to_permissions(permissions)")
    src.add(2, "sperms = _freeze(_normalize(perms)) or None")
    src.add(1, "else:")
    src.add(2, "perms = sperms = None")
    if owned:
        src.add(1, "rid = data.pop('id', None)")
        src.add(1, "rlm = data.pop('last_modified', None)")
        src.add(1, f"if full and len(data) == {len(fields)}:")
        src.add(2, "extras = None")
        for field in fields:
            if field.name in rewritten:
                src.add(2, f"data[{field.name!r}] = {snaps[field.name]}")
        src.add(1, "else:")
        src.add(2, "extras = {k: v for k, v in data.items() if k not in _known}")
        src.add(2, "for k, v in extras.items():")
        src.add(3, "data[k] = _freeze(v)")
        for field in fields:
            src.add(2, f"if {snaps[field.name]} is not _SKIP:")
            src.add(3, f"data[{field.name!r}] = {snaps[field.name]}")
        src.add(1, "sdata = data")
        ids = {"id": "rid", "last_modified": "rlm"}
    else:
        snapshot = "{" + ", ".join(f"{f.name!r}: {snaps[f.name]}" for f in fields) + "}"
        src.add(1, f"if full and len(data) == {len(fields) + 2} and 'id' in data")
        src.lines[-1] += " and 'last_modified' in data:"
        src.add(2, "extras = None")
        src.add(2, f"sdata = {snapshot}")
        src.add(1, "else:")
        src.add(2, "extras = {k: v for k, v in data.items() if k not in _known}")
        src.add(2, f"sdata = {snapshot}")
        src.add(2, "if skipped:")
        src.add(3, "sdata = {k: v for k, v in sdata.items() if v is not _SKIP}")
        src.add(2, "if extras:")
        src.add(3, "sdata = {**{k: _freeze(v) for k, v in extras.items()}, **sdata}")
        ids = {"id": "data.get('id')", "last_modified": "data.get('last_modified')"}
    src.add(1, "obj = _new(_model) if into is None else into")
    for field in attrs.fields(model):  # the order __init__ stores them in
        name = field.name
        if name == "permissions":
            # an empty Permissions is made when first read (state.PermissionsAttribute)
            src.add(1, "if perms is not None or into is not None:")
            src.add(2, f"obj.{PERMISSIONS} = perms")
        elif name in ids:
            src.add(1, f"obj.{name} = {ids[name]}")
        elif name in values:  # not the attachment field: a view of the undeclared keys
            inst = values[name]
            # fields only() left out stay unset: reading them raises
            src.add(1, f"if {inst} is not _SKIP:")
            src.add(2, f"obj.{name} = {inst}")
    # kintorm.orm.codec.fast.settle, inline
    src.add(1, f"obj.{SNAPSHOT} = sdata")
    src.add(1, "if sperms is not None or into is not None:")
    src.add(2, f"obj.{SNAPSHOT_PERMISSIONS} = sperms")
    src.add(1, f"obj.{CLIENT} = client")
    src.add(1, "if extras or into is not None:")
    src.add(2, f"obj.{EXTRAS} = extras or None")
    src.add(1, "return obj")
    text = "\n".join(src.lines) + "\n"
    kind = "owned " if owned else ""
    filename = f"<kintorm {kind}loader {model.__module__}.{model.__qualname__} {id(model):x}>"
    load: Loader = define(text, filename, env, "load")
    return load


def define(text: str, filename: str, env: dict[str, Any], name: str) -> Any:
    """The function ``name`` of the source ``text`` run in ``env`` (generated from a
    model's field types and names); its source is kept for tracebacks and debuggers."""
    exec(compile(text, filename, "exec"), env)  # noqa: S102 - generated, see above
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    return env[name]
