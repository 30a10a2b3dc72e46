"""Backoff and Alert response headers, from servers configured to send them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kintorm import AsyncClient, BackoffException, Client, KintoException
from kintorm.server import KintoServer

EOS_MESSAGE = "This service will retire"
EOS_URL = "https://example.com/eos"


@pytest.fixture(scope="module")
def backoff_server() -> Iterator[KintoServer]:
    """Every response carries ``Backoff: 1``."""
    with KintoServer(settings={"kinto.backoff": "1"}, attachments=False) as server:
        yield server


@pytest.fixture(scope="module")
def eos_server() -> Iterator[KintoServer]:
    """A soft end of service: every response carries an ``Alert`` header."""
    settings = {
        "kinto.eos": "2999-01-01",
        "kinto.eos_message": EOS_MESSAGE,
        "kinto.eos_url": EOS_URL,
    }
    with KintoServer(settings=settings, attachments=False) as server:
        yield server


def test_backoff_raises_before_the_next_request(backoff_server: KintoServer) -> None:
    client = Client(server_url=backoff_server.url, auth=backoff_server.admin_auth)
    assert client.server_info()["user"]["id"] == "account:admin"  # answered with Backoff: 1
    with pytest.raises(BackoffException) as caught:
        client.get_buckets()
    assert caught.value.backoff == 1
    assert isinstance(caught.value, KintoException)
    assert "back off" in str(caught.value)
    # clones share the pause
    with pytest.raises(BackoffException):
        client.clone(bucket="other").get_buckets()


def test_backoff_with_retry_waits_then_sends(backoff_server: KintoServer) -> None:
    client = Client(server_url=backoff_server.url, auth=backoff_server.admin_auth, retry=1)
    client.server_info()
    began = time.monotonic()
    assert isinstance(client.get_buckets(), list)
    assert time.monotonic() - began >= 0.5  # waited out (most of) the 1 s pause


def test_async_backoff_raises(backoff_server: KintoServer) -> None:
    async def scenario() -> BackoffException:
        async with AsyncClient(
            server_url=backoff_server.url, auth=backoff_server.admin_auth
        ) as client:
            await client.server_info()
            with pytest.raises(BackoffException) as caught:
                await client.get_buckets()
            return caught.value

    assert asyncio.run(scenario()).backoff == 1


def _alert(record: pytest.WarningsRecorder) -> dict[str, Any]:
    assert len(record) >= 1
    warning = record[0]
    assert warning.category is DeprecationWarning
    return json.loads(str(warning.message))  # type: ignore[no-any-return]


def test_alert_header_becomes_a_deprecation_warning(eos_server: KintoServer) -> None:
    client = Client(server_url=eos_server.url, auth=eos_server.admin_auth)
    with pytest.warns(DeprecationWarning, match=EOS_MESSAGE) as record:
        info = client.server_info()
    assert info["eos"] == "2999-01-01"
    alert = _alert(record)
    assert alert == {"code": "soft-eol", "message": EOS_MESSAGE, "url": EOS_URL}


def test_async_alert_header_becomes_a_deprecation_warning(eos_server: KintoServer) -> None:
    async def scenario() -> list[Any]:
        async with AsyncClient(server_url=eos_server.url, auth=eos_server.admin_auth) as client:
            return await client.get_buckets()

    with pytest.warns(DeprecationWarning, match="soft-eol") as record:
        assert isinstance(asyncio.run(scenario()), list)
    assert _alert(record)["url"] == EOS_URL


def test_deprecated_to_parameter_warns(api: Any) -> None:
    """Kinto sends an Alert for the ``_to`` alias of ``_before`` (no special server)."""
    api.create_record(id="r", data={})
    ts = int(api.get_records_timestamp()) + 1
    with pytest.warns(DeprecationWarning, match="_to") as record:
        records = api.get_records(_to=ts)
    assert [r["id"] for r in records] == ["r"]
    assert _alert(record)["code"] == "soft-eol"
