"""QuerySet -> (method, path, params), without a server."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kintorm import FieldError, UnsupportedQuery
from kintorm.orm.query import QuerySpec, compile_query

from .models import Author, Blog, Item, Priority

PATH = "/buckets/blog/collections/posts/records"
#: the guards of a like lookup on title: strings only
TEXT = [("gt_title", "null"), ("lt_title", "0")]


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
        # guards: lt_rating=false drops a missing rating, gt_rating=null a null one
        ({"rating__gt": 1}, [("lt_rating", "false"), ("gt_rating", "1")]),
        ({"rating__gte": 1}, [("lt_rating", "false"), ("min_rating", "1")]),
        ({"rating__lt": 1}, [("gt_rating", "null"), ("lt_rating", "1")]),
        ({"rating__lte": 1}, [("gt_rating", "null"), ("max_rating", "1")]),
        ({"rating__ne": 1}, [("gt_rating", "null"), ("lt_rating", "false"), ("not_rating", "1")]),
        ({"title__in": ["a", "b"]}, [("in_title", '"a","b"')]),
        ({"id__in": ["a", "b"]}, [("in_id", '"a","b"')]),
        # like lookups keep strings only (gt_ null, lt_ 0), escape all but [A-Za-z0-9]
        ({"title__like": "ab*"}, [*TEXT, ("like_title", '"ab*"')]),
        ({"title__like": "a.b"}, [*TEXT, ("like_title", r'"a\\.b"')]),
        ({"title__icontains": "ab"}, [*TEXT, ("like_title", '"*ab*"')]),
        ({"title__icontains": "a_%("}, [*TEXT, ("like_title", r'"*a\\_\\%\\(*"')]),
        ({"title__istartswith": "ab"}, [*TEXT, ("like_title", '"ab*"')]),
        ({"title__iendswith": "ab"}, [*TEXT, ("like_title", '"*ab"')]),
        ({"title__startswith": "12"}, [*TEXT, ("like_title", '"12*"')]),
        ({"title__endswith": "-1"}, [*TEXT, ("like_title", r'"*\\-1"')]),
        # isnull=True on an object: its required key is absent
        ({"author__isnull": True}, [("has_author.name", "false")]),
        ({"author": None}, [("has_author.name", "false")]),
        ({"author__isnull": False}, [("has_author", "true"), ("gt_author", "null")]),
        ({"author__exists": True}, [("has_author", "true")]),
        ({"author__exists": False}, [("has_author", "false")]),
        ({"author__null": True}, [("author", "null")]),
        ({"author__null": False}, [("not_author", "null")]),
        ({"rating__exists": True}, [("lt_rating", "false")]),
        ({"rating__exists": False}, [("gt_rating", "false")]),
        ({"rating__isnull": False}, [("gt_rating", "null"), ("lt_rating", "false")]),
        ({"author__email__gt": "a"}, [("lt_author.email", "0"), ("gt_author.email", '"a"')]),
        ({"author__name": "al"}, [("author.name", '"al"')]),
        ({"author__name__in": ["a"]}, [("in_author.name", '"a"')]),
        ({"last_modified__gt": 5}, [("gt_last_modified", "5")]),  # always set: no guard
        ({"id__icontains": "a"}, [("like_id", '"*a*"')]),
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
        "lt_due": "0",  # a date is a string: 0 sorts above it, and below a missing one
        "min_due": '"2024-01-02"',
        "priority": '"high"',
        "contains_tags": '["a"]',
        "meta.anything.deep": "1",
    }
    assert Item.objects.filter(tags__contains_any=["a", "b"]).compile().query == {
        "contains_any_tags": '["a","b"]'
    }


def test_finite_types_say_null_or_missing() -> None:
    """isnull=True is 'none of the values it can hold' when they are few."""
    assert Item.objects.filter(done=None).compile().params == (("exclude_done", "true,false"),)
    assert Item.objects.filter(priority__isnull=True).compile().params == (
        ("exclude_priority", '"low","high"'),
    )


def test_open_fields_use_has() -> None:
    """A field of open type has no JSON value above all its values: has_ drops a missing
    one, and goes first (the memory backend's has_ replaces the filters before it)."""
    qs = Item.objects.filter(n__gt=1).filter(meta__x__gt=5, title__icontains="a")
    assert qs.compile().params == (
        ("has_meta.x", "true"),
        ("lt_n", "false"),
        ("gt_n", "1"),
        ("gt_meta.x", "5"),
        ("gt_title", "null"),
        ("lt_title", "0"),
        ("like_title", '"*a*"'),  # last: the memory backend fails on a non-string
    )


def test_bounds_on_one_key_intersect() -> None:
    qs = Blog.objects.filter(rating__gt=1).filter(rating__lt=5)
    assert qs.compile().params == (("lt_rating", "5"), ("gt_rating", "1"))
    assert Blog.objects.filter(rating__gt=1).filter(rating__gt=2).compile().params == (
        ("lt_rating", "false"),
        ("gt_rating", "2"),
    )
    # present and absent: the bounds cross, nothing matches (as nothing should)
    assert Blog.objects.filter(rating__gt=1, rating__exists=False).compile().params == (
        ("lt_rating", "false"),
        ("gt_rating", "false"),
    )


def test_unknown_lookup_is_named() -> None:
    with pytest.raises(FieldError, match=r"unknown lookup 'between' on Item\.n.*gte.*isnull"):
        Item.objects.filter(n__between=(1, 2))
    with pytest.raises(FieldError, match="unknown lookup 'foo' on id"):
        Item.objects.filter(id__foo=1)
    with pytest.raises(FieldError, match=r"no field 'between' \(known: email, name\).*lookup"):
        Item.objects.filter(author__between=1)
    with pytest.raises(FieldError, match="no field 'nmae'"):  # a typo of a nested field
        Item.objects.filter(author__nmae__in=["a"])
    # a nested attrs field still resolves as a field
    assert Item.objects.filter(author__name="a").compile().params == (("author.name", '"a"'),)


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"title": "x"}, [("gt_title", "null"), ("lt_title", "0"), ("not_title", '"x"')]),
        ({"rating__ne": 1}, [("rating", "1")]),
        (
            {"title__in": ["a", "b"]},
            [("gt_title", "null"), ("lt_title", "0"), ("exclude_title", '"a","b"')],
        ),
        ({"rating__gt": 1}, [("gt_rating", "null"), ("max_rating", "1")]),
        ({"rating__gte": 1}, [("gt_rating", "null"), ("lt_rating", "1")]),
        ({"rating__lt": 1}, [("lt_rating", "false"), ("min_rating", "1")]),
        ({"rating__lte": 1}, [("lt_rating", "false"), ("gt_rating", "1")]),
        ({"author__isnull": True}, [("has_author", "true"), ("gt_author", "null")]),
        ({"author__exists": True}, [("has_author", "false")]),
        ({"author__null": True}, [("not_author", "null")]),
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
        # an object's or a list's JSON has commas between its members
        lambda: Item.objects.filter(author__in=[Author(name="a")]),
        lambda: Item.objects.filter(meta__in=[{"a": 1, "b": 2}]),
        lambda: Item.objects.exclude(tags__in=[["a", "b"]]),
        lambda: Blog.objects.filter(title__in=[]),
        lambda: Blog.objects.filter(title__gt="a").filter(title__gt="b"),  # collation decides
        lambda: Blog.objects.filter(title__startswith="Ab"),  # like_ ignores case
        lambda: Blog.objects.filter(title__endswith="é"),
        lambda: Blog.objects.filter(title__icontains="a*b"),  # * cannot be escaped
        lambda: Blog.objects.filter(title__icontains="a\x00"),
        lambda: Blog.objects.filter(rating__icontains="1"),  # not a text field
        lambda: Blog.objects.filter(title__isnull=True).order_by("title"),  # see below
        lambda: Blog.objects.filter(rating__gt=None),
        lambda: Blog.objects.filter(title__in=["a", None]),
        lambda: Item.objects.filter(author__exists=True).filter(meta__x__gt=1),  # two has_
        lambda: Blog.objects.filter(author__exists=False).filter(author__exists=True),
        lambda: Blog.objects.filter(author__gt={"name": "a"}),
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


