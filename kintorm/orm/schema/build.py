"""A model's JSON schema (draft 7, what Kinto validates records with), from its fields.

Each field's schema comes from its type (:data:`TYPES` for the plain ones, a
function per kind of annotation in :data:`_KINDS` for the others), then from
its attrs validators (:data:`VALIDATORS`), then from its metadata::

    score: int = attrs.field(default=0, validator=attrs.validators.ge(0),
                             metadata={"json_schema": {"title": "Score"}})

``metadata["json_schema"]`` is merged last, over what was computed; for a type
that cannot be said in JSON schema it is the whole schema (``{}``: any value),
else :class:`SchemaError` names the field. ``metadata["ui_schema"]`` goes to the
collection's ``uiSchema`` (kinto-admin's form).

A field is required when it has no default (what the mapper refuses to load
without); ``X | None`` allows ``null``. A class (the model or a nested attrs
class) may add keys to its object's schema with ``json_schema_extra``, a
ClassVar dict: ``{"additionalProperties": False}`` refuses undeclared keys,
which are allowed by default (other writers' fields survive).
"""

from __future__ import annotations

import copy
import datetime
import enum
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from kintorm.orm.attachments.value import ATTACHMENT_KEY, ATTACHMENT_SCHEMA
from kintorm.orm.convert import unstructure_value
from kintorm.orm.exceptions import ValidationError
from kintorm.orm.state import RESERVED, attachment_field, data_fields

__all__ = [
    "METADATA_KEY",
    "TYPES",
    "UI_METADATA_KEY",
    "VALIDATORS",
    "SchemaError",
    "class_schema",
    "json_schema",
]

JSONDict = dict[str, Any]

#: the key of a field's metadata merged over its computed schema
METADATA_KEY = "json_schema"
#: the key of a field's metadata that becomes its entry in the collection's uiSchema
UI_METADATA_KEY = "ui_schema"
#: the ClassVar of a class whose items are added to its object's schema
EXTRA_ATTRIBUTE = "json_schema_extra"
#: the JSON schema dialect Kinto validates with (kinto.schema_validation)
DRAFT = "http://json-schema.org/draft-07/schema#"

#: plain types and their schema (looked up by identity: datetime is not a date here)
TYPES: dict[Any, JSONDict] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    object: {},
    Any: {},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    list: {"type": "array"},
    set: {"type": "array", "uniqueItems": True},
    frozenset: {"type": "array", "uniqueItems": True},
    dict: {"type": "object"},
}


class SchemaError(TypeError):
    """A field whose type or validator JSON schema cannot express (the message names it)."""


# --- types ------------------------------------------------------------------------


def _union(args: tuple[Any, ...], seen: tuple[type, ...]) -> JSONDict:
    parts = [_type_schema(a, seen) for a in args]
    simple = [p.get("type") for p in parts if set(p) == {"type"} and isinstance(p["type"], str)]
    if len(simple) == len(parts):  # {"type": ["string", "null"]}
        return {"type": list(dict.fromkeys(typing.cast(list[str], simple)))}
    enums = [[None] if p == {"type": "null"} else p.get("enum") for p in parts]
    if all(e is not None for e in enums):  # Enum | None, Literal[...] | None
        return {"enum": [v for e in enums for v in typing.cast(list[Any], e)]}
    return {"anyOf": parts}


def _literal(args: tuple[Any, ...], seen: tuple[type, ...]) -> JSONDict:
    values = [a.value if isinstance(a, enum.Enum) else a for a in args]
    return {"const": values[0]} if len(values) == 1 else {"enum": values}


def _list(args: tuple[Any, ...], seen: tuple[type, ...]) -> JSONDict:
    return {"type": "array", **({"items": _type_schema(args[0], seen)} if args else {})}


def _set(args: tuple[Any, ...], seen: tuple[type, ...]) -> JSONDict:
    """An array without repeats: a set field is sent as one, and refuses repeats."""
    return {**_list(args, seen), "uniqueItems": True}


