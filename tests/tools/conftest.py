"""Fixtures of the data tools' tests: a source collection (the suite's ``kinto_client``)
and a target collection on the same server, in a bucket that does not exist yet."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from kintorm import Client


@pytest.fixture
def source(kinto_client: Client) -> Client:
    """The admin's client on a fresh bucket with an ``items`` collection."""
    return kinto_client


@pytest.fixture
def target(kinto_client: Client) -> Iterator[Client]:
    """The admin's client on a bucket (and ``items`` collection) not created yet."""
    client = kinto_client.clone(bucket=f"load-{uuid.uuid4().hex[:10]}")
    try:
        yield client
    finally:
        client.delete_bucket(if_exists=True)
