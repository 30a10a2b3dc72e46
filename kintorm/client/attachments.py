"""Attachments (the kinto-attachment plugin): upload, removal and download.

The file reads and writes are effects (``ReadFile``, ``WriteFile``, ...): the
driver performs them, an ``AsyncClient`` in a thread, so that the event loop
never waits on the disk.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any, ClassVar
from urllib.parse import urljoin

from kintorm.client.effects import IsDir, Op, ReadFile, SameFile, WriteFile
from kintorm.client.encoding import encode_json
from kintorm.client.messages import File, Request
from kintorm.client.operation import operation
from kintorm.client.resources import JSONDict, Permissions, Verbs


class Attachments(Verbs):
    """The attachment methods, mixed into ``BaseClient``."""

    #: BaseClient's operation: the attachments' base URL is in the capabilities
    server_info: ClassVar[Any]

    @operation
    def add_attachment(
        self,
        /,
        id: str,
        filepath: str | os.PathLike[str],
        filename: str | None = None,
        bucket: str | None = None,
        collection: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        mimetype: str | None = None,
    ) -> Op[JSONDict]:
        """Upload ``filepath`` as the record's attachment (multipart ``POST .../attachment``),
        the file read by the driver."""
        path = self._path("record", id=id, bucket=bucket, collection=collection) + "/attachment"
        filename = filename or os.path.basename(filepath)
        mimetype = mimetype or mimetypes.guess_type(str(filepath))[0]
        content = yield ReadFile(os.fspath(filepath))
        form = {
            key: encode_json(value).decode()
            for key, value in (("data", data), ("permissions", permissions))
            if value is not None
        }
        request = Request(
            "POST", path, files=(File("attachment", filename, content, mimetype),), form=form
        )
        return (yield from self._json(request))

    @operation
    def remove_attachment(
        self, /, id: str, bucket: str | None = None, collection: str | None = None
    ) -> Op[JSONDict | None]:
        """Remove the record's attachment; the server's answer, or ``None`` for a 204."""
        path = self._path("record", id=id, bucket=bucket, collection=collection) + "/attachment"
        response = yield from self._send(Request("DELETE", path))
        return response.json() if response.content else None

    @operation
    def download_attachment(
        self,
        record: JSONDict,
        filepath: str | os.PathLike[str] | None = None,
        save_metadata: bool = False,
        overwrite: bool = False,
        chunk_size: int = 8 * 1024,
    ) -> Op[str]:
        """Download ``record``'s attachment to ``filepath`` (a file or a folder; the
        attachment's filename by default) and return the path written. ``chunk_size`` is
        accepted for kinto-http's programs; the body is written as one piece."""
        attachment = record.get("attachment")
        if not isinstance(attachment, dict) or "location" not in attachment:
            raise ValueError(f"record {record.get('id')!r} has no attachment")
        info = yield from type(self).server_info.op(self)
        base_url = info["capabilities"]["attachments"]["base_url"]
        target = str(filepath) if filepath is not None else attachment["filename"]
        if (yield IsDir(target)):
            target = os.path.join(target, attachment["filename"])
        if not overwrite and (
            yield SameFile(target, attachment.get("size"), attachment.get("hash"))
        ):
            return target  # already up to date (a stale file is downloaded again)
        # kinto-attachment sends an absolute location when its base_url is set,
        # a relative one otherwise: join them as kinto-http does.
        url = urljoin(base_url.rstrip("/") + "/", attachment["location"].lstrip("/"))
        response = yield from self._send(Request("GET", url))
        yield WriteFile(target, response.content)
        if save_metadata:
            yield WriteFile(target + ".meta.json", encode_json(record))
        return target