def _tuple(args: tuple[Any, ...], seen: tuple[type, ...]) -> JSONDict:
    if len(args) == 2 and args[1] is Ellipsis:
        return _list(args[:1], seen)
    items = [_type_schema(a, seen) for a in args]
    return {
        "type": "array",
        "items": items,
        "additionalItems": False,
        "minItems": len(items),
        "maxItems": len(items),
    }


def _dict(args: tuple[Any, ...], seen: tuple[type, ...]) -> JSONDict:
    if args and args[0] is not str:
        raise SchemaError(f"dict keys must be str in JSON, not {args[0]!r}")
    values = _type_schema(args[1], seen) if args else {}
    return {"type": "object", **({"additionalProperties": values} if values else {})}


#: typing.get_origin(annotation) -> the schema of an annotation of that kind
_KINDS: dict[Any, Callable[[tuple[Any, ...], tuple[type, ...]], JSONDict]] = {
    typing.Union: _union,
    types.UnionType: _union,
    typing.Literal: _literal,
    list: _list,
    tuple: _tuple,
    set: _set,
    frozenset: _set,
    dict: _dict,
}


def _type_schema(type_: Any, seen: tuple[type, ...] = ()) -> JSONDict:
    """The schema of values of ``type_``; SchemaError when it has none."""
    found = TYPES.get(type_) if _hashable(type_) else None
    if found is not None:
        return dict(found)
    origin = typing.get_origin(type_)
    if origin in _KINDS:
        return _KINDS[origin](typing.get_args(type_), seen)
    if isinstance(type_, type) and issubclass(type_, enum.Enum):
        return {"enum": [member.value for member in type_]}
    if isinstance(type_, type) and attrs.has(type_):
        return class_schema(type_, seen)
    raise SchemaError(f"{type_!r} has no JSON schema")


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


# --- validators -------------------------------------------------------------------

_BOUNDS = {">=": "minimum", "<=": "maximum", ">": "exclusiveMinimum", "<": "exclusiveMaximum"}
#: how a matches_re validator matches -> the pattern JSON schema searches with
_ANCHORS = {"fullmatch": "^(?:{})$", "match": "^(?:{})", "search": "{}"}


def _length(key: str) -> Callable[[Any, JSONDict], JSONDict]:
    """min_len / max_len: minLength on strings, minItems on arrays, minProperties..."""

    def constrain(validator: Any, schema: JSONDict) -> JSONDict:
        value = validator.min_length if key == "min" else validator.max_length
        kinds = {"array": "Items", "object": "Properties"}
        noun = kinds.get(schema.get("type", "string"), "Length")
        return {f"{key}{noun}": value}

    return constrain


def _pattern(validator: Any, schema: JSONDict) -> JSONDict:
    how = getattr(validator.match_func, "__name__", "fullmatch")
    return {"pattern": _ANCHORS.get(how, "{}").format(validator.pattern.pattern)}


def _in(validator: Any, schema: JSONDict) -> JSONDict:
    options = validator.options
    if isinstance(options, type) and issubclass(options, enum.Enum):
        return {"enum": [member.value for member in options]}
    if isinstance(options, str | bytes | dict) or not hasattr(options, "__iter__"):
        raise SchemaError(f"in_({options!r}) has no JSON schema (give a list of values)")
    return {"enum": [o.value if isinstance(o, enum.Enum) else o for o in options]}


def _all(validator: Any, schema: JSONDict) -> JSONDict:
    merged: JSONDict = {}
    for inner in validator._validators:  # attrs' and_(): its public attribute
        merged.update(_validator_schema(inner, {**schema, **merged}))
    return merged


#: attrs validator class names -> the keywords the validator adds to the field's
#: schema (an unknown validator adds nothing: it stays a client-side check)
VALIDATORS: dict[str, Callable[[Any, JSONDict], JSONDict]] = {
    "_NumberValidator": lambda v, s: {_BOUNDS[v.compare_op]: v.bound},
    "_MinLengthValidator": _length("min"),
    "_MaxLengthValidator": _length("max"),
    "_MatchesReValidator": _pattern,
    "_InValidator": _in,
    "_AndValidator": _all,
    "_OptionalValidator": lambda v, s: _validator_schema(v.validator, s),
}


