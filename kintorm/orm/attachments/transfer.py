"""A record's file: upload (``attach``), removal (``detach``) and checked download.

Each is an operation (a generator of effects) composed from the client's public
``send``, ``server_facts`` and ``get_record``, so that a record's sync methods and
their awaitable twins run the same code (kintorm.orm.attachments.methods). File
reads and writes, and the hashing of a download, are effects (ReadFile,
ReadStream, IsDir, WriteVerified) that an AsyncClient performs in a thread.

Versions. An upload or removal on a saved record carries ``If-Match`` on its
``last_modified``, an upload that creates the record ``If-None-Match: *``, so
that a record changed (or created) meanwhile gives ConflictError rather than
being overwritten. kinto-attachment ignores both headers; kintorm.kinto_plugin
makes the server honour them (atomically, under the record's write lock) and
says so in its capability. On a server without it, the same precondition is
checked by a GET just before (as stock Kinto checks its own, not atomically),
after the plugin's warning.

The server's answer. The upload answers with the file's metadata and the
record's new version (``ETag``); the removal with the version. The instance
takes both into its ``attachment`` key, its snapshot and ``last_modified``: the
rest of the record is what it held (the precondition said so), and changes not
saved yet stay pending for ``save()``. An upload that created the record reads
it back once, to take it whole (permissions included), as ``save()`` would.
"""

from __future__ import annotations

import mimetypes
import os
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kintorm.client.attachments import (
    ATTACHMENT_SUFFIX,
    attachment_url,
    local_filename,
    upload_request,
)
from kintorm.client.base import BaseClient
from kintorm.client.effects import IsDir, Op, ReadFile, ReadStream, WriteVerified
from kintorm.client.encoding import unquote_etag
from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import KintoException, MalformedResponse, PreconditionFailed
from kintorm.client.messages import File, Request, Response
from kintorm.client.writes import if_match_headers, new_record_id
from kintorm.kinto_plugin import ATTACHMENT_PRECONDITIONS, CAPABILITY
from kintorm.orm.attachments.field import attachment_field, require_attachment_field
from kintorm.orm.attachments.value import (
    ATTACHMENT_KEY,
    Attachment,
    AttachmentError,
    AttachmentHashMismatch,
)
from kintorm.orm.codec.core import codec_for
from kintorm.orm.exceptions import ValidationError
from kintorm.orm.hooks import hooked_op, save_action
from kintorm.orm.persist import location, translate
from kintorm.orm.server_checks import warn_unless_atomic_op
from kintorm.orm.state import json_copy, state

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["Source", "Target", "attach_op", "detach_op", "download_op"]

JSONDict = dict[str, Any]
#: what attach() uploads: bytes, a file's path, or a file object opened in binary mode
Source = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]
#: where download() also writes the bytes: a file's (or a folder's) path, a binary file
Target = str | os.PathLike[str] | IO[bytes] | None
DEFAULT_MIMETYPE = "application/octet-stream"
_URL_SCHEMES = ("http", "https")


# --- reading what is uploaded ---------------------------------------------------------


def _filename(given: str | None, fallback: Any, call: str) -> str:
    name = given if given is not None else fallback
    if not isinstance(name, str) or not name:
        raise TypeError(f"{call}: give filename=... (the server keeps it and checks its extension)")
    if "/" in name or "\\" in name or "\x00" in name:
        raise ValueError(f"{call}: filename {name!r} must be a name, without a folder")
    return name


def _read_op(source: Source, filename: str | None, call: str) -> Op[tuple[bytes, str]]:
    """The bytes to upload and their filename (a path's or a file object's own name
    when ``filename`` is not given); TypeError for a source it cannot read."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), _filename(filename, None, call)
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        name = _filename(filename, os.path.basename(path), call)
        content: bytes = yield ReadFile(path)
        return content, name
    if callable(getattr(source, "read", None)):
        own = getattr(source, "name", None)
        name = _filename(filename, os.path.basename(own) if isinstance(own, str) else None, call)
        content = yield ReadStream(source)
        return content, name
    raise TypeError(
        f"{call} takes bytes, a file path or a binary file object, not {type(source).__name__}"
        " (encode text first)"
    )


# --- the server's answer -----------------------------------------------------------


def _version(response: Response) -> int | None:
    etag = unquote_etag(response.headers.get("ETag"))
    return int(etag) if etag is not None and etag.isdigit() else None


def _take(obj: RecordLike, stored: Any, version: int) -> None:
    """The server's ``attachment`` key and version, into the instance and its snapshot
    (its other fields, and their pending changes, untouched)."""
    st = state(obj)
    snapshot = st.snapshot
    assert snapshot is not None
    snapshot["data"][ATTACHMENT_KEY] = stored
    st.snapshot = snapshot
    st.extras[ATTACHMENT_KEY] = json_copy(stored)
    obj.last_modified = version


def _record_op(obj: RecordLike, client: BaseClient, bucket: str, collection: str) -> Op[JSONDict]:
    assert obj.id is not None
    body: JSONDict = yield from BaseClient.get_record.op(
        client, id=obj.id, bucket=bucket, collection=collection
    )
    return body


def _answered_op(
    obj: RecordLike, client: BaseClient, where: tuple[str, str], response: Response, stored: Any
) -> Op[None]:
    """Take ``stored`` and the response's version; a server that sent no version is
    asked the record's (and its ``attachment`` key) once."""
    version = _version(response)
    if version is None:
        data = (yield from _record_op(obj, client, *where)).get("data") or {}
        version, stored = data.get("last_modified"), data.get(ATTACHMENT_KEY)
        if not isinstance(version, int):
            raise MalformedResponse(f"expected a record with a version, got {data!r}")
    _take(obj, stored, version)


