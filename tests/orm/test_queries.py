"""Query sets against a real Kinto: laziness, paging, counting, get and friends.

Every test taking ``orm`` runs twice: with the sync methods and with their
awaited twins on an AsyncClient (see conftest.py)."""

from __future__ import annotations

import pytest

from kintorm import Client, FieldError

from .conftest import ORM, Counter
from .models import Author, Item, Priority


@pytest.fixture
def items(client: Client) -> list[Item]:
    made = [
        Item(
            title=f"item {i}",
            n=i,
            done=i % 2 == 0,
            tags=["even" if i % 2 == 0 else "odd", f"t{i}"],
            priority=Priority.HIGH if i < 3 else Priority.LOW,
            author=Author(name="al" if i < 6 else "bo"),
            id=f"i{i:02d}",
        )
        for i in range(12)
    ]
    Item.objects.using(client).bulk_create(made)
    return made


def ids(records: object) -> list[str]:
    return [r.id for r in records]  # type: ignore[attr-defined]


def test_lazy_until_evaluated(items: list[Item], http: Counter, orm: ORM) -> None:
    http.reset()
    qs = Item.objects.filter(done=True).exclude(n=4).order_by("n")
    assert http.requests == []
    assert ids(orm(qs)) == ["i00", "i02", "i06", "i08", "i10"]
    assert len(http.requests) == 1
    assert len(qs) == 5 and bool(qs) and qs[0].id == "i00"  # from the cache, in both modes
    assert ids(orm(qs)) == ["i00", "i02", "i06", "i08", "i10"]
    assert orm(qs).count() == 5 and orm(qs).exists() and orm(qs).first().id == "i00"
    assert len(http.requests) == 1  # cached


def test_lookups(items: list[Item], orm: ORM) -> None:
    def q(**kw: object) -> list[str]:
        return sorted(ids(orm(Item.objects.filter(**kw))))

    assert q(n__gt=9) == ["i10", "i11"]
    assert q(n__gte=10) == ["i10", "i11"]
    assert q(n__lt=1) == ["i00"]
    assert q(n__lte=1) == ["i00", "i01"]
    assert len(q(n__ne=1)) == 11
    assert q(id__in=["i01", "i03"]) == ["i01", "i03"]
    assert q(n__in=[1, 3]) == ["i01", "i03"]
    assert q(tags__contains=["odd", "t1"]) == ["i01"]
    assert q(tags__contains_any=["t1", "t2"]) == ["i01", "i02"]
    assert q(title__like="EM 1") == ["i01", "i10", "i11"]  # case-insensitive
    assert q(title__istartswith="item 1") == ["i01", "i10", "i11"]
    assert q(author__name="bo", n__lt=8) == ["i06", "i07"]
    assert q(priority=Priority.HIGH) == ["i00", "i01", "i02"]
    assert q(due__isnull=False) == []
    assert len(q(due__null=True)) == 12  # stored as null
    assert len(q(due__exists=True)) == 12  # present (null counts)
    assert q(meta__x__exists=True) == []
    assert len(q(author__exists=True)) == 12
    assert sorted(ids(orm(Item.objects.exclude(n__in=list(range(10)))))) == ["i10", "i11"]
    excluded = Item.objects.exclude(author__name="al").filter(n__lt=8)
    assert sorted(ids(orm(excluded))) == ["i06", "i07"]


def test_string_that_looks_like_a_number(orm: ORM) -> None:
    orm(Item(title="2", id="s")).save()
    orm(Item(title="x", n=2, id="n")).save()
    assert ids(orm(Item.objects.filter(title="2"))) == ["s"]


def test_order_slicing_and_paging(items: list[Item], http: Counter, orm: ORM) -> None:
    http.reset()
    page = list(orm(Item.objects.order_by("-n"))[:3])
    assert ids(page) == ["i11", "i10", "i09"]
    assert http.requests[0][1].endswith("_sort=-n&_limit=3")
    assert ids(orm(Item.objects.order_by("n"))[2:5]) == ["i02", "i03", "i04"]
    assert orm(Item.objects.order_by("n"))[7:8].first().id == "i07"
    assert orm(Item.objects.order_by("n"))[50:51].first() is None


