"""Two real Kintos: the origin is the suite's server (memory, or PostgreSQL with
``KINTORM_BACKEND=postgresql``), the destination a second memory server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from kintorm import Client
from kintorm.server import KintoServer


@pytest.fixture(scope="session")
def second_server() -> Iterator[KintoServer]:
    with KintoServer(attachments=False) as server:
        yield server


@pytest.fixture
def origin(kinto_client: Client) -> Client:
    """The admin's client on a fresh bucket and ``items`` collection of the first server."""
    return kinto_client


@pytest.fixture
def destination(second_server: KintoServer) -> Iterator[Client]:
    """The admin's client on a bucket of the second server that does not exist yet."""
    bucket = f"copy-{uuid.uuid4().hex[:10]}"
    client = Client(
        server_url=second_server.url,
        auth=second_server.admin_auth,
        bucket=bucket,
        collection="items",
    )
    try:
        yield client
    finally:
        client.delete_bucket(id=bucket, if_exists=True)
