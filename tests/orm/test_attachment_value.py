"""``Attachment``: the record's ``attachment`` object as a plain attrs value. No server."""

from __future__ import annotations

import json
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kintorm import Attachment, Record, ValidationError
from kintorm.orm import converter as kintorm_converter
from kintorm.orm.attachments.value import ATTACHMENT_SCHEMA

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
NAMED = {"location", "hash", "size", "filename", "mimetype"}

stored_objects = st.fixed_dictionaries(
    {
        "location": st.text(max_size=20),
        "hash": st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
        "size": st.integers(min_value=0),
        "filename": st.text(max_size=20),
        "mimetype": st.none() | st.text(max_size=10),
    }
).flatmap(
    lambda known: st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in NAMED), json_values, max_size=3
    ).map(lambda extra: {**extra, **known})
)


@given(stored_objects)
def test_the_stored_object_round_trips(stored: dict[str, Any]) -> None:
    attachment = Attachment.from_wire(stored)
    assert attachment.to_wire() == stored
    assert dict(attachment.extra) == {k: v for k, v in stored.items() if k not in NAMED}


@given(stored_objects)
def test_other_serialisers_handle_it(stored: dict[str, Any]) -> None:
    attachment = Attachment.from_wire(stored)
    plain = attrs.asdict(attachment)
    assert json.loads(json.dumps(plain)) == plain
    converter = cattrs.Converter()
    assert converter.structure(converter.unstructure(attachment), Attachment) == attachment
    assert attrs.evolve(attachment, size=attachment.size + 1) != attachment
    hash(attachment)  # frozen: usable as a key (extra is left out of the hash)
    # kintorm's converter gives the stored object (the extra keys inline), both ways
    assert kintorm_converter.unstructure(attachment) == stored
    assert kintorm_converter.structure(stored, Attachment) == attachment


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ("a string", "expected an object, got str"),
        ({"hash": "h", "size": 1, "filename": "f"}, "'location' is missing"),
        ({"location": "l", "hash": "h", "size": True, "filename": "f"}, "'size' is bool"),
        ({"location": "l", "hash": "h", "size": "1", "filename": "f"}, "'size' is str"),
        ({"location": 1, "hash": "h", "size": 1, "filename": "f"}, "'location' is int"),
        ({"location": "l", "hash": "h", "size": 1, "filename": "f", "mimetype": 3}, "'mimetype'"),
    ],
)
def test_what_is_not_an_attachment(stored: Any, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        Attachment.from_wire(stored, where="Todo.photo")
    assert caught.value.field == "Todo.photo"


def test_the_schema_accepts_what_the_plugin_stores() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema comes with Kinto")
    validator = jsonschema.Draft7Validator(ATTACHMENT_SCHEMA)
    stored = {"location": "l", "hash": "h", "size": 3, "filename": "f", "mimetype": "text/plain"}
    assert validator.is_valid(stored) and validator.is_valid(None)
    assert validator.is_valid({**stored, "original": {"size": 9}})
    assert not validator.is_valid({**stored, "size": -1})
    assert not validator.is_valid({k: v for k, v in stored.items() if k != "hash"})


def test_the_model_class_shows_the_field() -> None:
    class Todo(Record, collection="items"):
        title: str
        photo: Attachment | None = None

    assert "the record's 'attachment' key" in repr(Todo.photo)
    assert [f.name for f in attrs.fields(Todo)][-2:] == ["title", "photo"]
    assert repr(Todo(title="a")).endswith("title='a', photo=None)")
