"""Guarded saves warn, once per client, on a Kinto without ``kintorm.kinto_plugin``.

The plugin announces itself in the server's capabilities. ``save()`` under
If-Match, ``save(on_conflict="merge")`` and ``update_with_retry()`` read the
(cached) server info on their client's first guarded save and warn with a
RuntimeWarning when the capability is missing: on such a server racing writers
lose updates although every save succeeds. The suite runs with warnings as
errors, so the tests against the stock server expect the warning.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator

import pytest
from support.faultproxy import FaultProxy

from kintorm import AsyncClient, Client
from kintorm.kinto_plugin import CAPABILITY
from kintorm.server import _PLUGINS, KintoServer

from .conftest import make_client
from .models import Profile

WARNING = r"does not announce kintorm\.kinto_plugin.*docs/deployment\.md"


@pytest.fixture(scope="module")
def stock_server() -> Iterator[KintoServer]:
    """A memory Kinto with every plugin of the fixtures but kintorm's."""
    plugins = " ".join(p for p in _PLUGINS if p != "kintorm.kinto_plugin")
    with KintoServer(settings={"kinto.includes": plugins}, attachments=False) as server:
        yield server


def test_the_plugin_announces_itself(kinto_server: KintoServer, stock_server: KintoServer) -> None:
    with_plugin = Client(server_url=kinto_server.url).server_info()["capabilities"]
    stock = Client(server_url=stock_server.url).server_info()["capabilities"]
    assert "atomic" in with_plugin[CAPABILITY]["description"]
    assert CAPABILITY not in stock


def test_no_warning_with_the_plugin(backend: KintoServer, backend_client: Client) -> None:
    client = backend_client.clone()
    profiles = Profile.objects.using(client)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        profile = profiles.create(id="p", name="a")
        profile.visits += 1
        profile.save()
        profile.name = "b"
        profile.save(on_conflict="merge")
        profiles.update_with_retry("p", lambda p: setattr(p, "visits", p.visits + 1))
    assert profiles.get(id="p").visits == 2


def test_a_stock_server_warns_once_per_client(stock_server: KintoServer, bucket: str) -> None:
    make_client(stock_server, bucket)
    with FaultProxy(stock_server.url) as proxy:  # no faults: it counts the requests
        client = Client(
            server_url=proxy.url, auth=stock_server.admin_auth, bucket=bucket, collection="items"
        )
        profiles = Profile.objects.using(client)
        profile = profiles.create(id="p", name="a")  # a create: no If-Match, no check
        assert proxy.requests == 1
        with pytest.warns(RuntimeWarning, match=WARNING) as caught:
            for visit in range(3):
                profile.visits = visit + 1
                profile.save()
        assert len(caught) == 1
        assert proxy.requests == 1 + 1 + 3  # one GET / for the check, then the PATCHes
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # checked already: no second warning
            profile.name = "b"
            profile.save(on_conflict="merge")
            profiles.update_with_retry("p", lambda p: setattr(p, "visits", 10))
            profile.refresh()
            profile.save(force=True)  # nothing changed: nothing sent
        other = Client(server_url=proxy.url, auth=stock_server.admin_auth, bucket=bucket)
        with pytest.warns(RuntimeWarning, match=WARNING):
            Profile.objects.using(other).update_with_retry("p", lambda p: setattr(p, "visits", 11))
    assert profile.visits == 10 and Profile.objects.using(client).get(id="p").visits == 11


def test_a_stock_server_warns_the_async_client_too(stock_server: KintoServer, bucket: str) -> None:
    make_client(stock_server, bucket).create_record(id="p", data={"name": "a"})

    async def run() -> None:
        async with AsyncClient(
            server_url=stock_server.url,
            auth=stock_server.admin_auth,
            bucket=bucket,
            collection="items",
        ) as client:
            profile = await Profile.objects.using(client).aget(id="p")
            profile.name = "b"
            with pytest.warns(RuntimeWarning, match=WARNING) as caught:
                await profile.asave()
                profile.name = "c"
                await profile.asave(on_conflict="merge")
            assert len(caught) == 1

    asyncio.run(run())
