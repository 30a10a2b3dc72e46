"""Checked by mypy --strict from tests/test_typing.py (never imported by pytest)."""

from __future__ import annotations

import io
import pathlib
from typing import assert_type

from kintorm import Attachment, Record


class Todo(Record, collection="todos"):
    title: str
    photo: Attachment | None = None


def uploads(todo: Todo, path: pathlib.Path) -> None:
    assert_type(todo.photo, Attachment | None)
    assert_type(todo.attach(b"x", filename="x.txt"), Attachment)
    assert_type(todo.attach(path), Attachment)
    assert_type(todo.attach(str(path), mimetype="text/plain"), Attachment)
    with path.open("rb") as f:
        assert_type(todo.attach(f), Attachment)
    assert_type(todo.download(), bytes)
    assert_type(todo.download(path), bytes)
    assert_type(todo.download(io.BytesIO()), bytes)
    todo.detach()
    if todo.photo is not None:
        assert_type(todo.photo.size, int)
        assert_type(todo.photo.mimetype, str | None)


async def awaited(todo: Todo) -> None:
    assert_type(await todo.aattach(b"x", filename="x.txt"), Attachment)
    assert_type(await todo.adownload(), bytes)
    await todo.adetach()