def test_list_fields_are_guarded_by_contains_nothing() -> None:
    """PostgreSQL sorts [] below null: a list is told from null and missing by
    contains_f=[] (true of every list), which a contains lookup makes redundant."""
    assert Item.objects.filter(tags__isnull=False).compile().params == (("contains_tags", "[]"),)
    assert Item.objects.exclude(tags=["a"]).compile().params == (
        ("contains_tags", "[]"),
        ("not_tags", '["a"]'),
    )
    assert Item.objects.exclude(tags=["a"]).filter(tags__contains="b").compile().params == (
        ("contains_tags", '["b"]'),
        ("not_tags", '["a"]'),
    )
    assert Item.objects.filter(tags__exists=True).compile().params == (("lt_tags", "{}"),)
    assert Item.objects.filter(tags__exists=False).compile().params == (("gt_tags", "{}"),)


def branches(qs: object, method: str = "GET") -> list[list[tuple[str, str]]]:
    """The params of each request of a query set (one per branch of a union)."""
    compiled = qs.compile_all(method)  # type: ignore[attr-defined]
    assert all(c.path == compiled[0].path and c.method == method for c in compiled)
    return [list(c.params) for c in compiled]


@pytest.mark.parametrize(
    ("qs", "expected"),
    [
        # null or missing, on a kind where Kinto has no one filter for both: two queries
        (
            lambda: Blog.objects.filter(title__isnull=True),
            [[("title", "null")], [("gt_title", "0")]],
        ),
        (lambda: Blog.objects.filter(title=None), [[("title", "null")], [("gt_title", "0")]]),
        (lambda: Blog.objects.filter(title__eq=None), [[("title", "null")], [("gt_title", "0")]]),
        (
            lambda: Blog.objects.exclude(rating__isnull=False),
            [[("rating", "null")], [("gt_rating", "false")]],
        ),
        (
            lambda: Blog.objects.exclude(rating__ne=None),
            [[("rating", "null")], [("gt_rating", "false")]],
        ),
        (
            lambda: Item.objects.filter(tags__isnull=True),  # lists: missing is above {}
            [[("tags", "null")], [("gt_tags", "{}")]],
        ),
        (
            lambda: Item.objects.filter(meta__x__isnull=True),  # open type: has_
            [[("meta.x", "null")], [("has_meta.x", "false")]],
        ),
        (
            lambda: Blog.objects.filter(author__email__isnull=True),
            [[("author.email", "null")], [("gt_author.email", "0")]],
        ),
        # the query's other filters go into every branch, in Kinto's order
        (
            lambda: Item.objects.filter(n__gt=1, due=None).filter(title__icontains="a"),
            [
                [
                    ("lt_n", "false"),
                    ("gt_n", "1"),
                    ("gt_title", "null"),
                    ("lt_title", "0"),
                    ("due", "null"),  # the branch after the filters, like_ last
                    ("like_title", '"*a*"'),
                ],
                [
                    ("lt_n", "false"),
                    ("gt_n", "1"),
                    ("gt_title", "null"),
                    ("lt_title", "0"),
                    ("gt_due", "0"),  # the branch after the filters, like_ last
                    ("like_title", '"*a*"'),
                ],
            ],
        ),
        (
            lambda: Item.objects.filter(meta__x__isnull=True, n=2),  # has_ first
            [[("n", "2"), ("meta.x", "null")], [("has_meta.x", "false"), ("n", "2")]],
        ),
        # two unions: the four combinations (disjoint as each pair is)
        (
            lambda: Blog.objects.filter(title=None).filter(rating=None),
            [
                [("title", "null"), ("rating", "null")],
                [("title", "null"), ("gt_rating", "false")],
                [("gt_title", "0"), ("rating", "null")],
                [("gt_title", "0"), ("gt_rating", "false")],
            ],
        ),
        # bool, enum, Literal and attrs objects stay one query
        (lambda: Item.objects.filter(done=None), [[("exclude_done", "true,false")]]),
        (lambda: Blog.objects.filter(author=None), [[("has_author.name", "false")]]),
    ],
)
def test_isnull_as_a_union_of_two_queries(qs: Any, expected: list[list[tuple[str, str]]]) -> None:
    assert branches(qs()) == expected


