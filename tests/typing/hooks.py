"""Checked by mypy --strict from tests/test_typing.py (never imported by pytest): hooks
and serialisation keep the types users write."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, assert_type

from kintorm import HookContext, Record, ValidationError, after_save, before_save


class Todo(Record, collection="todos"):
    title: str
    updated_by: str | None = None

    @before_save
    def stamp(self, ctx: HookContext) -> None:
        self.updated_by = "me"

    @after_save
    async def invalidate(self, ctx: HookContext) -> None:
        assert_type(ctx.created, bool)


@after_save.connect(Todo)
def log(todo: Todo, ctx: HookContext) -> None:
    assert_type(todo.title, str)


async def audit(todo: Todo, ctx: HookContext) -> None:
    pass


def uses(ctx: HookContext) -> None:
    receiver = after_save.connect(Todo, audit)
    pending = receiver(Todo(title="x"), ctx)
    _ = assert_type(pending, Coroutine[Any, Any, None])
    pending.close()
    todo = Todo.from_dict({"title": "x"}, id=False, extra_fields="ignore")
    assert_type(todo, Todo)
    assert_type(todo.to_dict(permissions=True), dict[str, Any])
    try:
        Todo.from_dict({})
    except ValidationError as exc:
        assert_type(exc.field_errors, list[tuple[str, str]])
        assert_type(exc.to_dict(), dict[str, Any])
