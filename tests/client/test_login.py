"""BrowserOAuth without a network: Kinto's root answered by ``responses``, the browser
played by a thread that follows the login URL to the loopback callback (http.client,
which ``responses`` does not intercept), as Kinto's openid plugin would redirect it."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import responses

from kintorm import AsyncClient, BrowserOAuth, Client, KintoException
from kintorm.client.transport import HttpxTransport, async_http

from ._wire import SERVER, SERVER_INFO

httpx = async_http()  # the library AsyncClient runs on

PROVIDERS = [
    {"name": "auth0", "auth_path": "/openid/auth0/login", "header_type": "Bearer"},
    {"name": "google", "auth_path": "/openid/google/login", "header_type": "Bearer"},
]
TOKEN = {"access_token": "s3cr3t-token", "token_type": "Bearer", "expires_in": 3600}


def _encoded(token: dict[str, Any]) -> str:
    """What Kinto appends to the callback: quoted standard base64 of the JSON."""
    return quote(base64.b64encode(json.dumps(token).encode()).decode())


class Browser:
    """Records the URLs it is sent to and, in a thread, GETs what ``answer(callback)``
    returns (each a URL on the loopback callback server)."""

    def __init__(self, answer: Callable[[str], list[str]]) -> None:
        self.answer = answer
        self.opened: list[str] = []
        self.statuses: list[int] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        callback = parse_qs(urlsplit(url).query)["callback"][0]
        thread = threading.Thread(target=self._visit, args=(self.answer(callback),))
        thread.start()
        self.threads.append(thread)
        return True

    def _visit(self, urls: list[str]) -> None:
        for url in urls:
            parts = urlsplit(url)
            connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=30)
            try:
                connection.request("GET", parts.path, headers={"Host": parts.netloc})
                self.statuses.append(connection.getresponse().status)
            finally:
                connection.close()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()


@pytest.fixture
def kinto_root(rsps: responses.RequestsMock) -> Callable[..., None]:
    def serve(providers: list[dict[str, Any]] | None = PROVIDERS) -> None:
        capabilities = {"openid": {"providers": providers}} if providers is not None else {}
        rsps.get(f"{SERVER}/", json={**SERVER_INFO, "capabilities": capabilities})

    return serve


def test_sync_client_logs_in_once_and_sends_the_token(
    rsps: responses.RequestsMock, kinto_root: Callable[..., None], capfd: Any
) -> None:
    kinto_root()
    rsps.get(f"{SERVER}/buckets/b/collections/c/records", json={"data": []})
    browser = Browser(lambda callback: [callback + _encoded(TOKEN)])
    auth = BrowserOAuth(open_browser=browser)
    client = Client(server_url=SERVER, auth=auth, bucket="b", collection="c")
    assert auth.server_url == SERVER
    assert client.get_records() == []
    assert client.get_records() == []
    browser.join()
    assert len(browser.opened) == 1  # one login for the client's life
    login = urlsplit(browser.opened[0])
    assert f"{login.scheme}://{login.netloc}{login.path}" == f"{SERVER}/openid/auth0/login"
    query = parse_qs(login.query)
    assert query["scope"] == ["openid email"]
    callback = urlsplit(query["callback"][0])
    assert callback.hostname == "localhost" and callback.path.startswith("/auth/")
    assert len(callback.path.split("/")[2]) >= 16  # the secret
    sent = [c.request for c in rsps.calls if c.request.url.endswith("/records")]
    assert [r.headers["Authorization"] for r in sent] == ["Bearer s3cr3t-token"] * 2
    assert browser.statuses == [200]
    assert "s3cr3t" not in repr(auth) and "s3cr3t" not in repr(client)
    out, err = capfd.readouterr()
    assert "s3cr3t" not in out + err  # the loopback server logs no request line


def test_async_client_sends_the_token(
    rsps: responses.RequestsMock, kinto_root: Callable[..., None]
) -> None:
    kinto_root()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization", ""))
        return httpx.Response(200, json={"data": []})

    browser = Browser(lambda callback: [callback + _encoded(TOKEN)])
    client = AsyncClient(server_url=SERVER, auth=BrowserOAuth(open_browser=browser), bucket="b")
    client._transport = HttpxTransport(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    assert asyncio.run(client.get_collections()) == []
    browser.join()
    assert seen == ["Bearer s3cr3t-token"]


def test_login_can_be_done_first(kinto_root: Callable[..., None]) -> None:
    kinto_root()
    browser = Browser(lambda callback: [callback + _encoded(TOKEN)])
    auth = BrowserOAuth("google", open_browser=browser)
    auth.server_url = SERVER
    auth.login()
    browser.join()
    assert "/openid/google/login?" in browser.opened[0]
    assert auth.header() == "Bearer s3cr3t-token"
    assert repr(auth) == "BrowserOAuth(provider='google', token=<hidden>)"


def test_a_callback_without_the_secret_is_refused(kinto_root: Callable[..., None]) -> None:
    kinto_root()
    forged = {**TOKEN, "access_token": "attacker"}

    def answer(callback: str) -> list[str]:
        root = callback.split("/auth/")[0]
        return [
            f"{root}/favicon.ico",
            f"{root}/auth/{_encoded(forged)}",
            callback + _encoded(TOKEN),
        ]

    browser = Browser(answer)
    auth = BrowserOAuth(open_browser=browser)
    auth.server_url = SERVER
    auth.login()
    browser.join()
    assert browser.statuses == [404, 404, 200]
    assert auth.token == "s3cr3t-token"


def _own_address() -> str | None:
    """A non-loopback address of this host (a UDP connect sends nothing), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith(("127.", "0.")) else address


