"""``Model.objects``: the manager, a query set factory bound to the model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

from kintorm.orm.query import QuerySet

if TYPE_CHECKING:
    from kintorm.orm.model import Record

__all__ = ["Manager", "ManagerDescriptor"]

M = TypeVar("M", bound="Record")


class Manager(QuerySet[M]):
    """``Todo.objects``: the query set of every record, the entry point of queries
    (``filter``, ``get``, ``create``, ``bulk_create``, ``changes``...), and
    ``using(client)`` for another server, user or bucket."""

    def __repr__(self) -> str:
        return f"<Manager {self.model.__name__}>"


class ManagerDescriptor:
    """Gives each model class its own fresh Manager (nothing cached between uses)."""

    @overload
    def __get__(self, obj: None, owner: type[M]) -> Manager[M]: ...
    @overload
    def __get__(self, obj: Record, owner: type[M]) -> Manager[M]: ...
    def __get__(self, obj: Any, owner: type[M]) -> Manager[M]:
        if obj is not None:
            raise AttributeError(
                "the manager is reached through the model class (Todo.objects), not an instance"
            )
        return Manager(owner)
