"""Checked by mypy --strict from tests/test_typing.py (never imported by pytest)."""

from __future__ import annotations

from typing import assert_type

from kintorm import CursorPage, Record


class Todo(Record, collection="todos"):
    title: str
    done: bool = False


def after_create() -> None:
    todo = Todo.objects.create(title="write")
    assert_type(todo, Todo)
    assert_type(todo.pk, str)  # no `assert todo.id is not None` needed
    assert_type(todo.id, str | None)
    saved = Todo(title="x").save()
    assert_type(saved.pk, str)
    assert_type(Todo.objects.get(id="a").pk, str)


async def after_acreate() -> None:
    todo = await Todo.objects.acreate(title="write")
    assert_type(todo.pk, str)


def pages() -> None:
    page = Todo.objects.filter(done=False).page(10, None)
    assert_type(page, CursorPage[Todo])
    assert_type(page.items, list[Todo])
    assert_type(page.next_cursor, str | None)
    for todo in page:
        assert_type(todo, Todo)


async def apages() -> None:
    page = await Todo.objects.apage(10, cursor="abc")
    assert_type(page, CursorPage[Todo])
