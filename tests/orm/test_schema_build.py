"""``Model.json_schema()`` without a server: types, defaults, validators, metadata,
the opt-outs, and a property: every instance a model accepts, dumped by its codec,
validates against its schema (as Kinto validates it, with jsonschema's draft 7)."""

from __future__ import annotations

import datetime
import enum
import typing
from typing import Any, ClassVar, Literal

import attrs
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kintorm import Record
from kintorm.orm.codec.core import codec_for
from kintorm.orm.schema import SchemaError

from .models import Author, Item


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.define
class Closed:
    json_schema_extra: ClassVar[dict[str, Any]] = {"additionalProperties": False}
    x: int


@attrs.define
class Node:
    children: list[Node] = attrs.field(factory=list)


class Every(Record, collection="every"):
    name: str = attrs.field(
        validator=[attrs.validators.min_len(1), attrs.validators.max_len(20)],
        metadata={"json_schema": {"title": "Name"}, "ui_schema": {"ui:autofocus": True}},
    )
    score: int = attrs.field(
        default=0, validator=[attrs.validators.ge(0), attrs.validators.lt(100)]
    )
    ratio: float | None = None
    code: str = attrs.field(default="A1", validator=attrs.validators.matches_re(r"[A-Z]\d"))
    size: str = attrs.field(default="s", validator=attrs.validators.in_(["s", "m", "l"]))
    kind: Literal["a", "b"] = "a"
    color: Color | None = None
    when: datetime.datetime | None = None
    day: datetime.date | None = None
    tags: list[str] = attrs.field(factory=list, validator=attrs.validators.max_len(3))
    counts: dict[str, int] = attrs.field(factory=dict)
    pair: tuple[int, str] | None = None
    closed: Closed | None = None
    either: int | str = 0
    few: list[int] | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.max_len(2))
    )
    labels: set[str] = attrs.field(factory=set)


