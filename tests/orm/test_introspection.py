"""What a user sees of a record without a server: help(), ``pk``, deferred fields,
and the repr of a bulk result."""

from __future__ import annotations

import pydoc

import pytest

from kintorm import BulkResult, DeferredFieldError, FieldError, KintoException, Record
from kintorm.orm.bulk import Outcome

from ._codec import from_wire, load_reference
from .models import Item


def test_help_of_record_documents_models() -> None:
    text = pydoc.render_doc(Record, renderer=pydoc.plaintext)
    for words in ("class Todo(Record, bucket=", "save()", "only()", "DeferredFieldError", "pk"):
        assert words in text, words
    assert "see the module docstring" not in text


def test_pk_is_the_id_once_there_is_one() -> None:
    item = from_wire(Item, {"id": "i1", "last_modified": 3, "title": "t"})
    assert item.pk == "i1"
    with pytest.raises(ValueError, match=r"this Item has no id yet: save\(\) it first"):
        Item(title="new").pk  # noqa: B018


@pytest.mark.parametrize("load", [from_wire, load_reference], ids=["loader", "reference"])
def test_a_deferred_field_raises_when_read(load: object) -> None:
    part = load(Item, {"id": "i1", "last_modified": 3, "tags": ["a"]}, partial=True)  # type: ignore[operator]
    assert part.tags == ["a"]
    with pytest.raises(DeferredFieldError) as info:
        part.title  # noqa: B018
    assert str(info.value) == (
        "Item.title was not loaded: the query's only() left it out; add 'title' to "
        "only(...) or call refresh() to load it"
    )
    assert isinstance(info.value, FieldError) and isinstance(info.value, AttributeError)
    assert getattr(part, "done", "unset") == "unset" and not hasattr(part, "title")
    assert repr(part).startswith("Item(id='i1', last_modified=3, permissions={}, title=<deferred>")
    part.title = "given"  # assigning makes it a normal field again
    assert part.title == "given" and part.changed_fields == {"title"}
    with pytest.raises(AttributeError, match="'Item' object has no attribute 'titel'"):
        part.titel  # type: ignore[attr-defined]  # noqa: B018


def test_bulk_result_repr_is_a_summary() -> None:
    ok = [Outcome(id=f"r{n}", ok=True, instance=Item(title="x" * 200)) for n in range(40)]
    failed = [
        Outcome(id=f"bad{n}", ok=False, error=KintoException(f"failure number {n}"))
        for n in range(5)
    ]
    text = repr(BulkResult(outcomes=(*ok, *failed)))
    assert text.startswith("<BulkResult 45 items: 40 ok, 5 failed; ")
    assert "bad0: failure number 0" in text and "bad2: failure number 2" in text
    assert "bad3" not in text and "... and 2 more failures>" in text
    assert "x" * 50 not in text and len(text) < 400
    assert repr(BulkResult(outcomes=tuple(ok[:2]))) == "<BulkResult 2 items: 2 ok, 0 failed>"
