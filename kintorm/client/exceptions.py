"""Exceptions raised by the Kinto client.

The tree::

    Exception
     └── KintoException              any failed call; .request, .response
          ├── BucketNotFound          get_bucket(): missing or unreadable (403/404)
          ├── CollectionNotFound      get_collection() on a missing collection
          ├── BackoffException        the server asked for a pause (Backoff header) that is not over
          ├── KintoBatchException     sub-requests of a batch failed; .exceptions
          ├── PreconditionFailed      412: the object changed (or exists) since the version given
          ├── TransportError          no HTTP response at all (connection refused, reset, timeout)
          └── MalformedResponse       not what Kinto sends (non-JSON, bad shape)

Messages name the method, the path (with the server's prefix, ``PUT /v1/buckets/b``,
as kinto-http's), the status and the server's message; they
never contain credentials (the URL is shown as a path, the headers are not shown).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BackoffException",
    "BucketNotFound",
    "CollectionNotFound",
    "KintoBatchException",
    "KintoException",
    "MalformedResponse",
    "PreconditionFailed",
    "TransportError",
]


class KintoException(Exception):
    """A failed call to Kinto.

    ``request`` is the :class:`~kintorm.client.messages.Request` that was sent and
    ``response`` the :class:`~kintorm.client.messages.Response` (``status_code``,
    ``headers``, ``json()``) when the server answered. ``maybe_applied`` is true
    when an earlier attempt of this request (or this one) may have been applied
    although its answer was lost (a reset, a timeout, a body cut short, a 502/504).
    """

    maybe_applied: bool = False
    #: the server URL's path (``/v1``), shown before the request's path as kinto-http does
    path_prefix: str = ""

    def __init__(
        self,
        message: str | None = None,
        exception: BaseException | None = None,
        *,
        request: Any = None,
        response: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request: Any = request if request is not None else getattr(exception, "request", None)
        self.response: Any = (
            response if response is not None else getattr(exception, "response", None)
        )
        self.path_prefix = getattr(exception, "path_prefix", "")

    def __str__(self) -> str:
        request, response = self.request, self.response
        if request is not None and response is not None:
            path = getattr(request, "path_url", None) or getattr(request, "path", "")
            if isinstance(path, str) and path.startswith("/"):
                path = self.path_prefix + path
            return f"{request.method} {path} - {response.status_code} {self.message or ''}".rstrip()
        return self.message or ""


class BucketNotFound(KintoException):
    """The bucket does not exist or is not readable (Kinto answers 403 for both)."""


class CollectionNotFound(KintoException):
    """The collection does not exist or is not readable."""


class BackoffException(KintoException):
    """The server sent ``Backoff: <seconds>`` and the pause is not over."""

    def __init__(
        self, message: str | None, backoff: int, exception: BaseException | None = None
    ) -> None:
        super().__init__(message, exception)
        self.backoff = backoff


class PreconditionFailed(KintoException):
    """412: a safe write found the object changed (``If-Match``) or existing (``If-None-Match``).

    ``existing`` is the server's current object when it sent it.
    """

    @property
    def existing(self) -> dict[str, Any] | None:
        """The object the server has now (the ``existing`` member of its 412 answer),
        ``None`` when it has none (the object was deleted) or the answer had no body."""
        try:
            body = self.response.json()
        except Exception:
            return None
        details = body.get("details") if isinstance(body, dict) else None
        existing = details.get("existing") if isinstance(details, dict) else None
        return existing if isinstance(existing, dict) else None


class TransportError(KintoException):
    """No HTTP response came back: connection refused or reset, or a timeout."""


class MalformedResponse(KintoException):
    """The server's answer is not what Kinto sends (e.g. an HTML page from a proxy)."""


class KintoBatchException(KintoException):
    """Sub-requests of a batch failed.

    ``exceptions`` holds one :class:`KintoException` per failure, in order, each
    with ``index`` (its position among the batch's requests), ``request`` and
    ``response``; ``results`` holds the bodies of every sub-response.
    """

    def __init__(self, exceptions: list[KintoException], results: list[Any]) -> None:
        lines = [f"#{getattr(e, 'index', '?')}: {e}" for e in exceptions]
        super().__init__(f"{len(exceptions)} batch sub-request(s) failed:\n" + "\n".join(lines))
        self.exceptions = exceptions
        self.results = results
