"""Requests and responses as values: what an operation yields and what it is answered.

Nothing here touches the network: a :class:`Request` is built by an operation and
sent by a driver, which answers with a :class:`Response`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import attrs

from kintorm.client.decoding import decode_json
from kintorm.client.exceptions import MalformedResponse

JSON_CONTENT_TYPE = "application/json"
BODY_PREVIEW_CHARS = 200
#: the answer to a read whose If-None-Match matched: no body
NOT_MODIFIED = 304


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only HTTP headers (Kinto sends ``Etag``, users write ``ETag``)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): (k, v) for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@attrs.frozen
class File:
    """One part of a multipart upload."""

    field: str
    filename: str
    content: bytes = attrs.field(repr=lambda c: f"<{len(c)} bytes>")
    mimetype: str | None = None


@attrs.frozen
class Request:
    """An HTTP request to Kinto; ``path`` is relative to the server URL (``/buckets/b``).

    Headers that carry credentials are never part of it: the driver adds them.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes | None = None
    files: tuple[File, ...] = ()
    form: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def path_url(self) -> str:
        """The path with its query string (what kinto-http's exceptions show)."""
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path

    def json(self) -> Any:
        """The decoded JSON body, or None without a body."""
        return None if self.body is None else json.loads(self.body)


def _to_headers(headers: Mapping[str, str]) -> Headers:
    return headers if isinstance(headers, Headers) else Headers(headers)


_NOT_DECODED: Any = object()


@attrs.frozen
class Response:
    """An HTTP response: ``status_code``, case-insensitive ``headers``, raw ``content``."""

    status_code: int
    headers: Headers = attrs.field(converter=_to_headers)
    content: bytes = b""
    request: Request | None = attrs.field(default=None, repr=False, eq=False)
    #: the decoded body, once decoded (the body is parsed once, however often it is read)
    decoded: Any = attrs.field(default=_NOT_DECODED, repr=False, eq=False)
    #: this answers a re-send after a lost answer: an earlier attempt may have been applied
    replay: bool = attrs.field(default=False, repr=False, eq=False)

    @property
    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        return self.content.decode("utf-8", errors="replace")

    def json(self, decode: Callable[[bytes], Any] = decode_json) -> Any:
        """The decoded JSON body (the same object on each call); a body that is not
        JSON raises MalformedResponse. ``decode``: the decoder the first call uses, for
        a body read into other values than ``json.loads`` gives (a page of records
        loaded as they are decoded); ValueError for what is not JSON."""
        if self.decoded is not _NOT_DECODED:
            return self.decoded
        try:
            decoded = decode(self.content)
        except ValueError:
            raise MalformedResponse(
                f"expected JSON, got {preview(self.text)!r}", request=self.request, response=self
            ) from None
        object.__setattr__(self, "decoded", decoded)
        return decoded


def preview(text: str) -> str:
    """``text`` cut to BODY_PREVIEW_CHARS, for messages."""
    return text if len(text) <= BODY_PREVIEW_CHARS else text[:BODY_PREVIEW_CHARS] + "..."
