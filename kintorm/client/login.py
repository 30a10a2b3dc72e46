"""``BrowserOAuth``: log in through the browser with Kinto's OpenID Connect plugin.

As in kinto-http: on the first request, the server's ``openid`` capability names
the providers; a loopback HTTP server is started on a free port, the browser is
sent to the provider's login page with that server as the callback, and the token
Kinto redirects to it becomes the ``Authorization`` header of every request.

Differences from kinto-http, all for safety: the loopback server listens on
127.0.0.1 only (kinto-http listens on every interface) and logs nothing (the
request line holds the token); the callback path holds a random secret, so
another local program or a web page cannot hand the client a token of its own
choosing; a login that fails (the provider's ``error=`` redirect) or that does
not come within ``timeout`` seconds raises :class:`KintoException` instead of
waiting forever; the token never appears in a repr.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

import requests
import requests.auth

from kintorm.client.exceptions import KintoException

__all__ = ["BrowserOAuth"]

#: how long login() waits for the browser, in seconds, unless told otherwise
LOGIN_TIMEOUT = 300.0
#: what the browser shows once the token has arrived
DONE_PAGE = b"<html><body><h1>Login successful</h1>You can close this page.</body></html>"


class _Callback(HTTPServer):
    """The loopback server; ``outcome`` is set by the first request on ``prefix``."""

    prefix: str
    outcome: dict[str, Any] | KintoException | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Callback

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line holds the token."""

    def do_GET(self) -> None:
        if not self.path.startswith(self.server.prefix) or self.server.outcome is not None:
            self.send_response(404)  # favicon.ico, guesses without the secret, replays
            self.end_headers()
            return
        self.server.outcome = _decode(self.path[len(self.server.prefix) :])
        ok = not isinstance(self.server.outcome, KintoException)
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(DONE_PAGE if ok else b"<html><body><h1>Login failed</h1></body></html>")


def _decode(tail: str) -> dict[str, Any] | KintoException:
    """The token Kinto appended to the callback (quoted base64 JSON), or the error
    the provider sent back (``error=...&error_description=...``)."""
    text = unquote(tail)
    if text.startswith("error="):
        fields = parse_qs(text)
        error = fields.get("error", ["?"])[0]
        description = fields.get("error_description", [""])[0]
        return KintoException(f"login failed: {error} {description}".rstrip())
    padded = text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
    try:
        token = json.loads(base64.b64decode(padded))
    except (binascii.Error, ValueError):
        return KintoException("login failed: the callback did not carry a token")
    if not (
        isinstance(token, dict)
        and isinstance(token.get("access_token"), str)
        and isinstance(token.get("token_type"), str)
    ):
        return KintoException("login failed: the token has no access_token and token_type")
    return token


class BrowserOAuth(requests.auth.AuthBase):
    """Log in through the browser (OpenID Connect), once, on the first request.

    ``provider`` names one of the server's OpenID providers (the first by default).
    ``open_browser`` opens the login URL (``webbrowser.open``); ``timeout`` is how
    long to wait for the login, in seconds. ``Client`` sets ``server_url``. With
    ``AsyncClient`` the login blocks the event loop: call ``login()`` first.
    """

    server_url: str = ""

    def __init__(
        self,
        provider: str | None = None,
        *,
        open_browser: Callable[[str], Any] = webbrowser.open,
        timeout: float = LOGIN_TIMEOUT,
    ) -> None:
        self.provider = provider
        self.header_type: str | None = None
        self.token: str | None = None
        self.open_browser = open_browser
        self.timeout = timeout

    def __repr__(self) -> str:
        state = "<hidden>" if self.token is not None else None
        return f"BrowserOAuth(provider={self.provider!r}, token={state})"

    def set_jwt_token(self, jwt_data: dict[str, Any]) -> None:
        """Keep the token of Kinto's callback (kinto-http's name)."""
        self.header_type = jwt_data["token_type"]
        self.token = jwt_data["access_token"]

    def header(self) -> str:
        """The ``Authorization`` value, logging in first when there is no token yet."""
        if self.token is None:
            self.login()
        return f"{self.header_type} {self.token}"

    def __call__(self, r: Any) -> Any:
        """Set the header on a ``requests`` or an ``httpx`` request."""
        r.headers["Authorization"] = self.header()
        return r

    def login(self) -> None:
        """The browser dance: open the provider's login page and wait for the token."""
        provider = self._provider_info()
        server = _Callback(("127.0.0.1", 0), _Handler)
        try:
            port = server.server_address[1]
            server.prefix = f"/auth/{secrets.token_urlsafe(16)}/"
            callback = f"http://localhost:{port}{server.prefix}"
            query = urlencode({"callback": callback, "scope": "openid email"})
            self.open_browser(f"{self.server_url}{provider['auth_path']}?{query}")
            deadline = time.monotonic() + self.timeout
            while server.outcome is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise KintoException(
                        f"no login came back from the browser within {self.timeout:g} s"
                    )
                server.timeout = remaining
                server.handle_request()
        finally:
            server.server_close()
        if isinstance(server.outcome, KintoException):
            raise server.outcome
        self.set_jwt_token(server.outcome)

    def _provider_info(self) -> dict[str, Any]:
        if not self.server_url:
            raise KintoException("BrowserOAuth has no server_url: pass it to Client(auth=...)")
        try:
            response = requests.get(self.server_url + "/", timeout=30)
            capabilities = response.json().get("capabilities", {})
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise KintoException(f"cannot read the server's capabilities: {exc}") from None
        providers = (capabilities.get("openid") or {}).get("providers") or []
        if not providers:
            raise KintoException(f"{self.server_url} has no OpenID provider (openid capability)")
        if self.provider is None:
            return dict(providers[0])
        for info in providers:
            if info.get("name") == self.provider:
                return dict(info)
        names = ", ".join(str(p.get("name")) for p in providers)
        raise KintoException(f"no OpenID provider {self.provider!r} on the server; it has {names}")
