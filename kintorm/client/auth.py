"""Authentication: every form kinto-http accepts, turned into one Authorization header.

Credentials are held by :class:`Credentials`, whose repr never shows them, and
are added to requests by the drivers only: they are not part of
:class:`~kintorm.client.protocol.Request`, so they cannot leak into logs,
reprs or exception messages that show requests.
"""

from __future__ import annotations

import base64
from typing import Any

import requests.auth

__all__ = ["BearerTokenAuth", "Credentials", "TokenAuth", "resolve_auth"]


class TokenAuth(requests.auth.AuthBase):
    """``Authorization: <type> <token>`` (type ``Bearer`` unless given)."""

    def __init__(self, token: str, type: str | None = None) -> None:
        self.token = token
        self.type = type or "Bearer"

    def header(self) -> str:
        """The ``Authorization`` header value: ``"<type> <token>"``."""
        return f"{self.type} {self.token}"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self.header()
        return r

    def __repr__(self) -> str:
        return f"{type(self).__name__}(type={self.type!r}, token=<hidden>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenAuth) and other.header() == self.header()

    __hash__ = None  # type: ignore[assignment]


class BearerTokenAuth(TokenAuth):
    """``Authorization: Bearer <token>``; ``type="Bearer+OIDC"`` customises the scheme word."""


def _basic(user: str, password: str) -> TokenAuth:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return TokenAuth(token, type="Basic")


def _from_string(auth: str) -> TokenAuth:
    """``"user:pass"`` -> Basic; ``"Bearer xyz"`` / ``"Basic xyz"`` -> that scheme.

    The scheme word is checked before splitting on ``:`` so a token that contains
    a colon stays a token.
    """
    scheme, _, rest = auth.partition(" ")
    colon = auth.find(":")
    if rest and (colon == -1 or auth.find(" ") < colon):
        return TokenAuth(rest.strip(), type=scheme)
    if colon > 0:
        user, _, password = auth.partition(":")
        return _basic(user, password)
    raise ValueError(
        "unsupported auth string: use 'user:password', 'Bearer <token>' or 'Basic <token>'"
    )


class Credentials:
    """What a client authenticates with; its repr hides the secret."""

    __slots__ = ("given", "header", "passthrough")

    def __init__(
        self, header: str | None = None, passthrough: Any = None, given: Any = None
    ) -> None:
        #: the Authorization header value, when kintorm builds it itself
        self.header = header
        #: an auth object of the transport library (a ``requests`` or ``httpx`` auth)
        self.passthrough = passthrough
        #: the auth as the user gave it (kinto-http's ``session.auth``); never shown
        self.given = given

    def __repr__(self) -> str:
        return "Credentials(<hidden>)" if self.header or self.passthrough else "Credentials(None)"


def resolve_auth(auth: Any, server_url: str | None = None) -> Credentials:
    """Credentials from a tuple, a string, a TokenAuth, or any other auth object.

    An auth object with a ``server_url`` attribute (``BrowserOAuth``) is told the
    server's URL, as kinto-http does.
    """
    if isinstance(auth, Credentials):
        return auth
    if server_url is not None and hasattr(auth, "server_url"):
        auth.server_url = server_url
    credentials = _resolve(auth)
    credentials.given = auth
    return credentials


def _resolve(auth: Any) -> Credentials:
    if auth is None or auth == "":
        return Credentials()
    if isinstance(auth, str):
        return Credentials(_from_string(auth).header())
    if isinstance(auth, tuple | list) and len(auth) == 2:
        return Credentials(_basic(str(auth[0]), str(auth[1])).header())
    if isinstance(auth, TokenAuth):
        return Credentials(auth.header())
    if isinstance(auth, requests.auth.HTTPBasicAuth):
        return Credentials(_basic(str(auth.username), str(auth.password)).header())
    if callable(auth) or hasattr(auth, "auth_flow"):
        return Credentials(passthrough=auth)
    raise TypeError(
        f"unsupported auth of type {type(auth).__name__}: use (user, password), "
        "'user:password', 'Bearer <token>', BearerTokenAuth or a requests auth object"
    )
