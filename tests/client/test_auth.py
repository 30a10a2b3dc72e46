"""Every form of auth, and credentials never shown in reprs, exceptions or logs."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
import requests
import responses
from requests.auth import AuthBase, HTTPDigestAuth

from kintorm import BearerTokenAuth, Client, KintoException, TokenAuth

from ._wire import SERVER, Wire


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("auth", "header"),
    [
        (("alice", "s3cret"), basic("alice", "s3cret")),
        (["alice", "s3cret"], basic("alice", "s3cret")),
        ("alice:s3cret", basic("alice", "s3cret")),
        ("alice:s3:cret", basic("alice", "s3:cret")),
        ("Bearer xyz", "Bearer xyz"),
        ("Bearer+OIDC tok:with:colons", "Bearer+OIDC tok:with:colons"),
        ("Basic YWxpY2U6czNjcmV0", "Basic YWxpY2U6czNjcmV0"),
        (BearerTokenAuth("t"), "Bearer t"),
        (BearerTokenAuth("t", type="Bearer+OIDC"), "Bearer+OIDC t"),
        (TokenAuth("t", type="Token"), "Token t"),
        (requests.auth.HTTPBasicAuth("alice", "s3cret"), basic("alice", "s3cret")),
    ],
)
def test_auth_header(wire: Wire, auth: Any, header: str) -> None:
    wire.ok("GET", "/buckets/b")
    wire.run(lambda c: c.get_bucket(id="b"), wire.client(auth=auth))
    assert wire.calls[0].headers["Authorization"] == header


def test_no_auth_sends_no_header(wire: Wire) -> None:
    wire.ok("GET", "/buckets/b")
    wire.run(lambda c: c.get_bucket(id="b"))
    assert "Authorization" not in wire.calls[0].headers


@pytest.mark.parametrize("auth", ["nocolon", 42, ("a", "b", "c")])
def test_unsupported_auth(auth: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="unsupported auth"):
        Client(server_url=SERVER, auth=auth)


class HeaderAuth(AuthBase):
    def __call__(self, r: Any) -> Any:
        r.headers["X-Custom-Auth"] = "yes"
        return r


def test_a_custom_requests_auth_is_passed_through(wire: Wire) -> None:
    wire.ok("GET", "/buckets/b")
    wire.run(lambda c: c.get_bucket(id="b"), wire.client(auth=HeaderAuth()))
    assert wire.calls[0].headers["X-Custom-Auth"] == "yes"
    assert "Authorization" not in wire.calls[0].headers


def test_digest_auth_is_passed_through(rsps: responses.RequestsMock) -> None:
    url = f"{SERVER}/buckets/b"
    challenge = 'Digest realm="kinto", nonce="abc", qop="auth"'
    rsps.get(url, status=401, headers={"WWW-Authenticate": challenge})
    rsps.get(url, json={"data": {"id": "b"}})
    client = Client(server_url=SERVER, auth=HTTPDigestAuth("alice", "s3cret"))
    assert client.get_bucket(id="b") == {"data": {"id": "b"}}
    assert "Authorization" not in rsps.calls[0].request.headers
    assert rsps.calls[1].request.headers["Authorization"].startswith('Digest username="alice"')


def test_userinfo_in_the_server_url_is_moved_out(wire: Wire) -> None:
    client = wire.client(server_url="http://alice:s%40cret@kinto.test/v1", bucket="b")
    assert client.server_url == SERVER
    assert "cret" not in repr(client)
    wire.ok("GET", "/buckets/b")
    wire.run(lambda c: c.get_bucket(), client)
    assert wire.calls[0].url == f"{SERVER}/buckets/b"
    assert wire.calls[0].headers["Authorization"] == basic("alice", "s@cret")


def test_userinfo_keeps_an_ipv6_host_and_port() -> None:
    client = Client(server_url="http://alice:pw@[::1]:8888/v1")
    assert client.server_url == "http://[::1]:8888/v1"


def test_explicit_auth_wins_over_userinfo(wire: Wire) -> None:
    client = wire.client(server_url="http://alice:pw@kinto.test/v1", auth="Bearer tok")
    wire.ok("GET", "/buckets/b")
    wire.run(lambda c: c.get_bucket(id="b"), client)
    assert wire.calls[0].headers["Authorization"] == "Bearer tok"


SECRETS = ("s3cret", base64.b64encode(b"alice:s3cret").decode(), "tok-s3cret")


@pytest.mark.parametrize(
    "auth", [("alice", "s3cret"), "Bearer tok-s3cret", BearerTokenAuth("tok-s3cret")]
)
@pytest.mark.parametrize("status", [401, 500])
def test_credentials_never_shown(
    wire: Wire, caplog: pytest.LogCaptureFixture, auth: Any, status: int
) -> None:
    caplog.set_level(logging.DEBUG)
    client = wire.client(server_url="http://kinto.test/v1", auth=auth, bucket="b")
    wire.reply("GET", "/buckets/b", status=status, json={"code": status, "errno": 104})
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.get_bucket(), client)
    shown = [
        repr(client),
        str(client._credentials),
        repr(auth) if isinstance(auth, TokenAuth) else "",
        str(info.value),
        repr(info.value),
        repr(info.value.request),
        repr(info.value.response),
        caplog.text,
        *(repr(r.args) for r in caplog.records),
    ]
    assert caplog.records  # something was logged at DEBUG
    for text in shown:
        for secret in SECRETS:
            assert secret not in text


def test_credentials_not_in_a_transport_error(wire: Wire, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = wire.client(server_url="http://alice:s3cret@kinto.test/v1")
    wire.reply("GET", "/", error=True)
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.server_info(), client)
    for text in (str(info.value), repr(info.value), caplog.text, repr(client)):
        for secret in SECRETS:
            assert secret not in text
