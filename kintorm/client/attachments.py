"""Attachments (the kinto-attachment plugin): upload, removal and download.

The file reads and writes are effects (``ReadFile``, ``WriteFile``, ...): the
driver performs them, an ``AsyncClient`` in a thread, so that the event loop
never waits on the disk. The pure helpers (:func:`upload_request`,
:func:`attachment_url`, :func:`local_filename`) are the mapper's too.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from kintorm.client.effects import IsDir, Op, ReadFile, SameFile, WriteFile
from kintorm.client.encoding import encode_json
from kintorm.client.messages import File, Request
from kintorm.client.operation import operation
from kintorm.client.resources import JSONDict, Permissions, Verbs

__all__ = [
    "ATTACHMENT_SUFFIX",
    "Attachments",
    "attachment_url",
    "local_filename",
    "upload_request",
]

#: kinto-attachment's endpoint, below the record's
ATTACHMENT_SUFFIX = "/attachment"


def upload_request(
    path: str,
    file: File,
    data: JSONDict | None = None,
    permissions: Permissions | None = None,
    headers: Mapping[str, str] | None = None,
) -> Request:
    """The multipart ``POST`` of ``file`` to the record at ``path``: the file as the
    ``attachment`` part, ``data`` and ``permissions`` as JSON form fields (the plugin
    writes them with the file, creating the record when it does not exist)."""
    form = {
        key: encode_json(value).decode()
        for key, value in (("data", data), ("permissions", permissions))
        if value is not None
    }
    return Request(
        "POST", path + ATTACHMENT_SUFFIX, headers=dict(headers or {}), files=(file,), form=form
    )


def attachment_url(location: str, base_url: str | None) -> str:
    """Where the file is: ``location`` when absolute (kinto-attachment makes it so when
    its base URL is set), else joined to the ``base_url`` the server's capabilities
    announce (as kinto-http joins them). ValueError when there is nothing to join to."""
    if urlsplit(location).scheme:
        return location
    if not base_url:
        raise ValueError(
            f"the attachment location {location!r} is relative and the server announces "
            "no attachments base_url"
        )
    return urljoin(base_url.rstrip("/") + "/", location.lstrip("/"))


def local_filename(filename: Any) -> str:
    """The attachment's ``filename`` as a name inside a local folder: its last part only
    (a name the uploader chose must not reach outside the folder); ValueError for a
    name that is none (empty, ``.``, ``..``)."""
    name = os.path.basename(str(filename).replace("\\", "/"))
    if name in ("", ".", ".."):
        raise ValueError(f"the attachment's filename {filename!r} cannot name a local file")
    return name


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
        path = self._path("record", id=id, bucket=bucket, collection=collection)
        filename = filename or os.path.basename(filepath)
        mimetype = mimetype or mimetypes.guess_type(str(filepath))[0]
        content = yield ReadFile(os.fspath(filepath))
        file = File("attachment", filename, content, mimetype)
        return (yield from self._json(upload_request(path, file, data, permissions)))

    @operation
    def remove_attachment(
        self, /, id: str, bucket: str | None = None, collection: str | None = None
    ) -> Op[JSONDict | None]:
        """Remove the record's attachment; the server's answer, or ``None`` for a 204."""
        path = self._path("record", id=id, bucket=bucket, collection=collection)
        response = yield from self._send(Request("DELETE", path + ATTACHMENT_SUFFIX))
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
        if filepath is None:
            target = local_filename(attachment["filename"])
        elif (yield IsDir(str(filepath))):
            target = os.path.join(filepath, local_filename(attachment["filename"]))
        else:
            target = str(filepath)
        if not overwrite and (
            yield SameFile(target, attachment.get("size"), attachment.get("hash"))
        ):
            return target  # already up to date (a stale file is downloaded again)
        url = attachment_url(attachment["location"], base_url)
        response = yield from self._send(Request("GET", url))
        yield WriteFile(target, response.content)
        if save_metadata:
            yield WriteFile(target + ".meta.json", encode_json(record))
        return target
