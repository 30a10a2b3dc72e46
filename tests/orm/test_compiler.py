"""QuerySet -> (method, path, params), without a server."""

from __future__ import annotations

import datetime

import pytest

from kintorm import FieldError, UnsupportedQuery
from kintorm.orm.query import QuerySpec, compile_query

from .models import Blog, Item, Priority

PATH = "/buckets/blog/collections/posts/records"


def params(qs: object, method: str = "GET") -> list[tuple[str, str]]:
    compiled = qs.compile(method)  # type: ignore[attr-defined]
    assert compiled.path == PATH
    assert compiled.method == method
    return list(compiled.params)


def test_all() -> None:
    assert params(Blog.objects.all()) == []


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"title": "x"}, [("title", '"x"')]),
        ({"title": "2"}, [("title", '"2"')]),  # quoted: unquoted "2" would be an int
        ({"rating": 2.5}, [("rating", "2.5")]),
        ({"rating__gt": 1}, [("gt_rating", "1")]),
        ({"rating__gte": 1}, [("min_rating", "1")]),
        ({"rating__lt": 1}, [("lt_rating", "1")]),
        ({"rating__lte": 1}, [("max_rating", "1")]),
        ({"rating__ne": 1}, [("not_rating", "1")]),
        ({"title__in": ["a", "b"]}, [("in_title", '"a","b"')]),
        ({"id__in": ["a", "b"]}, [("in_id", '"a","b"')]),
        ({"title__like": "ab"}, [("like_title", '"ab"')]),
        ({"title__icontains": "ab"}, [("like_title", '"*ab*"')]),
        ({"title__startswith": "ab"}, [("like_title", '"ab*"')]),
        ({"title__endswith": "ab"}, [("like_title", '"*ab"')]),
        ({"author__isnull": True}, [("author", "null")]),
        ({"author__isnull": False}, [("not_author", "null")]),
        ({"author__exists": True}, [("has_author", "true")]),
        ({"author__name": "al"}, [("author.name", '"al"')]),
        ({"author__name__in": ["a"]}, [("in_author.name", '"a"')]),
        ({"last_modified__gt": 5}, [("gt_last_modified", "5")]),
        ({"author": None}, [("author", "null")]),
    ],
)
def test_filters(lookups: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert params(Blog.objects.filter(**lookups)) == expected


def test_typed_values() -> None:
    qs = Item.objects.filter(
        due__gte=datetime.date(2024, 1, 2),
        priority=Priority.HIGH,
        tags__contains="a",
        meta__anything__deep=1,
    )
    assert qs.compile().query == {
        "min_due": '"2024-01-02"',
        "priority": '"high"',
        "contains_tags": '["a"]',
        "meta.anything.deep": "1",
    }
    assert Item.objects.filter(tags__contains_any=["a", "b"]).compile().query == {
        "contains_any_tags": '["a","b"]'
    }


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"title": "x"}, [("not_title", '"x"')]),
        ({"rating__ne": 1}, [("eq_rating", "1")]),
        ({"title__in": ["a", "b"]}, [("exclude_title", '"a","b"')]),
        ({"rating__gt": 1}, [("max_rating", "1")]),
        ({"rating__gte": 1}, [("lt_rating", "1")]),
        ({"author__isnull": True}, [("not_author", "null")]),
        ({"author__exists": True}, [("has_author", "false")]),
    ],
)
def test_exclude(lookups: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert params(Blog.objects.exclude(**lookups)) == expected


def test_chaining_is_immutable() -> None:
    base = Blog.objects.filter(title="a")
    ordered = base.order_by("-rating", "title")
    assert params(base) == [("title", '"a"')]
    assert params(ordered) == [("title", '"a"'), ("_sort", "-rating,title")]
    assert params(ordered.only("title", "author__name")) == [
        ("title", '"a"'),
        ("_sort", "-rating,title"),
        ("_fields", "title,author.name"),
    ]
    assert params(base.since(10).before(20)) == [
        ("title", '"a"'),
        ("_since", "10"),
        ("_before", "20"),
    ]


def test_slicing() -> None:
    assert params(Blog.objects.all()[:20]) == [("_limit", "20")]
    assert params(Blog.objects.all()[5:20]) == [("_limit", "20")]  # offset skipped locally
    assert Blog.objects.all()[5:20][2:4].spec == QuerySpec(start=7, stop=9)
    assert Blog.objects.all()[5:8][0:10].spec == QuerySpec(start=5, stop=8)
    with pytest.raises(ValueError):
        Blog.objects.all()[-1:]
    with pytest.raises(TypeError):
        Blog.objects.all()[:3].filter(title="x")


def test_head_and_delete_drop_listing_params() -> None:
    qs = Blog.objects.filter(title="a").order_by("title").only("title").since(3)[:5]
    assert params(qs, "HEAD") == [("title", '"a"'), ("_since", "3")]
    assert params(qs, "DELETE") == [("title", '"a"'), ("_since", "3")]


def test_page_size() -> None:
    spec = QuerySpec(stop=50)
    assert compile_query(spec, "/p", page_size=10).query == {"_limit": "10"}
    assert compile_query(QuerySpec(stop=5), "/p", page_size=10).query == {"_limit": "5"}


@pytest.mark.parametrize(
    "call",
    [
        lambda: Blog.objects.filter(titel="x"),
        lambda: Blog.objects.filter(author__nmae="x"),
        lambda: Blog.objects.filter(title__name="x"),
        lambda: Blog.objects.filter(id__x=1),
        lambda: Blog.objects.order_by("-titel"),
        lambda: Blog.objects.only("nope"),
        lambda: Blog.objects.filter(permissions="x"),
    ],
)
def test_unknown_fields_raise(call: object) -> None:
    with pytest.raises(FieldError):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    "call",
    [
        lambda: Blog.objects.exclude(title="a", rating=1),  # NOT (a AND b) is an OR
        lambda: Blog.objects.all() | Blog.objects.all(),
        lambda: Blog.objects.exclude(title__like="a"),
        lambda: Blog.objects.exclude(title__startswith="a"),
        lambda: Blog.objects.filter(title__in=["a,b"]),
        lambda: Blog.objects.filter(title__in=[]),
        lambda: Blog.objects.filter(rating__gt=1).filter(rating__gt=2),
        lambda: Blog.objects.filter(author__isnull="yes"),
        lambda: Blog.objects.filter(title__like=3),
    ],
)
def test_unsupported(call: object) -> None:
    with pytest.raises(UnsupportedQuery):
        call()  # type: ignore[operator]


def test_same_filter_twice_is_fine() -> None:
    assert params(Blog.objects.filter(title="a").filter(title="a")) == [("title", '"a"')]


def test_default_location() -> None:
    assert Item._meta.bucket is None
    assert Item.objects.compile().path == "/buckets/default/collections/items/records"
    assert Blog._meta.collection == "posts"
