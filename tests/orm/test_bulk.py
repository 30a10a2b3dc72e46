"""bulk_create, QuerySet.update and QuerySet.delete: batch, chunks, per-item outcomes."""

from __future__ import annotations

import pytest

from kintorm import BulkError, Client, ConflictError, ValidationError

from .conftest import Counter
from .models import Item


def test_bulk_create_chunks_through_batch(client: Client, http: Counter) -> None:
    http.reset()
    result = Item.objects.bulk_create([Item(title=f"b{i}", n=i) for i in range(30)])
    assert len(result.succeeded) == 30 and not result.failed
    assert all(o.instance and o.instance.last_modified for o in result)
    batches = [r for r in http.requests if r[0] == "POST"]
    assert len(batches) == 2  # batch_max_requests is 25
    assert Item.objects.count() == 30
    saved = result.instances[0]
    assert not saved.is_dirty


def test_bulk_create_reports_failures(client: Client) -> None:
    Item(title="x", id="taken").save()
    objs = [Item(title="a", id="free1"), Item(title="b", id="taken"), Item(title="c", id="free2")]
    with pytest.raises(BulkError, match="taken") as caught:
        Item.objects.bulk_create(objs)
    result = caught.value.result
    assert [o.ok for o in result] == [True, False, True]
    assert isinstance(result.failed[0].error, ConflictError)
    assert sorted(result.ids) == ["free1", "free2"]
    assert Item.objects.count() == 3
    quiet = Item.objects.bulk_create([Item(title="d", id="taken")], raise_on_error=False)
    assert quiet.failed[0].status == 412


def test_bulk_create_validates_before_sending(client: Client, http: Counter) -> None:
    http.reset()
    with pytest.raises(ValidationError):
        Item.objects.bulk_create([Item(title="ok"), Item(title=3)])  # type: ignore[arg-type]
    assert http.requests == []


def test_update(client: Client, http: Counter) -> None:
    Item.objects.bulk_create([Item(title=f"u{i}", n=i, id=f"u{i}") for i in range(5)])
    http.reset()
    result = Item.objects.filter(n__gte=3).update(done=True, tags=["late"])
    assert sorted(result.ids) == ["u3", "u4"]
    assert http.methods == ["GET", "POST"]
    assert sorted(Item.objects.filter(done=True).values_list("id", flat=True)) == ["u3", "u4"]
    assert Item.objects.get(id="u4").tags == ["late"]
    with pytest.raises(ValidationError):
        Item.objects.update(n="three")


def test_delete_is_one_filtered_delete(client: Client, http: Counter) -> None:
    Item.objects.bulk_create([Item(title=f"d{i}", n=i, id=f"d{i}") for i in range(6)])
    http.reset()
    result = Item.objects.filter(n__lt=4).delete()
    assert http.methods == ["DELETE"]
    assert sorted(result.ids) == ["d0", "d1", "d2", "d3"]
    assert sorted(Item.objects.values_list("id", flat=True)) == ["d4", "d5"]
    with pytest.raises(TypeError):
        Item.objects.all()[:2].delete()
