"""Generic verbs on Kinto objects (buckets, groups, collections, records).

The four kinds differ only in their URL and parents, so each verb is written
once here, driven by the :data:`KINDS` table; ``base.py`` gives them
kinto-http's names and signatures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar, cast

import attrs

from kintorm.client.effects import Op
from kintorm.client.encoding import encode_params, quote_etag
from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import (
    BucketNotFound,
    CollectionNotFound,
    KintoException,
    MalformedResponse,
    PreconditionFailed,
)
from kintorm.client.messages import NOT_MODIFIED, Request, Response, preview
from kintorm.client.pagination import collect, paginate
from kintorm.client.patch import PatchType
from kintorm.client.replays import applied_check
from kintorm.client.retries import send
from kintorm.client.shared import Session
from kintorm.client.writes import (
    create_request,
    delete_request,
    if_match_headers,
    missing_collection,
    new_record_id,
    patch_request,
    update_request,
)

logger = logging.getLogger("kintorm.client")

JSONDict = dict[str, Any]
Permissions = Mapping[str, Iterable[str]]
T = TypeVar("T")


def given(*values: Any) -> Any:
    """The first value that is not None: an empty id is an (invalid) id, not a default."""
    return next((v for v in values if v is not None), None)


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


class Verbs:
    """The verbs, for any kind. Subclasses provide the session and the defaults."""

    _session: Session
    bucket_name: str | None
    collection_name: str | None
    #: a batch client's recorded requests: its driver records each request instead of
    #: sending it, and ends the operation there (see ``BaseClient.batch``)
    _recorder: list[Request] | None = None

    # --- plumbing -------------------------------------------------------------

    def _send(self, request: Request, ok: Collection[int] = frozenset()) -> Op[Response]:
        return send(self._session, request, ok=ok)

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

    def _write(self, request: Request) -> Op[JSONDict]:
        """Send a write; a 412 meeting our own earlier attempt (a lost answer) succeeds."""
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
        check = applied_check(request)
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
            ids["id"] = new_record_id()  # a client id makes the create safe to retry
        path = self._path(kind, plural=False, **ids)
        request = create_request(path, data, permissions, safe=safe or if_not_exists)
        try:
            return (yield from self._write(request))
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
        request = update_request(path, data, permissions, safe=safe, if_match=if_match)
        return (yield from self._write(request))

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
        request = patch_request(
            path,
            changes,
            data=data,
            original=original,
            permissions=permissions,
            safe=safe,
            if_match=if_match,
        )
        return (yield from self._write(request))

    def _delete(
        self, kind: str, path: str, safe: bool, if_match: Any, if_exists: bool
    ) -> Op[JSONDict | None]:
        request = delete_request(path, safe=safe, if_match=if_match)
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

    @staticmethod
    def _in_collection(write: Op[T]) -> Op[T]:
        """``write`` (a record's), its 404 errno 111 raised as CollectionNotFound."""
        try:
            return (yield from write)
        except KintoException as exc:
            missing = missing_collection(exc)
            if missing is None or missing is exc:
                raise
            raise missing from exc

    def _delete_all(
        self, path: str, safe: bool, if_match: Any, params: dict[str, Any]
    ) -> Op[list[JSONDict]]:
        """Plural DELETE; Kinto pages it like a listing, so every page is deleted."""
        headers = if_match_headers(safe, if_match=if_match)
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
        return collect(paginate(self._session, request, pages=pages, ahead=True))


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
