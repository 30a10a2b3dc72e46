"""The settings and mutable state shared by a client and its clones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs

from kintorm.client.exceptions import KintoException
from kintorm.client.messages import Request


@attrs.define
class ServerFacts:
    """What the server's root (``GET /``) says that is the same for every user (its
    ``user`` part left out), shared by a client and its clones, whatever their
    credentials."""

    info: dict[str, Any] | None = None


@attrs.define
class Session:
    """Settings and mutable state shared by a client and its clones."""

    server_url: str
    retry: int = 0
    retry_after: float | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    backoff_until: float = 0.0
    server_info: dict[str, Any] | None = None
    #: kinto-http's dry mode: nothing is sent, every request is answered ``200 {}``
    dry_mode: bool = False
    #: follow Next-Page links to any origin: only when every request goes through a
    #: session object of the user's (a mock), which adds no credentials of ours
    any_origin: bool = False
    #: the server's facts, shared also with clones that have other credentials
    facts: ServerFacts = attrs.field(factory=ServerFacts)

    @property
    def origin(self) -> tuple[str, str]:
        """The server URL's (scheme, host:port)."""
        parts = urlsplit(self.server_url)
        return parts.scheme, parts.netloc

    @property
    def root_path(self) -> str:
        """The server URL's path (``/v1``)."""
        return urlsplit(self.server_url).path.rstrip("/")

    def url(self, request: Request) -> str:
        """The absolute URL of ``request``, its query included."""
        query = f"?{urlencode(request.params)}" if request.params else ""
        return f"{self.server_url.rstrip('/')}{request.path}{query}"

    def relative(self, url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Split an absolute URL from the server (``Next-Page``) into (path, params).

        A URL on another origin is refused: following it would hand our
        credentials to someone else.
        """
        parts = urlsplit(url)
        if self.any_origin and (parts.scheme, parts.netloc) != self.origin:
            params = tuple(parse_qsl(parts.query, keep_blank_values=True))
            return parts._replace(query="").geturl(), params
        if (parts.scheme, parts.netloc) != self.origin:
            raise KintoException(
                f"refusing to follow a link to another origin ({parts.scheme}://{parts.netloc}); "
                f"the server is {self.origin[0]}://{self.origin[1]}"
            )
        path = parts.path
        root = self.root_path
        if root and path.startswith(root):
            path = path[len(root) :]
        return path or "/", tuple(parse_qsl(parts.query, keep_blank_values=True))