def _created_op(
    obj: RecordLike,
    client: BaseClient,
    where: tuple[str, str],
    response: Response,
    stored: Any,
    data: JSONDict | None,
    permissions: Any,
) -> Op[None]:
    """Take the record an upload created: read back whole, as a save() takes the
    server's answer (its permissions then hold the writer Kinto adds); as it was sent,
    with the upload's version, when it cannot be read (the upload was applied)."""
    try:
        body = yield from _record_op(obj, client, *where)
    except KintoException:
        sent = {**(data or {}), ATTACHMENT_KEY: stored}
        record = {**sent, "id": obj.id, "last_modified": _version(response)}
        body = {"data": record, "permissions": permissions or {}}
    codec_for(type(obj)).apply(obj, body, state(obj).client)  # kept: kintorm.orm.scope
    state(obj).deleted = None


# --- preconditions ----------------------------------------------------------------


def _precondition_op(
    client: BaseClient, path: str, headers: dict[str, str], creating: bool
) -> Op[None]:
    """Nothing when the server honours the precondition on attachment writes (its
    kintorm.kinto_plugin says so); else a GET of the record with the same
    precondition: 412 when it fails, as the write would have (not atomic)."""
    info = yield from BaseClient.server_facts.op(client)
    capabilities = info.get("capabilities") if isinstance(info, dict) else None
    announced = (capabilities or {}).get(CAPABILITY)
    if isinstance(announced, dict) and announced.get(ATTACHMENT_PRECONDITIONS):
        return
    yield from warn_unless_atomic_op(client)
    # creating: a 404 is what is hoped for, a 403 a creator who may not read
    ok = {403, 404} if creating else set()
    yield from BaseClient.send.op(client, Request("GET", path, headers=headers), ok=ok)


def _refused(
    exc: KintoException, obj: RecordLike, where: tuple[str, str], client: BaseClient, **how: Any
) -> Exception:
    """The mapper's exception for a refused attachment write; a rejected upload that
    names no field names the attachment field (``field`` and ``field_errors``)."""
    found = translate(exc, obj, *where, client, **how)
    field = attachment_field(type(obj))
    if isinstance(found, ValidationError) and found.field is None and field is not None:
        found.field = field
        found.field_errors = [(path or field, text) for path, text in found.field_errors]
    return found


# --- operations -------------------------------------------------------------------


def attach_op(
    obj: RecordLike,
    client: BaseClient,
    source: Source,
    filename: str | None,
    mimetype: str | None,
) -> Op[Attachment]:
    """Upload ``source`` as the record's file (see the module docstring). An upload
    that creates the record runs its save and create hooks around it, as a save()
    that creates it would (``ctx.via == "attach"``); one on a saved record sends no
    field, and runs none."""
    name = require_attachment_field(type(obj), "attach()")
    upload = _upload_op(obj, client, source, filename, mimetype)
    if save_action(obj) == "create":
        yield from hooked_op(obj, client, "create", "attach", upload)
    else:
        yield from upload
    attachment: Attachment = getattr(obj, name)  # the server's answer, taken
    return attachment


def _upload_op(
    obj: RecordLike,
    client: BaseClient,
    source: Source,
    filename: str | None,
    mimetype: str | None,
) -> Op[bool]:
    model = type(obj)
    st = state(obj)
    if st.deleted is not None and st.deleted == obj.id:
        raise model.DoesNotExist(
            f"{model.__name__} {obj.id!r} was deleted with delete(): set id = None to "
            "attach the file to a new record"
        )
    where = location(model, client)
    creating = st.snapshot is None
    data = permissions = None
    if creating:
        doc = codec_for(model).dump(obj)  # validates before anything is read or sent
        data, permissions = doc["data"], doc["permissions"] or None
        headers = {"If-None-Match": "*"}
    else:
        headers = if_match_headers(True, if_match=obj.last_modified)
    content, filename = yield from _read_op(source, filename, "attach()")
    mimetype = mimetype or mimetypes.guess_type(filename)[0] or DEFAULT_MIMETYPE
    if obj.id is None:
        obj.id = new_record_id()  # a client id makes the create safe to retry
    path = endpoint("record", bucket=where[0], collection=where[1], id=obj.id)
    file = File("attachment", filename, content, mimetype)
    action = "create" if creating else "update"
    try:
        yield from _precondition_op(client, path, headers, creating)
        response = yield from BaseClient.send.op(
            client, upload_request(path, file, data, permissions, headers)
        )
    except KintoException as exc:
        raise _refused(exc, obj, where, client, action=action, changes=data) from exc
    stored = response.json()
    if creating:
        yield from _created_op(obj, client, where, response, stored, data, permissions)
    else:
        yield from _answered_op(obj, client, where, response, stored)
    return True


