"""Generic verbs on Kinto objects (buckets, groups, collections, records).

The four kinds differ only in their URL and parents, so each verb is written
once here, driven by the :data:`KINDS` table; ``base.py`` gives them
kinto-http's names and signatures.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs

from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import (
    BucketNotFound,
    CollectionNotFound,
    KintoException,
    MalformedResponse,
    PreconditionFailed,
)
from kintorm.client.patch import BasicPatch, PatchType
from kintorm.client.protocol import (
    JSON_CONTENT_TYPE,
    NOT_MODIFIED,
    Op,
    Request,
    Response,
    Session,
    collect,
    encode_json,
    encode_params,
    paginate,
    preview,
    quote_etag,
    send,
)

logger = logging.getLogger("kintorm.client")

JSONDict = dict[str, Any]


@attrs.frozen
class Kind:
    name: str
    #: the endpoint parameter that holds this object's own id
    id_param: str
    plural: str
    #: exception raised by get_<kind> on these statuses
    not_found: type[KintoException] = KintoException
    not_found_statuses: frozenset[int] = frozenset()
    #: statuses that mean "already gone" for delete(if_exists=True)
    absent_statuses: frozenset[int] = frozenset({404})


KINDS: Mapping[str, Kind] = {
    "bucket": Kind(
        "bucket",
        "bucket",
        "buckets",
        BucketNotFound,
        frozenset({403, 404}),
        frozenset({403, 404}),
    ),
    "group": Kind("group", "group", "groups"),
    "collection": Kind(
        "collection", "collection", "collections", CollectionNotFound, frozenset({404})
    ),
    "record": Kind("record", "id", "records"),
}


#: kinto-http's message replacing the server's on a 403 to create_<kind>
#: (kinto_http/client.py): Kinto answers 403 for a missing parent too.
FORBIDDEN_CREATE_HINTS: Mapping[str, str] = {
    kind: (
        f"Unauthorized. Please check that the {parent} exists and that you have the "
        f"permission to create or write on this {what}."
    )
    for kind, parent, what in (
        ("group", "bucket", "group"),
        ("collection", "bucket", "collection"),
        ("record", "collection", "collection record"),
    )
}
#: kinto-http's message on a 401 to get_bucket
UNAUTHORIZED_BUCKET_HINT = (
    "Unauthorized. Please authenticate or make sure the bucket can be read anonymously."
)


def read_options(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Split a read's keywords into query parameters and headers, as kinto-http does.

    ``if_none_match=`` becomes an ``If-None-Match`` header, ``headers=`` extra headers
    and ``params=`` (kinto-http's ``get_permissions(params=...)``) more parameters:
    none of them is ever sent as a filter.
    """
    params = dict(params)
    headers = dict(params.pop("headers", None) or {})
    params.update(params.pop("params", None) or {})
    if_none_match = params.pop("if_none_match", None)
    if if_none_match is not None:
        headers["If-None-Match"] = quote_etag(if_none_match)
    return params, headers


class Batching(Exception):
    """Raised inside an operation of a batch client once its request is recorded."""


