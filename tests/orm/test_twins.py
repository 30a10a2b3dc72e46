"""Every ``a``-prefixed twin has its sync method's signature and a docstring.

Walks QuerySet, Manager and Record: for each public ``aname`` whose ``name`` is also
a method, the parameters (names, kinds, defaults, annotations) are the same, and
so is the result (``Iterator[X]`` for ``AsyncIterator[X]`` on the streams); both
forms carry a docstring. No server: signatures only.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

from kintorm import Record
from kintorm.orm.manager import Manager
from kintorm.orm.query import QuerySet

CLASSES = [QuerySet, Manager, Record]

#: the result of a stream's sync form -> its async twin's
STREAM_RESULTS = {"Iterator[": "AsyncIterator["}


def _twins(cls: type) -> Iterator[tuple[str, str]]:
    names = {name for name in dir(cls) if not name.startswith("_")}
    for name in sorted(names):
        if name.startswith("a") and name[1:] in names and callable(getattr(cls, name)):
            yield name[1:], name


def _async_result(result: object) -> object:
    if isinstance(result, str):
        for sync, async_ in STREAM_RESULTS.items():
            if result.startswith(sync):
                return async_ + result[len(sync) :]
    return result


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_twin_has_its_sync_signature_and_a_docstring(cls: type) -> None:
    pairs = list(_twins(cls))
    assert pairs, f"{cls.__name__} has no async twins to check"
    for sync_name, async_name in pairs:
        sync, async_ = getattr(cls, sync_name), getattr(cls, async_name)
        mine, theirs = inspect.signature(sync), inspect.signature(async_)
        assert list(theirs.parameters.values()) == list(mine.parameters.values()), (
            f"{cls.__name__}.{async_name}{theirs} differs from {sync_name}{mine}"
        )
        assert theirs.return_annotation == _async_result(mine.return_annotation), (
            f"{cls.__name__}.{async_name} returns {theirs.return_annotation}, "
            f"{sync_name} {mine.return_annotation}"
        )
        assert inspect.getdoc(sync), f"{cls.__name__}.{sync_name} has no docstring"
        assert inspect.getdoc(async_), f"{cls.__name__}.{async_name} has no docstring"


def test_the_query_sets_twins_are_all_checked() -> None:
    """The walk finds every twin of the query set and the manager (none skipped)."""
    assert {a for _, a in _twins(QuerySet)} == {
        "abulk_create",
        "achanges",
        "acount",
        "acreate",
        "adelete",
        "aexists",
        "afirst",
        "aget",
        "aget_or_create",
        "ain_bulk",
        "aiterator",
        "apage",
        "aupdate",
        "aupdate_or_create",
        "avalues",
        "avalues_list",
    }
    assert {a for _, a in _twins(Manager)} - {a for _, a in _twins(QuerySet)} == {
        "aupdate_with_retry",
        "async_schema",  # sync_schema's twin: "a" + "sync_schema"
    }


def test_bound_twins_show_the_callers_signature() -> None:
    """On an instance: no ``self`` and no ``client``; the twin is a coroutine function."""

    class Note(Record, bucket="b", collection="notes"):
        title: str

    qs = Note.objects.filter(title="x")
    assert str(inspect.signature(qs.update)) == str(inspect.signature(qs.aupdate))
    assert list(inspect.signature(qs.update).parameters) == [
        "raise_on_error",
        "concurrency",
        "changes",
    ]
    assert inspect.iscoroutinefunction(qs.aupdate)
    assert qs.acount.__name__ == "acount"
    assert "awaitable twin of :meth:`count`" in (qs.acount.__doc__ or "")
