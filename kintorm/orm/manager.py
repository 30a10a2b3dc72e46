"""``Model.objects``: the manager, a query set factory bound to the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from kintorm.client.base import BaseClient
from kintorm.client.protocol import Op
from kintorm.orm.conflicts import DEFAULT_ATTEMPTS, update_with_retry_op
from kintorm.orm.query.queryset import RUNS, QuerySet
from kintorm.orm.schema.sync import SchemaSync, sync_schema_op
from kintorm.orm.twins import twin

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["Manager", "ManagerDescriptor"]

M = TypeVar("M", bound="RecordLike")


class Manager(QuerySet[M]):
    """``Todo.objects``: the query set of every record, the entry point of queries
    (``filter``, ``get``, ``create``, ``bulk_create``, ``changes``...), and
    ``using(client)`` for another server, user or bucket."""

    def __repr__(self) -> str:
        return f"<Manager {self.model.__name__}>"

    def using(self, client: BaseClient) -> Manager[M]:
        """The manager on another client (server, user or bucket)."""
        return Manager(self.model, self.spec, client)

    @RUNS.method
    def update_with_retry(
        self,
        client: BaseClient,
        id: str,
        fn: Callable[[M], Any],
        *,
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> Op[M]:
        """Load record ``id``, call ``fn(record)`` to change it, save it (``If-Match``);
        when someone else saved it meanwhile (412), load it again and call ``fn`` again,
        up to ``attempts`` times (then ConflictError). Returns the saved record.

        ``fn`` must compute its change from the record it is given (it may run
        several times): ``lambda c: setattr(c, "value", c.value + 1)``.
        """
        return update_with_retry_op(self.model, client, id, fn, attempts, self._client)

    aupdate_with_retry = twin(update_with_retry)

    @RUNS.method
    def sync_schema(
        self, client: BaseClient, *, dry_run: bool = False, if_match: int | None = None
    ) -> Op[SchemaSync]:
        """Give the collection the model's JSON schema (``Model.json_schema()``), with
        kinto-admin's ``uiSchema`` and ``displayFields``; returns a :class:`SchemaSync`:
        the difference, how many existing records would fail the new schema (a few
        named), whether it was written. Nothing is written when the collection already
        agrees, or with ``dry_run``. The write is a PATCH under ``If-Match`` on the
        collection's timestamp as read (or ``if_match``, a dry run's ``timestamp``): a
        concurrent change raises ConflictError. A missing collection is created.
        """
        return sync_schema_op(self.model, client, dry_run, if_match)

    async_schema = twin(sync_schema)


class ManagerDescriptor:
    """Gives each model class its own fresh Manager (nothing cached between uses)."""

    @overload
    def __get__(self, obj: None, owner: type[M]) -> Manager[M]: ...
    @overload
    def __get__(self, obj: RecordLike, owner: type[M]) -> Manager[M]: ...
    def __get__(self, obj: Any, owner: type[M]) -> Manager[M]:
        if obj is not None:
            raise AttributeError(
                "the manager is reached through the model class (Todo.objects), not an instance"
            )
        return Manager(owner)