def detach_op(obj: RecordLike, client: BaseClient) -> Op[None]:
    """Remove the record's file (``If-Match`` on its version); the record keeps an
    ``attachment`` key set to null, as the plugin leaves it."""
    model = type(obj)
    require_attachment_field(model, "detach()")
    if obj.id is None or state(obj).snapshot is None:
        raise ValueError(f"cannot detach from an unsaved {model.__name__} (it has no file)")
    where = location(model, client)
    path = endpoint("record", bucket=where[0], collection=where[1], id=obj.id)
    headers = if_match_headers(True, if_match=obj.last_modified)
    try:
        yield from _precondition_op(client, path, headers, False)
        response = yield from BaseClient.send.op(
            client, Request("DELETE", path + ATTACHMENT_SUFFIX, headers=headers)
        )
    except PreconditionFailed as exc:
        existing = exc.existing
        if exc.maybe_applied and isinstance(existing, dict) and _removed(existing):
            # re-sent after a lost answer, it met its own earlier attempt (as the
            # client's writes recognise theirs, kintorm.client.replays)
            _take(obj, None, existing["last_modified"])
            return
        raise _refused(exc, obj, where, client, action="update") from exc
    except KintoException as exc:
        raise _refused(exc, obj, where, client, action="update") from exc
    yield from _answered_op(obj, client, where, response, None)


def _removed(existing: JSONDict) -> bool:
    """The record read back after a removal: its file gone, a version to take."""
    return (
        ATTACHMENT_KEY in existing
        and existing[ATTACHMENT_KEY] is None
        and isinstance(existing.get("last_modified"), int)
    )


def _url_op(client: BaseClient, attachment: Attachment) -> Op[str]:
    """The file's URL: its location, joined to the server's attachments base URL when
    relative; AttachmentError for one that is not http(s)."""
    location = attachment.location
    base_url = None
    if not urlsplit(location).scheme:
        info = yield from BaseClient.server_facts.op(client)
        announced = (info.get("capabilities") or {}).get("attachments") or {}
        base_url = announced.get("base_url") if isinstance(announced, dict) else None
    try:
        url = attachment_url(location, base_url)
    except ValueError as exc:
        raise AttachmentError(str(exc)) from None
    if urlsplit(url).scheme.lower() not in _URL_SCHEMES:
        raise AttachmentError(f"the attachment's location {url!r} is not an http(s) URL")
    return url


def _target_op(to: Target, attachment: Attachment) -> Op[Any]:
    """Where to write: None, a path (a folder's gets the attachment's filename), or a
    binary file object."""
    if to is None or callable(getattr(to, "write", None)):
        return to
    if not isinstance(to, str | os.PathLike):
        raise TypeError(f"download() writes to a path or a binary file, not {type(to).__name__}")
    path = os.fspath(to)
    if (yield IsDir(path)):
        try:
            return os.path.join(path, local_filename(attachment.filename))
        except ValueError as exc:
            raise AttachmentError(f"{exc}: give a file path") from None
    return path


def download_op(obj: RecordLike, client: BaseClient, to: Target) -> Op[bytes]:
    """The record's file, checked against its hash and size; written to ``to`` too when
    given, only once checked (AttachmentHashMismatch otherwise, nothing written)."""
    model = type(obj)
    name = require_attachment_field(model, "download()")
    attachment: Attachment | None = getattr(obj, name)
    if attachment is None:
        raise AttachmentError(f"{model.__name__} {obj.id!r} has no attachment to download")
    url = yield from _url_op(client, attachment)
    target = yield from _target_op(to, attachment)
    # another origin than the server's (a CDN) gets no credentials: the client's rule
    response = yield from BaseClient.send.op(client, Request("GET", url))
    content = response.content
    expected = attachment.hash.lower()  # hex, as hashlib gives it
    digest = yield WriteVerified(content, expected, attachment.size, target)
    if digest != expected or len(content) != attachment.size:
        raise AttachmentHashMismatch(
            f"the file downloaded for {model.__name__} {obj.id!r} is not its attachment: "
            f"{len(content)} bytes of sha256 {digest}, expected {attachment.size} bytes of "
            f"sha256 {attachment.hash}; nothing was written",
            expected=attachment.hash,
            actual=digest,
            size=len(content),
        )
    return content
