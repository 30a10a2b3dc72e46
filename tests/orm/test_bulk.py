"""bulk_create, QuerySet.update and QuerySet.delete: batch, chunks, per-item outcomes.

Every test taking ``orm`` runs twice: with the sync methods and with their
awaited twins on an AsyncClient (see conftest.py), whose chunks go concurrently."""

from __future__ import annotations

import pytest

from kintorm import BulkError, Client, ConflictError, ValidationError

from .conftest import ORM, Counter
from .models import Item


def test_bulk_create_chunks_through_batch(http: Counter, orm: ORM) -> None:
    http.reset()
    result = orm(Item.objects).bulk_create([Item(title=f"b{i}", n=i) for i in range(30)])
    assert len(result.succeeded) == 30 and not result.failed
    assert all(o.instance and o.instance.last_modified for o in result)
    batches = [r for r in http.requests if r[0] == "POST"]
    assert len(batches) == 2  # batch_max_requests is 25
    assert orm(Item.objects).count() == 30
    saved = result.instances[0]
    assert not saved.is_dirty
    assert [o.id for o in result] == [f"{o.instance.id}" for o in result]  # in order


def test_bulk_create_reports_failures(client: Client, orm: ORM) -> None:
    Item.objects.using(client).create(title="x", id="taken")
    objs = [Item(title="a", id="free1"), Item(title="b", id="taken"), Item(title="c", id="free2")]
    with pytest.raises(BulkError, match="taken") as caught:
        orm(Item.objects).bulk_create(objs)
    result = caught.value.result
    assert [o.ok for o in result] == [True, False, True]
    assert isinstance(result.failed[0].error, ConflictError)
    assert sorted(result.ids) == ["free1", "free2"]
    assert orm(Item.objects).count() == 3
    quiet = orm(Item.objects).bulk_create([Item(title="d", id="taken")], raise_on_error=False)
    assert quiet.failed[0].status == 412


def test_bulk_create_failure_in_a_later_chunk(client: Client, orm: ORM) -> None:
    """A failure in the third chunk is reported on its own item, not shifted."""
    Item.objects.using(client).create(title="x", id="late")
    objs = [Item(title=f"b{i}", id=f"b{i:02d}") for i in range(60)]
    objs[55] = Item(title="b55", id="late")
    result = orm(Item.objects).bulk_create(objs, raise_on_error=False)
    assert [o.id for o in result.failed] == ["late"]
    assert result.outcomes[55].status == 412 and len(result.succeeded) == 59


def test_bulk_create_validates_before_sending(http: Counter, orm: ORM) -> None:
    http.reset()
    with pytest.raises(ValidationError):
        orm(Item.objects).bulk_create([Item(title="ok"), Item(title=3)])  # type: ignore[arg-type]
    assert http.requests == []


def test_update(client: Client, http: Counter, orm: ORM) -> None:
    Item.objects.using(client).bulk_create([Item(title=f"u{i}", n=i, id=f"u{i}") for i in range(5)])
    http.reset()
    result = orm(Item.objects.filter(n__gte=3)).update(done=True, tags=["late"])
    assert sorted(result.ids) == ["u3", "u4"]
    assert http.methods == ["GET", "POST"]
    assert sorted(orm(Item.objects.filter(done=True)).values_list("id", flat=True)) == ["u3", "u4"]
    assert orm(Item.objects).get(id="u4").tags == ["late"]
    with pytest.raises(ValidationError):
        orm(Item.objects).update(n="three")


def test_update_many_chunks(client: Client, http: Counter, orm: ORM) -> None:
    Item.objects.using(client).bulk_create([Item(title=f"u{i}", n=i) for i in range(60)])
    http.reset()
    result = orm(Item.objects.filter(n__lt=55)).update(done=True)
    assert len(result.succeeded) == 55
    # three chunks, plus re-sends of what Kinto rolled back after a 409 (PostgreSQL)
    assert http.methods[0] == "GET" and http.methods.count("POST") >= 3
    assert set(http.methods[1:]) == {"POST"}
    assert orm(Item.objects.filter(done=True)).count() == 55


def test_delete_is_one_filtered_delete(client: Client, http: Counter, orm: ORM) -> None:
    Item.objects.using(client).bulk_create([Item(title=f"d{i}", n=i, id=f"d{i}") for i in range(6)])
    http.reset()
    result = orm(Item.objects.filter(n__lt=4)).delete()
    assert http.methods == ["DELETE"]
    assert sorted(result.ids) == ["d0", "d1", "d2", "d3"]
    assert sorted(orm(Item.objects).values_list("id", flat=True)) == ["d4", "d5"]
    with pytest.raises(TypeError):
        orm(Item.objects.all()[:2]).delete()


def test_both_forms_take_concurrency(http: Counter, orm: ORM) -> None:
    """update() and bulk_create() take ``concurrency`` as their awaited twins do (a
    Client sends the chunks in turn); a value below 1 is refused on both."""
    created = orm(Item.objects).bulk_create(
        [Item(title=f"k{i}", n=i) for i in range(30)], concurrency=1
    )
    assert len(created.succeeded) == 30
    http.reset()
    updated = orm(Item.objects.filter(n__lt=30)).update(done=True, concurrency=2)
    assert len(updated.succeeded) == 30 and http.methods.count("POST") >= 2
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        orm(Item.objects).bulk_create([Item(title="z")], concurrency=0)
    assert orm(Item.objects).count() == 30
