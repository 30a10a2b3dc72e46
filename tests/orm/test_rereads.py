"""Cheap re-reads against a real Kinto: a query evaluated again while its collection
is unchanged costs one ``GET`` answered ``304 Not Modified``, counted on the wire.

Fresh query sets share listings through the client's ``listing_cache``; a query set's
``all()`` copies revalidate what it read without one. Re-reads give new instances
equal to the server's state, never the objects the app changed. Every test runs
sync and async (``orm``, or ``paged``: a server paging every listing by 3).
"""

from __future__ import annotations

import pytest

from kintorm import DeferredFieldError, ListingCache

from .conftest import ORM, Counter
from .models import Item


@pytest.fixture
def items(orm: ORM) -> list[Item]:
    made = [Item(title=f"item {i}", n=i, tags=["t"], id=f"i{i:02d}") for i in range(10)]
    Item.objects.using(orm.raw).bulk_create(made)
    return made


@pytest.fixture
def cached(orm: ORM) -> ListingCache:
    orm.client.listing_cache = ListingCache()
    return orm.client.listing_cache


def statuses(http: Counter) -> list[tuple[str, int, str | None]]:
    """(method, status, If-None-Match) of each request since the last reset."""
    found = [
        (method, status, headers.get("If-None-Match"))
        for (method, _, headers), status in zip(http.requests, http.statuses, strict=True)
    ]
    http.reset()
    return found


def test_a_fresh_query_set_re_reads_with_a_304(
    items: list[Item], cached: ListingCache, orm: ORM, http: Counter
) -> None:
    etag = orm.raw.get_records_timestamp()  # (its HEAD is not counted)
    http.reset()
    first = orm(Item.objects.order_by("n")).list()
    assert statuses(http) == [("GET", 200, None)]
    first[0].title = "changed by the app, not saved"
    first[1].tags.append("also not saved")

    again = orm(Item.objects.order_by("n")).list()
    assert statuses(http) == [("GET", 304, f'"{etag}"')]
    assert [r.id for r in again] == [f"i{i:02d}" for i in range(10)]
    assert not any(a is b for a, b in zip(again, first, strict=True))
    assert (again[0].title, again[1].tags) == ("item 0", ["t"])  # the server's state
    assert not any(r.is_dirty for r in again)
    assert (cached.hits, cached.misses) == (1, 1)

    again[2].n = 20  # instances of a re-read save as any other
    orm(again[2]).save()
    assert orm.raw.get_record(id="i02")["data"]["n"] == 20


def test_a_write_makes_the_next_read_a_download(
    items: list[Item], cached: ListingCache, orm: ORM, http: Counter
) -> None:
    orm(Item.objects.filter(n__gte=5)).list()
    orm.raw.patch_record(id="i07", data={"title": "elsewhere"})  # another writer
    http.reset()
    found = orm(Item.objects.filter(n__gte=5)).list()
    assert [status for _, status, _ in statuses(http)] == [200]
    assert "elsewhere" in {r.title for r in found}
    orm.raw.delete_record(id="i08")  # a deletion moves the collection's timestamp too
    http.reset()
    assert len(orm(Item.objects.filter(n__gte=5)).list()) == 4
    assert len(orm(Item.objects.filter(n__gte=5)).list()) == 4
    assert [status for _, status, _ in statuses(http)] == [200, 304]


def test_all_re_evaluates_with_a_304_without_a_client_cache(
    items: list[Item], orm: ORM, http: Counter
) -> None:
    assert orm.client.listing_cache is None
    http.reset()
    qs = Item.objects.filter(tags__contains="t")
    assert len(orm(qs).list()) == 10
    assert len(orm(qs).list()) == 10  # the query set's own instances: no request
    assert len(orm(qs.all()).list()) == 10
    assert len(orm(qs.all().all()).list()) == 10
    assert len(orm(Item.objects.filter(tags__contains="t")).list()) == 10  # shares nothing
    assert [status for _, status, _ in statuses(http)] == [200, 304, 304, 200]


def test_every_page_comes_back_from_one_304(paged: ORM) -> None:
    Item.objects.using(paged.raw).bulk_create([Item(title=str(i), n=i) for i in range(10)])
    paged.client.listing_cache = ListingCache()
    http = Counter(paged.client)
    first = paged(Item.objects.order_by("n")).list()
    assert [status for _, status, _ in statuses(http)] == [200] * 4  # pages of 3
    etag = paged.raw.get_records_timestamp()
    http.reset()
    again = paged(Item.objects.order_by("n")).list()
    assert statuses(http) == [("GET", 304, f'"{etag}"')]
    assert [r.n for r in again] == [r.n for r in first] == list(range(10))
    assert [r.n for r in paged(Item.objects.order_by("n")[4:8]).list()] == [4, 5, 6, 7]
    assert [r.n for r in paged(Item.objects.order_by("n")[4:8]).list()] == [4, 5, 6, 7]
    assert [status for _, status, _ in statuses(http)] == [200, 200, 200, 304]


def test_only_slices_and_unions_are_revalidated_each(
    items: list[Item], cached: ListingCache, orm: ORM, http: Counter
) -> None:
    orm.raw.patch_record(id="i03", data={"due": None})  # null; the others: missing
    queries = {
        "only": lambda: Item.objects.only("n").order_by("n"),
        "slice": lambda: Item.objects.order_by("n")[2:5],
        "union": lambda: Item.objects.filter(due__isnull=True),  # two Kinto queries
        "first": lambda: Item.objects.order_by("-n"),
    }
    http.reset()
    for make in queries.values():
        orm(make()).list()
    assert orm(queries["first"]()).first().n == 9
    assert [status for _, status, _ in statuses(http)] == [200] * 6
    partial = orm(queries["only"]()).list()
    assert [r.n for r in orm(queries["slice"]()).list()] == [2, 3, 4]
    assert len(orm(queries["union"]()).list()) == 10
    assert orm(queries["first"]()).first().n == 9
    assert [status for _, status, _ in statuses(http)] == [304] * 5  # the union: one each
    assert [r.n for r in partial] == list(range(10))
    with pytest.raises(DeferredFieldError):
        partial[0].title  # noqa: B018 - only() on a re-read defers as on a first read


def test_streams_and_counts_do_not_use_the_cache(
    items: list[Item], cached: ListingCache, orm: ORM, http: Counter
) -> None:
    http.reset()
    for _ in range(2):
        assert len(list(orm(Item.objects).iterator(page_size=4))) == 10
        assert orm(Item.objects).count() == 10
    assert [(m, s) for m, s, _ in statuses(http)] == [("GET", 200)] * 3 + [("HEAD", 200)] + [
        ("GET", 200)
    ] * 3 + [("HEAD", 200)]
    assert (cached.hits, cached.misses, len(cached)) == (0, 0, 0)
