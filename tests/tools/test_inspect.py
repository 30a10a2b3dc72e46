"""model_source() / ``kintorm inspect`` on real collections: the printed source
imports, and the model loads every sampled record with the records' values."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import tempfile
import types
import uuid
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kintorm import Client, Record
from kintorm.orm import converter
from kintorm.tools.inspection import model_source

#: field names, a few of them not declarable (a taken name, not a Python name)
KEYS = ("title", "n", "score", "done", "tags", "meta", "mixed", "save", "my-key")
_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
)
_ints = st.integers(-(2**31), 2**31)
# within 2**31: a float field holds integers exactly up to 2**53 only
_floats = st.floats(-(2**31), 2**31, allow_nan=False, width=32)
_scalars = st.one_of(st.none(), st.booleans(), _ints, _floats, _text)
#: per field, the kind of values a collection holds there
_KINDS: dict[str, st.SearchStrategy[Any]] = {
    "str": _text,
    "int": _ints,
    "float": st.one_of(_ints, _floats),
    "bool": st.booleans(),
    "nullable": st.one_of(st.none(), _text),
    "union": st.one_of(_ints, _text),
    "list": st.lists(_ints, max_size=3),
    "list_of_objects": st.lists(
        st.fixed_dictionaries({"k": _text}, optional={"v": _ints}), max_size=2
    ),
    "object": st.fixed_dictionaries({"a": _ints}, optional={"b": st.one_of(st.none(), _text)}),
    "odd_keys": st.dictionaries(st.sampled_from(["x-y", "1z", "ok"]), _ints, max_size=2),
    "anything": st.recursive(_scalars, lambda inner: st.lists(inner, max_size=2), max_leaves=4),
}


@st.composite
def collections(draw: Any) -> list[dict[str, Any]]:
    """A few records whose fields each hold one kind of value, some fields missing."""
    kinds = {key: draw(st.sampled_from(sorted(_KINDS))) for key in KEYS}
    size = draw(st.integers(1, 6))
    records = []
    for n in range(size):
        present = draw(st.lists(st.sampled_from(KEYS), unique=True))
        records.append({"id": f"r{n}", **{k: draw(_KINDS[kinds[k]]) for k in present}})
    return records


def _normal(value: Any) -> Any:
    """Missing and null are one (``X | None = None``)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _import(source: str) -> types.ModuleType:
    """The printed source, imported as a module of its own file."""
    name = f"inspected_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def _check_loads(source: str, client: Client, records: list[dict[str, Any]]) -> None:
    module = _import(source)
    model = next(
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Record) and v.__module__ == module.__name__
    )
    loaded = {obj.id: obj for obj in model.objects.using(client)}
    assert set(loaded) == {r["id"] for r in records}
    declared = [
        f.name for f in attrs.fields(model) if f.name not in ("id", "last_modified", "permissions")
    ]
    for record in records:
        obj = loaded[record["id"]]
        for name in declared:
            assert _normal(converter.unstructure(getattr(obj, name))) == _normal(
                record.get(name)
            ), name


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=collections())
def test_the_inferred_model_loads_every_sampled_record(
    kinto_client: Client, records: list[dict[str, Any]]
) -> None:
    client = kinto_client.clone(collection=f"c{uuid.uuid4().hex[:8]}")
    client.create_collection()
    with client.batch() as batch:
        for record in records:
            batch.create_record(data=record)
    source = model_source(client)
    assert "class " in source and f'collection="{client.collection_name}"' in source
    _check_loads(source, client, client.get_records())  # as stored
    client.delete_collection()


def test_the_source_names_fields_types_and_nested_classes(kinto_client: Client) -> None:
    client = kinto_client.clone(collection="todos")
    client.create_collection()
    client.create_record(
        data={"title": "a", "n": 1, "tags": ["x"], "author": {"name": "Ada"}, "note": None}
    )
    client.create_record(
        data={"title": "b", "n": 2.5, "tags": [], "author": {"name": "Bo", "age": 3}}
    )
    source = model_source(client)
    assert 'class Todos(Record, bucket="' in source
    assert "    title: str\n" in source
    assert "    n: float\n" in source
    assert "    tags: list[str]\n" in source
    assert "    author: TodosAuthor\n" in source
    assert "    note: typing.Any = None\n" in source  # only nulls seen
    assert (
        "@attrs.define\nclass TodosAuthor:\n    name: str\n    age: int | None = None\n" in source
    )
    _check_loads(source, client, [r for r in client.get_records()])


def test_a_collection_with_a_schema_gives_the_schemas_model(kinto_client: Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "count": {"type": "integer"},
            "ratio": {"type": ["number", "null"]},
            "kind": {"enum": ["a", "b"]},
            "labels": {"type": "array", "items": {"type": "string"}},
            "place": {
                "type": "object",
                "properties": {"lat": {"type": "number"}},
                "required": ["lat"],
            },
        },
        "required": ["title", "count"],
    }
    client = kinto_client.clone(collection="typed")
    client.create_collection(data={"schema": schema})
    client.create_record(data={"title": "t", "count": 1, "kind": "a", "place": {"lat": 1.5}})
    client.create_record(data={"title": "u", "count": 2, "ratio": None, "labels": ["z"]})
    source = model_source(client)
    assert "from its JSON schema" in source
    for line in (
        "    title: str\n",
        "    count: int\n",
        "    ratio: float | None = None\n",
        "    kind: str | None = None\n",
        "    labels: list[str] | None = None\n",
        "    place: TypedPlace | None = None\n",
        "class TypedPlace:\n    lat: float\n",
    ):
        assert line in source
    _check_loads(source, client, [r for r in client.get_records()])
