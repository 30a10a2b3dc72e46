"""``attach`` / ``detach`` / ``download`` on a record, and their awaitable twins.

Each method and its ``a``-prefixed twin run the same operation
(kintorm.orm.attachments.transfer) on the record's client, made from one
definition by kintorm.orm.twins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from kintorm.client.base import BaseClient
from kintorm.client.effects import Op
from kintorm.orm.attachments.transfer import (
    Source,
    Target,
    attach_op,
    detach_op,
    download_op,
)
from kintorm.orm.attachments.value import Attachment
from kintorm.orm.scope import resolve
from kintorm.orm.twins import Runner, twin

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["AttachmentMethods"]


def _record(obj: Any) -> RecordLike:
    return cast("RecordLike", obj)


RUNS = Runner(
    client=lambda obj: resolve(type(obj), obj), noun=lambda obj: type(obj).__name__.lower()
)


class AttachmentMethods:
    """The attachment methods of ``Record`` (for a model with an ``Attachment`` field)."""

    @RUNS.method
    def attach(
        self,
        client: BaseClient,
        source: Source,
        *,
        filename: str | None = None,
        mimetype: str | None = None,
    ) -> Op[Attachment]:
        """Upload ``source`` as the record's file, replacing the one it has, and return
        its :class:`Attachment` (also the record's attachment field from now on).

        ``source``: bytes, a file's path, or a file object opened in binary mode (read
        by the driver: in a thread on an AsyncClient). ``filename`` defaults to the
        path's or the file object's name (bytes need one); ``mimetype`` is guessed from
        it. A saved record is sent with ``If-Match`` (ConflictError when it changed
        meanwhile); a new one is created with the file, its fields and permissions
        (``If-None-Match: *``). The record takes the server's answer: its new
        ``last_modified`` and attachment; changes not saved yet stay pending.
        """
        return attach_op(_record(self), client, source, filename, mimetype)

    aattach = twin(attach)

    @RUNS.method
    def detach(self, client: BaseClient) -> Op[None]:
        """Remove the record's file on the server (``If-Match``: ConflictError when the
        record changed meanwhile); the attachment field becomes None and the record
        takes its new ``last_modified``."""
        return detach_op(_record(self), client)

    adetach = twin(detach)

    @RUNS.method
    def download(self, client: BaseClient, to: Target = None) -> Op[bytes]:
        """The record's file, checked against the attachment's sha256 and size
        (:class:`AttachmentHashMismatch` otherwise), also written to ``to`` when given:
        a file's path (replaced whole: never a partial file), a folder's (the
        attachment's filename in it) or a binary file object; nothing is written when
        the check fails. A location on another origin than the server's gets no
        credentials."""
        return download_op(_record(self), client, to)

    adownload = twin(download)