def _validator_schema(validator: Any, schema: JSONDict) -> JSONDict:
    made = VALIDATORS.get(type(validator).__name__)
    return made(validator, schema) if made is not None else {}


def _constrained(schema: JSONDict, validator: Any) -> JSONDict:
    """``schema`` with the validator's keywords; on a nullable schema they apply to the
    non-null values (JSON schema ignores minimum & co on other types, not enum)."""
    if validator is None:
        return schema
    if "anyOf" in schema:  # X | None with X an array, object, date...: constrain X
        null = {"type": "null"}
        branches = [b if b == null else _constrained(b, validator) for b in schema["anyOf"]]
        return {**schema, "anyOf": branches}
    added = _validator_schema(validator, _non_null(schema))
    if "enum" in added and _nullable(schema):
        added["enum"] = [*added["enum"], None]
    return {**schema, **added}


def _nullable(schema: JSONDict) -> bool:
    kinds = schema.get("type")
    return (isinstance(kinds, list) and "null" in kinds) or None in schema.get("enum", ())


def _non_null(schema: JSONDict) -> JSONDict:
    kinds = schema.get("type")
    if isinstance(kinds, list):
        rest = [k for k in kinds if k != "null"]
        return {**schema, "type": rest[0] if len(rest) == 1 else rest}
    return schema


# --- fields and classes -------------------------------------------------------------


def _default(field: attrs.Attribute[Any]) -> tuple[bool, Any]:
    """(has a default, its JSON form or NOTHING when it has none to show)."""
    default: Any = field.default
    if default is attrs.NOTHING:
        return False, attrs.NOTHING
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:
            return True, attrs.NOTHING
        default = default.factory()
    try:
        return True, unstructure_value(default, field.type, field.name)
    except ValidationError:
        return True, attrs.NOTHING


def field_schema(owner: type, field: attrs.Attribute[Any], seen: tuple[type, ...]) -> JSONDict:
    """The schema of one field's values: type, validators, default, then metadata."""
    given: JSONDict | None = field.metadata.get(METADATA_KEY)
    try:
        schema = _constrained(_type_schema(field.type, seen), field.validator)
    except SchemaError as exc:
        if given is not None:
            return dict(given)
        raise SchemaError(
            f"{owner.__qualname__}.{field.name}: {exc}; give its schema in the field's "
            f'metadata (attrs.field(metadata={{"{METADATA_KEY}": {{...}}}}), {{}} for any value)'
        ) from None
    _, default = _default(field)
    if default is not attrs.NOTHING:
        schema["default"] = default
    return {**schema, **(given or {})}


def _fields(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    attrs.resolve_types(cls)
    found: tuple[attrs.Attribute[Any], ...] = attrs.fields(cls)
    return found


def class_schema(
    cls: type,
    seen: tuple[type, ...] = (),
    fields: tuple[attrs.Attribute[Any], ...] | None = None,
) -> JSONDict:
    """The object schema of an attrs class: its fields as properties, those without a
    default required, undeclared keys allowed unless its ``json_schema_extra`` says."""
    if cls in seen:
        raise SchemaError(f"{cls.__qualname__} contains itself: a recursive schema")
    inner = (*seen, cls)
    declared = _fields(cls) if fields is None else fields
    properties = {f.name: field_schema(cls, f, inner) for f in declared}
    required = [f.name for f in declared if not _default(f)[0]]
    schema: JSONDict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = True
    schema.update(getattr(cls, EXTRA_ATTRIBUTE, None) or {})
    return schema


def json_schema(model: Any) -> JSONDict:
    """The JSON schema (draft 7) of a model's records: its data fields (the reserved
    ``id``, ``last_modified`` and ``permissions`` are left to Kinto) and the
    ``attachment`` key of its attachment field, titled with the model's name.
    SchemaError naming a field whose type has no schema."""
    fields = data_fields(model)
    schema = class_schema(model, fields=tuple(f for f in fields if f.name not in RESERVED))
    if attachment_field(model) is not None:  # the record's attachment key, object or null
        schema["properties"][ATTACHMENT_KEY] = copy.deepcopy(ATTACHMENT_SCHEMA)
    return {"$schema": DRAFT, "title": model.__name__, **schema}