def test_union_requests_per_method() -> None:
    qs = Blog.objects.filter(title=None, rating__gt=1).order_by("-last_modified").only("title")
    guards = [("lt_rating", "false"), ("gt_rating", "1")]
    listing = [("_sort", "-last_modified"), ("_fields", "title"), ("_limit", "3")]
    assert branches(qs[1:3]) == [
        [*guards, ("title", "null"), *listing],  # each branch limited to the slice's stop
        [*guards, ("gt_title", "0"), *listing],
    ]
    assert branches(qs.since(4), "HEAD") == [
        [*guards, ("title", "null"), ("_since", "4")],
        [*guards, ("gt_title", "0"), ("_since", "4")],
    ]
    assert branches(qs, "DELETE") == [[*guards, ("title", "null")], [*guards, ("gt_title", "0")]]
    assert qs.spec.filters == tuple(guards)
    assert qs.spec.branches == ((("title", "null"),), (("gt_title", "0"),))
    assert "title=null" in repr(qs) and "gt_title=0" in repr(qs)
    with pytest.raises(UnsupportedQuery, match="compile_all"):
        qs.compile()  # one request cannot say it
    assert Blog.objects.filter(title="a").compile_all() == (
        Blog.objects.filter(title="a").compile(),
    )


@pytest.mark.parametrize("order", ["title", "-rating", "id", "last_modified,title"])
def test_union_refuses_an_order_it_cannot_merge(order: str) -> None:
    fields = order.split(",")
    with pytest.raises(UnsupportedQuery, match="last_modified, unique in a collection"):
        Blog.objects.filter(title=None).order_by(*fields)
    with pytest.raises(UnsupportedQuery, match="merged"):
        Blog.objects.order_by(*fields).filter(title=None)  # either way round
    with pytest.raises(UnsupportedQuery, match="merged"):
        Blog.objects.order_by(*fields).exclude(title__isnull=False)


@pytest.mark.parametrize("order", [(), ("last_modified",), ("-last_modified",)])
def test_union_takes_last_modified_orders(order: tuple[str, ...]) -> None:
    qs = Blog.objects.filter(title=None).order_by(*order)
    assert len(qs.compile_all()) == 2


def test_union_contradiction_raises_when_built() -> None:
    """has_ asked both ways in one branch: refused by filter(), before any request."""
    with pytest.raises(UnsupportedQuery, match="contradicts"):
        Item.objects.filter(meta__x__exists=True).filter(meta__x__isnull=True)


def test_compile_lookups_alone_refuses_a_union() -> None:
    from kintorm.orm.query.filters import compile_filter, compile_lookups

    with pytest.raises(UnsupportedQuery, match="2 Kinto queries"):
        compile_lookups(Blog, {"title": None})
    assert compile_filter(Blog, {"title": None, "rating": 2}) == (
        [("rating", "2")],
        ((("title", "null"),), (("gt_title", "0"),)),
    )