def test_indexing_and_steps_are_sync(items: list[Item]) -> None:
    assert Item.objects.order_by("n")[7].id == "i07"
    assert ids(Item.objects.order_by("n")[::5]) == ["i00", "i05", "i10"]
    with pytest.raises(IndexError):
        Item.objects.order_by("n")[50]


def test_iterator_streams_pages(items: list[Item], http: Counter, orm: ORM) -> None:
    http.reset()
    found = ids(orm(Item.objects.order_by("n")).iterator(page_size=5))
    assert found == [f"i{i:02d}" for i in range(12)]
    assert http.methods == ["GET", "GET", "GET"]  # 5 + 5 + 2, following Next-Page
    http.reset()
    assert ids(orm(Item.objects.order_by("n")[1:8]).iterator(page_size=3)) == [
        f"i{i:02d}" for i in range(1, 8)
    ]
    assert http.methods == ["GET", "GET", "GET"]  # 3 + 3 + 2 (the slice stops the last)


def test_iteration_follows_next_page(paged: ORM) -> None:
    """``for`` / ``async for`` on a server that pages by 3: every page is fetched."""
    Item.objects.using(paged.raw).bulk_create(
        [Item(title="x", n=i, id=f"p{i:02d}") for i in range(10)]
    )
    http = Counter(paged.client)
    everything = [f"p{i:02d}" for i in range(10)]
    assert ids(paged(Item.objects.order_by("n"))) == everything
    assert http.methods == ["GET"] * 4  # 3 + 3 + 3 + 1, following Next-Page
    assert ids(paged(Item.objects.order_by("n")[2:8])) == everything[2:8]
    assert paged(Item.objects).count() == 10


def test_a_listing_read_whole_asks_for_each_next_page_ahead(paged: ORM) -> None:
    """``list(qs)`` and ``update()``'s listing ask for each page while the one before
    loads; ``iterator()`` and slices, which may stop early, ask for each when wanted."""
    Item.objects.using(paged.raw).bulk_create(
        [Item(title="x", n=i, id=f"p{i:02d}") for i in range(10)]
    )
    http = Counter(paged.client)
    everything = [f"p{i:02d}" for i in range(10)]
    assert ids(paged(Item.objects.order_by("n"))) == everything
    assert http.ahead == [False, True, True, True]  # 3 + 3 + 3 + 1
    http.reset()
    assert ids(paged(Item.objects.order_by("n")).iterator()) == everything
    assert http.ahead == [False] * 4
    http.reset()
    assert ids(paged(Item.objects.order_by("n")[1:8])) == everything[1:8]
    assert http.ahead == [False] * 3
    http.reset()
    paged(Item.objects.all()).update(title="y")
    sent = zip(http.methods, http.ahead, strict=True)
    assert [ahead for method, ahead in sent if method == "GET"] == [False, True, True, True]


def test_a_re_read_that_downloads_asks_ahead_too(paged: ORM) -> None:
    """A re-read (``all()``) of an unchanged collection is one 304; once a write moved
    it, the listing is downloaded again, each next page asked for ahead."""
    Item.objects.using(paged.raw).bulk_create(
        [Item(title="x", n=i, id=f"p{i:02d}") for i in range(9)]
    )
    http = Counter(paged.client)
    qs = Item.objects.order_by("n")
    first = ids(paged(qs))
    http.reset()
    assert ids(paged(qs.all())) == first
    assert http.statuses == [304]
    paged.raw.create_record(data={"title": "x", "n": 9}, id="p09")
    http.reset()
    assert ids(paged(qs.all())) == [*first, "p09"]
    assert http.statuses == [200] * 4 and http.ahead == [False, True, True, True]


def test_count_is_a_head(items: list[Item], http: Counter, orm: ORM) -> None:
    http.reset()
    assert orm(Item.objects.filter(done=True)).count() == 6
    assert http.methods == ["HEAD"]
    assert orm(Item.objects).count() == 12
    assert orm(Item.objects.all()[:5]).count() == 5
    assert orm(Item.objects.all()[10:20]).count() == 2


