"""``model_source(client)``: the source of an attrs model for an existing collection.

From the collection's JSON schema when it has one, otherwise from a sample of its
records (:mod:`kintorm.tools.shapes`). The types are the ones the mapper loads
(see docs/models.md): ``str``, ``int``, ``float`` (ints and floats together),
``bool``; a union of those when a field holds several (``int | str``); ``X | None =
None`` when a field is missing or null in some records; nested objects as nested
attrs classes, lists as ``list[X]``; anything else (mixed containers, only nulls)
as ``typing.Any``. Objects whose keys are not Python names become
``dict[str, typing.Any]``; record fields that are not (or that the mapper keeps for
itself: ``id``, ``last_modified``, ``permissions``, Kinto's ``schema``) are left out,
and the mapper keeps them in ``extra_fields``.
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections.abc import Iterator
from typing import Any

from kintorm.client.sync import Client
from kintorm.orm.model import Record
from kintorm.tools.shapes import Shape, from_records, from_schema

__all__ = ["DEFAULT_SAMPLE", "model_source", "source_from_shape"]

#: records read to infer a model when the collection has no schema
DEFAULT_SAMPLE = 1000
#: record keys never declared: the mapper's own, Kinto's, and Record's attributes
_TAKEN = frozenset({"id", "last_modified", "permissions", "schema", *dir(Record)})
#: primitive kinds in the order a union lists them, and their Python type
_PRIMITIVES = {"bool": "bool", "int": "int", "float": "float", "str": "str"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _is_name(key: str) -> bool:
    return bool(_NAME.match(key)) and not keyword.iskeyword(key)


def _class_name(text: str) -> str:
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text))
    return name if name[:1].isalpha() else f"Model{name}"


class _Writer:
    """Collects the nested classes a model needs, each named once."""

    def __init__(self) -> None:
        self.classes: list[str] = []
        self.names: set[str] = set()

    def unique(self, name: str) -> str:
        candidate, n = name, 2
        while candidate in self.names:
            candidate, n = f"{name}{n}", n + 1
        self.names.add(candidate)
        return candidate

    def annotation(self, shape: Shape | None, name: str) -> str:
        """The type of the values of ``shape`` (None left aside)."""
        kinds = (shape.kinds if shape is not None else {"unknown"}) - {"null"}
        if shape is None or not kinds or "unknown" in kinds:
            return "typing.Any"
        if kinds <= _PRIMITIVES.keys():
            if {"int", "float"} <= kinds:
                kinds = kinds - {"int"}  # the mapper loads an int as a float there
            return " | ".join(t for k, t in _PRIMITIVES.items() if k in kinds)
        if kinds == {"list"}:
            return f"list[{self.optional(shape.items, f'{name}Item')}]"
        if kinds == {"object"}:
            return self.nested(shape, name)
        return "typing.Any"

    def optional(self, shape: Shape | None, name: str) -> str:
        """The annotation, with ``| None`` when the values may be null."""
        annotation = self.annotation(shape, name)
        if shape is not None and "null" in shape.kinds and annotation != "typing.Any":
            return f"{annotation} | None"
        return annotation

    def nested(self, shape: Shape, name: str) -> str:
        """A nested attrs class for an object shape (``dict[str, typing.Any]`` when its
        keys are no Python names, or when nothing says which keys it has)."""
        if not shape.keys or not all(_is_name(k) for k in shape.keys):
            return "dict[str, typing.Any]"
        class_name = self.unique(name)
        body = self.fields(shape, class_name, set())
        self.classes.append(f"@attrs.define\nclass {class_name}:\n{body}")
        return class_name

    def fields(self, shape: Shape, owner: str, taken: set[str] | frozenset[str]) -> str:
        """The field lines of an object shape: required ones first, then the others
        (``= None``), each in the order first seen."""
        required: list[str] = []
        optional: list[str] = []
        for key, sub in shape.keys.items():
            if key in taken or not _is_name(key):
                continue
            child = f"{owner}{_class_name(key)}"
            if shape.is_required(key) and "null" not in sub.kinds:
                required.append(f"    {key}: {self.annotation(sub, child)}")
            else:
                annotation = self.annotation(sub, child)
                if annotation != "typing.Any":
                    annotation += " | None"
                optional.append(f"    {key}: {annotation} = None")
        lines = required + optional
        return "\n".join(lines) + "\n" if lines else "    pass\n"


def source_from_shape(
    shape: Shape, *, bucket: str, collection: str, class_name: str | None = None, origin: str = ""
) -> str:
    """The module source of a model of ``bucket``/``collection`` for a record shape."""
    writer = _Writer()
    name = writer.unique(class_name or _class_name(collection))
    body = writer.fields(shape, name, _TAKEN)
    left_out = sorted(k for k in shape.keys if k in _TAKEN - {"id", "last_modified"})
    left_out += sorted(k for k in shape.keys if not _is_name(k) and k not in _TAKEN)
    notes = f"\n\nLeft to extra_fields: {', '.join(map(repr, left_out))}." if left_out else ""
    header = (
        f'"""The model of {bucket}/{collection}, by kintorm inspect{origin}.{notes}"""\n\n'
        "import typing\n\nimport attrs\n\nfrom kintorm import Record\n"
    )
    classes = "".join(f"\n\n{source}" for source in writer.classes)
    model = f'\n\nclass {name}(Record, bucket="{bucket}", collection="{collection}"):\n{body}'
    return header + classes + model


def _sample(client: Client, size: int) -> Iterator[dict[str, Any]]:
    pages = client.get_paginated_records(_sort="-last_modified", _limit=min(size, 10000))
    return itertools.islice((r for page in pages for r in page), size)


def model_source(
    client: Client, *, sample: int = DEFAULT_SAMPLE, class_name: str | None = None
) -> str:
    """The source of a module defining a ``Record`` model of the client's collection
    (its nested classes first): from the collection's JSON schema when it has one,
    else inferred from up to ``sample`` of its latest records."""
    if client.collection_name is None or client.bucket_name is None:
        raise ValueError("the client names no bucket or collection")
    if sample < 1:
        raise ValueError(f"sample must be >= 1, not {sample}")
    collection = client.get_collection()["data"]
    schema = collection.get("schema")
    if isinstance(schema, dict) and schema:
        shape, origin = from_schema(schema), " from its JSON schema"
    else:
        records = list(_sample(client, sample))
        shape, origin = from_records(records), f" from {len(records)} records"
    return source_from_shape(
        shape,
        bucket=client.bucket_name,
        collection=client.collection_name,
        class_name=class_name,
        origin=origin,
    )
