"""Outcomes of bulk operations (bulk_create, QuerySet.update, QuerySet.delete), and
:class:`BulkError`, raised with them when some items failed (a branch of the tree
drawn in :mod:`kintorm.orm.exceptions`, kept here beside the result it holds)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import attrs

from kintorm.client.exceptions import KintoException
from kintorm.orm.exceptions import ORMError

__all__ = ["BulkError", "BulkResult", "NotSent", "Outcome"]

T = TypeVar("T")
#: failures shown by BulkResult's repr
_REPR_FAILURES = 3


class NotSent(KintoException):
    """The error of an item that was not sent because an earlier chunk of the bulk
    operation failed: it was not applied (``maybe_applied`` is false)."""


@attrs.frozen
class Outcome(Generic[T]):
    """What happened to one item: ``ok``, its record ``id``, the ``instance`` (when
    the operation has one) and the ``error`` that made it fail."""

    id: str | None
    ok: bool
    instance: T | None = None
    error: KintoException | None = None

    @property
    def status(self) -> int | None:
        return getattr(self.error.response, "status_code", None) if self.error else None


@attrs.frozen
class BulkResult(Generic[T]):
    """Every outcome, in the order of the items."""

    outcomes: tuple[Outcome[T], ...]

    @property
    def succeeded(self) -> list[Outcome[T]]:
        """The outcomes of the items the server applied."""
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[Outcome[T]]:
        """The outcomes of the items that failed, each with its ``error`` (see ``unknown``
        for those whose answer was lost and may have been applied)."""
        return [o for o in self.outcomes if not o.ok]

    @property
    def unknown(self) -> list[Outcome[T]]:
        """The failed items that may have been applied all the same (their answer was
        lost and could not be checked: ``error.maybe_applied``); the other failed
        items were not applied."""
        return [o for o in self.failed if o.error is not None and o.error.maybe_applied]

    @property
    def ids(self) -> list[str]:
        """Ids of the items that succeeded."""
        return [o.id for o in self.outcomes if o.ok and o.id is not None]

    @property
    def instances(self) -> list[T]:
        """The instances written (bulk_create), in the order given, failed ones left out."""
        return [o.instance for o in self.outcomes if o.ok and o.instance is not None]

    def __len__(self) -> int:
        return len(self.outcomes)

    def __repr__(self) -> str:
        """Counts and the first failures, not every instance (see ``outcomes``)."""
        failed = self.failed
        text = f"<BulkResult {len(self.outcomes)} items: {len(self.outcomes) - len(failed)} ok, "
        text += f"{len(failed)} failed"
        if failed:
            shown = [f"{o.id}: {o.error}" for o in failed[:_REPR_FAILURES]]
            text += "; " + "; ".join(shown)
            if len(failed) > _REPR_FAILURES:
                text += f"; ... and {len(failed) - _REPR_FAILURES} more failures"
        return text + ">"

    def __iter__(self) -> Iterator[Outcome[T]]:
        return iter(self.outcomes)

    def raise_for_failures(self, what: str = "bulk operation") -> BulkResult[T]:
        """Raise BulkError naming each failed item; return self when none failed."""
        failed = self.failed
        if failed:
            lines = [f"  {o.id}: {o.error}" for o in failed[:20]]
            more = f"\n  ... and {len(failed) - 20} more" if len(failed) > 20 else ""
            raise BulkError(
                f"{what}: {len(failed)} of {len(self.outcomes)} item(s) failed "
                f"(the others are done):\n" + "\n".join(lines) + more,
                self,
            )
        return self


class BulkError(ORMError):
    """Some items of a bulk operation failed; the others are done.

    ``result`` is the :class:`BulkResult` with every outcome.
    """

    def __init__(self, message: str, result: BulkResult[Any]) -> None:
        super().__init__(message)
        self.result = result