class Verbs:
    """The verbs, for any kind. Subclasses provide the session and the defaults."""

    _session: Session
    bucket_name: str | None
    collection_name: str | None
    _recorder: list[Request] | None = None

    # --- plumbing -------------------------------------------------------------

    def _send(self, request: Request, ok: frozenset[int] = frozenset()) -> Op[Response]:
        if self._recorder is not None:
            self._recorder.append(request)
            raise Batching
        logger.debug("%s %s", request.method, request.path_url)
        return (yield from send(self._session, request, ok=ok))

    def _json(self, request: Request) -> Op[JSONDict]:
        response = yield from self._send(request)
        return _object(response)

    def _path(self, kind: str, plural: bool = False, **ids: str | None) -> str:
        spec = KINDS[kind]
        ids.setdefault("bucket", None)
        ids.setdefault("collection", None)
        if ids["bucket"] is None:
            ids["bucket"] = self.bucket_name
        if ids["collection"] is None:
            ids["collection"] = self.collection_name
        return endpoint(spec.plural if plural else spec.name, **ids)

    @staticmethod
    def _body(data: JSONDict | None, permissions: Any) -> bytes:
        payload: JSONDict = {}
        if data is not None:
            payload["data"] = data
        if permissions is not None:
            if hasattr(permissions, "as_dict"):  # kinto-http accepts such objects
                permissions = permissions.as_dict()
            payload["permissions"] = permissions
        return encode_json(payload)

    @staticmethod
    def _if_match(
        safe: bool, data: Mapping[str, Any] | None = None, if_match: Any = None
    ) -> dict[str, str]:
        if if_match is None and data:
            if_match = data.get("last_modified")
        return {"If-Match": quote_etag(if_match)} if safe and if_match is not None else {}

    # --- verbs ----------------------------------------------------------------

    def _get(self, kind: str, path: str, params: Mapping[str, Any]) -> Op[JSONDict]:
        """GET one object; ``None`` (as kinto-http) when ``if_none_match`` matched (304)."""
        spec = KINDS[kind]
        query, headers = read_options(params)
        request = Request("GET", path, encode_params(query), headers)
        try:
            response = yield from self._send(request)
        except KintoException as exc:
            status = getattr(exc.response, "status_code", None)
            if kind == "bucket" and status == 401:
                raise KintoException(UNAUTHORIZED_BUCKET_HINT, exc) from exc
            if status in spec.not_found_statuses:
                raise spec.not_found(f"{kind} {path} not found or not readable", exc) from exc
            raise
        if response.status_code == NOT_MODIFIED:
            return cast(JSONDict, None)
        return _object(response)

    def _write(
        self,
        method: str,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
        content_type: str = JSON_CONTENT_TYPE,
    ) -> Op[JSONDict]:
        request = Request(
            method, path, headers={**headers, "Content-Type": content_type}, body=body
        )
        try:
            return (yield from self._json(request))
        except PreconditionFailed as exc:
            if not exc.maybe_applied:
                raise
            return (yield from self._replayed(exc, request))

    def _replayed(self, error: PreconditionFailed, request: Request) -> Op[JSONDict]:
        """A write re-sent after a lost answer got 412: was it our earlier attempt?

        The object is read back (with its permissions) and returned when it holds
        what ``request`` sent; otherwise ``error`` is raised. A JSON Patch cannot be
        checked this way: the error then says that the write may have been applied.
        """
        check = _applied_check(request)
        if check is None:
            raise PreconditionFailed(
                f"{error.message}; an earlier attempt of this JSON Patch may have been "
                "applied (its answer was lost) and a JSON Patch cannot be checked against "
                "the stored object: reload it and check before re-applying",
                request=error.request,
                response=error.response,
            ) from error
        try:
            current = yield from self._json(Request("GET", request.path))
        except KintoException:
            raise error from None
        if not check(current):
            raise error
        logger.info(
            "%s %s: an earlier attempt was applied (its answer was lost)",
            request.method,
            request.path,
        )
        return current

    def _create(
        self,
        kind: str,
        ids: dict[str, str | None],
        data: JSONDict | None,
        permissions: Any,
        safe: bool,
        if_not_exists: bool,
    ) -> Op[JSONDict]:
        spec = KINDS[kind]
        data_id = data.get("id") if data else None
        if ids.get(spec.id_param) is None and data_id is not None:
            ids[spec.id_param] = data_id  # checked by endpoint(): an int is its string
        if kind == "record" and ids.get("id") is None:
            ids["id"] = str(uuid.uuid4())  # a client id makes the create safe to retry
        path = self._path(kind, plural=False, **ids)
        headers = {"If-None-Match": "*"} if safe or if_not_exists else {}
        try:
            return (yield from self._write("PUT", path, self._body(data, permissions), headers))
        except PreconditionFailed:
            if not if_not_exists:
                raise
        except KintoException as exc:
            hint = FORBIDDEN_CREATE_HINTS.get(kind)
            if hint is None or getattr(exc.response, "status_code", None) != 403:
                raise
            raise KintoException(hint, exc) from exc
        return (yield from self._get(kind, path, {}))

    def _update(
        self,
        path: str,
        data: JSONDict | None,
        permissions: Any,
        safe: bool,
        if_match: Any,
    ) -> Op[JSONDict]:
        headers = self._if_match(safe, data, if_match)
        return (yield from self._write("PUT", path, self._body(data, permissions), headers))

    def _patch(
        self,
        path: str,
        changes: PatchType | None,
        data: JSONDict | None,
        original: JSONDict | None,
        permissions: Any,
        safe: bool,
        if_match: Any,
    ) -> Op[JSONDict]:
        if changes is None:
            changes = BasicPatch(data=data, permissions=permissions)
        if not isinstance(changes, PatchType):
            raise TypeError(
                f"changes must be BasicPatch, MergePatch or JSONPatch, not {type(changes).__name__}"
            )
        headers = self._if_match(safe, original or data, if_match)
        body = encode_json(changes.body)
        return (yield from self._write("PATCH", path, body, headers, changes.content_type))

    def _delete(
        self, kind: str, path: str, safe: bool, if_match: Any, if_exists: bool
    ) -> Op[JSONDict | None]:
        request = Request("DELETE", path, headers=self._if_match(safe, if_match=if_match))
        absent = KINDS[kind].absent_statuses if if_exists else frozenset()
        try:
            response = yield from self._send(request, ok=absent)
        except KintoException as exc:
            if not (exc.maybe_applied and getattr(exc.response, "status_code", 0) == 404):
                raise
            # a replayed DELETE: the earlier attempt, whose answer was lost, deleted it
            logger.info("DELETE %s: an earlier attempt was applied (its answer was lost)", path)
            return {"id": path.rsplit("/", 1)[-1], "deleted": True}
        if response.status_code in absent:
            return None
        data: JSONDict = _data(response)
        return data

    def _delete_all(
        self, path: str, safe: bool, if_match: Any, params: dict[str, Any]
    ) -> Op[list[JSONDict]]:
        """Plural DELETE; Kinto pages it like a listing, so every page is deleted."""
        headers = self._if_match(safe, if_match=if_match)
        return self._pages(Request("DELETE", path, headers=headers), params)

    def _list(self, path: str, params: dict[str, Any]) -> Op[list[Any]]:
        """Every page, or one page when ``_limit`` is given, or ``pages=`` pages."""
        return self._pages(Request("GET", path), params)

    def _pages(self, request: Request, params: dict[str, Any]) -> Op[list[Any]]:
        params, headers = read_options(params)
        pages = params.pop("pages", None)
        if pages is None:
            pages = 1 if "_limit" in params else float("inf")
        request = attrs.evolve(
            request, params=encode_params(params), headers={**request.headers, **headers}
        )
        if self._recorder is not None:
            yield from self._send(request)
        return (yield from collect(paginate(self._session, request, pages=pages)))


