"""Models shared by the ORM tests (collection "items", bucket of the test's client)."""

from __future__ import annotations

import datetime
import enum

import attrs

from kintorm import Record


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


@attrs.define
class Author:
    name: str
    email: str | None = None


class Item(Record, collection="items"):
    title: str
    done: bool = False
    n: int = 0
    tags: list[str] = attrs.field(factory=list)
    due: datetime.date | None = None
    at: datetime.datetime | None = None
    priority: Priority = Priority.LOW
    author: Author | None = None
    meta: dict[str, object] = attrs.field(factory=dict)


class Doc(Record, collection="items"):
    """No declared field: everything is kept in extra_fields."""


class Blog(Record, bucket="blog", collection="posts"):
    title: str
    rating: float = 0.0
    author: Author | None = None
