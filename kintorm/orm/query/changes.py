"""``changes()``: the records created, updated or deleted after a timestamp."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.operation import Stream
from kintorm.orm._requests import each_item
from kintorm.orm.codec.core import codec_for
from kintorm.orm.exceptions import InvalidRecord

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["Change", "change_of", "changes_stream"]

M = TypeVar("M", bound="RecordLike")


@attrs.frozen
class Change(Generic[M]):
    """One change of ``changes()``: a record created or updated (``record``), or
    deleted (``deleted=True``, ``record=None``)."""

    id: str
    last_modified: int
    deleted: bool
    record: M | None


def change_of(
    model: type[M],
    item: dict[str, Any],
    client: BaseClient | None,
    *,
    partial: bool,
    invalid: Callable[[InvalidRecord], None],
) -> Change[M] | None:
    """The change of a listed ``item`` (a record or a tombstone); None for a record
    that does not fit the model and that ``invalid`` (on_invalid) skipped."""
    record = None
    if not item.get("deleted"):
        try:
            record = codec_for(model).load(item, partial=partial, client=client)
        except InvalidRecord as exc:
            invalid(exc)
            return None
    return Change(item["id"], item["last_modified"], record is None, record)


def changes_stream(
    model: type[M],
    client: BaseClient | None,
    pages: Stream,
    *,
    partial: bool,
    invalid: Callable[[InvalidRecord], None],
) -> Stream:
    """Emit the :class:`Change` of each item of the listing ``pages``."""

    def changes(page: list[Any]) -> Iterable[Change[M]]:
        found = (change_of(model, item, client, partial=partial, invalid=invalid) for item in page)
        return filter(None, found)

    return each_item(pages, changes)