def test_the_callback_listens_on_loopback_only(kinto_root: Callable[..., None]) -> None:
    address = _own_address()
    if address is None:
        pytest.skip("this host has no non-loopback IPv4 address to probe the callback from")
    kinto_root()
    probes: list[int] = []

    def answer(callback: str) -> list[str]:
        with socket.socket() as probe:
            probe.settimeout(5)
            probes.append(probe.connect_ex((address, urlsplit(callback).port or 0)))
        return [callback + _encoded(TOKEN)]

    auth = BrowserOAuth(open_browser=(browser := Browser(answer)))
    auth.server_url = SERVER
    auth.login()
    browser.join()
    assert len(probes) == 1 and probes[0] != 0  # refused on the host's own address
    assert auth.token == "s3cr3t-token"  # while loopback got through


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("error=access_denied&error_description=no%20audience", "access_denied no audience"),
        ("not-base64!", "did not carry a token"),
        (_encoded({"id_token": "x"}), "no access_token"),
    ],
)
def test_a_failed_login_raises(kinto_root: Callable[..., None], tail: str, message: str) -> None:
    kinto_root()
    browser = Browser(lambda callback: [callback + tail])
    auth = BrowserOAuth(open_browser=browser)
    auth.server_url = SERVER
    with pytest.raises(KintoException, match=message):
        auth.login()
    browser.join()
    assert browser.statuses == [400]
    assert auth.token is None


def test_no_answer_within_the_timeout_raises(kinto_root: Callable[..., None]) -> None:
    kinto_root()
    auth = BrowserOAuth(open_browser=lambda url: True, timeout=0.2)
    auth.server_url = SERVER
    with pytest.raises(KintoException, match="no login came back"):
        auth.login()


@pytest.mark.parametrize(
    ("providers", "provider", "message"),
    [
        (None, None, "has no OpenID provider"),
        ([], None, "has no OpenID provider"),
        (PROVIDERS, "github", "no OpenID provider 'github'.*auth0, google"),
    ],
)
def test_provider_problems_raise_before_opening_the_browser(
    kinto_root: Callable[..., None], providers: Any, provider: str | None, message: str
) -> None:
    kinto_root(providers)
    opened: list[str] = []
    auth = BrowserOAuth(provider, open_browser=opened.append)
    auth.server_url = SERVER
    with pytest.raises(KintoException, match=message):
        auth.login()
    assert opened == []


def test_without_a_server_url() -> None:
    with pytest.raises(KintoException, match="no server_url"):
        BrowserOAuth(open_browser=lambda url: True).login()