def _validate(schema: dict[str, Any], data: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(data)


def test_the_schema_of_every_kind_of_field() -> None:
    schema = Every.json_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    props = schema["properties"]
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["title"] == "Every"
    assert schema["required"] == ["name"]  # the only field without a default
    assert schema["additionalProperties"] is True
    assert not {"id", "last_modified", "permissions"} & set(props)  # left to Kinto
    assert props["name"] == {"type": "string", "minLength": 1, "maxLength": 20, "title": "Name"}
    score = {"type": "integer", "minimum": 0, "exclusiveMaximum": 100, "default": 0}
    assert props["score"] == score
    assert props["ratio"] == {"type": ["number", "null"], "default": None}
    assert props["code"]["pattern"] == r"^(?:[A-Z]\d)$"
    assert props["size"]["enum"] == ["s", "m", "l"]
    assert props["kind"] == {"enum": ["a", "b"], "default": "a"}
    assert props["color"] == {"enum": ["red", "blue", None], "default": None}
    assert props["when"]["anyOf"][0] == {"type": "string", "format": "date-time"}
    assert props["day"]["anyOf"][0] == {"type": "string", "format": "date"}
    assert props["tags"] == {
        "type": "array",
        "items": {"type": "string"},
        "maxItems": 3,
        "default": [],
    }
    assert props["counts"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "default": {},
    }
    assert props["pair"]["anyOf"][0]["items"] == [{"type": "integer"}, {"type": "string"}]
    closed = props["closed"]["anyOf"][0]
    assert closed["additionalProperties"] is False and closed["required"] == ["x"]
    assert props["either"] == {"type": ["integer", "string"], "default": 0}
    assert props["labels"] == {
        "type": "array",
        "items": {"type": "string"},
        "uniqueItems": True,
        "default": [],
    }
    assert props["few"]["anyOf"] == [
        {"type": "array", "items": {"type": "integer"}, "maxItems": 2},
        {"type": "null"},
    ]


def test_nested_attrs_classes_allow_unknown_keys_and_name_required_fields() -> None:
    author = Item.json_schema()["properties"]["author"]["anyOf"][0]
    assert author["properties"]["name"] == {"type": "string"}
    assert author["required"] == ["name"]
    assert author["additionalProperties"] is True


def test_a_model_may_refuse_undeclared_keys() -> None:
    class Strict(Record, collection="strict"):
        json_schema_extra: ClassVar[dict[str, Any]] = {
            "additionalProperties": False,
            "description": "no strangers",
        }
        title: str

    schema = Strict.json_schema()
    assert schema["additionalProperties"] is False
    assert schema["description"] == "no strangers"
    _validate(schema, {"title": "x"})
    with pytest.raises(jsonschema.ValidationError):
        _validate(schema, {"title": "x", "other": 1})


def test_a_type_without_schema_names_the_field_and_metadata_opts_out() -> None:
    class Odd(Record, collection="odd"):
        blob: bytes = b""

    with pytest.raises(SchemaError, match=r"Odd\.blob: .*bytes.*metadata") as caught:
        Odd.json_schema()
    assert isinstance(caught.value, TypeError)

    class Escaped(Record, collection="odd"):
        blob: bytes = attrs.field(default=b"", metadata={"json_schema": {}})

    assert Escaped.json_schema()["properties"]["blob"] == {}


def test_a_recursive_class_is_refused_by_name() -> None:
    class Tree(Record, collection="tree"):
        root: Node | None = None

    with pytest.raises(SchemaError, match="Node contains itself"):
        Tree.json_schema()


def test_a_default_that_is_not_json_is_left_out() -> None:
    class Naive(Record, collection="naive"):
        at: datetime.datetime = datetime.datetime(2026, 1, 1)  # naive: not sendable

    assert "default" not in Naive.json_schema()["properties"]["at"]


# --- the property ------------------------------------------------------------------

_names = st.text("abcdefgh", min_size=1, max_size=8)
_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=5)
_values: st.SearchStrategy[Any] = (
    _scalars
    | st.lists(_scalars, max_size=3)
    | st.dictionaries(_names, st.lists(_scalars, max_size=2) | _scalars, max_size=3)
)
_FIELD_TYPES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (str, st.text(max_size=10)),
    (int, st.integers(-(2**53), 2**53)),
    (float, st.floats(allow_nan=False, allow_infinity=False) | st.integers(-100, 100)),
    (bool, st.booleans()),
    (str | None, st.none() | st.text(max_size=5)),
    (int | str, st.integers(0, 9) | st.text(max_size=3)),
    (list[int], st.lists(st.integers(-9, 9), max_size=4)),
    (set[str], st.sets(st.text(max_size=3), max_size=4)),
    (frozenset[int] | None, st.none() | st.frozensets(st.integers(-9, 9), max_size=4)),
    (dict[str, str], st.dictionaries(_names, st.text(max_size=3), max_size=3)),
    (Color, st.sampled_from(Color)),
    (Literal["x", "y"], st.sampled_from(["x", "y"])),
    (datetime.date, st.dates()),
    (
        datetime.datetime,
        st.datetimes(timezones=st.just(datetime.UTC)),
    ),
    (Author | None, st.none() | st.builds(Author, name=st.text(max_size=4))),
    (dict[str, object], st.dictionaries(_names, _values, max_size=3)),
]


@st.composite
def _model_and_instance(draw: st.DrawFn) -> tuple[type[Record], Record]:
    picks = draw(st.lists(st.sampled_from(range(len(_FIELD_TYPES))), min_size=1, max_size=5))
    namespace: dict[str, Any] = {"__annotations__": {}}
    values = {}
    for i, pick in enumerate(picks):
        type_, strategy = _FIELD_TYPES[pick]
        namespace["__annotations__"][f"f{i}"] = type_
        values[f"f{i}"] = draw(strategy)
    model = typing.cast(
        type[Record], type("Generated", (Record,), namespace, collection="generated")
    )
    return model, model(**values)


@settings(max_examples=60, deadline=None)
@given(_model_and_instance())
def test_every_instance_a_model_accepts_validates_against_its_schema(
    made: tuple[type[Record], Record],
) -> None:
    model, instance = made
    document = codec_for(model).dump(instance)
    _validate(model.json_schema(), document["data"])