def test_exists_first_get(items: list[Item], orm: ORM) -> None:
    assert orm(Item.objects.filter(n=3)).exists()
    assert not orm(Item.objects.filter(n=300)).exists()
    first = orm(Item.objects.order_by("n")).first()
    assert first is not None and first.id == "i00"
    assert orm(Item.objects.filter(n=300)).first() is None
    assert orm(Item.objects).get(n=4).id == "i04"
    with pytest.raises(Item.DoesNotExist):
        orm(Item.objects).get(n=300)
    with pytest.raises(Item.MultipleObjectsReturned):
        orm(Item.objects).get(done=True)
    with pytest.raises(Item.DoesNotExist):
        orm(Item.objects).get(id="nope")


def test_only_values_values_list(items: list[Item], orm: ORM) -> None:
    qs = orm(Item.objects.filter(n__lt=3).order_by("n"))
    assert qs.values("title") == [{"title": f"item {i}"} for i in range(3)]
    assert qs.values_list("n", flat=True) == [0, 1, 2]
    assert qs.values_list("id", "priority") == [
        ("i00", Priority.HIGH),
        ("i01", Priority.HIGH),
        ("i02", Priority.HIGH),
    ]
    full = qs.values()[0]
    assert full["title"] == "item 0" and full["id"] == "i00"
    with pytest.raises(FieldError):
        qs.values("nope")


def test_create_get_or_create_update_or_create(orm: ORM) -> None:
    objects = orm(Item.objects)
    made = objects.create(title="new", id="c1")
    assert made.last_modified
    got, created = objects.get_or_create(id="c1", defaults={"title": "x"})
    assert not created and got.title == "new"
    got, created = objects.get_or_create(title="fresh", defaults={"n": 7})
    assert created and got.n == 7 and got.title == "fresh"
    updated, created = objects.update_or_create(title="fresh", defaults={"n": 8})
    assert not created and updated.n == 8
    assert objects.get(title="fresh").n == 8
    _, created = objects.update_or_create(title="other", defaults={"n": 1})
    assert created


def test_in_bulk(items: list[Item], orm: ORM) -> None:
    found = orm(Item.objects).in_bulk(["i01", "i05", "missing"])
    assert sorted(found) == ["i01", "i05"]
    assert found["i05"].n == 5


def test_in_bulk_chunks_ids(client: Client, orm: ORM, http: Counter) -> None:
    Item.objects.using(client).bulk_create([Item(title="x", id=f"b{i:03d}") for i in range(250)])
    http.reset()
    found = orm(Item.objects).in_bulk([f"b{i:03d}" for i in range(250)] + ["missing"])
    assert len(found) == 250
    assert http.methods == ["GET"] * 3  # 100 ids per in_id filter


def test_using_other_client(items: list[Item], orm: ORM) -> None:
    other = orm.client.clone(bucket=orm.client.bucket_name)
    assert orm(Item.objects.using(other)).count() == 12
    assert orm(Item.objects).using(other).count() == 12
    Item.bind(other)
    try:
        assert orm(Item.objects).count() == 12
    finally:
        Item.bind(None)


def test_changes_include_deletions(items: list[Item], orm: ORM) -> None:
    since = max(i.last_modified or 0 for i in items)
    first, second = orm(Item.objects).get(id="i00"), orm(Item.objects).get(id="i01")
    first.title = "changed"
    orm(first).save()
    orm(second).delete()
    changes = list(orm(Item.objects).changes(since=since))
    assert [(c.id, c.deleted) for c in changes] == [("i00", False), ("i01", True)]
    assert changes[0].record is not None and changes[0].record.title == "changed"
    assert changes[1].record is None
    assert len(list(orm(Item.objects).changes())) == 12  # 11 records and one tombstone
    # since() on a normal query skips tombstones
    assert ids(orm(Item.objects.since(since))) == ["i00"]
    assert orm(Item.objects.since(since)).exists()