# --- recognising one's own write after a lost answer ------------------------------

_IGNORED = frozenset({"id", "last_modified"})


def _has_principals(stored: Any, sent: Any, *, clears: bool = False) -> bool:
    """Every principal sent is in the stored permissions (Kinto adds the writer to
    ``write``); with ``clears``, a ``None`` list (merge-patch) means emptied."""
    if not sent:
        return True
    stored = stored if isinstance(stored, dict) else {}
    for perm, principals in sent.items():
        have = stored.get(perm) or []
        if principals is None:
            if clears and have:
                return False
            continue
        if not set(principals) <= set(have):
            return False
    return True


def _merged(target: Any, patch: Any) -> Any:
    """RFC 7396: ``patch`` applied to ``target``."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merged(result.get(key), value)
    return result


def _applied_check(request: Request) -> Callable[[JSONDict], bool] | None:
    """A test telling whether an object read back holds what ``request`` wrote;
    None for a JSON Patch, which cannot be checked."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    content_type = headers.get("content-type", JSON_CONTENT_TYPE)
    if "json-patch" in content_type:
        return None
    body = request.json() or {}
    sent = body.get("data") if isinstance(body, dict) else None
    sent = sent if isinstance(sent, dict) else {}
    perms = body.get("permissions") if isinstance(body, dict) else None
    merge = "merge-patch" in content_type
    exact = request.method == "PUT" and headers.get("if-none-match") != "*"

    def check(current: JSONDict) -> bool:
        stored = current.get("data")
        if not isinstance(stored, dict):
            return False
        if not _has_principals(current.get("permissions"), perms, clears=merge):
            return False
        if exact:  # an update (PUT): the same data
            return _strip(stored) == _strip(sent)
        if merge:  # the patch changes nothing any more
            return bool(_merged(stored, sent) == stored)
        # a create (every field sent, as sent) or a basic patch (a shallow merge)
        return all(k in stored and stored[k] == v for k, v in sent.items() if k not in _IGNORED)

    return check


def _strip(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in _IGNORED}


def _object(response: Response) -> JSONDict:
    """The body of ``response``, which must be a JSON object."""
    body = response.json()
    if not isinstance(body, dict):
        raise MalformedResponse(
            f"expected a JSON object, got {preview(response.text)!r}",
            request=response.request,
            response=response,
        )
    return body


def _data(response: Response, expected: Callable[..., Any] = dict) -> Any:
    """The ``data`` member of a response body, checked."""
    body = response.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, expected):  # type: ignore[arg-type]
        raise MalformedResponse(
            f"expected a body with a data {expected.__name__}",
            request=response.request,
            response=response,
        )
    return data
