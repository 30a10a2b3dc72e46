"""The shape of a collection's values: what JSON types each field holds, inferred
from a sample of records or read from the collection's JSON schema.

A :class:`Shape` gathers every value seen at one place (a field, the items of a
list): the JSON kinds met, and for objects the shape of each key with how often
it was present; :mod:`kintorm.tools.inspection` turns shapes into attrs source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["Shape", "from_records", "from_schema"]

#: JSON kinds by Python type (bool before int: a bool is not an int)
_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "bool"),
    (int, "int"),
    (float, "float"),
    (str, "str"),
    (list, "list"),
    (dict, "object"),
    (type(None), "null"),
)
#: JSON schema's type names
_SCHEMA_KINDS = {
    "boolean": "bool",
    "integer": "int",
    "number": "float",
    "string": "str",
    "array": "list",
    "object": "object",
    "null": "null",
}


def _kind(value: Any) -> str:
    for type_, name in _KINDS:
        if isinstance(value, type_):
            return name
    return "unknown"


@attrs.define
class Shape:
    """Every value seen at one place of the documents."""

    kinds: set[str] = attrs.field(factory=set)
    #: the shape of a list's items (when lists were seen)
    items: Shape | None = None
    #: the shape of each key of the objects seen, and in how many of them it was
    keys: dict[str, Shape] = attrs.field(factory=dict)
    present: dict[str, int] = attrs.field(factory=dict)
    #: objects seen here
    objects: int = 0
    #: keys the schema requires (None: required means present in every object seen)
    required: set[str] | None = None
    #: whether the schema lets other keys in (``additionalProperties``)
    open: bool = True

    def add(self, value: Any) -> None:
        """Take one more value into the shape."""
        kind = _kind(value)
        self.kinds.add(kind)
        if kind == "list":
            self.items = self.items or Shape()
            for item in value:
                self.items.add(item)
        elif kind == "object":
            self.add_object(value)

    def add_object(self, value: Mapping[str, Any]) -> None:
        """Take one more object (a record's data, or a nested object)."""
        self.objects += 1
        for key, item in value.items():
            self.keys.setdefault(key, Shape()).add(item)
            self.present[key] = self.present.get(key, 0) + 1

    def is_required(self, key: str) -> bool:
        """Whether every object has ``key`` (or the schema requires it)."""
        if self.required is not None:
            return key in self.required
        return self.present.get(key, 0) == self.objects


def from_records(records: Iterable[Mapping[str, Any]]) -> Shape:
    """The shape of the records' data (an object shape)."""
    shape = Shape(kinds={"object"})
    for record in records:
        shape.add_object(record)
    return shape


def from_schema(schema: Mapping[str, Any]) -> Shape:
    """The shape a JSON schema describes (types, properties, required, items, enums,
    ``anyOf``/``oneOf`` of simple types); what it does not say is any kind."""
    shape = Shape()
    types = schema.get("type")
    if isinstance(types, str):
        types = [types]
    if isinstance(types, list):
        shape.kinds = {_SCHEMA_KINDS.get(str(t), "unknown") for t in types}
    elif "enum" in schema and isinstance(schema["enum"], list):
        shape.kinds = {_kind(v) for v in schema["enum"]}
    elif "const" in schema:
        shape.kinds = {_kind(schema["const"])}
    elif isinstance(schema.get("anyOf") or schema.get("oneOf"), list):
        for part in schema.get("anyOf") or schema.get("oneOf") or []:
            if isinstance(part, Mapping):
                shape.kinds |= from_schema(part).kinds
    elif "properties" in schema:
        shape.kinds = {"object"}
    if not shape.kinds:
        shape.kinds = {"unknown"}
    if "list" in shape.kinds:
        items = schema.get("items")
        shape.items = from_schema(items) if isinstance(items, Mapping) else Shape({"unknown"})
    if "object" in shape.kinds:
        properties = schema.get("properties")
        for key, sub in (properties if isinstance(properties, Mapping) else {}).items():
            shape.keys[str(key)] = from_schema(sub if isinstance(sub, Mapping) else {})
        required = schema.get("required")
        shape.required = {str(k) for k in required} if isinstance(required, list) else set()
        shape.open = schema.get("additionalProperties", True) is not False
    return shape
