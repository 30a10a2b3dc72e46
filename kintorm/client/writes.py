"""Pure builders of the write requests on one object, and the one place a record id is made.

Each builder returns the :class:`~kintorm.client.messages.Request` of one write
with its preconditions and content type: ``If-None-Match: *`` on a safe create,
``If-Match: "<timestamp>"`` on a safe update, patch or delete (``if_match=``, or
the ``last_modified`` of the data or original given), ``Content-Type`` from the
patch type. The client's verbs (``resources.py``) send them; the mapper's bulk
paths put them into batches. ``path`` is the object's endpoint
(``kintorm.client.endpoints.endpoint("record", bucket=..., collection=..., id=...)``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from kintorm.client.encoding import encode_json, quote_etag
from kintorm.client.exceptions import CollectionNotFound, KintoException
from kintorm.client.messages import JSON_CONTENT_TYPE, Request
from kintorm.client.patch import BasicPatch, PatchType

__all__ = [
    "MISSING_COLLECTION_ERRNO",
    "create_request",
    "delete_request",
    "if_match_headers",
    "missing_collection",
    "new_record_id",
    "patch_request",
    "update_request",
    "write_body",
]

Permissions = Mapping[str, Iterable[str]]
#: Kinto's errno of a 404 to a record write whose collection does not exist
MISSING_COLLECTION_ERRNO = 111


def new_record_id() -> str:
    """A new record id (a UUID4): given by the client, it makes a create safe to re-send."""
    return str(uuid.uuid4())


def write_body(data: Mapping[str, Any] | None, permissions: Any = None) -> bytes:
    """``{"data": ..., "permissions": ...}`` as JSON bytes, each member only when given;
    a permissions object with ``as_dict()`` (as kinto-http accepts) is turned into its dict."""
    payload: dict[str, Any] = {}
    if data is not None:
        payload["data"] = data
    if permissions is not None:
        if hasattr(permissions, "as_dict"):
            permissions = permissions.as_dict()
        payload["permissions"] = permissions
    return encode_json(payload)


def if_match_headers(
    safe: bool, data: Mapping[str, Any] | None = None, if_match: Any = None
) -> dict[str, str]:
    """``If-Match`` on ``if_match`` (or ``data["last_modified"]``) when ``safe``, else none."""
    if if_match is None and data:
        if_match = data.get("last_modified")
    return {"If-Match": quote_etag(if_match)} if safe and if_match is not None else {}


def _json_write(method: str, path: str, body: bytes, headers: Mapping[str, str]) -> Request:
    return Request(method, path, headers={**headers, "Content-Type": JSON_CONTENT_TYPE}, body=body)


def create_request(
    path: str,
    data: Mapping[str, Any] | None = None,
    permissions: Any = None,
    *,
    safe: bool = True,
) -> Request:
    """``PUT path`` of a new object; with ``safe``, ``If-None-Match: *``: an existing
    object is never overwritten (412 instead)."""
    headers = {"If-None-Match": "*"} if safe else {}
    return _json_write("PUT", path, write_body(data, permissions), headers)


def update_request(
    path: str,
    data: Mapping[str, Any] | None = None,
    permissions: Any = None,
    *,
    safe: bool = True,
    if_match: Any = None,
) -> Request:
    """``PUT path`` replacing the object; with ``safe``, ``If-Match`` on ``if_match`` or
    ``data["last_modified"]`` (when there is one)."""
    headers = if_match_headers(safe, data, if_match)
    return _json_write("PUT", path, write_body(data, permissions), headers)


def patch_request(
    path: str,
    changes: PatchType | None = None,
    *,
    data: dict[str, Any] | None = None,
    original: Mapping[str, Any] | None = None,
    permissions: Any = None,
    safe: bool = True,
    if_match: Any = None,
) -> Request:
    """``PATCH path`` with ``changes`` (a BasicPatch of ``data``/``permissions`` when
    None), sent with its content type; with ``safe``, ``If-Match`` on ``if_match``, or
    on the ``last_modified`` of ``original`` (else of ``data``)."""
    if changes is None:
        changes = BasicPatch(data=data, permissions=permissions)
    if not isinstance(changes, PatchType):
        raise TypeError(
            f"changes must be BasicPatch, MergePatch or JSONPatch, not {type(changes).__name__}"
        )
    headers = {**if_match_headers(safe, original or data, if_match)}
    headers["Content-Type"] = changes.content_type
    return Request("PATCH", path, headers=headers, body=encode_json(changes.body))


def delete_request(path: str, *, safe: bool = True, if_match: Any = None) -> Request:
    """``DELETE path``; with ``safe``, ``If-Match`` on ``if_match`` when given."""
    return Request("DELETE", path, headers=if_match_headers(safe, if_match=if_match))


def missing_collection(error: KintoException) -> CollectionNotFound | None:
    """The :class:`CollectionNotFound` that a failed record write means when Kinto
    answered 404 with errno 111 (the record's collection does not exist); else None.
    The client's record verbs raise it, and a batch reports such items with it."""
    if isinstance(error, CollectionNotFound):
        return error
    path = getattr(error.request, "path", "")
    if not isinstance(path, str) or "/records" not in path:
        return None  # errno 111 is also Kinto's "unknown URL"
    response = error.response
    if getattr(response, "status_code", None) != 404:
        return None
    try:
        body = response.json()
    except Exception:
        return None
    if not isinstance(body, dict) or body.get("errno") != MISSING_COLLECTION_ERRNO:
        return None
    return CollectionNotFound(f"no collection {path.split('/records', 1)[0]} (404)", error)
