"""Which async HTTP library AsyncClient runs on: httpx2 first, httpx otherwise.

``make test`` runs the async tests once on each (``$KINTORM_ASYNC_HTTP``).
"""

from __future__ import annotations

import builtins
import ssl
from collections.abc import Iterator
from typing import Any

import certifi
import pytest

from kintorm import AsyncClient, Client
from kintorm.client import transport


@pytest.fixture
def fresh_choice() -> Iterator[None]:
    transport.async_http.cache_clear()
    yield
    transport.async_http.cache_clear()


def test_httpx2_is_preferred_when_installed(
    fresh_choice: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(transport.ASYNC_LIBRARY_ENV, raising=False)
    assert transport.async_http().__name__ == "httpx2"


@pytest.mark.parametrize("name", ["httpx", "httpx2"])
def test_the_environment_chooses_one(
    name: str, fresh_choice: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(transport.ASYNC_LIBRARY_ENV, name)
    assert transport.async_http().__name__ == name
    client = AsyncClient(server_url="http://kinto.test/v1")
    assert type(client._transport._client).__module__.split(".")[0] == name
    assert f" {name}/" in client._session.headers["User-Agent"]


def test_an_unknown_choice_is_refused(fresh_choice: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(transport.ASYNC_LIBRARY_ENV, "aiohttp")
    with pytest.raises(ValueError, match="KINTORM_ASYNC_HTTP must be one of"):
        AsyncClient(server_url="http://kinto.test/v1")


def test_without_an_async_library_the_sync_client_works_and_async_says_what_to_install(
    fresh_choice: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(transport.ASYNC_LIBRARY_ENV, raising=False)
    real_import = builtins.__import__

    def no_httpx(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in transport.ASYNC_LIBRARIES:
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_httpx)
    monkeypatch.setattr(transport.importlib, "import_module", lambda name: no_httpx(name))
    Client(server_url="http://kinto.test/v1")  # needs requests only
    with pytest.raises(ImportError, match=r"pip install 'kintorm\[async\]'"):
        AsyncClient(server_url="http://kinto.test/v1")


def test_a_ca_bundle_path_becomes_a_verifying_ssl_context() -> None:
    context = transport._tls(certifi.where())
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert transport._tls(True) is True and transport._tls(False) is False
