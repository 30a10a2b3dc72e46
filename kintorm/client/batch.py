"""Batch: calls recorded on a batch client, sent as ``POST /batch`` in chunks."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kintorm.client.exceptions import KintoBatchException, KintoException, MalformedResponse
from kintorm.client.protocol import (
    JSON_CONTENT_TYPE,
    Op,
    Request,
    Response,
    Session,
    encode_json,
    error_for,
    preview,
    send,
)

if TYPE_CHECKING:
    from kintorm.client.base import BaseClient

logger = logging.getLogger("kintorm.client.batch")

C = TypeVar("C", bound="BaseClient")


def _sub_request(request: Request) -> dict[str, Any]:
    if request.files:
        raise KintoException(f"{request.method} {request.path}: uploads cannot be batched")
    sub: dict[str, Any] = {"method": request.method, "path": request.path_url}
    if request.headers:
        sub["headers"] = dict(request.headers)
    body = request.json()
    if body is not None:
        if not isinstance(body, dict):
            raise KintoException(
                f"{request.method} {request.path}: Kinto's batch only takes JSON object bodies "
                "(a JSONPatch cannot be batched)"
            )
        sub["body"] = body
    return sub


def _check_responses(response: Response, count: int) -> list[dict[str, Any]]:
    body = response.json()
    subs = body.get("responses") if isinstance(body, dict) else None
    if not isinstance(subs, list) or len(subs) != count:
        raise MalformedResponse(
            f"a batch of {count} requests got {preview(response.text)!r}",
            request=response.request,
            response=response,
        )
    return subs


def send_batch(
    session: Session, requests: list[Request], server_info: dict[str, Any], *, ignore_4xx: bool
) -> Op[list[Any]]:
    """Send ``requests`` in chunks; return every sub-response body in order.

    A 5xx sub-response raises at once (the server rolled that chunk back); 4xx
    ones are gathered and raised together as KintoBatchException, each with its
    index among ``requests``, unless ``ignore_4xx``.
    """
    limit = (server_info.get("settings") or {}).get("batch_max_requests") or len(requests) or 1
    results: list[Any] = []
    failures: list[KintoException] = []
    for start in range(0, len(requests), limit):
        chunk = requests[start : start + limit]
        payload = {"requests": [_sub_request(r) for r in chunk]}
        post = Request(
            "POST", "/batch", headers={"Content-Type": JSON_CONTENT_TYPE}, body=encode_json(payload)
        )
        response = yield from send(session, post)
        for offset, sub in enumerate(_check_responses(response, len(chunk))):
            index, status = start + offset, int(sub.get("status", 0))
            body = sub.get("body")
            results.append(body)
            logger.debug(
                "batch #%d %s %s -> %d", index, chunk[offset].method, sub.get("path"), status
            )
            if status < 400:
                continue
            sub_response = Response(
                status, sub.get("headers") or {}, encode_json(body), chunk[offset]
            )
            error = error_for(sub_response, chunk[offset])
            error.index = index  # type: ignore[attr-defined]
            if status >= 500:
                raise KintoBatchException([error], results)
            if not ignore_4xx:
                failures.append(error)
    if failures:
        raise KintoBatchException(failures, results)
    return results


class BatchContext(Generic[C]):
    """``with client.batch() as b`` / ``async with client.batch() as b``.

    Calls made on ``b`` are recorded (they return ``None``) and sent on exit;
    nothing is sent if the block raises.
    """

    def __init__(self, parent: BaseClient, batch_client: C) -> None:
        self._parent = parent
        self._client = batch_client

    def __enter__(self) -> C:
        return self._client

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self._parent._flush_batch(self._client)

    async def __aenter__(self) -> C:
        return self._client

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self._parent._flush_batch(self._client)
