"""Fixtures of the reliability suite: a Kinto on each backend, and fresh buckets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from kintorm import Client
from kintorm.server import KintoServer


@pytest.fixture(params=["memory", "postgresql"])
def backend(request: pytest.FixtureRequest) -> KintoServer:
    """The memory Kinto, then Kinto on PostgreSQL with 4 workers (skipped, with the
    reason, when PostgreSQL cannot be reached)."""
    name = "kinto_server" if request.param == "memory" else "kinto_pg_server"
    server: KintoServer = request.getfixturevalue(name)
    return server


def make_client(server: KintoServer, bucket: str, **kwargs: object) -> Client:
    """A client on ``bucket`` (collection "items"), created if needed.

    ``retry_after`` is forced short: Kinto asks 3 s after a 409, too long for a test.
    """
    options: dict[str, object] = {"retry": 8, "retry_after": 0.05, **kwargs}
    client = Client(
        server_url=server.url,
        auth=server.admin_auth,
        bucket=bucket,
        collection="items",
        **options,  # type: ignore[arg-type]
    )
    client.create_bucket(id=bucket, if_not_exists=True)
    client.create_collection(id="items", if_not_exists=True)
    return client


@pytest.fixture
def bucket() -> str:
    return f"rel-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def backend_client(backend: KintoServer, bucket: str) -> Iterator[Client]:
    client = make_client(backend, bucket)
    try:
        yield client
    finally:
        client.delete_bucket(id=bucket, if_exists=True)
